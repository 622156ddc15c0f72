/** Node numbers for id generators, handed out in turn by the database (see migration 007). */
import type { Store } from './store.ts';

const NODES = 1024;

/** The next node number (0-1023): processes sharing a database get different ones unless 1024 have started since. */
export function takeIdNode(store: Store): Promise<number> {
  return store.unit(async (tx) => {
    const row = await tx
      .insertInto('id_nodes')
      .values({ id: 'ids', taken: 1 })
      .onConflict((oc) => oc.column('id').doUpdateSet((eb) => ({ taken: eb('id_nodes.taken', '+', 1) })))
      .returning('taken')
      .executeTakeFirstOrThrow();
    // The n-th number taken is n - 1.
    return (Number(row.taken) - 1) % NODES;
  });
}

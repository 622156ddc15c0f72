/**
 * Numbers the processes sharing a database keep in common (migration 006):
 * the sandbox clock's offset and the id generators' node numbers.
 */
import type { ClockOffsets } from '../core/clock.ts';
import type { Store } from './store.ts';

type Counter = 'sandbox_clock_offset_ms' | 'id_nodes_taken';

/** Adds `amount` to a counter (from 0), durably, and answers its new value. */
function add(store: Store, name: Counter, amount: number): Promise<number> {
  return store.unit(async (tx) => {
    const row = await tx
      .insertInto('platform_counters')
      .values({ name, value: amount })
      .onConflict((oc) => oc.column('name').doUpdateSet((eb) => ({ value: eb('platform_counters.value', '+', amount) })))
      .returning('value')
      .executeTakeFirstOrThrow();
    return Number(row.value);
  });
}

/** The sandbox clock's offset from real time. */
export function clockOffsets(store: Store): ClockOffsets {
  return {
    async load() {
      const row = await store.read.selectFrom('platform_counters').select('value').where('name', '=', 'sandbox_clock_offset_ms').executeTakeFirst();
      return row ? Number(row.value) : 0;
    },
    add: (ms) => add(store, 'sandbox_clock_offset_ms', ms),
  };
}

const ID_NODES = 1024;

/** The next id-generator node number (0-1023): processes sharing a database get different ones unless 1024 have started since. */
export async function takeIdNode(store: Store): Promise<number> {
  // The n-th number taken is n - 1.
  return ((await add(store, 'id_nodes_taken', 1)) - 1) % ID_NODES;
}

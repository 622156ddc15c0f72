/** The sandbox clock's offset from real time, kept in the database (see migration 006). */
import type { ClockOffsets } from '../core/clock.ts';
import type { Store } from './store.ts';

const ROW = 'platform';

export function clockOffsets(store: Store): ClockOffsets {
  return {
    async load() {
      const row = await store.read.selectFrom('sandbox_clock').select('offset_ms').where('id', '=', ROW).executeTakeFirst();
      return row ? Number(row.offset_ms) : 0;
    },
    add(ms) {
      return store.unit(async (tx) => {
        const row = await tx
          .insertInto('sandbox_clock')
          .values({ id: ROW, offset_ms: ms })
          .onConflict((oc) => oc.column('id').doUpdateSet((eb) => ({ offset_ms: eb('sandbox_clock.offset_ms', '+', ms) })))
          .returning('offset_ms')
          .executeTakeFirstOrThrow();
        return Number(row.offset_ms);
      });
    },
  };
}

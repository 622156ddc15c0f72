/**
 * The sweeps find their rows through partial indexes that hold only those
 * rows (unpaid intents, attempts and refunds in flight, deliveries due). A
 * planner uses such an index only when the query states the index's own
 * condition, so a sweep condition that drifted from its index would silently
 * scan the whole table every few seconds. This asks each database for its
 * plan.
 */
import { CompiledQuery, sql, type Compilable, type Expression, type SqlBool } from 'kysely';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Db, Store } from '../../src/store/store.ts';
import { attemptInFlight, deliveryPending, refundInFlight, unpaidIntent } from '../../src/store/sweep-conditions.ts';
import { describeEachBackend, openTestStore } from '../support/platform.ts';

const SWEEPS: Array<{ index: string; table: 'payment_intents' | 'payment_attempts' | 'refunds' | 'deliveries'; condition: Expression<SqlBool>; column: string }> = [
  { index: 'payment_intents_unpaid_expiry', table: 'payment_intents', condition: unpaidIntent, column: 'expires_at' },
  { index: 'payment_attempts_in_flight', table: 'payment_attempts', condition: attemptInFlight, column: 'updated_at' },
  { index: 'refunds_in_flight', table: 'refunds', condition: refundInFlight, column: 'updated_at' },
  { index: 'deliveries_pending', table: 'deliveries', condition: deliveryPending, column: 'next_attempt_at' },
];

describeEachBackend('sweep queries use their partial indexes', (backend) => {
  let store: Store;
  const cleanups: Array<() => Promise<void> | void> = [];

  beforeAll(async () => {
    const opened = await openTestStore(backend, 'polypay-plan-');
    store = opened.store;
    cleanups.push(opened.remove);
  });

  afterAll(async () => {
    await store?.close();
    for (const c of cleanups.reverse()) await c();
  });

  /** The database's plan for a query, as text. */
  async function plan(tx: Db, query: Compilable): Promise<string> {
    const { sql: text, parameters } = query.compile();
    if (backend === 'sqlite') {
      const r = await tx.executeQuery<{ detail: string }>(CompiledQuery.raw(`explain query plan ${text}`, [...parameters]));
      return r.rows.map((row) => row.detail).join('\n');
    }
    // An empty table is cheapest to scan; forbid that, so the plan shows whether the index can be used at all.
    await sql`set local enable_seqscan = off`.execute(tx);
    const r = await tx.executeQuery<{ 'QUERY PLAN': string }>(CompiledQuery.raw(`explain ${text}`, [...parameters]));
    return r.rows.map((row) => row['QUERY PLAN']).join('\n');
  }

  for (const s of SWEEPS) {
    it(`${s.table}: ${s.index}`, async () => {
      const text = await store.unit((tx) => plan(tx, tx.selectFrom(s.table).select('id').where(s.condition).where(sql.ref(s.column), '<=', 0)));
      expect(text).toContain(s.index);
    });
  }

  it('the partial unique index on wallet tokens is used for a token lookup', async () => {
    const text = await store.unit((tx) => plan(tx, tx.selectFrom('payment_attempts').select('id').where('wallet_token', '=', 'T')));
    expect(text).toContain('payment_attempts_wallet_token');
  });
});

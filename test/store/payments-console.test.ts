/**
 * The console's payments list and timeline reads, on both databases: every
 * filter against a plain filter of the stored rows, keyset pages that walk
 * the whole list without a gap or a repeat (ties on created_at included),
 * search by each kind of id, scoping to the user's merchants, and the
 * indexes the list's queries use.
 */
import { CompiledQuery, sql, type Compilable } from 'kysely';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { ListCursor, PaymentConsoleReads, PaymentListFilter } from '../../src/core/payments/console.ts';
import { merchantPageQuery, paymentConsoleReads } from '../../src/store/payments-console-repo.ts';
import type { Store } from '../../src/store/store.ts';
import { seedPayments } from '../support/console-seed.ts';
import { describeEachBackend, openTestStore } from '../support/platform.ts';

const START = Date.UTC(2026, 10, 1);
const SCOPES = ['qfpay', 'alphapay.refund'];

interface Stored {
  id: string;
  merchant_id: string;
  created_at: number;
  status: string;
  origin: string;
  currency: string;
  amount: number;
  merchant_order_id: string | null;
  method_name: string | null;
  card_last4: string | null;
}

describeEachBackend('payments console reads', (backend) => {
  let store: Store;
  let reads: PaymentConsoleReads;
  let all: Stored[];
  const cleanups: Array<() => Promise<void> | void> = [];

  beforeAll(async () => {
    const opened = await openTestStore(backend, 'polypay-console-');
    store = opened.store;
    cleanups.push(opened.remove);
    // Half a millisecond apart: pairs share a created_at, so pages must break ties by id.
    await seedPayments(store, { merchantId: 'M1', count: 130, startMs: START, stepMs: 0.5, seed: 1, webhookUrl: 'http://127.0.0.1:9/hooks' });
    await seedPayments(store, { merchantId: 'M1SUB', count: 20, startMs: START + 7, stepMs: 3, seed: 2 });
    await seedPayments(store, { merchantId: 'OTHER', count: 30, startMs: START, stepMs: 1, seed: 3 });
    const rows = await store.read
      .selectFrom('payment_intents as i')
      .innerJoin('payment_attempts as a', 'a.id', 'i.latest_attempt_id')
      .select(['i.id', 'i.merchant_id', 'i.created_at', 'i.status', 'i.origin', 'i.currency', 'i.amount', 'i.merchant_order_id', 'a.method_name', 'a.card_last4'])
      .execute();
    all = rows.map((r) => ({ ...r, created_at: Number(r.created_at), amount: Number(r.amount) }) as Stored);
    reads = paymentConsoleReads(store, { referenceScopes: SCOPES, listedLast4Max: 5 });
  });

  afterAll(async () => {
    await store?.close();
    for (const c of cleanups.reverse()) await c();
  });

  const newestFirst = (rows: Stored[]) => [...rows].sort((a, b) => b.created_at - a.created_at || (b.id < a.id ? -1 : b.id > a.id ? 1 : 0)).map((r) => r.id);
  const mine = () => all.filter((r) => r.merchant_id === 'M1' || r.merchant_id === 'M1SUB');

  /** Every page of the list, following the cursors. */
  async function walk(filter: PaymentListFilter, limit: number): Promise<{ ids: string[]; pages: number }> {
    const ids: string[] = [];
    let after: ListCursor | null = null;
    let pages = 0;
    for (;;) {
      const page = await reads.list(filter, after, limit);
      pages++;
      ids.push(...page.items.map((v) => v.intent.id));
      expect(page.items.length).toBeLessThanOrEqual(limit);
      if (!page.next) return { ids, pages };
      expect(page.items.length).toBe(limit);
      after = page.next;
      expect(pages).toBeLessThan(100);
    }
  }

  it('pages through a user\'s merchants newest first, ties broken by id, without a gap or a repeat', async () => {
    const expected = newestFirst(mine());
    expect(expected).toHaveLength(150);
    const { ids, pages } = await walk({ merchantIds: ['M1', 'M1SUB'] }, 25);
    expect(ids).toEqual(expected);
    // 150 rows in pages of 25: the sixth page is the last, and says so (no empty seventh page).
    expect(pages).toBe(6);
    const odd = await walk({ merchantIds: ['M1', 'M1SUB'] }, 40);
    expect(odd.ids).toEqual(expected);
    expect(odd.pages).toBe(4);
  });

  it('filters by status, dialect, method, currency, amount and date like a plain filter of the rows', async () => {
    const cases: Array<[PaymentListFilter, (r: Stored) => boolean]> = [
      [{ merchantIds: ['M1'], status: 'SUCCEEDED' }, (r) => r.merchant_id === 'M1' && r.status === 'SUCCEEDED'],
      [{ merchantIds: ['M1', 'M1SUB'], origin: 'qfpay' }, (r) => r.origin === 'qfpay'],
      [{ merchantIds: ['M1', 'M1SUB'], method: 'card' }, (r) => r.method_name!.startsWith('card:')],
      [{ merchantIds: ['M1', 'M1SUB'], method: 'wallet:wechatpay' }, (r) => r.method_name === 'wallet:wechatpay'],
      [{ merchantIds: ['M1', 'M1SUB'], currency: 'HKD', amountMin: 50_000, amountMax: 150_000 }, (r) => r.currency === 'HKD' && r.amount >= 50_000 && r.amount <= 150_000],
      [{ merchantIds: ['M1', 'M1SUB'], createdFrom: START + 10, createdBefore: START + 40 }, (r) => r.created_at >= START + 10 && r.created_at < START + 40],
    ];
    for (const [filter, keep] of cases) {
      const expected = newestFirst(mine().filter((r) => filter.merchantIds.includes(r.merchant_id) && keep(r)));
      expect(expected.length, JSON.stringify(filter)).toBeGreaterThan(0);
      expect((await walk(filter, 7)).ids, JSON.stringify(filter)).toEqual(expected);
    }
  });

  it('finds a payment by its intent, attempt or refund id, order id, a dialect reference or a card\'s last 4', async () => {
    const target = all.find((r) => r.merchant_id === 'M1' && r.status === 'SUCCEEDED')!;
    const attempt = await store.read.selectFrom('payment_attempts').select('id').where('intent_id', '=', target.id).executeTakeFirstOrThrow();
    const refund = await store.read.selectFrom('refunds').select(['id', 'intent_id']).where('merchant_id', '=', 'M1').executeTakeFirstOrThrow();
    await store.unit(async (db) => {
      await db.insertInto('merchant_references').values([
        { merchant_id: 'M1', scope: 'qfpay', reference: 'OTN-7', object_id: target.id, created_at: START },
        { merchant_id: 'M1', scope: 'alphapay.refund', reference: 'RFQ-9', object_id: refund.id, created_at: START },
        // Another merchant's reference of the same text names nothing of M1's.
        { merchant_id: 'OTHER', scope: 'qfpay', reference: 'OTN-8', object_id: all.find((r) => r.merchant_id === 'OTHER')!.id, created_at: START },
      ]).execute();
    });
    const found = async (term: string) => (await reads.list({ merchantIds: ['M1', 'M1SUB'], search: [term] }, null, 50)).items.map((v) => v.intent.id);
    expect(await found(target.id)).toEqual([target.id]);
    expect(await found(attempt.id)).toEqual([target.id]);
    expect(await found(target.merchant_order_id!)).toEqual([target.id]);
    expect(await found('OTN-7')).toEqual([target.id]);
    expect(await found(refund.id)).toEqual([refund.intent_id]);
    expect(await found('RFQ-9')).toEqual([refund.intent_id]);
    expect(await found('OTN-8')).toEqual([]);
    expect(await found(all.find((r) => r.merchant_id === 'OTHER')!.id)).toEqual([]);
    expect(await found('no-such-id')).toEqual([]);

    // Last 4: listed when few match, walked when many do (listedLast4Max is 5 here); same answer both ways.
    const byLast4 = new Map<string, Stored[]>();
    for (const r of mine()) if (r.card_last4) byLast4.set(r.card_last4, [...(byLast4.get(r.card_last4) ?? []), r]);
    const counts = [...byLast4.entries()].sort((a, b) => a[1].length - b[1].length);
    const [rare, common] = [counts[0]!, counts[counts.length - 1]!];
    expect(rare[1].length).toBeLessThanOrEqual(5);
    expect(common[1].length).toBeGreaterThan(5);
    for (const [last4, rows] of [rare, common]) {
      expect((await walk({ merchantIds: ['M1', 'M1SUB'], search: [last4] }, 4)).ids).toEqual(newestFirst(rows));
    }
  });

  it('shows nothing of another merchant, and a payment\'s whole record to its own', async () => {
    const other = all.find((r) => r.merchant_id === 'OTHER')!;
    expect(await reads.record(['M1', 'M1SUB'], other.id)).toBeNull();
    const refunded = await store.read.selectFrom('refunds').select('intent_id').where('merchant_id', '=', 'M1').executeTakeFirstOrThrow();
    const record = (await reads.record(['M1'], refunded.intent_id))!;
    expect(record.intent.id).toBe(refunded.intent_id);
    expect(record.attempts).toHaveLength(1);
    expect(record.refunds).toHaveLength(1);
    expect(record.events.map((e) => e.type)).toEqual(['payment_intent.created', 'payment_intent.succeeded', 'refund.succeeded']);
    for (const e of record.events) {
      expect(e.deliveries).toHaveLength(1);
      expect(e.deliveries[0]!.tries.map((t) => t.statusCode)).toEqual([200]);
    }
    // The capture's journal and the refund's, each summing to zero.
    expect(record.ledger).toHaveLength(4);
    expect(record.ledger.reduce((sum, l) => sum + l.amount, 0)).toBe(0);
  });

  /** The database's plan for a query, as text. */
  async function plan(query: Compilable): Promise<string> {
    const { sql: text, parameters } = query.compile();
    return store.unit(async (tx) => {
      if (backend === 'sqlite') {
        const r = await tx.executeQuery<{ detail: string }>(CompiledQuery.raw(`explain query plan ${text}`, [...parameters]));
        return r.rows.map((row) => row.detail).join('\n');
      }
      // A small table is cheapest to scan and sort; forbid both, so the plan shows whether an index gives the order.
      await sql`set local enable_seqscan = off`.execute(tx);
      await sql`set local enable_sort = off`.execute(tx);
      const r = await tx.executeQuery<{ 'QUERY PLAN': string }>(CompiledQuery.raw(`explain ${text}`, [...parameters]));
      return r.rows.map((row) => row['QUERY PLAN']).join('\n');
    });
  }

  it('reads each page along an index in list order, and a status or currency filter along its own', async () => {
    const after = { createdAt: START + 30, id: 'PI5' };
    const first = await plan(merchantPageQuery(store.read, 'M1', { merchantIds: ['M1'] }, null, null, 51));
    expect(first).toContain('payment_intents_merchant_created');
    const deep = await plan(merchantPageQuery(store.read, 'M1', { merchantIds: ['M1'] }, null, after, 51));
    expect(deep).toContain('payment_intents_merchant_created');
    const status = await plan(merchantPageQuery(store.read, 'M1', { merchantIds: ['M1'], status: 'REQUIRES_CAPTURE' }, null, after, 51));
    expect(status).toContain('payment_intents_merchant_status');
    const amounts = await plan(merchantPageQuery(store.read, 'M1', { merchantIds: ['M1'], currency: 'JPY', amountMin: 100, amountMax: 120 }, null, after, 51));
    expect(amounts).toContain('payment_intents_merchant_currency');
    for (const text of [first, deep, status, amounts]) expect(text).not.toMatch(/TEMP B-TREE|Sort  /);
    const last4 = await plan(store.read.selectFrom('payment_attempts').select('intent_id').where('merchant_id', 'in', ['M1']).where('card_last4', 'in', ['4242']));
    expect(last4).toContain('payment_attempts_card_last4');
    const order = await plan(store.read.selectFrom('payment_intents').select('id').where('merchant_id', 'in', ['M1']).where('merchant_order_id', 'in', ['x']));
    expect(order).toContain('payment_intents_merchant_order');
    for (const table of ['events', 'ledger_entries'] as const) {
      expect(await plan(store.read.selectFrom(table).select('source_id').where('source_id', 'in', ['PI1', 'RF1']))).toContain(`${table}_source`);
    }
  });
});

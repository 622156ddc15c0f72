/**
 * The overview's totals, aggregated by the database: one grouped scan of the
 * merchants' intents of the period (payment_intents_merchant_created) joined
 * to each one's latest attempt by primary key.
 */
import { sql, type RawBuilder } from 'kysely';
import { BUSINESS_UTC_OFFSET_MS } from '../core/clock.ts';
import type { PaymentStats } from '../core/payments/stats.ts';
import type { DialectName, Store } from './store.ts';

const DAY_MS = 86_400_000;

/** "card", or the wallet's kind: read from the attempt's stored payment method (JSON text). */
function methodOf(dialect: DialectName): RawBuilder<string> {
  return dialect === 'postgres'
    ? sql<string>`case when a.payment_method::json->>'type' = 'card' then 'card' else a.payment_method::json->'wallet'->>'kind' end`
    : sql<string>`case when json_extract(a.payment_method, '$.type') = 'card' then 'card' else json_extract(a.payment_method, '$.wallet.kind') end`;
}

export function paymentStats(store: Store): PaymentStats {
  return {
    async dailyTotals(merchantIds, fromDay) {
      if (merchantIds.length === 0) return [];
      const day = sql<number>`(i.created_at + ${sql.lit(BUSINESS_UTC_OFFSET_MS)}) / ${sql.lit(DAY_MS)}`;
      const method = methodOf(store.dialect);
      const succeeded = sql<boolean>`i.status = 'SUCCEEDED'`;
      const rows = await store.read
        .selectFrom('payment_intents as i')
        .innerJoin('payment_attempts as a', 'a.id', 'i.latest_attempt_id')
        .select([
          day.as('day'),
          'i.origin as dialect',
          method.as('method'),
          'i.currency as currency',
          (eb) => eb.fn.countAll<number>().as('attempted'),
          sql<number>`sum(case when ${succeeded} then 1 else 0 end)`.as('succeeded'),
          sql<number>`sum(case when ${succeeded} then i.captured_amount else 0 end)`.as('volume'),
        ])
        .where('i.merchant_id', 'in', merchantIds)
        .where('i.created_at', '>=', fromDay * DAY_MS - BUSINESS_UTC_OFFSET_MS)
        .groupBy([day, 'i.origin', method, 'i.currency'])
        .execute();
      return rows.map((r) => ({
        day: Number(r.day),
        dialect: r.dialect,
        method: r.method ?? 'unknown',
        currency: r.currency,
        attempted: Number(r.attempted),
        succeeded: Number(r.succeeded),
        volume: Number(r.volume),
      }));
    },
  };
}

import { sql, type Kysely } from 'kysely';
import type { DialectName } from '../store.ts';

/**
 * What the merchant console's payments list and timeline read
 * (store/payments-console-repo.ts), kept fast at 100k payments and more:
 *
 * - payment_intents_merchant_created gets id after created_at: the list's
 *   keyset order, so every page (first or deep) is one index range. It
 *   keeps the columns migration 014 put after them for the overview's
 *   totals (read from the index alone). The date range is a range of it;
 *   the dialect is checked on its entries, the method on the rows it leads
 *   to (a rare method walks far: left without an index of its own to spare
 *   the payment path another index write).
 * - payment_intents (merchant_id, status, created_at, id): the status
 *   filter, whose wanted statuses are often rare (REQUIRES_CAPTURE).
 * - payment_intents (merchant_id, currency, created_at, id, amount): the
 *   currency filter, and the amount range, which is only given with a
 *   currency: checked on the index entries along that currency's range
 *   (SQLite reads a row only once its amount matches).
 * - payment_intents (merchant_id, merchant_order_id): search by the
 *   merchant's order id (UQPAY merchant_order_id, QFPay out_trade_no,
 *   AlphaPay paymentRequestId), also the API's list filter.
 * - payment_attempts gets two generated columns read from the stored
 *   payment method: card_last4 (indexed, only for cards: search by last 4)
 *   and method_name ("card:visa", "wallet:alipaycn": the method filter).
 *   They are computed by the database, so no write path changes.
 * - events (source_id) and ledger_entries (source_id): a payment's
 *   timeline finds its events and journal entries by the ids of its intent,
 *   attempts and refunds.
 */
export async function up(db: Kysely<any>, dialect: DialectName): Promise<void> {
  await db.schema.dropIndex('payment_intents_merchant_created').execute();
  await db.schema
    .createIndex('payment_intents_merchant_created')
    .on('payment_intents')
    .columns(['merchant_id', 'created_at', 'id', 'origin', 'status', 'currency', 'captured_amount', 'latest_attempt_id'])
    .execute();
  await db.schema.createIndex('payment_intents_merchant_status').on('payment_intents').columns(['merchant_id', 'status', 'created_at', 'id']).execute();
  await db.schema.createIndex('payment_intents_merchant_currency').on('payment_intents').columns(['merchant_id', 'currency', 'created_at', 'id', 'amount']).execute();
  await db.schema.createIndex('payment_intents_merchant_order').on('payment_intents').columns(['merchant_id', 'merchant_order_id']).execute();

  // SQLite adds generated columns only as VIRTUAL (computed when read, nothing stored); PostgreSQL only as STORED.
  const field = (path: string) =>
    dialect === 'postgres' ? `(payment_method::jsonb #>> '{${path.replace('.', ',')}}')` : `json_extract(payment_method, '$.${path}')`;
  const kind = dialect === 'postgres' ? 'stored' : 'virtual';
  await sql
    .raw(`alter table payment_attempts add column card_last4 text generated always as (${field('card.last4')}) ${kind}`)
    .execute(db);
  await sql
    .raw(
      `alter table payment_attempts add column method_name text generated always as ` +
        `(coalesce('card:' || ${field('card.network')}, 'wallet:' || ${field('wallet.kind')})) ${kind}`,
    )
    .execute(db);
  await db.schema
    .createIndex('payment_attempts_card_last4')
    .on('payment_attempts')
    .columns(['merchant_id', 'card_last4'])
    .where('card_last4', 'is not', null)
    .execute();

  await db.schema.createIndex('events_source').on('events').column('source_id').execute();
  await db.schema.createIndex('ledger_entries_source').on('ledger_entries').column('source_id').execute();
}

import type { Kysely } from 'kysely';
import type { DialectName } from '../store.ts';

/** The first schema: merchants, acquiring, ledger, outbox, idempotency. */
export async function up(db: Kysely<any>, dialect: DialectName): Promise<void> {
  const serial = (t: any) =>
    dialect === 'postgres'
      ? t.addColumn('id', 'bigserial', (c: any) => c.primaryKey())
      : t.addColumn('id', 'integer', (c: any) => c.primaryKey().autoIncrement());

  await db.schema
    .createTable('merchants')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('parent_id', 'text')
    .addColumn('webhook_url', 'text')
    .addColumn('uqpay_client_id', 'text', (c) => c.notNull().unique())
    .addColumn('uqpay_api_key_hash', 'text', (c) => c.notNull())
    .addColumn('uqpay_webhook_secret', 'text', (c) => c.notNull())
    .addColumn('alphapay_merchant_code', 'text', (c) => c.notNull().unique())
    .addColumn('alphapay_merchant_public_key', 'text', (c) => c.notNull())
    .addColumn('alphapay_platform_private_key', 'text', (c) => c.notNull())
    .addColumn('alphapay_platform_public_key', 'text', (c) => c.notNull())
    .addColumn('qfpay_app_code', 'text', (c) => c.notNull().unique())
    .addColumn('qfpay_client_key', 'text', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .execute();

  await db.schema
    .createTable('payment_intents')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('merchant_id', 'text', (c) => c.notNull())
    .addColumn('amount', 'bigint', (c) => c.notNull())
    .addColumn('currency', 'text', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('captured_amount', 'bigint', (c) => c.notNull())
    .addColumn('description', 'text')
    .addColumn('merchant_order_id', 'text')
    .addColumn('metadata', 'text')
    .addColumn('return_url', 'text')
    .addColumn('customer', 'text')
    .addColumn('client_secret', 'text', (c) => c.notNull())
    .addColumn('latest_attempt_id', 'text')
    .addColumn('next_action', 'text')
    .addColumn('cancellation_reason', 'text')
    .addColumn('cancel_time', 'bigint')
    .addColumn('complete_time', 'bigint')
    .addColumn('expires_at', 'bigint', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('payment_intents_merchant_created').on('payment_intents').columns(['merchant_id', 'created_at']).execute();
  await db.schema.createIndex('payment_intents_status_expiry').on('payment_intents').columns(['status', 'expires_at']).execute();

  await db.schema
    .createTable('payment_attempts')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('intent_id', 'text', (c) => c.notNull())
    .addColumn('merchant_id', 'text', (c) => c.notNull())
    .addColumn('amount', 'bigint', (c) => c.notNull())
    .addColumn('currency', 'text', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('captured_amount', 'bigint', (c) => c.notNull())
    .addColumn('refunded_amount', 'bigint', (c) => c.notNull())
    .addColumn('auto_capture', 'integer', (c) => c.notNull())
    .addColumn('payment_method', 'text', (c) => c.notNull())
    .addColumn('failure_code', 'text')
    .addColumn('auth_code', 'text')
    .addColumn('rrn', 'text')
    .addColumn('arn', 'text')
    .addColumn('advice_code', 'text')
    .addColumn('authentication_data', 'text')
    .addColumn('three_ds_challenge_id', 'text', (c) => c.unique())
    .addColumn('cancellation_reason', 'text')
    .addColumn('complete_time', 'bigint')
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('payment_attempts_intent').on('payment_attempts').columns(['intent_id']).execute();
  await db.schema.createIndex('payment_attempts_merchant_created').on('payment_attempts').columns(['merchant_id', 'created_at']).execute();
  await db.schema.createIndex('payment_attempts_status').on('payment_attempts').columns(['status', 'updated_at']).execute();

  await db.schema
    .createTable('refunds')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('merchant_id', 'text', (c) => c.notNull())
    .addColumn('intent_id', 'text', (c) => c.notNull())
    .addColumn('attempt_id', 'text', (c) => c.notNull())
    .addColumn('amount', 'bigint', (c) => c.notNull())
    .addColumn('currency', 'text', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('reason', 'text', (c) => c.notNull())
    .addColumn('metadata', 'text')
    .addColumn('failure_code', 'text')
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('refunds_intent').on('refunds').columns(['intent_id']).execute();
  await db.schema.createIndex('refunds_merchant_created').on('refunds').columns(['merchant_id', 'created_at']).execute();

  await serial(db.schema.createTable('ledger_entries'))
    .addColumn('journal_id', 'text', (c: any) => c.notNull())
    .addColumn('merchant_id', 'text', (c: any) => c.notNull())
    .addColumn('account', 'text', (c: any) => c.notNull())
    .addColumn('currency', 'text', (c: any) => c.notNull())
    .addColumn('amount', 'bigint', (c: any) => c.notNull())
    .addColumn('source_id', 'text', (c: any) => c.notNull())
    .addColumn('created_at', 'bigint', (c: any) => c.notNull())
    .execute();
  await db.schema.createIndex('ledger_entries_account').on('ledger_entries').columns(['merchant_id', 'account', 'currency']).execute();

  await db.schema
    .createTable('events')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('merchant_id', 'text', (c) => c.notNull())
    .addColumn('type', 'text', (c) => c.notNull())
    .addColumn('source_id', 'text', (c) => c.notNull())
    .addColumn('payload', 'text', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('events_source').on('events').columns(['source_id']).execute();

  await db.schema
    .createTable('deliveries')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('event_id', 'text', (c) => c.notNull())
    .addColumn('merchant_id', 'text', (c) => c.notNull())
    .addColumn('dialect', 'text', (c) => c.notNull())
    .addColumn('url', 'text', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('attempts', 'integer', (c) => c.notNull())
    .addColumn('next_attempt_at', 'bigint', (c) => c.notNull())
    .addColumn('lease_until', 'bigint')
    .addColumn('last_status_code', 'integer')
    .addColumn('last_error', 'text')
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('deliveries_due').on('deliveries').columns(['status', 'next_attempt_at']).execute();
  await db.schema.createIndex('deliveries_event').on('deliveries').columns(['event_id']).execute();

  await serial(db.schema.createTable('delivery_attempts'))
    .addColumn('delivery_id', 'text', (c: any) => c.notNull())
    .addColumn('attempt', 'integer', (c: any) => c.notNull())
    .addColumn('status_code', 'integer')
    .addColumn('error', 'text')
    .addColumn('duration_ms', 'integer', (c: any) => c.notNull())
    .addColumn('attempted_at', 'bigint', (c: any) => c.notNull())
    .execute();
  await db.schema.createIndex('delivery_attempts_delivery').on('delivery_attempts').columns(['delivery_id']).execute();

  await db.schema
    .createTable('idempotency_keys')
    .addColumn('merchant_id', 'text', (c) => c.notNull())
    .addColumn('scope', 'text', (c) => c.notNull())
    .addColumn('key', 'text', (c) => c.notNull())
    .addColumn('request_hash', 'text', (c) => c.notNull())
    .addColumn('state', 'text', (c) => c.notNull())
    .addColumn('response_status', 'integer')
    .addColumn('response_body', 'text')
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('expires_at', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('idempotency_keys_pk', ['merchant_id', 'scope', 'key'])
    .execute();
  await db.schema.createIndex('idempotency_keys_expiry').on('idempotency_keys').columns(['expires_at']).execute();

  await db.schema
    .createTable('card_vault')
    .addColumn('token', 'text', (c) => c.primaryKey())
    .addColumn('ciphertext', 'text', (c) => c.notNull())
    .addColumn('expires_at', 'bigint', (c) => c.notNull())
    .execute();
}

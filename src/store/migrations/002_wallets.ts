import type { Kysely } from 'kysely';

/** Wallet payments: the token behind a QR code, the wallet's side of the money, the API an intent came through, merchant references. */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('payment_intents').addColumn('origin', 'text', (c) => c.notNull().defaultTo('uqpay')).execute();
  await db.schema.alterTable('payment_intents').addColumn('notify_url', 'text').execute();
  await db.schema.alterTable('payment_attempts').addColumn('wallet_token', 'text').execute();
  await db.schema.alterTable('payment_attempts').addColumn('wallet_data', 'text').execute();
  await db.schema.createIndex('payment_attempts_wallet_token').unique().on('payment_attempts').column('wallet_token').execute();

  // Provider-level references that must be unique per merchant (QFPay out_trade_no across payments and refunds).
  await db.schema
    .createTable('merchant_references')
    .addColumn('merchant_id', 'text', (c) => c.notNull())
    .addColumn('scope', 'text', (c) => c.notNull())
    .addColumn('reference', 'text', (c) => c.notNull())
    .addColumn('object_id', 'text', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('merchant_references_pk', ['merchant_id', 'scope', 'reference'])
    .execute();
  await db.schema.createIndex('merchant_references_object').on('merchant_references').column('object_id').execute();
}

import type { Kysely } from 'kysely';

/**
 * Card issuing: cardholders, cards (PAN sealed, never in clear), card orders,
 * issuing transactions, the merchants' issuing balances (one row per
 * currency, locked by authorizations so racing ones cannot overdraw it) and
 * single-use tokens for the hosted secure card display.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('issuing_cardholders')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('merchant_id', 'text', (c) => c.notNull())
    .addColumn('email', 'text', (c) => c.notNull())
    .addColumn('phone_number', 'text', (c) => c.notNull())
    .addColumn('first_name', 'text', (c) => c.notNull())
    .addColumn('last_name', 'text', (c) => c.notNull())
    .addColumn('country_code', 'text', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('details', 'text', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('issuing_cardholders_email').unique().on('issuing_cardholders').columns(['merchant_id', 'email']).execute();
  await db.schema.createIndex('issuing_cardholders_phone').unique().on('issuing_cardholders').columns(['merchant_id', 'phone_number']).execute();
  await db.schema.createIndex('issuing_cardholders_created').on('issuing_cardholders').columns(['merchant_id', 'created_at']).execute();

  await db.schema
    .createTable('issuing_cards')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('merchant_id', 'text', (c) => c.notNull())
    .addColumn('cardholder_id', 'text', (c) => c.notNull())
    .addColumn('product_id', 'text', (c) => c.notNull())
    .addColumn('currency', 'text', (c) => c.notNull())
    .addColumn('pan_sealed', 'text', (c) => c.notNull())
    .addColumn('pan_fingerprint', 'text', (c) => c.notNull())
    .addColumn('last4', 'text', (c) => c.notNull())
    .addColumn('expiry_month', 'integer', (c) => c.notNull())
    .addColumn('expiry_year', 'integer', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('card_limit', 'bigint', (c) => c.notNull())
    .addColumn('available', 'bigint', (c) => c.notNull())
    .addColumn('consumed', 'bigint', (c) => c.notNull())
    .addColumn('controls', 'text', (c) => c.notNull())
    .addColumn('metadata', 'text', (c) => c.notNull())
    .addColumn('step_due_at', 'bigint')
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('issuing_cards_pan').unique().on('issuing_cards').column('pan_fingerprint').execute();
  await db.schema.createIndex('issuing_cards_created').on('issuing_cards').columns(['merchant_id', 'created_at']).execute();
  await db.schema.createIndex('issuing_cards_step_due').on('issuing_cards').column('step_due_at').where('step_due_at', 'is not', null).execute();

  await db.schema
    .createTable('issuing_card_orders')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('merchant_id', 'text', (c) => c.notNull())
    .addColumn('card_id', 'text', (c) => c.notNull())
    .addColumn('order_type', 'text', (c) => c.notNull())
    .addColumn('order_status', 'text', (c) => c.notNull())
    .addColumn('amount', 'bigint')
    .addColumn('currency', 'text', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('issuing_card_orders_card').on('issuing_card_orders').column('card_id').execute();

  await db.schema
    .createTable('issuing_transactions')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('merchant_id', 'text', (c) => c.notNull())
    .addColumn('card_id', 'text', (c) => c.notNull())
    .addColumn('cardholder_id', 'text', (c) => c.notNull())
    .addColumn('transaction_type', 'text', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('amount', 'bigint', (c) => c.notNull())
    .addColumn('currency', 'text', (c) => c.notNull())
    .addColumn('merchant_name', 'text', (c) => c.notNull())
    .addColumn('merchant_category_code', 'text', (c) => c.notNull())
    .addColumn('failure_reason', 'text')
    .addColumn('authorization_code', 'text')
    .addColumn('network_reference', 'text')
    .addColumn('original_transaction_id', 'text')
    .addColumn('card_available_balance', 'bigint', (c) => c.notNull())
    .addColumn('captured_amount', 'bigint', (c) => c.notNull())
    .addColumn('reversed_amount', 'bigint', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('posted_at', 'bigint')
    .execute();
  await db.schema.createIndex('issuing_transactions_created').on('issuing_transactions').columns(['merchant_id', 'created_at']).execute();
  await db.schema.createIndex('issuing_transactions_card').on('issuing_transactions').column('card_id').execute();
  // One authorization per network reference (an acquiring attempt, a refund): a retried request finds the first.
  await db.schema
    .createIndex('issuing_transactions_reference')
    .unique()
    .on('issuing_transactions')
    .columns(['network_reference', 'transaction_type'])
    .where('network_reference', 'is not', null)
    .execute();

  await db.schema
    .createTable('issuing_balances')
    .addColumn('merchant_id', 'text', (c) => c.notNull())
    .addColumn('currency', 'text', (c) => c.notNull())
    .addColumn('id', 'text', (c) => c.notNull())
    .addColumn('available', 'bigint', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('issuing_balances_pk', ['merchant_id', 'currency'])
    .execute();

  await db.schema
    .createTable('issuing_transfers')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('merchant_id', 'text', (c) => c.notNull())
    .addColumn('source_account_id', 'text', (c) => c.notNull())
    .addColumn('destination_account_id', 'text', (c) => c.notNull())
    .addColumn('currency', 'text', (c) => c.notNull())
    .addColumn('amount', 'bigint', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .execute();

  await db.schema
    .createTable('issuing_display_tokens')
    .addColumn('token_hash', 'text', (c) => c.primaryKey())
    .addColumn('merchant_id', 'text', (c) => c.notNull())
    .addColumn('card_id', 'text', (c) => c.notNull())
    .addColumn('expires_at', 'bigint', (c) => c.notNull())
    .addColumn('used_at', 'bigint')
    .execute();
}

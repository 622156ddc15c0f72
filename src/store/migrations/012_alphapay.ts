import type { Kysely } from 'kysely';

/**
 * AlphaPay: the merchant's v1 credential code (sealed), the nonces seen on
 * signed requests (each usable once per merchant while its request time is
 * in the window), and where a refund's own notifications go.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('merchants').addColumn('alphapay_credential_code', 'text').execute();
  await db.schema
    .createTable('alphapay_nonces')
    .addColumn('merchant_id', 'text', (c) => c.notNull())
    .addColumn('nonce', 'text', (c) => c.notNull())
    .addColumn('expires_at', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('alphapay_nonces_pk', ['merchant_id', 'nonce'])
    .execute();
  await db.schema.createIndex('alphapay_nonces_expiry').on('alphapay_nonces').column('expires_at').execute();
  await db.schema.alterTable('refunds').addColumn('notify_url', 'text').execute();
}

import type { Kysely } from 'kysely';

/**
 * The dashboard's delivery log reads a merchant's deliveries newest first, a
 * page at a time: an index on (merchant_id, created_at) keeps a page a short
 * index range however many deliveries the platform holds. Each try keeps the
 * start of what the receiver answered (null for tries recorded before, and
 * for tries that got no answer), so the log shows why a receiver refused.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.createIndex('deliveries_merchant_created').on('deliveries').columns(['merchant_id', 'created_at']).execute();
  await db.schema.alterTable('delivery_attempts').addColumn('response_body', 'text').execute();
}

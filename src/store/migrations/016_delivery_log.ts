import type { Kysely } from 'kysely';

/**
 * The dashboard's delivery log reads a merchant's deliveries newest first, a
 * page at a time: an index on (merchant_id, created_at) keeps a page a short
 * index range however many deliveries the platform holds.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.createIndex('deliveries_merchant_created').on('deliveries').columns(['merchant_id', 'created_at']).execute();
}

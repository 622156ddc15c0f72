import type { Kysely } from 'kysely';

/**
 * A refund of a wallet payment charged in another currency keeps what the
 * shopper gets back in that currency (its share of the converted charge,
 * worked out when the refund is made), so the refunds of one payment add up
 * to exactly what was charged. Null for refunds in the charged currency.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('refunds').addColumn('shopper_amount', 'bigint').execute();
}

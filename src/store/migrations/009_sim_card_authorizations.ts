import type { Kysely } from 'kysely';

/**
 * The simulated card network's own records (network/sim/card-network.ts):
 * one row per authorization reference it received, with the answer it gave,
 * and what was captured, voided and refunded against it. Kept in the
 * platform's database rather than in process memory, so every node sharing
 * the database, and a restarted process, knows what the network approved.
 * A row without a result is a reference recovery asked about that the
 * network never received: an authorization arriving later under it is
 * refused. Rows are purged by age (created_at), see SIM_NETWORK_RETENTION_MS.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('sim_card_authorizations')
    .addColumn('reference', 'text', (c) => c.primaryKey())
    .addColumn('result', 'text')
    .addColumn('answer_at', 'bigint')
    .addColumn('amount', 'bigint')
    .addColumn('currency', 'text')
    .addColumn('captured_amount', 'bigint')
    .addColumn('voided', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('refunded_amount', 'bigint', (c) => c.notNull().defaultTo(0))
    .addColumn('refunds', 'text')
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('sim_card_authorizations_created').on('sim_card_authorizations').column('created_at').execute();
}

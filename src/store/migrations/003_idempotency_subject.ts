import type { Kysely } from 'kysely';

/**
 * The object an idempotent request created or changed, kept with its key: a
 * request that died mid-way (a crash) leaves its key "processing", and a
 * retry is answered from that object once it has settled.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('idempotency_keys').addColumn('subject_id', 'text').execute();
}

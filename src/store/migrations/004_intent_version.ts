import type { Kysely } from 'kysely';

/**
 * How many times an intent has been written: every update checks the
 * version it started from and writes the next one, so a write based on a
 * copy that is no longer current fails instead of overwriting what another
 * request recorded meanwhile.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('payment_intents').addColumn('version', 'integer', (c) => c.notNull().defaultTo(1)).execute();
}

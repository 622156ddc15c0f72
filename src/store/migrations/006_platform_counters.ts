import type { Kysely } from 'kysely';

/**
 * Named numbers the processes sharing a database keep in common, one row
 * each: how far the sandbox clock has been moved ahead of real time (so a
 * restart, or another node, carries on from the same platform time), and how
 * many id-generator node numbers have been handed out (so two processes
 * never make the same id). See store/platform-counters.ts.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('platform_counters')
    .addColumn('name', 'text', (c) => c.primaryKey())
    .addColumn('value', 'bigint', (c) => c.notNull())
    .execute();
}

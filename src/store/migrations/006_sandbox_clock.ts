import type { Kysely } from 'kysely';

/**
 * How far the sandbox clock has been moved ahead of real time, in one row,
 * so that a restart (or another node on the same database) carries on from
 * the same platform time instead of falling back to real time.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('sandbox_clock')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('offset_ms', 'bigint', (c) => c.notNull())
    .execute();
}

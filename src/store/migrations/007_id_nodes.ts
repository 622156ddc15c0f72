import type { Kysely } from 'kysely';

/**
 * Hands out the node numbers of id generators: each process that makes ids
 * takes the next one (modulo 1024), so processes sharing a database no longer
 * draw the same number by chance and make the same id in the same millisecond.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('id_nodes')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('taken', 'integer', (c) => c.notNull())
    .execute();
}

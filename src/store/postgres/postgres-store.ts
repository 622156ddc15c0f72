import pg from 'pg';
import { Kysely, PostgresDialect, sql } from 'kysely';
import type { Database } from '../schema.ts';
import { migrate, type Store } from '../store.ts';

// int8 columns hold minor units and epoch milliseconds, always below 2^53.
pg.types.setTypeParser(pg.types.builtins.INT8, (v: string) => Number(v));

export async function openPostgresStore(url: string, poolSize = 16): Promise<Store> {
  const pool = new pg.Pool({ connectionString: url, max: poolSize });
  // An idle connection the server drops (restart, failover, admin kill) is
  // replaced on next use; without a listener it would crash the process.
  let closing = false;
  pool.on('error', (err) => {
    if (!closing) process.emitWarning(`idle PostgreSQL connection lost: ${err.message}`);
  });
  const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
  // Several API nodes may start together: one migrates, the others wait on the lock.
  await db.connection().execute(async (conn) => {
    await sql`select pg_advisory_lock(727001)`.execute(conn);
    try {
      await migrate(conn, 'postgres');
    } finally {
      await sql`select pg_advisory_unlock(727001)`.execute(conn);
    }
  });
  return {
    dialect: 'postgres',
    read: db,
    rowLocks: true,
    unit: (fn) => db.transaction().execute(fn),
    close: () => {
      closing = true;
      return db.destroy();
    },
  };
}

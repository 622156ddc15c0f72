import pg from 'pg';
import { Kysely, PostgresDialect, sql } from 'kysely';
import type { Database } from '../schema.ts';
import { migrate, type MigrationContext, type Store } from '../store.ts';

// int8 columns hold minor units and epoch milliseconds, always below 2^53.
pg.types.setTypeParser(pg.types.builtins.INT8, (v: string) => Number(v));

/**
 * Kysely sends every query unnamed, so PostgreSQL parses and plans it on
 * each call. The payment path runs the same few dozen statements over and
 * over: named, each connection prepares a statement once and then only binds
 * and executes it. Names are per SQL text; only data statements are named
 * (PostgreSQL cannot prepare DDL), and only the first MAX_NAMED texts.
 */
const MAX_NAMED = 2000;
const statementNames = new Map<string, string>();

function statementName(text: string): string | undefined {
  let name = statementNames.get(text);
  if (name === undefined && statementNames.size < MAX_NAMED && /^\s*(select|insert|update|delete|with)\b/i.test(text)) {
    name = `polypay_${statementNames.size + 1}`;
    statementNames.set(text, name);
  }
  return name;
}

/**
 * Every query sends Bind, Describe, Execute and Sync (and Parse the first
 * time), and pg writes each as its own socket write: four system calls per
 * statement, half the event loop's time at load. Corked, they leave as one.
 */
function tuneClient(client: pg.PoolClient): void {
  const query = client.query.bind(client) as (...args: unknown[]) => unknown;
  const stream = (client as unknown as { connection?: { stream?: { cork(): void; uncork(): void } } }).connection?.stream;
  (client as unknown as { query: (...args: unknown[]) => unknown }).query = (text: unknown, values?: unknown, ...rest: unknown[]) => {
    const name = typeof text === 'string' && rest.length === 0 && typeof values !== 'function' ? statementName(text) : undefined;
    stream?.cork();
    try {
      return name ? query({ name, text, values }) : query(text, values, ...rest);
    } finally {
      stream?.uncork();
    }
  };
}

export async function openPostgresStore(url: string, poolSize = 16, migration: MigrationContext = {}): Promise<Store> {
  const pool = new pg.Pool({ connectionString: url, max: poolSize });
  pool.on('connect', tuneClient);
  // An idle connection the server drops (restart, failover, admin kill) is
  // replaced on next use; without a listener it would crash the process.
  let closing = false;
  pool.on('error', (err) => {
    if (!closing) process.emitWarning(`idle PostgreSQL connection lost: ${err.message}`);
  });
  const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
  // Several API nodes may start together: one migrates, the others wait on the lock.
  try {
    await db.connection().execute(async (conn) => {
      await sql`select pg_advisory_lock(727001)`.execute(conn);
      try {
        await migrate(conn, 'postgres', undefined, migration);
      } finally {
        await sql`select pg_advisory_unlock(727001)`.execute(conn);
      }
    });
  } catch (error) {
    closing = true;
    await db.destroy().catch(() => {}); // no pooled connection outlives a store that failed to open
    throw error;
  }
  return {
    dialect: 'postgres',
    read: db,
    rowLocks: true,
    unit: (fn) => db.transaction().execute(fn),
    stats: () => ({ waiting: pool.waitingCount, connections: pool.totalCount }),
    close: () => {
      closing = true;
      return db.destroy();
    },
  };
}

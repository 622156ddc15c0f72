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
 *
 * A unit's BEGIN is not sent on its own either: the connection pipelines
 * (pg's pipeline mode), so BEGIN is held in the corked stream and leaves in
 * the same write as the unit's first statement, whose answer comes back with
 * BEGIN's. One round trip (a write, a read and a wake-up of the server
 * process) less per unit; BEGIN is answered as PostgreSQL answers it, and if
 * it failed, so does the statement behind it (same connection, in order).
 */
function tuneClient(client: pg.PoolClient): void {
  const query = client.query.bind(client) as (...args: unknown[]) => Promise<unknown>;
  const stream = (client as unknown as { connection?: { stream?: { cork(): void; uncork(): void } } }).connection?.stream;
  const pipelined = (client as unknown as { pipeline?: boolean }).pipeline === true;
  /** A BEGIN written into the corked stream, waiting for the unit's next statement to leave with it. */
  let heldBegin = false;
  (client as unknown as { query: (...args: unknown[]) => unknown }).query = (text: unknown, values?: unknown, ...rest: unknown[]) => {
    if (pipelined && stream && !heldBegin && typeof text === 'string' && /^begin$/i.test(text) && rest.length === 0 && (values === undefined || (Array.isArray(values) && values.length === 0))) {
      stream.cork();
      heldBegin = true;
      // Its failure (a lost connection) fails the statement behind it too.
      query(text).catch(() => {});
      return Promise.resolve({ command: 'BEGIN', rowCount: null, rows: [], fields: [] });
    }
    const name = typeof text === 'string' && rest.length === 0 && typeof values !== 'function' ? statementName(text) : undefined;
    stream?.cork();
    try {
      return name ? query({ name, text, values }) : query(text, values, ...rest);
    } finally {
      stream?.uncork();
      if (heldBegin) {
        heldBegin = false;
        stream?.uncork();
      }
    }
  };
}

/**
 * How long the database may take before a request gives up on it with a
 * 503: a connection (or a free pool slot), one statement (checked by the
 * server, and by the client in case the server cannot answer at all), and a
 * transaction left idle by a node that went away (its row locks are freed).
 */
const CONNECT_TIMEOUT_MS = 5_000;
const STATEMENT_TIMEOUT_MS = 10_000;
const QUERY_TIMEOUT_MS = 15_000;
const IDLE_IN_TRANSACTION_TIMEOUT_MS = 30_000;

export async function openPostgresStore(url: string, poolSize = 16, migration: MigrationContext = {}): Promise<Store> {
  const pool = new pg.Pool({
    connectionString: url,
    max: poolSize,
    connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
    statement_timeout: STATEMENT_TIMEOUT_MS,
    query_timeout: QUERY_TIMEOUT_MS,
    idle_in_transaction_session_timeout: IDLE_IN_TRANSACTION_TIMEOUT_MS,
    keepAlive: true,
    // Queries are sent as they are asked for, not each after the last one's answer (see tuneClient).
    pipeline: true,
  } as pg.PoolConfig);
  let closing = false;
  const lost = (err: Error) => {
    if (!closing) process.emitWarning(`PostgreSQL connection lost: ${err.message}`);
  };
  pool.on('connect', (client) => {
    tuneClient(client);
    // A connection the server drops (restart, failover, pg_terminate_backend)
    // while a unit holds it between two statements emits 'error' on the
    // client: without a listener Node exits. The unit's next statement fails
    // instead (503 to its request), and the pool discards the client on
    // release and connects afresh on next use.
    client.on('error', lost);
  });
  // The same for an idle connection in the pool.
  pool.on('error', lost);
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

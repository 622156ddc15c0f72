import pg from 'pg';
import { Kysely, PostgresDialect, sql, type CompiledQuery, type DatabaseConnection, type KyselyConfig, type QueryResult } from 'kysely';
import { runDirectly, type DirectRunner } from '../compiled.ts';
import type { Database } from '../schema.ts';
import { migrate, type Db, type MigrationContext, type Store } from '../store.ts';

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
  const query = client.query.bind(client) as (...args: unknown[]) => Promise<unknown>;
  const stream = streamOf(client);
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

type Corkable = { cork(): void; uncork(): void };

function streamOf(client: pg.PoolClient): Corkable | undefined {
  return (client as unknown as { connection?: { stream?: Corkable } }).connection?.stream;
}

type PgResult = { command: string; rowCount: number | null; rows: unknown[] };
type Send = (text: string, values?: unknown[]) => Promise<PgResult>;

/** PostgreSQL's answer to an update that had to change exactly one row and changed none (see Unit.send). */
const NOT_ONE_ROW = '22012'; // division_by_zero

/** A write held for the unit's next batch: its target table, SQL, values and, for a checked update, its error. */
interface Write {
  table: string;
  text: string;
  values: unknown[];
  check?: () => Error;
}

/** The table an INSERT or UPDATE writes. */
const TARGET = /^\s*(?:insert\s+into|update)\s+("(?:[^"]|"")+"|\w+)/i;
const targets = new Map<string, string | null>();

/** The table a plain INSERT or UPDATE (no RETURNING) writes, else null; remembered per SQL text. */
function targetOf(text: string): string | null {
  let table = targets.get(text);
  if (table === undefined) {
    table = /\breturning\b/i.test(text) ? null : (TARGET.exec(text)?.[1] ?? null);
    if (targets.size < MAX_NAMED) targets.set(text, table);
  }
  return table;
}

/** `text` with its parameters $1..$n renumbered from $offset+1. */
const shiftParams = (text: string, offset: number): string => (offset === 0 ? text : text.replace(/\$(\d+)/g, (_, n: string) => `$${Number(n) + offset}`));

/**
 * The SQL of the writes of a batch as one statement: data-modifying WITH
 * queries, each run once and to completion, all against the same snapshot,
 * so a batch never holds two writes of one table (nor, being simple inserts
 * and updates by key, does one read what another writes). A checked update
 * fails the statement when it changed no row: count 0, division by zero.
 */
function batchSql(batch: Write[]): string {
  const parts: string[] = [];
  let offset = 0;
  let checked = -1;
  batch.forEach((w, i) => {
    if (w.check) checked = i;
    parts.push(`w${i} as (${shiftParams(w.text, offset)}${w.check ? ' returning 1' : ''})`);
    offset += w.values.length;
  });
  return `with ${parts.join(', ')} select ${checked >= 0 ? `1 / (select count(*) from w${checked})` : '1'} as one`;
}

/**
 * Batch SQL by the texts of its writes, in a tree keyed by each write's
 * text (the same string each time, from compiled.ts's templates, so each
 * step is a lookup by a hash already computed), built once per sequence.
 */
interface BatchNode {
  plain: Map<string, BatchNode>;
  checked: Map<string, BatchNode>;
  sql?: string;
}
const batches: BatchNode = { plain: new Map(), checked: new Map() };
let batchNodes = 0;
const MAX_BATCH_NODES = 4000;

function batchStatement(batch: Write[]): { text: string; values: unknown[] } {
  if (batch.length === 1 && !batch[0]!.check) return batch[0]!;
  const values: unknown[] = [];
  let node: BatchNode | undefined = batches;
  for (const w of batch) {
    for (const v of w.values) values.push(v);
    if (!node) continue;
    const next: Map<string, BatchNode> = w.check ? node.checked : node.plain;
    let child = next.get(w.text);
    if (!child && batchNodes < MAX_BATCH_NODES) {
      next.set(w.text, (child = { plain: new Map(), checked: new Map() }));
      batchNodes++;
    }
    node = child;
  }
  if (!node) return { text: batchSql(batch), values };
  return { text: (node.sql ??= batchSql(batch)), values };
}

/**
 * One unit of work on one connection, as few round trips and statements as
 * its work allows. The connection pipelines (pg's pipeline mode: a query is
 * written as soon as it is asked for, not after the last one's answer), and
 * the unit holds what it writes in the corked stream until it has to wait
 * for an answer: BEGIN leaves with the unit's first statement, and writes
 * whose results the unit does not read (compiled.ts's `send`: inserts,
 * updates checked for the one row they must change) wait in the unit and
 * leave, merged into as few statements as can hold them (see
 * batchStatement), with the next statement whose answer it needs, or with
 * COMMIT. So a unit that writes after its reads costs one round trip for
 * BEGIN and its reads, and one for its writes and COMMIT.
 *
 * PostgreSQL runs the statements in order, and once one fails the rest of
 * the transaction fails too, and its COMMIT rolls back. The unit waits for
 * every answer and fails with the first statement's error (or the error a
 * check names): what it committed is all or nothing, as before, and the
 * unit's promise settles only after COMMIT is answered.
 */
class Unit implements DirectRunner {
  /** Statements sent without waiting for their answers, each with what their failure means. */
  private readonly pending: Array<Promise<Error | null>> = [];
  /** Writes not sent yet: they leave, batched, before the next statement. */
  private writes: Write[] = [];
  private held = false;
  /** COMMIT or ROLLBACK was answered: the connection is back outside any transaction. */
  ended = false;

  constructor(
    private readonly client: pg.PoolClient,
    private readonly stream: Corkable | undefined,
  ) {}

  private hold(): void {
    if (!this.held && this.stream) {
      this.stream.cork();
      this.held = true;
    }
  }

  /** Everything held leaves in one write. */
  private flush(): void {
    if (this.held) {
      this.held = false;
      this.stream!.uncork();
    }
  }

  /** A statement whose answer the unit waits for: it leaves now, after the writes before it, with whatever is held. */
  readonly query: Send = (text, values) => {
    this.sendWrites();
    const result = this.client.query(text, values) as unknown as Promise<PgResult>;
    this.flush();
    return result;
  };

  /** A statement whose answer nobody reads: held, checked before the unit commits. */
  private later(text: string, values: unknown[] | undefined, failure: (error: Error) => Error = (e) => e): void {
    this.hold();
    const result = this.client.query(text, values) as unknown as Promise<PgResult>;
    this.pending.push(result.then(() => null, failure));
  }

  /** The writes waiting, in order, in batches of distinct tables with at most one check each. */
  private sendWrites(): void {
    if (this.writes.length === 0) return;
    const writes = this.writes;
    this.writes = [];
    let batch: Write[] = [];
    const send = () => {
      const check = batch.find((w) => w.check)?.check;
      const { text, values } = batchStatement(batch);
      this.later(text, values, check ? (e) => ((e as { code?: string }).code === NOT_ONE_ROW ? check() : e) : undefined);
      batch = [];
    };
    for (const w of writes) {
      if (batch.some((b) => b.table === w.table || (b.check && w.check))) send();
      batch.push(w);
    }
    send();
  }

  begin(): void {
    this.later('begin', undefined);
  }

  async rows(text: string, params: unknown[]): Promise<unknown[]> {
    return (await this.query(text, params)).rows;
  }

  async changes(text: string, params: unknown[]): Promise<number> {
    return (await this.query(text, params)).rowCount ?? 0;
  }

  send(text: string, params: unknown[], check?: { changes: 1; error: () => Error }): void {
    const table = targetOf(text);
    if (!table) {
      // Not a plain INSERT or UPDATE: on its own, in order.
      if (check) throw new Error('only a plain UPDATE can be checked for the row it changes');
      this.sendWrites();
      return this.later(text, params);
    }
    this.hold();
    this.writes.push({ table, text, values: params, ...(check ? { check: check.error } : {}) });
  }

  /** The first failure among the statements sent without waiting, once all have answered. */
  private async firstFailure(): Promise<Error | null> {
    const outcomes = await Promise.all(this.pending);
    return outcomes.find((e) => e !== null) ?? null;
  }

  async commit(): Promise<void> {
    const commit = settled(this.query('commit'));
    const failed = await this.firstFailure();
    const answer = await commit;
    if (answer instanceof Error) throw answer;
    this.ended = true;
    if (failed) throw failed;
    // COMMIT of a transaction that failed answers ROLLBACK; every failure is one of the statements above.
    if (answer.command !== 'COMMIT') throw new Error(`transaction ended with ${answer.command}`);
  }

  /** Rolls back; the error to fail with: the first statement that failed, else the unit's own. */
  async rollback(error: unknown): Promise<unknown> {
    this.writes = []; // never sent: nothing to undo
    const rollback = settled(this.query('rollback'));
    const failed = await this.firstFailure();
    if (!((await rollback) instanceof Error)) this.ended = true;
    return failed ?? error;
  }
}

/** A promise's value or its error, never rejected (so it may wait while others are awaited). */
function settled<T>(p: Promise<T>): Promise<T | Error> {
  return p.catch((e: unknown) => (e instanceof Error ? e : new Error(String(e))));
}

/** A Kysely connection onto the unit's client: builder queries go through the unit, in order with its compiled ones. */
function unitConnection(unit: Unit): DatabaseConnection {
  return {
    async executeQuery<R>(compiled: CompiledQuery): Promise<QueryResult<R>> {
      const { command, rowCount, rows } = await unit.query(compiled.sql, [...compiled.parameters]);
      const changed = command === 'INSERT' || command === 'UPDATE' || command === 'DELETE' || command === 'MERGE';
      return { rows: rows as R[], ...(changed ? { numAffectedRows: BigInt(rowCount ?? 0) } : {}) };
    },
    streamQuery(): AsyncIterableIterator<QueryResult<never>> {
      throw new Error('streaming is not available inside a unit');
    },
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

/**
 * Session settings the store's correctness rests on, sent with each
 * connection's startup (no round trip), so that a database or role default
 * cannot change them: a unit's promise settles only once its COMMIT is
 * flushed to disk (synchronous_commit on: durability is the product), and
 * units run at READ COMMITTED, which their row locks, version checks and
 * claims by insert are written for (a claim that lost to another request's
 * insert must read the row that request committed, which a snapshot taken
 * before it would not show).
 */
const SESSION_OPTIONS = '-c synchronous_commit=on -c default_transaction_isolation=read\\ committed';

export async function openPostgresStore(url: string, poolSize = 16, migration: MigrationContext = {}): Promise<Store> {
  const pool = new pg.Pool({
    connectionString: url,
    max: poolSize,
    connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
    statement_timeout: STATEMENT_TIMEOUT_MS,
    query_timeout: QUERY_TIMEOUT_MS,
    idle_in_transaction_session_timeout: IDLE_IN_TRANSACTION_TIMEOUT_MS,
    options: SESSION_OPTIONS,
    application_name: 'polypay',
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
  const dialect = new PostgresDialect({ pool });
  const db = new Kysely<Database>({ dialect });
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
    unit: async (fn) => {
      const client = await pool.connect();
      const unit = new Unit(client, streamOf(client));
      const connection = unitConnection(unit);
      const tx: Db = new Kysely<Database>({
        config: { dialect },
        dialect,
        driver: {},
        executor: db.getExecutor().withConnectionProvider({ provideConnection: (consumer) => consumer(connection) }),
      } as unknown as KyselyConfig);
      runDirectly(tx, unit, db);
      try {
        unit.begin();
        let result;
        try {
          result = await fn(tx);
        } catch (error) {
          throw await unit.rollback(error);
        }
        await unit.commit();
        return result;
      } finally {
        // A connection whose transaction did not end (lost, or timed out) is not given to the next unit.
        client.release(unit.ended ? undefined : new Error('unit ended without COMMIT or ROLLBACK answered'));
      }
    },
    stats: () => ({ waiting: pool.waitingCount, connections: pool.totalCount }),
    close: () => {
      closing = true;
      return db.destroy();
    },
  };
}

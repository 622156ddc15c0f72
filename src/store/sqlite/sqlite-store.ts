import { closeSync, fdatasync, openSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import BetterSqlite3 from 'better-sqlite3';
import { Kysely, SqliteDialect, SqliteDriver, type DatabaseConnection, type Driver, type SqliteDialectConfig } from 'kysely';
import { runDirectly, type DirectRunner } from '../compiled.ts';
import { StoreUnavailable } from '../faults.ts';
import type { Database } from '../schema.ts';
import { PRIVATE_FILE_MODE, privateDir, privateFiles } from '../private-files.ts';
import { migrate, sqliteFile, type Db, type MigrationContext, type Store } from '../store.ts';

type Handle = BetterSqlite3.Database;

/**
 * Kysely prepares every query afresh; better-sqlite3 statements are reusable,
 * so this wrapper keeps the prepared statement per SQL text.
 */
function cachingDatabase(handle: Handle) {
  const cache = new Map<string, BetterSqlite3.Statement>();
  return {
    close: () => handle.close(),
    prepare(sqlText: string) {
      let stmt = cache.get(sqlText);
      if (!stmt) {
        stmt = handle.prepare(sqlText);
        if (cache.size > 2000) cache.clear();
        cache.set(sqlText, stmt);
      }
      return stmt;
    },
  };
}

/** Compiled queries inside a unit run on the writer's cached statements, without Kysely's executor (see compiled.ts). */
function directRunner(statements: ReturnType<typeof cachingDatabase>): DirectRunner {
  return {
    rows(sqlText, params) {
      const stmt = statements.prepare(sqlText);
      if (stmt.reader) return stmt.all(params);
      stmt.run(params);
      return [];
    },
    changes(sqlText, params) {
      const stmt = statements.prepare(sqlText);
      return stmt.reader ? stmt.all(params).length : stmt.run(params).changes;
    },
  };
}

function openHandle(file: string, readonly: boolean): Handle {
  const handle = new BetterSqlite3(file, { readonly, fileMustExist: readonly });
  handle.pragma('busy_timeout = 5000');
  if (!readonly) {
    handle.pragma('journal_mode = WAL');
    // NORMAL: COMMIT writes the WAL without fsyncing it; the WalSyncer below
    // fsyncs it off the event loop, and a unit's promise settles only after
    // that, so nothing is reported before it is on disk. (Checkpoints, on the
    // worker's connection, sync the WAL before copying it and the database
    // file after.)
    handle.pragma('synchronous = NORMAL');
    // Each unit runs under a savepoint, and SQLite keeps the pages a savepoint
    // may have to restore in a statement journal: a temp file (two syscalls
    // per page) unless temp storage is in memory. It is rollback data of the
    // open transaction only; what a commit makes durable is unchanged.
    handle.pragma('temp_store = MEMORY');
    // 8 MB of page cache for the writer (SQLite's default is 2 MB): enough
    // for the pages a group of payments touches. Not more: every COMMIT trims
    // the page cache with a scan that grows with it; at 32 MB that scan cost
    // about 6% of a card payment's event-loop time.
    handle.pragma('cache_size = -8000');
  }
  return handle;
}

interface PendingUnit {
  fn: (tx: Db) => Promise<unknown>;
  resolve: (value: any) => void;
  reject: (error: unknown) => void;
  /** When it was submitted (Date.now()): how long it may still wait for a busy write lock. */
  since: number;
}

type Outcome = { ok: true; value: unknown } | { ok: false; error: unknown };

/**
 * Makes commits durable without blocking the event loop. The writer commits
 * with synchronous=NORMAL (the WAL is written, not fsynced); this fsyncs the
 * WAL file on libuv's thread pool and calls back everything committed before
 * that fsync began. One fsync is in flight at a time; commits that land while
 * it runs wait for the next one, which covers them all, so under load one
 * fsync serves several groups while the event loop keeps working.
 */
export class WalSyncer {
  private fd: number | undefined;
  private committed = 0;
  private synced = 0;
  private inFlight = false;
  private waiting: Array<{ seq: number; done: (error?: unknown) => void }> = [];
  /** close() calls waiting for the fsync in flight to end. */
  private closers: Array<() => void> = [];
  /**
   * After a failed fsync nothing written since the last good one can be
   * trusted to be on disk (the kernel may have dropped those pages and a
   * later fsync would still succeed), so every unit from then on fails.
   */
  private failure: Error | null = null;

  constructor(private readonly walFile: string) {}

  /** Called right after a COMMIT; done runs once that commit is on disk. */
  afterCommit(done: (error?: unknown) => void): void {
    if (this.failure) return done(this.failure);
    this.waiting.push({ seq: ++this.committed, done });
    this.start();
  }

  /** Resolves once everything committed so far is on disk. */
  durable(): Promise<void> {
    if (this.failure) return Promise.reject(this.failure);
    if (this.synced === this.committed) return Promise.resolve();
    const seq = this.committed;
    return new Promise((resolve, reject) => {
      this.waiting.push({ seq, done: (error) => (error ? reject(error) : resolve()) });
    });
  }

  private start(): void {
    if (this.inFlight || this.synced === this.committed) return;
    this.inFlight = true;
    const target = this.committed;
    let fd: number;
    try {
      fd = this.fd ??= openSync(this.walFile, 'r');
    } catch (error) {
      this.finish(target, error);
      return;
    }
    fdatasync(fd, (error) => this.finish(target, error ?? undefined));
  }

  private finish(target: number, error: unknown): void {
    this.inFlight = false;
    if (error) {
      this.failure = new StoreUnavailable(`the SQLite WAL could not be synced to disk: ${error instanceof Error ? error.message : String(error)}`, error);
      process.emitWarning(this.failure.message);
      const all = this.waiting;
      this.waiting = [];
      for (const w of all) w.done(this.failure);
      this.wakeClosers();
      return;
    }
    this.synced = target;
    const ready = this.waiting.filter((w) => w.seq <= target);
    this.waiting = this.waiting.filter((w) => w.seq > target);
    for (const w of ready) w.done();
    this.start();
    if (!this.inFlight) this.wakeClosers();
  }

  private wakeClosers(): void {
    const closers = this.closers;
    this.closers = [];
    for (const done of closers) done();
  }

  /** Waits for everything committed so far to be on disk (or to fail) and for the fsync in flight to end, then closes the file. */
  async close(): Promise<void> {
    await this.durable().catch(() => {});
    while (this.inFlight) await new Promise<void>((resolve) => this.closers.push(resolve));
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
  }
}

const MAX_GROUP = 256;

/**
 * How long a group waits for the write lock while another connection (a CLI
 * command, a second process, a shell) holds it, before its units fail as
 * unavailable. It waits off the event loop: the writer's own busy timeout is
 * kept tiny (WRITER_BUSY_TIMEOUT_MS), since SQLite's busy handler sleeps in
 * the calling thread and would stall every request meanwhile.
 */
const BUSY_WAIT_MS = 5000;
const WRITER_BUSY_TIMEOUT_MS = 10;

const isBusy = (error: unknown): boolean => /^SQLITE_BUSY/.test(String((error as { code?: unknown } | null)?.code ?? ''));

/**
 * Group commit: units that arrive while the writer is busy, or in the same
 * turn of the event loop, run one after another inside one transaction, each
 * under its own savepoint, so one failing unit rolls back alone. Their promises
 * settle once the shared COMMIT is on disk (see WalSyncer), so nothing is
 * reported before it is durable.
 */
class GroupCommitter {
  private queue: PendingUnit[] = [];
  private scheduled = false;
  private closed = false;
  private readonly begin: BetterSqlite3.Statement;
  private readonly commit: BetterSqlite3.Statement;
  private readonly savepoint: BetterSqlite3.Statement;
  private readonly release: BetterSqlite3.Statement;
  private readonly rollbackTo: BetterSqlite3.Statement;

  constructor(
    private readonly handle: Handle,
    private readonly db: Kysely<Database>,
    private readonly runner: DirectRunner,
    private readonly checkpointer: Checkpointer,
    private readonly syncer: WalSyncer,
  ) {
    // Prepared once: they run once per group or per unit.
    this.begin = handle.prepare('BEGIN IMMEDIATE');
    this.commit = handle.prepare('COMMIT');
    this.savepoint = handle.prepare('SAVEPOINT unit');
    this.release = handle.prepare('RELEASE unit');
    this.rollbackTo = handle.prepare('ROLLBACK TO unit');
  }

  submit<T>(fn: (tx: Db) => Promise<T>): Promise<T> {
    if (this.closed) return Promise.reject(new Error('the store is closed'));
    return new Promise<T>((resolve, reject) => {
      this.queue.push({ fn, resolve, reject, since: Date.now() });
      this.schedule();
    });
  }

  /** Refuses new units and resolves once the ones submitted have run and committed (WalSyncer.close waits for the disk). */
  /** Units submitted and not yet run. */
  get waiting(): number {
    return this.queue.length;
  }

  async close(): Promise<void> {
    this.closed = true;
    while (this.queue.length || this.scheduled) await new Promise((resolve) => setImmediate(resolve));
  }

  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    // Twice a second the next group waits (without blocking the event loop)
    // for the checkpointer to copy the rest of the WAL, so that its BEGIN
    // starts the WAL over; meanwhile new units join the queue.
    if (this.checkpointer.resetDue()) void this.checkpointer.copyAll().then(() => setImmediate(() => void this.flush()));
    else setImmediate(() => void this.flush());
  }

  /**
   * BEGIN IMMEDIATE, retried after short pauses (the event loop serving
   * requests meanwhile) while another connection holds the write lock, until
   * the group's oldest unit has waited BUSY_WAIT_MS.
   */
  private async beginWrite(oldest: number): Promise<void> {
    const deadline = oldest + BUSY_WAIT_MS;
    for (let pause = 5; ; pause = Math.min(pause * 2, 100)) {
      try {
        this.begin.run();
        return;
      } catch (error) {
        if (!isBusy(error) || Date.now() >= deadline) throw error;
      }
      await new Promise((resolve) => setTimeout(resolve, pause));
    }
  }

  private async flush(): Promise<void> {
    const group = this.queue.splice(0, MAX_GROUP);
    const outcomes: Outcome[] = [];
    const h = this.handle;
    try {
      await this.db.connection().execute(async (conn) => {
        runDirectly(conn, this.runner);
        await this.beginWrite(group[0]?.since ?? Date.now());
        try {
          for (const unit of group) {
            this.savepoint.run();
            try {
              const value = await unit.fn(conn);
              this.release.run();
              outcomes.push({ ok: true, value });
            } catch (error) {
              this.rollbackTo.run();
              this.release.run();
              outcomes.push({ ok: false, error });
            }
          }
          this.commit.run();
        } catch (error) {
          if (h.inTransaction) h.exec('ROLLBACK');
          throw error;
        }
      });
      this.syncer.afterCommit((syncError) => settle(group, outcomes, syncError));
    } catch (error) {
      for (const unit of group) unit.reject(error);
    } finally {
      this.checkpointer.committed();
      this.scheduled = false;
      if (this.queue.length) this.schedule();
    }
  }
}

function settle(group: PendingUnit[], outcomes: Outcome[], syncError: unknown): void {
  group.forEach((unit, i) => {
    const o = outcomes[i]!;
    if (syncError) unit.reject(syncError);
    else if (o.ok) unit.resolve(o.value);
    else unit.reject(o.error);
  });
}

/**
 * Kysely's SQLite driver, except that a connection is handed out only once
 * everything committed so far is on disk: a read never shows what a crash
 * could still take back.
 */
class DurableReadDialect extends SqliteDialect {
  constructor(
    private readonly driverConfig: SqliteDialectConfig,
    private readonly syncer: WalSyncer,
  ) {
    super(driverConfig);
  }

  override createDriver(): Driver {
    const syncer = this.syncer;
    return new (class extends SqliteDriver {
      override async acquireConnection(): Promise<DatabaseConnection> {
        await syncer.durable();
        return super.acquireConnection();
      }
    })(this.driverConfig);
  }
}

/**
 * Checkpoints (copying committed pages from the WAL into the database file)
 * run on a worker thread with its own connection, so they no longer stall the
 * event loop: left to SQLite, every ~1000 pages one COMMIT also copied 4 MB
 * and fsynced the database file (the slowest commits, and what their groups'
 * requests waited for).
 *
 * The worker copies what was committed every 25 ms (PASSIVE: it never waits
 * for the writer). SQLite starts the WAL over from its beginning only when a
 * write begins with the WAL fully copied, which under steady load would rarely
 * happen by chance; so twice a second the next group waits for the worker to
 * copy the rest (a few ms, during which the event loop serves requests and
 * the group grows), and the WAL holds at most about half a second of writes
 * (tens of MB at full load) instead of growing.
 *
 * The worker's connection uses synchronous=FULL: its checkpoints fsync the
 * WAL before copying and the database file before the WAL may be reused.
 */
const CHECKPOINTER = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.driver);
const db = new Database(workerData.file, { fileMustExist: true });
db.pragma('busy_timeout = 5000');
db.pragma('synchronous = FULL');
const commits = new Int32Array(workerData.commits);
let seen = 0;
function checkpoint() {
  seen = Atomics.load(commits, 0);
  try {
    const [r] = db.pragma('wal_checkpoint(PASSIVE)');
    return r;
  } catch (error) {
    return { error: String((error && error.message) || error) };
  }
}
const timer = setInterval(() => {
  if (Atomics.load(commits, 0) === seen) return; // nothing committed since the last look
  const r = checkpoint();
  if (r.error) parentPort.postMessage(r);
}, workerData.intervalMs);
parentPort.on('message', (msg) => {
  if (msg === 'copy') {
    parentPort.postMessage({ copied: checkpoint() });
  } else if (msg === 'stop') {
    clearInterval(timer);
    db.close();
    parentPort.close();
  }
});
`;

const CHECKPOINT_INTERVAL_MS = 25;
const WAL_RESET_INTERVAL_MS = 500;
/** How long a group waits at most for the worker's copy before going ahead anyway. */
const COPY_WAIT_MS = 100;

class Checkpointer {
  private readonly worker: Worker;
  private readonly stopped: Promise<void>;
  /** Groups committed so far, shared with the worker (it checkpoints only after new commits). */
  private readonly commits = new Int32Array(new SharedArrayBuffer(4));
  private lastReset = Date.now();
  private commitsSinceReset = 0;
  private waiting: Array<() => void> = [];
  private exited = false;
  private stopping = false;

  constructor(
    file: string,
    private readonly writer: Handle,
  ) {
    const driver = createRequire(import.meta.url).resolve('better-sqlite3');
    this.worker = new Worker(CHECKPOINTER, {
      eval: true,
      workerData: { file, driver, intervalMs: CHECKPOINT_INTERVAL_MS, commits: this.commits.buffer },
    });
    this.worker.unref();
    this.worker.on('message', (msg: { error?: string; copied?: { error?: string } }) => {
      const error = msg.error ?? msg.copied?.error;
      if (error) process.emitWarning(`sqlite checkpoint failed: ${error}`);
      if (msg.copied) this.wake();
    });
    this.stopped = new Promise((resolve) => {
      this.worker.once('exit', () => resolve());
      this.worker.once('error', () => resolve());
    });
    void this.stopped.then(() => {
      this.exited = true;
      this.wake();
      if (!this.stopping) {
        // Without the worker, SQLite checkpoints on commit again, as before.
        process.emitWarning('sqlite checkpointer thread stopped: checkpoints run on the writer again');
        try {
          this.writer.pragma('wal_autocheckpoint = 1000');
        } catch {
          // the store is closing
        }
      }
    });
  }

  /** After each group (committed or not). */
  committed(): void {
    Atomics.add(this.commits, 0, 1);
    this.commitsSinceReset++;
  }

  resetDue(): boolean {
    return this.commitsSinceReset > 0 && Date.now() - this.lastReset >= WAL_RESET_INTERVAL_MS;
  }

  /** Asks the worker to copy everything committed so far; resolves when it has (or after COPY_WAIT_MS). */
  copyAll(): Promise<void> {
    this.lastReset = Date.now();
    this.commitsSinceReset = 0;
    if (this.exited) return Promise.resolve();
    return new Promise<void>((resolve) => {
      const timer = setTimeout(() => this.wake(), COPY_WAIT_MS);
      this.waiting.push(() => {
        clearTimeout(timer);
        resolve();
      });
      if (this.waiting.length === 1) this.worker.postMessage('copy');
    });
  }

  private wake(): void {
    const waiting = this.waiting;
    this.waiting = [];
    for (const done of waiting) done();
  }

  /** The worker closes its connection first, so the writer is the last one and can remove the WAL. */
  async stop(): Promise<void> {
    this.stopping = true;
    this.worker.ref(); // keep the process alive until it has
    this.worker.postMessage('stop');
    let timer: NodeJS.Timeout | undefined;
    const late = await Promise.race([this.stopped.then(() => false), new Promise<boolean>((r) => (timer = setTimeout(() => r(true), 5000)))]);
    clearTimeout(timer);
    if (late) await this.worker.terminate().catch(() => {});
  }
}

export async function openSqliteStore(dataDir: string, migration: MigrationContext = {}): Promise<Store> {
  privateDir(dataDir);
  const file = sqliteFile(dataDir);
  // Created owner-only before SQLite opens it: the -wal and -shm files SQLite creates later take the database file's mode.
  closeSync(openSync(file, 'a', PRIVATE_FILE_MODE));
  const writer = openHandle(file, false);
  privateFiles(file, `${file}-wal`, `${file}-shm`); // a database an older release created readable by all
  const writerStatements = cachingDatabase(writer);
  const writeDb = new Kysely<Database>({ dialect: new SqliteDialect({ database: writerStatements }) });
  await migrate(writeDb, 'sqlite', undefined, migration);
  // From here on the checkpointer thread copies the WAL into the database file.
  writer.pragma('wal_autocheckpoint = 0');
  writer.pragma('journal_size_limit = 67108864'); // a WAL that grew past 64 MB is cut back when it starts over
  writer.pragma(`busy_timeout = ${WRITER_BUSY_TIMEOUT_MS}`); // groups wait for a busy lock without blocking (see beginWrite)
  const checkpointer = new Checkpointer(file, writer);
  const syncer = new WalSyncer(`${file}-wal`);
  const reader = openHandle(file, true);
  const readDb = new Kysely<Database>({ dialect: new DurableReadDialect({ database: cachingDatabase(reader) }, syncer) });
  const committer = new GroupCommitter(writer, writeDb, directRunner(writerStatements), checkpointer, syncer);
  return {
    dialect: 'sqlite',
    read: readDb,
    rowLocks: false,
    unit: (fn) => committer.submit(fn),
    stats: () => ({ waiting: committer.waiting, connections: 1 }),
    async close() {
      await committer.close();
      await syncer.close();
      await checkpointer.stop();
      await readDb.destroy();
      await writeDb.destroy();
    },
  };
}

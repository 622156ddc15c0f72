import { mkdirSync } from 'node:fs';
import path from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { Kysely, SqliteDialect } from 'kysely';
import type { Database } from '../schema.ts';
import { migrate, type Db, type Store } from '../store.ts';

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

function openHandle(file: string, readonly: boolean): Handle {
  const handle = new BetterSqlite3(file, { readonly, fileMustExist: readonly });
  handle.pragma('busy_timeout = 5000');
  if (!readonly) {
    handle.pragma('journal_mode = WAL');
    // FULL: a commit is on disk (WAL fsynced) before the unit's promise settles.
    handle.pragma('synchronous = FULL');
  }
  return handle;
}

interface PendingUnit {
  fn: (tx: Db) => Promise<unknown>;
  resolve: (value: any) => void;
  reject: (error: unknown) => void;
}

const MAX_GROUP = 256;

/**
 * Group commit: units that arrive while the writer is busy, or in the same
 * turn of the event loop, run one after another inside one transaction, each
 * under its own savepoint, so one failing unit rolls back alone. Their promises
 * settle after the shared COMMIT, so nothing is reported before it is durable.
 */
class GroupCommitter {
  private queue: PendingUnit[] = [];
  private scheduled = false;

  constructor(private readonly handle: Handle, private readonly db: Kysely<Database>) {}

  submit<T>(fn: (tx: Db) => Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.queue.push({ fn, resolve, reject });
      this.schedule();
    });
  }

  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => void this.flush());
  }

  private async flush(): Promise<void> {
    const group = this.queue.splice(0, MAX_GROUP);
    const outcomes: Array<{ ok: true; value: unknown } | { ok: false; error: unknown }> = [];
    const h = this.handle;
    try {
      await this.db.connection().execute(async (conn) => {
        h.exec('BEGIN IMMEDIATE');
        try {
          for (const unit of group) {
            h.exec('SAVEPOINT unit');
            try {
              const value = await unit.fn(conn);
              h.exec('RELEASE unit');
              outcomes.push({ ok: true, value });
            } catch (error) {
              h.exec('ROLLBACK TO unit');
              h.exec('RELEASE unit');
              outcomes.push({ ok: false, error });
            }
          }
          h.exec('COMMIT');
        } catch (error) {
          if (h.inTransaction) h.exec('ROLLBACK');
          throw error;
        }
      });
      group.forEach((unit, i) => {
        const o = outcomes[i]!;
        if (o.ok) unit.resolve(o.value);
        else unit.reject(o.error);
      });
    } catch (error) {
      for (const unit of group) unit.reject(error);
    } finally {
      this.scheduled = false;
      if (this.queue.length) this.schedule();
    }
  }
}

export async function openSqliteStore(dataDir: string): Promise<Store> {
  mkdirSync(dataDir, { recursive: true });
  const file = path.join(dataDir, 'polypay.sqlite');
  const writer = openHandle(file, false);
  const writeDb = new Kysely<Database>({ dialect: new SqliteDialect({ database: cachingDatabase(writer) }) });
  await migrate(writeDb, 'sqlite');
  const reader = openHandle(file, true);
  const readDb = new Kysely<Database>({ dialect: new SqliteDialect({ database: cachingDatabase(reader) }) });
  const committer = new GroupCommitter(writer, writeDb);
  return {
    dialect: 'sqlite',
    read: readDb,
    rowLocks: false,
    unit: (fn) => committer.submit(fn),
    async close() {
      await readDb.destroy();
      await writeDb.destroy();
    },
  };
}

/**
 * Which failures mean "the database cannot be reached or used right now"
 * rather than "this request is wrong" or "our code is wrong": a PostgreSQL
 * server restarting, failing over or killing connections, the network to it
 * down or too slow, and an SQLite file locked by another writer or failing
 * to read, write or sync. Such a request is answered 503 (try again later);
 * nothing it did was acknowledged.
 */

/** Raised by the stores themselves when the database cannot be used (an SQLite WAL that failed to sync, a write lock not released in time). */
export class StoreUnavailable extends Error {
  constructor(message: string, cause?: unknown) {
    super(message, { cause });
    this.name = 'StoreUnavailable';
  }
}

/**
 * PostgreSQL SQLSTATEs of a connection or server that is going away: class
 * 08 (connection exception), 57P01-57P03 (admin shutdown, crash shutdown,
 * cannot connect now: a restart or failover), 57014 (statement timeout),
 * 53300 (too many connections), 25P03 (idle in transaction timeout).
 */
const PG_UNAVAILABLE = /^(08...|57P0[123]|57014|53300|25P03)$/;

/** Socket-level failures on the way to the database server. */
const NET_UNAVAILABLE = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN', 'ECONNABORTED']);

/** What the pg client says, without a code, when its connection dies or a pool slot does not come free in time. */
const PG_CLIENT_MESSAGES = /Connection terminated|connection error and is not queryable|timeout exceeded when trying to connect|Query read timeout|Connection timeout|Client was closed and is not queryable|terminating connection/i;

/** A database that refuses connections for now (ALTER DATABASE ... ALLOW_CONNECTIONS false, as during maintenance): 55000 at connect. */
const PG_NOT_ACCEPTING = /is not currently accepting connections/;

/**
 * SQLite result codes of a database that cannot be written or read now:
 * locked by another connection past the busy timeout, or an I/O, disk-full
 * or file-open failure (SQLITE_IOERR_* extended codes included).
 */
const SQLITE_UNAVAILABLE = /^SQLITE_(BUSY|LOCKED|IOERR|FULL|CANTOPEN|PROTOCOL|READONLY_DBMOVED)/;

export function isStoreUnavailable(error: unknown, depth = 0): boolean {
  if (error instanceof StoreUnavailable) return true;
  if (depth > 3) return false;
  if (typeof error !== 'object' || error === null) return false;
  const e = error as { code?: unknown; message?: unknown; cause?: unknown };
  const code = typeof e.code === 'string' ? e.code : '';
  if (PG_UNAVAILABLE.test(code) || NET_UNAVAILABLE.has(code) || SQLITE_UNAVAILABLE.test(code)) return true;
  if (typeof e.message === 'string' && ((code === '' && PG_CLIENT_MESSAGES.test(e.message)) || (code === '55000' && PG_NOT_ACCEPTING.test(e.message)))) return true;
  // Aggregate connect errors (several addresses tried) and wrapped causes.
  const errors = (error as { errors?: unknown }).errors;
  if (Array.isArray(errors) && errors.some((x) => isStoreUnavailable(x, depth + 1))) return true;
  return e.cause !== undefined && isStoreUnavailable(e.cause, depth + 1);
}

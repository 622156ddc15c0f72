/**
 * Why `polypay start` could not start, as one line for the operator: the
 * failures a setup can cause (port taken, database unreachable, data dir not
 * usable, bad configuration) say what to fix; anything else is a bug and
 * keeps its stack.
 */
import { ConfigError } from '../config.ts';

interface SystemError extends Error {
  code?: string;
  syscall?: string;
  path?: string;
  address?: string;
  port?: number;
}

const CONNECT_CODES = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'ECONNRESET']);

/** The line to print, and whether the failure was one a setup can cause (no stack trace then). */
export function describeStartFailure(error: unknown, dataDir?: string): { line: string; expected: boolean } {
  const e = (error instanceof Error ? error : new Error(String(error))) as SystemError;
  const line = (text: string) => ({ line: `polypay: cannot start: ${text}`, expected: true });
  if (e instanceof ConfigError) return line(e.message);
  if (e.syscall === 'listen') {
    const at = `${e.address}:${e.port}`;
    if (e.code === 'EADDRINUSE') return line(`${at} is already in use (another polypay or server runs there; choose another port with --port or PORT)`);
    if (e.code === 'EACCES') return line(`not allowed to listen on ${at} (ports below 1024 need privileges; choose another with --port or PORT)`);
    if (e.code === 'EADDRNOTAVAIL') return line(`cannot listen on ${at}: ${e.address} is not an address of this machine (--host or HOST)`);
    return line(`cannot listen on ${at} (${e.code ?? e.message})`);
  }
  if (e.code && CONNECT_CODES.has(e.code) && e.syscall !== undefined) {
    const at = e.address ? `${e.address}${e.port ? `:${e.port}` : ''}` : 'the server in DATABASE_URL';
    return line(`cannot reach PostgreSQL at ${at} (${e.code}); check DATABASE_URL and that the server runs`);
  }
  if ((e.code === 'EACCES' || e.code === 'EPERM' || e.code === 'EROFS' || e.code === 'ENOTDIR' || e.code === 'EEXIST') && e.path) {
    const why = { EACCES: 'permission denied', EPERM: 'operation not permitted', EROFS: 'read-only file system', ENOTDIR: 'not a directory', EEXIST: 'a file is in the way' }[e.code];
    return line(`the data dir is not usable: ${why} on ${e.path} (--data-dir or POLYPAY_DATA_DIR)`);
  }
  if (e.code?.startsWith('SQLITE_')) return line(`cannot open the SQLite database${dataDir ? ` in ${dataDir}` : ''}: ${e.message} (${e.code})`);
  // PostgreSQL answered, and refused: wrong password, no such database, no permission (SQLSTATE codes are five characters).
  if (e.code && /^[0-9A-Z]{5}$/.test(e.code) && 'severity' in e) return line(`PostgreSQL refused: ${e.message}; check DATABASE_URL`);
  return { line: `polypay: cannot start: ${e.message}`, expected: false };
}

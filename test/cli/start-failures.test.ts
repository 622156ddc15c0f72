/**
 * A `polypay start` that cannot start ends by itself, promptly, with exit
 * status 1 and one line on standard error saying what to fix (no stack
 * trace): the port is taken, POLYPAY_FX_RATES is malformed, the data dir
 * cannot be used, DATABASE_URL leads nowhere. Before, a start that failed
 * after the database was open printed its error and never exited.
 */
import { chmodSync, existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildPlatform } from '../../src/app.ts';
import { loadConfig } from '../../src/config.ts';
import { createPgDatabase, describeEachBackend, PG_ADMIN_URL, PG_SKIP_REASON, type Backend } from '../support/platform.ts';
import { cleanEnv, runCli, type CliRun } from './run-cli.ts';

/** A start may take this long on a busy machine; a process that has not exited after the limit is hung. */
const LIMIT_MS = 60_000;

/** Exit 1, by itself, with exactly one line on stderr matching `line`, and never "running". */
function expectFailedStart(run: CliRun, line: RegExp): void {
  expect(run.hung, `still running after ${LIMIT_MS} ms: ${run.stderr}`).toBe(false);
  expect(run.code, run.stderr).toBe(1);
  expect(run.stderr.endsWith('\n')).toBe(true);
  const lines = run.stderr.trimEnd().split('\n');
  expect(lines, run.stderr).toHaveLength(1);
  expect(lines[0]).toMatch(/^polypay: cannot start: /);
  expect(lines[0]).toMatch(line);
  expect(run.stdout).not.toContain('polypay is running');
}

const tmpRoot = mkdtempSync(path.join(os.tmpdir(), 'polypay-start-'));
afterAll(() => rmSync(tmpRoot, { recursive: true, force: true }));
let dirs = 0;
const freshDir = () => path.join(tmpRoot, `data-${++dirs}`);

describeEachBackend('polypay start on a port already in use', (backend: Backend) => {
  let blocker: net.Server;
  let port: number;
  let databaseUrl: string | undefined;
  let drop: (() => Promise<void>) | null = null;
  beforeAll(async () => {
    blocker = net.createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    port = (blocker.address() as net.AddressInfo).port;
    if (backend === 'postgres') ({ url: databaseUrl, drop } = await createPgDatabase());
  });
  afterAll(async () => {
    await new Promise((resolve) => blocker?.close(resolve));
    await drop?.();
  });

  it('opens the database, fails to listen, closes everything and exits 1 with one line', async () => {
    const env = cleanEnv(databaseUrl ? { DATABASE_URL: databaseUrl } : {});
    const run = await runCli(['start', '--port', String(port), '--data-dir', freshDir()], { env, limitMs: LIMIT_MS });
    expectFailedStart(run, new RegExp(`127\\.0\\.0\\.1:${port} is already in use .*--port or PORT`));
  }, LIMIT_MS + 10_000);
});

describe('polypay start with a configuration it cannot use', () => {
  it('a malformed POLYPAY_FX_RATES: exits 1 naming the variable and what is wrong', async () => {
    const cases: [string, RegExp][] = [
      ['{"SGD/CNY": 5.30', /POLYPAY_FX_RATES must be a JSON object like \{"SGD\/CNY": "5\.30"\}; it is not valid JSON/],
      ['["SGD/CNY", "5.30"]', /POLYPAY_FX_RATES must be a JSON object/],
      ['{"SGD-CNY": "5.30"}', /POLYPAY_FX_RATES: "SGD-CNY" is not a currency pair like "SGD\/CNY"/],
      ['{"SGD/CNY": "five"}', /POLYPAY_FX_RATES: the rate for SGD\/CNY must be a positive decimal string like "5\.30", not "five"/],
      ['{"SGD/CNY": 5.3}', /the rate for SGD\/CNY must be a positive decimal string/],
      ['{"SGD/CNY": "0"}', /the rate for SGD\/CNY must be a positive decimal string/],
    ];
    const runs = await Promise.all(
      cases.map(([fx]) => runCli(['start', '--port', '0', '--data-dir', freshDir()], { env: cleanEnv({ POLYPAY_FX_RATES: fx }), limitMs: LIMIT_MS })),
    );
    runs.forEach((run, i) => expectFailedStart(run, cases[i]![1]));
  }, 2 * LIMIT_MS);

  it('a DATABASE_URL that is no PostgreSQL URL is refused instead of falling back to SQLite', async () => {
    const dataDir = freshDir();
    const run = await runCli(['start', '--port', '0', '--data-dir', dataDir], { env: cleanEnv({ DATABASE_URL: 'mysql://root@127.0.0.1/polypay' }), limitMs: LIMIT_MS });
    expectFailedStart(run, /DATABASE_URL must be a postgres:\/\/ URL/);
    expect(existsSync(path.join(dataDir, 'polypay.sqlite'))).toBe(false);
  }, LIMIT_MS + 10_000);
});

describe.skipIf(PG_SKIP_REASON !== null)('polypay start with a PostgreSQL it cannot use', () => {
  it('nothing listens on the port in DATABASE_URL: exits 1 at once, naming the address', async () => {
    const closed = net.createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as net.AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve)); // a port that refuses connections
    const run = await runCli(['start', '--port', '0', '--data-dir', freshDir()], { env: cleanEnv({ DATABASE_URL: `postgres://postgres@127.0.0.1:${port}/polypay` }), limitMs: LIMIT_MS });
    expectFailedStart(run, new RegExp(`cannot reach PostgreSQL at 127\\.0\\.0\\.1:${port} \\(ECONNREFUSED\\); check DATABASE_URL`));
  }, LIMIT_MS + 10_000);

  it('the server answers but has no such database: exits 1 with the server\'s reason', async () => {
    const url = new URL(PG_ADMIN_URL);
    url.pathname = '/polypay_no_such_database';
    const run = await runCli(['start', '--port', '0', '--data-dir', freshDir()], { env: cleanEnv({ DATABASE_URL: url.toString() }), limitMs: LIMIT_MS });
    expectFailedStart(run, /PostgreSQL refused: database "polypay_no_such_database" does not exist; check DATABASE_URL/);
  }, LIMIT_MS + 10_000);
});

describe('polypay start with a data dir it cannot use', () => {
  it('a data dir it may not read or write: exits 1 naming the path', async () => {
    // root reads everything: the start then runs as an unprivileged user ("nobody"), which may not enter the directory.
    const asRoot = process.getuid?.() === 0;
    const parent = mkdtempSync(path.join(tmpRoot, 'locked-'));
    const dataDir = path.join(parent, 'data');
    mkdirSync(dataDir);
    chmodSync(asRoot ? parent : dataDir, asRoot ? 0o700 : 0o000);
    try {
      const run = await runCli(['start', '--port', '0', '--data-dir', dataDir], { env: cleanEnv(), limitMs: LIMIT_MS, spawn: asRoot ? { uid: 65534, gid: 65534 } : {} });
      expectFailedStart(run, new RegExp(`the data dir is not usable: permission denied on ${dataDir.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}.*--data-dir or POLYPAY_DATA_DIR`));
    } finally {
      chmodSync(dataDir, 0o700);
    }
  }, LIMIT_MS + 10_000);
});

describeEachBackend('a platform that cannot be built', (backend: Backend) => {
  it('closes the database it opened: no SQLite WAL left open, no PostgreSQL connection left', async () => {
    const dataDir = freshDir();
    const db = backend === 'postgres' ? await createPgDatabase() : null;
    try {
      // An FX table the simulator refuses (the CLI refuses it earlier, from POLYPAY_FX_RATES): building fails after the store opened.
      const config = loadConfig({}, { dataDir, port: 0, logLevel: 'warn', databaseUrl: db?.url, fxRates: { 'SGD-CNY': '5' } });
      await expect(buildPlatform(config)).rejects.toThrow(/invalid FX rate: "SGD-CNY" is not a currency pair/);
      if (backend === 'sqlite') {
        expect(existsSync(path.join(dataDir, 'polypay.sqlite'))).toBe(true);
        expect(existsSync(path.join(dataDir, 'polypay.sqlite-wal'))).toBe(false); // SQLite removes the WAL when its last connection closes
      } else {
        const admin = new pg.Client({ connectionString: PG_ADMIN_URL });
        await admin.connect();
        try {
          const rows = await admin.query('select count(*)::int as n from pg_stat_activity where datname = $1', [new URL(db!.url).pathname.slice(1)]);
          expect(rows.rows[0].n).toBe(0);
        } finally {
          await admin.end();
        }
      }
    } finally {
      await db?.drop();
    }
  }, LIMIT_MS);
});

/**
 * The SQLite store's group commit: units that arrive together share one
 * transaction, each under its own savepoint, and a unit's promise settles only
 * once its commit is on disk. What a settled unit wrote is there for the next
 * reader, also after the process is killed right after.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { openSqliteStore, WalSyncer } from '../../src/store/sqlite/sqlite-store.ts';
import type { Store } from '../../src/store/store.ts';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const dirs: string[] = [];
const stores: Store[] = [];

async function open(dir = mkdtempSync(path.join(os.tmpdir(), 'polypay-store-'))): Promise<{ store: Store; dir: string }> {
  dirs.push(dir);
  const store = await openSqliteStore(dir);
  stores.push(store);
  return { store, dir };
}

const putKey = (store: Store, key: string) =>
  store.unit((db) =>
    db
      .insertInto('idempotency_keys')
      .values({ merchant_id: 'M1', scope: 'test', key, request_hash: 'h', state: 'done', response_status: 200, response_body: key, created_at: 0, expires_at: 1 })
      .execute(),
  );

const keys = async (store: Store) =>
  (await store.read.selectFrom('idempotency_keys').select('key').where('scope', '=', 'test').orderBy('key').execute()).map((r) => r.key);

afterEach(async () => {
  for (const s of stores.splice(0)) await s.close().catch(() => {});
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe('SQLite group commit', () => {
  it('units submitted together commit together, and a failing unit rolls back alone', async () => {
    const { store } = await open();
    const results = await Promise.allSettled([
      putKey(store, 'a'),
      store.unit(async (db) => {
        await db.insertInto('idempotency_keys').values({ merchant_id: 'M1', scope: 'test', key: 'b', request_hash: 'h', state: 'done', response_status: 200, response_body: 'b', created_at: 0, expires_at: 1 }).execute();
        throw new Error('refused after writing');
      }),
      putKey(store, 'c'),
      putKey(store, 'a'), // primary key conflict: fails alone
    ]);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled', 'rejected']);
    expect((results[1] as PromiseRejectedResult).reason.message).toBe('refused after writing');
    expect(await keys(store)).toEqual(['a', 'c']);
  });

  it('what a settled unit wrote is visible to the next read, and survives reopening', async () => {
    const { store, dir } = await open();
    for (let i = 0; i < 50; i++) {
      await putKey(store, `k${String(i).padStart(2, '0')}`);
      expect(await keys(store)).toHaveLength(i + 1);
    }
    await store.close();
    stores.pop();
    const { store: again } = await open(dir);
    expect(await keys(again)).toHaveLength(50);
  });

  it('every unit acknowledged before the process is killed is there afterwards', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'polypay-store-'));
    dirs.push(dir);
    const script = path.join(dir, 'writer.mts');
    writeFileSync(
      script,
      `import { openSqliteStore } from ${JSON.stringify(path.join(root, 'src/store/sqlite/sqlite-store.ts'))};
const store = await openSqliteStore(${JSON.stringify(dir)});
let n = 0;
const write = async () => {
  for (;;) {
    const key = 'k' + n++;
    await store.unit((db) => db.insertInto('idempotency_keys').values({ merchant_id: 'M1', scope: 'test', key, request_hash: 'h', state: 'done', response_status: 200, response_body: key, created_at: 0, expires_at: 1 }).execute());
    process.stdout.write(key + '\\n');
  }
};
for (let i = 0; i < 20; i++) void write();
`,
    );
    const child = spawn(process.execPath, ['--import', 'tsx', script], { cwd: root, stdio: ['ignore', 'pipe', 'inherit'] });
    const acked: string[] = [];
    let buffer = '';
    await new Promise<void>((resolve) => {
      child.stdout.on('data', (chunk: Buffer) => {
        buffer += chunk.toString();
        const lines = buffer.split('\n');
        buffer = lines.pop()!;
        acked.push(...lines);
        if (acked.length >= 2000 && !child.killed) {
          child.kill('SIGKILL');
          resolve();
        }
      });
      child.once('exit', () => resolve());
    });
    if (child.exitCode === null) await new Promise((r) => child.once('exit', r));
    expect(acked.length).toBeGreaterThanOrEqual(2000);
    const { store } = await open(dir);
    const stored = new Set(await keys(store));
    expect(acked.filter((k) => !stored.has(k))).toEqual([]);
  }, 30_000);

  it('after a failed fsync every unit fails, even if a later fsync would succeed', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'polypay-store-'));
    dirs.push(dir);
    const syncer = new WalSyncer(path.join(dir, 'missing-wal')); // cannot be opened: the fsync fails
    const first = await new Promise<unknown>((resolve) => syncer.afterCommit(resolve));
    expect(String(first)).toMatch(/could not be synced/);
    writeFileSync(path.join(dir, 'missing-wal'), ''); // now it could be
    const second = await new Promise<unknown>((resolve) => syncer.afterCommit(resolve));
    expect(second).toBe(first);
    await expect(syncer.durable()).rejects.toBe(first);
  });

  it('closing waits for the fsync in flight, and a unit submitted after close is refused', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'polypay-store-'));
    dirs.push(dir);
    const wal = path.join(dir, 'wal');
    writeFileSync(wal, 'frames');
    const syncer = new WalSyncer(wal);
    const synced = new Promise<unknown>((resolve) => syncer.afterCommit(resolve));
    await syncer.close(); // the fsync started by afterCommit is still running: close must not pull its file away
    expect(await synced).toBeUndefined();

    const { store } = await open();
    const pending = [putKey(store, 'before-close-1'), putKey(store, 'before-close-2')];
    await store.close();
    stores.pop();
    await expect(Promise.all(pending)).resolves.toHaveLength(2);
    await expect(putKey(store, 'after-close')).rejects.toThrow('the store is closed');
  });
});

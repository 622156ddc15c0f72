/**
 * Writes a unit does not wait for (PostgreSQL sends them with the unit's
 * next statement or its COMMIT, merged into as few statements as it can):
 * they commit with the unit, and any of them failing fails the whole unit
 * with that write's own error, on both databases. And the PostgreSQL
 * session settings the store pins.
 */
import os from 'node:os';
import { sql } from 'kysely';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { insertRow, insertRows, selectRow, sendUpdate, updateOneRow } from '../../src/store/compiled.ts';
import { openStore, type Db, type Store } from '../../src/store/store.ts';
import { createPgDatabase, describeEachBackend, openTestStore, PG_ADMIN_URL, PG_SKIP_REASON } from '../support/platform.ts';

const M = 'M-unit-writes';
const ref = (reference: string, objectId = `obj-${reference}`) => ({ merchant_id: M, scope: 'test', reference, object_id: objectId, created_at: 1 });
const key = (reference: string) => ({ merchant_id: M, scope: 'test', reference });

class Stale extends Error {}

describeEachBackend('writes sent without waiting', (backend) => {
  let store: Store;
  let remove: () => Promise<void> | void;

  beforeAll(async () => {
    ({ store, remove } = await openTestStore(backend, 'polypay-unit-writes-'));
  });

  afterAll(async () => {
    await store?.close();
    await remove?.();
  });

  const stored = async (reference: string) => (await selectRow<{ object_id: string }>(store.read, 'merchant_references', key(reference)))?.object_id ?? null;

  it('commit with their unit, in order, and a read in the unit sees them', async () => {
    const seen = await store.unit(async (db: Db) => {
      await insertRow(db, 'merchant_references', ref('a'));
      await insertRows(db, 'merchant_references', [ref('b'), ref('c')]);
      await sendUpdate(db, 'merchant_references', { object_id: 'a2' }, key('a'));
      await insertRow(db, 'platform_counters', { name: 'unit-writes', value: 1 });
      await updateOneRow(db, 'merchant_references', { object_id: 'b2' }, key('b'), () => new Stale());
      return (await selectRow<{ object_id: string }>(db, 'merchant_references', key('a')))?.object_id;
    });
    expect(seen).toBe('a2');
    expect([await stored('a'), await stored('b'), await stored('c')]).toEqual(['a2', 'b2', 'obj-c']);
  });

  it('a failed insert fails the unit with its own error, and nothing of the unit commits', async () => {
    const failed = store.unit(async (db: Db) => {
      await insertRow(db, 'merchant_references', ref('d'));
      await insertRow(db, 'merchant_references', ref('a', 'again'));
      await insertRow(db, 'merchant_references', ref('e'));
      // A read after the failed write: it cannot hide the write's error.
      await selectRow(db, 'merchant_references', key('d'));
    });
    await expect(failed).rejects.toThrow(/unique|duplicate/i);
    expect([await stored('a'), await stored('d'), await stored('e')]).toEqual(['a2', null, null]);
  });

  it('an update that must change one row and changes none fails the unit with its error, and nothing commits', async () => {
    const failed = store.unit(async (db: Db) => {
      await insertRow(db, 'merchant_references', ref('f'));
      await updateOneRow(db, 'merchant_references', { object_id: 'x' }, key('missing'), () => new Stale('stale'));
      await insertRow(db, 'merchant_references', ref('g'));
      await sendUpdate(db, 'merchant_references', { object_id: 'c2' }, key('c'));
    });
    await expect(failed).rejects.toBeInstanceOf(Stale);
    expect([await stored('c'), await stored('f'), await stored('g')]).toEqual(['obj-c', null, null]);
  });

  it('an error of the unit itself rolls back what it sent', async () => {
    const failed = store.unit(async (db: Db) => {
      await insertRow(db, 'merchant_references', ref('h'));
      await selectRow(db, 'merchant_references', key('a'));
      await insertRow(db, 'merchant_references', ref('i'));
      throw new Error('refused');
    });
    await expect(failed).rejects.toThrow('refused');
    expect([await stored('h'), await stored('i')]).toEqual([null, null]);
    // The connection is as good as new afterwards.
    await store.unit((db: Db) => insertRow(db, 'merchant_references', ref('j')));
    expect(await stored('j')).toBe('obj-j');
  });
});

describe.skipIf(PG_SKIP_REASON !== null)('PostgreSQL session settings', () => {
  it('commits durably at READ COMMITTED whatever the database defaults say', async () => {
    const db = await createPgDatabase();
    const name = new URL(db.url).pathname.slice(1);
    const admin = new pg.Client({ connectionString: PG_ADMIN_URL });
    await admin.connect();
    try {
      await admin.query(`alter database ${name} set synchronous_commit = off`);
      await admin.query(`alter database ${name} set default_transaction_isolation = 'serializable'`);
    } finally {
      await admin.end();
    }
    const store = await openStore({ databaseUrl: db.url, dataDir: os.tmpdir() });
    try {
      const settings = sql<{ sc: string; iso: string }>`select current_setting('synchronous_commit') as sc, current_setting('transaction_isolation') as iso`;
      expect((await store.unit((tx: Db) => settings.execute(tx))).rows).toEqual([{ sc: 'on', iso: 'read committed' }]);
      expect((await settings.execute(store.read)).rows).toEqual([{ sc: 'on', iso: 'read committed' }]);
    } finally {
      await store.close();
      await db.drop();
    }
  });
});

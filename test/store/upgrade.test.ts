/**
 * A database written by an earlier release is upgraded in place when the
 * platform starts: migrations that change indexes (005: partial indexes for
 * the sweeps; 014: covering indexes for the dashboard) must keep finding
 * the rows that were there before.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { Kysely, PostgresDialect, SqliteDialect } from 'kysely';
import pg from 'pg';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { paymentStats } from '../../src/store/payment-stats-repo.ts';
import { paymentsStore } from '../../src/store/payments-repo.ts';
import { migrate, openStore, type Store } from '../../src/store/store.ts';
import { createPgDatabase, describeEachBackend } from '../support/platform.ts';

const NOW = Date.UTC(2026, 0, 15);
const HOUR = 3_600_000;

const intent = (id: string, status: string, expiresAt: number) => ({
  id,
  merchant_id: 'M1',
  amount: 1000,
  currency: 'SGD',
  status,
  captured_amount: 0,
  client_secret: `secret-${id}`,
  expires_at: expiresAt,
  created_at: expiresAt - HOUR / 2,
  updated_at: expiresAt - HOUR / 2,
});

const attempt = (id: string, status: string, updatedAt: number, walletToken: string | null = null) => ({
  id,
  intent_id: 'PI1',
  merchant_id: 'M1',
  amount: 1000,
  currency: 'SGD',
  status,
  captured_amount: 0,
  refunded_amount: 0,
  auto_capture: 1,
  payment_method: '{"type":"card"}',
  created_at: updatedAt,
  updated_at: updatedAt,
  wallet_token: walletToken,
});

describeEachBackend('a database of the previous schema, upgraded at start', (backend) => {
  let store: Store;
  const cleanups: Array<() => Promise<void> | void> = [];
  let open: () => Promise<Store>;

  beforeAll(async () => {
    // The schema as release 004 left it, with rows the sweeps must still find.
    let old: Kysely<any>;
    if (backend === 'postgres') {
      const db = await createPgDatabase();
      cleanups.push(db.drop);
      old = new Kysely({ dialect: new PostgresDialect({ pool: new pg.Pool({ connectionString: db.url, max: 1 }) }) });
      open = () => openStore({ databaseUrl: db.url, dataDir: os.tmpdir() });
    } else {
      const dir = mkdtempSync(path.join(os.tmpdir(), 'polypay-upgrade-'));
      cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
      old = new Kysely({ dialect: new SqliteDialect({ database: new BetterSqlite3(path.join(dir, 'polypay.sqlite')) }) });
      open = () => openStore({ dataDir: dir });
    }
    await migrate(old, backend, '004_intent_version');
    await old
      .insertInto('payment_intents')
      .values([intent('PI1', 'REQUIRES_PAYMENT_METHOD', NOW - HOUR), intent('PI2', 'REQUIRES_CUSTOMER_ACTION', NOW - 1), intent('PI3', 'SUCCEEDED', NOW - HOUR), intent('PI4', 'REQUIRES_PAYMENT_METHOD', NOW + HOUR)])
      .execute();
    await old
      .insertInto('payment_attempts')
      .values([attempt('PA1', 'INITIATED', NOW - HOUR), attempt('PA2', 'PENDING_AUTHORIZATION', NOW - HOUR, 'W1'), attempt('PA3', 'SUCCEEDED', NOW - HOUR), attempt('PA4', 'INITIATED', NOW + HOUR)])
      .execute();
    await old.updateTable('payment_attempts').set({ payment_method: '{"type":"wallet","wallet":{"kind":"alipaycn","flow":"qrcode"}}' }).where('id', '=', 'PA2').execute();
    const refund = (id: string, status: string, updatedAt: number) => ({
      id,
      merchant_id: 'M1',
      intent_id: 'PI3',
      attempt_id: 'PA3',
      amount: 100,
      currency: 'SGD',
      status,
      reason: 'requested_by_customer',
      created_at: updatedAt,
      updated_at: updatedAt,
    });
    await old.insertInto('refunds').values([refund('RF1', 'PROCESSING', NOW - HOUR), refund('RF2', 'SUCCEEDED', NOW - HOUR), refund('RF3', 'PROCESSING', NOW + HOUR)]).execute();
    await old.destroy();
    store = await open();
  });

  afterAll(async () => {
    await store?.close();
    for (const c of cleanups.reverse()) await c();
  });

  it('the expiry sweep finds the unpaid intents past their expiry, and only those', async () => {
    const due = await paymentsStore(store).reads.expiredIntents(NOW, 100);
    expect(due.map((d) => d.id).sort()).toEqual(['PI1', 'PI2']);
  });

  it('the recovery sweep finds the attempts left in flight, and only those', async () => {
    const stranded = await paymentsStore(store).reads.attemptsInFlight(NOW, 100);
    expect(stranded.map((a) => a.id).sort()).toEqual(['PA1', 'PA2']);
  });

  it('the recovery sweep finds the refunds left in flight, and only those', async () => {
    const stranded = await paymentsStore(store).reads.refundsInFlight(NOW, 100);
    expect(stranded.map((r) => r.id)).toEqual(['RF1']);
  });

  it("the dashboard's totals count the attempts made before, under their method (014)", async () => {
    const totals = await paymentStats(store).dailyByMethod(['M1'], 0);
    const attempts = (method: string) => totals.filter((t) => t.key === method).reduce((n, t) => n + t.attempted, 0);
    expect([attempts('card'), attempts('alipaycn'), attempts('unknown')]).toEqual([3, 1, 0]);
  });

  it('a wallet token stays unique; attempts without one are not limited', async () => {
    await store.unit((db) => db.insertInto('payment_attempts').values([attempt('PA5', 'SUCCEEDED', NOW), attempt('PA6', 'SUCCEEDED', NOW)]).execute());
    await expect(store.unit((db) => db.insertInto('payment_attempts').values(attempt('PA7', 'INITIATED', NOW, 'W1')).execute())).rejects.toThrow(/unique|UNIQUE/);
    const found = await paymentsStore(store).reads.attemptByWalletToken('W1');
    expect(found?.id).toBe('PA2');
  });

  it('a second start finds nothing left to migrate', async () => {
    await store.close();
    store = await open();
    expect((await paymentsStore(store).reads.expiredIntents(NOW, 100)).length).toBe(2);
  });
});

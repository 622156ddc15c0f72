/**
 * Merchants written by a release that kept their secrets in plain text are
 * sealed with the platform key when a newer polypay starts (migration 010),
 * on both databases, and keep working: same secrets read back, lookups by
 * client id and app code unchanged, not active-disabled.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { Kysely, PostgresDialect, SqliteDialect } from 'kysely';
import pg from 'pg';
import { afterAll, expect, it } from 'vitest';
import { SecretBox } from '../../src/core/secret-box.ts';
import { merchantRepository } from '../../src/store/merchants-repo.ts';
import { migrate, openStore, type Store } from '../../src/store/store.ts';
import { createPgDatabase, describeEachBackend, type Backend } from '../support/platform.ts';

const plainMerchant = (id: string) => ({
  id,
  name: `Merchant ${id}`,
  parent_id: null,
  webhook_url: null,
  uqpay_client_id: `client-${id}`,
  uqpay_api_key_hash: 'ab'.repeat(32),
  uqpay_webhook_secret: `whsec_plain_${id}_0123456789`,
  alphapay_merchant_code: `AP${id}`,
  alphapay_merchant_public_key: 'MIIBpublic',
  alphapay_platform_private_key: `MIIEprivate_${id}_0123456789`,
  alphapay_platform_public_key: 'MIIBplatformpublic',
  qfpay_app_code: `APPCODE${id}`,
  qfpay_client_key: `CLIENTKEY${id}0123456789ABCDEF`,
  created_at: Date.UTC(2026, 0, 1),
});

describeEachBackend('merchant secrets, upgraded from plain text at start', (backend: Backend) => {
  const cleanups: Array<() => Promise<void> | void> = [];
  afterAll(async () => {
    for (const c of cleanups.reverse()) await c();
  });

  /** A database as release 006 left it, holding the merchants given; returns how to open it now. */
  async function oldDatabase(rows: ReturnType<typeof plainMerchant>[]): Promise<(secrets?: SecretBox) => Promise<Store>> {
    let old: Kysely<any>;
    let open: (secrets?: SecretBox) => Promise<Store>;
    if (backend === 'postgres') {
      const db = await createPgDatabase();
      cleanups.push(db.drop);
      old = new Kysely({ dialect: new PostgresDialect({ pool: new pg.Pool({ connectionString: db.url, max: 1 }) }) });
      open = (secrets) => openStore({ databaseUrl: db.url, dataDir: os.tmpdir(), secrets });
    } else {
      const dir = mkdtempSync(path.join(os.tmpdir(), 'polypay-secrets-upgrade-'));
      cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
      old = new Kysely({ dialect: new SqliteDialect({ database: new BetterSqlite3(path.join(dir, 'polypay.sqlite')) }) });
      open = (secrets) => openStore({ dataDir: dir, secrets });
    }
    await migrate(old, backend, '006_platform_counters');
    if (rows.length) await old.insertInto('merchants').values(rows).execute();
    await old.destroy();
    return open;
  }

  it('seals every stored secret once, and reads them back as they were', async () => {
    const rows = [plainMerchant('M1'), plainMerchant('M2')];
    const open = await oldDatabase(rows);
    const box = new SecretBox(randomBytes(32));
    let store = await open(box);
    try {
      const raw = JSON.stringify(await store.read.selectFrom('merchants').selectAll().execute());
      for (const r of rows) {
        for (const secret of [r.uqpay_webhook_secret, r.qfpay_client_key, r.alphapay_platform_private_key]) expect(raw).not.toContain(secret);
        expect(raw).toContain(r.qfpay_app_code);
      }
      // A second start finds nothing left to migrate: the secrets are sealed once, not twice.
      await store.close();
      store = await open(box);
      const repo = merchantRepository(store, box);
      for (const r of rows) {
        const m = (await repo.byQfpayAppCode(r.qfpay_app_code))!;
        expect(m.id).toBe(r.id);
        expect(m.qfpay.clientKey).toBe(r.qfpay_client_key);
        expect(m.uqpay.webhookSecret).toBe(r.uqpay_webhook_secret);
        expect(m.alphapay.platformPrivateKey).toBe(r.alphapay_platform_private_key);
        expect(m.disabledAt).toBeNull();
        expect((await repo.byUqpayClientId(r.uqpay_client_id))?.id).toBe(r.id);
      }
    } finally {
      await store.close();
    }
  });

  it('refuses to upgrade merchants without the platform key, rather than leave their secrets in clear', async () => {
    const open = await oldDatabase([plainMerchant('M3')]);
    await expect(open()).rejects.toThrow(/encryption key/);
  });
});

/**
 * `polypay merchant disable` against a running server, and the start banner:
 * a disabled merchant's tokens stop working, and the demo merchant's
 * credentials are printed once, when it is created, never at a restart.
 */
import { execFile, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { describeEachBackend, startPlatform, UqpayClient, type TestPlatform } from '../support/platform.ts';

const run = promisify(execFile);
const bin = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../bin/polypay.js');
/** Each CLI run starts a fresh node that loads the TypeScript sources: seconds on a busy machine. */
const CLI_TIMEOUT = 120_000;

/** The environment with none of the variables that would point the CLI elsewhere. */
function cleanEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  const { DATABASE_URL: _d, POLYPAY_DATA_DIR: _p, POLYPAY_ENCRYPTION_KEY: _e, POLYPAY_JWT_SECRET: _j, PORT: _port, ...env } = process.env;
  return { ...env, ...extra };
}

describeEachBackend('polypay merchant disable, while the server runs', (backend) => {
  let tp: TestPlatform;
  let env: NodeJS.ProcessEnv;
  beforeAll(async () => {
    tp = await startPlatform(backend);
    env = cleanEnv({ POLYPAY_DATA_DIR: tp.dataDir, ...(tp.databaseUrl ? { DATABASE_URL: tp.databaseUrl } : {}) });
  });
  afterAll(async () => tp?.close());

  it('disables the merchant and its sub-merchants: their tokens are refused within a second or two', { timeout: CLI_TIMEOUT }, async () => {
    const shop = await UqpayClient.create(tp, { name: 'CLI Closing Shop' });
    const branchCreds = await tp.platform.merchants.createSubMerchant(shop.credentials.merchant_id, { name: 'CLI Branch' });
    const branch = new UqpayClient(tp.baseUrl, branchCreds);
    await branch.authenticate();
    const other = await UqpayClient.create(tp, { name: 'CLI Other Shop' });
    for (const c of [shop, branch, other]) expect((await c.get('/v2/payment_intents')).status).toBe(200);

    const { stdout, stderr } = await run(process.execPath, [bin, 'merchant', 'disable', shop.credentials.merchant_id], { env });
    expect(stderr).toBe('');
    expect(stdout.trim()).toBe(`merchant ${shop.credentials.merchant_id} disabled, with its sub-merchants ${branchCreds.merchant_id}`);
    const done = Date.now();
    for (const c of [shop, branch]) {
      let r = await c.get('/v2/payment_intents');
      while (r.status === 200 && Date.now() - done < 5000) {
        await new Promise((f) => setTimeout(f, 100));
        r = await c.get('/v2/payment_intents');
      }
      expect(r.status, r.text).toBe(401);
      expect(r.body).toMatchObject({ type: 'unauthorized_error', code: 'merchant_disabled' });
    }
    expect(Date.now() - done).toBeLessThan(2500);
    await expect(shop.authenticate()).rejects.toThrow(/merchant_disabled/);
    expect((await other.get('/v2/payment_intents')).status).toBe(200);

    const again = await run(process.execPath, [bin, 'merchant', 'disable', shop.credentials.merchant_id], { env });
    expect(again.stdout.trim()).toBe(`merchant ${shop.credentials.merchant_id} was already disabled`);
  });

  it('answers an unknown merchant with exit code 1 and a missing id with usage and exit code 2', { timeout: CLI_TIMEOUT }, async () => {
    await expect(run(process.execPath, [bin, 'merchant', 'disable', 'M404'], { env })).rejects.toMatchObject({ code: 1, stderr: expect.stringContaining('merchant M404 not found') });
    await expect(run(process.execPath, [bin, 'merchant', 'disable'], { env })).rejects.toMatchObject({ code: 2, stderr: expect.stringContaining('polypay merchant disable MERCHANT_ID') });
  });
});

/** Runs `polypay start` until its banner is out, then stops it; returns everything it wrote. */
async function startOnce(dataDir: string): Promise<string> {
  const child = spawn(process.execPath, [bin, 'start', '--port', '0', '--data-dir', dataDir], { env: cleanEnv({ LOG_LEVEL: 'info' }), stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (d) => (out += d));
  child.stderr.on('data', (d) => (out += d));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  try {
    const deadline = Date.now() + 90_000;
    while (!/polypay is running[\s\S]*\n\n/.test(out)) {
      if (Date.now() > deadline || child.exitCode !== null) throw new Error(`no banner: ${out}`);
      await new Promise((f) => setTimeout(f, 100));
    }
  } finally {
    child.kill('SIGTERM');
  }
  expect(await exited).toBe(0);
  return out;
}

describe('polypay start: the demo merchant', () => {
  const root = mkdtempSync(path.join(os.tmpdir(), 'polypay-banner-'));
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it('prints its credentials on the first start only; later starts print its id and where the credentials are', { timeout: 3 * CLI_TIMEOUT }, async () => {
    const dataDir = path.join(root, 'data');
    const first = await startOnce(dataDir);
    const demoFile = path.join(dataDir, 'demo-merchant.json');
    const demo = JSON.parse(readFileSync(demoFile, 'utf8'));
    const secrets = [demo.uqpay.api_key, demo.uqpay.webhook_secret, demo.qfpay.client_key, demo.dashboard.password];
    for (const s of secrets) expect(first).toContain(s);
    // The demo merchant's dashboard admin: printed with the credentials, kept in the same owner-only file.
    expect(demo.dashboard).toEqual({ email: 'demo@polypay.example', password: expect.stringMatching(/^[A-Za-z0-9]{22}$/), role: 'admin' });
    expect(first).toMatch(/dashboard: +http:\/\/127\.0\.0\.1:\d+\/dashboard\n +email: +demo@polypay\.example\n +password: +\w{22}/);
    expect((statSync(demoFile).mode & 0o777).toString(8)).toBe('600');
    expect((statSync(dataDir).mode & 0o777).toString(8)).toBe('700');

    const second = await startOnce(dataDir);
    expect(second).toContain(`demo merchant:   ${demo.merchant_id} (credentials in ${demoFile})`);
    expect(second).toContain(`demo login in ${demoFile} (demo@polypay.example)`);
    for (const s of [...secrets, demo.uqpay.client_id, demo.qfpay.app_code]) expect(second).not.toContain(s);
  });
});

import { execFile } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { AlphapayClient } from '../support/alphapay.ts';
import { describeEachBackend, startPlatform, type TestPlatform } from '../support/platform.ts';

const run = promisify(execFile);
/** Each run is a process of its own, loading TypeScript: seconds apiece on a busy machine. */
const CLI_TIMEOUT_MS = 120_000;
const bin = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../bin/polypay.js');

describeEachBackend('polypay merchant create, while the server runs', (backend) => {
  let tp: TestPlatform;
  beforeAll(async () => {
    tp = await startPlatform(backend);
  });
  afterAll(async () => tp?.close());

  it('prints exactly one JSON object whose credentials work against the running server', async () => {
    const env = { ...process.env, POLYPAY_DATA_DIR: tp.dataDir, ...(tp.databaseUrl ? { DATABASE_URL: tp.databaseUrl } : {}) };
    const { stdout, stderr } = await run(process.execPath, [bin, 'merchant', 'create', '--name', 'Shop', '--webhook-url', 'http://127.0.0.1:9/hooks', '--json'], { env });
    expect(stderr).toBe('');
    const lines = stdout.trim().split('\n');
    expect(lines).toHaveLength(1);
    const created = JSON.parse(lines[0]!);
    expect(Object.keys(created).sort()).toEqual(['alphapay', 'merchant_id', 'qfpay', 'uqpay']);
    expect(Object.keys(created.uqpay).sort()).toEqual(['api_key', 'client_id', 'webhook_secret']);
    expect(Object.keys(created.alphapay).sort()).toEqual(['credential_code', 'merchant_code', 'merchant_private_key', 'platform_public_key']);
    expect(Object.keys(created.qfpay).sort()).toEqual(['app_code', 'client_key']);
    // Keys are base64 DER: PKCS8 private, SubjectPublicKeyInfo public.
    const { createPrivateKey, createPublicKey } = await import('node:crypto');
    expect(createPrivateKey({ key: Buffer.from(created.alphapay.merchant_private_key, 'base64'), format: 'der', type: 'pkcs8' }).asymmetricKeyType).toBe('rsa');
    expect(createPublicKey({ key: Buffer.from(created.alphapay.platform_public_key, 'base64'), format: 'der', type: 'spki' }).asymmetricKeyType).toBe('rsa');

    const token = await fetch(`${tp.baseUrl}/api/v1/connect/token`, {
      method: 'POST',
      headers: { 'x-client-id': created.uqpay.client_id, 'x-api-key': created.uqpay.api_key },
    });
    expect(token.status).toBe(200);
    const merchant = await tp.platform.merchants.byId(created.merchant_id);
    expect(merchant?.webhookUrl).toBe('http://127.0.0.1:9/hooks');
    // The AlphaPay keys sign a request the server verifies, and its answer verifies with the platform key.
    const inquiry = await new AlphapayClient(tp.baseUrl, created.alphapay).send('inquiryPayment', { paymentId: 'PI0' });
    expect(inquiry.body.result.resultCode, inquiry.text).toBe('ORDER_NOT_EXIST');
    expect(inquiry.signed).toBe(true);
  }, CLI_TIMEOUT_MS);

  it('registers a merchant\'s own AlphaPay public key from a file (alphapay-key)', async () => {
    const env = { ...process.env, POLYPAY_DATA_DIR: tp.dataDir, ...(tp.databaseUrl ? { DATABASE_URL: tp.databaseUrl } : {}) };
    const created = JSON.parse((await run(process.execPath, [bin, 'merchant', 'create', '--name', 'Own Key Shop', '--json'], { env })).stdout);
    const { generateKeyPairSync } = await import('node:crypto');
    const { mkdtempSync, writeFileSync, rmSync } = await import('node:fs');
    const os = await import('node:os');
    const own = generateKeyPairSync('rsa', { modulusLength: 2048, privateKeyEncoding: { format: 'der', type: 'pkcs8' }, publicKeyEncoding: { format: 'pem', type: 'spki' } });
    const dir = mkdtempSync(path.join(os.tmpdir(), 'polypay-key-'));
    try {
      const file = path.join(dir, 'public.pem');
      writeFileSync(file, own.publicKey);
      await run(process.execPath, [bin, 'merchant', 'alphapay-key', '--merchant', created.merchant_id, '--public-key-file', file], { env });
      const client = new AlphapayClient(tp.baseUrl, { ...created.alphapay, merchant_private_key: own.privateKey.toString('base64') });
      expect((await client.send('inquiryPayment', { paymentId: 'PI0' })).body.result.resultCode).toBe('ORDER_NOT_EXIST');
      expect((await new AlphapayClient(tp.baseUrl, created.alphapay).send('inquiryPayment', { paymentId: 'PI0' })).body.result.resultCode).toBe('SIGNATURE_INVALID');
      writeFileSync(file, 'not a key');
      await expect(run(process.execPath, [bin, 'merchant', 'alphapay-key', '--merchant', created.merchant_id, '--public-key-file', file], { env })).rejects.toMatchObject({ code: 1 });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 120_000);

  it('creates a sub-merchant under --parent, usable through the parent (x-on-behalf-of)', async () => {
    const env = { ...process.env, POLYPAY_DATA_DIR: tp.dataDir, ...(tp.databaseUrl ? { DATABASE_URL: tp.databaseUrl } : {}) };
    const parent = JSON.parse((await run(process.execPath, [bin, 'merchant', 'create', '--name', 'Group', '--json'], { env })).stdout);
    const sub = JSON.parse((await run(process.execPath, [bin, 'merchant', 'create', '--name', 'Branch', '--parent', parent.merchant_id, '--json'], { env })).stdout);
    expect((await tp.platform.merchants.byId(sub.merchant_id))?.parentId).toBe(parent.merchant_id);
    const token = await fetch(`${tp.baseUrl}/api/v1/connect/token`, {
      method: 'POST',
      headers: { 'x-client-id': parent.uqpay.client_id, 'x-api-key': parent.uqpay.api_key },
    });
    const { auth_token } = (await token.json()) as { auth_token: string };
    const list = await fetch(`${tp.baseUrl}/api/v2/payment_intents`, { headers: { 'x-auth-token': `Bearer ${auth_token}`, 'x-on-behalf-of': sub.merchant_id } });
    expect(list.status).toBe(200);
    await expect(run(process.execPath, [bin, 'merchant', 'create', '--name', 'Orphan', '--parent', 'M404', '--json'], { env })).rejects.toMatchObject({ code: 1 });
  }, CLI_TIMEOUT_MS);

  it('says so on stderr when it has to create the database (a data dir no server uses)', async () => {
    if (backend !== 'sqlite') return; // PostgreSQL: the database is the server's by its URL
    const { mkdtempSync, rmSync } = await import('node:fs');
    const os = await import('node:os');
    const empty = mkdtempSync(path.join(os.tmpdir(), 'polypay-cli-'));
    try {
      const { DATABASE_URL: _url, ...env } = process.env;
      const { stdout, stderr } = await run(process.execPath, [bin, 'merchant', 'create', '--name', 'Elsewhere', '--data-dir', empty, '--json'], { env });
      expect(stderr).toMatch(/no database in .* yet: creating one/);
      expect(JSON.parse(stdout).merchant_id).toMatch(/^M\d+$/);
    } finally {
      rmSync(empty, { recursive: true, force: true });
    }
  }, CLI_TIMEOUT_MS);

  it('refuses a missing name with a usage message and exit code 2', async () => {
    const env = { ...process.env, POLYPAY_DATA_DIR: tp.dataDir, ...(tp.databaseUrl ? { DATABASE_URL: tp.databaseUrl } : {}) };
    await expect(run(process.execPath, [bin, 'merchant', 'create', '--json'], { env })).rejects.toMatchObject({ code: 2 });
  }, CLI_TIMEOUT_MS);
});

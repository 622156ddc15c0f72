/**
 * `polypay user create`: a dashboard user with a generated password printed
 * once, which signs in to the running server's dashboard; misuse and
 * unknown merchants answered as the rest of the CLI answers them.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DashboardClient, signIn, submitSignIn } from '../support/dashboard.ts';
import { startPlatform, type TestPlatform } from '../support/platform.ts';
import { cleanEnv, runCli } from './run-cli.ts';

const CLI_TIMEOUT = 120_000;

describe('polypay user create', () => {
  let tp: TestPlatform;
  let merchantId: string;
  let env: NodeJS.ProcessEnv;
  beforeAll(async () => {
    tp = await startPlatform('sqlite');
    merchantId = (await tp.platform.merchants.create({ name: 'CLI Shop' })).merchant_id;
    env = cleanEnv({ POLYPAY_DATA_DIR: tp.dataDir });
  });
  afterAll(async () => tp?.close());

  it('--json prints exactly one line whose password signs in to the running server', { timeout: CLI_TIMEOUT }, async () => {
    const r = await runCli(['user', 'create', '--merchant', merchantId, '--email', 'Ops@CLI-Shop.example', '--json'], { env, limitMs: CLI_TIMEOUT });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toBe('');
    const lines = r.stdout.trim().split('\n');
    expect(lines).toHaveLength(1);
    const login = JSON.parse(lines[0]!);
    expect(Object.keys(login).sort()).toEqual(['email', 'merchant_id', 'password', 'role']);
    expect(login).toEqual({ email: 'ops@cli-shop.example', password: expect.stringMatching(/^[A-Za-z0-9]{22}$/), role: 'admin', merchant_id: merchantId });
    const client = await signIn(tp, 'OPS@cli-shop.example', login.password);
    expect((await client.get('/dashboard')).text).toContain('CLI Shop');
    // Only a hash is stored.
    const row = await tp.platform.store.read.selectFrom('dashboard_users').selectAll().where('email', '=', 'ops@cli-shop.example').executeTakeFirstOrThrow();
    expect(row.password_hash).toMatch(/^scrypt\$32768\$8\$1\$/);
    expect(row.password_hash).not.toContain(login.password);
  });

  it('makes a viewer with --role viewer and prints the password once in words', { timeout: CLI_TIMEOUT }, async () => {
    const r = await runCli(['user', 'create', '--merchant', merchantId, '--email', 'viewer@cli-shop.example', '--role', 'viewer'], { env, limitMs: CLI_TIMEOUT });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain(`dashboard user viewer@cli-shop.example (viewer) created for merchant ${merchantId}`);
    const password = /password: (\S+)/.exec(r.stdout)![1]!;
    expect((await submitSignIn(new DashboardClient(tp.baseUrl), 'viewer@cli-shop.example', password)).status).toBe(303);
  });

  it('answers an unknown merchant and a taken email with exit code 1 and a clear message', { timeout: CLI_TIMEOUT }, async () => {
    const unknown = await runCli(['user', 'create', '--merchant', 'M404', '--email', 'a@b.example'], { env, limitMs: CLI_TIMEOUT });
    expect(unknown.code).toBe(1);
    expect(unknown.stderr.trim()).toBe('polypay: merchant M404 not found');
    expect(unknown.stdout).toBe('');
    const taken = await runCli(['user', 'create', '--merchant', merchantId, '--email', 'OPS@cli-shop.example'], { env, limitMs: CLI_TIMEOUT });
    expect(taken.code).toBe(1);
    expect(taken.stderr.trim()).toBe('polypay: a dashboard user with the email ops@cli-shop.example already exists');
  });

  it('answers misuse with the usage and exit code 2, and --help with exit code 0', { timeout: CLI_TIMEOUT }, async () => {
    const noEmail = await runCli(['user', 'create', '--merchant', merchantId], { env, limitMs: CLI_TIMEOUT });
    expect(noEmail.code).toBe(2);
    expect(noEmail.stderr).toContain('polypay: --merchant and --email are required');
    expect(noEmail.stderr).toContain('polypay user create --merchant MERCHANT_ID --email EMAIL');
    const badRole = await runCli(['user', 'create', '--merchant', merchantId, '--email', 'x@y.example', '--role', 'owner'], { env, limitMs: CLI_TIMEOUT });
    expect(badRole.code).toBe(2);
    expect(badRole.stderr).toContain('--role must be admin or viewer, not "owner"');
    const badEmail = await runCli(['user', 'create', '--merchant', merchantId, '--email', 'not-an-email'], { env, limitMs: CLI_TIMEOUT });
    expect(badEmail.code).toBe(1);
    expect(badEmail.stderr.trim()).toBe('polypay: "not-an-email" is not an email address');
    const help = await runCli(['user', 'create', '--help'], { env, limitMs: CLI_TIMEOUT });
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('polypay user create');
    const unknownSub = await runCli(['user', 'delete'], { env, limitMs: CLI_TIMEOUT });
    expect(unknownSub.code).toBe(2);
    expect(unknownSub.stderr).toContain('unknown command: user delete');
  });
});

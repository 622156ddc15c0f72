/**
 * polypay start                      run the platform (embedded SQLite unless DATABASE_URL is set)
 * polypay merchant create --name N   create a merchant and print its credentials
 * polypay merchant disable ID        disable a merchant (and its sub-merchants): its tokens stop working at once
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { buildPlatform } from '../app.ts';
import { loadConfig } from '../config.ts';
import { IdGenerator } from '../core/ids.ts';
import { MerchantService, type IssuedCredentials } from '../core/merchants/merchants.ts';
import { SecretBox } from '../core/secret-box.ts';
import { generateRsaKeyPair } from '../dialects/alphapay/signature.ts';
import { merchantRepository } from '../store/merchants-repo.ts';
import { takeIdNode } from '../store/platform-counters.ts';
import { privateFiles } from '../store/private-files.ts';
import { openStore, sqliteFile } from '../store/store.ts';

const USAGE = `usage:
  polypay start [--port N] [--host H] [--data-dir DIR]
  polypay merchant create --name NAME [--webhook-url URL] [--parent MERCHANT_ID] [--data-dir DIR] [--json]
  polypay merchant disable MERCHANT_ID [--data-dir DIR]`;

const DEMO_FILE = 'demo-merchant.json';

async function start(args: string[]): Promise<number> {
  const { values } = parseArgs({ args, options: { port: { type: 'string' }, host: { type: 'string' }, 'data-dir': { type: 'string' } } });
  const config = loadConfig(process.env, {
    ...(values.port ? { port: Number(values.port) } : {}),
    ...(values.host ? { host: values.host } : {}),
    ...(values['data-dir'] ? { dataDir: values['data-dir'] } : {}),
  });
  const platform = await buildPlatform(config);
  // The demo merchant's credentials are printed once, when it is created; later starts say where they are.
  let created: IssuedCredentials | null = null;
  let demoId: string | null = null;
  const demoFile = path.join(config.dataDir, DEMO_FILE);
  if ((await platform.merchants.count()) === 0) {
    created = await platform.merchants.create({ name: 'Demo Merchant' });
    demoId = created.merchant_id;
    writeFileSync(demoFile, JSON.stringify(created, null, 2) + '\n', { mode: 0o600 });
  } else if (existsSync(demoFile)) {
    demoId = (JSON.parse(readFileSync(demoFile, 'utf8')) as IssuedCredentials).merchant_id;
  }
  privateFiles(demoFile);
  const baseUrl = await platform.listen();
  const lines = [
    '',
    `polypay is running (${config.mode} mode, ${platform.store.dialect})`,
    `  base URL:        ${baseUrl}`,
    `  UQPAY API:       ${baseUrl}/api`,
  ];
  if (created) {
    const demo = created;
    lines.push(
      `  demo merchant:   ${demo.merchant_id} (created now; credentials also in ${demoFile}, not shown again)`,
      `    UQPAY client_id:      ${demo.uqpay.client_id}`,
      `    UQPAY api_key:        ${demo.uqpay.api_key}`,
      `    UQPAY webhook_secret: ${demo.uqpay.webhook_secret}`,
      `    AlphaPay merchant:    ${demo.alphapay.merchant_code}`,
      `    QFPay app_code:       ${demo.qfpay.app_code}`,
      `    QFPay client_key:     ${demo.qfpay.client_key}`,
    );
  } else if (demoId) {
    lines.push(`  demo merchant:   ${demoId} (credentials in ${demoFile})`);
  }
  process.stdout.write(lines.join('\n') + '\n\n');
  const stop = async () => {
    await platform.close();
    process.exit(0);
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  await new Promise(() => {}); // serve until a signal arrives
  return 0;
}

async function merchantCreate(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      name: { type: 'string' },
      'webhook-url': { type: 'string' },
      parent: { type: 'string' },
      json: { type: 'boolean' },
      'data-dir': { type: 'string' },
    },
  });
  if (!values.name) {
    process.stderr.write(`--name is required\n${USAGE}\n`);
    return 2;
  }
  if (values['webhook-url']) {
    try {
      const u = new URL(values['webhook-url']);
      if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new Error();
    } catch {
      process.stderr.write('--webhook-url must be an http(s) URL\n');
      return 2;
    }
  }
  const config = loadConfig(process.env, values['data-dir'] ? { dataDir: values['data-dir'] } : {});
  if (!config.databaseUrl && !existsSync(sqliteFile(config.dataDir))) {
    process.stderr.write(`polypay: no database in ${path.resolve(config.dataDir)} yet: creating one (a server using another data dir will not know this merchant)\n`);
  }
  const vault = new SecretBox(config.encryptionKey);
  const store = await openStore({ databaseUrl: config.databaseUrl, dataDir: config.dataDir, poolSize: 1, secrets: vault });
  try {
    const ids = new IdGenerator(await takeIdNode(store));
    const merchants = new MerchantService(merchantRepository(store, vault), { now: Date.now, newId: () => ids.next('M'), rsaKeyPair: generateRsaKeyPair });
    const input = { name: values.name, webhookUrl: values['webhook-url'] ?? null };
    // A sub-merchant is reached through its parent's credentials (UQPAY x-on-behalf-of, QFPay mchid) or with its own.
    const created = values.parent ? await merchants.createSubMerchant(values.parent, input) : await merchants.create(input);
    if (values.json) process.stdout.write(JSON.stringify(created) + '\n');
    else process.stdout.write(`merchant ${created.merchant_id} created\n${JSON.stringify(created, null, 2)}\n`);
    return 0;
  } finally {
    await store.close();
  }
}

/**
 * Disables a merchant and its sub-merchants in the database the server uses:
 * their tokens stop working (on other nodes within a second or two), they get
 * no new ones and their QFPay app code is refused. Payments stay as they are.
 */
async function merchantDisable(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({ args, allowPositionals: true, options: { 'data-dir': { type: 'string' } } });
  if (positionals.length !== 1) {
    process.stderr.write(`one merchant id is required\n${USAGE}\n`);
    return 2;
  }
  const id = positionals[0]!;
  const config = loadConfig(process.env, values['data-dir'] ? { dataDir: values['data-dir'] } : {});
  if (!config.databaseUrl && !existsSync(sqliteFile(config.dataDir))) {
    process.stderr.write(`polypay: no database in ${path.resolve(config.dataDir)}\n`);
    return 1;
  }
  const vault = new SecretBox(config.encryptionKey);
  const store = await openStore({ databaseUrl: config.databaseUrl, dataDir: config.dataDir, poolSize: 1, secrets: vault });
  try {
    const merchants = new MerchantService(merchantRepository(store, vault), {
      now: Date.now,
      newId: () => {
        throw new Error('disabling makes no merchant');
      },
      rsaKeyPair: generateRsaKeyPair,
    });
    const disabled = await merchants.disable(id);
    const subs = disabled.filter((d) => d !== id);
    if (disabled.length === 0) process.stdout.write(`merchant ${id} was already disabled\n`);
    else process.stdout.write(`merchant ${id} disabled${subs.length ? `, with its sub-merchants ${subs.join(', ')}` : ''}\n`);
    return 0;
  } finally {
    await store.close();
  }
}

export async function main(argv: string[]): Promise<number> {
  process.umask(0o077); // whatever the CLI creates (the database's -wal and -shm too) is the owner's alone
  const [command, sub, ...rest] = argv;
  try {
    if (command === 'start') return await start(argv.slice(1));
    if (command === 'merchant' && sub === 'create') return await merchantCreate(rest);
    if (command === 'merchant' && sub === 'disable') return await merchantDisable(rest);
    process.stderr.write(`${USAGE}\n`);
    return 2;
  } catch (e) {
    process.stderr.write(`polypay: ${(e as Error).message}\n`);
    return 1;
  }
}

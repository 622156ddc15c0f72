/**
 * polypay start                      run the platform (embedded SQLite unless DATABASE_URL is set)
 * polypay merchant create --name N   create a merchant and print its credentials
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
import { openStore, sqliteFile } from '../store/store.ts';

const USAGE = `usage:
  polypay start [--port N] [--host H] [--data-dir DIR]
  polypay merchant create --name NAME [--webhook-url URL] [--parent MERCHANT_ID] [--data-dir DIR] [--json]
  polypay merchant alphapay-key --merchant MERCHANT_ID --public-key-file FILE [--data-dir DIR]`;

const DEMO_FILE = 'demo-merchant.json';

async function start(args: string[]): Promise<number> {
  const { values } = parseArgs({ args, options: { port: { type: 'string' }, host: { type: 'string' }, 'data-dir': { type: 'string' } } });
  const config = loadConfig(process.env, {
    ...(values.port ? { port: Number(values.port) } : {}),
    ...(values.host ? { host: values.host } : {}),
    ...(values['data-dir'] ? { dataDir: values['data-dir'] } : {}),
  });
  const platform = await buildPlatform(config);
  let demo: IssuedCredentials | null = null;
  const demoFile = path.join(config.dataDir, DEMO_FILE);
  if ((await platform.merchants.count()) === 0) {
    demo = await platform.merchants.create({ name: 'Demo Merchant' });
    writeFileSync(demoFile, JSON.stringify(demo, null, 2) + '\n', { mode: 0o600 });
  } else if (existsSync(demoFile)) {
    demo = JSON.parse(readFileSync(demoFile, 'utf8')) as IssuedCredentials;
  }
  const baseUrl = await platform.listen();
  const lines = [
    '',
    `polypay is running (${config.mode} mode, ${platform.store.dialect})`,
    `  base URL:        ${baseUrl}`,
    `  UQPAY API:       ${baseUrl}/api`,
  ];
  if (demo) {
    lines.push(
      `  demo merchant:   ${demo.merchant_id} (credentials also in ${demoFile})`,
      `    UQPAY client_id:      ${demo.uqpay.client_id}`,
      `    UQPAY api_key:        ${demo.uqpay.api_key}`,
      `    UQPAY webhook_secret: ${demo.uqpay.webhook_secret}`,
      `    AlphaPay merchant:    ${demo.alphapay.merchant_code}`,
      `    QFPay app_code:       ${demo.qfpay.app_code}`,
      `    QFPay client_key:     ${demo.qfpay.client_key}`,
    );
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
  const store = await openStore({ databaseUrl: config.databaseUrl, dataDir: config.dataDir, poolSize: 1 });
  try {
    const ids = new IdGenerator(await takeIdNode(store));
    const merchants = new MerchantService(merchantRepository(store), { now: Date.now, newId: () => ids.next('M'), rsaKeyPair: generateRsaKeyPair, vault: new SecretBox(config.encryptionKey) });
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

// ---- AlphaPay: register a merchant's own RSA public key -------------------

async function merchantAlphapayKey(args: string[]): Promise<number> {
  const { values } = parseArgs({ args, options: { merchant: { type: 'string' }, 'public-key-file': { type: 'string' }, 'data-dir': { type: 'string' } } });
  if (!values.merchant || !values['public-key-file']) {
    process.stderr.write(`--merchant and --public-key-file are required\n${USAGE}\n`);
    return 2;
  }
  const key = readFileSync(values['public-key-file'], 'utf8');
  const config = loadConfig(process.env, values['data-dir'] ? { dataDir: values['data-dir'] } : {});
  const store = await openStore({ databaseUrl: config.databaseUrl, dataDir: config.dataDir, poolSize: 1 });
  try {
    const ids = new IdGenerator(0);
    const merchants = new MerchantService(merchantRepository(store), { now: Date.now, newId: () => ids.next('M'), rsaKeyPair: generateRsaKeyPair, vault: new SecretBox(config.encryptionKey) });
    await merchants.registerAlphapayPublicKey(values.merchant, key);
    process.stdout.write(`merchant ${values.merchant}: AlphaPay requests are now verified with the key in ${values['public-key-file']}\n`);
    return 0;
  } finally {
    await store.close();
  }
}

export async function main(argv: string[]): Promise<number> {
  const [command, sub, ...rest] = argv;
  try {
    if (command === 'start') return await start(argv.slice(1));
    if (command === 'merchant' && sub === 'create') return await merchantCreate(rest);
    if (command === 'merchant' && sub === 'alphapay-key') return await merchantAlphapayKey(rest);
    process.stderr.write(`${USAGE}\n`);
    return 2;
  } catch (e) {
    process.stderr.write(`polypay: ${(e as Error).message}\n`);
    return 1;
  }
}

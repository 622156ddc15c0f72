/**
 * polypay start                      run the platform (embedded SQLite unless DATABASE_URL is set)
 * polypay merchant create --name N   create a merchant and print its credentials
 * polypay merchant disable ID        disable a merchant (and its sub-merchants): its tokens stop working at once
 * polypay user create --merchant M --email E   create a dashboard user and print its password once
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import type { Platform } from '../app.ts';
import { loadConfig, type Config } from '../config.ts';
import { DASHBOARD_ROLES, DashboardUserError, DashboardUsers, type DashboardRole } from '../core/dashboard/users.ts';
import { IdGenerator } from '../core/ids.ts';
import { MerchantService, type IssuedCredentials } from '../core/merchants/merchants.ts';
import { SecretBox } from '../core/secret-box.ts';
import { generateRsaKeyPair } from '../dialects/alphapay/signature.ts';
import { dashboardUserRepository } from '../store/dashboard-users-repo.ts';
import { merchantRepository } from '../store/merchants-repo.ts';
import { takeIdNode } from '../store/platform-counters.ts';
import { privateFiles } from '../store/private-files.ts';
import { openStore, sqliteFile, type Store } from '../store/store.ts';
import { describeStartFailure } from './start-failure.ts';

const USAGE = `usage:
  polypay start [--port N] [--host H] [--data-dir DIR]
  polypay merchant create --name NAME [--webhook-url URL] [--parent MERCHANT_ID] [--data-dir DIR] [--json]
  polypay merchant disable MERCHANT_ID [--data-dir DIR]
  polypay merchant alphapay-key --merchant MERCHANT_ID --public-key-file FILE [--data-dir DIR]
  polypay user create --merchant MERCHANT_ID --email EMAIL [--role admin|viewer] [--data-dir DIR] [--json]
  polypay --help

  start            serve the APIs and hosted pages (default 127.0.0.1:8080, data in ./data)
  merchant create  create a merchant (a sub-merchant with --parent) and print its credentials once;
                   --json prints them as one JSON object
  merchant disable disable a merchant and its sub-merchants: their tokens and app codes stop working
  merchant alphapay-key  register the merchant's own RSA public key for AlphaPay requests
  user create      create a dashboard user of a merchant (role admin unless --role viewer) with a
                   generated password, printed once; --json prints one line
                   {"email","password","role","merchant_id"}

The environment configures the rest: PORT, HOST, POLYPAY_DATA_DIR, DATABASE_URL
(postgres://... instead of the embedded SQLite), POLYPAY_MODE, POLYPAY_BASE_URL,
POLYPAY_FX_RATES; README.md lists them all.`;

const DEMO_FILE = 'demo-merchant.json';

/** The command line was misused: the usage goes to standard error and the exit code is 2. */
class UsageError extends Error {}

const HELP_OPTION = { type: 'boolean', short: 'h' } as const;

/** A parseArgs call whose complaints (unknown option, missing value, stray argument) are misuse. */
function strictly<T>(parse: () => T): T {
  try {
    return parse();
  } catch (e) {
    if (String((e as { code?: unknown }).code).startsWith('ERR_PARSE_ARGS_')) throw new UsageError((e as Error).message.split('\n')[0]!);
    throw e;
  }
}

/** --help: the usage on standard output, exit 0. */
function help(): number {
  process.stdout.write(`${USAGE}\n`);
  return 0;
}

function portNumber(text: string): number {
  const port = Number(text);
  if (!/^\d+$/.test(text) || port > 65535) throw new UsageError(`--port must be a port number (0-65535), not ${JSON.stringify(text)}`);
  return port;
}

async function start(args: string[]): Promise<number> {
  const { values } = strictly(() =>
    parseArgs({ args, options: { port: { type: 'string' }, host: { type: 'string' }, 'data-dir': { type: 'string' }, help: HELP_OPTION } }),
  );
  if (values.help) return help();
  const flags = { port: values.port === undefined ? undefined : portNumber(values.port), host: values.host, dataDir: values['data-dir'] };
  const opened: Opened = {};
  try {
    return await serve(flags, opened);
  } catch (e) {
    // Whatever opened (database, workers, listener) closes, so the process exits now instead of hanging.
    await opened.platform?.close().catch(() => {});
    const failure = describeStartFailure(e, opened.config?.dataDir);
    process.stderr.write(`${failure.line}\n${failure.expected ? '' : `${(e as Error).stack ?? ''}\n`}`);
    return 1;
  }
}

/** demo-merchant.json: the demo merchant's credentials and its dashboard login. */
type DemoFile = IssuedCredentials & { dashboard?: { email: string; password: string; role: string } };

const DEMO_DASHBOARD_EMAIL = 'demo@polypay.example';

/** Creates the demo merchant's dashboard admin and writes its login into the demo file (owner-only, as before). */
async function demoDashboardLogin(platform: Platform, demo: DemoFile, demoFile: string): Promise<{ email: string; password: string } | null> {
  try {
    const { user, password } = await platform.dashboardUsers.create({ merchantId: demo.merchant_id, email: DEMO_DASHBOARD_EMAIL, role: 'admin' });
    demo.dashboard = { email: user.email, password, role: user.role };
    writeFileSync(demoFile, JSON.stringify(demo, null, 2) + '\n', { mode: 0o600 });
    return { email: user.email, password };
  } catch (e) {
    if (e instanceof DashboardUserError) return null; // someone already made that user: theirs to keep
    throw e;
  }
}

/** What `serve` has opened so far: a start that fails closes it. */
interface Opened {
  config?: Config;
  platform?: Platform;
}

/** Opens the platform, listens and serves until a signal arrives. */
async function serve(flags: { port?: number; host?: string; dataDir?: string }, opened: Opened): Promise<number> {
  const config = loadConfig(process.env, {
    ...(flags.port !== undefined ? { port: flags.port } : {}),
    ...(flags.host ? { host: flags.host } : {}),
    ...(flags.dataDir ? { dataDir: flags.dataDir } : {}),
  });
  opened.config = config;
  const { buildPlatform } = await import('../app.ts'); // the server's modules load only to serve (--help stays quick)
  const platform = await buildPlatform(config);
  opened.platform = platform;
  // The demo merchant's credentials are printed once, when it is created; later starts say where they are.
  let created: IssuedCredentials | null = null;
  const demoFile = path.join(config.dataDir, DEMO_FILE);
  let demo: DemoFile | null = null;
  if ((await platform.merchants.count()) === 0) {
    created = await platform.merchants.create({ name: 'Demo Merchant' });
    demo = created;
    writeFileSync(demoFile, JSON.stringify(created, null, 2) + '\n', { mode: 0o600 });
  } else if (existsSync(demoFile)) {
    demo = JSON.parse(readFileSync(demoFile, 'utf8')) as DemoFile;
  }
  // The demo merchant's dashboard admin, made once (also for a data dir from before the dashboard) and kept with its credentials.
  const dashboardLogin = demo && !demo.dashboard ? await demoDashboardLogin(platform, demo, demoFile) : null;
  privateFiles(demoFile);
  const baseUrl = await platform.listen();
  const lines = [
    '',
    `polypay is running (${config.mode} mode, ${platform.store.dialect})`,
    `  base URL:        ${baseUrl}`,
    `  UQPAY API:       ${baseUrl}/api`,
  ];
  if (created) {
    lines.push(
      `  demo merchant:   ${created.merchant_id} (created now; credentials also in ${demoFile}, not shown again)`,
      `    UQPAY client_id:      ${created.uqpay.client_id}`,
      `    UQPAY api_key:        ${created.uqpay.api_key}`,
      `    UQPAY webhook_secret: ${created.uqpay.webhook_secret}`,
      `    AlphaPay merchant:    ${created.alphapay.merchant_code}`,
      `    QFPay app_code:       ${created.qfpay.app_code}`,
      `    QFPay client_key:     ${created.qfpay.client_key}`,
    );
  } else if (demo) {
    lines.push(`  demo merchant:   ${demo.merchant_id} (credentials in ${demoFile})`);
  }
  lines.push(`  dashboard:       ${baseUrl}/dashboard`);
  if (dashboardLogin) {
    lines.push(`    email:    ${dashboardLogin.email}`, `    password: ${dashboardLogin.password}   (created now; also in ${demoFile})`);
  } else if (demo?.dashboard) {
    lines.push(`    demo login in ${demoFile} (${demo.dashboard.email})`);
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
  const { values } = strictly(() =>
    parseArgs({
      args,
      options: {
        name: { type: 'string' },
        'webhook-url': { type: 'string' },
        parent: { type: 'string' },
        json: { type: 'boolean' },
        'data-dir': { type: 'string' },
        help: HELP_OPTION,
      },
    }),
  );
  if (values.help) return help();
  if (!values.name) throw new UsageError('--name is required');
  if (values['webhook-url']) {
    try {
      const u = new URL(values['webhook-url']);
      if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new Error();
    } catch {
      throw new UsageError('--webhook-url must be an http(s) URL');
    }
  }
  const config = loadConfig(process.env, values['data-dir'] ? { dataDir: values['data-dir'] } : {});
  if (!config.databaseUrl && !existsSync(sqliteFile(config.dataDir))) {
    process.stderr.write(`polypay: no database in ${path.resolve(config.dataDir)} yet: creating one (a server using another data dir will not know this merchant)\n`);
  }
  const input = { name: values.name, webhookUrl: values['webhook-url'] ?? null };
  // A sub-merchant is reached through its parent's credentials (UQPAY x-on-behalf-of, QFPay mchid) or with its own.
  const created = await withMerchants(config, (merchants) => (values.parent ? merchants.createSubMerchant(values.parent, input) : merchants.create(input)), {
    makesMerchants: true,
  });
  if (values.json) process.stdout.write(JSON.stringify(created) + '\n');
  else process.stdout.write(`merchant ${created.merchant_id} created\n${JSON.stringify(created, null, 2)}\n`);
  return 0;
}

/** Runs `fn` with the merchants of the database the server uses (opened for it, closed after). */
async function withMerchants<T>(
  config: Config,
  fn: (merchants: MerchantService, opened: { store: Store; newId: (prefix: string) => string }) => Promise<T>,
  { makesMerchants = false } = {},
): Promise<T> {
  const vault = new SecretBox(config.encryptionKey);
  const store = await openStore({ databaseUrl: config.databaseUrl, dataDir: config.dataDir, poolSize: 1, secrets: vault });
  try {
    // Only a command that makes something takes an id generator's node number (a write to the database).
    const ids = makesMerchants ? new IdGenerator(await takeIdNode(store)) : null;
    const newId = (prefix: string) => {
      if (!ids) throw new Error('this command makes nothing');
      return ids.next(prefix);
    };
    const merchants = new MerchantService(merchantRepository(store, vault), { now: Date.now, newId: () => newId('M'), rsaKeyPair: generateRsaKeyPair, vault });
    return await fn(merchants, { store, newId });
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
  const { values, positionals } = strictly(() =>
    parseArgs({ args, allowPositionals: true, options: { 'data-dir': { type: 'string' }, help: HELP_OPTION } }),
  );
  if (values.help) return help();
  if (positionals.length !== 1) throw new UsageError('one merchant id is required');
  const id = positionals[0]!;
  const config = loadConfig(process.env, values['data-dir'] ? { dataDir: values['data-dir'] } : {});
  if (!config.databaseUrl && !existsSync(sqliteFile(config.dataDir))) {
    process.stderr.write(`polypay: no database in ${path.resolve(config.dataDir)}\n`);
    return 1;
  }
  const disabled = await withMerchants(config, (merchants) => merchants.disable(id));
  const subs = disabled.filter((d) => d !== id);
  if (disabled.length === 0) process.stdout.write(`merchant ${id} was already disabled\n`);
  else process.stdout.write(`merchant ${id} disabled${subs.length ? `, with its sub-merchants ${subs.join(', ')}` : ''}\n`);
  return 0;
}

// ---- AlphaPay: register a merchant's own RSA public key -------------------

async function merchantAlphapayKey(args: string[]): Promise<number> {
  const { values } = strictly(() =>
    parseArgs({ args, options: { merchant: { type: 'string' }, 'public-key-file': { type: 'string' }, 'data-dir': { type: 'string' }, help: HELP_OPTION } }),
  );
  if (values.help) return help();
  if (!values.merchant || !values['public-key-file']) throw new UsageError('--merchant and --public-key-file are required');
  const key = readFileSync(values['public-key-file'], 'utf8');
  const config = loadConfig(process.env, values['data-dir'] ? { dataDir: values['data-dir'] } : {});
  const merchantId = values.merchant;
  await withMerchants(config, (merchants) => merchants.registerAlphapayPublicKey(merchantId, key));
  process.stdout.write(`merchant ${merchantId}: AlphaPay requests are now verified with the key in ${values['public-key-file']}\n`);
  return 0;
}

// ---- Dashboard users --------------------------------------------------------

async function userCreate(args: string[]): Promise<number> {
  const { values } = strictly(() =>
    parseArgs({
      args,
      options: { merchant: { type: 'string' }, email: { type: 'string' }, role: { type: 'string' }, json: { type: 'boolean' }, 'data-dir': { type: 'string' }, help: HELP_OPTION },
    }),
  );
  if (values.help) return help();
  if (!values.merchant || !values.email) throw new UsageError('--merchant and --email are required');
  const role = (values.role ?? 'admin') as DashboardRole;
  if (!DASHBOARD_ROLES.includes(role)) throw new UsageError(`--role must be admin or viewer, not ${JSON.stringify(values.role)}`);
  const config = loadConfig(process.env, values['data-dir'] ? { dataDir: values['data-dir'] } : {});
  if (!config.databaseUrl && !existsSync(sqliteFile(config.dataDir))) {
    process.stderr.write(`polypay: no database in ${path.resolve(config.dataDir)}: start polypay once, or pass --data-dir\n`);
    return 1;
  }
  const input = { merchantId: values.merchant, email: values.email, role };
  const created = await withMerchants(
    config,
    (merchants, { store, newId }) => new DashboardUsers(dashboardUserRepository(store), { now: Date.now, newId: () => newId('DU'), merchants }).create(input),
    { makesMerchants: true },
  );
  const login = { email: created.user.email, password: created.password, role: created.user.role, merchant_id: created.user.merchantId };
  if (values.json) process.stdout.write(JSON.stringify(login) + '\n');
  else {
    process.stdout.write(
      `dashboard user ${login.email} (${login.role}) created for merchant ${login.merchant_id}\n` +
        `  password: ${login.password}\n  (shown only now; sign in at ${config.publicBaseUrl ?? `http://${config.host}:${config.port}`}/dashboard)\n`,
    );
  }
  return 0;
}

export async function main(argv: string[]): Promise<number> {
  process.umask(0o077); // whatever the CLI creates (the database's -wal and -shm too) is the owner's alone
  const [command, sub, ...rest] = argv;
  try {
    if (command === 'start') return await start(argv.slice(1));
    if (command === 'merchant' && sub === 'create') return await merchantCreate(rest);
    if (command === 'merchant' && sub === 'alphapay-key') return await merchantAlphapayKey(rest);
    if (command === 'merchant' && sub === 'disable') return await merchantDisable(rest);
    if (command === 'user' && sub === 'create') return await userCreate(rest);
    if (command === '--help' || command === '-h' || command === 'help') return help();
    if ((command === 'merchant' || command === 'user') && (sub === '--help' || sub === '-h')) return help();
    if (command === undefined) throw new UsageError('which command?');
    throw new UsageError(`unknown command: ${command === 'merchant' || command === 'user' ? `${command} ${sub ?? ''}`.trim() : command}`);
  } catch (e) {
    if (e instanceof UsageError) {
      process.stderr.write(`polypay: ${e.message}\n${USAGE}\n`);
      return 2;
    }
    process.stderr.write(`polypay: ${(e as Error).message}\n`);
    return 1;
  }
}

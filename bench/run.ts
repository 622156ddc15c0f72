/**
 * `npm run bench`: load-tests a real polypay process, started the way a user
 * starts it, on SQLite and (when a server answers) on PostgreSQL, beside an
 * in-memory peer (stripe-stateful-mock) measured in the same run.
 *
 * For each backend: start `node bin/polypay.js start` on a free port with a
 * fresh data dir (and a fresh database), create two merchants with the CLI
 * (one with no webhook URL, one whose webhook URL is a receiver the bench
 * runs, answering 200 at once), get their UQPAY tokens, then run autocannon
 * against 127.0.0.1:
 *   minimal  POST /sim/v1/echo                      (JSON parse + reply, no storage)
 *   peer     POST /v1/charges on stripe-stateful-mock (in memory, no durability)
 *   payment  POST /api/v2/payment_intents/create    (seed 000: card payment, committed)
 *   qfpay    POST /trade/v1/payment                  (QFPay MPM Alipay QR order, signed form, committed)
 *   alphapay POST /api/v2.0/payments/pay            (AlphaPay ONLINE_QRCODE order, RSA-signed, answer signed, committed)
 *   issuing  POST /api/v1/simulation/issuing/authorization (an issued card's authorization, committed)
 *   closed   POST /api/v2/payment_intents/create    (a card payment with a card issued here: the closed loop)
 * each polypay route twice, for the merchant without and with webhooks. Every
 * load runs BENCH_ROUNDS times, the loads alternating within each round, and
 * the report gives each one's median: requests/s, p50/p99 latency, the event
 * loop's CPU per request, polypay/peer and route/minimal; for runs with
 * webhooks, the webhook lag during the load (event recorded to receiver
 * acknowledged: p50, p99, and the bucket holding the slowest) and the backlog
 * left when the load stops, with how long it took to empty, all read from the
 * server's GET /metrics; and the server's resident memory after all the
 * payments.
 *
 * Environment:
 *   BENCH_DURATION     seconds per measured run (default 10)
 *   BENCH_WARMUP       seconds of unmeasured load before each run (default 2; 0 turns it off)
 *   BENCH_ROUNDS       how many times each load runs; the report takes medians (default 3)
 *   BENCH_CONNECTIONS  concurrent connections (default 50)
 *   BENCH_PG_URL       PostgreSQL admin URL (default postgres://postgres@127.0.0.1:5432/test)
 *   BENCH_ONLY         sqlite | postgres: run one backend only
 *   BENCH_ROUTES       comma list of loads to run (default all: peer,minimal,payment,qfpay,...)
 *   BENCH_NODE_ARGS    node flags for the server process after npm start's own (e.g. --cpu-prof --cpu-prof-dir=/tmp/prof)
 *   BENCH_SERVER       compiled (default: `npm run build` first, then the compiled JavaScript, as
 *                      `npm start` runs it) | source (the TypeScript sources through tsx)
 *   BENCH_JSON         write the results as JSON to this file as well
 *
 * Exit code 1 when any run saw errors, non-2xx answers or unexpected bodies:
 * such a benchmark is invalid.
 */
import autocannon, { type Request, type Result } from 'autocannon';
import { execFile, execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { contentToSign, formatSignatureHeader, signContent } from '../src/dialects/alphapay/signature.ts';
import { signRequest } from '../src/dialects/qfpay/signature.ts';
import { createPgDatabase, pgUnavailable } from '../test/support/postgres.ts';
import { freePort } from '../test/support/receiver.ts';
import { intentBody, seedCard } from '../test/support/seed-bodies.ts';
import { startNodeFlags } from '../test/support/start-command.ts';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const BIN = path.join(ROOT, 'bin', 'polypay.js');
const HOST = '127.0.0.1';

const num = (name: string, fallback: number): number => {
  const v = process.env[name];
  if (v === undefined || v === '') return fallback;
  const n = Number(v);
  if (!Number.isFinite(n) || n < 0) throw new Error(`${name} must be a non-negative number`);
  return n;
};

const DURATION = Math.max(1, Math.round(num('BENCH_DURATION', 10)));
const WARMUP = Math.round(num('BENCH_WARMUP', 2));
const CONNECTIONS = Math.max(1, Math.round(num('BENCH_CONNECTIONS', 50)));
const ROUNDS = Math.max(1, Math.round(num('BENCH_ROUNDS', 3)));
const ROUTES = process.env.BENCH_ROUTES ? new Set(process.env.BENCH_ROUTES.split(',').map((r) => r.trim())) : null;
const PG_ADMIN_URL = process.env.BENCH_PG_URL || 'postgres://postgres@127.0.0.1:5432/test';
const ONLY = process.env.BENCH_ONLY;
// The server gets npm start's node flags (its V8 heap settings), then BENCH_NODE_ARGS.
const NODE_ARGS = [...startNodeFlags(), ...(process.env.BENCH_NODE_ARGS ?? '').split(/\s+/).filter(Boolean)];
const SERVER_RUNS = process.env.BENCH_SERVER || 'compiled';
if (SERVER_RUNS !== 'compiled' && SERVER_RUNS !== 'source') throw new Error('BENCH_SERVER must be compiled or source');

// ---- the request body: seed 000 ------------------------------------------------------------

function seedBody(merchantOrderId: string) {
  return { ...intentBody({ merchant_order_id: merchantOrderId }), payment_method: seedCard() };
}

/** The body with a per-request order id spliced in (no JSON.stringify per request on the load side). */
function bodyTemplate(): (orderId: string) => string {
  const marker = '__ORDER_ID__';
  const [head, tail] = JSON.stringify(seedBody(marker)).split(marker) as [string, string];
  return (orderId) => head + orderId + tail;
}

// ---- cleanup ----------------------------------------------------------------------------------

const cleanups: Array<() => Promise<void> | void> = [];

async function runCleanups(): Promise<void> {
  while (cleanups.length) {
    const fn = cleanups.pop()!;
    try {
      await fn();
    } catch (e) {
      console.error(`cleanup failed: ${(e as Error).message}`);
    }
  }
}

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    console.error(`\n${signal}: stopping`);
    void runCleanups().finally(() => process.exit(130));
  });
}

// ---- the server process -----------------------------------------------------------------------


interface Server {
  baseUrl: string;
  pid: number;
  /** The PostgreSQL database it uses, if any (its backends' CPU is counted as the database's). */
  database: string | null;
  env: NodeJS.ProcessEnv;
  output: () => string;
  stop: () => Promise<void>;
}

function serverEnv(port: number, dataDir: string, databaseUrl: string | undefined): NodeJS.ProcessEnv {
  // POLYPAY_RUN=compiled: the server refuses to start unless the build is current (see main()).
  const env: NodeJS.ProcessEnv = { ...process.env, PORT: String(port), HOST, POLYPAY_DATA_DIR: dataDir, POLYPAY_RUN: SERVER_RUNS };
  delete env.DATABASE_URL; // SQLite unless this run is PostgreSQL's
  if (databaseUrl) env.DATABASE_URL = databaseUrl;
  return env;
}

/** Spawns `node argv...` and waits until `ready(baseUrl)` holds (30 s at most). */
async function startProcess(name: string, argv: string[], env: NodeJS.ProcessEnv, port: number, ready: (baseUrl: string) => Promise<boolean>): Promise<Omit<Server, 'database'>> {
  const child: ChildProcess = spawn(process.execPath, argv, { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  const keep = (chunk: Buffer) => {
    out += chunk.toString('utf8');
    if (out.length > 64_000) out = out.slice(-32_000);
  };
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  let running = true;
  void exited.then(() => (running = false));

  const stop = async () => {
    if (!running) return;
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    await exited;
    clearTimeout(timer);
  };
  cleanups.push(stop);

  const baseUrl = `http://${HOST}:${port}`;
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (!running) throw new Error(`${name} exited before it was ready:\n${out}`);
    try {
      if (await ready(baseUrl)) break;
    } catch {
      /* not listening yet */
    }
    if (Date.now() > deadline) throw new Error(`${name} not ready after 30 s:\n${out}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  return { baseUrl, pid: child.pid!, env, output: () => out, stop };
}

async function startServer(dataDir: string, databaseUrl: string | undefined): Promise<Server> {
  const port = await freePort();
  const proc = await startProcess('polypay', [...NODE_ARGS, BIN, 'start'], serverEnv(port, dataDir, databaseUrl), port, async (baseUrl) => {
    const r = await fetch(`${baseUrl}/healthz`, { signal: AbortSignal.timeout(1000) });
    return r.status === 200;
  });
  const database = databaseUrl ? decodeURIComponent(new URL(databaseUrl).pathname.slice(1)) : null;
  return { ...proc, database };
}

/** The in-memory peer: stripe-stateful-mock, as its own process (its `autostart` entry, quiet). */
async function startPeer(): Promise<Server> {
  const port = await freePort();
  const entry = path.join(ROOT, 'node_modules', 'stripe-stateful-mock', 'dist', 'autostart.js');
  const proc = await startProcess('stripe-stateful-mock', [entry], { ...process.env, PORT: String(port), LOG_LEVEL: 'warn' }, port, async (baseUrl) => {
    const r = await fetch(`${baseUrl}/v1/charges/none`, { headers: { authorization: `Bearer ${PEER_KEY}` }, signal: AbortSignal.timeout(1000) });
    return r.status > 0;
  });
  return { ...proc, database: null };
}

const PEER_KEY = 'sk_test_polypaybench';

interface BenchMerchant {
  clientId: string;
  apiKey: string;
  appCode: string;
  clientKey: string;
  alphapayCode: string;
  alphapayKey: string;
}

function createMerchant(env: NodeJS.ProcessEnv, webhookUrl?: string): Promise<BenchMerchant> {
  const args = [BIN, 'merchant', 'create', '--name', webhookUrl ? 'bench (webhooks)' : 'bench', '--json', ...(webhookUrl ? ['--webhook-url', webhookUrl] : [])];
  return new Promise((resolve, reject) => {
    execFile(process.execPath, args, { cwd: ROOT, env, timeout: 30_000 }, (err, stdout, stderr) => {
      if (err) return reject(new Error(`merchant create failed: ${err.message}\n${stderr}`));
      try {
        const created = JSON.parse(stdout.trim().split('\n').pop()!) as {
          uqpay: { client_id: string; api_key: string };
          qfpay: { app_code: string; client_key: string };
          alphapay: { merchant_code: string; merchant_private_key: string };
        };
        resolve({
          clientId: created.uqpay.client_id,
          apiKey: created.uqpay.api_key,
          appCode: created.qfpay.app_code,
          clientKey: created.qfpay.client_key,
          alphapayCode: created.alphapay.merchant_code,
          alphapayKey: created.alphapay.merchant_private_key,
        });
      } catch {
        reject(new Error(`merchant create printed no JSON:\n${stdout}\n${stderr}`));
      }
    });
  });
}

async function token(baseUrl: string, clientId: string, apiKey: string): Promise<string> {
  const r = await fetch(`${baseUrl}/api/v1/connect/token`, {
    method: 'POST',
    headers: { 'x-client-id': clientId, 'x-api-key': apiKey, 'Content-Type': 'application/json' },
  });
  const text = await r.text();
  if (r.status !== 200) throw new Error(`token request failed: ${r.status} ${text}`);
  return (JSON.parse(text) as { auth_token: string }).auth_token;
}

// ---- PostgreSQL -------------------------------------------------------------------------------

async function createBenchDatabase(): Promise<string> {
  const db = await createPgDatabase(PG_ADMIN_URL, 'polypay_bench');
  cleanups.push(db.drop);
  return db.url;
}

// ---- CPU accounting (Linux /proc; elsewhere the columns stay empty) ---------------------------

interface CpuSample {
  at: number;
  busy: number;
  server: number;
  serverMain: number;
  self: number;
  database: number;
}

/** utime + stime in clock ticks (fields 14 and 15) of a process (all threads) or, with a task path, of one thread. */
function procTicks(pid: number, task = ''): number {
  const stat = readFileSync(`/proc/${pid}${task}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return Number(fields[11]) + Number(fields[12]);
}

/**
 * Ticks of the PostgreSQL processes working for the bench: the backends
 * connected to its database, and the server's own processes (WAL writer,
 * checkpointer, ...). Backends of other databases count as other load.
 */
function databaseTicks(database: string | null): number {
  if (!database) return 0;
  let ticks = 0;
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (readFileSync(`/proc/${entry}/comm`, 'utf8').trim() !== 'postgres') continue;
      const cmdline = readFileSync(`/proc/${entry}/cmdline`, 'utf8').replace(/\0/g, ' ');
      if (cmdline.includes(` ${database} `) || !cmdline.includes('(')) ticks += procTicks(Number(entry));
    } catch {
      // gone meanwhile
    }
  }
  return ticks;
}

function cpuSample(serverPid: number, database: string | null): CpuSample | null {
  try {
    const cpu = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
    const [user = 0, nice = 0, system = 0, , , irq = 0, softirq = 0, steal = 0] = cpu;
    return {
      at: performance.now(),
      busy: user + nice + system + irq + softirq + steal,
      server: procTicks(serverPid),
      serverMain: procTicks(serverPid, `/task/${serverPid}`),
      self: procTicks(process.pid),
      database: databaseTicks(database),
    };
  } catch {
    return null;
  }
}

interface CpuUse {
  /** Cores used by the server process (all its threads), by its main (event loop) thread, by the load generator, by PostgreSQL for the bench, and by anything else. */
  server: number;
  serverMain: number;
  loader: number;
  database: number;
  other: number;
}

function cpuUse(a: CpuSample | null, b: CpuSample | null): CpuUse | null {
  if (!a || !b) return null;
  const ticks = ((b.at - a.at) / 1000) * TICKS_PER_SECOND;
  const server = (b.server - a.server) / ticks;
  const loader = (b.self - a.self) / ticks;
  const database = (b.database - a.database) / ticks;
  return {
    server,
    serverMain: (b.serverMain - a.serverMain) / ticks,
    loader,
    database,
    other: Math.max(0, (b.busy - a.busy) / ticks - server - loader - database),
  };
}

const TICKS_PER_SECOND = 100; // USER_HZ on Linux

// ---- load -------------------------------------------------------------------------------------

interface Run {
  requestsPerSec: number;
  p50: number;
  p99: number;
  total: number;
  non2xx: number;
  errors: number;
  timeouts: number;
  /** 2xx answers whose body was not what the route must return. */
  unexpected: number;
  sample: string | null;
  /** Cores used during the measured run (Linux only). */
  cpu: CpuUse | null;
  /** Runs for a merchant with a webhook URL. */
  webhooks: WebhookFigures | null;
  /** Units of work waiting for a database connection (PostgreSQL) or their group commit (SQLite), sampled during the run. */
  dbWaiting: { mean: number; max: number } | null;
}

interface WebhookFigures {
  /** Acknowledged during the measured run, and their lag (s) from the server's histogram. */
  delivered: number;
  lagP50: number | null;
  lagP99: number | null;
  /** Upper bound of the bucket holding the slowest (s). */
  lagMaxBound: number | null;
  /** Deliveries still to be made when the load stopped, and the seconds until none were. */
  backlogAtEnd: number;
  drainSeconds: number;
}

interface Load {
  /** Short name (BENCH_ROUTES). */
  name: string;
  route: string;
  target: Server;
  request: Request;
  /** True when the 2xx body is right. */
  check: (body: string) => boolean;
  /** The server whose webhook figures to read, for loads of a merchant with webhooks. */
  webhooksOf?: Server;
}

/**
 * A load whose every request is new (`make` gets a fresh id each time), after
 * one probe request, so a broken setup fails with a clear message rather than
 * 50k non-2xx answers.
 */
async function probedLoad(
  target: Server,
  name: string,
  route: string,
  path: string,
  make: (id: string) => { headers: Record<string, string>; body: string },
  check: (body: string) => boolean,
): Promise<Load> {
  const probe = make('probe');
  const reply = await fetch(`${target.baseUrl}${path}`, { method: 'POST', headers: probe.headers, body: probe.body });
  const text = await reply.text();
  if (reply.status !== 200 || !check(text)) throw new Error(`probe of ${route} failed: ${reply.status} ${text.slice(0, 500)}`);
  let n = 0;
  return {
    name,
    route,
    target,
    request: {
      method: 'POST',
      path,
      setupRequest(req) {
        return { ...req, ...make(String(++n)) };
      },
    },
    check,
  };
}

function runAutocannon(duration: number, load: Load): Promise<Omit<Run, 'cpu' | 'webhooks' | 'dbWaiting'>> {
  let unexpected = 0;
  let sample: string | null = null;
  const request: Request = {
    ...load.request,
    onResponse(status: number, body: string) {
      if (status >= 200 && status < 300 && load.check(body)) return;
      if (status >= 200 && status < 300) unexpected++;
      sample ??= `${status} ${body.slice(0, 300)}`;
    },
  };
  return new Promise((resolve, reject) => {
    autocannon({ url: load.target.baseUrl, requests: [request], connections: CONNECTIONS, duration, timeout: 10 }, (err, r: Result) => {
      if (err) return reject(err);
      resolve({
        requestsPerSec: r.requests.mean,
        p50: r.latency.p50,
        p99: r.latency.p99,
        total: r.requests.total,
        non2xx: r.non2xx,
        errors: r.errors,
        timeouts: r.timeouts,
        unexpected,
        sample,
      });
    });
  });
}

// ---- webhooks: the receiver, and the server's own figures from GET /metrics --------------------

/**
 * A merchant's webhook endpoint: 200 `SUCCESS` at once (UQPAY takes any 2xx,
 * QFPay wants SUCCESS). It runs on a thread of its own, as a merchant's
 * server is its own: on the bench's main thread it would answer only between
 * autocannon's callbacks, and the lag measured would be the load generator's.
 */
async function startReceiver(): Promise<{ url: string }> {
  const worker = new Worker(
    `const http = require('node:http');
     const { parentPort } = require('node:worker_threads');
     const server = http.createServer((req, res) => { req.resume(); req.on('end', () => res.end('SUCCESS')); });
     server.keepAliveTimeout = 60000;
     server.listen(0, ${JSON.stringify(HOST)}, () => parentPort.postMessage(server.address().port));`,
    { eval: true },
  );
  const port = await new Promise<number>((resolve, reject) => {
    worker.once('message', resolve);
    worker.once('error', reject);
  });
  cleanups.push(() => worker.terminate().then(() => undefined));
  return { url: `http://${HOST}:${port}/webhooks` };
}

interface Scrape {
  backlog: number;
  /** polypay_webhook_lag_seconds buckets summed over dialects: upper bound -> cumulative count. */
  lag: Map<number, number>;
  rssBytes: number;
}

/** The metrics the bench reads, asked for by name: a full scrape also counts every payment by status, a table scan. */
const SCRAPED = ['polypay_webhook_lag_seconds', 'polypay_outbox_backlog', 'polypay_process_resident_memory_bytes'].map((n) => `name=${n}`).join('&');

async function scrape(server: Server): Promise<Scrape> {
  const text = await (await fetch(`${server.baseUrl}/metrics?${SCRAPED}`)).text();
  const lag = new Map<number, number>();
  let backlog = 0;
  let rssBytes = 0;
  for (const line of text.split('\n')) {
    const bucket = /^polypay_webhook_lag_seconds_bucket\{[^}]*le="([^"]+)"[^}]*\} (\S+)$/.exec(line);
    if (bucket) {
      const le = bucket[1] === '+Inf' ? Infinity : Number(bucket[1]);
      lag.set(le, (lag.get(le) ?? 0) + Number(bucket[2]));
    } else if (line.startsWith('polypay_outbox_backlog ')) backlog = Number(line.split(' ')[1]);
    else if (line.startsWith('polypay_process_resident_memory_bytes ')) rssBytes = Number(line.split(' ')[1]);
  }
  return { backlog, lag, rssBytes };
}

/** A quantile of the lag observed between two scrapes, interpolated within its bucket as Prometheus' histogram_quantile does. */
function lagQuantile(before: Scrape, after: Scrape, q: number): number | null {
  const bounds = [...after.lag.keys()].sort((a, b) => a - b);
  const count = (le: number) => (after.lag.get(le) ?? 0) - (before.lag.get(le) ?? 0);
  const total = count(Infinity);
  if (total <= 0) return null;
  const rank = q * total;
  let lower = 0;
  let below = 0;
  for (const le of bounds) {
    const c = count(le);
    if (c >= rank) {
      if (le === Infinity) return lower;
      return lower + ((le - lower) * (rank - below)) / Math.max(1, c - below);
    }
    lower = le;
    below = c;
  }
  return null;
}

function lagMaxBound(before: Scrape, after: Scrape): number | null {
  const bounds = [...after.lag.keys()].sort((a, b) => a - b);
  const count = (le: number) => (after.lag.get(le) ?? 0) - (before.lag.get(le) ?? 0);
  const total = count(Infinity);
  if (total <= 0) return null;
  return bounds.find((le) => count(le) >= total) ?? null;
}

/** Waits until the server has no deliveries left to make; returns the seconds it took (capped at 60). */
async function drain(server: Server): Promise<{ backlogAtEnd: number; drainSeconds: number }> {
  const started = performance.now();
  const backlogAtEnd = (await scrape(server)).backlog;
  let backlog = backlogAtEnd;
  while (backlog > 0 && performance.now() - started < 60_000) {
    await new Promise((r) => setTimeout(r, 100));
    backlog = (await scrape(server)).backlog;
  }
  return { backlogAtEnd, drainSeconds: (performance.now() - started) / 1000 };
}

/**
 * Samples polypay_db_waiting four times a second until `done` settles: how
 * many units of work stood waiting for a pooled connection (PostgreSQL) or
 * for their group commit (SQLite) while the load ran.
 */
async function sampleDbWaiting(server: Server, done: Promise<unknown>): Promise<{ mean: number; max: number } | null> {
  const samples: number[] = [];
  let finished = false;
  void done.finally(() => (finished = true));
  while (!finished) {
    const text = await (await fetch(`${server.baseUrl}/metrics?name=polypay_db_waiting`)).text().catch(() => '');
    const line = text.split('\n').find((l) => l.startsWith('polypay_db_waiting '));
    if (line) samples.push(Number(line.split(' ')[1]));
    await new Promise((r) => setTimeout(r, 250));
  }
  return samples.length ? { mean: samples.reduce((a, b) => a + b, 0) / samples.length, max: Math.max(...samples) } : null;
}

async function measure(load: Load): Promise<Run> {
  const hooked = load.webhooksOf;
  if (WARMUP > 0) {
    await runAutocannon(WARMUP, load);
    if (hooked) await drain(hooked); // the warm-up's webhooks are not this run's
  }
  const lagBefore = hooked ? await scrape(hooked) : null;
  const before = cpuSample(load.target.pid, load.target.database);
  const running = runAutocannon(DURATION, load);
  // The peer has no /metrics.
  const waiting = load.name === 'peer' ? Promise.resolve(null) : sampleDbWaiting(load.target, running);
  const result = await running;
  const cpu = cpuUse(before, cpuSample(load.target.pid, load.target.database));
  const dbWaiting = await waiting;
  let webhooks: WebhookFigures | null = null;
  if (hooked && lagBefore) {
    const lagAfter = await scrape(hooked);
    const { backlogAtEnd, drainSeconds } = await drain(hooked);
    webhooks = {
      delivered: (lagAfter.lag.get(Infinity) ?? 0) - (lagBefore.lag.get(Infinity) ?? 0),
      lagP50: lagQuantile(lagBefore, lagAfter, 0.5),
      lagP99: lagQuantile(lagBefore, lagAfter, 0.99),
      lagMaxBound: lagMaxBound(lagBefore, lagAfter),
      backlogAtEnd,
      drainSeconds,
    };
  }
  return { ...result, cpu, webhooks, dbWaiting };
}

const invalid = (r: Run) => r.non2xx + r.errors + r.timeouts + r.unexpected > 0;

/** A QFPay MPM order (Alipay QR, 800101) as a form body with its X-QF-SIGN, as QFPay's clients send it. */
function qfpayRequest(appCode: string, clientKey: string, outTradeNo: string): { headers: Record<string, string>; body: string } {
  const params: Record<string, string> = {
    out_trade_no: outTradeNo,
    pay_type: '800101',
    txamt: '898',
    txcurrcd: 'HKD',
    txdtm: new Date().toISOString().replace('T', ' ').slice(0, 19),
    goods_name: 'bench',
  };
  return {
    headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-qf-appcode': appCode, 'x-qf-sign': signRequest(params, clientKey) },
    body: new URLSearchParams(params).toString(),
  };
}

/** An AlphaPay ONLINE_QRCODE order signed as AlphaPay's SDKs sign it (fresh Request-Time and Nonce each time). */
function alphapayRequest(merchantCode: string, privateKey: string, paymentRequestId: string): { headers: Record<string, string>; body: string } {
  const body = JSON.stringify({
    scenarioCode: 'ONLINE_QRCODE',
    paymentRequestId,
    order: { orderAmount: { value: '898', currency: 'CAD' }, description: 'bench' },
    paymentMethod: { paymentMethodType: 'Alipay' },
  });
  const time = new Date().toISOString();
  const nonce = randomBytes(16).toString('hex');
  const content = contentToSign({ method: 'POST', path: '/api/v2.0/payments/pay', merchantCode, time, nonce, body });
  return {
    headers: { 'content-type': 'application/json', 'merchant-code': merchantCode, 'request-time': time, nonce, signature: formatSignatureHeader(signContent(content, privateKey)) },
    body,
  };
}

// ---- one backend --------------------------------------------------------------------------------

interface LoadResult {
  name: string;
  route: string;
  webhooks: boolean;
  runs: Run[];
}

interface BackendResult {
  backend: string;
  loads: LoadResult[];
  /** Payments and orders the server took, and its resident memory after them. */
  committed: number;
  rssBytes: number;
  /** Resident memory before the first load and after each round, with the payments taken by then: flat or growing. */
  memory: Array<{ committed: number; rssBytes: number }>;
}

/**
 * A card issued on the platform for the issuing runs: a SHARE card without a
 * limit on an issuing balance deep enough for every request, and its secure
 * details for the closed-loop payments.
 */
async function issuedCard(baseUrl: string, headers: Record<string, string>): Promise<{ cardId: string; pan: string; cvv: string; month: string; year: string }> {
  const call = async (method: string, path: string, body?: unknown) => {
    const r = await fetch(`${baseUrl}${path}`, { method, headers, ...(body === undefined ? {} : { body: JSON.stringify(body) }) });
    const text = await r.text();
    if (r.status !== 200) throw new Error(`${method} ${path} failed: ${r.status} ${text.slice(0, 300)}`);
    return JSON.parse(text);
  };
  await call('POST', '/api/v1/simulation/issuing/deposit', { currency: 'USD', amount: '100000000' });
  const holder = await call('POST', '/api/v1/issuing/cardholders', { email: 'bench@example.com', first_name: 'Bench', last_name: 'Holder', country_code: 'SG', phone_number: '+6580000000' });
  const card = await call('POST', '/api/v1/issuing/cards', { cardholder_id: holder.cardholder_id, card_product_id: '467e993f-317a-49fc-9ea0-bf49de7d1f76', card_currency: 'USD' });
  const advanced = await fetch(`${baseUrl}/sim/v1/clock/advance`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ seconds: 5 }) });
  if (advanced.status !== 200) throw new Error(`clock advance failed: ${advanced.status}`);
  const secure = await call('GET', `/api/v1/issuing/cards/${card.card_id}/secure`);
  const [month, yy] = (secure.expire_date as string).split('/') as [string, string];
  return { cardId: card.card_id, pan: secure.card_number, cvv: secure.cvv, month, year: `20${yy}` };
}

/** The loads of one backend, for merchants without and with webhooks. */
async function backendLoads(server: Server, peer: Server, receiverUrl: string): Promise<Load[]> {
  const runId = randomBytes(4).toString('hex');
  const template = bodyTemplate();
  const minimal: Load = {
    name: 'minimal',
    route: 'POST /sim/v1/echo',
    target: server,
    request: { method: 'POST', path: '/sim/v1/echo', headers: { 'content-type': 'application/json' }, body: template(`bench-${runId}-echo`) },
    check: (body) => body.startsWith('{"received":true'),
  };
  const peerLoad = await probedLoad(peer, 'peer', 'POST /v1/charges (peer)', '/v1/charges',
    () => ({ headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: `Bearer ${PEER_KEY}` }, body: 'amount=898&currency=sgd&source=tok_visa&description=bench' }),
    (body) => body.includes('"status":"succeeded"'));
  const loads: Load[] = [peerLoad, minimal];
  for (const webhookUrl of [undefined, receiverUrl]) {
    const tag = webhookUrl ? 'wh' : 'plain';
    const m = await createMerchant(server.env, webhookUrl);
    const auth = await token(server.baseUrl, m.clientId, m.apiKey);
    const headers = { 'content-type': 'application/json', 'x-auth-token': `Bearer ${auth}`, 'x-client-id': m.clientId };
    const payment = await probedLoad(server, 'payment', 'POST /api/v2/payment_intents/create', '/api/v2/payment_intents/create',
      (id) => ({ headers: { ...headers, 'x-idempotency-key': `bench-${runId}-${tag}-${id}` }, body: template(`bench-${runId}-${tag}-${id}`) }),
      (body) => body.includes('"intent_status":"SUCCEEDED"'));
    const qfpay = await probedLoad(server, 'qfpay', 'POST /trade/v1/payment (MPM)', '/trade/v1/payment',
      (id) => qfpayRequest(m.appCode, m.clientKey, `bench-${runId}-${tag}-qf-${id}`),
      (body) => body.includes('"respcd":"0000"') && body.includes('"qrcode":"'));
    const alphapay = await probedLoad(server, 'alphapay', 'POST /api/v2.0/payments/pay (QR)', '/api/v2.0/payments/pay',
      (id) => alphapayRequest(m.alphapayCode, m.alphapayKey, `bench-${runId}-${tag}-ap-${id}`),
      (body) => body.includes('"resultCode":"SUCCESS"') && body.includes('"paymentQRImage":"data:image/png;base64,'));
    const card = await issuedCard(server.baseUrl, headers);
    const authorization = JSON.stringify({ card_id: card.cardId, transaction_amount: '0.01', transaction_currency: 'USD', merchant_name: 'bench', merchant_category_code: '5999' });
    const issuing = await probedLoad(server, 'issuing', 'POST /api/v1/simulation/issuing/authorization', '/api/v1/simulation/issuing/authorization',
      (id) => ({ headers: { ...headers, 'x-idempotency-key': `bench-${runId}-${tag}-auth-${id}` }, body: authorization }),
      (body) => body.includes('"transaction_status":"APPROVED"'));
    const closedBody = (orderId: string) =>
      JSON.stringify({
        ...intentBody({ merchant_order_id: orderId, amount: '0.01', currency: 'USD' }),
        payment_method: seedCard({ card_number: card.pan, expiry_month: card.month, expiry_year: card.year, cvc: card.cvv, network: 'visa' }),
      });
    const closed = await probedLoad(server, 'closed', 'POST /api/v2/payment_intents/create (issued)', '/api/v2/payment_intents/create',
      (id) => ({ headers: { ...headers, 'x-idempotency-key': `bench-${runId}-${tag}-cl-${id}` }, body: closedBody(`bench-${runId}-${tag}-cl-${id}`) }),
      (body) => body.includes('"intent_status":"SUCCEEDED"'));
    for (const l of [payment, qfpay, alphapay, issuing, closed]) loads.push(webhookUrl ? { ...l, webhooksOf: server } : l);
  }
  return loads.filter((l) => !ROUTES || ROUTES.has(l.name));
}

async function benchBackend(backend: 'sqlite' | 'postgres', peer: Server, receiverUrl: string): Promise<BackendResult> {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'polypay-bench-'));
  cleanups.push(() => rmSync(dataDir, { recursive: true, force: true }));
  const databaseUrl = backend === 'postgres' ? await createBenchDatabase() : undefined;
  const server = await startServer(dataDir, databaseUrl);
  try {
    const loads = await backendLoads(server, peer, receiverUrl);
    const results: LoadResult[] = loads.map((l) => ({ name: l.name, route: l.route, webhooks: !!l.webhooksOf, runs: [] }));
    const committedSoFar = () => results.filter((r) => r.name !== 'minimal' && r.name !== 'peer').reduce((n, r) => n + r.runs.reduce((m, x) => m + x.total, 0), 0);
    const memory = [{ committed: 0, rssBytes: (await scrape(server)).rssBytes }];
    // Alternated: each round runs every load once, so a slow phase of the machine falls on all of them.
    for (let round = 0; round < ROUNDS; round++) {
      for (const [i, load] of loads.entries()) results[i]!.runs.push(await measure(load));
      memory.push({ committed: committedSoFar(), rssBytes: (await scrape(server)).rssBytes });
    }
    return { backend, loads: results, committed: committedSoFar(), rssBytes: memory.at(-1)!.rssBytes, memory };
  } catch (e) {
    const tail = server.output().split('\n').slice(-30).join('\n');
    throw new Error(`${(e as Error).message}\n--- server output (last lines) ---\n${tail}`);
  } finally {
    await server.stop();
  }
}

// ---- report -----------------------------------------------------------------------------------

const LABEL: Record<string, string> = { sqlite: 'SQLite', postgres: 'PostgreSQL' };

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

const medianOf = (runs: Run[], f: (r: Run) => number | null | undefined): number | null => {
  const xs = runs.map(f).filter((x): x is number => typeof x === 'number' && Number.isFinite(x));
  return xs.length ? median(xs) : null;
};

/** Event-loop microseconds per request. */
const loopUs = (r: Run) => (r.cpu && r.requestsPerSec > 0 ? (r.cpu.serverMain * 1e6) / r.requestsPerSec : null);
const fmt = (x: number | null, digits = 0) => (x === null ? '-' : x.toFixed(digits));
const ms = (s: number | null) => (s === null ? '-' : (s * 1000).toFixed(0));

function printBackend(r: BackendResult): void {
  const rate = (name: string, hooks = false) => medianOf(r.loads.find((l) => l.name === name && l.webhooks === hooks)?.runs ?? [], (x) => x.requestsPerSec);
  const peer = rate('peer');
  const minimal = rate('minimal');
  console.log(`\n${LABEL[r.backend]} (${CONNECTIONS} connections, ${DURATION} s per run${WARMUP ? ` after ${WARMUP} s warm-up` : ''}, median of ${ROUNDS} alternated runs)`);
  console.log(
    `  ${'load'.padEnd(8)} ${'route'.padEnd(37)} ${'webhooks'.padEnd(8)} ${'req/s'.padStart(7)} ${'p50'.padStart(5)} ${'p99'.padStart(5)} ${'us/req'.padStart(7)} ${'/peer'.padStart(6)} ${'/minimal'.padStart(8)} ${'db wait'.padStart(9)}` +
      `  ${'lag p50'.padStart(7)} ${'p99'.padStart(5)} ${'max<='.padStart(6)} ${'backlog'.padStart(7)} ${'drain s'.padStart(7)}`,
  );
  for (const l of r.loads) {
    const rps = medianOf(l.runs, (x) => x.requestsPerSec);
    const hooks = l.webhooks ? l.runs.map((x) => x.webhooks!) : [];
    const hm = (f: (w: WebhookFigures) => number | null) => (hooks.length ? medianOf(l.runs, (x) => (x.webhooks ? f(x.webhooks) : null)) : null);
    const maxBound = hooks.length ? Math.max(...hooks.map((w) => w.lagMaxBound ?? 0)) : null;
    console.log(
      `  ${l.name.padEnd(8)} ${l.route.padEnd(37)} ${(l.webhooks ? 'on' : l.name === 'peer' || l.name === 'minimal' ? '' : 'off').padEnd(8)} ${fmt(rps).padStart(7)} ${fmt(medianOf(l.runs, (x) => x.p50)).padStart(5)} ${fmt(medianOf(l.runs, (x) => x.p99)).padStart(5)}` +
        ` ${fmt(medianOf(l.runs, loopUs)).padStart(7)} ${(peer && rps && l.name !== 'peer' ? (rps / peer).toFixed(2) : '').padStart(6)} ${(minimal && rps && l.name !== 'minimal' && l.name !== 'peer' ? `${((rps / minimal) * 100).toFixed(1)}%` : '').padStart(8)}` +
        ` ${(l.name === 'peer' ? '' : `${fmt(medianOf(l.runs, (x) => x.dbWaiting?.mean), 1)}/${fmt(medianOf(l.runs, (x) => x.dbWaiting?.max))}`).padStart(9)}` +
        (l.webhooks ? `  ${ms(hm((w) => w.lagP50)).padStart(7)} ${ms(hm((w) => w.lagP99)).padStart(5)} ${ms(maxBound === Infinity ? null : maxBound).padStart(6)} ${fmt(hm((w) => w.backlogAtEnd)).padStart(7)} ${fmt(hm((w) => w.drainSeconds), 1).padStart(7)}` : ''),
    );
  }
  console.log('  (latencies in ms; us/req: the server\'s event-loop CPU per request; db wait: units waiting for a database connection or group commit, mean/max of 4 samples a second;');
  console.log('   lag: event recorded to webhook acknowledged, ms, from the server\'s histogram;');
  console.log('   backlog: deliveries left when the load stopped; drain s: until none were left)');
  console.log(`  runs, req/s each: ${r.loads.map((l) => `${l.name}${l.webhooks ? '+wh' : ''} ${l.runs.map((x) => x.requestsPerSec.toFixed(0)).join('/')}`).join(', ')}`);
  console.log(`  server resident memory after ${r.committed} payments and orders: ${(r.rssBytes / 1024 / 1024).toFixed(0)} MB`);
  console.log(`  resident memory by round (payments so far: MB): ${r.memory.map((m) => `${m.committed}: ${(m.rssBytes / 1024 / 1024).toFixed(0)}`).join(', ')}`);
  for (const l of r.loads) {
    for (const [i, x] of l.runs.entries()) {
      if (x.cpu && x.cpu.other > 0.15) console.log(`  WARNING: other processes used ${x.cpu.other.toFixed(2)} cores during ${l.name}${l.webhooks ? '+wh' : ''} run ${i + 1}: its numbers are low`);
      if (invalid(x)) console.log(`  INVALID: ${l.route} run ${i + 1} had ${x.non2xx} non-2xx, ${x.errors} errors (${x.timeouts} timeouts), ${x.unexpected} unexpected bodies; first: ${x.sample}`);
    }
  }
}

async function main(): Promise<number> {
  const started = Date.now();
  // A run that hangs must still end: per backend and round, 14 loads of warm-up + run + probes, and the
  // webhook loads' backlogs drained (each waits at most 60 s), plus starts and teardowns.
  const budgetMs = 2 * (ROUNDS * (14 * (DURATION + WARMUP + 5) + 5 * 2 * 60) + 60) * 1000;
  const watchdog = setTimeout(() => {
    console.error(`bench: over its time budget (${budgetMs / 1000} s), stopping`);
    void runCleanups().finally(() => process.exit(1));
  }, budgetMs);
  watchdog.unref();

  console.log(`polypay bench: ${os.cpus().length} cores, ${os.cpus()[0]?.model.trim() ?? 'unknown CPU'}, node ${process.version}, ${new Date().toISOString()}`);
  // As `npm start` does: compile the sources unless the build is current.
  if (SERVER_RUNS === 'compiled') execFileSync(process.execPath, [path.join(ROOT, 'scripts', 'build.js')], { cwd: ROOT, stdio: 'inherit' });
  console.log(`server: ${SERVER_RUNS === 'compiled' ? 'compiled JavaScript' : 'TypeScript sources through tsx'}${NODE_ARGS.length ? `, node ${NODE_ARGS.join(' ')}` : ''}`);
  const results: BackendResult[] = [];
  let ok = true;
  try {
    const peer = await startPeer();
    const receiver = await startReceiver();
    if (ONLY !== 'postgres') {
      const r = await benchBackend('sqlite', peer, receiver.url);
      printBackend(r);
      results.push(r);
    }
    if (ONLY !== 'sqlite') {
      const reason = await pgUnavailable(PG_ADMIN_URL);
      if (reason) {
        console.log(`\nPostgreSQL: SKIPPED (no server answers at ${PG_ADMIN_URL.replace(/\/\/[^@/]*@/, '//')}: ${reason})`);
      } else {
        const r = await benchBackend('postgres', peer, receiver.url);
        printBackend(r);
        results.push(r);
      }
    }
    const sqlite = results.find((r) => r.backend === 'sqlite');
    const pg = results.find((r) => r.backend === 'postgres');
    if (sqlite && pg) {
      const of = (r: BackendResult, hooks: boolean) => r.loads.find((l) => l.name === 'payment' && l.webhooks === hooks)?.runs ?? [];
      for (const hooks of [false, true]) {
        const s = medianOf(of(sqlite, hooks), (x) => x.requestsPerSec);
        const p = medianOf(of(pg, hooks), (x) => x.requestsPerSec);
        const su = medianOf(of(sqlite, hooks), loopUs);
        const pu = medianOf(of(pg, hooks), loopUs);
        if (s && p) console.log(`\ncard payments, webhooks ${hooks ? 'on' : 'off'}: PostgreSQL/SQLite ${(p / s).toFixed(2)} in rate, ${su && pu ? (pu / su).toFixed(2) : '-'} in event-loop CPU per payment`);
      }
    }
  } catch (e) {
    console.error(`\nbench failed: ${(e as Error).message}`);
    ok = false;
  } finally {
    await runCleanups();
    clearTimeout(watchdog);
  }
  if (results.some((r) => r.loads.some((l) => l.runs.some(invalid)))) ok = false;
  if (process.env.BENCH_JSON) {
    writeFileSync(process.env.BENCH_JSON, JSON.stringify({ date: new Date().toISOString(), connections: CONNECTIONS, duration: DURATION, rounds: ROUNDS, results }, null, 2) + '\n');
  }
  console.log(`\n${ok ? 'done' : 'FAILED'} in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  return ok ? 0 : 1;
}

process.exitCode = await main();

/**
 * `npm run bench`: load-tests a real polypay process, started the way a user
 * starts it, on SQLite and (when a server answers) on PostgreSQL.
 *
 * For each backend: start `node bin/polypay.js start` on a free port with a
 * fresh data dir (and a fresh database), create a merchant with the CLI, get a
 * UQPAY token, then run autocannon against 127.0.0.1:
 *   minimal  POST /sim/v1/echo                      (JSON parse + reply, no storage)
 *   payment  POST /api/v2/payment_intents/create    (seed 000: card payment, committed)
 *   qfpay    POST /trade/v1/payment                  (QFPay MPM Alipay QR order, signed form, committed)
 *   alphapay POST /api/v2.0/payments/pay            (AlphaPay ONLINE_QRCODE order, RSA-signed, answer signed, committed)
 * and print requests/s, p50/p99 latency, non-2xx counts and each route / minimal.
 *
 * Environment:
 *   BENCH_DURATION     seconds per measured run (default 10)
 *   BENCH_WARMUP       seconds of unmeasured load before each run (default 2; 0 turns it off)
 *   BENCH_CONNECTIONS  concurrent connections (default 50)
 *   BENCH_PG_URL       PostgreSQL admin URL (default postgres://postgres@127.0.0.1:5432/test)
 *   BENCH_ONLY         sqlite | postgres: run one backend only
 *   BENCH_NODE_ARGS    extra node flags for the server process (e.g. --cpu-prof --cpu-prof-dir=/tmp/prof)
 *   BENCH_JSON         write the results as JSON to this file as well
 *
 * Exit code 1 when any run saw errors, non-2xx answers or unexpected bodies:
 * such a benchmark is invalid.
 */
import autocannon, { type Request, type Result } from 'autocannon';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { contentToSign, formatSignatureHeader, signContent } from '../src/dialects/alphapay/signature.ts';
import { signRequest } from '../src/dialects/qfpay/signature.ts';
import { createPgDatabase, pgUnavailable } from '../test/support/postgres.ts';
import { intentBody, seedCard } from '../test/support/seed-bodies.ts';

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
const PG_ADMIN_URL = process.env.BENCH_PG_URL || 'postgres://postgres@127.0.0.1:5432/test';
const ONLY = process.env.BENCH_ONLY;
const NODE_ARGS = (process.env.BENCH_NODE_ARGS ?? '').split(/\s+/).filter(Boolean);

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

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, HOST, () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

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
  const env: NodeJS.ProcessEnv = { ...process.env, PORT: String(port), HOST, POLYPAY_DATA_DIR: dataDir };
  delete env.DATABASE_URL; // SQLite unless this run is PostgreSQL's
  if (databaseUrl) env.DATABASE_URL = databaseUrl;
  return env;
}

async function startServer(dataDir: string, databaseUrl: string | undefined): Promise<Server> {
  const port = await freePort();
  const env = serverEnv(port, dataDir, databaseUrl);
  const child: ChildProcess = spawn(process.execPath, [...NODE_ARGS, BIN, 'start'], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
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
    if (!running) throw new Error(`server exited before it was healthy:\n${out}`);
    try {
      const r = await fetch(`${baseUrl}/healthz`, { signal: AbortSignal.timeout(1000) });
      if (r.status === 200) break;
    } catch {
      /* not listening yet */
    }
    if (Date.now() > deadline) throw new Error(`server not healthy after 30 s:\n${out}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  const database = databaseUrl ? decodeURIComponent(new URL(databaseUrl).pathname.slice(1)) : null;
  return { baseUrl, pid: child.pid!, database, env, output: () => out, stop };
}

interface BenchMerchant {
  clientId: string;
  apiKey: string;
  appCode: string;
  clientKey: string;
  alphapayCode: string;
  alphapayKey: string;
}

function createMerchant(env: NodeJS.ProcessEnv): Promise<BenchMerchant> {
  return new Promise((resolve, reject) => {
    execFile(process.execPath, [BIN, 'merchant', 'create', '--name', 'bench', '--json'], { cwd: ROOT, env, timeout: 30_000 }, (err, stdout, stderr) => {
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

interface RouteResult {
  route: string;
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
}

interface Load {
  route: string;
  request: Request;
  /** True when the 2xx body is right. */
  check: (body: string) => boolean;
}

/**
 * A load whose every request is new (`make` gets a fresh id each time), after
 * one probe request, so a broken setup fails with a clear message rather than
 * 50k non-2xx answers.
 */
async function probedLoad(
  baseUrl: string,
  route: string,
  path: string,
  make: (id: string) => { headers: Record<string, string>; body: string },
  check: (body: string) => boolean,
): Promise<Load> {
  const probe = make('probe');
  const reply = await fetch(`${baseUrl}${path}`, { method: 'POST', headers: probe.headers, body: probe.body });
  const text = await reply.text();
  if (reply.status !== 200 || !check(text)) throw new Error(`probe of ${route} failed: ${reply.status} ${text.slice(0, 500)}`);
  let n = 0;
  return {
    route,
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

function runAutocannon(url: string, duration: number, load: Load): Promise<Omit<RouteResult, 'cpu'>> {
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
    autocannon({ url, requests: [request], connections: CONNECTIONS, duration, timeout: 10 }, (err, r: Result) => {
      if (err) return reject(err);
      resolve({
        route: load.route,
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

async function measure(server: Server, load: Load): Promise<RouteResult> {
  if (WARMUP > 0) await runAutocannon(server.baseUrl, WARMUP, load);
  const before = cpuSample(server.pid, server.database);
  const result = await runAutocannon(server.baseUrl, DURATION, load);
  return { ...result, cpu: cpuUse(before, cpuSample(server.pid, server.database)) };
}

const invalid = (r: RouteResult) => r.non2xx + r.errors + r.timeouts + r.unexpected > 0;

interface BackendResult {
  backend: string;
  minimal: RouteResult;
  payment: RouteResult;
  ratio: number;
  qfpay: RouteResult;
  qfpayRatio: number;
  alphapay: RouteResult;
  alphapayRatio: number;
}

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

async function benchBackend(backend: 'sqlite' | 'postgres'): Promise<BackendResult> {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'polypay-bench-'));
  cleanups.push(() => rmSync(dataDir, { recursive: true, force: true }));
  const databaseUrl = backend === 'postgres' ? await createBenchDatabase() : undefined;
  const server = await startServer(dataDir, databaseUrl);
  try {
    const { clientId, apiKey, appCode, clientKey, alphapayCode, alphapayKey } = await createMerchant(server.env);
    const auth = await token(server.baseUrl, clientId, apiKey);
    const template = bodyTemplate();
    const runId = randomBytes(4).toString('hex');
    const headers = {
      'content-type': 'application/json',
      'x-auth-token': `Bearer ${auth}`,
      'x-client-id': clientId,
    };

    const minimal: Load = {
      route: 'POST /sim/v1/echo',
      request: { method: 'POST', path: '/sim/v1/echo', headers: { 'content-type': 'application/json' }, body: template(`bench-${runId}-echo`) },
      check: (body) => body.startsWith('{"received":true'),
    };
    const payment = await probedLoad(server.baseUrl, 'POST /api/v2/payment_intents/create', '/api/v2/payment_intents/create',
      (id) => ({ headers: { ...headers, 'x-idempotency-key': `bench-${runId}-${id}` }, body: template(`bench-${runId}-${id}`) }),
      (body) => body.includes('"intent_status":"SUCCEEDED"'));
    const qfpay = await probedLoad(server.baseUrl, 'POST /trade/v1/payment (MPM)', '/trade/v1/payment',
      (id) => qfpayRequest(appCode, clientKey, `bench-${runId}-qf-${id}`),
      (body) => body.includes('"respcd":"0000"') && body.includes('"qrcode":"'));
    const alphapay = await probedLoad(server.baseUrl, 'POST /api/v2.0/payments/pay (QR)', '/api/v2.0/payments/pay',
      (id) => alphapayRequest(alphapayCode, alphapayKey, `bench-${runId}-ap-${id}`),
      (body) => body.includes('"resultCode":"SUCCESS"') && body.includes('"paymentQRImage":"data:image/png;base64,'));

    const m = await measure(server, minimal);
    const p = await measure(server, payment);
    const qf = await measure(server, qfpay);
    const ap = await measure(server, alphapay);
    return {
      backend,
      minimal: m,
      payment: p,
      ratio: p.requestsPerSec / m.requestsPerSec,
      qfpay: qf,
      qfpayRatio: qf.requestsPerSec / m.requestsPerSec,
      alphapay: ap,
      alphapayRatio: ap.requestsPerSec / m.requestsPerSec,
    };
  } catch (e) {
    const tail = server.output().split('\n').slice(-30).join('\n');
    throw new Error(`${(e as Error).message}\n--- server output (last lines) ---\n${tail}`);
  } finally {
    await server.stop();
  }
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

// ---- report -----------------------------------------------------------------------------------

const LABEL: Record<string, string> = { sqlite: 'SQLite', postgres: 'PostgreSQL' };

function printBackend(r: BackendResult): void {
  const row = (name: string, x: RouteResult) =>
    `  ${name.padEnd(8)} ${x.route.padEnd(37)} ${x.requestsPerSec.toFixed(0).padStart(8)} ${String(x.p50).padStart(7)} ${String(x.p99).padStart(7)} ${String(x.non2xx).padStart(8)} ${String(x.errors + x.timeouts).padStart(7)} ${String(x.unexpected).padStart(10)}`;
  console.log(`\n${LABEL[r.backend]} (${CONNECTIONS} connections, ${DURATION} s per run${WARMUP ? `, after ${WARMUP} s warm-up` : ''})`);
  console.log(`  ${'run'.padEnd(8)} ${'route'.padEnd(37)} ${'req/s'.padStart(8)} ${'p50 ms'.padStart(7)} ${'p99 ms'.padStart(7)} ${'non-2xx'.padStart(8)} ${'errors'.padStart(7)} ${'bad body'.padStart(10)}`);
  console.log(row('minimal', r.minimal));
  console.log(row('payment', r.payment));
  console.log(row('qfpay', r.qfpay));
  console.log(row('alphapay', r.alphapay));
  console.log(`  payment/minimal: ${(r.ratio * 100).toFixed(1)}%  (${r.payment.total} payments, each committed before its response)`);
  console.log(`  qfpay/minimal:   ${(r.qfpayRatio * 100).toFixed(1)}%  (${r.qfpay.total} QR orders, each committed before its response)`);
  console.log(`  alphapay/minimal: ${(r.alphapayRatio * 100).toFixed(1)}%  (${r.alphapay.total} AlphaPay QR orders, each committed before its response)`);
  for (const [name, x] of [['minimal', r.minimal], ['payment', r.payment], ['qfpay', r.qfpay], ['alphapay', r.alphapay]] as const) {
    if (!x.cpu) continue;
    const { server, serverMain, loader, database, other } = x.cpu;
    const perRequest = x.requestsPerSec > 0 ? ((serverMain * 1e6) / x.requestsPerSec).toFixed(0) : '-';
    console.log(
      `  cpu during ${name}: server ${server.toFixed(2)} cores (event loop thread ${serverMain.toFixed(2)}, ${perRequest} us per request), ` +
        `${r.backend === 'postgres' ? `PostgreSQL ${database.toFixed(2)}, ` : ''}load generator ${loader.toFixed(2)}, other processes ${other.toFixed(2)}`,
    );
    if (other > 0.15) console.log(`  WARNING: other processes used ${other.toFixed(2)} cores during the ${name} run: its numbers are low`);
  }
  for (const x of [r.minimal, r.payment, r.qfpay, r.alphapay]) {
    if (invalid(x)) console.log(`  INVALID: ${x.route} had ${x.non2xx} non-2xx, ${x.errors} errors (${x.timeouts} timeouts), ${x.unexpected} unexpected bodies; first: ${x.sample}`);
  }
}

async function main(): Promise<number> {
  const started = Date.now();
  // A run that hangs must still end. A normal run takes about 2 x (4 x (warm-up + duration) + 5) s;
  // the budget adds 20 s per backend for slow starts and teardowns.
  const budgetMs = 2 * (4 * (DURATION + WARMUP) + 25) * 1000;
  const watchdog = setTimeout(() => {
    console.error(`bench: over its time budget (${budgetMs / 1000} s), stopping`);
    void runCleanups().finally(() => process.exit(1));
  }, budgetMs);
  watchdog.unref();

  console.log(`polypay bench: ${os.cpus().length} cores, ${os.cpus()[0]?.model.trim() ?? 'unknown CPU'}, node ${process.version}`);
  const results: BackendResult[] = [];
  let ok = true;
  try {
    if (ONLY !== 'postgres') {
      const r = await benchBackend('sqlite');
      printBackend(r);
      results.push(r);
    }
    if (ONLY !== 'sqlite') {
      const reason = await pgUnavailable(PG_ADMIN_URL);
      if (reason) {
        console.log(`\nPostgreSQL: SKIPPED (no server answers at ${PG_ADMIN_URL.replace(/\/\/[^@/]*@/, '//')}: ${reason})`);
      } else {
        const r = await benchBackend('postgres');
        printBackend(r);
        results.push(r);
      }
    }
  } catch (e) {
    console.error(`\nbench failed: ${(e as Error).message}`);
    ok = false;
  } finally {
    await runCleanups();
    clearTimeout(watchdog);
  }
  if (results.some((r) => invalid(r.minimal) || invalid(r.payment) || invalid(r.qfpay) || invalid(r.alphapay))) ok = false;
  if (process.env.BENCH_JSON) {
    writeFileSync(process.env.BENCH_JSON, JSON.stringify({ date: new Date().toISOString(), connections: CONNECTIONS, duration: DURATION, results }, null, 2) + '\n');
  }
  console.log(`\n${ok ? 'done' : 'FAILED'} in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  return ok ? 0 : 1;
}

process.exitCode = await main();

/**
 * `npm run bench:memory`: the server's resident memory under sustained card
 * payments (issue 18: flat under load, under 200 MB after 100k payments), for
 * several ways of running it, alternated, on SQLite.
 *
 * Each round starts one fresh server per variant, in turn: `node [flags]
 * bin/polypay.js start` with a new data dir, creates a merchant without a
 * webhook URL through the CLI, then sends BENCH_PAYMENTS UQPAY card payments
 * (seed 000, every one new, 50 connections) and samples the server's RSS
 * from /proc every 250 ms. It prints, per variant and round, the RSS before
 * the first payment, after each quarter of the payments, the highest seen,
 * payments/s and their p99 latency; then the medians over the rounds.
 *
 * Environment:
 *   BENCH_PAYMENTS     card payments per server (default 100000)
 *   BENCH_ROUNDS       rounds (default 3)
 *   BENCH_CONNECTIONS  concurrent connections (default 50)
 *   BENCH_VARIANTS     variants separated by `;`, each `compiled`, `source` (tsx) or `start` (compiled,
 *                      with npm start's node flags), then node flags; default "source;compiled;start"
 */
import autocannon from 'autocannon';
import { execFile, execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort } from '../test/support/receiver.ts';
import { intentBody, seedCard } from '../test/support/seed-bodies.ts';
import { startNodeFlags } from '../test/support/start-command.ts';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const BIN = path.join(ROOT, 'bin', 'polypay.js');
const HOST = '127.0.0.1';
const PAYMENTS = Number(process.env.BENCH_PAYMENTS || 100_000);
const ROUNDS = Number(process.env.BENCH_ROUNDS || 3);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS || 50);
const VARIANTS = (process.env.BENCH_VARIANTS || 'source;compiled;start')
  .split(';')
  .map((v) => v.trim())
  .filter(Boolean)
  .map((v) => {
    const [first, ...flags] = v.split(/\s+/) as [string, ...string[]];
    if (first !== 'compiled' && first !== 'source' && first !== 'start') throw new Error(`a variant starts with compiled, source or start, not ${first}`);
    if (first === 'start') return { label: `${v} (${startNodeFlags().join(' ')})`, runs: 'compiled', flags: [...startNodeFlags(), ...flags] };
    return { label: v, runs: first, flags };
  });

const MB = (bytes: number) => Math.round(bytes / 1024 / 1024);

/** The process's resident memory (0 once it has exited). */
function rssOf(pid: number): number {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) * 1024 : 0;
  } catch {
    return 0;
  }
}


interface RoundResult {
  startRss: number;
  quarters: number[];
  maxRss: number;
  rate: number;
  /** Latency of the payments, ms. */
  p99: number;
  /** After the last payment: what the RSS is made of, from /proc and the server's GET /metrics. */
  end: { anon: number; file: number; heapTotal: number; heapUsed: number; newSpace: number; oldSpace: number; external: number };
}

function procStatus(pid: number, field: string): number {
  try {
    const m = new RegExp(`${field}:\\s+(\\d+) kB`).exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) * 1024 : 0;
  } catch {
    return 0;
  }
}

async function heapFigures(base: string): Promise<{ heapTotal: number; heapUsed: number; newSpace: number; oldSpace: number; external: number }> {
  const names = ['polypay_nodejs_heap_size_total_bytes', 'polypay_nodejs_heap_size_used_bytes', 'polypay_nodejs_heap_space_size_total_bytes', 'polypay_nodejs_external_memory_bytes'];
  const text = await (await fetch(`${base}/metrics?${names.map((n) => `name=${n}`).join('&')}`)).text();
  const value = (prefix: string) => Number(text.split('\n').find((l) => l.startsWith(prefix))?.split(' ').at(-1) ?? 0);
  return {
    heapTotal: value('polypay_nodejs_heap_size_total_bytes '),
    heapUsed: value('polypay_nodejs_heap_size_used_bytes '),
    newSpace: value('polypay_nodejs_heap_space_size_total_bytes{space="new"}'),
    oldSpace: value('polypay_nodejs_heap_space_size_total_bytes{space="old"}'),
    external: value('polypay_nodejs_external_memory_bytes '),
  };
}

async function runVariant(v: (typeof VARIANTS)[number]): Promise<RoundResult> {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'polypay-memory-'));
  const port = await freePort();
  const env: NodeJS.ProcessEnv = { ...process.env, PORT: String(port), HOST, POLYPAY_DATA_DIR: dataDir, POLYPAY_RUN: v.runs };
  delete env.DATABASE_URL;
  const child = spawn(process.execPath, [...v.flags, BIN, 'start'], { cwd: ROOT, env, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d) => (stderr += d));
  const base = `http://${HOST}:${port}`;
  try {
    for (let i = 0; ; i++) {
      if (child.exitCode !== null) throw new Error(`server exited: ${stderr}`);
      try {
        if ((await fetch(`${base}/healthz`)).status === 200) break;
      } catch {
        /* not yet */
      }
      if (i > 300) throw new Error('server not ready after 30 s');
      await new Promise((r) => setTimeout(r, 100));
    }
    const created = await new Promise<{ uqpay: { client_id: string; api_key: string } }>((resolve, reject) =>
      execFile(process.execPath, [BIN, 'merchant', 'create', '--name', 'memory', '--json'], { cwd: ROOT, env }, (err, out) => (err ? reject(err) : resolve(JSON.parse(out.trim().split('\n').pop()!)))),
    );
    const t = await fetch(`${base}/api/v1/connect/token`, { method: 'POST', headers: { 'x-client-id': created.uqpay.client_id, 'x-api-key': created.uqpay.api_key } });
    const auth = ((await t.json()) as { auth_token: string }).auth_token;
    const headers = { 'content-type': 'application/json', 'x-auth-token': `Bearer ${auth}`, 'x-client-id': created.uqpay.client_id };
    const runId = randomBytes(4).toString('hex');
    const [head, tail] = JSON.stringify({ ...intentBody({ merchant_order_id: '__ID__' }), payment_method: seedCard() }).split('__ID__') as [string, string];
    await new Promise((r) => setTimeout(r, 1000));
    const startRss = rssOf(child.pid!);

    let sent = 0;
    let bad = 0;
    let done = 0;
    const quarters: number[] = [];
    let maxRss = startRss;
    const sampler = setInterval(() => (maxRss = Math.max(maxRss, rssOf(child.pid!))), 250);
    const started = Date.now();
    let p99 = 0;
    let lastAnswer = started;
    await new Promise<void>((resolve, reject) => {
      autocannon(
        {
          url: base,
          connections: CONNECTIONS,
          amount: PAYMENTS,
          timeout: 10,
          requests: [
            {
              method: 'POST',
              path: '/api/v2/payment_intents/create',
              setupRequest(req) {
                const id = `mem-${runId}-${++sent}`;
                return { ...req, headers: { ...headers, 'x-idempotency-key': id }, body: head + id + tail };
              },
              onResponse(status: number, body: string) {
                if (status !== 200 || !body.includes('"intent_status":"SUCCEEDED"')) bad++;
                if (++done % (PAYMENTS / 4) === 0) quarters.push(rssOf(child.pid!));
                lastAnswer = Date.now();
              },
            },
          ],
        },
        (err, result) => {
          if (err) return reject(err);
          p99 = result.latency.p99;
          resolve();
        },
      );
    });
    // To the last answer: autocannon reports the end on its next 1 s tick.
    const seconds = (lastAnswer - started) / 1000;
    clearInterval(sampler);
    if (child.exitCode !== null || child.signalCode !== null) throw new Error(`the server exited during the run (${child.signalCode ?? child.exitCode}): ${stderr.slice(-500)}`);
    if (bad) throw new Error(`${bad} payments failed`);
    const end = { anon: procStatus(child.pid!, 'RssAnon'), file: procStatus(child.pid!, 'RssFile'), ...(await heapFigures(base)) };
    return { startRss, quarters, maxRss, rate: PAYMENTS / seconds, p99, end };
  } finally {
    child.kill('SIGTERM');
    await new Promise((r) => (child.exitCode === null ? child.once('exit', r) : r(null)));
    rmSync(dataDir, { recursive: true, force: true });
  }
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

console.log(`polypay memory bench: ${os.cpus().length} cores, node ${process.version}, ${new Date().toISOString()}, ${PAYMENTS} card payments per server, SQLite, ${CONNECTIONS} connections`);
if (VARIANTS.some((v) => v.runs === 'compiled')) execFileSync(process.execPath, [path.join(ROOT, 'scripts', 'build.js')], { cwd: ROOT, stdio: 'inherit' });
const results = new Map<string, RoundResult[]>(VARIANTS.map((v) => [v.label, []]));
for (let round = 1; round <= ROUNDS; round++) {
  for (const v of VARIANTS) {
    let r: RoundResult | null = null;
    for (let attempt = 1; !r; attempt++) {
      try {
        r = await runVariant(v);
      } catch (e) {
        // A server killed from outside (it happens on a shared machine) spoils one run, not the bench.
        if (attempt === 3) throw e;
        console.log(`round ${round} ${v.label}: ${(e as Error).message.split('\n')[0]}; again`);
      }
    }
    results.get(v.label)!.push(r);
    console.log(
      `round ${round} ${v.label.padEnd(40)} start ${MB(r.startRss)} MB, by quarter ${r.quarters.map(MB).join(' / ')} MB, max ${MB(r.maxRss)} MB, ${r.rate.toFixed(0)} payments/s, p99 ${r.p99} ms; ` +
        `at the end: anonymous ${MB(r.end.anon)} + file ${MB(r.end.file)} MB, V8 heap ${MB(r.end.heapTotal)} MB (new space ${MB(r.end.newSpace)}, old ${MB(r.end.oldSpace)}, used ${MB(r.end.heapUsed)}), external ${MB(r.end.external)} MB`,
    );
  }
}
console.log('\nmedians:');
for (const v of VARIANTS) {
  const rs = results.get(v.label)!;
  console.log(
    `  ${v.label.padEnd(40)} start ${MB(median(rs.map((r) => r.startRss)))} MB, after ${PAYMENTS} ${MB(median(rs.map((r) => r.quarters.at(-1) ?? 0)))} MB, max ${MB(median(rs.map((r) => r.maxRss)))} MB, ${median(rs.map((r) => r.rate)).toFixed(0)} payments/s (each: ${rs.map((r) => r.rate.toFixed(0)).join('/')}), p99 ${median(rs.map((r) => r.p99))} ms`,
  );
}

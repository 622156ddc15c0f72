/**
 * The merchant console's payments pages over 100k stored payments: how long
 * the server takes to answer the list (first page, filtered, a deep keyset
 * page, searches by id and by card last 4) and a payment's page, on SQLite
 * and PostgreSQL. Issue 17's target: under 100 ms each.
 *
 * The payments are written straight through the store in batches
 * (test/support/console-seed.ts: three dialects, statuses, currencies, cards
 * and wallets, refunds, webhooks with their tries), not through the APIs.
 * Requests go through fastify's inject: server time, no sockets, nothing
 * listens. Each page is asked for BENCH_WARMUP times, then BENCH_REQUESTS
 * times, and the median and p95 are printed. The run stops by itself.
 *
 *   npm run bench:dashboard
 *   BENCH_PAYMENTS=20000 BENCH_DATABASES=sqlite npm run bench:dashboard
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { sql } from 'kysely';
import { buildPlatform, type Platform } from '../src/app.ts';
import { loadConfig } from '../src/config.ts';
import { seedPayments } from '../test/support/console-seed.ts';
import { createPgDatabase, pgUnavailable } from '../test/support/postgres.ts';

const PAYMENTS = Number(process.env.BENCH_PAYMENTS ?? 100_000);
const REQUESTS = Number(process.env.BENCH_REQUESTS ?? 40);
const WARMUP = Number(process.env.BENCH_WARMUP ?? 5);
const DATABASES = (process.env.BENCH_DATABASES ?? 'sqlite,postgres').split(',');
const PG_ADMIN_URL = process.env.POLYPAY_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const TARGET_MS = 100;

/** The cookies a browser would keep for /dashboard, over inject. */
class Session {
  private readonly jar = new Map<string, string>();
  constructor(private readonly platform: Platform) {}

  async request(method: 'GET' | 'POST', url: string, form?: Record<string, string>) {
    const r = await this.platform.http.inject({
      method,
      url,
      headers: {
        cookie: [...this.jar].map(([k, v]) => `${k}=${v}`).join('; '),
        ...(form ? { 'content-type': 'application/x-www-form-urlencoded' } : {}),
      },
      ...(form ? { payload: new URLSearchParams(form).toString() } : {}),
    });
    for (const c of r.cookies as Array<{ name: string; value: string }>) this.jar.set(c.name, c.value);
    return r;
  }
}

async function signedIn(platform: Platform, merchantId: string): Promise<Session> {
  const { user, password } = await platform.dashboardUsers.create({ merchantId, email: `bench-${Date.now()}@example.com`, role: 'admin' });
  const session = new Session(platform);
  const form = await session.request('GET', '/dashboard/sign-in');
  const csrf = /name="_csrf" value="([^"]*)"/.exec(form.body)?.[1] ?? '';
  const r = await session.request('POST', '/dashboard/sign-in', { _csrf: csrf, email: user.email, password });
  if (r.statusCode !== 303) throw new Error(`sign-in failed: ${r.statusCode} ${r.body.slice(0, 200)}`);
  return session;
}

const quantile = (sorted: number[], q: number) => sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)]!;

async function measure(session: Session, url: string, expect: string): Promise<{ median: number; p95: number }> {
  for (let i = 0; i < WARMUP; i++) await session.request('GET', url);
  const times: number[] = [];
  for (let i = 0; i < REQUESTS; i++) {
    const started = performance.now();
    const r = await session.request('GET', url);
    times.push(performance.now() - started);
    if (r.statusCode !== 200 || !r.body.includes(expect)) throw new Error(`${url}: ${r.statusCode}, without "${expect}"`);
  }
  times.sort((a, b) => a - b);
  return { median: quantile(times, 0.5), p95: quantile(times, 0.95) };
}

async function run(database: string): Promise<Array<[string, { median: number; p95: number }]>> {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'polypay-bench-dash-'));
  let drop: (() => Promise<void>) | null = null;
  let databaseUrl: string | undefined;
  if (database === 'postgres') {
    const db = await createPgDatabase(PG_ADMIN_URL, 'polypay_bench_dash');
    databaseUrl = db.url;
    drop = db.drop;
  }
  const config = loadConfig({}, { dataDir, port: 0, host: '127.0.0.1', databaseUrl, logLevel: 'warn', mode: 'sandbox' });
  const platform = await buildPlatform(config);
  try {
    const shop = await platform.merchants.create({ name: 'Bench Shop' });
    const branch = await platform.merchants.create({ name: 'Bench Shop Branch', parentId: shop.merchant_id });
    const started = performance.now();
    const start = Date.UTC(2026, 0, 1);
    // About 2.5 payments a minute over the 100k: the list spans a month and more.
    const { ids } = await seedPayments(platform.store, { merchantId: shop.merchant_id, count: PAYMENTS, startMs: start, stepMs: 25_000.5, webhookUrl: 'http://127.0.0.1:9/webhooks', seed: 21 });
    await seedPayments(platform.store, { merchantId: branch.merchant_id, count: Math.ceil(PAYMENTS / 100), startMs: start, stepMs: 2_500_000, seed: 22 });
    const seconds = ((performance.now() - started) / 1000).toFixed(1);
    // What autovacuum does on a live database: the planner's statistics.
    if (database === 'postgres') await sql`analyze`.execute(platform.store.read);
    console.log(`[${database}] ${PAYMENTS + Math.ceil(PAYMENTS / 100)} payments stored in ${seconds} s`);

    const session = await signedIn(platform, shop.merchant_id);
    const middle = ids[Math.floor(ids.length / 2)]!;
    const deep = (await platform.store.read.selectFrom('payment_intents').select(['created_at', 'id']).where('id', '=', ids[Math.floor(ids.length / 10)]!).executeTakeFirstOrThrow());
    const refunded = (await platform.store.read.selectFrom('refunds').select('intent_id').where('merchant_id', '=', shop.merchant_id).where('intent_id', '>', middle).orderBy('intent_id').executeTakeFirstOrThrow()).intent_id;
    // Every fourth seeded payment (n % 4 = 2) is a QFPay order, whose syssn is its id's digits.
    const third = Math.floor(ids.length / 3);
    const qfpayOrder = ids[third - (third % 4) + 2]!;
    const pages: Array<[string, string, string]> = [
      ['list, first page', '/dashboard/payments', 'rel="next"'],
      ['list, status = requires capture', '/dashboard/payments?status=REQUIRES_CAPTURE', 'rel="next"'],
      ['list, AlphaPay wallets in CNY', '/dashboard/payments?dialect=alphapay&method=wallet&currency=CNY', 'rel="next"'],
      ['list, amount range (JPY 100-120)', '/dashboard/payments?currency=JPY&min=100&max=120', '<h1>Payments</h1>'],
      ['list, deep keyset page (90% down)', `/dashboard/payments?after=${deep.created_at}.${deep.id}`, 'rel="next"'],
      ['search by payment id', `/dashboard/payments?q=${middle}`, `/dashboard/payments/${middle}"`],
      ['search by QFPay syssn', `/dashboard/payments?q=${qfpayOrder.slice(2)}`, `/dashboard/payments/${qfpayOrder}"`],
      ['search by card last 4', '/dashboard/payments?q=4242', 'rel="next"'],
      ['payment page (refunded, with webhooks)', `/dashboard/payments/${refunded}`, 'Timeline'],
    ];
    const results: Array<[string, { median: number; p95: number }]> = [];
    for (const [name, url, expect] of pages) {
      const r = await measure(session, url, expect);
      console.log(`[${database}] ${name}: median ${r.median.toFixed(1)} ms, p95 ${r.p95.toFixed(1)} ms`);
      results.push([name, r]);
    }
    return results;
  } finally {
    await platform.close();
    if (drop) await drop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

const all = new Map<string, Map<string, { median: number; p95: number }>>();
for (const database of DATABASES) {
  if (database === 'postgres') {
    const reason = await pgUnavailable(PG_ADMIN_URL);
    if (reason) {
      console.log(`[postgres] skipped: ${reason}`);
      continue;
    }
  }
  all.set(database, new Map(await run(database)));
}

const dbs = [...all.keys()];
const names = [...(all.values().next().value?.keys() ?? [])];
console.log(`\n${PAYMENTS.toLocaleString('en')} payments, ${REQUESTS} requests each after ${WARMUP} warm-up, server time in ms (median / p95):\n`);
console.log(`| page | ${dbs.join(' | ')} |`);
console.log(`|---|${dbs.map(() => '---:').join('|')}|`);
let missed = 0;
for (const name of names) {
  const cells = dbs.map((d) => {
    const r = all.get(d)!.get(name)!;
    if (r.p95 >= TARGET_MS) missed++;
    return `${r.median.toFixed(1)} / ${r.p95.toFixed(1)}`;
  });
  console.log(`| ${name} | ${cells.join(' | ')} |`);
}
console.log(missed ? `\n${missed} p95 figures at or over ${TARGET_MS} ms` : `\nEvery p95 under ${TARGET_MS} ms`);

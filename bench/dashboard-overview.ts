/**
 * `npx tsx bench/dashboard-overview.ts`: the dashboard overview over 100k
 * stored payments of one merchant (and 100k of other merchants beside
 * them), on SQLite and (when a server answers) PostgreSQL. Seeds intents
 * with their latest attempt straight into the database (spread over 40
 * days, three dialects, cards and wallets, three currencies), then times
 * the overview's two aggregate queries and the whole signed-in page through
 * fastify's inject (server time, no network). Reports the median and the
 * slowest of BENCH_RUNS runs (default 20).
 *
 * Environment: BENCH_PAYMENTS (default 100000), BENCH_PG_URL, BENCH_ONLY (sqlite | postgres).
 *
 * Measured 2026-12-04 on the 2-core VM with other work running (load average
 * about 10), medians of 20: SQLite 128 ms by dialect, 128 ms by method, 252 ms
 * for the whole page; PostgreSQL 91 ms, 66 ms and 200 ms. Before migration
 * 014's covering indexes and method column, one query joining intents to
 * attempts took 2.5 s on SQLite.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { sql, type Insertable } from 'kysely';
import { buildPlatform, type Platform } from '../src/app.ts';
import { BUSINESS_UTC_OFFSET_MS } from '../src/core/clock.ts';
import { loadConfig } from '../src/config.ts';
import { paymentMethodName } from '../src/core/payments/stats.ts';
import type { StoredPaymentMethod } from '../src/core/payments/types.ts';
import { paymentStats } from '../src/store/payment-stats-repo.ts';
import type { PaymentAttemptTable, PaymentIntentTable } from '../src/store/schema.ts';
import { createPgDatabase, pgUnavailable } from '../test/support/postgres.ts';

const PAYMENTS = Number(process.env.BENCH_PAYMENTS ?? 100_000);
const RUNS = Number(process.env.BENCH_RUNS ?? 20);
const PG_URL = process.env.BENCH_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const DAY = 86_400_000;
const ORIGINS = ['uqpay', 'qfpay', 'alphapay'];
const CURRENCIES = ['SGD', 'HKD', 'CAD'];
const METHODS: StoredPaymentMethod[] = [
  { type: 'card', card: { bin: '534693', last4: '8117', network: 'mastercard', expiryMonth: 12, expiryYear: 2030, fingerprint: 'f', threeDsAction: 'skip_3ds' } },
  { type: 'wallet', wallet: { kind: 'alipaycn', flow: 'qrcode' } },
  { type: 'wallet', wallet: { kind: 'wechatpay', flow: 'qrcode' } },
];

async function seed(platform: Platform, merchantIds: string[], perMerchant: number[]): Promise<void> {
  const now = platform.clock.now();
  let n = 0;
  for (const [m, merchantId] of merchantIds.entries()) {
    for (let done = 0; done < perMerchant[m]!; done += 500) {
      const intents: Insertable<PaymentIntentTable>[] = [];
      const attempts: Insertable<PaymentAttemptTable>[] = [];
      for (let i = 0; i < Math.min(500, perMerchant[m]! - done); i++, n++) {
        const created = now - Math.floor(((n * 7919) % 1000) / 1000 * 40 * DAY);
        const ok = n % 7 !== 0;
        const amount = 100 + (n % 9_900);
        const id = `PIB${n}`;
        intents.push({
          id, merchant_id: merchantId, amount, currency: CURRENCIES[n % 3]!, status: ok ? 'SUCCEEDED' : 'FAILED', captured_amount: ok ? amount : 0,
          description: null, merchant_order_id: `o${n}`, metadata: null, return_url: null, customer: null, client_secret: 's', latest_attempt_id: `PAB${n}`,
          next_action: null, origin: ORIGINS[n % 3]!, notify_url: null, cancellation_reason: null, cancel_time: null, complete_time: created,
          expires_at: created + 1_800_000, created_at: created, updated_at: created, version: 1,
        });
        attempts.push({
          id: `PAB${n}`, intent_id: id, merchant_id: merchantId, amount, currency: CURRENCIES[n % 3]!, status: ok ? 'SUCCEEDED' : 'FAILED',
          captured_amount: ok ? amount : 0, refunded_amount: 0, auto_capture: 1, payment_method: JSON.stringify(METHODS[n % 3]!), method: paymentMethodName(METHODS[n % 3]!), failure_code: ok ? null : 'card_declined',
          auth_code: null, rrn: null, arn: null, advice_code: null, authentication_data: null, three_ds_challenge_id: null, wallet_token: null,
          wallet_data: null, cancellation_reason: null, complete_time: created, created_at: created, updated_at: created,
        });
      }
      await platform.store.unit(async (tx) => {
        await tx.insertInto('payment_intents').values(intents).execute();
        await tx.insertInto('payment_attempts').values(attempts).execute();
      });
    }
  }
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function time(fn: () => Promise<unknown>): Promise<{ median: number; max: number }> {
  await fn(); // warm: statements prepared, pages cached
  const ms: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const t = performance.now();
    await fn();
    ms.push(performance.now() - t);
  }
  return { median: median(ms), max: Math.max(...ms) };
}

async function run(backend: 'sqlite' | 'postgres'): Promise<void> {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'polypay-bench-overview-'));
  const pg = backend === 'postgres' ? await createPgDatabase(PG_URL, 'polypay_bench') : null;
  const platform = await buildPlatform(loadConfig({}, { dataDir, databaseUrl: pg?.url, logLevel: 'warn', mode: 'sandbox', port: 0 }));
  try {
    const shop = (await platform.merchants.create({ name: 'Bench Shop' })).merchant_id;
    const others = [];
    for (let i = 0; i < 4; i++) others.push((await platform.merchants.create({ name: `Other ${i}` })).merchant_id);
    const t0 = performance.now();
    await seed(platform, [shop, ...others], [PAYMENTS, ...others.map(() => PAYMENTS / 4)]);
    const seeded = performance.now() - t0;
    // As autovacuum leaves a table after a bulk load: PostgreSQL's index-only scans need the visibility map.
    if (backend === 'postgres') await sql`vacuum analyze`.execute(platform.store.read);
    const { user, password } = await platform.dashboardUsers.create({ merchantId: shop, email: 'bench@example.com', role: 'viewer' });
    const signedIn = await platform.dashboardUsers.signIn(user.email, password, '127.0.0.1');
    if (!signedIn.ok) throw new Error('sign-in failed');
    const cookie = `polypay_session=${signedIn.session.token}`;
    const stats = paymentStats(platform.store);
    const fromDay = Math.floor((platform.clock.now() + BUSINESS_UTC_OFFSET_MS) / DAY) - 29;
    const byDialect = await time(() => stats.dailyByDialect([shop], fromDay));
    const byMethod = await time(() => stats.dailyByMethod([shop], fromDay));
    const page = await time(async () => {
      const r = await platform.http.inject({ method: 'GET', url: '/dashboard', headers: { cookie } });
      if (r.statusCode !== 200) throw new Error(`overview answered ${r.statusCode}`);
    });
    const f = (x: { median: number; max: number }) => `median ${x.median.toFixed(1)} ms, max ${x.max.toFixed(1)} ms`;
    console.log(`${backend}: ${PAYMENTS} payments of the merchant (+${PAYMENTS} of others), seeded in ${(seeded / 1000).toFixed(1)} s`);
    console.log(`  totals by dialect (30 days): ${f(byDialect)}`);
    console.log(`  totals by method (30 days): ${f(byMethod)}`);
    console.log(`  GET /dashboard (signed in, whole page): ${f(page)}`);
  } finally {
    await platform.close();
    await pg?.drop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

const only = process.env.BENCH_ONLY;
if (only !== 'postgres') await run('sqlite');
if (only !== 'sqlite') {
  const reason = await pgUnavailable(PG_URL);
  if (reason) console.log(`postgres: skipped (${reason})`);
  else await run('postgres');
}

/**
 * The database going away under load. On PostgreSQL the test terminates its
 * own database's connections (what a restart, a failover or an admin does to
 * them) several times while card payments run; on SQLite another connection
 * holds the write lock past the busy timeout, and then the disk fails for a
 * while. Throughout: the process stays up, every request is answered (paid,
 * or 503 in its API's format with Retry-After), health says the database is
 * away while it is and liveness stays up, the service comes back by itself,
 * and afterwards every acknowledged payment is there, no retry paid twice,
 * the balance is what was captured and the webhooks went out.
 */
import BetterSqlite3 from 'better-sqlite3';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sqliteFile, type Store } from '../../src/store/store.ts';
import { QfpayClient, txdtm } from '../clients/qfpay-client.mts';
import {
  expectMoneyConsistent,
  expectUqpayUnavailable,
  newPayment,
  payUntil,
  retryUnacknowledged,
  sendPayment,
  type LoadPayment,
} from '../support/payment-load.ts';
import { advanceClock, PG_ADMIN_URL, PG_SKIP_REASON, readReply, startPlatform, UqpayClient, WebhookReceiver, type Reply, type TestPlatform } from '../support/platform.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function getJson(tp: TestPlatform, pathname: string): Promise<Reply & { ms: number }> {
  const started = performance.now();
  const r = await readReply(await fetch(`${tp.baseUrl}${pathname}`));
  return { ...r, ms: performance.now() - started };
}

/** Each first answer is a payment or a 503 in UQPAY's format; never a dropped connection or another error. */
function expectPaidOrUnavailable(payments: LoadPayment[]): void {
  for (const p of payments) {
    expect(p.first, `${p.key}: ${p.transportError}`).not.toBeNull();
    const r = p.first!;
    if (r.status === 200) expect(r.body.intent_status, r.text).toBe('SUCCEEDED');
    else expectUqpayUnavailable(r, 'service_unavailable', `payment ${p.key}`);
  }
}

/** Recovery settles what the outage left in flight once it is over a minute old: the sandbox clock gets there at once. */
async function settleAndCheck(tp: TestPlatform, merchant: UqpayClient, hooks: WebhookReceiver, payments: LoadPayment[]): Promise<void> {
  await advanceClock(tp, 180);
  const finals = await retryUnacknowledged(merchant, payments);
  const paid = await expectMoneyConsistent(tp, merchant, payments, finals);
  // A retry of an acknowledged payment is answered with the same payment.
  for (const p of payments.filter((x) => x.first?.status === 200).slice(0, 5)) {
    const again = await sendPayment(merchant, p);
    expect(again?.headers.get('x-idempotent-replayed')).toBe('true');
    expect(again?.body.payment_intent_id).toBe(p.first!.body.payment_intent_id);
  }
  // Every paid intent's webhook arrived (at least once), and none for a payment that was not made.
  const paidIds = new Set(paid.map((i) => i.payment_intent_id));
  const succeeded = () => new Set(hooks.ofType('acquiring.payment_intent.succeeded').map((w) => w.body.source_id as string));
  await hooks.waitFor(() => [...paidIds].every((id) => succeeded().has(id)), 15_000).catch(() => undefined);
  for (const id of succeeded()) expect(paidIds.has(id), id).toBe(true);
  // A delivery the outage interrupted after the relay leased it (its round failed reading the events, or
  // recording the results) waits for its lease to run out before it is sent: still pending, not lost.
  const missing = [...paidIds].filter((id) => !succeeded().has(id));
  if (missing.length) {
    const deliveries = await tp.platform.store.read
      .selectFrom('deliveries')
      .innerJoin('events', 'events.id', 'deliveries.event_id')
      .select(['events.source_id', 'deliveries.status'])
      .where('events.type', '=', 'payment_intent.succeeded')
      .where('events.source_id', 'in', missing)
      .execute();
    expect(deliveries.map((d) => `${d.source_id}:${d.status}`).sort()).toEqual(missing.map((id) => `${id}:pending`).sort());
  }
}

describe.skipIf(PG_SKIP_REASON !== null)('PostgreSQL connections terminated under load', () => {
  let tp: TestPlatform;
  let merchant: UqpayClient;
  let hooks: WebhookReceiver;
  let admin: pg.Client;

  beforeAll(async () => {
    hooks = await new WebhookReceiver().start();
    tp = await startPlatform('postgres');
    merchant = await UqpayClient.create(tp, { name: 'Outage Merchant', webhookUrl: hooks.url });
    admin = new pg.Client({ connectionString: PG_ADMIN_URL });
    await admin.connect();
  });
  afterAll(async () => {
    await admin?.end();
    await tp?.close();
    await hooks?.close();
  });

  /** What a server restart or failover does to every connection of the platform's database. */
  async function terminateBackends(): Promise<number> {
    const database = new URL(tp.databaseUrl!).pathname.slice(1);
    const r = await admin.query('select pg_terminate_backend(pid) as done from pg_stat_activity where datname = $1 and pid <> pg_backend_pid()', [database]);
    return r.rows.filter((row) => row.done).length;
  }

  /** While the database refuses connections (as during a restart), and after. */
  async function allowConnections(allow: boolean): Promise<void> {
    const database = new URL(tp.databaseUrl!).pathname.slice(1);
    await admin.query(`alter database ${database} allow_connections ${allow}`);
  }

  it('stays up, answers 503 in format or pays, reconnects, and loses or doubles nothing', async () => {
    let stop = false;
    const load = payUntil(merchant, 6, () => stop, 300);
    let terminated = 0;
    await sleep(800);
    // Connections killed under the running payments, four times.
    for (let i = 0; i < 4; i++) {
      terminated += await terminateBackends();
      await sleep(700);
    }
    // Then the database away for two seconds: killed, and refusing new connections.
    await allowConnections(false);
    let away: { healthz: Reply; livez: Array<Reply & { ms: number }> };
    try {
      terminated += await terminateBackends();
      await sleep(300);
      const healthz = await getJson(tp, '/healthz');
      const livez: Array<Reply & { ms: number }> = [];
      for (let i = 0; i < 6; i++) {
        livez.push(await getJson(tp, '/livez'));
        await sleep(250);
      }
      away = { healthz, livez };
    } finally {
      await allowConnections(true);
    }
    await sleep(1000);
    stop = true;
    const payments = await load;

    expect(terminated).toBeGreaterThan(4);
    expectPaidOrUnavailable(payments);
    const unavailable = payments.filter((p) => p.first!.status === 503);
    const acknowledged = payments.filter((p) => p.first!.status === 200);
    // The faults hit requests in flight, and the service kept paying around them.
    expect(unavailable.length).toBeGreaterThan(0);
    expect(acknowledged.length).toBeGreaterThan(0);
    // Answers came in seconds, outage or not: no request hung (waiting for a connection gives up after 5 s).
    expect(Math.max(...payments.map((p) => p.latencyMs))).toBeLessThan(10_000);
    // While the database was away, health said so, naming it; liveness answered.
    expect(away.healthz.status, away.healthz.text).toBe(503);
    expect(away.healthz.body).toMatchObject({ status: 'unavailable', database: { dialect: 'postgres', reachable: false } });
    for (const l of away.livez) expect(l.status).toBe(200);
    expect(Math.max(...away.livez.map((l) => l.ms))).toBeLessThan(1000);

    // Back by itself: health and payments, with no restart.
    expect((await getJson(tp, '/healthz')).status).toBe(200);
    const after = newPayment();
    const r = await sendPayment(merchant, after);
    expect(r?.status, r?.text).toBe(200);
    payments.push({ ...after, first: r });

    await settleAndCheck(tp, merchant, hooks, payments);
  }, 60_000);
});

describe('SQLite busy and failing to write', () => {
  let tp: TestPlatform;
  let merchant: UqpayClient;
  let hooks: WebhookReceiver;
  let qf: QfpayClient;

  beforeAll(async () => {
    hooks = await new WebhookReceiver().start();
    tp = await startPlatform('sqlite');
    merchant = await UqpayClient.create(tp, { name: 'Busy Merchant', webhookUrl: hooks.url });
    const creds = await tp.platform.merchants.create({ name: 'Busy QFPay Merchant', webhookUrl: null });
    qf = new QfpayClient(tp.baseUrl, creds.qfpay);
  });
  afterAll(async () => {
    await tp?.close();
    await hooks?.close();
  });

  it('another connection holding the write lock: 503 after the busy wait, reads, health and liveness answer meanwhile, then back', async () => {
    let stop = false;
    const load = payUntil(merchant, 6, () => stop, 300);
    await sleep(500);
    // Someone else writes to the file (a shell, a second process) and keeps the lock for 7 s.
    const other = new BetterSqlite3(sqliteFile(tp.dataDir));
    // Not waiting in SQLite's busy handler: it would block this thread, the platform's too.
    other.pragma('busy_timeout = 0');
    for (;;) {
      try {
        other.exec('BEGIN IMMEDIATE');
        break;
      } catch {
        await sleep(1);
      }
    }
    const lockedAt = Date.now();
    const livez: Array<Reply & { ms: number }> = [];
    let healthz: Reply | null = null;
    let read: Reply | null = null;
    try {
      await sleep(300);
      healthz = await getJson(tp, '/healthz');
      read = await merchant.get('/v2/payment_intents?page_size=5');
      while (Date.now() - lockedAt < 7000) {
        livez.push(await getJson(tp, '/livez'));
        await sleep(250);
      }
    } finally {
      other.exec('ROLLBACK');
      other.close();
    }
    await sleep(1000);
    stop = true;
    const payments = await load;

    expectPaidOrUnavailable(payments);
    expect(payments.filter((p) => p.first!.status === 503).length).toBeGreaterThan(0);
    // A unit waits for the lock 5 s at most, however many groups queue behind the lock.
    expect(Math.max(...payments.map((p) => p.latencyMs))).toBeLessThan(6500);
    // The writer waits for the lock off the event loop: liveness answered throughout (it blocked 5 s per group).
    expect(livez.length).toBeGreaterThan(10);
    for (const l of livez) expect(l.status).toBe(200);
    expect(Math.max(...livez.map((l) => l.ms))).toBeLessThan(1000);
    expect(healthz!.status, healthz!.text).toBe(503);
    expect(healthz!.body).toMatchObject({ status: 'unavailable', database: { dialect: 'sqlite', reachable: false } });
    // Reads do not need the write lock.
    expect(read!.status, read!.text).toBe(200);
    expect((await getJson(tp, '/healthz')).status).toBe(200);

    await settleAndCheck(tp, merchant, hooks, payments);
  }, 60_000);

  it('the disk failing writes for a while: 503 in each API format, health says so, then back', async () => {
    const store = tp.platform.store as { -readonly [K in keyof Store]: Store[K] };
    const unit = store.unit;
    let failing = true;
    store.unit = (fn) => (failing ? Promise.reject(new BetterSqlite3.SqliteError('disk I/O error', 'SQLITE_IOERR_WRITE')) : unit(fn));
    let payments: LoadPayment[] = [];
    let qfAnswer: Reply;
    let healthz: Reply;
    try {
      let sent = 0;
      payments = await payUntil(merchant, 4, () => sent++ >= 20);
      qfAnswer = await qf.post('/trade/v1/payment', {
        txamt: '100', txcurrcd: 'HKD', pay_type: '800108', out_trade_no: `io-${Date.now()}`, txdtm: txdtm(), auth_code: '283854702356157409',
      });
      healthz = await getJson(tp, '/healthz');
    } finally {
      failing = false;
      store.unit = unit;
    }
    for (const p of payments) expectUqpayUnavailable(p.first!, 'service_unavailable', `payment ${p.key} while the disk fails`);
    expect(qfAnswer!.status, qfAnswer!.text).toBe(503);
    expect(qfAnswer!.body).toMatchObject({ respcd: '1100', resperr: expect.any(String), respmsg: expect.any(String) });
    expect(Number(qfAnswer!.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(healthz!.status).toBe(503);
    expect(healthz!.body).toMatchObject({ status: 'unavailable', database: { dialect: 'sqlite', reachable: false, error: 'unreachable (SQLITE_IOERR_WRITE)' } });
    expect((await getJson(tp, '/healthz')).status).toBe(200);
    // Retried once the disk is back, each is paid once.
    const finals = await retryUnacknowledged(merchant, payments);
    for (const p of payments) expect(finals.get(p.key)?.body.intent_status).toBe('SUCCEEDED');
  });
});

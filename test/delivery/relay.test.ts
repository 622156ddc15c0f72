import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AdjustableClock } from '../../src/core/clock.ts';
import { leaseOwner } from '../../src/delivery/lease-owner.ts';
import { DeliveryRelay, type DeliveryRelayOptions } from '../../src/delivery/relay.ts';
import { UQPAY_RETRY_DELAYS_MS } from '../../src/delivery/schedules.ts';
import type { Store } from '../../src/store/store.ts';
import { openSqliteStore } from '../../src/store/sqlite/sqlite-store.ts';
import { openPostgresStore } from '../../src/store/postgres/postgres-store.ts';
import { createPgDatabase, pgUnavailable } from '../support/postgres.ts';
import { addMerchant, closedPortUrl, renderer, startReceiver, type Reply } from '../support/relay-fixtures.ts';

/** An event and its pending delivery, written in one unit as the core does. */
async function addDelivery(
  store: Store,
  merchantId: string,
  url: string,
  now: number,
  opts: { type?: string; leaseUntil?: number; leaseOwner?: string } = {},
): Promise<{ eventId: string; deliveryId: string }> {
  const eventId = randomUUID();
  const deliveryId = `WD${randomUUID()}`;
  await store.unit(async (tx) => {
    await tx
      .insertInto('events')
      .values({
        id: eventId,
        merchant_id: merchantId,
        type: opts.type ?? 'acquiring.payment_intent.succeeded',
        source_id: 'PI1',
        payload: JSON.stringify({ payment_intent_id: 'PI1', amount: '8.98' }),
        created_at: now,
      })
      .execute();
    await tx
      .insertInto('deliveries')
      .values({
        id: deliveryId,
        event_id: eventId,
        merchant_id: merchantId,
        dialect: 'uqpay',
        url,
        status: 'pending',
        attempts: 0,
        next_attempt_at: now,
        lease_until: opts.leaseUntil ?? null,
        lease_owner: opts.leaseOwner ?? null,
        last_status_code: null,
        last_error: null,
        created_at: now,
        updated_at: now,
      })
      .execute();
  });
  return { eventId, deliveryId };
}

/** Two relays (one store each, possibly the same) race over many deliveries: every event arrives exactly once. */
async function expectNoDoubleSends(storeA: Store, storeB: Store, clock: AdjustableClock) {
  const receiver = await startReceiver((_hit, res) => setTimeout(() => res.end('ok'), 5));
  try {
    const merchantId = await addMerchant(storeA, clock.now());
    const events: string[] = [];
    for (let i = 0; i < 60; i++) events.push((await addDelivery(storeA, merchantId, receiver.url, clock.now())).eventId);

    const opts = { clock, renderers: { uqpay: renderer }, batchSize: 7 };
    const a = new DeliveryRelay({ ...opts, store: storeA });
    const b = new DeliveryRelay({ ...opts, store: storeB });
    a.start(1);
    b.start(1);
    const sent = await Promise.all([a.drain(100), b.drain(100), a.tick(), b.tick()]);
    await Promise.all([a.stop(), b.stop()]);
    expect(sent.reduce((x, y) => x + y, 0)).toBeLessThanOrEqual(60);

    const received = receiver.hits.map((h) => JSON.parse(h.body).event_id as string);
    expect(received.length).toBe(60);
    expect(new Set(received)).toEqual(new Set(events));
    const log = await a.deliveryLog(merchantId);
    expect(log.every((d) => d.status === 'succeeded' && d.attempt_log.length === 1)).toBe(true);
  } finally {
    await receiver.close();
  }
}


const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * One merchant's endpoint hangs with many deliveries queued ahead of another
 * merchant's: the other's all arrive at once, the hanging one holds only its
 * own endpoint's slots.
 */
async function expectNoHeadOfLineBlocking(store: Store, clock: AdjustableClock) {
  const hanging = await startReceiver(() => {}); // never answers
  const healthy = await startReceiver();
  const relay = new DeliveryRelay({ store, clock, renderers: { uqpay: renderer }, timeoutMs: 5_000, maxPerEndpoint: 4, batchSize: 10 });
  try {
    const slow = await addMerchant(store, clock.now());
    const fast = await addMerchant(store, clock.now());
    const stuck: string[] = [];
    for (let i = 0; i < 20; i++) stuck.push((await addDelivery(store, slow, hanging.url, clock.now() - 1000)).eventId);
    const expected = new Set<string>();
    for (let i = 0; i < 20; i++) expected.add((await addDelivery(store, fast, healthy.url, clock.now())).eventId);

    const started = Date.now();
    relay.start(20);
    while (healthy.hits.length < 20 && Date.now() - started < 4_000) await sleep(10);
    const lag = Date.now() - started;
    expect(new Set(healthy.hits.map((h) => JSON.parse(h.body).event_id))).toEqual(expected);
    expect(lag).toBeLessThan(2_000);
    // The hanging endpoint got its 4 slots, no more, and is still holding them.
    expect(hanging.hits).toHaveLength(4);
    // Recorded right after each answer.
    const allRecorded = async () => (await relay.deliveryLog(fast)).every((d) => d.status === 'succeeded' && d.attempts === 1);
    for (let i = 0; i < 100 && !(await allRecorded()); i++) await sleep(10);
    expect(await allRecorded()).toBe(true);
    expect((await relay.deliveryLog(slow)).filter((d) => d.attempts > 0)).toHaveLength(0);

    await hanging.close(); // the hanging sends fail now, and stop() returns
    await relay.stop();
    const log = await relay.deliveryLog(slow);
    expect(log.every((d) => d.status === 'pending')).toBe(true);
    expect(log.filter((d) => d.attempts === 1).length).toBeGreaterThanOrEqual(4);
  } finally {
    await relay.stop();
    await hanging.close();
    await healthy.close();
  }
}

/** A send slower than the lease keeps its lease (renewed while under way): another relay does not take it. */
async function expectLeaseRenewedWhileSending(store: Store, clock: AdjustableClock) {
  const r = await startReceiver((_h, res) => setTimeout(() => res.end('ok'), 3_000));
  try {
    const merchantId = await addMerchant(store, clock.now());
    const { eventId } = await addDelivery(store, merchantId, r.url, clock.now());
    const opts = { store, clock, renderers: { uqpay: renderer }, leaseMs: 1_000 };
    const sending = new DeliveryRelay(opts).tick();
    await sleep(2_000); // the first lease ran out long ago; renewed since
    const other = new DeliveryRelay(opts);
    expect(await other.tick()).toBe(0);
    expect(await sending).toBe(1);
    expect(r.hits).toHaveLength(1);
    const [d] = await other.deliveryLog(merchantId, eventId);
    expect(d).toMatchObject({ status: 'succeeded', attempts: 1 });
    expect(d!.attempt_log).toHaveLength(1);
  } finally {
    await r.close();
  }
}

/**
 * A process that starts takes back at once what a dead process on its host
 * had leased; a holder on another host cannot be checked, and its lease runs
 * out by itself.
 */
async function expectDeadHoldersLeasesTakenBack(store: Store, clock: AdjustableClock) {
  const r = await startReceiver();
  try {
    const merchantId = await addMerchant(store, clock.now());
    const crashed = leaseOwner({ host: 'node-a', pid: 4242 });
    const restartedAsSamePid = leaseOwner({ host: 'node-a', pid: 77, started: 1 });
    const elsewhere = leaseOwner({ host: 'node-b', pid: 4242 });
    const real = Date.now();
    const a = await addDelivery(store, merchantId, r.url, clock.now(), { leaseUntil: real + 7_000, leaseOwner: crashed.name });
    const b = await addDelivery(store, merchantId, r.url, clock.now(), { leaseUntil: real + 7_000, leaseOwner: restartedAsSamePid.name });
    const c = await addDelivery(store, merchantId, r.url, clock.now(), { leaseUntil: real + 7_000, leaseOwner: elsewhere.name });

    const me = leaseOwner({ host: 'node-a', pid: 77, started: 2, alive: (pid) => pid !== 4242 });
    const relay = new DeliveryRelay({ store, clock, renderers: { uqpay: renderer }, owner: me });
    expect(await relay.drain()).toBe(2);
    expect(new Set(r.hits.map((h) => JSON.parse(h.body).event_id))).toEqual(new Set([a.eventId, b.eventId]));
    const [left] = await relay.deliveryLog(merchantId, c.eventId);
    expect(left).toMatchObject({ status: 'pending', attempts: 0 });
  } finally {
    await r.close();
  }
}

// --- SQLite ---------------------------------------------------------------------

describe('DeliveryRelay (SQLite)', () => {
  let dir: string;
  let store: Store;
  let clock: AdjustableClock;
  let merchantId: string;
  const closers: Array<() => Promise<void>> = [];

  const relay = (extra: Partial<DeliveryRelayOptions> = {}) =>
    new DeliveryRelay({ store, clock, renderers: { uqpay: renderer }, ...extra });
  const receiver = async (reply?: Reply) => {
    const r = await startReceiver(reply);
    closers.push(r.close);
    return r;
  };

  beforeEach(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'polypay-relay-'));
    store = await openSqliteStore(dir);
    clock = new AdjustableClock();
    merchantId = await addMerchant(store, clock.now());
  });

  afterEach(async () => {
    for (const close of closers.splice(0)) await close();
    await store.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('delivers on the first try: body and headers exactly as rendered, one attempt logged', async () => {
    const r = await receiver();
    const { eventId } = await addDelivery(store, merchantId, r.url, clock.now());

    expect(await relay().tick()).toBe(1);

    expect(r.hits).toHaveLength(1);
    const hit = r.hits[0]!;
    expect(hit.body).toBe(
      JSON.stringify({ event_id: eventId, event_type: 'acquiring.payment_intent.succeeded', data: { payment_intent_id: 'PI1', amount: '8.98' } }),
    );
    expect(hit.headers['content-type']).toBe('application/json');
    expect(hit.headers['x-test-signature']).toBe(`sig-${eventId}`);
    expect(hit.headers['x-test-attempt']).toBe('1');

    const [d] = await relay().deliveryLog(merchantId, eventId);
    expect(d).toMatchObject({ status: 'succeeded', attempts: 1, last_status_code: 200, last_error: null });
    expect(d!.attempt_log).toEqual([
      { attempt: 1, status_code: 200, error: null, duration_ms: expect.any(Number), attempted_at: expect.any(Number), response_body: 'ok' },
    ]);
    expect(await relay().tick()).toBe(0);
  });

  it('retries on the UQPAY schedule, only once each delay has passed', async () => {
    let calls = 0;
    const r = await receiver((_h, res) => {
      res.statusCode = ++calls <= 2 ? 500 : 200;
      res.end();
    });
    const { eventId } = await addDelivery(store, merchantId, r.url, clock.now());
    const rl = relay();

    expect(await rl.tick()).toBe(1); // 500
    await clock.advance(15);
    expect(await rl.tick()).toBe(0);
    expect(r.hits).toHaveLength(1);
    await clock.advance(1); // 16 s after the first try
    expect(await rl.tick()).toBe(1); // 500
    await clock.advance(31);
    expect(await rl.tick()).toBe(0);
    await clock.advance(1); // 32 s after the second try
    expect(await rl.tick()).toBe(1); // 200

    expect(r.hits).toHaveLength(3);
    expect(r.hits.map((h) => h.headers['x-test-attempt'])).toEqual(['1', '2', '3']);
    const [d] = await rl.deliveryLog(merchantId, eventId);
    expect(d).toMatchObject({ status: 'succeeded', attempts: 3 });
    expect(d!.attempt_log.map((a) => [a.attempt, a.status_code, a.error])).toEqual([
      [1, 500, 'HTTP 500'],
      [2, 500, 'HTTP 500'],
      [3, 200, null],
    ]);
  });

  it('records an unreachable receiver instead of throwing', async () => {
    const { eventId } = await addDelivery(store, merchantId, await closedPortUrl(), clock.now());
    const rl = relay();
    expect(await rl.tick()).toBe(1);
    const [d] = await rl.deliveryLog(merchantId, eventId);
    expect(d).toMatchObject({ status: 'pending', attempts: 1, last_status_code: null, last_error: 'ECONNREFUSED' });
    expect(d!.next_attempt_at).toBeGreaterThanOrEqual(clock.now() + 16_000 - 1_000);
    expect(d!.attempt_log).toMatchObject([{ attempt: 1, status_code: null, error: 'ECONNREFUSED' }]);
  });

  it('records a receiver that never answers as a timeout', async () => {
    const r = await receiver(() => {}); // never responds
    const { eventId } = await addDelivery(store, merchantId, r.url, clock.now());
    const rl = relay({ timeoutMs: 200 });
    expect(await rl.tick()).toBe(1);
    expect(r.hits).toHaveLength(1);
    const [d] = await rl.deliveryLog(merchantId, eventId);
    expect(d).toMatchObject({ status: 'pending', attempts: 1, last_error: 'timeout' });
    expect(d!.attempt_log[0]!.duration_ms).toBeGreaterThanOrEqual(150);
  });

  it('marks the delivery failed once the retries are used up', async () => {
    const r = await receiver((_h, res) => {
      res.statusCode = 503;
      res.end('busy');
    });
    const { eventId } = await addDelivery(store, merchantId, r.url, clock.now());
    const rl = relay();
    expect(await rl.drain()).toBe(1);
    for (const delayMs of UQPAY_RETRY_DELAYS_MS) {
      await clock.advance(delayMs / 1000);
      expect(await rl.drain()).toBe(1);
    }
    await clock.advance(3600);
    expect(await rl.drain()).toBe(0);

    expect(r.hits).toHaveLength(6); // first try + 5 retries
    const [d] = await rl.deliveryLog(merchantId, eventId);
    expect(d).toMatchObject({ status: 'failed', attempts: 6, last_status_code: 503, last_error: 'HTTP 503' });
    expect(d!.attempt_log.map((a) => a.attempt)).toEqual([1, 2, 3, 4, 5, 6]);
    // Each try keeps what the receiver answered, for the delivery log.
    expect(d!.attempt_log.map((a) => a.response_body)).toEqual(Array(6).fill('busy'));
  });

  it('skips events the dialect does not send', async () => {
    const r = await receiver();
    const { eventId } = await addDelivery(store, merchantId, r.url, clock.now(), { type: 'internal.only' });
    expect(await relay().drain()).toBe(0);
    expect(r.hits).toHaveLength(0);
    const [d] = await relay().deliveryLog(merchantId, eventId);
    expect(d).toMatchObject({ status: 'skipped', attempts: 0, attempt_log: [] });
  });

  it('picks up a delivery whose lease expired in real time (the sender crashed mid-send), not when the sandbox clock jumps', async () => {
    const r = await receiver();
    let real = Date.now();
    const leaseClock = { now: () => real };
    const { eventId } = await addDelivery(store, merchantId, r.url, clock.now(), { leaseUntil: real + 5_000 });
    const rl = relay({ leaseClock });
    expect(await rl.tick()).toBe(0); // still leased by the "crashed" process
    await clock.advance(3600); // platform time says nothing about a send in progress
    expect(await rl.tick()).toBe(0);
    real += 6_000;
    expect(await rl.tick()).toBe(1);
    expect(r.hits).toHaveLength(1);
    const [d] = await rl.deliveryLog(merchantId, eventId);
    expect(d).toMatchObject({ status: 'succeeded', attempts: 1 });
  });

  it('sends once when the sandbox clock jumps while another relay is mid-send', async () => {
    const r = await receiver((_h, res) => setTimeout(() => res.end('ok'), 400));
    const { eventId } = await addDelivery(store, merchantId, r.url, clock.now());
    const sending = relay().tick();
    await new Promise((resolve) => setTimeout(resolve, 150));
    await clock.advance(256);
    expect(await relay().tick()).toBe(0); // another node: the delivery is still leased
    expect(await sending).toBe(1);
    expect(r.hits).toHaveLength(1);
    const [d] = await relay().deliveryLog(merchantId, eventId);
    expect(d).toMatchObject({ status: 'succeeded', attempts: 1 });
    expect(d!.attempt_log).toHaveLength(1);
  });

  it('takes a lease that reaches further ahead than any it gives (taken in platform time by an earlier version) as expired', async () => {
    const r = await receiver();
    await addDelivery(store, merchantId, r.url, clock.now(), { leaseUntil: Date.now() + 10 * 86_400_000 });
    expect(await relay().tick()).toBe(1);
    expect(r.hits).toHaveLength(1);
  });

  it('leaves alone a lease another relay took a moment after this one read its clock', async () => {
    const r = await receiver();
    // A live relay's lease: its clock plus the lease time, read a little later than this relay's own.
    await addDelivery(store, merchantId, r.url, clock.now(), { leaseUntil: Date.now() + 8_000 + 200, leaseOwner: 'other-relay' });
    expect(await relay().tick()).toBe(0);
    expect(r.hits).toHaveLength(0);
  });

  it('start() loops until stop()', async () => {
    const r = await receiver();
    await addDelivery(store, merchantId, r.url, clock.now());
    const rl = relay();
    rl.start(5);
    await addDelivery(store, merchantId, r.url, clock.now());
    for (let i = 0; i < 200 && r.hits.length < 2; i++) await new Promise((res) => setTimeout(res, 10));
    await rl.stop();
    expect(r.hits).toHaveLength(2);
    await addDelivery(store, merchantId, r.url, clock.now());
    await new Promise((res) => setTimeout(res, 50));
    expect(r.hits).toHaveLength(2);
  });

  it("a hanging endpoint holds only its own slots: another merchant's webhooks all arrive at once", async () => {
    await expectNoHeadOfLineBlocking(store, clock);
  });

  it('renews the lease of a send still under way', async () => {
    await expectLeaseRenewedWhileSending(store, clock);
  });

  it("takes back at once the leases of a dead process on its host, and waits out another host's", async () => {
    await expectDeadHoldersLeasesTakenBack(store, clock);
  });

  it('does not follow a redirect: the 3xx is a failed try with the reason in the log', async () => {
    const target = await receiver();
    const r = await receiver((_h, res) => {
      res.writeHead(302, { location: target.url });
      res.end();
    });
    const { eventId } = await addDelivery(store, merchantId, r.url, clock.now());
    expect(await relay().tick()).toBe(1);
    expect(target.hits).toHaveLength(0);
    const [d] = await relay().deliveryLog(merchantId, eventId);
    expect(d).toMatchObject({ status: 'pending', attempts: 1, last_status_code: 302, last_error: 'HTTP 302: redirects are not followed' });
  });

  it('in live mode refuses a receiver on a loopback address without connecting, and says why in the log', async () => {
    const r = await receiver();
    const { eventId } = await addDelivery(store, merchantId, r.url, clock.now());
    expect(await relay({ live: true }).tick()).toBe(1);
    expect(r.hits).toHaveLength(0);
    const [d] = await relay().deliveryLog(merchantId, eventId);
    expect(d).toMatchObject({ status: 'pending', attempts: 1, last_status_code: null, last_error: 'address not allowed in live mode: 127.0.0.1 (loopback)' });
    // The same delivery in sandbox mode goes through.
    await clock.advance(16);
    expect(await relay().tick()).toBe(1);
    expect(r.hits).toHaveLength(1);
  });

  it('two relays on the same store never send a delivery twice', async () => {
    await expectNoDoubleSends(store, store, clock);
  });
});

// --- PostgreSQL ------------------------------------------------------------------

const PG_ADMIN_URL = process.env.POLYPAY_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

const pgMissing = await pgUnavailable(PG_ADMIN_URL);
if (pgMissing) console.warn(`skipping DeliveryRelay PostgreSQL tests: no server at ${PG_ADMIN_URL} (${pgMissing})`);

(pgMissing ? describe.skip : describe)('DeliveryRelay (PostgreSQL)', () => {
  const stores: Store[] = [];
  let drop: (() => Promise<void>) | undefined;

  // A database per test: each relay claims whatever is due in its database.
  beforeEach(async () => {
    const db = await createPgDatabase(PG_ADMIN_URL, 'polypay_relay');
    drop = db.drop;
    stores.push(await openPostgresStore(db.url, 4));
    stores.push(await openPostgresStore(db.url, 4));
  });

  afterEach(async () => {
    for (const s of stores.splice(0)) await s.close();
    await drop?.();
  });

  it('two relays (separate connection pools) never send a delivery twice', async () => {
    await expectNoDoubleSends(stores[0]!, stores[1]!, new AdjustableClock());
  });

  it("a hanging endpoint holds only its own slots: another merchant's webhooks all arrive at once", async () => {
    await expectNoHeadOfLineBlocking(stores[0]!, new AdjustableClock());
  });

  it('renews the lease of a send still under way', async () => {
    await expectLeaseRenewedWhileSending(stores[0]!, new AdjustableClock());
  });

  it("takes back at once the leases of a dead process on its host, and waits out another host's", async () => {
    await expectDeadHoldersLeasesTakenBack(stores[1]!, new AdjustableClock());
  });
});

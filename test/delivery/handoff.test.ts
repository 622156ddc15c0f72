/**
 * The relay in the process takes the deliveries its units plan: written
 * leased to it, sent once the unit commits, without a claim; forgotten when
 * the unit rolls back. Each endpoint's window follows its answers, and units
 * wait while the relay is behind.
 */
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AdjustableClock } from '../../src/core/clock.ts';
import { leaseOwner } from '../../src/delivery/lease-owner.ts';
import { DeliveryRelay, type DeliveryRelayOptions } from '../../src/delivery/relay.ts';
import { appendToOutbox, Outbox, type EventRow } from '../../src/store/outbox.ts';
import { openPostgresStore } from '../../src/store/postgres/postgres-store.ts';
import { openSqliteStore } from '../../src/store/sqlite/sqlite-store.ts';
import type { Store } from '../../src/store/store.ts';
import { createPgDatabase, pgUnavailable } from '../support/postgres.ts';
import { addMerchant, renderer, startReceiver, type Reply } from '../support/relay-fixtures.ts';

const HOUR = 3_600_000;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function until(what: string, check: () => boolean | Promise<boolean>, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(5);
  }
}

/** A unit as the payments and issuing stores run one: an event, its planned delivery taken by the relay if it has room, both inserted. */
function planInUnit(outbox: Outbox, store: Store, merchantId: string, url: string, now: number, opts: { fail?: boolean; onStart?: () => void } = {}): Promise<string> {
  const event: EventRow = { id: randomUUID(), merchant_id: merchantId, type: 'acquiring.payment_intent.succeeded', source_id: 'PI1', payload: '{"amount":"8.98"}', created_at: now };
  return outbox.unit((handoff) =>
    store.unit(async (tx) => {
      opts.onStart?.();
      await appendToOutbox(tx, [{ id: event.id, merchantId, type: event.type, createdAt: now }], [event], () => ({ dialect: 'uqpay', url }), handoff);
      if (opts.fail) throw new Error('the unit fails after planning');
      return event.id;
    }),
  );
}

function handoffSuite(name: string, open: () => Promise<{ store: Store; close: () => Promise<void> }>) {
  describe(`hand-off to the local relay (${name})`, () => {
    let store: Store;
    let close: () => Promise<void>;
    let clock: AdjustableClock;
    let merchantId: string;
    const outbox = new Outbox();
    const owner = leaseOwner();
    const stops: Array<() => Promise<void>> = [];

    /** A relay that claims once at start and then not for an hour: what it sends after that came by hand-off. */
    const startedRelay = (extra: Partial<DeliveryRelayOptions> = {}) => {
      const relay = new DeliveryRelay({ store, clock, renderers: { uqpay: renderer }, outbox, owner, ...extra });
      relay.start(HOUR);
      stops.push(() => relay.stop());
      return relay;
    };
    const receiver = async (reply?: Reply) => {
      const r = await startReceiver(reply);
      stops.push(r.close);
      return r;
    };
    const deliveryOf = (eventId: string) => store.read.selectFrom('deliveries').selectAll().where('event_id', '=', eventId).executeTakeFirst();

    beforeEach(async () => {
      ({ store, close } = await open());
      clock = new AdjustableClock();
      merchantId = await addMerchant(store, clock.now());
    });

    afterEach(async () => {
      for (const stop of stops.splice(0).reverse()) await stop();
      await close();
    });

    it('a delivery planned while the relay runs is written leased to it and sent at once, without a claim', async () => {
      let answer: (() => void) | undefined;
      const r = await receiver((_hit, res) => (answer = () => res.end('ok')));
      startedRelay();
      await sleep(50); // its one claim, which finds nothing

      const eventId = await planInUnit(outbox, store, merchantId, r.url, clock.now());
      await until('the webhook', () => r.hits.length === 1);
      // While the send is under way the row is the relay's, leased in the unit that planned it.
      const during = await deliveryOf(eventId);
      expect(during).toMatchObject({ status: 'pending', lease_owner: owner.name });
      expect(Number(during!.lease_until)).toBeGreaterThan(Date.now());
      expect(JSON.parse(r.hits[0]!.body)).toMatchObject({ event_id: eventId, event_type: 'acquiring.payment_intent.succeeded' });

      answer!();
      await until('the outcome on record', async () => (await deliveryOf(eventId))?.status === 'succeeded');
      expect(await deliveryOf(eventId)).toMatchObject({ attempts: 1, lease_owner: null, lease_until: null });
    });

    it('a unit that rolls back plans nothing, sends nothing, and gives the relay its room back', async () => {
      const r = await receiver();
      // Room for one row only: a row kept by the failed unit would leave none for the next.
      startedRelay({ maxInFlight: 1, maxLeased: 1 });
      await sleep(50);

      await expect(planInUnit(outbox, store, merchantId, r.url, clock.now(), { fail: true })).rejects.toThrow('the unit fails after planning');
      expect(await store.read.selectFrom('deliveries').select('id').execute()).toEqual([]);

      const eventId = await planInUnit(outbox, store, merchantId, r.url, clock.now());
      await until('the second unit\'s webhook', () => r.hits.length === 1);
      expect(JSON.parse(r.hits[0]!.body).event_id).toBe(eventId);
    });

    it('a stopped relay takes nothing: the row is written unleased, for any relay to claim', async () => {
      const r = await receiver();
      const relay = startedRelay();
      await relay.stop();
      const eventId = await planInUnit(outbox, store, merchantId, r.url, clock.now());
      expect(await deliveryOf(eventId)).toMatchObject({ status: 'pending', lease_owner: null, lease_until: null });
      expect(await new DeliveryRelay({ store, clock, renderers: { uqpay: renderer } }).tick()).toBe(1);
      expect(r.hits).toHaveLength(1);
    });
  });
}

handoffSuite('SQLite', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'polypay-handoff-'));
  const store = await openSqliteStore(dir);
  return {
    store,
    close: async () => {
      await store.close();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
});

const PG_ADMIN_URL = process.env.POLYPAY_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const pgSkip = await pgUnavailable(PG_ADMIN_URL);
if (!pgSkip)
  handoffSuite('PostgreSQL', async () => {
    const db = await createPgDatabase(PG_ADMIN_URL, 'polypay_handoff');
    const store = await openPostgresStore(db.url, 4);
    return {
      store,
      close: async () => {
        await store.close();
        await db.drop();
      },
    };
  });

describe('an endpoint\'s window, and units held while the relay is behind (SQLite)', () => {
  let dir: string;
  let store: Store;
  let clock: AdjustableClock;
  let merchantId: string;
  const outbox = new Outbox();
  const stops: Array<() => Promise<void>> = [];

  beforeEach(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'polypay-window-'));
    store = await openSqliteStore(dir);
    clock = new AdjustableClock();
    merchantId = await addMerchant(store, clock.now());
  });

  afterEach(async () => {
    for (const stop of stops.splice(0).reverse()) await stop();
    await store.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  /** A receiver that answers `status` after `delayMs` and counts the most requests it held at once. */
  async function countingReceiver(status: number, delayMs: number) {
    let open = 0;
    const seen = { most: 0, answered: 0 };
    const r = await startReceiver((_hit, res) => {
      open++;
      seen.most = Math.max(seen.most, open);
      setTimeout(() => {
        open--;
        seen.answered++;
        res.statusCode = status;
        res.end('ok');
      }, delayMs);
    });
    stops.push(r.close);
    return { ...r, seen };
  }

  const planMany = (url: string, n: number) => Promise.all(Array.from({ length: n }, () => planInUnit(new Outbox(), store, merchantId, url, clock.now())));

  it('grows past its initial window while the receiver acknowledges quickly, up to its limit', async () => {
    const r = await countingReceiver(200, 10);
    await planMany(r.url, 300);
    await new DeliveryRelay({ store, clock, renderers: { uqpay: renderer }, initialPerEndpoint: 4, maxPerEndpoint: 24 }).drain();
    expect(r.hits).toHaveLength(300);
    expect(r.seen.most).toBeGreaterThan(4);
    expect(r.seen.most).toBeLessThanOrEqual(24);
  });

  it('does not grow for a receiver whose tries fail', async () => {
    const r = await countingReceiver(500, 10);
    await planMany(r.url, 120);
    await new DeliveryRelay({ store, clock, renderers: { uqpay: renderer }, initialPerEndpoint: 4, maxPerEndpoint: 24 }).drain();
    expect(r.hits).toHaveLength(120);
    expect(r.seen.most).toBeLessThanOrEqual(4);
  });

  it('holds new units while the queue of an answering endpoint is over its limit, until half of it is sent', async () => {
    const r = await countingReceiver(200, 40);
    const relay = new DeliveryRelay({ store, clock, renderers: { uqpay: renderer }, outbox, initialPerEndpoint: 1, maxPerEndpoint: 1, backlogLimit: 4, maxHoldMs: 10_000 });
    relay.start(HOUR);
    stops.push(() => relay.stop());
    await sleep(50);
    // Six rows handed over: one sent at a time, five waiting.
    await Promise.all(Array.from({ length: 6 }, () => planInUnit(outbox, store, merchantId, r.url, clock.now())));
    let answeredWhenStarted = -1;
    const seventh = planInUnit(outbox, store, merchantId, r.url, clock.now(), { onStart: () => (answeredWhenStarted = r.seen.answered) });
    expect(relay.stats()).toMatchObject({ queued: 5, sending: 1, held: 1 });
    await seventh;
    expect(relay.stats().held).toBe(0);
    // It started only once at most 2 of the 6 were left waiting: 3 or more had been answered.
    expect(answeredWhenStarted).toBeGreaterThanOrEqual(3);
    await until('all seven', () => r.hits.length === 7);
  });

  it('holds a unit no longer than maxHoldMs when the relay does not catch up', async () => {
    // A receiver that never answers: the queue behind it does not move.
    const r = await startReceiver(() => {});
    stops.push(r.close);
    const relay = new DeliveryRelay({ store, clock, renderers: { uqpay: renderer }, outbox, initialPerEndpoint: 1, maxPerEndpoint: 1, backlogLimit: 2, maxHoldMs: 300, timeoutMs: 60_000 });
    relay.start(HOUR);
    stops.push(async () => {
      await r.close();
      await relay.stop();
    });
    await sleep(50);
    await Promise.all(Array.from({ length: 4 }, () => planInUnit(outbox, store, merchantId, r.url, clock.now())));
    const started = Date.now();
    await planInUnit(outbox, store, merchantId, r.url, clock.now());
    const held = Date.now() - started;
    expect(held).toBeGreaterThanOrEqual(250);
    expect(held).toBeLessThan(3_000);
  });
});

/**
 * A merchant whose webhook endpoint hangs (then refuses connections) beside a
 * healthy one, under a burst of card payments for both: the healthy one's
 * webhooks arrive at once, signed; the other's tries time out, then are
 * refused, are retried on UQPAY's schedule as the sandbox clock moves, and
 * end as failed in the deliveries log.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { UQPAY_RETRY_DELAYS_MS } from '../../src/delivery/schedules.ts';
import { verifyWebhook } from '../../src/dialects/uqpay/webhook-signature.ts';
import {
  advanceClock,
  describeEachBackend,
  intentBody,
  seedCard,
  startPlatform,
  UqpayClient,
  WebhookReceiver,
  type TestPlatform,
} from '../support/platform.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const PAYMENTS = 10;
const TIMEOUT_MS = 1_500;

/** Remembers when each webhook arrived. */
class TimedReceiver extends WebhookReceiver {
  readonly arrivedAt: number[] = [];
  protected override nextAnswer(): [number, string] {
    this.arrivedAt.push(Date.now());
    return super.nextAnswer();
  }
}

/** An endpoint that accepts the request and never answers; close() makes the port refuse connections. */
async function hangingEndpoint() {
  let requests = 0;
  const server = http.createServer(() => {
    requests++;
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/webhooks`,
    requests: () => requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

interface Delivery {
  status: string;
  attempts: number;
  event_type: string;
  attempt_log: Array<{ attempt: number; status_code: number | null; error: string | null; attempted_at: string }>;
}

async function until(what: string, predicate: () => Promise<boolean> | boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await predicate())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

describeEachBackend('a hanging webhook receiver beside a healthy one', (backend) => {
  let tp: TestPlatform;
  let hanging: Awaited<ReturnType<typeof hangingEndpoint>>;
  let healthy: TimedReceiver;
  let stuck: UqpayClient;
  let fine: UqpayClient;

  const deliveries = async (merchant: UqpayClient): Promise<Delivery[]> => {
    const r = await fetch(`${tp.baseUrl}/sim/v1/merchants/${merchant.credentials.merchant_id}/deliveries?limit=1000`);
    expect(r.status).toBe(200);
    return ((await r.json()) as { data: Delivery[] }).data;
  };

  beforeAll(async () => {
    tp = await startPlatform(backend, { webhookTimeoutMs: TIMEOUT_MS });
    hanging = await hangingEndpoint();
    healthy = await new TimedReceiver().start();
    stuck = await UqpayClient.create(tp, { name: 'Hanging endpoint', webhookUrl: hanging.url });
    fine = await UqpayClient.create(tp, { name: 'Healthy endpoint', webhookUrl: healthy.url });
  });

  afterAll(async () => {
    await hanging?.close();
    await tp?.close();
    await healthy?.close();
  });

  it("the healthy merchant's webhooks arrive within 2 s while the other's endpoint hangs", async () => {
    // Both merchants' payments at once, the hanging merchant's first.
    const pay = (m: UqpayClient) => m.post('/v2/payment_intents/create', { ...intentBody(), payment_method: seedCard() });
    const paid = await Promise.all([
      ...Array.from({ length: PAYMENTS }, () => pay(stuck)),
      ...Array.from({ length: PAYMENTS }, async () => ({ reply: await pay(fine), at: Date.now() })),
    ]);
    const finePaid = paid.slice(PAYMENTS) as Array<{ reply: Awaited<ReturnType<typeof pay>>; at: number }>;
    for (const r of paid.slice(0, PAYMENTS) as Array<Awaited<ReturnType<typeof pay>>>) expect(r.body.intent_status, r.text).toBe('SUCCEEDED');
    for (const { reply } of finePaid) expect(reply.body.intent_status, reply.text).toBe('SUCCEEDED');

    // Every webhook of the healthy merchant's payments, each within 2 s of its payment's answer.
    const expected = (await deliveries(fine)).length;
    expect(expected).toBeGreaterThanOrEqual(PAYMENTS);
    await healthy.waitFor((all) => all.length >= expected, 5_000);
    for (const { reply, at } of finePaid) {
      const id = reply.body.payment_intent_id;
      const i = healthy.received.findIndex((w) => w.body.event_type === 'acquiring.payment_intent.succeeded' && w.body.data.payment_intent_id === id);
      expect(i, `succeeded webhook of ${id}`).toBeGreaterThanOrEqual(0);
      expect(healthy.arrivedAt[i]! - at).toBeLessThan(2_000);
    }
    const secret = fine.credentials.uqpay.webhook_secret;
    for (const w of healthy.received) {
      expect(verifyWebhook(secret, w.raw, w.headers['x-wk-timestamp'] as string, w.headers['x-wk-signature'] as string, Math.floor(Date.now() / 1000))).toBe(true);
    }
    // The hanging endpoint was sent to meanwhile: it holds only its own slots.
    expect(hanging.requests()).toBeGreaterThan(0);
    await until('the healthy deliveries to be recorded', async () => (await deliveries(fine)).every((d) => d.status === 'succeeded' && d.attempts === 1), 5_000);
  });

  it("the hanging merchant's deliveries time out, then are refused, on UQPAY's schedule, and end as failed", async () => {
    const initial = await deliveries(stuck);
    expect(initial.length).toBeGreaterThanOrEqual(PAYMENTS);
    // First tries: each waits out the timeout, 8 at a time.
    await until('every first try', async () => (await deliveries(stuck)).every((d) => d.attempts >= 1), 20_000);
    const first = await deliveries(stuck);
    for (const d of first) {
      expect(d).toMatchObject({ status: 'pending', attempts: 1 });
      expect(d.attempt_log[0]).toMatchObject({ attempt: 1, status_code: null, error: 'timeout' });
    }
    const received = healthy.received.length;

    await hanging.close(); // from now on the port refuses connections
    for (const [i, delayMs] of UQPAY_RETRY_DELAYS_MS.entries()) {
      await advanceClock(tp, delayMs / 1000);
      // Due once the delay has passed since the try was recorded (a timeout's after it ended): real time finishes it.
      await until(`try ${i + 2}`, async () => (await deliveries(stuck)).every((d) => d.attempts >= i + 2), 10_000);
    }

    const log = await deliveries(stuck);
    expect(log).toHaveLength(initial.length);
    for (const d of log) {
      expect(d).toMatchObject({ status: 'failed', attempts: UQPAY_RETRY_DELAYS_MS.length + 1 });
      expect(d.attempt_log.map((a) => a.attempt)).toEqual([1, 2, 3, 4, 5, 6]);
      expect(d.attempt_log.slice(1).every((a) => a.status_code === null && a.error === 'ECONNREFUSED')).toBe(true);
      // 16, 32, 64, 128, 256 s apart: never sooner; later only by the test's own pace (the first gap also spans
      // the wait for every first try, real time the platform clock counts too).
      for (const [n, delayMs] of UQPAY_RETRY_DELAYS_MS.entries()) {
        const gap = Date.parse(d.attempt_log[n + 1]!.attempted_at) - Date.parse(d.attempt_log[n]!.attempted_at);
        expect(gap).toBeGreaterThanOrEqual(delayMs);
        if (n > 0) expect(gap).toBeLessThan(delayMs + 5_000);
      }
    }
    // Nothing more is sent, and the healthy merchant got nothing twice.
    await advanceClock(tp, 3600);
    expect((await deliveries(stuck)).every((d) => d.attempts === 6)).toBe(true);
    expect(healthy.received.length).toBe(received);
    expect(new Set(healthy.received.map((w) => w.body.event_id)).size).toBe(received);
  });
});

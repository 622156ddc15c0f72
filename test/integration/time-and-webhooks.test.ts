/**
 * Time-driven behaviour on the sandbox clock (intent expiry, webhook retries)
 * and webhooks as a merchant's endpoint sees them: signed, with unique UUID
 * event ids, retried on UQPAY's schedule, and still delivered after the
 * platform restarts.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { verifyWebhook } from '../../src/dialects/uqpay/webhook-signature.ts';
import {
  advanceClock,
  createPgDatabase,
  describeEachBackend,
  freePort,
  intentBody,
  seedCard,
  simPost,
  startPlatform,
  UqpayClient,
  WebhookReceiver,
  type ReceivedWebhook,
  type TestPlatform,
} from '../support/platform.ts';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** What a merchant's endpoint checks, with its own (real) clock, as the SDK verifiers do. */
function expectSigned(hook: ReceivedWebhook, secret: string): void {
  const ts = hook.headers['x-wk-timestamp'];
  const sig = hook.headers['x-wk-signature'];
  expect(typeof ts).toBe('string');
  expect(sig).toMatch(/^[0-9a-f]{128}$/);
  expect(verifyWebhook(secret, hook.raw, ts as string, sig as string, Math.floor(Date.now() / 1000)), `signature of ${hook.body?.event_type} (x-wk-timestamp ${ts})`).toBe(true);
  expect(verifyWebhook(secret + 'x', hook.raw, ts as string, sig as string, Math.floor(Date.now() / 1000))).toBe(false);
  expect(hook.body).toMatchObject({ version: 'V1.6.0', event_name: 'ACQUIRING' });
  expect(hook.body.event_id).toMatch(UUID);
  expect(typeof hook.body.source_id).toBe('string');
}

async function until(what: string, predicate: () => boolean | Promise<boolean>, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await predicate())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(25);
  }
}

describeEachBackend('UQPAY time and webhooks', (backend) => {
  let tp: TestPlatform;
  const receivers: WebhookReceiver[] = [];
  let expiry: { merchant: UqpayClient; hooks: WebhookReceiver } | undefined;
  /** Reused after its retries by the next test, which looks only at what arrives after them. */
  let retry: { merchant: UqpayClient; hooks: WebhookReceiver } | undefined;

  async function merchantWithHooks(name: string): Promise<{ merchant: UqpayClient; hooks: WebhookReceiver }> {
    const hooks = await new WebhookReceiver().start();
    receivers.push(hooks);
    const merchant = await UqpayClient.create(tp, { name, webhookUrl: hooks.url });
    return { merchant, hooks };
  }

  beforeAll(async () => {
    tp = await startPlatform(backend);
  });
  afterAll(async () => {
    await tp?.close();
    await Promise.all(receivers.map((r) => r.close()));
  });

  it('an unpaid intent, or one left at its 3DS challenge, fails 30 minutes after creation', async () => {
    expiry = await merchantWithHooks('Expiry Merchant');
    const { merchant, hooks } = expiry;
    const unpaid = (await merchant.post('/v2/payment_intents/create', intentBody())).body;
    const challenged = (await merchant.post('/v2/payment_intents/create', { ...intentBody(), payment_method: seedCard({ card_number: '4000002500003155' }) })).body;
    const declined = (await merchant.post('/v2/payment_intents/create', { ...intentBody(), payment_method: seedCard({ card_number: '4000000000000002' }) })).body;
    const paid = (await merchant.post('/v2/payment_intents/create', { ...intentBody(), payment_method: seedCard() })).body;
    const authorized = (await merchant.post('/v2/payment_intents/create', { ...intentBody(), payment_method: seedCard({ auto_capture: false }) })).body;
    expect([unpaid, challenged, declined, paid, authorized].map((i) => i.intent_status)).toEqual([
      'REQUIRES_PAYMENT_METHOD',
      'REQUIRES_CUSTOMER_ACTION',
      'REQUIRES_PAYMENT_METHOD',
      'SUCCEEDED',
      'REQUIRES_CAPTURE',
    ]);
    const challengeUrl: string = challenged.next_action.redirect_to_url.url;

    // 28 minutes: nothing expires yet.
    await advanceClock(tp, 1680);
    await sleep(300);
    for (const i of [unpaid, challenged, declined]) {
      const r = await merchant.get(`/v2/payment_intents/${i.payment_intent_id}`);
      expect(r.body.intent_status).toBe(i.intent_status);
    }
    expect(hooks.ofType('acquiring.payment_intent.failed')).toHaveLength(0);

    // Past 30 minutes from creation.
    await advanceClock(tp, 121);
    await merchant.authenticate(); // the old token expired with the same jump
    const failedIds = [unpaid, challenged, declined].map((i) => i.payment_intent_id);
    for (const id of failedIds) {
      const r = await merchant.get(`/v2/payment_intents/${id}`);
      expect(r.body.intent_status, id).toBe('FAILED');
      expect(r.body.complete_time).toMatch(/\+08:00$/);
      expect(r.body.next_action).toBeNull();
    }
    const attempt = await merchant.get(`/v2/payment/payment_attempts/${challenged.latest_payment_attempt.attempt_id}`);
    expect(attempt.body.attempt_status).toBe('EXPIRED');
    expect((await merchant.get(`/v2/payment_intents/${paid.payment_intent_id}`)).body.intent_status).toBe('SUCCEEDED');
    expect((await merchant.get(`/v2/payment_intents/${authorized.payment_intent_id}`)).body.intent_status).toBe('REQUIRES_CAPTURE');

    await hooks.waitFor(() => failedIds.every((id) => hooks.ofType('acquiring.payment_intent.failed').some((w) => w.body.source_id === id)));
    const failed = hooks.ofType('acquiring.payment_intent.failed');
    expect(failed).toHaveLength(3);
    for (const w of failed) {
      expect(w.body.data).toMatchObject({ payment_intent_id: w.body.source_id, intent_status: 'FAILED' });
      expectSigned(w, merchant.credentials.uqpay.webhook_secret);
    }

    // An expired intent cannot be paid any more, nor its challenge completed.
    const late = await merchant.post(`/v2/payment_intents/${unpaid.payment_intent_id}/confirm`, { payment_method: seedCard() });
    expect(late.status).toBe(400);
    expect(late.body.type).toBe('payment_error');
    const challenge = await simPost(tp.baseUrl, '/3ds/complete', { url: challengeUrl, result: 'success' });
    expect(challenge.status).toBeGreaterThanOrEqual(400);
    expect(challenge.status).toBeLessThan(500);
    expect((await merchant.get(`/v2/payment_intents/${challenged.payment_intent_id}`)).body.intent_status).toBe('FAILED');
    const balance = await merchant.get('/v2/payment/balances/SGD');
    expect(balance.body.pending_balance).toBe(paid.amount);
  });

  it('retries a refused webhook after 16 s and then 32 s of sandbox time, and stops once acknowledged', async () => {
    retry = await merchantWithHooks('Retry Merchant');
    const { merchant, hooks } = retry;
    hooks.responses = [500, 500];
    const created = await merchant.post('/v2/payment_intents/create', intentBody()); // one event: payment_intent.created
    expect(created.status).toBe(200);
    await hooks.waitFor((w) => w.length === 1);
    await sleep(250);
    expect(hooks.received).toHaveLength(1);

    await advanceClock(tp, 15);
    await sleep(250);
    expect(hooks.received).toHaveLength(1);
    await advanceClock(tp, 2); // 17 s after the first try
    await hooks.waitFor((w) => w.length === 2);
    await sleep(250);
    expect(hooks.received).toHaveLength(2);

    await advanceClock(tp, 30);
    await sleep(250);
    expect(hooks.received).toHaveLength(2);
    await advanceClock(tp, 3); // 33 s after the second try
    await hooks.waitFor((w) => w.length === 3);

    await advanceClock(tp, 600); // acknowledged: nothing more comes
    await sleep(250);
    expect(hooks.received).toHaveLength(3);

    const ids = new Set(hooks.received.map((w) => w.body.event_id));
    expect(ids.size).toBe(1);
    expect(hooks.received.every((w) => w.raw === hooks.received[0]!.raw)).toBe(true);
    expect(hooks.received[0]!.body).toMatchObject({ event_type: 'acquiring.payment_intent.created', source_id: created.body.payment_intent_id });
    for (const w of hooks.received) expectSigned(w, merchant.credentials.uqpay.webhook_secret);

    const log = await tp.platform.relay.deliveryLog(merchant.credentials.merchant_id);
    expect(log).toHaveLength(1);
    expect(log[0]).toMatchObject({ status: 'succeeded', attempts: 3 });
    expect(log[0]!.attempt_log.map((a) => a.status_code)).toEqual([500, 500, 200]);

    // The same log over the sandbox API, as a developer reads it.
    const r = await fetch(`${tp.baseUrl}/sim/v1/merchants/${merchant.credentials.merchant_id}/deliveries`);
    expect(r.status).toBe(200);
    const { data } = (await r.json()) as { data: any[] };
    expect(data).toHaveLength(1);
    expect(data[0]).toMatchObject({
      event_id: hooks.received[0]!.body.event_id,
      event_type: 'payment_intent.created', // the platform's name for the event; the webhook says it UQPAY's way
      dialect: 'uqpay',
      status: 'succeeded',
      attempts: 3,
      next_attempt_at: null,
      last_status_code: 200,
    });
    expect(data[0].attempt_log.map((a: any) => a.status_code)).toEqual([500, 500, 200]);
    for (const a of data[0].attempt_log) expect(a.attempted_at).toMatch(/^\d{4}-\d\d-\d\dT.*Z$/);
    // Later tries happen later on the platform clock: 16 s, then 32 s.
    const at = data[0].attempt_log.map((a: any) => Date.parse(a.attempted_at));
    expect(at[1] - at[0]).toBeGreaterThanOrEqual(16_000);
    expect(at[2] - at[1]).toBeGreaterThanOrEqual(32_000);
    expect((await fetch(`${tp.baseUrl}/sim/v1/merchants/M0/deliveries`)).status).toBe(404);
    expect((await fetch(`${tp.baseUrl}/sim/v1/merchants/${merchant.credentials.merchant_id}/deliveries?limit=0`)).status).toBe(400);
  });

  it('signs every webhook, with unique UUID event ids, and sends the whole story of a payment', async () => {
    const { merchant, hooks } = retry ?? (await merchantWithHooks('Story Merchant'));
    const retried = hooks.received.length;
    const paid = (await merchant.post('/v2/payment_intents/create', { ...intentBody({ amount: '12.34' }), payment_method: seedCard() })).body;
    expect(paid.intent_status).toBe('SUCCEEDED');
    const id = paid.payment_intent_id;
    const attemptId = paid.latest_payment_attempt.attempt_id;
    const refund = (await merchant.post('/v2/payment/refunds', { payment_intent_id: id, amount: '2.34', reason: 'part' })).body;
    const declined = (await merchant.post('/v2/payment_intents/create', { ...intentBody(), payment_method: seedCard({ card_number: '4000000000009995' }) })).body;
    const cancelled = (await merchant.post(`/v2/payment_intents/${declined.payment_intent_id}/cancel`, { cancellation_reason: 'abandoned' })).body;
    expect(cancelled.intent_status).toBe('CANCELLED');

    const expected: Array<[string, string]> = [
      ['acquiring.payment_intent.created', id],
      ['acquiring.payment_attempt.created', attemptId],
      ['acquiring.payment_attempt.capture_requested', attemptId],
      ['acquiring.payment_intent.succeeded', id],
      ['acquiring.refund.created', refund.payment_refund_id],
      ['acquiring.refund.succeeded', refund.payment_refund_id],
      ['acquiring.payment_attempt.failed', declined.latest_payment_attempt.attempt_id],
      ['acquiring.cancel.succeeded', declined.payment_intent_id],
    ];
    await hooks.waitFor((w) => expected.every(([type, source]) => w.some((h) => h.body.event_type === type && h.body.source_id === source)));
    await sleep(200);

    const fresh = hooks.received.slice(retried);
    expect(fresh.length).toBeGreaterThanOrEqual(expected.length);
    for (const w of fresh) expectSigned(w, merchant.credentials.uqpay.webhook_secret);
    const ids = fresh.map((w) => w.body.event_id);
    expect(new Set(ids).size).toBe(ids.length);

    // The payment's own events, each once, all about this payment.
    const ofPayment = fresh.filter((w) => w.body.data?.payment_intent_id === id);
    const types = ofPayment.map((w) => w.body.event_type);
    for (const t of ['acquiring.payment_intent.created', 'acquiring.payment_attempt.created', 'acquiring.payment_attempt.capture_requested', 'acquiring.payment_intent.succeeded']) {
      expect(types.filter((x) => x === t), t).toHaveLength(1);
    }
    const succeeded = hooks.ofType('acquiring.payment_intent.succeeded').find((w) => w.body.source_id === id)!;
    expect(succeeded.body.data).toMatchObject({ intent_status: 'SUCCEEDED', amount: '12.34', captured_amount: '12.34' });
    const capture = hooks.ofType('acquiring.payment_attempt.capture_requested').find((w) => w.body.source_id === attemptId)!;
    expect(capture.body.data).toMatchObject({ payment_attempt_id: attemptId, attempt_status: 'CAPTURE_REQUESTED', captured_amount: '12.34' });
    const refunded = hooks.ofType('acquiring.refund.succeeded').find((w) => w.body.source_id === refund.payment_refund_id)!;
    expect(refunded.body.data).toMatchObject({ payment_intent_id: id, amount: '2.34', refund_status: 'SUCCEEDED' });
    // Another merchant's secret does not verify them.
    const otherSecret = expiry?.merchant.credentials.uqpay.webhook_secret ?? 'whsec_someone_else';
    expect(verifyWebhook(otherSecret, succeeded.raw, succeeded.headers['x-wk-timestamp'] as string, succeeded.headers['x-wk-signature'] as string, Math.floor(Date.now() / 1000))).toBe(false);
  });

  it('delivers pending webhooks after a restart on the same data', async () => {
    const dataDir = mkdtempSync(path.join(os.tmpdir(), 'polypay-restart-'));
    const db = backend === 'postgres' ? await createPgDatabase() : null;
    let first: TestPlatform | null = null;
    let second: TestPlatform | null = null;
    let receiver: WebhookReceiver | null = null;
    try {
      const port = await freePort(); // nothing listens there yet
      first = await startPlatform(backend, { dataDir, databaseUrl: db?.url });
      // Platform time is well ahead of real time before the restart, and stays so after it.
      await advanceClock(first, 2900);
      const merchant = await UqpayClient.create(first, { name: 'Restart Merchant', webhookUrl: `http://127.0.0.1:${port}/hooks` });
      const paid = (await merchant.post('/v2/payment_intents/create', { ...intentBody(), payment_method: seedCard() })).body;
      expect(paid.intent_status).toBe('SUCCEEDED');
      const merchantId = merchant.credentials.merchant_id;
      // Every delivery has been tried once (connection refused) and waits for its retry.
      await until('first delivery attempts', async () => {
        const log = await first!.platform.relay.deliveryLog(merchantId);
        return log.length === 4 && log.every((d) => d.attempts === 1);
      });
      const pending = await first.platform.relay.deliveryLog(merchantId);
      expect(pending.every((d) => d.status === 'pending' && d.last_status_code === null)).toBe(true);
      await first.close();
      first = null;

      receiver = await new WebhookReceiver().start(port); // a webhook endpoint on the chosen port
      second = await startPlatform(backend, { dataDir, databaseUrl: db?.url });
      const clock = await fetch(`${second.baseUrl}/sim/v1/clock`).then((r) => r.json() as Promise<{ offset_seconds: number }>);
      expect(clock.offset_seconds).toBe(2900);
      await sleep(300);
      expect(receiver.received).toHaveLength(0); // not due yet: the retry comes 16 s after the first try
      // The merchant, its token and its payment survived the restart.
      const client = new UqpayClient(second.baseUrl, merchant.credentials);
      client.token = merchant.token;
      const again = await client.get(`/v2/payment_intents/${paid.payment_intent_id}`);
      expect(again.status, again.text).toBe(200);
      expect(again.body.intent_status).toBe('SUCCEEDED');

      await advanceClock(second, 17);
      await until('webhooks after restart', () => receiver!.received.length >= 4);
      const types = receiver.received.map((w) => w.body.event_type).sort();
      expect(types).toEqual(
        ['acquiring.payment_attempt.capture_requested', 'acquiring.payment_attempt.created', 'acquiring.payment_intent.created', 'acquiring.payment_intent.succeeded'].sort(),
      );
      for (const w of receiver.received) expectSigned(w, merchant.credentials.uqpay.webhook_secret);
      expect(new Set(receiver.received.map((w) => w.body.event_id)).size).toBe(4);
      await until('deliveries recorded', async () => (await second!.platform.relay.deliveryLog(merchantId)).every((d) => d.status === 'succeeded'));
      const log = await second.platform.relay.deliveryLog(merchantId);
      for (const d of log) expect(d.attempt_log.map((a) => a.status_code)).toEqual([null, 200]);
    } finally {
      await first?.close();
      await second?.close();
      await receiver?.close();
      await db?.drop();
      rmSync(dataDir, { recursive: true, force: true });
    }
  });

  it('payments authorized before a restart can still be captured, voided and refunded after it', async () => {
    const dataDir = mkdtempSync(path.join(os.tmpdir(), 'polypay-restart-'));
    const db = backend === 'postgres' ? await createPgDatabase() : null;
    let first: TestPlatform | null = null;
    let second: TestPlatform | null = null;
    try {
      first = await startPlatform(backend, { dataDir, databaseUrl: db?.url });
      const before = await UqpayClient.create(first, { name: 'Restart Payments' });
      const toCapture = (await before.post('/v2/payment_intents/create', { ...intentBody({ amount: '20' }), payment_method: seedCard({ auto_capture: false }) })).body;
      const toVoid = (await before.post('/v2/payment_intents/create', { ...intentBody({ amount: '20' }), payment_method: seedCard({ auto_capture: false }) })).body;
      const toRefund = (await before.post('/v2/payment_intents/create', { ...intentBody({ amount: '20' }), payment_method: seedCard() })).body;
      expect([toCapture, toVoid, toRefund].map((i) => i.intent_status)).toEqual(['REQUIRES_CAPTURE', 'REQUIRES_CAPTURE', 'SUCCEEDED']);
      await first.close();
      first = null;

      second = await startPlatform(backend, { dataDir, databaseUrl: db?.url });
      const after = new UqpayClient(second.baseUrl, before.credentials);
      await after.authenticate();
      const captured = await after.post(`/v2/payment_intents/${toCapture.payment_intent_id}/capture`, {});
      expect(captured.status, captured.text).toBe(200);
      expect(captured.body).toMatchObject({ intent_status: 'SUCCEEDED', captured_amount: '20.00' });
      const voided = await after.post(`/v2/payment_intents/${toVoid.payment_intent_id}/cancel`, { cancellation_reason: 'abandoned' });
      expect(voided.status, voided.text).toBe(200);
      expect(voided.body.intent_status).toBe('CANCELLED');
      const refund = await after.post('/v2/payment/refunds', { payment_intent_id: toRefund.payment_intent_id, amount: '5', reason: 'after restart' });
      expect(refund.status, refund.text).toBe(200);
      expect(refund.body.refund_status).toBe('SUCCEEDED');
      expect((await after.get('/v2/payment/balances/SGD')).body.pending_balance).toBe('35');
    } finally {
      await first?.close();
      await second?.close();
      await db?.drop();
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});

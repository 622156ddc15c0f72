/**
 * GET /metrics as a Prometheus scraper reads it: requests per route pattern,
 * payments by status, the webhook outbox's backlog, delivery outcomes and
 * webhook lag, after real payments with a merchant endpoint that acknowledges
 * some webhooks and refuses others.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeEachBackend, intentBody, seedCard, startPlatform, UqpayClient, WebhookReceiver, type TestPlatform } from '../support/platform.ts';

/** The value of one sample line `name{labels} value`, or undefined. */
function sample(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  for (const line of text.split('\n')) {
    if (!line.startsWith(name)) continue;
    const m = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m || m[1] !== name) continue;
    const have = Object.fromEntries([...(m[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map((l) => [l[1], l[2]]));
    if (Object.entries(labels).every(([k, v]) => have[k] === v)) return Number(m[3]);
  }
  return undefined;
}

describeEachBackend('GET /metrics', (backend) => {
  let tp: TestPlatform;
  let hooks: WebhookReceiver;
  let merchant: UqpayClient;

  beforeAll(async () => {
    tp = await startPlatform(backend);
    hooks = await new WebhookReceiver().start();
    merchant = await UqpayClient.create(tp, { webhookUrl: hooks.url });
  });
  afterAll(async () => {
    await tp?.close();
    await hooks?.close();
  });

  it('counts requests by route pattern, payments by status, and each webhook try with its lag', async () => {
    hooks.responses = [500]; // the first webhook is refused once, then retried later
    for (let i = 0; i < 3; i++) {
      const r = await merchant.post('/v2/payment_intents/create', { ...intentBody(), payment_method: seedCard() });
      expect(r.status, r.text).toBe(200);
      expect(r.body.intent_status).toBe('SUCCEEDED');
    }
    const declined = await merchant.post('/v2/payment_intents/create', { ...intentBody(), payment_method: seedCard({ card_number: '4000000000000002' }) });
    expect(declined.body.intent_status).toBe('REQUIRES_PAYMENT_METHOD');
    const unknown = await merchant.get('/v2/payment_intents/PI0000000000000000001');
    expect(unknown.status).toBe(400);

    // Every webhook but the refused one arrives; the refused one waits for its retry.
    await hooks.waitFor((all) => all.length >= 2 && all.filter((h) => h.body?.event_type === 'acquiring.payment_intent.succeeded').length >= 2);
    await new Promise((r) => setTimeout(r, 300));

    const res = await fetch(`${tp.baseUrl}/metrics`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    const text = await res.text();

    expect(sample(text, 'polypay_http_requests_total', { method: 'POST', route: '/api/v2/payment_intents/create', status_code: '200' })).toBe(4);
    expect(sample(text, 'polypay_http_requests_total', { method: 'GET', route: '/api/v2/payment_intents/:id', status_code: '400' })).toBe(1);
    expect(sample(text, 'polypay_http_request_duration_seconds_count', { method: 'POST', route: '/api/v2/payment_intents/create' })).toBe(4);
    expect(sample(text, 'polypay_payment_intents', { status: 'SUCCEEDED' })).toBe(3);
    expect(sample(text, 'polypay_payment_intents', { status: 'REQUIRES_PAYMENT_METHOD' })).toBe(1);

    const acknowledged = sample(text, 'polypay_webhook_deliveries_total', { dialect: 'uqpay', outcome: 'acknowledged' }) ?? 0;
    expect(acknowledged).toBe(hooks.received.length - 1);
    expect(sample(text, 'polypay_webhook_deliveries_total', { dialect: 'uqpay', outcome: 'retrying' })).toBe(1);
    expect(sample(text, 'polypay_webhook_lag_seconds_count', { dialect: 'uqpay' })).toBe(acknowledged);
    // The refused webhook is the one left to send.
    expect(sample(text, 'polypay_outbox_backlog')).toBe(1);
    expect(sample(text, 'polypay_db_waiting')).toBeGreaterThanOrEqual(0);
    expect(sample(text, 'polypay_db_connections')).toBeGreaterThanOrEqual(1);
    // Nothing waits in the relay, and no unit is held back for it.
    expect(sample(text, 'polypay_webhook_queued')).toBe(0);
    expect(sample(text, 'polypay_webhook_sending')).toBe(0);
    expect(sample(text, 'polypay_webhook_held_units')).toBe(0);
    expect(sample(text, 'polypay_process_resident_memory_bytes')).toBeGreaterThan(0);
    // The scrape itself is not counted.
    expect(text).not.toContain('route="/metrics"');

    // Some metrics only, by name; an unknown name is refused.
    const some = await fetch(`${tp.baseUrl}/metrics?name=polypay_outbox_backlog&name=polypay_process_resident_memory_bytes`);
    expect(some.status).toBe(200);
    const someText = await some.text();
    expect(sample(someText, 'polypay_outbox_backlog')).toBe(1);
    expect(sample(someText, 'polypay_process_resident_memory_bytes')).toBeGreaterThan(0);
    expect(someText).not.toContain('polypay_payment_intents');
    const wrong = await fetch(`${tp.baseUrl}/metrics?name=polypay_nothing`);
    expect(wrong.status).toBe(400);
    expect(await wrong.text()).toContain('unknown metric: polypay_nothing');
  });
});

/**
 * UQPAY e-wallet payments end to end over HTTP, as a merchant and a shopper
 * see them: QR codes and the hosted pay page, the sandbox wallet app
 * (/sim/v1/wallet/scan), customer-presented payment codes, QR expiry, CNY
 * charges at the documented FX rate, and the wallet cancel rules of seed 002.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { buildPlatform } from '../../src/app.ts';
import { loadConfig } from '../../src/config.ts';
import { verifyWebhook } from '../../src/dialects/uqpay/webhook-signature.ts';
import { DEFAULT_CNY_RATES } from '../../src/network/sim/fx-rates.ts';
import {
  advanceClock,
  createPgDatabase,
  describeEachBackend,
  intentBody,
  seedCard,
  simPost,
  startPlatform,
  strandAttempt,
  UqpayClient,
  WebhookReceiver,
  type Backend,
  type TestPlatform,
} from '../support/platform.ts';

/** Every wallet type the UQPAY spec lists, each taking the same object shape. */
const WALLET_TYPES = [
  'alipaycn', 'alipayhk', 'wechatpay', 'unionpay', 'grabpay', 'paynow', 'truemoney', 'tng', 'gcash', 'dana', 'kakaopay', 'naverpay', 'tosspay',
] as const;

/** {"type":"alipaycn","alipaycn":{...}} */
function wallet(type: string, fields: Record<string, unknown> = { flow: 'qrcode', is_present: false }) {
  return { type, [type]: fields };
}

/** Seed 000's payment-code request body, verbatim. */
const SEED_PAYMENT_CODE_BODY = {
  amount: '1.11',
  currency: 'SGD',
  payment_method: {
    type: 'alipaycn',
    alipaycn: {
      flow: 'qrcode',
      os_type: 'ios',
      is_present: true,
      payment_code: '284057804613761079',
    },
  },
  merchant_order_id: 'order-alipay-002',
  description: 'Alipay payment code test',
  metadata: {},
  return_url: 'https://example.com/callback',
};

/** An Alipay payment code (prefix 28, 18 digits) ending in the given four digits. */
const alipayCode = (last4: string) => `28405780461376${last4}`;

const ISO_MILLIS_08 = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+08:00$/;
const DAY_MS = 86_400_000;
const OFFSET_MS = 8 * 3_600_000;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Drops a test database a moment after its platform closed: pg's Pool.end()
 * resolves before its connections have finished closing, and a forced drop
 * in that gap kills them with an error nobody is listening for.
 */
async function dropLater(drop: (() => Promise<void>) | null): Promise<void> {
  if (!drop) return;
  await sleep(300);
  await drop();
}

describeEachBackend('UQPAY wallet payments', (backend) => {
  let tp: TestPlatform;
  let hooks: WebhookReceiver;
  let merchant: UqpayClient;
  /** Every merchant client of this suite: all log in again after a clock jump. */
  const clients: UqpayClient[] = [];

  async function newMerchant(name: string): Promise<UqpayClient> {
    const client = await UqpayClient.create(tp, { name, webhookUrl: hooks.url });
    clients.push(client);
    return client;
  }

  let dropDb: (() => Promise<void>) | null = null;

  beforeAll(async () => {
    let databaseUrl: string | undefined;
    if (backend === 'postgres') ({ url: databaseUrl, drop: dropDb } = await createPgDatabase());
    tp = await startPlatform(backend, { databaseUrl });
    hooks = await new WebhookReceiver().start();
    merchant = await newMerchant('Wallet Shop');
  });
  afterAll(async () => {
    await tp?.close();
    await hooks?.close();
    await dropLater(dropDb);
  });

  const scan = (code: string, action: 'pay' | 'decline') => simPost(tp.baseUrl, '/wallet/scan', { code, action });

  /** Moves the platform clock and logs in again (tokens live 30 minutes of platform time). */
  async function advance(seconds: number): Promise<void> {
    await advanceClock(tp, seconds);
    for (const client of clients) await client.authenticate();
  }

  async function platformNow(): Promise<number> {
    const r = await fetch(`${tp.baseUrl}/sim/v1/clock`);
    return Date.parse(((await r.json()) as { now: string }).now);
  }

  /** Seconds from now to `minutesPast` minutes after the next midnight at UTC+08:00. */
  async function secondsToNextMerchantDay(minutesPast: number): Promise<number> {
    const now = await platformNow();
    const nextMidnight = (Math.floor((now + OFFSET_MS) / DAY_MS) + 1) * DAY_MS - OFFSET_MS;
    return Math.ceil((nextMidnight - now) / 1000) + minutesPast * 60;
  }

  async function balance(client: UqpayClient, currency: string): Promise<string> {
    const r = await client.get(`/v2/payment/balances/${currency}`);
    expect(r.status).toBe(200);
    return r.body.pending_balance;
  }

  const hookFor = (type: string, sourceId: string) => hooks.ofType(type).filter((w) => w.body.source_id === sourceId);
  const hooksForIntent = (type: string, intentId: string) =>
    hooks.ofType(type).filter((w) => w.body.source_id === intentId || w.body.data?.payment_intent_id === intentId);

  async function qrPayment(client: UqpayClient, overrides: Record<string, unknown> = {}, type = 'alipaycn') {
    const r = await client.post('/v2/payment_intents/create', { ...intentBody(), payment_method: wallet(type), ...overrides });
    expect(r.status, r.text).toBe(200);
    expect(r.body.intent_status).toBe('REQUIRES_CUSTOMER_ACTION');
    return r.body;
  }

  it('accepts every wallet type with the same object shape and shows a QR code (flow qrcode)', async () => {
    for (const type of WALLET_TYPES) {
      const r = await merchant.post('/v2/payment_intents/create', { ...intentBody({ description: `${type} test` }), payment_method: wallet(type) });
      expect(r.status, `${type}: ${r.text}`).toBe(200);
      expect(r.body, type).toMatchObject({
        intent_status: 'REQUIRES_CUSTOMER_ACTION',
        amount: '8.98',
        currency: 'SGD',
        latest_payment_attempt: { attempt_status: 'AUTHENTICATION_REDIRECTED', amount: '8.98', failure_code: '' },
        next_action: { type: 'display_qr_code' },
      });
      const qr = r.body.next_action.display_qr_code;
      expect(Object.keys(qr).sort()).toEqual(['expires_at', 'qr_code', 'qr_code_url']);
      expect(qr.qr_code).toBeTruthy();
      expect(qr.qr_code_url.startsWith(tp.baseUrl)).toBe(true);
      expect(qr.expires_at).toMatch(ISO_MILLIS_08);
      // 30 minutes after creation (seed 002: created 11:00:41, expires 11:30:41.061).
      const created = Date.parse(r.body.create_time);
      const expires = Date.parse(qr.expires_at);
      expect(expires - created).toBeGreaterThanOrEqual(30 * 60_000);
      expect(expires - created).toBeLessThan(30 * 60_000 + 1000);

      const attempt = await merchant.get(`/v2/payment/payment_attempts/${r.body.latest_payment_attempt.attempt_id}`);
      expect(attempt.body.payment_method).toMatchObject({ type, [type]: { flow: 'qrcode', is_present: false } });
    }
    // The seed's minimal QR body (flow qrcode, is_present false) and a body without any flow both give a QR code.
    const bare = await merchant.post('/v2/payment_intents/create', { ...intentBody(), payment_method: wallet('wechatpay', {}) });
    expect(bare.body.next_action.type).toBe('display_qr_code');
  });

  it('rejects an unknown wallet type, a missing wallet object and an unknown flow with invalid_request_error', async () => {
    for (const pm of [
      wallet('applepaylater'),
      { type: 'alipaycn' },
      wallet('alipaycn', { flow: 'teleport' }),
      wallet('alipaycn', { flow: 'qrcode', is_present: true }),
    ]) {
      const r = await merchant.post('/v2/payment_intents/create', { ...intentBody(), payment_method: pm });
      expect(r.status, JSON.stringify(pm)).toBe(400);
      expect(r.body).toMatchObject({ type: 'invalid_request_error' });
    }
  });

  it('QR flow: the hosted page shows the QR image; scanning and paying succeeds, with webhooks and the balance credited', async () => {
    const shop = await newMerchant('QR Shop');
    expect(await balance(shop, 'SGD')).toBe('0');
    const body = await qrPayment(shop, { amount: '7.77', merchant_order_id: 'order-alipay-001', description: 'Alipay test' });
    const id = body.payment_intent_id;
    const attemptId = body.latest_payment_attempt.attempt_id;
    const { qr_code, qr_code_url } = body.next_action.display_qr_code;

    const page = await fetch(qr_code_url);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toMatch(/^text\/html/);
    const html = await page.text();
    expect(html).toContain('7.77 SGD');
    expect(html).toContain('order-alipay-001');
    expect(html).toMatch(/<img[^>]+id="qr"[^>]+src="data:image\/png;base64,/);
    expect(html).toContain('id="pay"');
    expect(html).toContain('id="decline"');

    // A merchant page may embed qr_code_url as an image: asked for an image, it answers with the PNG.
    const image = await fetch(qr_code_url, { headers: { accept: 'image/avif,image/webp,image/apng,image/*,*/*;q=0.8' } });
    expect(image.status).toBe(200);
    expect(image.headers.get('content-type')).toBe('image/png');
    const png = Buffer.from(await image.arrayBuffer());
    expect(png.subarray(0, 8).toString('hex')).toBe('89504e470d0a1a0a');

    await hooks.waitFor(() => hookFor('acquiring.payment_intent.requires_action', id).length === 1);

    const paid = await scan(qr_code, 'pay');
    expect(paid.status, paid.text).toBe(200);
    expect(paid.body).toMatchObject({ payment_intent_id: id, intent_status: 'SUCCEEDED', attempt_status: 'CAPTURE_REQUESTED' });

    const intent = await shop.get(`/v2/payment_intents/${id}`);
    expect(intent.body).toMatchObject({
      intent_status: 'SUCCEEDED',
      captured_amount: '7.77',
      next_action: null,
      latest_payment_attempt: { attempt_id: attemptId, attempt_status: 'CAPTURE_REQUESTED', captured_amount: '7.77' },
    });
    expect(intent.body.complete_time).toMatch(/\+08:00$/);
    expect(await balance(shop, 'SGD')).toBe('7.77');

    await hooks.waitFor(() => hookFor('acquiring.payment_intent.succeeded', id).length === 1 && hookFor('acquiring.payment_attempt.capture_requested', attemptId).length === 1);
    const succeeded = hookFor('acquiring.payment_intent.succeeded', id)[0]!;
    expect(succeeded.body).toMatchObject({ event_name: 'ACQUIRING', data: { payment_intent_id: id, intent_status: 'SUCCEEDED', captured_amount: '7.77' } });
    expect(verifyWebhook(shop.credentials.uqpay.webhook_secret, succeeded.raw, succeeded.headers['x-wk-timestamp'] as string, succeeded.headers['x-wk-signature'] as string, Math.floor(Date.now() / 1000))).toBe(true);
    const capture = hookFor('acquiring.payment_attempt.capture_requested', attemptId)[0]!;
    expect(capture.body.data).toMatchObject({
      payment_attempt_id: attemptId,
      payment_intent_id: id,
      attempt_status: 'CAPTURE_REQUESTED',
      payment_method: { type: 'alipaycn', alipaycn: { flow: 'qrcode', is_present: false } },
    });

    // The QR code is single-use: a second scan (by code or by URL) is refused and changes nothing.
    for (const code of [qr_code, qr_code_url]) {
      for (const action of ['pay', 'decline'] as const) {
        const again = await scan(code, action);
        expect(again.status).toBe(409);
        expect(again.body.error.message).toBeTruthy();
      }
    }
    expect(await balance(shop, 'SGD')).toBe('7.77');
    const after = await fetch(qr_code_url);
    const afterHtml = await after.text();
    expect(afterHtml).toContain('id="status">Paid<'); // in the shopper's words, not the API's status
    expect(afterHtml.replace(/<[^>]*>/g, ' ')).not.toContain('SUCCEEDED'); // the page's text (the return link's URL carries it for the merchant)
    expect(afterHtml).not.toContain('id="pay"');
  });

  it('QR flow: two wallet apps scanning the same code at once: one pays, the other is refused, the money counted once', async () => {
    const shop = await newMerchant('Race Shop');
    const body = await qrPayment(shop, { amount: '4.20' }, 'alipaycn');
    const { qr_code, qr_code_url } = body.next_action.display_qr_code;
    const results = await Promise.all([scan(qr_code, 'pay'), scan(qr_code_url, 'pay'), scan(qr_code, 'pay'), scan(qr_code, 'decline')]);
    expect(results.map((r) => r.status).sort()).toEqual([200, 409, 409, 409]);
    const intent = await shop.get(`/v2/payment_intents/${body.payment_intent_id}`);
    const winner = results.find((r) => r.status === 200)!;
    expect(intent.body.intent_status).toBe(winner.body.intent_status);
    expect(await balance(shop, 'SGD')).toBe(intent.body.intent_status === 'SUCCEEDED' ? '4.2' : '0');
  });

  it('QR flow: scanning the qr_code_url works as well as the qr_code', async () => {
    const body = await qrPayment(merchant, {}, 'wechatpay');
    const paid = await scan(body.next_action.display_qr_code.qr_code_url, 'pay');
    expect(paid.body).toMatchObject({ payment_intent_id: body.payment_intent_id, intent_status: 'SUCCEEDED' });
  });

  it('QR flow: the shopper declines; the attempt FAILED, the intent back to REQUIRES_PAYMENT_METHOD, and a new confirm works', async () => {
    const body = await qrPayment(merchant, {}, 'unionpay');
    const id = body.payment_intent_id;
    const declined = await scan(body.next_action.display_qr_code.qr_code, 'decline');
    expect(declined.status).toBe(200);
    expect(declined.body).toMatchObject({ intent_status: 'REQUIRES_PAYMENT_METHOD', attempt_status: 'FAILED' });
    const intent = await merchant.get(`/v2/payment_intents/${id}`);
    expect(intent.body).toMatchObject({ intent_status: 'REQUIRES_PAYMENT_METHOD', next_action: null, captured_amount: '0' });
    expect(intent.body.latest_payment_attempt).toMatchObject({ attempt_status: 'FAILED' });
    expect(intent.body.latest_payment_attempt.failure_code).toBeTruthy();
    await hooks.waitFor(() => hookFor('acquiring.payment_attempt.failed', body.latest_payment_attempt.attempt_id).length === 1);

    // The old QR code is dead; a new confirm (another wallet) gives a new one that works.
    expect((await scan(body.next_action.display_qr_code.qr_code, 'pay')).status).toBe(409);
    const again = await merchant.post(`/v2/payment_intents/${id}/confirm`, { payment_method: wallet('alipaycn') });
    expect(again.status).toBe(200);
    expect(again.body).toMatchObject({ intent_status: 'REQUIRES_CUSTOMER_ACTION', next_action: { type: 'display_qr_code' } });
    expect(again.body.latest_payment_attempt.attempt_id).not.toBe(body.latest_payment_attempt.attempt_id);
    expect(again.body.next_action.display_qr_code.qr_code).not.toBe(body.next_action.display_qr_code.qr_code);
    // The old QR page speaks of its own, declined attempt: no buttons, though the intent now waits on the new code.
    const oldPage = await (await fetch(body.next_action.display_qr_code.qr_code_url)).text();
    expect(oldPage).toContain('id="declined"');
    expect(oldPage).not.toContain('id="pay"');
    expect(await (await fetch(again.body.next_action.display_qr_code.qr_code_url)).text()).toContain('id="pay"');
    const paid = await scan(again.body.next_action.display_qr_code.qr_code, 'pay');
    expect(paid.body.intent_status).toBe('SUCCEEDED');
    const attempts = await merchant.get(`/v2/payment/payment_attempts?payment_intent_id=${id}`);
    expect(attempts.body.data.map((a: any) => a.attempt_status).sort()).toEqual(['CAPTURE_REQUESTED', 'FAILED']);
  });

  it('the sandbox scan refuses codes that are not this platform\'s', async () => {
    expect((await scan('weixin://wxpay/bizpayurl?pr=nothing', 'pay')).status).toBe(400);
    expect((await scan(`${tp.baseUrl}/wallet/pay/AAAAAAAAAAAAAAAAAAAAAAAA`, 'pay')).status).toBe(404);
    expect((await simPost(tp.baseUrl, '/wallet/scan', { code: 'x', action: 'steal' })).status).toBe(400);
    expect((await fetch(`${tp.baseUrl}/wallet/pay/AAAAAAAAAAAAAAAAAAAAAAAA`)).status).toBe(404);
  });

  it('payment code (seed 000 body verbatim): SUCCEEDED at once', async () => {
    const shop = await newMerchant('Code Shop');
    const r = await shop.post('/v2/payment_intents/create', SEED_PAYMENT_CODE_BODY);
    expect(r.status, r.text).toBe(200);
    expect(r.body).toMatchObject({
      amount: '1.11',
      currency: 'SGD',
      intent_status: 'SUCCEEDED',
      captured_amount: '1.11',
      merchant_order_id: 'order-alipay-002',
      description: 'Alipay payment code test',
      next_action: null,
      latest_payment_attempt: { attempt_status: 'CAPTURE_REQUESTED', amount: '1.11', captured_amount: '1.11' },
    });
    const attempt = await shop.get(`/v2/payment/payment_attempts/${r.body.latest_payment_attempt.attempt_id}`);
    expect(attempt.body.payment_method).toMatchObject({ type: 'alipaycn', alipaycn: { flow: 'qrcode', os_type: 'ios', is_present: true } });
    // Never the whole payment code.
    expect(attempt.body.payment_method.alipaycn.payment_code).toMatch(/\*+1079$/);
    expect(attempt.text).not.toContain('284057804613761079');
    expect(await balance(shop, 'SGD')).toBe('1.11');
    await hooks.waitFor(() => hookFor('acquiring.payment_intent.succeeded', r.body.payment_intent_id).length === 1);
    expect(hooks.received.some((w) => w.raw.includes('284057804613761079'))).toBe(false);
  });

  it('payment code: every wallet type takes a payment code the same way', async () => {
    for (const type of WALLET_TYPES) {
      const r = await merchant.post('/v2/payment_intents/create', {
        ...intentBody(),
        payment_method: wallet(type, { flow: 'qrcode', is_present: true, payment_code: type === 'wechatpay' ? '134567890123451079' : type === 'unionpay' ? '6212345678901231079' : alipayCode('1079') }),
      });
      expect(r.status, `${type}: ${r.text}`).toBe(200);
      expect(r.body.intent_status, type).toBe('SUCCEEDED');
    }
  });

  it('payment code 1143 / 1145: PENDING, then SUCCEEDED with a webhook once the clock passes the confirm delay', async () => {
    const shop = await newMerchant('Pending Shop');
    const ids: string[] = [];
    for (const last4 of ['1143', '1145']) {
      const r = await shop.post('/v2/payment_intents/create', {
        ...intentBody({ amount: '2.50' }),
        payment_method: wallet('alipaycn', { flow: 'qrcode', is_present: true, payment_code: alipayCode(last4) }),
      });
      expect(r.status).toBe(200);
      expect(r.body).toMatchObject({ intent_status: 'PENDING', captured_amount: '0', latest_payment_attempt: { attempt_status: 'PENDING_AUTHORIZATION' } });
      ids.push(r.body.payment_intent_id);
    }
    // Still pending while the payer confirms; nothing credited yet.
    await sleep(300);
    for (const id of ids) expect((await shop.get(`/v2/payment_intents/${id}`)).body.intent_status).toBe('PENDING');
    expect(await balance(shop, 'SGD')).toBe('0');

    await advance(11); // past both confirm delays (10 s and 5 s)
    for (const id of ids) {
      const r = await shop.get(`/v2/payment_intents/${id}`);
      expect(r.body).toMatchObject({ intent_status: 'SUCCEEDED', captured_amount: '2.50', latest_payment_attempt: { attempt_status: 'CAPTURE_REQUESTED' } });
    }
    expect(await balance(shop, 'SGD')).toBe('5');
    await hooks.waitFor(() => ids.every((id) => hookFor('acquiring.payment_intent.succeeded', id).length === 1));
  });

  it('payment code 1201 / 1202 / 2005: FAILED attempt with a clear failure_code, intent ready for another try', async () => {
    for (const [last4, code] of [['1201', 'insufficient_balance'], ['1202', 'invalid_payment_code'], ['2005', 'payment_code_expired']] as const) {
      const r = await merchant.post('/v2/payment_intents/create', {
        ...intentBody(),
        payment_method: wallet('alipaycn', { flow: 'qrcode', is_present: true, payment_code: alipayCode(last4) }),
      });
      expect(r.status).toBe(200);
      expect(r.body, last4).toMatchObject({ intent_status: 'REQUIRES_PAYMENT_METHOD', latest_payment_attempt: { attempt_status: 'FAILED', failure_code: code } });
      await hooks.waitFor(() => hookFor('acquiring.payment_attempt.failed', r.body.latest_payment_attempt.attempt_id).length === 1);
      const retry = await merchant.post(`/v2/payment_intents/${r.body.payment_intent_id}/confirm`, {
        payment_method: wallet('alipaycn', { flow: 'qrcode', is_present: true, payment_code: alipayCode('1079') }),
      });
      expect(retry.body.intent_status).toBe('SUCCEEDED');
    }
  });

  it('a malformed payment code is a 400 invalid_request_error and leaves no payment behind', async () => {
    const order = `order-bad-code-${backend}`;
    for (const payment_code of ['28405780461376107X', '1234', '', ' ', '2840578046137610791234567890123456789']) {
      const r = await merchant.post('/v2/payment_intents/create', {
        ...intentBody({ merchant_order_id: order }),
        payment_method: wallet('alipaycn', { flow: 'qrcode', is_present: true, payment_code }),
      });
      expect(r.status, JSON.stringify(payment_code)).toBe(400);
      expect(r.body.type).toBe('invalid_request_error');
    }
    const list = await merchant.get(`/v2/payment_intents?merchant_order_id=${order}`);
    expect(list.body.total_items).toBe(0);
  });

  it('mobile_web: redirect_to_url to the hosted page; paying there sends the shopper to return_url', async () => {
    const returnUrl = 'https://shop.example/return?order=42';
    const r = await merchant.post('/v2/payment_intents/create', {
      ...intentBody({ return_url: returnUrl }),
      payment_method: wallet('alipaycn', { flow: 'mobile_web', os_type: 'android' }),
    });
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({
      intent_status: 'REQUIRES_CUSTOMER_ACTION',
      latest_payment_attempt: { attempt_status: 'AUTHENTICATION_REDIRECTED' },
      next_action: { type: 'redirect_to_url', redirect_to_url: { return_url: returnUrl } },
    });
    const url: string = r.body.next_action.redirect_to_url.url;
    expect(url.startsWith(`${tp.baseUrl}/wallet/pay/`)).toBe(true);
    const page = await fetch(url);
    expect(await page.text()).toContain('8.98 SGD');

    const pay = await fetch(url, { method: 'POST', redirect: 'manual', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'action=pay' });
    expect(pay.status).toBe(303);
    const landed = new URL(pay.headers.get('location')!);
    expect(`${landed.origin}${landed.pathname}`).toBe('https://shop.example/return');
    expect(landed.searchParams.get('order')).toBe('42');
    expect(landed.searchParams.get('payment_intent_id')).toBe(r.body.payment_intent_id);
    expect(landed.searchParams.get('intent_status')).toBe('SUCCEEDED');
    expect((await merchant.get(`/v2/payment_intents/${r.body.payment_intent_id}`)).body.intent_status).toBe('SUCCEEDED');
    const attempt = await merchant.get(`/v2/payment/payment_attempts/${r.body.latest_payment_attempt.attempt_id}`);
    expect(attempt.body.payment_method).toMatchObject({ type: 'alipaycn', alipaycn: { flow: 'mobile_web', os_type: 'android', is_present: false } });
  });

  it('mobile_app: a next_action the merchant\'s app can open, which leads to the payment', async () => {
    const r = await merchant.post('/v2/payment_intents/create', { ...intentBody(), payment_method: wallet('wechatpay', { flow: 'mobile_app', os_type: 'ios' }) });
    expect(r.status).toBe(200);
    expect(r.body.intent_status).toBe('REQUIRES_CUSTOMER_ACTION');
    expect(r.body.next_action.type).toBe('redirect_to_url');
    const url: string = r.body.next_action.redirect_to_url.url;
    expect((await fetch(url)).status).toBe(200);
    const paid = await scan(url, 'pay');
    expect(paid.body.intent_status).toBe('SUCCEEDED');
  });

  it('FX: Alipay CN and WeChat Pay in SGD charge the shopper CNY at the documented rate, shown on the pay page', async () => {
    expect(DEFAULT_CNY_RATES.SGD).toBe('5.3120');
    for (const type of ['alipaycn', 'wechatpay']) {
      const body = await qrPayment(merchant, { amount: '10.00' }, type);
      const html = await (await fetch(body.next_action.display_qr_code.qr_code_url)).text();
      expect(html).toMatch(/id="amount">10\.00 SGD</);
      expect(html).toMatch(/id="shopper-amount">53\.12 CNY</); // 10.00 x 5.3120
      expect(html).toContain('1 SGD = 5.3120 CNY');
    }
    // Rounding half-up to the fen: 8.98 x 5.3120 = 47.70176 -> 47.70; 0.99 x 5.3120 = 5.25888 -> 5.26.
    for (const [amount, cny] of [['8.98', '47.70'], ['0.99', '5.26']]) {
      const body = await qrPayment(merchant, { amount });
      expect(await (await fetch(body.next_action.display_qr_code.qr_code_url)).text()).toContain(`id="shopper-amount">${cny} CNY<`);
    }
    // JPY has no minor unit: 1000 JPY x 0.047150 = 47.15 CNY.
    const jpy = await qrPayment(merchant, { amount: '1000', currency: 'JPY' });
    expect(await (await fetch(jpy.next_action.display_qr_code.qr_code_url)).text()).toContain('id="shopper-amount">47.15 CNY<');
    // Other wallets charge the order currency; CNY orders are not converted.
    const grab = await qrPayment(merchant, { amount: '10.00' }, 'grabpay');
    const grabHtml = await (await fetch(grab.next_action.display_qr_code.qr_code_url)).text();
    expect(grabHtml).not.toContain('shopper-amount');
    const cnyOrder = await qrPayment(merchant, { amount: '10.00', currency: 'CNY' }, 'wechatpay');
    expect(await (await fetch(cnyOrder.next_action.display_qr_code.qr_code_url)).text()).not.toContain('shopper-amount');
  });

  it('FX: an order the wallet cannot charge in CNY is refused up front and leaves no payment behind', async () => {
    const order = `order-no-fx-${backend}`;
    // No KWD/CNY rate in the table.
    const kwd = await merchant.post('/v2/payment_intents/create', { ...intentBody({ amount: '1.000', currency: 'KWD', merchant_order_id: order }), payment_method: wallet('alipaycn') });
    expect(kwd.status).toBe(400);
    expect(kwd.body.type).toBe('invalid_request_error');
    // 0.01 THB is 0.0021 CNY: less than one fen.
    const tiny = await merchant.post('/v2/payment_intents/create', { ...intentBody({ amount: '0.01', currency: 'THB', merchant_order_id: order }), payment_method: wallet('wechatpay') });
    expect(tiny.status).toBe(400);
    expect(tiny.body.type).toBe('invalid_request_error');
    expect((await merchant.get(`/v2/payment_intents?merchant_order_id=${order}`)).body.total_items).toBe(0);

    // Confirming an existing intent the same way is refused too, and the intent stays confirmable.
    const created = await merchant.post('/v2/payment_intents/create', intentBody({ amount: '1.000', currency: 'KWD' }));
    const confirm = await merchant.post(`/v2/payment_intents/${created.body.payment_intent_id}/confirm`, { payment_method: wallet('alipaycn') });
    expect(confirm.status).toBe(400);
    expect(confirm.body.type).toBe('invalid_request_error');
    const intent = await merchant.get(`/v2/payment_intents/${created.body.payment_intent_id}`);
    expect(intent.body).toMatchObject({ intent_status: 'REQUIRES_PAYMENT_METHOD', latest_payment_attempt: null });
    const other = await merchant.post(`/v2/payment_intents/${created.body.payment_intent_id}/confirm`, { payment_method: wallet('grabpay') });
    expect(other.body.intent_status).toBe('REQUIRES_CUSTOMER_ACTION');
  });

  it('wallet refunds work like card refunds: partial, full, never more', async () => {
    const shop = await newMerchant('Refund Shop');
    const body = await qrPayment(shop, { amount: '30', currency: 'USD' }, 'wechatpay');
    const id = body.payment_intent_id;
    expect((await scan(body.next_action.display_qr_code.qr_code, 'pay')).body.intent_status).toBe('SUCCEEDED');
    expect(await balance(shop, 'USD')).toBe('30');

    const r1 = await shop.post('/v2/payment/refunds', { payment_intent_id: id, amount: '10', reason: 'partial' });
    expect(r1.status).toBe(200);
    expect(r1.body).toMatchObject({ payment_intent_id: id, amount: '10.00', currency: 'USD', refund_status: 'SUCCEEDED' });
    const over = await shop.post('/v2/payment/refunds', { payment_intent_id: id, amount: '20.01', reason: 'too much' });
    expect(over.status).toBe(400);
    expect(over.body.type).toBe('refund_error');
    const r2 = await shop.post('/v2/payment/refunds', { payment_intent_id: id, amount: '20', reason: 'rest' });
    expect(r2.body.refund_status).toBe('SUCCEEDED');
    const none = await shop.post('/v2/payment/refunds', { payment_intent_id: id, amount: '0.01', reason: 'nothing left' });
    expect(none.status).toBe(400);
    expect(none.body.type).toBe('refund_error');
    const intent = await shop.get(`/v2/payment_intents/${id}`);
    expect(intent.body).toMatchObject({ intent_status: 'SUCCEEDED', latest_payment_attempt: { refunded_amount: '30.00', captured_amount: '30.00' } });
    expect(await balance(shop, 'USD')).toBe('0');
    await hooks.waitFor(() => hooks.ofType('acquiring.refund.succeeded').filter((w) => w.body.data.payment_intent_id === id).length === 2);
  });

  it('cancel before a terminal state: a QR payment waiting for the shopper, and a pending payment-code charge', async () => {
    // Seed 002's example: a 0.01 SGD WeChat Pay QR payment, cancelled with the seed's headers (an empty x-on-behalf-of included).
    const waiting = await qrPayment(
      merchant,
      { amount: '0.01', description: 'wechat pay test', metadata: { request_id: 'b4fc2aea-5300-4ab8-bf48-4c0aa16cb5b7' }, return_url: 'https://paymentresultpage.com' },
      'wechatpay',
    );
    const c1 = await merchant.post(
      `/v2/payment_intents/${waiting.payment_intent_id}/cancel`,
      { cancellation_reason: 'requested_by_customer' },
      { 'x-on-behalf-of': '', Accept: 'application/json' },
    );
    expect(c1.status, c1.text).toBe(200);
    expect(c1.body).toMatchObject({
      payment_intent_id: waiting.payment_intent_id,
      amount: '0.01',
      currency: 'SGD',
      description: 'wechat pay test',
      intent_status: 'CANCELLED',
      cancellation_reason: 'requested_by_customer',
      metadata: { request_id: 'b4fc2aea-5300-4ab8-bf48-4c0aa16cb5b7' },
      return_url: 'https://paymentresultpage.com',
      next_action: null,
      latest_payment_attempt: { attempt_id: waiting.latest_payment_attempt.attempt_id, attempt_status: 'CANCELLED', amount: '0.01', currency: 'SGD', refunded_amount: '0' },
    });
    for (const key of ['client_secret', 'create_time', 'update_time', 'complete_time', 'captured_amount', 'merchant_order_id']) expect(c1.body).toHaveProperty(key);
    expect(c1.body.cancel_time).toMatch(/\+08:00$/);
    await hooks.waitFor(() => hookFor('acquiring.cancel.succeeded', waiting.payment_intent_id).length === 1);
    // The shopper can no longer pay it.
    expect((await scan(waiting.next_action.display_qr_code.qr_code, 'pay')).status).toBe(409);
    const page = await (await fetch(waiting.next_action.display_qr_code.qr_code_url)).text();
    expect(page).toContain('id="cancelled"');
    expect(page.replace(/<[^>]*>/g, ' ')).not.toContain('CANCELLED');
    expect(page).not.toContain('id="pay"');

    const shop = await newMerchant('Pending Cancel Shop');
    const pending = await shop.post('/v2/payment_intents/create', {
      ...intentBody(),
      payment_method: wallet('alipaycn', { flow: 'qrcode', is_present: true, payment_code: alipayCode('1143') }),
    });
    expect(pending.body.intent_status).toBe('PENDING');
    const c2 = await shop.post(`/v2/payment_intents/${pending.body.payment_intent_id}/cancel`, { cancellation_reason: 'abandoned' });
    expect(c2.status, c2.text).toBe(200);
    expect(c2.body).toMatchObject({ intent_status: 'CANCELLED', latest_payment_attempt: { attempt_status: 'CANCELLED' } });
    // The payer finishing later does not revive it.
    await advance(15);
    expect((await shop.get(`/v2/payment_intents/${pending.body.payment_intent_id}`)).body.intent_status).toBe('CANCELLED');
    expect(await balance(shop, 'SGD')).toBe('0');
    await hooks.waitFor(() => hookFor('acquiring.cancel.succeeded', pending.body.payment_intent_id).length === 1);
  });

  it('cancel of a SUCCEEDED wallet payment the same merchant day: CANCELLED, acquiring.cancel.succeeded, money reversed', async () => {
    // Start just after midnight at UTC+08:00 so "today" has the whole day ahead.
    await advance(await secondsToNextMerchantDay(5));
    const shop = await newMerchant('Same Day Shop');
    const body = await qrPayment(shop, { amount: '12.34' }, 'wechatpay');
    const id = body.payment_intent_id;
    expect((await scan(body.next_action.display_qr_code.qr_code, 'pay')).body.intent_status).toBe('SUCCEEDED');
    const code = await shop.post('/v2/payment_intents/create', SEED_PAYMENT_CODE_BODY);
    expect(code.body.intent_status).toBe('SUCCEEDED');
    expect(await balance(shop, 'SGD')).toBe('13.45');

    // 23 hours later it is still the same day at +08:00 (though no longer the same UTC day).
    await advance(23 * 3600);
    const c = await shop.post(`/v2/payment_intents/${id}/cancel`, { cancellation_reason: 'requested_by_customer' });
    expect(c.status, c.text).toBe(200);
    expect(c.body).toMatchObject({ intent_status: 'CANCELLED', cancellation_reason: 'requested_by_customer', latest_payment_attempt: { attempt_status: 'CANCELLED' } });
    expect(await balance(shop, 'SGD')).toBe('1.11');
    await hooks.waitFor(() => hookFor('acquiring.cancel.succeeded', id).length === 1);
    expect(hookFor('acquiring.cancel.succeeded', id)[0]!.body.data).toMatchObject({ payment_intent_id: id, intent_status: 'CANCELLED' });

    // Cancelled means closed: no refund, no second cancel.
    const refund = await shop.post('/v2/payment/refunds', { payment_intent_id: id, amount: '1', reason: 'after cancel' });
    expect(refund.status).toBe(400);
    const twice = await shop.post(`/v2/payment_intents/${id}/cancel`, { cancellation_reason: 'duplicate' });
    expect(twice.status).toBe(400);
    expect(await balance(shop, 'SGD')).toBe('1.11');

    // The payment-code charge is a wallet payment too.
    const c2 = await shop.post(`/v2/payment_intents/${code.body.payment_intent_id}/cancel`, { cancellation_reason: 'duplicate' });
    expect(c2.body.intent_status).toBe('CANCELLED');
    expect(await balance(shop, 'SGD')).toBe('0');
  });

  it('cancel of a SUCCEEDED wallet payment the next day, of a partly refunded one, or of a paid card is refused with acquiring.cancel.failed', async () => {
    const shop = await newMerchant('Next Day Shop');
    const yesterday = await qrPayment(shop, { amount: '5' }, 'alipaycn');
    expect((await scan(yesterday.next_action.display_qr_code.qr_code, 'pay')).body.intent_status).toBe('SUCCEEDED');

    const partly = await qrPayment(shop, { amount: '5' }, 'alipayhk');
    expect((await scan(partly.next_action.display_qr_code.qr_code, 'pay')).body.intent_status).toBe('SUCCEEDED');
    expect((await shop.post('/v2/payment/refunds', { payment_intent_id: partly.payment_intent_id, amount: '1', reason: 'partial' })).body.refund_status).toBe('SUCCEEDED');
    const p = await shop.post(`/v2/payment_intents/${partly.payment_intent_id}/cancel`, { cancellation_reason: 'requested_by_customer' });
    expect(p.status).toBe(400);
    expect(p.body.type).toBe('payment_error');
    expect((await shop.get(`/v2/payment_intents/${partly.payment_intent_id}`)).body.intent_status).toBe('SUCCEEDED');
    await hooks.waitFor(() => hookFor('acquiring.cancel.failed', partly.payment_intent_id).length === 1);

    const card = await shop.post('/v2/payment_intents/create', { ...intentBody({ amount: '5' }), payment_method: seedCard() });
    expect(card.body.intent_status).toBe('SUCCEEDED');
    const cc = await shop.post(`/v2/payment_intents/${card.body.payment_intent_id}/cancel`, { cancellation_reason: 'requested_by_customer' });
    expect(cc.status).toBe(400);
    expect(cc.body.type).toBe('payment_error');
    await hooks.waitFor(() => hookFor('acquiring.cancel.failed', card.body.payment_intent_id).length === 1);

    expect(await balance(shop, 'SGD')).toBe('14');
    await advance(await secondsToNextMerchantDay(1));
    const c = await shop.post(`/v2/payment_intents/${yesterday.payment_intent_id}/cancel`, { cancellation_reason: 'requested_by_customer' });
    expect(c.status).toBe(400);
    expect(c.body.type).toBe('payment_error');
    expect((await shop.get(`/v2/payment_intents/${yesterday.payment_intent_id}`)).body.intent_status).toBe('SUCCEEDED');
    expect(await balance(shop, 'SGD')).toBe('14');
    await hooks.waitFor(() => hookFor('acquiring.cancel.failed', yesterday.payment_intent_id).length === 1);
    expect(hookFor('acquiring.cancel.succeeded', yesterday.payment_intent_id)).toHaveLength(0);
    // A refund is still the way to give the money back.
    const refund = await shop.post('/v2/payment/refunds', { payment_intent_id: yesterday.payment_intent_id, amount: '5', reason: 'next day' });
    expect(refund.body.refund_status).toBe('SUCCEEDED');
  });

  it('QR expiry: unpaid for 30 minutes of platform time, the attempt EXPIRED, the intent FAILED, the page says so and the QR is refused', async () => {
    const shop = await newMerchant('Expiry Shop');
    const body = await qrPayment(shop, {}, 'alipaycn');
    const id = body.payment_intent_id;
    const { qr_code, qr_code_url } = body.next_action.display_qr_code;
    const web = await shop.post('/v2/payment_intents/create', { ...intentBody(), payment_method: wallet('alipaycn', { flow: 'mobile_web' }) });

    await advance(29 * 60);
    expect((await shop.get(`/v2/payment_intents/${id}`)).body.intent_status).toBe('REQUIRES_CUSTOMER_ACTION');
    expect(await (await fetch(qr_code_url)).text()).toContain('id="pay"');

    await advance(61);
    const intent = await shop.get(`/v2/payment_intents/${id}`);
    expect(intent.body).toMatchObject({ intent_status: 'FAILED', next_action: null, latest_payment_attempt: { attempt_status: 'EXPIRED' } });
    expect((await shop.get(`/v2/payment_intents/${web.body.payment_intent_id}`)).body.intent_status).toBe('FAILED');
    await hooks.waitFor(() => hookFor('acquiring.payment_intent.failed', id).length === 1);
    expect(hookFor('acquiring.payment_intent.failed', id)[0]!.body.data).toMatchObject({ intent_status: 'FAILED' });

    const late = await scan(qr_code, 'pay');
    expect(late.status).toBe(409);
    // Refused as expired, also once the sweep has failed the intent (not as an intent that is FAILED).
    expect(late.body.error).toMatchObject({ code: 'qr_code_expired', message: 'the QR code has expired' });
    const page = await fetch(qr_code_url);
    const html = await page.text();
    expect(html).toContain('This payment has expired. You have not been charged');
    expect(html).not.toContain('charged to your'); // the amount was never charged
    expect(html).not.toContain('id="pay"');
    const post = await fetch(qr_code_url, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'action=pay' });
    expect(post.status).toBe(409);
    expect(await post.text()).toContain('This payment has expired');
    expect(await balance(shop, 'SGD')).toBe('0');
    expect(hooksForIntent('acquiring.payment_intent.succeeded', id)).toHaveLength(0);
  });
});

/** The FX table can be overridden: POLYPAY_FX_RATES (config.fxRates) wins over the defaults. */
describeEachBackend('UQPAY wallet payments with an FX override', (backend: Backend) => {
  let close: () => Promise<void>;
  let baseUrl: string;
  let merchant: UqpayClient;

  beforeAll(async () => {
    const dataDir = mkdtempSync(path.join(os.tmpdir(), 'polypay-fx-'));
    let drop: (() => Promise<void>) | null = null;
    let databaseUrl: string | undefined;
    if (backend === 'postgres') {
      const db = await createPgDatabase();
      databaseUrl = db.url;
      drop = db.drop;
    }
    const config = loadConfig(
      { POLYPAY_FX_RATES: '{"SGD/CNY":"5.0000","USD/CNY":"7.2"}' },
      { dataDir, port: 0, host: '127.0.0.1', databaseUrl, logLevel: 'warn', mode: 'sandbox' },
    );
    expect(config.fxRates).toEqual({ 'SGD/CNY': '5.0000', 'USD/CNY': '7.2' });
    const platform = await buildPlatform(config, { relayIntervalMs: 50, sweepIntervalMs: 200 });
    baseUrl = await platform.listen();
    const creds = await platform.merchants.create({ name: 'FX Shop', webhookUrl: null });
    merchant = new UqpayClient(baseUrl, creds);
    await merchant.authenticate();
    close = async () => {
      await platform.close();
      await dropLater(drop);
      rmSync(dataDir, { recursive: true, force: true });
    };
  });
  afterAll(async () => {
    await close?.();
  });

  it('charges the shopper at the configured rate', async () => {
    for (const [currency, amount, cny, rate] of [['SGD', '10.00', '50.00', '5.0000'], ['USD', '3.33', '23.98', '7.2'], ['EUR', '1', '7.74', '7.7420']]) {
      const r = await merchant.post('/v2/payment_intents/create', { ...intentBody({ amount, currency }), payment_method: wallet('wechatpay') });
      expect(r.status).toBe(200);
      const html = await (await fetch(r.body.next_action.display_qr_code.qr_code_url)).text();
      expect(html, currency).toContain(`id="shopper-amount">${cny} CNY<`);
      expect(html).toContain(`1 ${currency} = ${rate} CNY`);
      const paid = await simPost(baseUrl, '/wallet/scan', { code: r.body.next_action.display_qr_code.qr_code, action: 'pay' });
      expect(paid.body.intent_status).toBe('SUCCEEDED');
    }
  });
});


/** Principle 6 for wallets: what a crash leaves in flight is settled on restart, never left PENDING. */
describeEachBackend('UQPAY wallet payments across a restart', (backend: Backend) => {
  let tp: TestPlatform;
  let merchant: UqpayClient;
  let dropDb: (() => Promise<void>) | null = null;
  let databaseUrl: string | undefined;

  beforeAll(async () => {
    if (backend === 'postgres') ({ url: databaseUrl, drop: dropDb } = await createPgDatabase());
    tp = await startPlatform(backend, { databaseUrl });
    merchant = await UqpayClient.create(tp, { name: 'Restart Shop' });
  });
  afterAll(async () => {
    await tp?.close();
    rmSync(tp?.dataDir ?? '', { recursive: true, force: true });
    await dropLater(dropDb);
  });

  /** The crash: the first unit committed (attempt INITIATED, intent PENDING), the wallet never answered. */
  async function strandedAttempt(attemptId: string, flow: 'qrcode' | 'payment_code'): Promise<string> {
    const created = await merchant.post('/v2/payment_intents/create', intentBody({ amount: '3.00' }));
    const id: string = created.body.payment_intent_id;
    await strandAttempt(tp, merchant.credentials.merchant_id, id, attemptId, {
      type: 'wallet',
      wallet: { kind: 'alipaycn', flow, ...(flow === 'payment_code' ? { paymentCodeLast4: '1079' } : {}) },
    });
    expect((await merchant.get(`/v2/payment_intents/${id}`)).body.intent_status).toBe('PENDING');
    return id;
  }

  it('fails a QR attempt whose order was never shown, asks the wallet about payment codes, and settles pending ones', async () => {
    const qr = await strandedAttempt('PA1000000000000000101', 'qrcode');
    const code = await strandedAttempt('PA1000000000000000102', 'payment_code');
    const pending = await merchant.post('/v2/payment_intents/create', {
      ...intentBody({ amount: '2.00' }),
      payment_method: wallet('alipaycn', { flow: 'qrcode', is_present: true, payment_code: alipayCode('1143') }),
    });
    expect(pending.body.intent_status).toBe('PENDING');

    await tp.platform.close();
    tp = await startPlatform(backend, { dataDir: tp.dataDir, databaseUrl });
    merchant = new UqpayClient(tp.baseUrl, merchant.credentials);
    await merchant.authenticate();
    // Recovery takes up work in flight for over a minute (younger work may be another node's).
    await simPost(tp.baseUrl, '/clock/advance', { seconds: 61 });

    const settled = async (id: string) => {
      const deadline = Date.now() + 5000;
      for (;;) {
        const r = await merchant.get(`/v2/payment_intents/${id}`);
        if (r.body.intent_status !== 'PENDING' || Date.now() > deadline) return r.body;
        await sleep(50);
      }
    };
    expect(await settled(qr)).toMatchObject({ intent_status: 'REQUIRES_PAYMENT_METHOD', latest_payment_attempt: { attempt_status: 'FAILED', failure_code: 'processing_error' } });
    // A charge whose answer the crash lost is taken as paid; a recorded pending one is paid once its delay has passed (docs/wallets.md).
    expect(await settled(code)).toMatchObject({ intent_status: 'SUCCEEDED', captured_amount: '3.00' });
    expect(await settled(pending.body.payment_intent_id)).toMatchObject({ intent_status: 'SUCCEEDED', captured_amount: '2.00' });
    expect((await merchant.get('/v2/payment/balances/SGD')).body.pending_balance).toBe('5');

    // The failed QR intent takes a new confirm.
    const again = await merchant.post(`/v2/payment_intents/${qr}/confirm`, { payment_method: wallet('wechatpay') });
    expect(again.body.intent_status).toBe('REQUIRES_CUSTOMER_ACTION');
  });
});

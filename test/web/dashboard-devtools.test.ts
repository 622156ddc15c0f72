/**
 * The developers, sandbox and issuing routes over HTTP: what a viewer, a
 * form without its CSRF token, another merchant's user and bad input get;
 * the sandbox page absent in live mode; the webhook URL rule.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { webhookUrlRefusal } from '../../src/delivery/webhook-url.ts';
import { createUser, signIn, type DashboardClient } from '../support/dashboard.ts';
import { intentBody, seedCard, startPlatform, UqpayClient, WebhookReceiver, type TestPlatform } from '../support/platform.ts';

const FLASH = 'polypay_flash';
/** The one-time key a rendered rotation form carries. */
const ROTATE_FORM_KEY = randomUUID();
const flashOf = (c: DashboardClient) => decodeURIComponent(c.cookies.get(FLASH) ?? '');

describe('dashboard devtools routes', () => {
  let tp: TestPlatform;
  let hooks: WebhookReceiver;
  let merchant: UqpayClient;
  let admin: DashboardClient;
  let viewer: DashboardClient;
  let stranger: DashboardClient;
  let deliveryId: string;

  beforeAll(async () => {
    tp = await startPlatform('sqlite');
    hooks = await new WebhookReceiver().start();
    merchant = await UqpayClient.create(tp, { name: 'Devtools Shop', webhookUrl: hooks.url });
    const other = await tp.platform.merchants.create({ name: 'Other Shop' });
    const a = await createUser(tp, { merchantId: merchant.credentials.merchant_id });
    const v = await createUser(tp, { merchantId: merchant.credentials.merchant_id, role: 'viewer' });
    const s = await createUser(tp, { merchantId: other.merchant_id });
    [admin, viewer, stranger] = await Promise.all([signIn(tp, a.email, a.password), signIn(tp, v.email, v.password), signIn(tp, s.email, s.password)]);
    const paid = await merchant.post('/v2/payment_intents/create', { ...intentBody(), payment_method: seedCard() });
    await hooks.waitFor((all) => all.some((w) => w.body?.data?.payment_intent_id === paid.body.payment_intent_id));
    await tp.platform.relay.drain();
    const row = await tp.platform.store.read.selectFrom('deliveries').select('id').where('merchant_id', '=', merchant.credentials.merchant_id).executeTakeFirstOrThrow();
    deliveryId = row.id;
  });
  afterAll(async () => {
    await tp?.close();
    await hooks?.close();
  });

  it('refuses a viewer every action (403) and changes nothing', async () => {
    const before = await tp.platform.merchants.byId(merchant.credentials.merchant_id);
    for (const path of ['/dashboard/developers/credentials/uqpay-api-key/rotate', '/dashboard/developers/webhook-url', '/dashboard/developers/test-event', `/dashboard/developers/deliveries/${deliveryId}/resend`, '/dashboard/sandbox/clock/advance']) {
      const r = await viewer.post(path, { _key: randomUUID(), url: 'http://example.com/x', amount: '1', unit: 'hours' });
      expect(r.status, path).toBe(403);
      expect(r.text).toContain('Your role can view but not change this');
    }
    const after = await tp.platform.merchants.byId(merchant.credentials.merchant_id);
    expect(after).toEqual(before);
  });

  it('refuses a rotation posted without the CSRF token (403) before anything is done', async () => {
    const before = (await tp.platform.merchants.byId(merchant.credentials.merchant_id))!.uqpay.apiKeyHash;
    const r = await admin.post('/dashboard/developers/credentials/uqpay-api-key/rotate', { _csrf: '', _key: randomUUID() });
    expect(r.status).toBe(403);
    expect((await tp.platform.merchants.byId(merchant.credentials.merchant_id))!.uqpay.apiKeyHash).toBe(before);
  });

  it('answers 404 for another merchant\'s delivery and an unknown credential, and shows a stranger none of the log', async () => {
    expect((await stranger.post(`/dashboard/developers/deliveries/${encodeURIComponent(deliveryId)}/resend`, { _key: randomUUID() })).status).toBe(404);
    expect((await admin.post('/dashboard/developers/credentials/master-key/rotate', { _key: randomUUID() })).status).toBe(404);
    const page = await stranger.get('/dashboard/developers');
    expect(page.status).toBe(200);
    expect(page.text).not.toContain(encodeURIComponent(deliveryId));
    expect(page.text).not.toContain(merchant.credentials.uqpay.client_id);
    expect((await admin.get('/dashboard/developers')).text).toContain(encodeURIComponent(deliveryId));
  });

  it('resends once per form, and goes back to the page the button was on', async () => {
    const key = 'bXlGb3JtS2V5LTEyMzQ1Njc4'; // a base64url key, as the payment page makes them
    const count = () => tp.platform.store.read.selectFrom('deliveries').select('id').where('id', 'like', `%:resend:${key}`).execute();
    const headers = { referer: `${tp.baseUrl}/dashboard/payments/PI123?tab=webhooks` };
    const first = await admin.request('POST', `/dashboard/developers/deliveries/${encodeURIComponent(deliveryId)}/resend`, { _csrf: admin.csrf, _key: key }, headers);
    expect(first.status).toBe(303);
    expect(first.location).toBe('/dashboard/payments/PI123?tab=webhooks');
    await admin.request('POST', `/dashboard/developers/deliveries/${encodeURIComponent(deliveryId)}/resend`, { _csrf: admin.csrf, _key: key }, headers);
    expect(await count()).toHaveLength(1);
    // A Referer of another site is not followed.
    const elsewhere = await admin.request('POST', `/dashboard/developers/deliveries/${encodeURIComponent(deliveryId)}/resend`, { _csrf: admin.csrf, _key: randomUUID() }, { referer: 'https://evil.example/dashboard/x' });
    expect(elsewhere.location).toBe('/dashboard/developers#deliveries');
  });

  it('shows a new secret in the answer to the rotation only, and a repeat of the form rotates nothing', async () => {
    const r = await admin.post('/dashboard/developers/credentials/qfpay-client-key/rotate', { _key: ROTATE_FORM_KEY });
    expect(r.status).toBe(200);
    const key = /class="secret"><span>New client key<\/span><code>([0-9A-F]{32})<\/code>/.exec(r.text)?.[1];
    expect(key).toBeDefined();
    expect(r.headers.get('cache-control')).toBe('no-store');
    const again = await admin.post('/dashboard/developers/credentials/qfpay-client-key/rotate', { _key: ROTATE_FORM_KEY });
    expect(again.text).toContain('had already rotated');
    expect(again.text).not.toContain(key!);
    expect((await tp.platform.merchants.byId(merchant.credentials.merchant_id))!.qfpay.clientKey).toBe(key);
    expect((await admin.get('/dashboard/developers')).text).not.toContain(key!);
  });

  it('refuses a malformed webhook URL with a clear message and keeps the old one', async () => {
    const r = await admin.post('/dashboard/developers/webhook-url', { _key: randomUUID(), url: 'ftp://example.com/hooks' });
    expect(r.status).toBe(303);
    expect(flashOf(admin)).toContain('absolute http(s) URL');
    expect((await tp.platform.merchants.byId(merchant.credentials.merchant_id))!.webhookUrl).toBe(hooks.url);
  });

  it('refuses an advance of the clock that is not a whole number of units', async () => {
    const before = tp.platform.clock.offsetSeconds;
    for (const amount of ['-5', '1.5', 'abc', '400']) {
      const r = await admin.post('/dashboard/sandbox/clock/advance', { amount, unit: 'days' });
      expect(r.status).toBe(303);
      expect(flashOf(admin)).toContain('whole number');
    }
    expect(tp.platform.clock.offsetSeconds).toBe(before);
  });

  it('lists the issuing pages empty for a merchant with no cards, with their empty states', async () => {
    for (const [path, text] of [['/dashboard/issuing/cardholders', 'No cardholders yet'], ['/dashboard/issuing/cards', 'No cards yet'], ['/dashboard/issuing/transactions', 'No card transactions yet']]) {
      const r = await stranger.get(path!);
      expect(r.status, path).toBe(200);
      expect(r.text).toContain(text);
    }
  });
});

describe('dashboard devtools in live mode', () => {
  let tp: TestPlatform;
  beforeAll(async () => {
    tp = await startPlatform('sqlite', { config: { mode: 'live' } });
  });
  afterAll(async () => tp?.close());

  it('serves no sandbox page, and refuses a webhook URL to this host or a private network', async () => {
    const m = await tp.platform.merchants.create({ name: 'Live Shop' });
    const login = await createUser(tp, { merchantId: m.merchant_id });
    const c = await signIn(tp, login.email, login.password);
    expect((await c.get('/dashboard/sandbox')).status).toBe(404);
    expect((await c.get('/dashboard')).text).not.toContain('href="/dashboard/sandbox"');
    const r = await c.post('/dashboard/developers/webhook-url', { _key: randomUUID(), url: 'http://127.0.0.1:9000/hooks' });
    expect(r.status).toBe(303);
    expect(flashOf(c)).toContain('loopback');
    expect((await tp.platform.merchants.byId(m.merchant_id))!.webhookUrl).toBeNull();
  });

  it('webhookUrlRefusal: the rule as written', () => {
    expect(webhookUrlRefusal('https://shop.example/hooks', true)).toBeNull();
    expect(webhookUrlRefusal('http://10.1.2.3/x', true)).toContain('private');
    expect(webhookUrlRefusal('http://[::1]/x', true)).toContain('loopback');
    expect(webhookUrlRefusal('http://api.localhost/x', true)).toContain('loopback');
    expect(webhookUrlRefusal('http://127.0.0.1/x', false)).toBeNull();
    expect(webhookUrlRefusal('http://user:pw@shop.example/x', false)).toContain('user name');
    expect(webhookUrlRefusal(`https://shop.example/${'a'.repeat(600)}`, false)).toContain('512');
    expect(webhookUrlRefusal('not a url', false)).toContain('absolute');
  });
});

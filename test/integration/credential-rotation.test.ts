/**
 * Rotating a merchant's credentials and changing where its webhooks go, as
 * the dashboard does it through the merchant service: the old secret is
 * refused by the API from then on, the new one works, a double-submitted
 * form rotates once; resends and test events reach the receiver signed.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { signWebhook } from '../../src/dialects/uqpay/webhook-signature.ts';
import { DeliveryLog } from '../../src/delivery/delivery-log.ts';
import { Redelivery, TEST_EVENT_PREFIX } from '../../src/delivery/redelivery.ts';
import { AlphapayClient, payBody } from '../support/alphapay.ts';
import { describeEachBackend, intentBody, readReply, seedCard, startPlatform, UqpayClient, WebhookReceiver, type TestPlatform } from '../support/platform.ts';
import { QfpayClient } from '../clients/qfpay-client.mts';

describeEachBackend('credential rotation and webhook settings', (backend) => {
  let tp: TestPlatform;
  let hooks: WebhookReceiver;
  let merchant: UqpayClient;
  let redelivery: Redelivery;
  let log: DeliveryLog;

  const token = (clientId: string, apiKey: string) =>
    fetch(`${tp.baseUrl}/api/v1/connect/token`, { method: 'POST', headers: { 'x-client-id': clientId, 'x-api-key': apiKey } }).then(readReply);
  const signedWith = (secret: string, w: { raw: string; headers: Record<string, unknown> }) =>
    w.headers['x-wk-signature'] === signWebhook(secret, w.raw, String(w.headers['x-wk-timestamp']));

  beforeAll(async () => {
    tp = await startPlatform(backend);
    hooks = await new WebhookReceiver().start();
    merchant = await UqpayClient.create(tp, { name: 'Rotating Merchant', webhookUrl: hooks.url });
    redelivery = new Redelivery(tp.platform.store, tp.platform.clock);
    log = new DeliveryLog(tp.platform.store);
  });
  afterAll(async () => {
    await tp?.close();
    await hooks?.close();
  });

  it('UQPAY api key: the old key and the tokens issued with it are refused at once, the new key works', async () => {
    const id = merchant.credentials.merchant_id;
    const { client_id, api_key: oldKey } = merchant.credentials.uqpay;
    expect((await merchant.get('/v2/payment_intents')).status).toBe(200);

    const shown = await tp.platform.merchants.rotate(id, 'uqpay-api-key', 'form-key-api-1');
    expect(shown?.api_key).toMatch(/^[A-Za-z0-9]{40}$/);
    expect(shown!.api_key).not.toBe(oldKey);

    const refused = await token(client_id, oldKey);
    expect(refused.status, refused.text).toBe(400);
    expect(refused.body).toMatchObject({ code: 'invalid_api_key' });
    // The token the old key had issued (minutes left) is refused too.
    const stale = await merchant.get('/v2/payment_intents');
    expect(stale.status, stale.text).toBe(401);

    const fresh = await token(client_id, shown!.api_key);
    expect(fresh.status, fresh.text).toBe(200);
    merchant.token = fresh.body.auth_token;
    expect((await merchant.get('/v2/payment_intents')).status).toBe(200);

    // The same form submitted again rotates nothing: the key just shown stays the one that works.
    expect(await tp.platform.merchants.rotate(id, 'uqpay-api-key', 'form-key-api-1')).toBeNull();
    expect((await token(client_id, shown!.api_key)).status).toBe(200);
  });

  it('UQPAY webhook secret: the next webhook is signed with the new secret only', async () => {
    const oldSecret = merchant.credentials.uqpay.webhook_secret;
    const shown = await tp.platform.merchants.rotate(merchant.credentials.merchant_id, 'uqpay-webhook-secret');
    expect(shown?.webhook_secret).toMatch(/^whsec_/);
    const paid = await merchant.post('/v2/payment_intents/create', { ...intentBody(), payment_method: seedCard() });
    expect(paid.body.intent_status, paid.text).toBe('SUCCEEDED');
    await hooks.waitFor((all) => all.some((w) => w.body?.event_type === 'acquiring.payment_intent.succeeded' && w.body.data.payment_intent_id === paid.body.payment_intent_id));
    const w = hooks.received.find((x) => x.body?.data?.payment_intent_id === paid.body.payment_intent_id && x.body.event_type === 'acquiring.payment_intent.succeeded')!;
    expect(signedWith(shown!.webhook_secret, w)).toBe(true);
    expect(signedWith(oldSecret, w)).toBe(false);
  });

  it('webhook URL: events from then on go to the new URL; a resend arrives again with the same event id', async () => {
    const second = await new WebhookReceiver().start();
    try {
      const id = merchant.credentials.merchant_id;
      expect(await tp.platform.merchants.setWebhookUrl(id, second.url, 'form-key-url-1')).toBe(true);
      expect(await tp.platform.merchants.setWebhookUrl(id, hooks.url, 'form-key-url-1')).toBe(false); // the same form again: no change
      const paid = await merchant.post('/v2/payment_intents/create', { ...intentBody(), payment_method: seedCard() });
      await second.waitFor((all) => all.some((w) => w.body?.data?.payment_intent_id === paid.body.payment_intent_id && w.body.event_type === 'acquiring.payment_intent.succeeded'));
      expect(hooks.received.some((w) => w.body?.data?.payment_intent_id === paid.body.payment_intent_id)).toBe(false);

      // Newest first, filtered by status and event type, with the try's status code (recorded just after the receiver answered).
      const succeeded = { merchantIds: [id], eventType: 'payment_intent.succeeded', status: 'succeeded', limit: 1 };
      await expect.poll(async () => (await log.page(succeeded)).rows[0]?.sourceId).toBe(paid.body.payment_intent_id);
      const page = await log.page(succeeded);
      expect(page.rows).toHaveLength(1);
      const entry = page.rows[0]!;
      expect(entry).toMatchObject({ sourceId: paid.body.payment_intent_id, url: second.url, status: 'succeeded' });
      expect(entry.attemptLog[0]).toMatchObject({ attempt: 1, status_code: 200, response_body: 'ok' });
      expect(page.next).not.toBeNull();
      const older = await log.page({ ...succeeded, after: page.next! });
      expect(older.rows[0]!.createdAt).toBeLessThanOrEqual(entry.createdAt);
      expect(older.rows[0]!.id).not.toBe(entry.id);
      // Another merchant's ids see none of it.
      expect((await log.page({ merchantIds: ['M0'], limit: 10 })).rows).toEqual([]);

      const before = second.received.filter((w) => w.body?.event_id === entry.eventId).length;
      const resent = await redelivery.resend([id], entry.id, 'resend-key-0001');
      expect(await redelivery.resend([id], entry.id, 'resend-key-0001')).toBe(resent); // double-click: once
      await expect(redelivery.resend(['M0'], entry.id, 'resend-key-0002')).rejects.toThrow(/not found/);
      await tp.platform.relay.drain();
      await second.waitFor((all) => all.filter((w) => w.body?.event_id === entry.eventId).length === before + 1);
      await new Promise((r) => setTimeout(r, 300));
      expect(second.received.filter((w) => w.body?.event_id === entry.eventId)).toHaveLength(before + 1);
      const again = (await log.page({ merchantIds: [id], limit: 5 })).rows.find((e) => e.id === resent)!;
      expect(again).toMatchObject({ eventId: entry.eventId, status: 'succeeded' });
    } finally {
      await second.close();
      await tp.platform.merchants.setWebhookUrl(merchant.credentials.merchant_id, hooks.url);
    }
  });

  it('test event: a signed UQPAY webhook of a test intent reaches the URL and shows in the log', async () => {
    const id = merchant.credentials.merchant_id;
    const secret = (await tp.platform.merchants.byId(id))!.uqpay.webhookSecret;
    const eventId = await redelivery.sendTestEvent(id, hooks.url, 'test-event-key-1');
    expect(eventId.startsWith(TEST_EVENT_PREFIX)).toBe(true);
    expect(await redelivery.sendTestEvent(id, hooks.url, 'test-event-key-1')).toBe(eventId);
    await tp.platform.relay.drain();
    await hooks.waitFor((all) => all.some((w) => w.body?.event_id === eventId));
    await expect.poll(async () => (await log.page({ merchantIds: [id], limit: 3 })).rows.find((e) => e.eventId === eventId)?.status).toBe('succeeded');
    const w = hooks.received.find((x) => x.body?.event_id === eventId)!;
    expect(w.body).toMatchObject({ event_type: 'acquiring.payment_intent.succeeded', data: { metadata: { test_event: true } } });
    expect(signedWith(secret, w)).toBe(true);
    expect(hooks.received.filter((x) => x.body?.event_id === eventId)).toHaveLength(1);
    const entry = (await log.page({ merchantIds: [id], limit: 3 })).rows.find((e) => e.eventId === eventId);
    expect(entry).toMatchObject({ status: 'succeeded', attempts: 1 });
  });

  it('QFPay client key: requests signed with the old key are refused, with the new one answered', async () => {
    const creds = await tp.platform.merchants.create({ name: 'QF Rotating' });
    const old = new QfpayClient(tp.baseUrl, creds.qfpay);
    expect((await old.query({ out_trade_no: 'nothing-1' })).body.respcd).toBe('0000');
    const shown = await tp.platform.merchants.rotate(creds.merchant_id, 'qfpay-client-key');
    expect(shown?.client_key).toMatch(/^[0-9A-F]{32}$/);
    const refused = await old.query({ out_trade_no: 'nothing-1' });
    expect(refused.body.respcd, refused.text).not.toBe('0000');
    const fresh = new QfpayClient(tp.baseUrl, { ...creds.qfpay, client_key: shown!.client_key });
    expect((await fresh.query({ out_trade_no: 'nothing-1' })).body.respcd).toBe('0000');
  });

  it('AlphaPay keys and v1 credential code: the old private key no longer verifies, the new pair does', async () => {
    const creds = await tp.platform.merchants.create({ name: 'AP Rotating' });
    const old = new AlphapayClient(tp.baseUrl, creds.alphapay);
    expect((await old.pay(payBody())).body.result).toMatchObject({ resultStatus: 'S' });
    const shown = await tp.platform.merchants.rotate(creds.merchant_id, 'alphapay-keys');
    expect((await old.pay(payBody())).body.result).toMatchObject({ resultCode: 'SIGNATURE_INVALID' });
    const fresh = new AlphapayClient(tp.baseUrl, { merchant_code: creds.alphapay.merchant_code, merchant_private_key: shown!.merchant_private_key!, platform_public_key: shown!.platform_public_key! });
    const r = await fresh.pay(payBody());
    expect(r.body.result, r.text).toMatchObject({ resultStatus: 'S' });
    expect(r.signed).toBe(true); // answered with the new platform key

    const code = await tp.platform.merchants.rotate(creds.merchant_id, 'alphapay-credential-code');
    expect(code?.credential_code).toMatch(/^[A-Za-z0-9]{32}$/);
    const stored = (await tp.platform.merchants.byId(creds.merchant_id))!;
    expect(tp.platform.merchants.alphapayCredentialCode(stored)).toBe(code!.credential_code);
    expect(code!.credential_code).not.toBe(creds.alphapay.credential_code);
  });
});

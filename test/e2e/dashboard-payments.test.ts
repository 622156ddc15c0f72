/**
 * The console's payments pages in a real browser, over payments made
 * through each dialect's own API: found in the list by filter and by
 * search, refunded from the console (the refund and its webhook with the
 * receiver's answer in the timeline, the money in the API's view), a
 * double submit refunding once, and a cancel from the console that the API
 * reports and whose webhook arrives signed.
 */
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyWebhook } from '../../src/dialects/uqpay/webhook-signature.ts';
import { QfpayClient } from '../clients/qfpay-client.mts';
import { AlphapayClient, payBody } from '../support/alphapay.ts';
import { BROWSER_SKIP_REASON, launchBrowser, screenshotAtWidths } from '../support/browser.ts';
import { createUser, signInPage } from '../support/dashboard.ts';
import { intentBody, seedCard, startPlatform, UqpayClient, WebhookReceiver, type TestPlatform } from '../support/platform.ts';

describe.skipIf(BROWSER_SKIP_REASON !== null)('dashboard payments in a browser', () => {
  let tp: TestPlatform;
  let browser: Browser;
  let page: Page;
  let hooks: WebhookReceiver;
  let uqpay: UqpayClient;
  const made = { card: '', open: '', qfSyssn: '', qfOrder: '', apOrder: '', apRequestId: '' };

  beforeAll(async () => {
    tp = await startPlatform('sqlite');
    hooks = await new WebhookReceiver().start();
    uqpay = await UqpayClient.create(tp, { name: 'Harbour Coffee', webhookUrl: hooks.url });
    const creds = uqpay.credentials;

    const card = await uqpay.post('/v2/payment_intents/create', { ...intentBody({ amount: '25', currency: 'SGD' }), payment_method: seedCard({ card_number: '4242424242424242', network: 'visa' }) });
    expect(card.body.intent_status, card.text).toBe('SUCCEEDED');
    made.card = card.body.payment_intent_id;
    const open = await uqpay.post('/v2/payment_intents/create', intentBody({ amount: '4.50', currency: 'SGD' }));
    made.open = open.body.payment_intent_id;

    const qf = new QfpayClient(tp.baseUrl, creds.qfpay);
    made.qfOrder = `QF-${Date.now()}`;
    const order = await qf.pay({ pay_type: '800108', auth_code: '280000000000000001', txamt: '1000', out_trade_no: made.qfOrder });
    expect(order.body.respcd, order.text).toBe('0000');
    made.qfSyssn = order.body.syssn;

    const ap = new AlphapayClient(tp.baseUrl, creds.alphapay);
    made.apRequestId = `AP-${Date.now()}`;
    const apCard = await ap.pay({ ...payBody({ scenarioCode: 'CREDIT_CARD', paymentRequestId: made.apRequestId, value: '1999', currency: 'CAD' }), paymentMethod: undefined, card: { info: { number: '5555555555554444', expMonth: '12', expYear: '2034', cvv: '123', holder: 'Ada Lovelace' } } });
    expect(apCard.body.result?.resultCode, apCard.text).toBe('SUCCESS');
    made.apOrder = apCard.body.paymentId;

    const admin = await createUser(tp, { merchantId: creds.merchant_id });
    browser = await launchBrowser();
    page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    await signInPage(page, tp, admin.email, admin.password);
  });

  afterAll(async () => {
    await browser?.close();
    await tp?.close();
    await hooks?.close();
  });

  const rowLink = (id: string) => page.locator(`table.data a[href="/dashboard/payments/${id}"]`);

  it('lists the payments of every dialect, and finds each by filter and by search', async () => {
    await page.getByRole('link', { name: 'Payments' }).click();
    await expect(page.locator('h1').textContent()).resolves.toBe('Payments');
    for (const id of [made.card, made.open, `PI${made.qfSyssn}`, made.apOrder]) await expect(rowLink(id).count(), id).resolves.toBe(1);
    await screenshotAtWidths(page, 'dashboard-payments');

    await page.getByLabel('Dialect').selectOption('qfpay');
    await page.getByRole('button', { name: 'Apply' }).click();
    await page.waitForURL(/dialect=qfpay/);
    await expect(rowLink(`PI${made.qfSyssn}`).count()).resolves.toBe(1);
    await expect(page.locator('table.data').textContent()).resolves.toContain(`syssn ${made.qfSyssn}`);
    await expect(rowLink(made.card).count()).resolves.toBe(0);

    for (const [term, id] of [[made.qfSyssn, `PI${made.qfSyssn}`], [made.qfOrder, `PI${made.qfSyssn}`], [made.apRequestId, made.apOrder], ['4444', made.apOrder], ['4242', made.card]] as const) {
      await page.getByRole('link', { name: 'Clear' }).click();
      await page.getByLabel('Search').fill(term);
      await page.getByRole('button', { name: 'Apply' }).click();
      await page.waitForURL(/q=/);
      await expect(page.locator('table.data tbody tr').count(), term).resolves.toBe(1);
      await expect(rowLink(id).count(), term).resolves.toBe(1);
    }
  });

  it('refunds from the console: the refund and its webhook (with the receiver\'s answer) in the timeline, the money in the API', async () => {
    await page.goto(`${tp.baseUrl}/dashboard/payments/${made.card}`);
    await page.getByLabel(/^Amount \(SGD/).fill('10');
    await page.getByRole('button', { name: 'Refund' }).click();
    await page.waitForURL(`${tp.baseUrl}/dashboard/payments/${made.card}`);
    const flash = (await page.locator('.flash').textContent()) ?? '';
    expect(flash).toMatch(/Refund RF\d+ of SGD 10\.00 succeeded/);
    const refundId = /RF\d+/.exec(flash)![0];

    await hooks.waitFor((all) => all.some((w) => w.body?.event_type === 'acquiring.refund.succeeded' && w.body?.source_id === refundId));
    const entry = page.locator('ol.timeline > li', { hasText: `Refund ${refundId} of SGD 10.00 succeeded` });
    for (let i = 0; i < 40 && !((await entry.textContent().catch(() => '')) ?? '').includes('HTTP 200'); i++) {
      await page.waitForTimeout(100);
      await page.reload();
    }
    await expect(entry.textContent()).resolves.toContain('HTTP 200');
    // The receiver's answer ("ok") is kept with the try.
    await expect(entry.locator('.answer code').first().textContent()).resolves.toBe('ok');
    // Resend posts to the developers pages' redelivery route, with the way back to this timeline.
    const resend = entry.locator('form', { has: page.locator('button', { hasText: 'Resend' }) });
    await expect(resend.getAttribute('action')).resolves.toMatch(/^\/dashboard\/developers\/deliveries\/[^/]+\/resend$/);
    await expect(resend.locator('input[name="_return"]').getAttribute('value')).resolves.toBe(`/dashboard/payments/${made.card}#timeline-h`);
    await expect(resend.locator('input[name="_key"]').count()).resolves.toBe(1);
    await screenshotAtWidths(page, 'dashboard-payment');

    const refunds = await uqpay.get(`/v2/payment/refunds?payment_intent_id=${made.card}`);
    expect(refunds.body.data.map((r: any) => [r.payment_refund_id, r.amount, r.refund_status])).toEqual([[refundId, '10.00', 'SUCCEEDED']]);
  });

  it('a refund form sent twice refunds once', async () => {
    await page.goto(`${tp.baseUrl}/dashboard/payments/${made.apOrder}`);
    await page.getByLabel(/^Amount \(CAD/).fill('5');
    // Two sends of the same form, as a double click on a slow connection makes them.
    const statuses = await page.locator('form[action$="/refund"]').evaluate(async (form: HTMLFormElement) => {
      const send = () => fetch(form.action, { method: 'POST', body: new URLSearchParams(new FormData(form) as any), redirect: 'manual' }).then((r) => r.type);
      return Promise.all([send(), send()]);
    });
    expect(statuses).toEqual(['opaqueredirect', 'opaqueredirect']);
    await page.reload();
    const record = await tp.platform.store.read.selectFrom('refunds').select(['amount']).where('intent_id', '=', made.apOrder).execute();
    expect(record.map((r) => Number(r.amount))).toEqual([500]);
    await expect(page.locator('#refunds-h + table tbody tr').count()).resolves.toBe(1);
  });

  it('cancels from the console: the API reports it cancelled, and its webhook arrives signed', async () => {
    await page.goto(`${tp.baseUrl}/dashboard/payments/${made.open}`);
    await page.getByLabel('Reason').selectOption('duplicate');
    await page.getByRole('button', { name: 'Cancel payment' }).click();
    await page.waitForURL(`${tp.baseUrl}/dashboard/payments/${made.open}`);
    await expect(page.locator('.flash').textContent()).resolves.toContain('Payment cancelled (duplicate)');
    const viaApi = await uqpay.get(`/v2/payment_intents/${made.open}`);
    expect([viaApi.body.intent_status, viaApi.body.cancellation_reason]).toEqual(['CANCELLED', 'duplicate']);

    await hooks.waitFor((all) => all.some((w) => w.body?.event_type === 'acquiring.cancel.succeeded' && w.body?.source_id === made.open));
    const hook = hooks.received.find((w) => w.body?.event_type === 'acquiring.cancel.succeeded' && w.body?.source_id === made.open)!;
    const secret = uqpay.credentials.uqpay.webhook_secret;
    expect(verifyWebhook(secret, hook.raw, hook.headers['x-wk-timestamp'] as string, hook.headers['x-wk-signature'] as string, Math.floor(Date.now() / 1000))).toBe(true);
    expect(verifyWebhook(`${secret}x`, hook.raw, hook.headers['x-wk-timestamp'] as string, hook.headers['x-wk-signature'] as string, Math.floor(Date.now() / 1000))).toBe(false);
  });
});

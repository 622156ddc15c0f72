/**
 * A shopper in a real browser on the hosted wallet pay page: the page shows
 * who is paid and what (in CNY for Alipay CN / WeChat Pay) and the QR code,
 * in words a shopper reads (no API status codes); Pay and Decline settle the
 * payment and redirect to the page's outcome, so a reload neither posts nor
 * charges again; a mobile_web payment lands on the merchant's return_url, a
 * merchant page can embed qr_code_url as an image, and an expired QR code
 * says the payment expired and was not charged.
 */
import type { Page } from 'playwright-core';
import QRCode from 'qrcode';
import { beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { BROWSER_SKIP_REASON, recordPosts, screenshotAtWidths, useBrowserShop, type MerchantSite } from '../support/browser.ts';
import { intentBody, simPost, UqpayClient, WebhookReceiver, type TestPlatform } from '../support/platform.ts';

/** What the API says, and a shopper never reads on a page. */
const STATUS_CODES = /REQUIRES_|AUTHENTICATION_REDIRECTED|CAPTURE_REQUESTED|SUCCEEDED|PENDING_AUTHORIZATION|FAILED|EXPIRED|CANCELLED/;

describe.skipIf(BROWSER_SKIP_REASON !== null)('hosted wallet pay page in a browser', () => {
  let tp: TestPlatform;
  let merchant: UqpayClient;
  let site: MerchantSite;
  let page: Page;
  // A phone-sized window: where a shopper meets a wallet page.
  const shop = useBrowserShop('Browser Wallet Shop', { viewport: { width: 390, height: 844 } });
  beforeAll(() => void ({ tp, merchant, site } = shop));
  beforeEach(() => void ({ page } = shop));

  async function qrPayment(type: string, overrides: Record<string, unknown> = {}, by: UqpayClient = merchant) {
    const r = await by.post('/v2/payment_intents/create', {
      ...intentBody({ merchant_order_id: `order-${type}-${Math.random().toString(36).slice(2, 8)}` }),
      payment_method: { type, [type]: { flow: 'qrcode', is_present: false } },
      ...overrides,
    });
    expect(r.status, r.text).toBe(200);
    expect(r.body.next_action.type).toBe('display_qr_code');
    return r.body;
  }

  /** The visible text of the page, which must never carry an API status code. */
  async function shopperText(): Promise<string> {
    const text = await page.locator('body').innerText();
    expect(text).not.toMatch(STATUS_CODES);
    return text;
  }

  it('shows the merchant, the amount and the QR code; Pay settles the payment', async () => {
    const body = await qrPayment('alipaycn');
    const { qr_code, qr_code_url } = body.next_action.display_qr_code;

    const response = await page.goto(qr_code_url);
    expect(response?.status()).toBe(200);
    // 8.98 SGD at 5.3120 CNY per SGD is 47.70 CNY, charged to the shopper's Alipay.
    await expect.poll(() => page.locator('#shopper-amount').textContent()).toBe('47.70 CNY');
    expect(await page.locator('#amount').textContent()).toBe('8.98 SGD');
    expect(await page.locator('#fx-rate').textContent()).toBe('1 SGD = 5.3120 CNY');
    expect(await page.locator('#reference').textContent()).toBe(body.merchant_order_id);
    expect(await page.locator('#merchant').textContent()).toBe('Browser Wallet Shop');
    expect(await page.title()).toBe('Pay Browser Wallet Shop · polypay');
    expect(await page.locator('#status').textContent()).toBe('Waiting for payment');
    expect(await page.locator('#money-line').textContent()).toBe('to pay with Alipay');
    await shopperText();

    // The QR image is shown, loaded, and encodes next_action.display_qr_code.qr_code.
    const qr = page.locator('img#qr');
    await expect.poll(() => qr.isVisible()).toBe(true);
    expect(await qr.evaluate((img: HTMLImageElement) => img.complete && img.naturalWidth)).toBe(220);
    expect(await qr.getAttribute('src')).toBe(await QRCode.toDataURL(qr_code, { margin: 1, width: 220 }));
    await screenshotAtWidths(page, 'wallet-pay-alipay');

    const posts = recordPosts(page);
    await Promise.all([page.waitForLoadState('load'), page.click('#pay')]);
    await expect.poll(() => page.locator('#paid').count()).toBe(1);
    // Post/Redirect/Get: answered 303 to the page itself, which now shows the outcome.
    await expect.poll(() => JSON.stringify(posts)).toBe(JSON.stringify([{ url: qr_code_url, status: 303 }]));
    expect(page.url()).toBe(qr_code_url);
    expect(await page.title()).toBe('Payment complete · polypay');
    expect(await page.locator('#paid').textContent()).toBe('Paid. You can return to the merchant.');
    expect(await page.locator('#status').textContent()).toBe('Paid');
    expect(await page.locator('#money-line').textContent()).toBe('charged to your Alipay');
    expect(await page.locator('#merchant').textContent()).toBe('Browser Wallet Shop');
    await shopperText();
    await screenshotAtWidths(page, 'wallet-pay-paid');

    const intent = await merchant.get(`/v2/payment_intents/${body.payment_intent_id}`);
    expect(intent.body).toMatchObject({ intent_status: 'SUCCEEDED', captured_amount: '8.98', latest_payment_attempt: { attempt_status: 'CAPTURE_REQUESTED' } });

    // Reloaded, or opened again: paid, nothing posted again, nothing left to click.
    await page.reload();
    await page.goto(qr_code_url);
    expect(await page.locator('#paid').count()).toBe(1);
    expect(await page.locator('#pay').count()).toBe(0);
    expect(posts).toHaveLength(1);
  });

  it('reloading the outcome after paying sends no second payment: one charge, one set of webhooks', async () => {
    const hooks = await new WebhookReceiver().start();
    try {
      const hooked = await UqpayClient.create(tp, { name: 'Hooked Wallet Shop', webhookUrl: hooks.url });
      const body = await qrPayment('wechatpay', {}, hooked);
      const id = body.payment_intent_id;
      await page.goto(body.next_action.display_qr_code.qr_code_url);
      expect(await page.locator('#merchant').textContent()).toBe('Hooked Wallet Shop');
      const posts = recordPosts(page);
      await Promise.all([page.waitForLoadState('load'), page.click('#pay')]);
      await expect.poll(() => page.locator('#paid').count()).toBe(1);
      for (let i = 0; i < 3; i++) await page.reload();
      await page.goBack().catch(() => {}); // back to where the form was: the pay page itself, by GET
      expect(posts).toHaveLength(1);

      const succeeded = () => hooks.ofType('acquiring.payment_intent.succeeded').filter((w) => w.body.source_id === id);
      await hooks.waitFor(() => succeeded().length === 1);
      await new Promise((resolve) => setTimeout(resolve, 500)); // room for a second one, were there one
      expect(succeeded()).toHaveLength(1);
      expect(hooks.ofType('acquiring.payment_attempt.capture_requested').filter((w) => w.body.data.payment_intent_id === id)).toHaveLength(1);
      const attempts = await hooked.get(`/v2/payment/payment_attempts?payment_intent_id=${id}`);
      expect(attempts.body.data.map((a: { attempt_status: string }) => a.attempt_status)).toEqual(['CAPTURE_REQUESTED']);
      expect((await hooked.get('/v2/payment/balances/SGD')).body.pending_balance).toBe('8.98'); // charged once
    } finally {
      await hooks.close();
    }
  });

  it('Decline fails the attempt and leaves the intent ready for another payment method', async () => {
    const body = await qrPayment('grabpay', { amount: '15.5' });
    await page.goto(body.next_action.display_qr_code.qr_code_url);
    // GrabPay charges the order currency: no conversion shown.
    await expect.poll(() => page.locator('#amount').textContent()).toBe('15.50 SGD');
    expect(await page.locator('#shopper-amount').count()).toBe(0);
    await screenshotAtWidths(page, 'wallet-pay-grabpay');

    const posts = recordPosts(page);
    await Promise.all([page.waitForLoadState('load'), page.click('#decline')]);
    await expect.poll(() => page.locator('#declined').count()).toBe(1);
    expect(await page.locator('#declined').textContent()).toBe('You declined this payment. You have not been charged.');
    expect(await page.locator('#status').textContent()).toBe('Declined');
    expect(await page.locator('#money-line').textContent()).toBe('not charged');
    await shopperText();
    await screenshotAtWidths(page, 'wallet-pay-declined');
    await page.reload();
    await expect.poll(() => JSON.stringify(posts)).toBe(JSON.stringify([{ url: body.next_action.display_qr_code.qr_code_url, status: 303 }]));
    const intent = await merchant.get(`/v2/payment_intents/${body.payment_intent_id}`);
    expect(intent.body).toMatchObject({ intent_status: 'REQUIRES_PAYMENT_METHOD', latest_payment_attempt: { attempt_status: 'FAILED' } });
  });

  it('mobile_web: paying on the hosted page sends the browser to the return_url', async () => {
    const returnUrl = `${site.url}/return?order=w42`;
    const r = await merchant.post('/v2/payment_intents/create', {
      ...intentBody({ return_url: returnUrl, amount: '20', currency: 'CNY' }),
      payment_method: { type: 'wechatpay', wechatpay: { flow: 'mobile_web', os_type: 'ios' } },
    });
    expect(r.body.next_action).toMatchObject({ type: 'redirect_to_url', redirect_to_url: { return_url: returnUrl } });

    await page.goto(r.body.next_action.redirect_to_url.url);
    await expect.poll(() => page.locator('#amount').textContent()).toBe('20.00 CNY');
    expect(await page.locator('#merchant').textContent()).toBe('Browser Wallet Shop');
    await shopperText();
    await screenshotAtWidths(page, 'wallet-pay-wechat-web');
    await Promise.all([page.waitForURL((u) => u.toString().startsWith(`${site.url}/return`)), page.click('#pay')]);

    const landed = new URL(page.url());
    expect(landed.searchParams.get('order')).toBe('w42');
    expect(landed.searchParams.get('payment_intent_id')).toBe(r.body.payment_intent_id);
    expect(landed.searchParams.get('intent_status')).toBe('SUCCEEDED');
    await expect(page.locator('#back').textContent()).resolves.toBe('Back at the merchant');
    expect((await merchant.get(`/v2/payment_intents/${r.body.payment_intent_id}`)).body.intent_status).toBe('SUCCEEDED');
  });

  it('a merchant page can show qr_code_url as an image', async () => {
    const body = await qrPayment('wechatpay');
    site.qrImageUrl = body.next_action.display_qr_code.qr_code_url;
    await page.goto(`${site.url}/checkout`);
    const img = page.locator('#merchant-qr');
    await expect.poll(() => img.evaluate((el: HTMLImageElement) => el.complete && el.naturalWidth)).toBe(220);
    await screenshotAtWidths(page, 'merchant-checkout-qr');
  });

  it('an expired QR code says so and offers no Pay button', async () => {
    const body = await qrPayment('alipaycn');
    const url = body.next_action.display_qr_code.qr_code_url;
    await page.goto(url);
    await expect.poll(() => page.locator('#pay').count()).toBe(1);

    const advanced = await simPost(tp.baseUrl, '/clock/advance', { seconds: 31 * 60 });
    expect(advanced.status).toBe(200);
    await page.reload();
    await expect.poll(() => page.locator('#expired').count()).toBe(1);
    expect(await page.locator('#expired').textContent()).toBe('This payment has expired. You have not been charged; ask the merchant to start again.');
    expect(await page.title()).toBe('Payment expired · polypay');
    expect(await page.locator('#status').textContent()).toBe('Expired');
    // Not "charged to your wallet": nothing was.
    expect(await page.locator('#money-line').textContent()).toBe('not charged');
    expect(await shopperText()).not.toContain('charged to your');
    expect(await page.locator('#pay').count()).toBe(0);
    await screenshotAtWidths(page, 'wallet-pay-expired');
    await merchant.authenticate();
    const intent = await merchant.get(`/v2/payment_intents/${body.payment_intent_id}`);
    expect(intent.body).toMatchObject({ intent_status: 'FAILED', latest_payment_attempt: { attempt_status: 'EXPIRED' } });
  });

  it('Pay on a page left open past the expiry: refused, and the page says the payment expired', async () => {
    await merchant.authenticate(); // tokens live 30 minutes of platform time, which earlier tests moved on
    const body = await qrPayment('alipaycn');
    await page.goto(body.next_action.display_qr_code.qr_code_url);
    await expect.poll(() => page.locator('#pay').count()).toBe(1);
    expect((await simPost(tp.baseUrl, '/clock/advance', { seconds: 31 * 60 })).status).toBe(200);

    const posts = recordPosts(page);
    await Promise.all([page.waitForLoadState('load'), page.click('#pay')]);
    await expect.poll(() => page.locator('#expired').count()).toBe(1);
    await expect.poll(() => posts[0]?.status).toBe(409);
    expect(await page.locator('#money-line').textContent()).toBe('not charged');
    expect(await page.locator('#pay').count()).toBe(0);
    await shopperText();
    await merchant.authenticate();
    expect((await merchant.get(`/v2/payment_intents/${body.payment_intent_id}`)).body).toMatchObject({ intent_status: 'FAILED', captured_amount: '0' });
  });
});

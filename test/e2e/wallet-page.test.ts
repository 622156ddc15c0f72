/**
 * A shopper in a real browser on the hosted wallet pay page: the page shows
 * what is being paid (in CNY for Alipay CN / WeChat Pay) and the QR code,
 * Pay and Decline settle the payment, a mobile_web payment lands on the
 * merchant's return_url, a merchant page can embed qr_code_url as an image,
 * and an expired QR code says so.
 */
import type { Page } from 'playwright-core';
import QRCode from 'qrcode';
import { beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { BROWSER_SKIP_REASON, screenshot, useBrowserShop, type MerchantSite } from '../support/browser.ts';
import { intentBody, simPost, type TestPlatform, type UqpayClient } from '../support/platform.ts';

describe.skipIf(BROWSER_SKIP_REASON !== null)('hosted wallet pay page in a browser', () => {
  let tp: TestPlatform;
  let merchant: UqpayClient;
  let site: MerchantSite;
  let page: Page;
  // A phone-sized window: where a shopper meets a wallet page.
  const shop = useBrowserShop('Browser Wallet Shop', { viewport: { width: 390, height: 844 } });
  beforeAll(() => void ({ tp, merchant, site } = shop));
  beforeEach(() => void ({ page } = shop));

  async function qrPayment(type: string, overrides: Record<string, unknown> = {}) {
    const r = await merchant.post('/v2/payment_intents/create', {
      ...intentBody({ merchant_order_id: `order-${type}-${Math.random().toString(36).slice(2, 8)}` }),
      payment_method: { type, [type]: { flow: 'qrcode', is_present: false } },
      ...overrides,
    });
    expect(r.status, r.text).toBe(200);
    expect(r.body.next_action.type).toBe('display_qr_code');
    return r.body;
  }

  it('shows the amount and the QR code; Pay settles the payment', async () => {
    const body = await qrPayment('alipaycn');
    const { qr_code, qr_code_url } = body.next_action.display_qr_code;

    const response = await page.goto(qr_code_url);
    expect(response?.status()).toBe(200);
    // 8.98 SGD at 5.3120 CNY per SGD is 47.70 CNY, charged to the shopper's Alipay.
    await expect.poll(() => page.locator('#shopper-amount').textContent()).toBe('47.70 CNY');
    expect(await page.locator('#amount').textContent()).toBe('8.98 SGD');
    expect(await page.locator('#fx-rate').textContent()).toBe('1 SGD = 5.3120 CNY');
    expect(await page.locator('#reference').textContent()).toBe(body.merchant_order_id);
    expect(await page.locator('#status').textContent()).toBe('REQUIRES_CUSTOMER_ACTION');

    // The QR image is shown, loaded, and encodes next_action.display_qr_code.qr_code.
    const qr = page.locator('img#qr');
    await expect.poll(() => qr.isVisible()).toBe(true);
    expect(await qr.evaluate((img: HTMLImageElement) => img.complete && img.naturalWidth)).toBe(220);
    expect(await qr.getAttribute('src')).toBe(await QRCode.toDataURL(qr_code, { margin: 1, width: 220 }));
    await screenshot(page, 'wallet-pay-alipay');

    await Promise.all([page.waitForLoadState('load'), page.click('#pay')]);
    await expect.poll(() => page.locator('#result').textContent()).toBe('Payment complete');
    expect(await page.locator('#status').textContent()).toBe('SUCCEEDED');
    await screenshot(page, 'wallet-pay-result');

    const intent = await merchant.get(`/v2/payment_intents/${body.payment_intent_id}`);
    expect(intent.body).toMatchObject({ intent_status: 'SUCCEEDED', captured_amount: '8.98', latest_payment_attempt: { attempt_status: 'CAPTURE_REQUESTED' } });

    // Back on the QR page: paid, and nothing left to click.
    await page.goto(qr_code_url);
    expect(await page.locator('#paid').count()).toBe(1);
    expect(await page.locator('#pay').count()).toBe(0);
    expect(await page.locator('#status').textContent()).toBe('SUCCEEDED');
  });

  it('Decline fails the attempt and leaves the intent ready for another payment method', async () => {
    const body = await qrPayment('grabpay', { amount: '15.5' });
    await page.goto(body.next_action.display_qr_code.qr_code_url);
    // GrabPay charges the order currency: no conversion shown.
    await expect.poll(() => page.locator('#amount').textContent()).toBe('15.50 SGD');
    expect(await page.locator('#shopper-amount').count()).toBe(0);
    await screenshot(page, 'wallet-pay-grabpay');

    await Promise.all([page.waitForLoadState('load'), page.click('#decline')]);
    await expect.poll(() => page.locator('#result').textContent()).toBe('Payment declined');
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
    await screenshot(page, 'wallet-pay-wechat-web');
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
    await screenshot(page, 'merchant-checkout-qr');
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
    expect(await page.locator('#expired').textContent()).toMatch(/expired/i);
    expect(await page.locator('#pay').count()).toBe(0);
    await screenshot(page, 'wallet-pay-expired');
    await merchant.authenticate();
    const intent = await merchant.get(`/v2/payment_intents/${body.payment_intent_id}`);
    expect(intent.body).toMatchObject({ intent_status: 'FAILED', latest_payment_attempt: { attempt_status: 'EXPIRED' } });
  });
});

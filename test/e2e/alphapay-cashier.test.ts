/**
 * A shopper in a real browser on AlphaPay's hosted cashier (payUrl): the
 * page shows the amount, the merchant, a QR code encoding paymentUrl and a
 * running countdown; once the wallet pays it sends the shopper to the
 * `redirect` query parameter, else to the order's redirectUrl; a declined
 * payment says so.
 */
import type { Page } from 'playwright-core';
import QRCode from 'qrcode';
import { beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { AlphapayClient, payBody } from '../support/alphapay.ts';
import { BROWSER_SKIP_REASON, screenshot, useBrowserShop, type MerchantSite } from '../support/browser.ts';
import { simPost, type TestPlatform, type UqpayClient } from '../support/platform.ts';

describe.skipIf(BROWSER_SKIP_REASON !== null)('AlphaPay hosted cashier in a browser', () => {
  let tp: TestPlatform;
  let merchant: UqpayClient;
  let site: MerchantSite;
  let page: Page;
  let ap: AlphapayClient;
  const shop = useBrowserShop('Maple Cashier Shop', { viewport: { width: 1024, height: 900 } });
  beforeAll(() => {
    ({ tp, merchant, site } = shop);
    ap = new AlphapayClient(tp.baseUrl, merchant.credentials.alphapay);
  });
  beforeEach(() => void ({ page } = shop));

  async function order(over: Record<string, string> = {}) {
    const r = await ap.pay(payBody({ value: '1234', description: 'Two bubble teas', redirectUrl: `${site.url}/return?via=order`, ...over }));
    expect(r.body.result.resultCode, r.text).toBe('SUCCESS');
    return r.body;
  }

  it('shows amount, merchant, QR of paymentUrl and a countdown; paying sends the shopper to `redirect`', async () => {
    const body = await order();
    const redirect = `${site.url}/return?via=param`;
    const response = await page.goto(`${body.paymentInfo.payUrl}?redirect=${encodeURIComponent(redirect)}`);
    expect(response?.status()).toBe(200);
    expect(await page.locator('#amount').textContent()).toBe('12.34 CAD');
    expect(await page.locator('#merchant').textContent()).toBe('Maple Cashier Shop');
    expect(await page.locator('#description').textContent()).toBe('Two bubble teas');
    const qr = page.locator('img#qr');
    await expect.poll(() => qr.evaluate((img: HTMLImageElement) => img.complete && img.naturalWidth)).toBe(240);
    expect(await qr.getAttribute('src')).toBe(await QRCode.toDataURL(body.paymentInfo.paymentUrl, { margin: 1, width: 240 }));
    const first = await page.locator('#countdown').textContent();
    expect(first).toMatch(/^(29|30):\d\d$/);
    await expect.poll(() => page.locator('#countdown').textContent(), { timeout: 5000 }).not.toBe(first);
    await screenshot(page, 'alphapay-cashier');

    const paid = await simPost(tp.baseUrl, '/wallet/scan', { code: body.paymentInfo.paymentUrl, action: 'pay' });
    expect(paid.status, paid.text).toBe(200);
    await page.waitForURL((u) => u.pathname === '/return', { timeout: 10_000 });
    expect(new URL(page.url()).searchParams.get('via')).toBe('param');
    expect(await page.locator('#back').textContent()).toBe('Back at the merchant');
  });

  it('without `redirect` the order\'s redirectUrl is used; a paid order\'s cashier goes straight there', async () => {
    const body = await order({ scenarioCode: 'ONLINE_WEB', type: 'UnionPay' });
    await page.goto(body.paymentInfo.payUrl);
    await simPost(tp.baseUrl, '/wallet/scan', { code: body.paymentInfo.paymentUrl, action: 'pay' });
    await page.waitForURL((u) => u.pathname === '/return', { timeout: 10_000 });
    expect(new URL(page.url()).searchParams.get('via')).toBe('order');
    await page.goto(body.paymentInfo.payUrl);
    expect(new URL(page.url()).searchParams.get('via')).toBe('order');
  });

  it('a declined payment says so; an unknown cashier is a 404 page', async () => {
    const body = await order({ type: 'Wechat' });
    await page.goto(body.paymentInfo.payUrl);
    await simPost(tp.baseUrl, '/wallet/scan', { code: body.paymentInfo.paymentUrl, action: 'decline' });
    await expect.poll(() => page.locator('#state').textContent(), { timeout: 10_000 }).toBe('The payment did not go through.');
    expect(await page.locator('img#qr').getAttribute('class')).toContain('dim');
    expect(await page.locator('#countdown').textContent()).toBe('—');
    await screenshot(page, 'alphapay-cashier-declined');
    const missing = await page.goto(`${tp.baseUrl}/alphapay/cashier/${'x'.repeat(24)}`);
    expect(missing?.status()).toBe(404);
  });
});

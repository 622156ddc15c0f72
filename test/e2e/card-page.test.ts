/**
 * A shopper in a real browser on the hosted card page of a QFPay card order
 * (802801 Visa / Mastercard online): the page shows the amount and the card
 * form, a card of another network is refused on the page, a 3DS card goes on
 * to the challenge page, and the shopper lands on the merchant's return_url
 * with the order paid.
 */
import type { Page } from 'playwright-core';
import { beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { QfpayClient } from '../clients/qfpay-client.mts';
import { BROWSER_SKIP_REASON, screenshot, useBrowserShop, type MerchantSite } from '../support/browser.ts';
import type { TestPlatform } from '../support/platform.ts';

describe.skipIf(BROWSER_SKIP_REASON !== null)('hosted card page in a browser', () => {
  let tp: TestPlatform;
  let site: MerchantSite;
  let page: Page;
  let qf: QfpayClient;
  const shop = useBrowserShop('Browser Card Shop', { viewport: { width: 390, height: 844 } });
  beforeAll(() => {
    ({ tp, site } = shop);
    qf = new QfpayClient(tp.baseUrl, shop.merchant.credentials.qfpay);
  });
  beforeEach(() => void ({ page } = shop));

  async function fill(number: string): Promise<void> {
    await page.fill('#card_number', number);
    await page.fill('#expiry_month', '12');
    await page.fill('#expiry_year', String(new Date().getUTCFullYear() + 2));
    await page.fill('#cvc', number.length === 15 ? '1234' : '123');
    await page.fill('#card_name', 'Card Shopper');
  }

  it('takes the card on the page, refuses another network, and goes through the 3DS challenge', async () => {
    const order = await qf.pay({ pay_type: '802801', txamt: '2550', return_url: `${site.url}/return` });
    expect(order.body.respcd, order.text).toBe('0000');
    const response = await page.goto(order.body.pay_url);
    expect(response?.status()).toBe(200);
    expect(await page.textContent('#amount')).toContain('25.50 HKD');
    expect(await page.textContent('#merchant')).toBe('Browser Card Shop');
    await screenshot(page, 'card-page-form');

    await fill('378282246310005');
    await page.click('#pay');
    expect(await page.textContent('#error')).toContain('Visa or Mastercard cards only');
    await screenshot(page, 'card-page-wrong-network');

    await fill('4000002500003155');
    await page.click('#pay');
    await page.waitForURL(/\/3ds\/challenge\//);
    await screenshot(page, 'card-page-challenge');
    await page.click('#complete');
    await page.waitForURL(/\/return/);
    expect(site.visits.length).toBeGreaterThan(0);
    const row = (await qf.query({ syssn: order.body.syssn })).body.data[0];
    expect(row).toMatchObject({ respcd: '0000', pay_type: '802801' });

    // Back on the card page after paying: it says so, with no form.
    await page.goto(order.body.pay_url);
    expect(await page.textContent('#status')).toContain('The payment was made.');
    expect(await page.locator('#card_number').count()).toBe(0);
    await screenshot(page, 'card-page-paid');
  });
});

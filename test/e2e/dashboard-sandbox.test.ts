/**
 * The sandbox and issuing pages in a real browser: pay a QR code and finish
 * a 3DS challenge from the sandbox page and see the payments succeed in the
 * API, advance the clock, copy a test card; freeze an issued card from the
 * cards page and see an authorization declined, then its transactions listed.
 */
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BROWSER_SKIP_REASON, launchBrowser, screenshotAtWidths } from '../support/browser.ts';
import { createUser, signInPage } from '../support/dashboard.ts';
import { activeCard, deposit } from '../support/issuing.ts';
import { intentBody, seedCard, startPlatform, UqpayClient, type TestPlatform } from '../support/platform.ts';

describe.skipIf(BROWSER_SKIP_REASON !== null)('dashboard sandbox and issuing pages in a browser', () => {
  let tp: TestPlatform;
  let browser: Browser;
  let page: Page;
  let merchant: UqpayClient;

  const row = (text: string) => page.locator('table.waits tbody tr', { hasText: text });

  beforeAll(async () => {
    tp = await startPlatform('sqlite');
    merchant = await UqpayClient.create(tp, { name: 'Harbour Coffee' });
    const admin = await createUser(tp, { merchantId: merchant.credentials.merchant_id });
    browser = await launchBrowser();
    const context = await browser.newContext({ viewport: { width: 1280, height: 800 }, permissions: ['clipboard-read', 'clipboard-write'] });
    page = await context.newPage();
    await signInPage(page, tp, admin.email, admin.password);
  });
  afterAll(async () => {
    await browser?.close();
    await tp?.close();
  });

  it('pays a QR code and finishes a 3DS challenge from the sandbox page: both succeed in the API', async () => {
    const qr = await merchant.post('/v2/payment_intents/create', { ...intentBody(), payment_method: { type: 'alipaycn', alipaycn: { flow: 'qrcode', is_present: false } } });
    expect(qr.body.next_action?.display_qr_code, qr.text).toBeTruthy();
    const challenged = await merchant.post('/v2/payment_intents/create', { ...intentBody(), payment_method: seedCard({ card_number: '4000002500003155' }) });
    expect(challenged.body.intent_status, challenged.text).toBe('REQUIRES_CUSTOMER_ACTION');

    await page.goto(`${tp.baseUrl}/dashboard/sandbox`);
    await expect(row(qr.body.payment_intent_id).textContent()).resolves.toContain('QR code');
    await screenshotAtWidths(page, 'dashboard-sandbox');
    await row(qr.body.payment_intent_id).getByRole('button', { name: 'Pay' }).click();
    await expect(page.locator('.flash.ok').textContent()).resolves.toContain('SUCCEEDED');
    await row(challenged.body.payment_intent_id).getByRole('button', { name: 'Approve 3DS' }).click();
    await expect(page.locator('.flash.ok').textContent()).resolves.toContain('SUCCEEDED');
    expect(await row(qr.body.payment_intent_id).count()).toBe(0);

    expect((await merchant.get(`/v2/payment_intents/${qr.body.payment_intent_id}`)).body.intent_status).toBe('SUCCEEDED');
    expect((await merchant.get(`/v2/payment_intents/${challenged.body.payment_intent_id}`)).body.intent_status).toBe('SUCCEEDED');
  });

  it('advances the platform clock, and copies a test card number', async () => {
    const before = tp.platform.clock.now();
    await page.goto(`${tp.baseUrl}/dashboard/sandbox`);
    await page.getByLabel('Advance by').fill('2');
    await page.getByLabel('Unit').selectOption('hours');
    await page.getByRole('button', { name: 'Advance clock' }).click();
    await expect(page.locator('.flash.ok').textContent()).resolves.toContain('2 hours');
    expect(tp.platform.clock.now() - before).toBeGreaterThanOrEqual(2 * 3600_000);
    await page.getByRole('button', { name: 'Copy 4000002500003155' }).click();
    await expect.poll(() => page.evaluate(() => navigator.clipboard.readText())).toBe('4000002500003155');
  });

  it('freezes a card from the cards page: its next authorization is declined, and shows in card transactions', async () => {
    await merchant.authenticate(); // the clock moved past the token's life
    await deposit(merchant, 'USD', '500');
    const card = await activeCard(tp, merchant, { card_limit: '100' });
    await page.goto(`${tp.baseUrl}/dashboard/issuing/cards`);
    const cardRow = page.locator('table.data tbody tr', { hasText: card.card_id });
    await expect(cardRow.locator('.badge').textContent()).resolves.toBe('ACTIVE');
    await cardRow.getByRole('button', { name: 'Freeze' }).click();
    await expect(page.locator('.flash.ok').textContent()).resolves.toContain('frozen');
    await expect(cardRow.locator('.badge').textContent()).resolves.toBe('FROZEN');
    await screenshotAtWidths(page, 'dashboard-issuing-cards');

    const auth = await merchant.post('/v1/simulation/issuing/authorization', { card_id: card.card_id, transaction_amount: '5', transaction_currency: 'USD', merchant_name: 'Corner Cafe', merchant_category_code: '5814' });
    expect(auth.body, auth.text).toMatchObject({ transaction_status: 'DECLINED', failure_reason: 'CARD_NOT_ACTIVE' });
    await page.goto(`${tp.baseUrl}/dashboard/issuing/transactions`);
    const tx = page.locator('table.data tbody tr', { hasText: 'Corner Cafe' });
    await expect(tx.textContent()).resolves.toContain('DECLINED');
    await expect(tx.textContent()).resolves.toContain('USD 5.00');
    await screenshotAtWidths(page, 'dashboard-issuing-transactions');

    // Unfrozen, it authorizes again; the secure display opens from the cards page.
    await page.goto(`${tp.baseUrl}/dashboard/issuing/cards`);
    await cardRow.getByRole('button', { name: 'Unfreeze' }).click();
    await expect(cardRow.locator('.badge').textContent()).resolves.toBe('ACTIVE');
    const again = await merchant.post('/v1/simulation/issuing/authorization', { card_id: card.card_id, transaction_amount: '5', transaction_currency: 'USD', merchant_name: 'Corner Cafe', merchant_category_code: '5814' });
    expect(again.body.transaction_status, again.text).toBe('APPROVED');
    await cardRow.getByRole('button', { name: 'Show card details' }).click();
    await page.waitForURL(/\/issuing\/secure-display\//);
    const shown = ((await page.locator('#card-number').textContent()) ?? '').replace(/\s/g, '');
    expect(shown).toMatch(/^\d{16}$/);
    expect(shown.slice(-4)).toBe(String(card.card_number).slice(-4));
    await page.goto(`${tp.baseUrl}/dashboard/issuing/cardholders`);
    await expect(page.locator('table.data tbody tr').first().textContent()).resolves.toContain('Alex Chen');
    await screenshotAtWidths(page, 'dashboard-issuing-cardholders');
  });
});

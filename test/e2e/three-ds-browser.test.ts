/**
 * A shopper in a real browser on the hosted 3DS challenge page: the page shows
 * what is being paid, the buttons settle the payment, and the browser ends up
 * on the merchant's return_url.
 */
import type { Page } from 'playwright-core';
import { beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { BROWSER_SKIP_REASON, screenshot, useBrowserShop, type MerchantSite } from '../support/browser.ts';
import { intentBody, seedCard, type UqpayClient } from '../support/platform.ts';

const CHALLENGE_CARD = '4000002500003155';

describe.skipIf(BROWSER_SKIP_REASON !== null)('hosted 3DS challenge page in a browser', () => {
  let merchant: UqpayClient;
  /** The merchant's site the shopper returns to. */
  let site: MerchantSite;
  let page: Page;
  const shop = useBrowserShop('Browser Shop');
  beforeAll(() => void ({ merchant, site } = shop));
  beforeEach(() => void ({ page } = shop));

  /** A payment with the challenge card, waiting on the shopper; returns its intent and challenge URL. */
  async function challengedPayment(): Promise<{ id: string; attemptId: string; url: string; returnUrl: string }> {
    const returnUrl = `${site.url}/return?order=${Math.random().toString(36).slice(2)}`;
    const r = await merchant.post('/v2/payment_intents/create', {
      ...intentBody({ return_url: returnUrl }),
      payment_method: seedCard({ card_number: CHALLENGE_CARD, network: 'visa' }),
    });
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ intent_status: 'REQUIRES_CUSTOMER_ACTION', next_action: { type: 'redirect_to_url' } });
    return {
      id: r.body.payment_intent_id,
      attemptId: r.body.latest_payment_attempt.attempt_id,
      url: r.body.next_action.redirect_to_url.url,
      returnUrl,
    };
  }

  async function openChallenge(url: string): Promise<void> {
    const response = await page.goto(url);
    expect(response?.status()).toBe(200);
    await expect.poll(() => page.locator('#amount').textContent()).toBe('8.98 SGD');
    const text = await page.locator('body').innerText();
    expect(text).toContain('8.98 SGD');
    expect(text).toContain(CHALLENGE_CARD.slice(-4));
    expect(text).not.toContain(CHALLENGE_CARD); // never the full PAN
    await screenshot(page, 'three-ds-challenge');
  }

  it('completing the challenge pays and lands on the return_url', async () => {
    const p = await challengedPayment();
    await openChallenge(p.url);

    await Promise.all([page.waitForURL((u) => u.toString().startsWith(`${site.url}/return`)), page.click('#complete')]);

    const landed = new URL(page.url());
    expect(landed.searchParams.get('payment_intent_id')).toBe(p.id);
    expect(landed.searchParams.get('intent_status')).toBe('SUCCEEDED');
    expect(landed.searchParams.get('order')).toBe(new URL(p.returnUrl).searchParams.get('order'));
    await expect(page.locator('#back').textContent()).resolves.toBe('Back at the merchant');
    expect(site.visits.some((v) => v.searchParams.get('payment_intent_id') === p.id)).toBe(true);

    const intent = await merchant.get(`/v2/payment_intents/${p.id}`);
    expect(intent.body).toMatchObject({ intent_status: 'SUCCEEDED', captured_amount: '8.98' });
    const attempt = await merchant.get(`/v2/payment/payment_attempts/${p.attemptId}`);
    expect(attempt.body.attempt_status).toBe('CAPTURE_REQUESTED');
    expect(attempt.body.authentication_data.three_ds).toMatchObject({ three_ds_authentication_status: 'Y', three_ds_version: '2.2.0', eci: '05' });
    expect(attempt.body.authentication_data.three_ds.cavv).toBeTruthy();

    // The page is single-use: going back to it after the payment settled does not offer the buttons again.
    const again = await page.goto(p.url);
    expect(again?.status()).toBe(404);
    expect(await page.locator('#complete').count()).toBe(0);
  });

  it('failing the challenge fails the attempt and returns the intent to REQUIRES_PAYMENT_METHOD', async () => {
    const p = await challengedPayment();
    await openChallenge(p.url);

    await Promise.all([page.waitForURL((u) => u.toString().startsWith(`${site.url}/return`)), page.click('#fail')]);

    const landed = new URL(page.url());
    expect(landed.searchParams.get('payment_intent_id')).toBe(p.id);
    expect(landed.searchParams.get('intent_status')).toBe('REQUIRES_PAYMENT_METHOD');

    const intent = await merchant.get(`/v2/payment_intents/${p.id}`);
    expect(intent.body).toMatchObject({ intent_status: 'REQUIRES_PAYMENT_METHOD', latest_payment_attempt: { attempt_id: p.attemptId, attempt_status: 'FAILED' } });
    const attempt = await merchant.get(`/v2/payment/payment_attempts/${p.attemptId}`);
    expect(attempt.body.attempt_status).toBe('FAILED');
    expect(attempt.body.authentication_data.three_ds).toMatchObject({ three_ds_authentication_status: 'N' });
  });
});

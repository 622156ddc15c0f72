/**
 * A shopper in a real browser on the hosted 3DS challenge page: the page shows
 * who is paid and what, in words a shopper reads (no API status codes), the
 * buttons settle the payment, and the browser ends up on the merchant's
 * return_url, or on the page's own outcome when there is none; reloading
 * that outcome posts nothing again (Post/Redirect/Get).
 */
import type { Page } from 'playwright-core';
import { beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { BROWSER_SKIP_REASON, recordPosts, screenshotAtWidths, useBrowserShop, type MerchantSite } from '../support/browser.ts';
import { intentBody, seedCard, type UqpayClient } from '../support/platform.ts';

const CHALLENGE_CARD = '4000002500003155';
/** What the API says, and a shopper never reads on a page. */
const STATUS_CODES = /REQUIRES_|AUTHENTICATION_REDIRECTED|CAPTURE_REQUESTED|SUCCEEDED|PENDING_AUTHORIZATION|FAILED|EXPIRED/;

describe.skipIf(BROWSER_SKIP_REASON !== null)('hosted 3DS challenge page in a browser', () => {
  let merchant: UqpayClient;
  /** The merchant's site the shopper returns to. */
  let site: MerchantSite;
  let page: Page;
  const shop = useBrowserShop('Browser Shop');
  beforeAll(() => void ({ merchant, site } = shop));
  beforeEach(() => void ({ page } = shop));

  /** A payment with the challenge card, waiting on the shopper; returns its intent and challenge URL. */
  async function challengedPayment(opts: { returnUrl?: boolean } = {}): Promise<{ id: string; attemptId: string; url: string; returnUrl: string }> {
    const returnUrl = `${site.url}/return?order=${Math.random().toString(36).slice(2)}`;
    const r = await merchant.post('/v2/payment_intents/create', {
      ...intentBody({ return_url: opts.returnUrl === false ? undefined : returnUrl }),
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
    // Who is paid: the merchant's name, not only the order reference.
    expect(await page.locator('#merchant').textContent()).toBe('Browser Shop');
    const text = await page.locator('body').innerText();
    expect(text).toContain('confirm this payment to Browser Shop');
    expect(text).toContain('8.98 SGD');
    expect(text).toContain(CHALLENGE_CARD.slice(-4));
    expect(text).not.toContain(CHALLENGE_CARD); // never the full PAN
    expect(await page.locator('body').innerText()).not.toMatch(STATUS_CODES);
    await screenshotAtWidths(page, 'three-ds-challenge');
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

    // The page is single-use: going back to it after the payment settled shows the outcome, without the buttons.
    const again = await page.goto(p.url);
    expect(again?.status()).toBe(200);
    expect(await page.locator('#paid').textContent()).toBe('Paid. You can return to the merchant.');
    expect(await page.locator('#status').textContent()).toBe('Paid');
    expect(await page.locator('#complete').count()).toBe(0);
    expect(await page.locator('body').innerText()).not.toMatch(STATUS_CODES);
  });

  it('without a return_url: the outcome page after the post, and a reload that posts nothing again', async () => {
    const p = await challengedPayment({ returnUrl: false });
    await openChallenge(p.url);
    const posts = recordPosts(page);

    await Promise.all([page.waitForLoadState('load'), page.click('#complete')]);
    await expect.poll(() => page.locator('#paid').count()).toBe(1);
    // Post/Redirect/Get: the post was answered 303 to the page's own address, now showing the outcome.
    await expect.poll(() => JSON.stringify(posts)).toBe(JSON.stringify([{ url: p.url, status: 303 }]));
    expect(page.url()).toBe(p.url);
    expect(await page.title()).toBe('Payment complete · polypay');
    expect(await page.locator('#merchant').textContent()).toBe('Browser Shop');
    expect(await page.locator('#status').textContent()).toBe('Paid');
    expect(await page.locator('body').innerText()).not.toMatch(STATUS_CODES);
    await screenshotAtWidths(page, 'three-ds-paid');

    await page.reload();
    await expect.poll(() => page.locator('#paid').count()).toBe(1);
    expect(posts).toHaveLength(1); // the reload re-posted nothing
    const attempts = await merchant.get(`/v2/payment/payment_attempts?payment_intent_id=${p.id}`);
    expect(attempts.body.data.map((a: { attempt_status: string }) => a.attempt_status)).toEqual(['CAPTURE_REQUESTED']);
    expect((await merchant.get(`/v2/payment_intents/${p.id}`)).body).toMatchObject({ intent_status: 'SUCCEEDED', captured_amount: '8.98' });
  });

  it('without a return_url, a failed verification says so and that nothing was charged', async () => {
    const p = await challengedPayment({ returnUrl: false });
    await openChallenge(p.url);
    const posts = recordPosts(page);
    await Promise.all([page.waitForLoadState('load'), page.click('#fail')]);
    await expect.poll(() => page.locator('#not_verified').count()).toBe(1);
    await expect.poll(() => JSON.stringify(posts)).toBe(JSON.stringify([{ url: p.url, status: 303 }]));
    expect(await page.locator('#not_verified').textContent()).toBe('Your card issuer could not verify you. You have not been charged.');
    expect(await page.locator('#status').textContent()).toBe('Not verified');
    expect(await page.locator('body').innerText()).not.toMatch(STATUS_CODES);
    await screenshotAtWidths(page, 'three-ds-not-verified');
    await page.reload();
    expect(posts).toHaveLength(1);
    expect((await merchant.get(`/v2/payment_intents/${p.id}`)).body.intent_status).toBe('REQUIRES_PAYMENT_METHOD');
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

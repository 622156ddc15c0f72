/**
 * Who may see and do what in the merchant dashboard, in a real browser:
 * sign-in through the labelled fields, a wrong password refused, a viewer
 * refused an action and shown no secrets, a second merchant's user seeing
 * nothing of the first's, CSRF-less posts refused (also from another page
 * on the same site), sign-out ending the session for good.
 *
 * The checks against the payments and developers pages run once those pages
 * are merged in (they are another branch's); until then they skip, saying so.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Browser, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, type TestContext } from 'vitest';
import { txdtm, QfpayClient } from '../clients/qfpay-client.mts';
import type { IssuedCredentials } from '../../src/core/merchants/merchants.ts';
import { AlphapayClient, payBody } from '../support/alphapay.ts';
import { BROWSER_SKIP_REASON, launchBrowser, screenshotAtWidths } from '../support/browser.ts';
import { createUser, DashboardClient, signIn, signInPage, type DashboardLogin } from '../support/dashboard.ts';
import { advanceClock, intentBody, seedCard, startPlatform, UqpayClient, type TestPlatform } from '../support/platform.ts';

describe.skipIf(BROWSER_SKIP_REASON !== null)('dashboard access in a browser', () => {
  let tp: TestPlatform;
  let browser: Browser;
  let page: Page;
  let shop: IssuedCredentials;
  let admin: DashboardLogin;
  let viewer: DashboardLogin;
  let rival: DashboardLogin;
  /** A card payment of the first merchant, made over UQPAY. */
  let paymentId = '';

  /** A week of payments over the three dialects, a few declined, so the overview has something to draw. */
  async function payForAWeek(uq: UqpayClient): Promise<void> {
    const qf = new QfpayClient(tp.baseUrl, uq.credentials.qfpay);
    const ap = new AlphapayClient(tp.baseUrl, uq.credentials.alphapay);
    for (let day = 0; day < 6; day++) {
      if (day > 0) {
        await advanceClock(tp, 86_400);
        await uq.authenticate();
      }
      for (let i = 0; i <= day % 3; i++) {
        const declined = (day + i) % 4 === 3;
        const r = await uq.post('/v2/payment_intents/create', {
          ...intentBody({ amount: `${40 + day * 7 + i * 3}.50`, currency: 'SGD' }),
          payment_method: seedCard(declined ? { card_number: '4000000000000002', network: 'visa' } : {}),
        });
        expect(r.status, r.text).toBe(200);
        paymentId ||= r.body.payment_intent_id;
      }
      const q = await qf.pay({ pay_type: '800008', txcurrcd: 'HKD', txamt: String(12_000 + day * 2_150), auth_code: '283854702356157409', txdtm: txdtm() });
      expect(q.body.respcd, q.text).toBe('0000');
      const a = await ap.pay({ ...payBody({ scenarioCode: 'OFFLINE', value: String(1_500 + day * 420), currency: 'CAD' }), paymentMethod: { paymentMethodType: 'Alipay', paymentCode: '280000000000000001' } });
      expect(a.body.result?.resultCode, a.text).toBe('SUCCESS');
    }
  }

  beforeAll(async () => {
    tp = await startPlatform('sqlite');
    const uq = await UqpayClient.create(tp, { name: 'Harbour Coffee Roasters' });
    shop = uq.credentials;
    await payForAWeek(uq);
    admin = await createUser(tp, { merchantId: shop.merchant_id, email: 'owner@harbour-coffee.example' });
    viewer = await createUser(tp, { merchantId: shop.merchant_id, email: 'accounts@harbour-coffee.example', role: 'viewer' });
    const other = await UqpayClient.create(tp, { name: 'Rival Bakery' });
    const r = await other.post('/v2/payment_intents/create', { ...intentBody({ amount: '3.20', currency: 'SGD' }), payment_method: seedCard() });
    expect(r.status, r.text).toBe(200);
    rival = await createUser(tp, { merchantId: other.credentials.merchant_id });
    browser = await launchBrowser();
  }, 120_000);
  afterAll(async () => {
    await browser?.close();
    await tp?.close();
  });
  beforeEach(async () => {
    page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  });
  afterEach(async () => page?.close());

  /** Skips the rest of a test, visibly, when a page of another branch is not there yet (an unsigned POST to an existing route is 403, to none 404). */
  async function needsRoute(ctx: TestContext, method: 'GET' | 'POST', path: string): Promise<void> {
    const r = await new DashboardClient(tp.baseUrl).request(method, path, method === 'POST' ? {} : undefined);
    if (r.status === 404) {
      console.warn(`skipped: ${method} ${path} is not served on this branch (it comes with the payments/developers pages)`);
      ctx.skip();
    }
  }

  it('signs in with the labelled fields, refuses a wrong password, and shows the overview', async () => {
    await page.goto(`${tp.baseUrl}/dashboard`);
    expect(page.url()).toBe(`${tp.baseUrl}/dashboard/sign-in`);
    await page.getByLabel('Email').fill(admin.email);
    await page.getByLabel('Password').fill('not-my-password');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await expect(page.getByRole('alert').textContent()).resolves.toBe('That email and password do not match an account.');
    expect(page.url()).toBe(`${tp.baseUrl}/dashboard/sign-in`);
    await page.getByLabel('Password').fill(admin.password);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForURL(`${tp.baseUrl}/dashboard`);
    await expect(page.locator('h1').textContent()).resolves.toBe('Overview');
    // The charts are drawn (uPlot from the package, no inline script under the CSP).
    await expect(page.locator('.chart-area canvas').count()).resolves.toBeGreaterThanOrEqual(3);
    await expect(page.locator('table.data').first().textContent()).resolves.toContain('UQPAY');
    await screenshotAtWidths(page, 'dashboard-overview');
  });

  it('looks right on a phone: the navigation collapses behind Menu and opens from the keyboard', async () => {
    await page.setViewportSize({ width: 390, height: 844 });
    await page.goto(`${tp.baseUrl}/dashboard/sign-in`);
    await screenshotAtWidths(page, 'dashboard-sign-in');
    await signInPage(page, tp, admin.email, admin.password);
    const nav = page.getByRole('navigation', { name: 'Dashboard' });
    await expect(nav.isVisible()).resolves.toBe(false);
    await page.keyboard.press('Tab'); // the skip link comes first
    await expect(page.evaluate(() => document.activeElement?.textContent)).resolves.toBe('Skip to content');
    await page.getByRole('button', { name: 'Menu' }).focus();
    await page.keyboard.press('Enter');
    await expect(nav.isVisible()).resolves.toBe(true);
    await expect(page.getByRole('button', { name: 'Menu' }).getAttribute('aria-expanded')).resolves.toBe('true');
  });

  it('refuses a viewer an action (403) and shows a viewer no secrets', async (ctx) => {
    await signInPage(page, tp, viewer.email, viewer.password);
    const secrets = [shop.uqpay.api_key, shop.uqpay.webhook_secret, shop.qfpay.client_key, shop.alphapay.merchant_private_key, shop.alphapay.credential_code];
    const seen = await page.content();
    for (const s of secrets) expect(seen).not.toContain(s);
    await needsRoute(ctx, 'GET', '/dashboard/developers');
    await page.goto(`${tp.baseUrl}/dashboard/developers`);
    const developers = await page.content();
    for (const s of secrets) expect(developers).not.toContain(s);
    await needsRoute(ctx, 'POST', `/dashboard/payments/${paymentId}/refund`);
    // The viewer's own session and CSRF token: only the role stands in the way.
    const answer = await page.evaluate(async (url) => {
      const csrf = (document.querySelector('input[name="_csrf"]') as HTMLInputElement).value;
      const r = await fetch(url, { method: 'POST', body: new URLSearchParams({ _csrf: csrf, amount: '1.00', reason: 'requested_by_customer', _key: 'viewer-try' }) });
      return { status: r.status, text: await r.text() };
    }, `${tp.baseUrl}/dashboard/payments/${paymentId}/refund`);
    expect(answer.status).toBe(403);
    expect(answer.text).toContain('Your role can view but not change this');
    const refunds = await tp.platform.store.read.selectFrom('refunds').select('id').where('intent_id', '=', paymentId).execute();
    expect(refunds).toEqual([]);
  });

  it("shows a second merchant's user none of the first's data", async (ctx) => {
    await signInPage(page, tp, rival.email, rival.password);
    const overview = await page.content();
    expect(overview).toContain('Rival Bakery');
    expect(overview).toContain('SGD 3.20');
    for (const theirs of ['Harbour Coffee', 'HKD', 'CAD', 'AlphaPay', 'QFPay']) expect(overview).not.toContain(theirs);
    // A direct URL to the first merchant's payment: 404, as for a payment that does not exist (its owner gets 200).
    await needsRoute(ctx, 'GET', `/dashboard/payments/${paymentId}`);
    const owner = await signIn(tp, admin.email, admin.password);
    expect((await owner.get(`/dashboard/payments/${paymentId}`)).status).toBe(200);
    const answer = await page.goto(`${tp.baseUrl}/dashboard/payments/${paymentId}`);
    expect(answer?.status()).toBe(404);
    expect(await page.content()).not.toContain('Harbour Coffee');
  });

  it('refuses posts without the CSRF token, also from another page of the same site, and does nothing', async () => {
    await signInPage(page, tp, admin.email, admin.password);
    // A page on another port of the same host: same site, so the Lax cookie goes along; only the token is missing.
    const attacker = http.createServer((_req, res) => {
      res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' });
      res.end(`<!doctype html><title>Prize</title><form id="f" method="post" action="${tp.baseUrl}/dashboard/sign-out"><button>Claim</button></form>`);
    });
    await new Promise<void>((resolve) => attacker.listen(0, '127.0.0.1', resolve));
    try {
      await page.goto(`http://127.0.0.1:${(attacker.address() as AddressInfo).port}/`);
      const [answer] = await Promise.all([page.waitForResponse(`${tp.baseUrl}/dashboard/sign-out`), page.getByRole('button', { name: 'Claim' }).click()]);
      expect(answer.status()).toBe(403);
      await expect(page.locator('#fault').textContent()).resolves.toContain('nothing was done');
    } finally {
      attacker.closeAllConnections();
      await new Promise((resolve) => attacker.close(resolve));
    }
    const bare = await page.evaluate(async (url) => (await fetch(url, { method: 'POST' })).status, `${tp.baseUrl}/dashboard/sign-out`);
    expect(bare).toBe(403);
    // Still signed in: neither post signed the user out.
    await page.goto(`${tp.baseUrl}/dashboard`);
    await expect(page.locator('h1').textContent()).resolves.toBe('Overview');
  });

  it('signs out for good: the old session cookie no longer opens the dashboard', async () => {
    await signInPage(page, tp, admin.email, admin.password);
    const [session] = (await page.context().cookies()).filter((c) => c.name === 'polypay_session');
    expect(session).toMatchObject({ httpOnly: true, sameSite: 'Lax', path: '/dashboard' });
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.waitForURL(`${tp.baseUrl}/dashboard/sign-in`);
    await expect(page.getByRole('status').textContent()).resolves.toBe('You are signed out.');
    // Replaying the old cookie (as someone who copied it would) leads to the sign-in form.
    await page.context().addCookies([session!]);
    await page.goto(`${tp.baseUrl}/dashboard`);
    expect(page.url()).toBe(`${tp.baseUrl}/dashboard/sign-in`);
  });
});

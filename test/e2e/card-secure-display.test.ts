/**
 * The hosted secure card display in a real browser, embedded in the card
 * program's page as an iframe: it shows PAN, expiry and CVV once, and
 * refuses a used or expired token.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { BROWSER_SKIP_REASON, screenshot, useBrowserShop } from '../support/browser.ts';
import { activeCard } from '../support/issuing.ts';
import { advanceClock, UqpayClient } from '../support/platform.ts';

describe.skipIf(BROWSER_SKIP_REASON !== null)('hosted secure card display in a browser', () => {
  let merchant: UqpayClient;
  let page: Page;
  const shop = useBrowserShop('Card Program');
  beforeAll(() => void ({ merchant } = shop));
  beforeEach(() => void ({ page } = shop));

  async function tokenFor(cardId: string): Promise<string> {
    const r = await merchant.post(`/v1/issuing/cards/${cardId}/token`, {});
    expect(r.status, r.text).toBe(200);
    expect(r.body).toEqual({ token: expect.stringMatching(/^[A-Za-z0-9_-]{32}$/), expires_in: 60, expires_at: expect.any(Number) });
    return r.body.token;
  }

  /** The card program's own site, another origin on the loopback: its page embeds the display in an iframe. */
  let program: http.Server;
  let programUrl = '';
  beforeAll(async () => {
    program = http.createServer((req, res) => {
      const token = new URL(req.url ?? '/', 'http://x').searchParams.get('token') ?? '';
      res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' });
      res.end(`<!doctype html><title>My card</title><h1>Card program</h1><iframe id="secure" width="480" height="420" src="${shop.tp.baseUrl}/issuing/secure-display/${encodeURIComponent(token)}"></iframe>`);
    });
    await new Promise<void>((resolve) => program.listen(0, '127.0.0.1', resolve));
    programUrl = `http://127.0.0.1:${(program.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    program.closeAllConnections();
    await new Promise((resolve) => program.close(resolve));
  });

  async function embed(token: string) {
    await page.goto(`${programUrl}/my-card?token=${token}`);
    const frame = page.frameLocator('#secure');
    await frame.locator('h1').waitFor({ timeout: 10_000 });
    return frame;
  }

  it('shows the card number, expiry and CVV inside the iframe, once', { timeout: 60_000 }, async () => {
    const card = await activeCard(shop.tp, merchant);
    const secure = (await merchant.get(`/v1/issuing/cards/${card.card_id}/secure`)).body;
    const token = await tokenFor(card.card_id);
    const frame = await embed(token);
    expect((await frame.locator('#card-number').textContent())?.replace(/\s/g, '')).toBe(secure.card_number);
    expect(await frame.locator('#expiry').textContent()).toBe(secure.expire_date);
    expect(await frame.locator('#cvv').textContent()).toBe(secure.cvv);
    expect(await frame.locator('#cardholder').textContent()).toBe('Alex Chen');
    await screenshot(page, 'card-secure-display');

    // The same token again (a reload, or someone who copied the link): nothing.
    const again = await embed(token);
    expect(await again.locator('#refused').textContent()).toContain('expired or was already used');
    expect(await again.locator('body').innerText()).not.toContain(secure.card_number.slice(-4));
    const direct = await page.goto(`${shop.tp.baseUrl}/issuing/secure-display/${token}`);
    expect(direct?.status()).toBe(410);
    expect(direct?.headers()['cache-control']).toBe('no-store');
  });

  it('refuses an expired token and a made-up one', { timeout: 60_000 }, async () => {
    const card = await activeCard(shop.tp, merchant);
    const token = await tokenFor(card.card_id);
    await advanceClock(shop.tp, 61);
    await merchant.authenticate();
    const frame = await embed(token);
    expect(await frame.locator('#refused').count()).toBe(1);
    const madeUp = await page.goto(`${shop.tp.baseUrl}/issuing/secure-display/${'A'.repeat(32)}`);
    expect(madeUp?.status()).toBe(410);
    const odd = await page.goto(`${shop.tp.baseUrl}/issuing/secure-display/${encodeURIComponent('<script>')}`);
    expect(odd?.status()).toBe(410);
    // A fresh token still works after the clock moved.
    const fresh = await embed(await tokenFor(card.card_id));
    expect(await fresh.locator('#cvv').count()).toBe(1);
  });

  it('a token is only for the merchant that owns the card', async () => {
    const card = await activeCard(shop.tp, merchant);
    const other = await UqpayClient.create(shop.tp, { name: 'Other' });
    const r = await other.post(`/v1/issuing/cards/${card.card_id}/token`, {});
    expect(r).toMatchObject({ status: 400, body: { type: 'not_found' } });
  });
});

/**
 * Launches the system's Debian chromium for browser tests through
 * playwright-core. Nothing here ever downloads a browser: when chromium is not
 * installed, browser suites skip with a visible message (.ci/run installs it,
 * so CI always runs them).
 */
import { existsSync } from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { chromium, type Browser, type BrowserContextOptions, type Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, beforeEach } from 'vitest';
import { startPlatform, UqpayClient, type TestPlatform } from './platform.ts';

export const CHROMIUM_PATH = '/usr/bin/chromium';

/** Why browser tests cannot run here, or null when chromium is installed. */
export const BROWSER_SKIP_REASON: string | null = existsSync(CHROMIUM_PATH)
  ? null
  : `no chromium at ${CHROMIUM_PATH} (install it with: apt-get install -y chromium)`;

if (BROWSER_SKIP_REASON) console.warn(`Browser tests SKIPPED: ${BROWSER_SKIP_REASON}`);

export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

export function launchBrowser(): Promise<Browser> {
  if (BROWSER_SKIP_REASON) throw new Error(`cannot launch a browser: ${BROWSER_SKIP_REASON}`);
  return chromium.launch({ executablePath: CHROMIUM_PATH, args: CHROMIUM_ARGS, timeout: 30_000 });
}

/** POLYPAY_E2E_SCREENSHOT_DIR=/some/dir keeps pictures of the pages for a look by eye. */
export async function screenshot(page: Page, name: string): Promise<void> {
  const dir = process.env.POLYPAY_E2E_SCREENSHOT_DIR;
  if (dir) await page.screenshot({ path: path.join(dir, `${name}.png`), fullPage: true });
}

/**
 * The merchant's site on 127.0.0.1: records the visits to /return, serves at
 * /checkout a page that embeds qrImageUrl as an image, and answers every other
 * GET with a small page.
 */
export class MerchantSite {
  readonly visits: URL[] = [];
  qrImageUrl = '';
  url = '';
  private server = http.createServer((req, res) => {
    const u = new URL(req.url ?? '/', this.url);
    res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' });
    if (u.pathname === '/checkout') {
      res.end(`<!doctype html><title>Checkout</title><h1>Scan to pay</h1><img id="merchant-qr" src="${this.qrImageUrl}" alt="QR">`);
      return;
    }
    if (u.pathname === '/return') this.visits.push(u);
    res.end('<!doctype html><title>Merchant</title><h1 id="back">Back at the merchant</h1>');
  });

  async start(): Promise<this> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as { port: number }).port}`;
    return this;
  }

  close(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

export interface BrowserShop {
  tp: TestPlatform;
  merchant: UqpayClient;
  site: MerchantSite;
  browser: Browser;
  /** A fresh page for each test. */
  page: Page;
}

/**
 * Inside a describe: a SQLite platform with a merchant named `merchantName`,
 * the merchant's site and a browser for the suite, and a new page (opened
 * with `pageOptions`) for each test; all closed after.
 */
export function useBrowserShop(merchantName: string, pageOptions?: BrowserContextOptions): BrowserShop {
  const shop = {} as BrowserShop;
  beforeAll(async () => {
    shop.tp = await startPlatform('sqlite');
    shop.merchant = await UqpayClient.create(shop.tp, { name: merchantName });
    shop.site = await new MerchantSite().start();
    shop.browser = await launchBrowser();
  });
  afterAll(async () => {
    await shop.browser?.close();
    await shop.site?.close();
    await shop.tp?.close();
  });
  beforeEach(async () => {
    shop.page = await shop.browser.newPage(pageOptions);
  });
  afterEach(async () => {
    await shop.page?.close();
  });
  return shop;
}

/** The widths every hosted page is looked at: a desktop window and a phone. */
export const SCREEN_WIDTHS = [1280, 390] as const;

/**
 * With POLYPAY_E2E_SCREENSHOT_DIR set: `${name}-1280.png` and `${name}-390.png`,
 * the whole page at a desktop and at a phone width (the page's own size is restored after).
 */
export async function screenshotAtWidths(page: Page, name: string): Promise<void> {
  const dir = process.env.POLYPAY_E2E_SCREENSHOT_DIR;
  if (!dir) return;
  const original = page.viewportSize();
  for (const width of SCREEN_WIDTHS) {
    await page.setViewportSize({ width, height: width < 600 ? 844 : 800 });
    await page.screenshot({ path: path.join(dir, `${name}-${width}.png`), fullPage: true });
  }
  if (original) await page.setViewportSize(original);
}

/** The form posts a page sends, with the status each was answered with (a refresh that re-posts shows up here). */
export function recordPosts(page: Page): { url: string; status: number | null }[] {
  const posts: { url: string; status: number | null }[] = [];
  page.on('request', (request) => {
    if (request.method() !== 'POST') return;
    const post = { url: request.url(), status: null as number | null };
    posts.push(post);
    void request.response().then((response) => (post.status = response?.status() ?? null));
  });
  return posts;
}

/**
 * Launches the system's Debian chromium for browser tests through
 * playwright-core. Nothing here ever downloads a browser: when chromium is not
 * installed, browser suites skip with a visible message (.ci/run installs it,
 * so CI always runs them).
 */
import { existsSync } from 'node:fs';
import { chromium, type Browser } from 'playwright-core';

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

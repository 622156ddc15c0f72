/**
 * Dashboard helpers for tests: users made through the core (as the CLI
 * makes them), and sessions signed in the way a browser signs in (the
 * sign-in form's CSRF token and cookie, then the session cookie), over HTTP
 * with fetch or in a playwright page.
 */
import type { Page } from 'playwright-core';
import { expect } from 'vitest';
import type { DashboardRole } from '../../src/core/dashboard/users.ts';
import type { TestPlatform } from './platform.ts';

export interface DashboardLogin {
  email: string;
  password: string;
  role: DashboardRole;
  merchantId: string;
  userId: string;
}

let made = 0;

/** A dashboard user of `merchantId` (role admin unless told), with its generated password. */
export async function createUser(tp: TestPlatform, opts: { merchantId: string; email?: string; role?: DashboardRole }): Promise<DashboardLogin> {
  const email = opts.email ?? `user${++made}.${Date.now()}@example.com`;
  const { user, password } = await tp.platform.dashboardUsers.create({ merchantId: opts.merchantId, email, role: opts.role ?? 'admin' });
  return { email: user.email, password, role: user.role, merchantId: user.merchantId, userId: user.id };
}

export interface DashReply {
  status: number;
  text: string;
  headers: Headers;
  /** Where a redirect points. */
  location: string | null;
}

/** A browser's cookie jar for /dashboard, over fetch (no redirects followed). */
export class DashboardClient {
  readonly cookies = new Map<string, string>();
  /** The session's CSRF token, read from a page's forms once signed in. */
  csrf = '';

  constructor(readonly baseUrl: string) {}

  private remember(headers: Headers): void {
    for (const line of headers.getSetCookie()) {
      const [pair, ...attrs] = line.split(';');
      const eq = pair!.indexOf('=');
      const name = pair!.slice(0, eq).trim();
      const value = pair!.slice(eq + 1).trim();
      const expired = attrs.some((a) => /^\s*max-age=0\s*$/i.test(a) || /^\s*expires=Thu, 01 Jan 1970/i.test(a));
      if (expired || value === '') this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
  }

  async request(method: string, path: string, form?: Record<string, string>, headers: Record<string, string> = {}): Promise<DashReply> {
    const r = await fetch(`${this.baseUrl}${path}`, {
      method,
      redirect: 'manual',
      headers: {
        ...(this.cookies.size ? { cookie: [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ') } : {}),
        ...(form ? { 'content-type': 'application/x-www-form-urlencoded' } : {}),
        ...headers,
      },
      ...(form ? { body: new URLSearchParams(form).toString() } : {}),
    });
    this.remember(r.headers);
    return { status: r.status, text: await r.text(), headers: r.headers, location: r.headers.get('location') };
  }

  get(path: string) {
    return this.request('GET', path);
  }

  /** Posts a form with the session's CSRF token (pass `_csrf: ''` to leave it out). */
  post(path: string, form: Record<string, string> = {}) {
    return this.request('POST', path, { _csrf: this.csrf, ...form });
  }
}

/** The value of the first hidden `_csrf` field of a page. */
export const csrfOf = (page: string): string => /name="_csrf" value="([^"]*)"/.exec(page)?.[1] ?? '';

/** Submits the sign-in form as a browser does; the answer to the POST. */
export async function submitSignIn(client: DashboardClient, email: string, password: string, headers: Record<string, string> = {}): Promise<DashReply> {
  const form = await client.get('/dashboard/sign-in');
  expect(form.status).toBe(200);
  return client.request('POST', '/dashboard/sign-in', { _csrf: csrfOf(form.text), email, password }, headers);
}

/** A client signed in as `email` (the sign-in must succeed), with its CSRF token for posts. */
export async function signIn(tp: TestPlatform, email: string, password: string): Promise<DashboardClient> {
  const client = new DashboardClient(tp.baseUrl);
  const r = await submitSignIn(client, email, password);
  expect(r.status, r.text).toBe(303);
  const home = await client.get('/dashboard');
  expect(home.status, home.text).toBe(200);
  client.csrf = csrfOf(home.text);
  return client;
}

/** Signs a playwright page in through the form's labelled fields; it ends on the overview. */
export async function signInPage(page: Page, tp: TestPlatform, email: string, password: string): Promise<void> {
  await page.goto(`${tp.baseUrl}/dashboard/sign-in`);
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForURL(`${tp.baseUrl}/dashboard`);
}

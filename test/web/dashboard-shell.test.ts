/**
 * The dashboard's shell over HTTP: sign-in and its throttle, the session
 * cookie's attributes and expiry, CSRF on every form, roles, and the frame
 * every page shares.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createUser, DashboardClient, signIn, submitSignIn } from '../support/dashboard.ts';
import { startPlatform, type TestPlatform } from '../support/platform.ts';

describe('dashboard shell', () => {
  let tp: TestPlatform;
  let merchantId: string;
  beforeAll(async () => {
    tp = await startPlatform('sqlite');
    merchantId = (await tp.platform.merchants.create({ name: 'Shell Shop <b>' })).merchant_id;
  });
  afterAll(async () => tp?.close());

  it('sends a visitor without a session to the sign-in form, with labelled fields', async () => {
    const client = new DashboardClient(tp.baseUrl);
    const home = await client.get('/dashboard');
    expect(home.status).toBe(303);
    expect(home.location).toBe('/dashboard/sign-in');
    const deep = await client.get('/dashboard?range=30');
    expect(deep.location).toBe('/dashboard/sign-in?next=%2Fdashboard%3Frange%3D30');
    const form = await client.get('/dashboard/sign-in');
    expect(form.status).toBe(200);
    expect(form.text).toMatch(/<label for="email">Email<\/label>\s*<input id="email"/);
    expect(form.text).toMatch(/<label for="password">Password<\/label>\s*<input id="password"/);
    expect(form.headers.get('content-security-policy')).toContain("default-src 'self'");
    expect(form.text).not.toMatch(/<script>|<style>| style="/);
  });

  it('signs in, shows the frame with the merchant (escaped) and signs out for good', async () => {
    const login = await createUser(tp, { merchantId });
    const client = await signIn(tp, login.email.toUpperCase(), login.password);
    const home = await client.get('/dashboard');
    expect(home.text).toContain('Shell Shop &lt;b&gt;');
    expect(home.text).toContain(login.email);
    expect(home.text).toContain('href="/dashboard/payments"');
    expect(home.text).toContain('href="/dashboard/sandbox"');
    const out = await client.post('/dashboard/sign-out');
    expect(out.status).toBe(303);
    expect(out.location).toBe('/dashboard/sign-in');
    const signedOut = await client.get('/dashboard/sign-in');
    expect(signedOut.text).toContain('You are signed out.');
    expect((await client.get('/dashboard')).status).toBe(303);
    const rows = await tp.platform.store.read.selectFrom('dashboard_sessions').selectAll().where('user_id', '=', login.userId).execute();
    expect(rows).toEqual([]);
  });

  it('sets the session cookie HttpOnly, SameSite=Lax, Path=/dashboard, and stores only its hash', async () => {
    const login = await createUser(tp, { merchantId });
    const client = new DashboardClient(tp.baseUrl);
    const r = await submitSignIn(client, login.email, login.password);
    expect(r.status).toBe(303);
    const cookie = r.headers.getSetCookie().find((c) => c.startsWith('polypay_session='))!;
    expect(cookie).toMatch(/; HttpOnly/);
    expect(cookie).toMatch(/; SameSite=Lax/);
    expect(cookie).toMatch(/; Path=\/dashboard/);
    expect(cookie).not.toMatch(/; Secure/); // plain http here
    const token = client.cookies.get('polypay_session')!;
    const stored = await tp.platform.store.read.selectFrom('dashboard_sessions').select('token_hash').where('user_id', '=', login.userId).execute();
    expect(stored).toHaveLength(1);
    expect(stored[0]!.token_hash).not.toContain(token);
  });

  it('refuses a wrong password and an unknown email with the same answer', async () => {
    const login = await createUser(tp, { merchantId });
    const wrongPassword = await submitSignIn(new DashboardClient(tp.baseUrl), login.email, 'not-the-password', { 'x-forwarded-for': '1' });
    const unknown = await submitSignIn(new DashboardClient(tp.baseUrl), 'nobody@example.com', 'not-the-password');
    expect(wrongPassword.status).toBe(401);
    expect(unknown.status).toBe(401);
    const message = (t: string) => /role="alert">([^<]*)</.exec(t)?.[1];
    expect(message(wrongPassword.text)).toBe('That email and password do not match an account.');
    expect(message(unknown.text)).toBe(message(wrongPassword.text));
  });

  it('refuses a CSRF-less or wrong-token post with 403 and does nothing', async () => {
    const login = await createUser(tp, { merchantId });
    const client = await signIn(tp, login.email, login.password);
    const bare = await client.request('POST', '/dashboard/sign-out', {});
    expect(bare.status).toBe(403);
    const wrong = await client.post('/dashboard/sign-out', { _csrf: 'x'.repeat(43) });
    expect(wrong.status).toBe(403);
    expect(wrong.text).toContain('nothing was done');
    // Still signed in: the sign-out did not happen.
    expect((await client.get('/dashboard')).status).toBe(200);
    // The sign-in form has its own token: a post from elsewhere signs nobody in.
    const elsewhere = await new DashboardClient(tp.baseUrl).request('POST', '/dashboard/sign-in', { email: login.email, password: login.password });
    expect(elsewhere.status).toBe(403);
    expect(elsewhere.headers.getSetCookie().some((c) => c.startsWith('polypay_session='))).toBe(false);
  });

  it('ends a session idle too long or past its absolute expiry', async () => {
    const login = await createUser(tp, { merchantId });
    const idle = await signIn(tp, login.email, login.password);
    const old = await signIn(tp, login.email, login.password);
    const sessions = tp.platform.store.read.selectFrom('dashboard_sessions').where('user_id', '=', login.userId);
    const [a, b] = await sessions.select(['token_hash', 'created_at']).orderBy('created_at').execute();
    await tp.platform.store.unit((db) => db.updateTable('dashboard_sessions').set({ last_seen_at: Date.now() - 31 * 60_000 }).where('token_hash', '=', a!.token_hash).execute());
    await tp.platform.store.unit((db) => db.updateTable('dashboard_sessions').set({ expires_at: Date.now() - 1 }).where('token_hash', '=', b!.token_hash).execute());
    expect((await idle.get('/dashboard')).status).toBe(303);
    expect((await old.get('/dashboard')).status).toBe(303);
  });

  it('serves its assets without a session, the chart library from the package', async () => {
    const client = new DashboardClient(tp.baseUrl);
    const css = await client.get('/dashboard/assets/dashboard.css');
    expect(css.status).toBe(200);
    expect(css.headers.get('content-type')).toContain('text/css');
    const uplot = await client.get('/dashboard/assets/uPlot.iife.min.js');
    expect(uplot.status).toBe(200);
    expect(uplot.text).toContain('uPlot');
    expect((await client.get('/dashboard/assets/../../package.json')).status).toBe(404);
    expect((await client.get('/dashboard/assets/nothing.js')).status).toBe(404);
  });

  it('answers a page that does not exist with a dashboard page', async () => {
    const r = await new DashboardClient(tp.baseUrl).get('/dashboard/assets/nothing.js');
    expect(r.headers.get('content-type')).toContain('text/html');
    expect(r.text).toContain('Page not found');
  });
});

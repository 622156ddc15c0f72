/**
 * What page modules rely on, through a module of test routes registered the
 * way the real ones are: an action refused to a viewer (403) before it
 * runs, an object of another merchant answered 404, and a post without the
 * CSRF token refused before the handler.
 */
import { randomBytes } from 'node:crypto';
import Fastify, { type FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { IdempotencyKeys } from '../../src/http/idempotency.ts';
import { paymentStats } from '../../src/store/payment-stats-repo.ts';
import { paymentConsoleReads } from '../../src/store/payments-console-repo.ts';
import type { DashboardDeps } from '../../src/web/dashboard/deps.ts';
import { requireAdmin, requireVisible } from '../../src/web/dashboard/guards.ts';
import { html } from '../../src/web/dashboard/html.ts';
import { csrfField, dashboardPage, redirectWithFlash } from '../../src/web/dashboard/layout.ts';
import { dashboardPlugin } from '../../src/web/dashboard/plugin.ts';
import { createUser, csrfOf, DashboardClient, signIn } from '../support/dashboard.ts';
import { startPlatform, type TestPlatform } from '../support/platform.ts';

describe('dashboard guards for page modules', () => {
  let tp: TestPlatform;
  let app: FastifyInstance;
  let baseUrl: string;
  let shopId: string;
  let otherId: string;
  const done: string[] = [];

  /** A page module as the payments and developers pages are written. */
  async function testPages(web: FastifyInstance): Promise<void> {
    web.get('/things/:merchantId', async (req, reply) => {
      const { merchantId } = req.params as { merchantId: string };
      const thing = requireVisible(req, { merchantId }, (t) => t.merchantId);
      return reply.type('text/html').send(dashboardPage(req, { title: 'Thing', section: 'payments', body: html`<p id="thing">${thing.merchantId}</p><form method="post" action="/dashboard/things/act">${csrfField(req)}<button>Act</button></form>` }));
    });
    web.post('/things/act', async (req, reply) => {
      requireAdmin(req);
      done.push(req.dashboard.user.email);
      return redirectWithFlash(reply, '/dashboard/things/' + req.dashboard.merchant.id, 'ok', 'Done <now>.');
    });
  }

  beforeAll(async () => {
    tp = await startPlatform('sqlite');
    shopId = (await tp.platform.merchants.create({ name: 'Guarded Shop' })).merchant_id;
    otherId = (await tp.platform.merchants.create({ name: 'Other Shop' })).merchant_id;
    const p = tp.platform;
    const deps: DashboardDeps = {
      store: p.store, merchants: p.merchants, payments: p.payments, issuing: p.issuing, relay: p.relay, clock: p.clock,
      sandbox: true, users: p.dashboardUsers, stats: paymentStats(p.store), publicBaseUrl: undefined,
      paymentConsole: paymentConsoleReads(p.store, { referenceScopes: [] }), idempotency: new IdempotencyKeys(p.store, p.clock, randomBytes(32)),
    };
    app = Fastify();
    await app.register(async (web) => {
      await dashboardPlugin(web, deps);
      await testPages(web);
    }, { prefix: '/dashboard' });
    baseUrl = await app.listen({ port: 0, host: '127.0.0.1' });
  });
  afterAll(async () => {
    await app?.close();
    await tp?.close();
  });

  const client = async (role: 'admin' | 'viewer') => {
    const login = await createUser(tp, { merchantId: shopId, role });
    return signIn({ ...tp, baseUrl }, login.email, login.password);
  };

  it("refuses a viewer's action with 403 before the handler runs", async () => {
    const viewer = await client('viewer');
    const r = await viewer.post('/dashboard/things/act');
    expect(r.status).toBe(403);
    expect(r.text).toContain('Your role can view but not change this');
    expect(done).toEqual([]);
  });

  it("lets an admin act, then shows the flash once, escaped", async () => {
    const admin = await client('admin');
    const page = await admin.get(`/dashboard/things/${shopId}`);
    const r = await admin.post('/dashboard/things/act', { _csrf: csrfOf(page.text) });
    expect(r.status).toBe(303);
    expect(done).toHaveLength(1);
    const after = await admin.get(r.location!);
    expect(after.text).toContain('<div class="flash ok" role="status">Done &lt;now&gt;.</div>');
    expect((await admin.get(r.location!)).text).not.toContain('flash ok');
  });

  it('refuses an admin\'s post without the CSRF token before the handler runs', async () => {
    const admin = await client('admin');
    const before = done.length;
    expect((await admin.post('/dashboard/things/act', { _csrf: '' })).status).toBe(403);
    expect((await new DashboardClient(baseUrl).request('POST', '/dashboard/things/act', {})).status).toBe(403);
    expect(done).toHaveLength(before);
  });

  it("answers another merchant's object 404, as if it did not exist", async () => {
    const admin = await client('admin');
    expect((await admin.get(`/dashboard/things/${shopId}`)).status).toBe(200);
    const theirs = await admin.get(`/dashboard/things/${otherId}`);
    expect(theirs.status).toBe(404);
    expect(theirs.text).not.toContain(otherId);
  });
});

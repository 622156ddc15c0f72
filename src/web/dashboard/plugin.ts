/**
 * The merchant dashboard, served under /dashboard: cookies, the session and
 * CSRF checks that every route but sign-in and the assets passes through,
 * the security headers of every answer, sign-in and out, and each page
 * module's routes (registered relative to the prefix: '/payments/:id').
 */
import cookie from '@fastify/cookie';
import formbody from '@fastify/formbody';
import type { FastifyInstance } from 'fastify';
import { dashboardAssets } from './assets.ts';
import type { DashboardDeps } from './deps.ts';
import { developersPages } from './developers.ts';
import { dashboardErrors } from './errors.ts';
import { issuingPages } from './issuing.ts';
import { overviewPage } from './overview.ts';
import { paymentsPages } from './payments.ts';
import { sandboxPages } from './sandbox.ts';
import { csrfHook, sessionHook } from './session.ts';
import { signInPages } from './sign-in.ts';

const CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "img-src 'self' data:",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

export async function dashboardPlugin(app: FastifyInstance, deps: DashboardDeps): Promise<void> {
  await app.register(cookie);
  await app.register(formbody);
  app.decorateRequest('dashboard', null as never);
  app.addHook('onRequest', sessionHook(deps));
  app.addHook('preValidation', csrfHook);
  app.addHook('onSend', async (req, reply) => {
    void reply.header('content-security-policy', CONTENT_SECURITY_POLICY);
    void reply.header('x-content-type-options', 'nosniff');
    void reply.header('referrer-policy', 'same-origin');
    // Pages show a merchant's money: never kept by a shared cache or the browser's history.
    if (!req.routeOptions.url?.startsWith('/dashboard/assets/')) void reply.header('cache-control', 'no-store');
  });
  app.setErrorHandler(dashboardErrors);

  await dashboardAssets(app);
  await signInPages(app, deps);
  await overviewPage(app, deps);
  await paymentsPages(app, deps);
  await developersPages(app, deps);
  await sandboxPages(app, deps);
  await issuingPages(app, deps);
}

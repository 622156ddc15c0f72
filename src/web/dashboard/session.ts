/**
 * Who is signed in, and that a form came from a dashboard page. The session
 * cookie holds an opaque token (HttpOnly, SameSite=Lax, Path=/dashboard,
 * Secure behind https); every state-changing request carries the session's
 * CSRF token in the `_csrf` field (or the x-csrf-token header) and is
 * refused with 403 before its handler runs when the token is missing or
 * wrong. The sign-in form is protected the same way with a token of its own,
 * kept in a short-lived cookie, so no other site can sign a browser in.
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';
import type { CookieSerializeOptions } from '@fastify/cookie';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { DashboardDeps } from './deps.ts';
import { DashboardForbidden, type Flash } from './guards.ts';
import { DASHBOARD_PATH, FLASH_COOKIE, SIGN_IN_PATH } from './layout.ts';

export const SESSION_COOKIE = 'polypay_session';
export const SIGN_IN_COOKIE = 'polypay_sign_in';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Served without a session: the sign-in form and the assets. */
    dashboardPublic?: boolean;
  }
}

/** Refused before any handler: a form that did not come from this session's pages. */
export class CsrfRefused extends DashboardForbidden {
  override name = 'CsrfRefused';
}

export function cookieOptions(deps: DashboardDeps, req: FastifyRequest, over: CookieSerializeOptions = {}): CookieSerializeOptions {
  const secure = deps.publicBaseUrl?.startsWith('https:') || req.protocol === 'https';
  return { path: DASHBOARD_PATH, httpOnly: true, sameSite: 'lax', secure, ...over };
}

/** The sign-in form's CSRF token: the one in its cookie, or a new one set now. */
export function signInToken(deps: DashboardDeps, req: FastifyRequest, reply: FastifyReply): string {
  const existing = req.cookies[SIGN_IN_COOKIE];
  if (existing && /^[\w-]{43}$/.test(existing)) return existing;
  const token = randomBytes(32).toString('base64url');
  void reply.setCookie(SIGN_IN_COOKIE, token, cookieOptions(deps, req, { maxAge: 60 * 60 }));
  return token;
}

const sameToken = (given: unknown, expected: string | undefined): boolean =>
  typeof given === 'string' && typeof expected === 'string' && given.length === expected.length && timingSafeEqual(Buffer.from(given), Buffer.from(expected));

/** onRequest: the signed-in user onto req.dashboard, or a way to sign in. */
export function sessionHook(deps: DashboardDeps) {
  return async (req: FastifyRequest, reply: FastifyReply): Promise<void> => {
    if (req.routeOptions.config.dashboardPublic) return;
    const token = req.cookies[SESSION_COOKIE];
    const session = token ? await deps.users.session(token) : null;
    const merchant = session ? await deps.merchants.byId(session.user.merchantId) : null;
    if (!session || !merchant || merchant.disabledAt !== null) {
      if (token) void reply.clearCookie(SESSION_COOKIE, cookieOptions(deps, req));
      if (req.method === 'GET' || req.method === 'HEAD') {
        const next = req.url === DASHBOARD_PATH || req.url === `${DASHBOARD_PATH}/` ? '' : `?next=${encodeURIComponent(req.url)}`;
        await reply.redirect(`${SIGN_IN_PATH}${next}`, 303);
        return;
      }
      throw new CsrfRefused('Your session has ended. Sign in again, then repeat what you did.');
    }
    req.dashboard = {
      user: { id: session.user.id, email: session.user.email, role: session.user.role },
      merchant,
      merchantIds: [merchant.id, ...(await deps.merchants.subMerchantIds(merchant.id))],
      csrfToken: session.csrfToken,
      sandbox: deps.sandbox,
      flash: takeFlash(req, reply),
    };
  };
}

/** The message a redirect left (redirectWithFlash), read once. */
export function takeFlash(req: FastifyRequest, reply: FastifyReply): Flash | null {
  const text = req.cookies[FLASH_COOKIE];
  if (!text) return null;
  void reply.clearCookie(FLASH_COOKIE, { path: DASHBOARD_PATH });
  try {
    const f = JSON.parse(text) as Partial<Flash>;
    if ((f.kind === 'ok' || f.kind === 'bad') && typeof f.message === 'string') return { kind: f.kind, message: f.message.slice(0, 500) };
  } catch {
    /* a damaged flash is dropped */
  }
  return null;
}

/** preValidation: every request that can change something carries the right CSRF token, or nothing runs. */
export async function csrfHook(req: FastifyRequest): Promise<void> {
  if (req.method === 'GET' || req.method === 'HEAD' || req.method === 'OPTIONS') return;
  const body = req.body as Record<string, unknown> | null | undefined;
  const given = (body && typeof body === 'object' ? body._csrf : undefined) ?? req.headers['x-csrf-token'];
  const expected = req.routeOptions.config.dashboardPublic ? req.cookies[SIGN_IN_COOKIE] : req.dashboard?.csrfToken;
  if (!sameToken(given, expected)) {
    req.log.warn({ path: req.routeOptions.url }, 'dashboard form refused: CSRF token missing or wrong');
    throw new CsrfRefused('This form has expired or did not come from this dashboard, so nothing was done. Go back, reload the page and try again.');
  }
}

/** Signing in with email and password, and out. */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { DashboardDeps } from './deps.ts';
import { html, type Html } from './html.ts';
import { DASHBOARD_PATH, redirectWithFlash, SIGN_IN_PATH, standalonePage } from './layout.ts';
import { cookieOptions, SESSION_COOKIE, SIGN_IN_COOKIE, signInToken, takeFlash } from './session.ts';

/** Where to go after signing in: a dashboard page only (never another site). */
function nextPage(value: unknown): string {
  return typeof value === 'string' && /^\/dashboard(?:[/?#]|$)/.test(value) && !value.includes('//') && !value.includes('\\') ? value : DASHBOARD_PATH;
}

function form(token: string, next: string, email: string, message: Html | null): string {
  return standalonePage(
    'Sign in to your dashboard',
    html`${message}
<form method="post" action="${SIGN_IN_PATH}" class="stack">
  <input type="hidden" name="_csrf" value="${token}">
  <input type="hidden" name="next" value="${next}">
  <label for="email">Email</label>
  <input id="email" name="email" type="email" autocomplete="username" required value="${email}"${email ? '' : html` autofocus`}>
  <label for="password">Password</label>
  <input id="password" name="password" type="password" autocomplete="current-password" required${email ? html` autofocus` : ''}>
  <button type="submit">Sign in</button>
</form>
<p class="muted small">No account yet? An administrator creates one with <code>polypay user create</code>; a new installation prints the demo merchant's login when it first starts.</p>`,
  );
}

const notice = (kind: 'ok' | 'bad', message: string) => html`<div class="flash ${kind}" role="${kind === 'bad' ? 'alert' : 'status'}">${message}</div>`;

export async function signInPages(app: FastifyInstance, deps: DashboardDeps): Promise<void> {
  app.get('/sign-in', { config: { dashboardPublic: true } }, async (req: FastifyRequest<{ Querystring: { next?: string } }>, reply) => {
    const token = req.cookies[SESSION_COOKIE];
    if (token && (await deps.users.session(token))) return reply.redirect(nextPage(req.query.next), 303);
    const flash = takeFlash(req, reply);
    return reply.type('text/html; charset=utf-8').send(form(signInToken(deps, req, reply), nextPage(req.query.next), '', flash && notice(flash.kind, flash.message)));
  });

  app.post('/sign-in', { config: { dashboardPublic: true } }, async (req: FastifyRequest<{ Body: Record<string, unknown> | undefined }>, reply: FastifyReply) => {
    const body = req.body ?? {};
    const email = typeof body.email === 'string' ? body.email.slice(0, 254) : '';
    const password = typeof body.password === 'string' ? body.password.slice(0, 1024) : '';
    const next = nextPage(body.next);
    const again = (status: number, message: string) =>
      reply.code(status).type('text/html; charset=utf-8').send(form(signInToken(deps, req, reply), next, email, notice('bad', message)));
    if (!email || !password) return again(400, 'Enter your email and your password.');
    const result = await deps.users.signIn(email, password, req.ip);
    if (!result.ok) {
      return result.reason === 'throttled'
        ? again(429, 'Too many failed sign-in attempts. Wait 15 minutes, then try again.')
        : again(401, 'That email and password do not match an account.');
    }
    void reply.clearCookie(SIGN_IN_COOKIE, cookieOptions(deps, req));
    void reply.setCookie(SESSION_COOKIE, result.session.token, cookieOptions(deps, req));
    return reply.redirect(next, 303);
  });

  app.post('/sign-out', async (req, reply) => {
    await deps.users.signOut(req.cookies[SESSION_COOKIE]!);
    void reply.clearCookie(SESSION_COOKIE, cookieOptions(deps, req));
    return redirectWithFlash(reply, SIGN_IN_PATH, 'ok', 'You are signed out.');
  });
}

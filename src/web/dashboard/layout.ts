/**
 * The dashboard's frame: top bar (merchant, user, sign-out), navigation,
 * the flash banner, and the page's body. Styles and scripts are files under
 * /dashboard/assets (the Content-Security-Policy allows nothing inline).
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Flash } from './guards.ts';
import { html, type Html } from './html.ts';

export const DASHBOARD_PATH = '/dashboard';
export const ASSETS_PATH = `${DASHBOARD_PATH}/assets`;
export const SIGN_IN_PATH = `${DASHBOARD_PATH}/sign-in`;
export const SIGN_OUT_PATH = `${DASHBOARD_PATH}/sign-out`;
export const FLASH_COOKIE = 'polypay_flash';

export type Section = 'overview' | 'payments' | 'developers' | 'sandbox' | 'cardholders' | 'cards' | 'card-transactions';

const NAV: Array<{ section: Section; href: string; label: string; group?: string; sandboxOnly?: boolean }> = [
  { section: 'overview', href: DASHBOARD_PATH, label: 'Overview' },
  { section: 'payments', href: `${DASHBOARD_PATH}/payments`, label: 'Payments' },
  { section: 'developers', href: `${DASHBOARD_PATH}/developers`, label: 'Developers' },
  { section: 'sandbox', href: `${DASHBOARD_PATH}/sandbox`, label: 'Sandbox', sandboxOnly: true },
  { section: 'cardholders', href: `${DASHBOARD_PATH}/issuing/cardholders`, label: 'Cardholders', group: 'Issuing' },
  { section: 'cards', href: `${DASHBOARD_PATH}/issuing/cards`, label: 'Cards', group: 'Issuing' },
  { section: 'card-transactions', href: `${DASHBOARD_PATH}/issuing/transactions`, label: 'Card transactions', group: 'Issuing' },
];

export interface PageParts {
  title: string;
  section: Section;
  body: Html;
  /** Shown above the body; defaults to the one the last action left (redirectWithFlash). */
  flash?: Flash;
  /** Extra assets the page needs (file names under /dashboard/assets), e.g. the chart library. */
  scripts?: string[];
  styles?: string[];
}

function documentOf(title: string, bodyClass: string, content: Html, parts: { scripts?: string[]; styles?: string[] } = {}): string {
  return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${title} · polypay dashboard</title>
${(parts.styles ?? []).map((s) => html`<link rel="stylesheet" href="${ASSETS_PATH}/${s}">\n`)}<link rel="stylesheet" href="${ASSETS_PATH}/dashboard.css">
${(parts.scripts ?? []).map((s) => html`<script src="${ASSETS_PATH}/${s}" defer></script>\n`)}<script src="${ASSETS_PATH}/dashboard.js" defer></script>
</head>
<body class="${bodyClass}">
${content}
</body>
</html>
`.text;
}

/** A page in the dashboard's frame, for the signed-in user of `req`. */
export function dashboardPage(req: FastifyRequest, parts: PageParts): string {
  const { user, merchant, sandbox } = req.dashboard;
  const flash = parts.flash ?? req.dashboard.flash ?? undefined;
  let group: string | undefined;
  const links = NAV.filter((n) => !n.sandboxOnly || sandbox).map((n) => {
    const heading = n.group && n.group !== group ? html`<li class="nav-group" aria-hidden="true">${n.group}</li>` : '';
    group = n.group;
    return html`${heading}<li><a href="${n.href}"${n.section === parts.section ? html` aria-current="page"` : ''}>${n.label}</a></li>`;
  });
  const content = html`<a class="skip" href="#main">Skip to content</a>
<header class="topbar">
  <a class="brand" href="${DASHBOARD_PATH}"><span class="logo" aria-hidden="true">p</span>polypay</a>
  <span class="merchant" title="${merchant.id}">${merchant.name}${sandbox ? html` <span class="badge info">Sandbox</span>` : ''}</span>
  <button type="button" class="nav-toggle secondary" aria-controls="nav" aria-expanded="false">Menu</button>
  <div class="who">
    <span class="user">${user.email} <span class="badge ${user.role === 'admin' ? 'ok' : 'warn'}">${user.role}</span></span>
    <form method="post" action="${SIGN_OUT_PATH}">${csrfField(req)}<button type="submit" class="secondary small">Sign out</button></form>
  </div>
</header>
<div class="shell">
  <nav id="nav" aria-label="Dashboard"><ul>${links}</ul></nav>
  <main id="main" tabindex="-1">
    <h1>${parts.title}</h1>
    ${flash ? html`<div class="flash ${flash.kind}" role="${flash.kind === 'bad' ? 'alert' : 'status'}">${flash.message}</div>` : ''}
    ${parts.body}
  </main>
</div>`;
  return documentOf(parts.title, 'dash', content, parts);
}

/** A page outside the frame (sign-in, errors before sign-in): a centred card. */
export function standalonePage(title: string, body: Html): string {
  const content = html`<main id="main" class="standalone">
  <div class="brand-block"><span class="logo" aria-hidden="true">p</span>polypay</div>
  <div class="card">
    <h1>${title}</h1>
    ${body}
  </div>
</main>`;
  return documentOf(title, 'plain', content);
}

/** The hidden field every dashboard form carries: the plugin refuses a POST without it (403). */
export const csrfField = (req: FastifyRequest): Html => html`<input type="hidden" name="_csrf" value="${req.dashboard.csrfToken}">`;

/** After an action: 303 to `url`, where the page shows `message` once. */
export function redirectWithFlash(reply: FastifyReply, url: string, kind: Flash['kind'], message: string): FastifyReply {
  void reply.setCookie(FLASH_COOKIE, JSON.stringify({ kind, message }), { path: DASHBOARD_PATH, httpOnly: true, sameSite: 'lax', maxAge: 60 });
  return reply.redirect(url, 303);
}

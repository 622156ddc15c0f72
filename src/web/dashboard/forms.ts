/** What the dashboard's action forms share: the one-time key, confirm steps, and reading posted fields. */
import { randomUUID } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { isDomainError } from '../../core/errors.ts';
import { html, type Html } from './html.ts';
import { csrfField, redirectWithFlash } from './layout.ts';

/** The hidden one-time key of an action form, made when the page is rendered: a second submit of the form does the action once. */
export const onceField = (): Html => html`<input type="hidden" name="_key" value="${randomUUID()}">`;

/** A posted form's fields (formbody parses them into an object of strings). */
export function fields(req: FastifyRequest): Record<string, string | undefined> {
  const body = req.body;
  if (!body || typeof body !== 'object') return {};
  return Object.fromEntries(Object.entries(body as Record<string, unknown>).map(([k, v]) => [k, typeof v === 'string' ? v : undefined]));
}

/** The posted one-time key when it is one a dashboard page could have made (a UUID, or base64url); anything else counts as none. */
export function formKey(req: FastifyRequest): string | undefined {
  const key = fields(req)._key;
  return key && /^[A-Za-z0-9_-]{16,64}$/.test(key) ? key : undefined;
}

/** The dashboard page a form was posted from (its `_return` field, else the Referer of this origin), or `fallback`. */
export function backTo(req: FastifyRequest, fallback: string): string {
  const isDashboardPath = (p: string) => /^\/dashboard(\/[\w./%-]*)?(\?[\w=&%.:-]*)?(#[\w-]+)?$/.test(p);
  const named = fields(req)._return;
  if (named && isDashboardPath(named)) return named;
  try {
    const referer = new URL(String(req.headers.referer ?? ''));
    const path = referer.pathname + referer.search;
    if (referer.host === req.headers.host && isDashboardPath(path)) return path;
  } catch {
    // no usable Referer
  }
  return fallback;
}

/** A form with one button that posts to `action` with the CSRF token and a one-time key (and any hidden values). */
export function actionForm(req: FastifyRequest, action: string, label: string, opts: { kind?: 'secondary' | 'danger'; small?: boolean; hidden?: Record<string, string> } = {}): Html {
  const classes = [opts.kind, opts.small ? 'small' : ''].filter(Boolean).join(' ');
  return html`<form method="post" action="${action}">${csrfField(req)}${onceField()}${Object.entries(opts.hidden ?? {}).map(([k, v]) => html`<input type="hidden" name="${k}" value="${v}">`)}<button type="submit"${classes ? html` class="${classes}"` : ''}>${label}</button></form>`;
}

/** The confirm step of a destructive action, rendered in place of its button: what will happen, the button that does it, and a way back. */
export function confirmStep(req: FastifyRequest, action: string, question: string, consequence: string, button: string, back: string): Html {
  return html`<div class="confirm" role="group" aria-label="${question}">
  <p><strong>${question}</strong> ${consequence}</p>
  <div class="actions">${actionForm(req, action, button, { kind: 'danger' })}<a class="button secondary" href="${back}">Cancel</a></div>
</div>`;
}

/** A value shown once (a new secret), with its copy button. */
export const shownOnce = (label: string, value: string): Html =>
  html`<div class="secret"><span>${label}</span><code>${value}</code><button type="button" class="secondary small" data-copy="${value}">Copy</button></div>`;

/**
 * Runs an action whose outcome is a redirect; a core rule it breaks (the
 * card is already frozen, the payment was paid meanwhile) comes back to
 * `back` as a 'bad' flash with the rule's message. Not found stays a 404.
 */
export async function refusalsAsFlash(reply: FastifyReply, back: string, action: () => Promise<FastifyReply>): Promise<FastifyReply> {
  try {
    return await action();
  } catch (e) {
    if (isDomainError(e) && e.kind !== 'not_found') return redirectWithFlash(reply, back, 'bad', e.message);
    throw e;
  }
}

/**
 * What the dashboard answers when it cannot do what was asked: a page, never
 * JSON. A refused action (a viewer, a form without its CSRF token) is 403, an
 * object of another merchant or none is 404; the rest (no route, a body too
 * large, the database away) comes through the platform's fault formats.
 */
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { isDomainError } from '../../core/errors.ts';
import { FAULT_STATUS, type FaultKind, type FaultRenderer } from '../../http/faults.ts';
import { DashboardForbidden, DashboardNotFound } from './guards.ts';
import { html } from './html.ts';
import { DASHBOARD_PATH, dashboardPage, standalonePage } from './layout.ts';

const WORDS: Record<FaultKind, { title: string; text: string }> = {
  not_found: { title: 'Page not found', text: 'There is no such page in the dashboard.' },
  bad_request: { title: 'This request cannot be read', text: 'Nothing was done. Go back and try again.' },
  body_too_large: { title: 'Too much was sent', text: 'Nothing was done. Go back and try again.' },
  unsupported_media: { title: 'This form cannot be read', text: 'Nothing was done. Go back and try again.' },
  unavailable: { title: 'Temporarily unavailable', text: 'The database cannot be reached right now. Wait a moment, then reload this page.' },
  overloaded: { title: 'Busy right now', text: 'Wait a few seconds, then reload this page.' },
  rate_limited: { title: 'Too many requests', text: 'Wait a moment, then reload this page.' },
  internal: { title: 'Something went wrong', text: 'This page could not be shown. Wait a moment, then reload it.' },
};

const faultBody = (text: string) => html`<p id="fault">${text}</p><p><a href="${DASHBOARD_PATH}">Back to the overview</a></p>`;

export const dashboardFault: FaultRenderer = (fault) => {
  const w = WORDS[fault.kind];
  return { status: FAULT_STATUS[fault.kind], body: standalonePage(w.title, faultBody(w.text)) };
};

/** The dashboard's own refusals as pages, in the frame when someone is signed in; anything else goes on to the fault formats. */
export function dashboardErrors(error: FastifyError, req: FastifyRequest, reply: FastifyReply) {
  const notFound = error instanceof DashboardNotFound || (isDomainError(error) && error.kind === 'not_found');
  if (!(error instanceof DashboardForbidden) && !notFound) throw error;
  const status = notFound ? 404 : 403;
  const title = notFound ? 'Not found' : 'Not allowed';
  const text = notFound ? 'There is nothing here, or it belongs to another merchant.' : error.message;
  const body = faultBody(text);
  const page = req.dashboard ? dashboardPage(req, { title, section: 'overview', body }) : standalonePage(title, body);
  return reply.code(status).type('text/html; charset=utf-8').header('cache-control', 'no-store').send(page);
}

/**
 * The delivery log on the developers page: every webhook and notification
 * of the user's merchants, newest first, filtered by status and event type,
 * each with its tries (status code or error, when, how long) and, for
 * admins, a Resend button. Older entries a page at a time (keyset).
 */
import type { FastifyRequest } from 'fastify';
import { DELIVERY_STATUSES, type DeliveryEntry, type DeliveryLogQuery } from '../../delivery/delivery-log.ts';
import { TEST_EVENT_PREFIX } from '../../delivery/redelivery.ts';
import { ACQUIRING_EVENT_TYPES } from '../../dialects/uqpay/webhooks.ts';
import { decodeCursor, type KeysetPage } from '../../store/keyset.ts';
import { dialectLabel, formatTime } from './format.ts';
import { actionForm } from './forms.ts';
import { isAdmin } from './guards.ts';
import { html, type Html } from './html.ts';
import { DASHBOARD_PATH } from './layout.ts';
import { pager } from './pager.ts';

const PAGE_SIZE = 20;
const PAGE = `${DASHBOARD_PATH}/developers`;

const STATUS_BADGE: Record<string, string> = { succeeded: 'ok', failed: 'bad', pending: 'warn', skipped: 'info' };

/** The log query a page's query string asks for (unknown values are ignored). */
export function logQuery(merchantIds: string[], q: Record<string, string | undefined>): DeliveryLogQuery {
  const status = (DELIVERY_STATUSES as readonly string[]).includes(q.status ?? '') ? q.status : undefined;
  const eventType = q.event_type && /^[a-z_.]{1,64}$/.test(q.event_type) ? q.event_type : undefined;
  return { merchantIds, status, eventType, after: decodeCursor(q.after), limit: PAGE_SIZE };
}

/** What the log shows of an answer: its first line, at most 120 characters. */
const shortened = (body: string): string => {
  const line = body.trim().split('\n')[0]!;
  return line.length > 120 ? `${line.slice(0, 119)}…` : line;
};

function tries(d: DeliveryEntry): Html {
  if (!d.attemptLog.length) return html`<span class="muted">${d.status === 'pending' ? `Due ${formatTime(d.nextAttemptAt)}` : 'Not sent'}</span>`;
  return html`<ol class="tries">${d.attemptLog.map(
    (a) => html`<li><span class="badge ${a.status_code !== null && a.status_code >= 200 && a.status_code < 300 ? 'ok' : 'bad'}">${a.status_code ?? 'no answer'}</span> ${a.error ?? ''} <span class="muted small">${formatTime(a.attempted_at)} · ${a.duration_ms} ms</span>${a.response_body ? html`<div class="answer"><code>${shortened(a.response_body)}</code></div>` : ''}</li>`,
  )}</ol>`;
}

function row(req: FastifyRequest, d: DeliveryEntry): Html {
  const test = d.eventId.startsWith(TEST_EVENT_PREFIX);
  return html`<tr>
  <td data-label="Created">${formatTime(d.createdAt)}</td>
  <td data-label="Event"><div><code>${d.eventType}</code>${test ? html` <span class="badge info">test</span>` : ''}<div class="small muted">${d.sourceId} · ${dialectLabel(d.dialect)}</div><div class="small muted">event ${d.eventId}</div></div></td>
  <td data-label="URL" class="url">${d.url}</td>
  <td data-label="Status"><span class="badge ${STATUS_BADGE[d.status] ?? 'info'}">${d.status}</span></td>
  <td data-label="Tries">${tries(d)}</td>
  <td data-label="">${isAdmin(req) ? actionForm(req, `${PAGE}/deliveries/${encodeURIComponent(d.id)}/resend`, 'Resend', { kind: 'secondary', small: true }) : ''}</td>
</tr>`;
}

export function deliveryLogSection(req: FastifyRequest, page: KeysetPage<DeliveryEntry>, q: Record<string, string | undefined>): Html {
  const filtered = Boolean(q.status || q.event_type);
  const eventTypes = [...Object.keys(ACQUIRING_EVENT_TYPES), 'card.status.update.succeeded', 'issuing.transaction.authorization'];
  return html`<section class="card" aria-labelledby="deliveries"><h2 id="deliveries">Delivery log</h2>
  <form method="get" action="${PAGE}#deliveries" class="filters">
    <div><label for="log-status">Status</label><select id="log-status" name="status"><option value="">Any</option>${DELIVERY_STATUSES.map((s) => html`<option value="${s}"${q.status === s ? html` selected` : ''}>${s}</option>`)}</select></div>
    <div><label for="log-event">Event type</label><input id="log-event" name="event_type" list="event-types" value="${q.event_type ?? ''}" placeholder="payment_intent.succeeded"><datalist id="event-types">${eventTypes.map((t) => html`<option value="${t}">`)}</datalist></div>
    <div><button type="submit" class="secondary">Filter</button></div>
    ${filtered ? html`<div><a href="${PAGE}#deliveries">Clear</a></div>` : ''}
  </form>
  ${
    page.rows.length
      ? html`<table class="data deliveries"><caption class="visually-hidden">Webhook deliveries, newest first</caption>
    <thead><tr><th scope="col">Created</th><th scope="col">Event</th><th scope="col">URL</th><th scope="col">Status</th><th scope="col">Tries</th><th scope="col"><span class="visually-hidden">Actions</span></th></tr></thead>
    <tbody>${page.rows.map((d) => row(req, d))}</tbody></table>`
      : html`<p class="empty">${filtered ? 'No delivery matches these filters.' : 'No webhooks sent yet. Set a webhook URL and send a test event to see one here.'}</p>`
  }
  ${pager(PAGE, { status: q.status, event_type: q.event_type }, q.after, page.next, '#deliveries')}
</section>`;
}

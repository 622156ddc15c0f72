/**
 * /dashboard/payments/:id: one payment, its ids in every dialect, what can
 * still be done to it (admins), and a timeline of everything recorded:
 * each event (creation, attempts with their decline or advice codes, 3DS,
 * captures, cancels, refunds, expiry) with every webhook or notification
 * sent for it and each try's answer, and the ledger's journals.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { formatDecimal } from '../../core/money.ts';
import type { DeliveryRecord, EventRecord, LedgerRecord, PaymentRecord } from '../../core/payments/console.ts';
import { CANCELLATION_REASONS, type PaymentAttempt, type Refund } from '../../core/payments/types.ts';
import type { DashboardDeps } from './deps.ts';
import { dialectLabel, formatMoney, formatTime } from './format.ts';
import { DashboardNotFound, isAdmin } from './guards.ts';
import { html, type Html } from './html.ts';
import { csrfField, dashboardPage, DASHBOARD_PATH } from './layout.ts';
import { onceField } from './forms.ts';
import { dialectIds } from './payment-ids.ts';
import { methodText, statusBadge } from './payment-view.ts';
import { PAYMENTS_PATH } from './payments-list.ts';

/** The redelivery route (the developers pages serve it). */
const resendPath = (deliveryId: string) => `${DASHBOARD_PATH}/developers/deliveries/${encodeURIComponent(deliveryId)}/resend`;
/** Bodies and errors of webhook answers are cut to this many characters on the page. */
const SHOWN_TEXT = 300;

/** The CSRF token and a one-time key: sending the form twice does its action once. */
const hiddenFields = (req: FastifyRequest): Html => html`${csrfField(req)}${onceField()}`;

const cut = (text: string): string => (text.length > SHOWN_TEXT ? `${text.slice(0, SHOWN_TEXT)}…` : text);

function summary(r: PaymentRecord): Html {
  const { intent } = r;
  const latest = r.attempts.find((a) => a.id === intent.latestAttemptId) ?? null;
  const captured = latest?.capturedAmount ?? 0;
  const refunded = latest?.refundedAmount ?? 0;
  const rows: Array<[string, Html | string]> = [
    ['Amount', formatMoney(intent.amount, intent.currency)],
    ['Status', statusBadge(intent.status)],
    ['Dialect', dialectLabel(intent.origin)],
    ['Payment id', html`<code>${intent.id}</code>`],
    ...dialectIds(intent).filter((i) => i.value !== intent.id).map((i): [string, Html] => [i.label, html`<code>${i.value}</code>`]),
    ['Merchant', html`<code>${intent.merchantId}</code>`],
    ['Created', formatTime(intent.createdAt)],
    ['Method', methodText(latest) || 'none yet'],
    ['Captured', formatMoney(captured, intent.currency)],
    ['Refunded', formatMoney(refunded, intent.currency)],
  ];
  if (intent.description) rows.push(['Description', intent.description]);
  if (intent.cancellationReason) rows.push(['Cancellation reason', intent.cancellationReason.replace(/_/g, ' ')]);
  if (intent.status === 'REQUIRES_PAYMENT_METHOD' || intent.status === 'REQUIRES_CUSTOMER_ACTION') rows.push(['Expires', formatTime(intent.expiresAt)]);
  return html`<div class="card"><dl class="kv">${rows.map(([k, v]) => html`<dt>${k}</dt><dd>${v}</dd>`)}</dl></div>`;
}

/** The forms for what can still be done; the core has the last word (its refusal comes back as a message). */
function actions(req: FastifyRequest, r: PaymentRecord): Html {
  if (!isAdmin(req)) return html``;
  const { intent } = r;
  const latest = r.attempts.find((a) => a.id === intent.latestAttemptId) ?? null;
  const base = `${PAYMENTS_PATH}/${encodeURIComponent(intent.id)}`;
  const forms: Html[] = [];
  if (intent.status === 'REQUIRES_CAPTURE' && latest) {
    forms.push(html`<form method="post" action="${base}/capture" class="stack">${hiddenFields(req)}
  <h3>Capture</h3>
  <label>Amount to capture (${intent.currency}) <input name="amount" inputmode="decimal" value="${formatDecimal(latest.amount, intent.currency)}" required></label>
  <button type="submit">Capture</button></form>`);
  }
  const walletPaid = intent.status === 'SUCCEEDED' && latest?.paymentMethod.type === 'wallet';
  if ((intent.status !== 'SUCCEEDED' && intent.status !== 'CANCELLED' && intent.status !== 'FAILED') || walletPaid) {
    forms.push(html`<form method="post" action="${base}/cancel" class="stack">${hiddenFields(req)}
  <h3>Cancel</h3>
  <label>Reason <select name="reason">${CANCELLATION_REASONS.map((c) => html`<option value="${c}">${c.replace(/_/g, ' ')}</option>`)}</select></label>
  ${walletPaid ? html`<p class="muted small">A wallet payment can be cancelled in full on the day it was paid; its money goes back to the shopper.</p>` : ''}
  <button type="submit" class="danger">Cancel payment</button></form>`);
  }
  const refundable = latest ? latest.capturedAmount - latest.refundedAmount : 0;
  if (intent.status === 'SUCCEEDED' && refundable > 0) {
    forms.push(html`<form method="post" action="${base}/refund" class="stack">${hiddenFields(req)}
  <h3>Refund</h3>
  <label>Amount (${intent.currency}, up to ${formatDecimal(refundable, intent.currency)}) <input name="amount" inputmode="decimal" value="${formatDecimal(refundable, intent.currency)}" required></label>
  <label>Reason <input name="reason" value="requested_by_customer" maxlength="200"></label>
  <button type="submit">Refund</button></form>`);
  }
  if (!forms.length) return html``;
  return html`<section class="card" aria-labelledby="actions-h"><h2 id="actions-h">Actions</h2><div class="action-forms">${forms}</div></section>`;
}

/** What an event says happened, in the words of the objects it is about. */
function describe(e: EventRecord, r: PaymentRecord): Html {
  const attempt = r.attempts.find((a) => a.id === e.sourceId) ?? r.attempts.find((a) => a.id === r.intent.latestAttemptId) ?? null;
  const refund = r.refunds.find((f) => f.id === e.sourceId);
  const money = (m: number) => formatMoney(m, r.intent.currency);
  switch (e.type) {
    case 'payment_intent.created':
      return html`Payment created for ${money(r.intent.amount)}`;
    case 'payment_attempt.created':
      return html`Attempt <code>${e.sourceId}</code> started: ${methodText(attempt) || 'payment method given'}`;
    case 'payment_intent.requires_action':
      return attempt?.threeDSChallengeId ? html`3DS challenge sent to the shopper` : html`Waiting for the shopper to pay in the wallet`;
    case 'payment_attempt.capture_requested':
      return html`Capture of ${money(attempt?.capturedAmount ?? 0)} requested`;
    case 'payment_intent.succeeded':
      return html`Payment succeeded${attempt?.authCode ? html`, authorization code <code>${attempt.authCode}</code>` : ''}${threeDS(attempt)}`;
    case 'payment_attempt.failed':
      return html`Attempt <code>${e.sourceId}</code> failed${codes(r.attempts.find((a) => a.id === e.sourceId) ?? null)}`;
    case 'payment_intent.failed':
      return attempt?.failureCode === 'payment_expired' || !attempt ? html`Payment expired unpaid` : html`Payment failed${codes(attempt)}`;
    case 'payment_attempt.cancelled':
      return html`Attempt <code>${e.sourceId}</code> cancelled`;
    case 'cancel.succeeded':
      return html`Payment cancelled${r.intent.cancellationReason ? ` (${r.intent.cancellationReason.replace(/_/g, ' ')})` : ''}`;
    case 'cancel.failed':
      return html`A cancel was refused`;
    case 'refund.created':
      return html`Refund <code>${e.sourceId}</code>${refund ? html` of ${money(refund.amount)} requested (${refund.reason})` : ' requested'}`;
    case 'refund.succeeded':
      return html`Refund <code>${e.sourceId}</code>${refund ? html` of ${money(refund.amount)}` : ''} succeeded`;
    case 'refund.failed':
      return html`Refund <code>${e.sourceId}</code> failed${refund?.failureCode ? html`: <code>${refund.failureCode}</code>` : ''}`;
    default:
      return html`<code>${e.type}</code>`;
  }
}

function codes(attempt: PaymentAttempt | null): Html {
  if (!attempt?.failureCode) return html``;
  return html`: decline code <code>${attempt.failureCode}</code>${attempt.adviceCode ? html`, advice code <code>${attempt.adviceCode}</code>` : ''}`;
}

function threeDS(attempt: PaymentAttempt | null): Html {
  const a = attempt?.authentication?.threeDS;
  return a ? html`; 3DS ${a.version} authenticated (status ${a.status}, ECI ${a.eci})` : html``;
}

/** A webhook and its tries; its Resend form asks the developers pages to come `back` to this timeline. */
function delivery(req: FastifyRequest, d: DeliveryRecord, back: string): Html {
  const tries = d.tries.length
    ? html`<table class="data tries"><thead><tr><th scope="col">Try</th><th scope="col">Sent</th><th scope="col">Answer</th><th scope="col" class="num">Took</th></tr></thead><tbody>${d.tries.map(
        (t) => html`<tr><td data-label="Try">${t.attempt}</td><td data-label="Sent">${formatTime(t.attemptedAt)}</td><td data-label="Answer">${t.statusCode !== null ? html`<span class="badge ${t.statusCode >= 200 && t.statusCode < 300 ? 'ok' : 'bad'}">HTTP ${t.statusCode}</span> ` : ''}${t.error ? cut(t.error) : ''}${t.responseBody ? html`<div class="answer"><code>${cut(t.responseBody)}</code></div>` : ''}</td><td data-label="Took" class="num">${t.durationMs} ms</td></tr>`,
      )}</tbody></table>`
    : html`<p class="muted small">Not sent yet${d.status === 'pending' ? html`: due ${formatTime(d.nextAttemptAt)}` : ''}.</p>`;
  const status = d.status === 'succeeded' ? 'ok' : d.status === 'failed' ? 'bad' : 'info';
  const resend = isAdmin(req)
    ? html`<form method="post" action="${resendPath(d.id)}">${hiddenFields(req)}<input type="hidden" name="_return" value="${back}"><button type="submit" class="secondary small">Resend</button></form>`
    : '';
  return html`<div class="delivery"><div class="delivery-head"><p class="small">${dialectLabel(d.dialect)} ${d.dialect === 'uqpay' ? 'webhook' : 'notification'} to <code>${d.url}</code> <span class="badge ${status}">${d.status}</span></p>${resend}</div>${tries}</div>`;
}

function journal(entries: LedgerRecord[]): Html {
  return html`Ledger journal: ${entries.map((l, i) => html`${i ? ', ' : ''}${l.account.replace(/_/g, ' ')} ${l.amount > 0 ? '+' : ''}${formatMoney(l.amount, l.currency)}`)}`;
}

type Entry = { at: number; order: number; body: Html };

/**
 * The order of the events one change records together (they share a
 * millisecond, and their ids are random within it): the order they happen in.
 */
const EVENT_ORDER = [
  'payment_intent.created',
  'payment_attempt.created',
  'payment_intent.requires_action',
  'payment_attempt.capture_requested',
  'payment_attempt.failed',
  'payment_intent.succeeded',
  'payment_intent.failed',
  'payment_attempt.cancelled',
  'cancel.succeeded',
  'cancel.failed',
  'refund.created',
  'refund.succeeded',
  'refund.failed',
];

function timeline(req: FastifyRequest, r: PaymentRecord): Html {
  const entries: Entry[] = r.events.map((e) => ({
    at: e.createdAt,
    // An unknown type (-1) goes last: >>> 0 makes it the largest index.
    order: EVENT_ORDER.indexOf(e.type) >>> 0,
    body: html`<p>${describe(e, r)}</p>${e.deliveries.map((d) => delivery(req, d, `${PAYMENTS_PATH}/${encodeURIComponent(r.intent.id)}#timeline-h`))}`,
  }));
  const journals = new Map<string, LedgerRecord[]>();
  for (const l of r.ledger) journals.set(l.journalId, [...(journals.get(l.journalId) ?? []), l]);
  // A journal is posted by the change whose events share its millisecond: shown after them.
  for (const list of journals.values()) entries.push({ at: list[0]!.createdAt, order: 2 ** 32, body: html`<p>${journal(list)}</p>` });
  entries.sort((a, b) => a.at - b.at || a.order - b.order);
  if (!entries.length) return html`<p class="empty">Nothing recorded yet.</p>`;
  return html`<ol class="timeline">${entries.map((e) => html`<li><time class="muted small">${formatTime(e.at)}</time>${e.body}</li>`)}</ol>`;
}

function refundsTable(refunds: Refund[]): Html {
  if (!refunds.length) return html``;
  return html`<section class="card" aria-labelledby="refunds-h"><h2 id="refunds-h">Refunds</h2><table class="data"><thead><tr><th scope="col">Refund</th><th scope="col">Created</th><th scope="col" class="num">Amount</th><th scope="col">Status</th><th scope="col">Reason</th></tr></thead><tbody>${refunds.map(
    (f) => html`<tr><td data-label="Refund"><code>${f.id}</code></td><td data-label="Created">${formatTime(f.createdAt)}</td><td data-label="Amount" class="num">${formatMoney(f.amount, f.currency)}</td><td data-label="Status"><span class="badge ${f.status === 'SUCCEEDED' ? 'ok' : f.status === 'FAILED' ? 'bad' : 'info'}">${f.status.toLowerCase()}</span></td><td data-label="Reason">${f.reason}</td></tr>`,
  )}</tbody></table></section>`;
}

export async function paymentDetailPages(app: FastifyInstance, deps: DashboardDeps): Promise<void> {
  app.get('/payments/:id', async (req: FastifyRequest<{ Params: { id: string } }>, reply) => {
    const record = await deps.paymentConsole.record(req.dashboard.merchantIds, req.params.id);
    if (!record) throw new DashboardNotFound('Not found');
    const body = html`<p><a href="${PAYMENTS_PATH}">← All payments</a></p>
<div class="detail-grid">${summary(record)}${actions(req, record)}</div>
${refundsTable(record.refunds)}
<section class="card" aria-labelledby="timeline-h"><h2 id="timeline-h">Timeline</h2>${timeline(req, record)}</section>`;
    return reply.type('text/html; charset=utf-8').send(dashboardPage(req, { title: `Payment ${formatMoney(record.intent.amount, record.intent.currency)}`, section: 'payments', body, styles: ['payments.css'] }));
  });
}

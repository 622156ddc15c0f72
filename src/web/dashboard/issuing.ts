/**
 * /dashboard/issuing/{cardholders,cards,transactions}: the user's merchants'
 * issued cards, newest first a keyset page at a time. Cards are frozen,
 * unfrozen and cancelled through the issuing service (the same command,
 * rules and webhooks as the API); "Show card details" makes a single-use
 * token and opens the same secure display page the API's token opens, so
 * the card number never passes through the dashboard's own pages.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { CardView } from '../../core/issuing/types.ts';
import { decodeCursor } from '../../store/keyset.ts';
import { IssuingLists, type CardRow } from '../../store/issuing-lists.ts';
import { CARD_DISPLAY_PATH } from '../card-secure-display.ts';
import type { DashboardDeps } from './deps.ts';
import { formatMoney, formatTime } from './format.ts';
import { actionForm, confirmStep, refusalsAsFlash } from './forms.ts';
import { DashboardNotFound, findVisible, isAdmin, requireAdmin } from './guards.ts';
import { html, type Html } from './html.ts';
import { DASHBOARD_PATH, dashboardPage, redirectWithFlash, type Section } from './layout.ts';
import { pager } from './pager.ts';

const PAGE_SIZE = 25;
const BASE = `${DASHBOARD_PATH}/issuing`;
const BADGE: Record<string, string> = { ACTIVE: 'ok', SUCCESS: 'ok', APPROVED: 'ok', FROZEN: 'warn', PENDING: 'warn', PRE_CANCEL: 'warn', INCOMPLETE: 'warn', CANCELLED: 'bad', FAILED: 'bad', BLOCKED: 'bad', DECLINED: 'bad' };
const badge = (status: string): Html => html`<span class="badge ${BADGE[status] ?? 'info'}">${status}</span>`;

type Query = Record<string, string | undefined>;

function table(caption: string, heads: string[], rows: Html[], empty: string): Html {
  if (!rows.length) return html`<p class="empty">${empty}</p>`;
  return html`<table class="data"><caption class="visually-hidden">${caption}</caption>
  <thead><tr>${heads.map((h) => (h ? html`<th scope="col"${h.startsWith('#') ? html` class="num"` : ''}>${h.replace(/^#/, '')}</th>` : html`<th scope="col"><span class="visually-hidden">Actions</span></th>`))}</tr></thead>
  <tbody>${rows}</tbody></table>`;
}

/** The card's actions its status allows, for admins: freeze or unfreeze, cancel (after a confirm step), show its details. */
function cardActions(req: FastifyRequest, c: CardRow, confirm: string | undefined): Html | string {
  if (!isAdmin(req)) return '';
  const at = (action: string) => `${BASE}/cards/${encodeURIComponent(c.id)}/${action}`;
  if (confirm === c.id) return confirmStep(req, at('cancel'), `Cancel the card ending ${c.last4}?`, 'It stops working for good; its remaining funds return to the issuing balance.', 'Cancel card', `${BASE}/cards`);
  const live = c.status === 'ACTIVE' || c.status === 'FROZEN';
  return html`<div class="actions tight">${c.status === 'ACTIVE' ? actionForm(req, at('freeze'), 'Freeze', { kind: 'secondary', small: true }) : ''}${c.status === 'FROZEN' ? actionForm(req, at('unfreeze'), 'Unfreeze', { kind: 'secondary', small: true }) : ''}${live ? html`<a class="button secondary small" href="${BASE}/cards?confirm=${encodeURIComponent(c.id)}">Cancel…</a>` : ''}${c.status !== 'CANCELLED' && c.status !== 'FAILED' ? actionForm(req, at('display'), 'Show card details', { kind: 'secondary', small: true }) : ''}</div>`;
}

export async function issuingPages(app: FastifyInstance, deps: DashboardDeps): Promise<void> {
  const lists = new IssuingLists(deps.store);
  const send = (req: FastifyRequest, reply: FastifyReply, title: string, section: Section, body: Html) =>
    reply.type('text/html; charset=utf-8').send(dashboardPage(req, { title, section, body, styles: ['devtools.css'] }));
  const pageQuery = (req: FastifyRequest, q: Query, parentId?: string) => ({ merchantIds: req.dashboard.merchantIds, after: decodeCursor(q.after), limit: PAGE_SIZE, parentId });

  app.get('/issuing/cardholders', async (req, reply) => {
    const q = req.query as Query;
    const page = await lists.cardholders(pageQuery(req, q));
    const rows = page.rows.map(
      (h) => html`<tr>
      <td data-label="Name"><div>${h.name}<div class="small muted">${h.id}</div></div></td>
      <td data-label="Email">${h.email}</td>
      <td data-label="Phone">${h.phoneNumber}</td>
      <td data-label="Country">${h.countryCode}</td>
      <td data-label="Status">${badge(h.status)}</td>
      <td data-label="Cards" class="num"><a href="${BASE}/cards?cardholder=${encodeURIComponent(h.id)}">${h.cards}</a></td>
      <td data-label="Created">${formatTime(h.createdAt)}</td>
    </tr>`,
    );
    const body = html`<section class="card">${table('Cardholders, newest first', ['Name', 'Email', 'Phone', 'Country', 'Status', '#Cards', 'Created'], rows, 'No cardholders yet. Create one with POST /api/v1/issuing/cardholders.')}
    ${pager(`${BASE}/cardholders`, {}, q.after, page.next)}</section>`;
    return send(req, reply, 'Cardholders', 'cardholders', body);
  });

  app.get('/issuing/cards', async (req, reply) => {
    const q = req.query as Query;
    const page = await lists.cards(pageQuery(req, q, q.cardholder || undefined));
    const rows = page.rows.map(
      (c) => html`<tr>
      <td data-label="Card"><div><span class="nowrap">•••• ${c.last4}</span> <span class="muted small">${c.expiry}</span><div class="small muted">${c.id}</div></div></td>
      <td data-label="Cardholder">${c.cardholderName}</td>
      <td data-label="Status">${badge(c.status)}</td>
      <td data-label="Available" class="num">${formatMoney(c.available, c.currency)}</td>
      <td data-label="Limit" class="num">${formatMoney(c.limit, c.currency)}</td>
      <td data-label="Transactions"><a href="${BASE}/transactions?card=${encodeURIComponent(c.id)}">View</a></td>
      <td data-label="">${cardActions(req, c, q.confirm)}</td>
    </tr>`,
    );
    const body = html`<section class="card">${q.cardholder ? html`<p class="small">One cardholder's cards. <a href="${BASE}/cards">All cards</a></p>` : ''}${table('Cards, newest first', ['Card', 'Cardholder', 'Status', '#Available', '#Limit', 'Transactions', ''], rows, 'No cards yet. Issue one with POST /api/v1/issuing/cards.')}
    ${pager(`${BASE}/cards`, { cardholder: q.cardholder }, q.after, page.next)}</section>`;
    return send(req, reply, 'Cards', 'cards', body);
  });

  app.get('/issuing/transactions', async (req, reply) => {
    const q = req.query as Query;
    const page = await lists.transactions(pageQuery(req, q, q.card || undefined));
    const rows = page.rows.map(
      (t) => html`<tr>
      <td data-label="Created">${formatTime(t.createdAt)}</td>
      <td data-label="Card">•••• ${t.last4}</td>
      <td data-label="Merchant">${t.merchantName}</td>
      <td data-label="Type">${t.type}</td>
      <td data-label="Status"><div>${badge(t.status)}${t.failureReason ? html`<div class="small muted">${t.failureReason}</div>` : ''}</div></td>
      <td data-label="Amount" class="num">${formatMoney(t.amount, t.currency)}</td>
    </tr>`,
    );
    const body = html`<section class="card">${q.card ? html`<p class="small">One card's transactions. <a href="${BASE}/transactions">All transactions</a></p>` : ''}${table('Card transactions, newest first', ['Created', 'Card', 'Merchant', 'Type', 'Status', '#Amount'], rows, 'No card transactions yet. They appear when an issued card is used.')}
    ${pager(`${BASE}/transactions`, { card: q.card }, q.after, page.next)}</section>`;
    return send(req, reply, 'Card transactions', 'card-transactions', body);
  });

  /** The card `id` of one of the user's merchants, or a 404. */
  const visibleCard = (req: FastifyRequest, id: string): Promise<CardView> => findVisible(req, (merchantId) => deps.issuing.getCard(merchantId, id));

  const TARGETS = { freeze: 'FROZEN', unfreeze: 'ACTIVE', cancel: 'CANCELLED' } as const;
  const DONE = { freeze: 'frozen: authorizations are declined until it is unfrozen', unfreeze: 'active again', cancel: 'being cancelled' } as const;

  app.post<{ Params: { id: string; action: string } }>('/issuing/cards/:id/:action', async (req, reply) => {
    requireAdmin(req);
    const { id, action } = req.params;
    const card = await visibleCard(req, id);
    if (action === 'display') {
      // A single-use token for the same hosted page the API's token opens: the card number is shown there only.
      const { token } = await deps.issuing.displayToken(card.merchantId, card.id);
      return reply.redirect(`${CARD_DISPLAY_PATH}/${token}`, 303);
    }
    if (!Object.hasOwn(TARGETS, action)) throw new DashboardNotFound('Not found');
    const a = action as keyof typeof TARGETS;
    // A second submit of the same form finds the card already changed: refused by the same rule as the API, nothing done twice.
    return refusalsAsFlash(reply, `${BASE}/cards`, async () => {
      await deps.issuing.changeCardStatus(card.merchantId, card.id, TARGETS[a]);
      return redirectWithFlash(reply, `${BASE}/cards`, 'ok', `The card ending ${card.last4} is ${DONE[a]}.`);
    });
  });
}

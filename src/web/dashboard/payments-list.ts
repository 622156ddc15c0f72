/**
 * /dashboard/payments: every payment of the user's merchants across the
 * dialects, newest first, with filters, search by any id or a card's last
 * 4, keyset pages ("Next page" carries where the page ended), and the same
 * list as CSV.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { IntentView } from '../../core/payments/service.ts';
import { INTENT_STATUSES } from '../../core/payments/types.ts';
import { WALLET_KINDS } from '../../core/ports.ts';
import type { DashboardDeps } from './deps.ts';
import { dialectLabel, formatMoney, formatTime, methodLabel } from './format.ts';
import { html, type Html } from './html.ts';
import { dashboardPage, DASHBOARD_PATH } from './layout.ts';
import { dialectIds } from './payment-ids.ts';
import { CARD_NETWORKS, DIALECTS, filterQuery, parseFilters, type FilterFields } from './payment-filters.ts';
import { methodText, NETWORKS, statusBadge } from './payment-view.ts';
import { paymentsCsv } from './payments-csv.ts';

export const PAYMENTS_PATH = `${DASHBOARD_PATH}/payments`;
const PAGE_SIZE = 50;

const option = (value: string, label: string, chosen: string): Html =>
  html`<option value="${value}"${value === chosen ? html` selected` : ''}>${label}</option>`;

function filterForm(f: FilterFields): Html {
  const statuses = INTENT_STATUSES.map((s) => option(s, s.charAt(0) + s.slice(1).toLowerCase().replace(/_/g, ' '), f.status));
  const methods = [
    option('card', 'Any card', f.method),
    ...CARD_NETWORKS.map((n) => option(`card:${n}`, `Card: ${NETWORKS[n] ?? n}`, f.method)),
    option('wallet', 'Any wallet', f.method),
    ...WALLET_KINDS.map((k) => option(`wallet:${k}`, `Wallet: ${methodLabel(k)}`, f.method)),
  ];
  return html`<form class="filters card" method="get" action="${PAYMENTS_PATH}" role="search">
  <label class="search">Search <input name="q" value="${f.q}" placeholder="Any id, order id or card last 4" size="28"></label>
  <label>Status <select name="status"><option value="">Any</option>${statuses}</select></label>
  <label>Dialect <select name="dialect"><option value="">Any</option>${DIALECTS.map((d) => option(d, dialectLabel(d), f.dialect))}</select></label>
  <label>Method <select name="method"><option value="">Any</option>${methods}</select></label>
  <label>Currency <input name="currency" value="${f.currency}" placeholder="USD" size="4" maxlength="3" autocapitalize="characters"></label>
  <label>From <input type="date" name="from" value="${f.from}"></label>
  <label>To <input type="date" name="to" value="${f.to}"></label>
  <label>Minimum amount <input name="min" value="${f.min}" inputmode="decimal" size="8"></label>
  <label>Maximum amount <input name="max" value="${f.max}" inputmode="decimal" size="8"></label>
  <div class="actions"><button type="submit">Apply</button><a class="button secondary" href="${PAYMENTS_PATH}">Clear</a></div>
</form>`;
}

function row(view: IntentView): Html {
  const { intent, attempt } = view;
  const own = dialectIds(intent).filter((i) => i.value !== intent.id);
  const refunded = attempt?.refundedAmount ?? 0;
  return html`<tr>
  <td data-label="Created">${formatTime(intent.createdAt)}</td>
  <td data-label="Payment"><div class="ids"><a href="${PAYMENTS_PATH}/${intent.id}"><code>${intent.id}</code></a>${own.map((i) => html`<span class="muted small">${i.label} ${i.value}</span>`)}</div></td>
  <td data-label="Dialect">${dialectLabel(intent.origin)}</td>
  <td data-label="Method">${methodText(attempt) || html`<span class="muted">none yet</span>`}</td>
  <td data-label="Amount" class="num">${formatMoney(intent.amount, intent.currency)}</td>
  <td data-label="Status">${statusBadge(intent.status)}</td>
  <td data-label="Refunded" class="num">${refunded ? formatMoney(refunded, intent.currency) : html`<span class="muted">-</span>`}</td>
</tr>`;
}

function table(items: IntentView[]): Html {
  return html`<table class="data">
  <thead><tr><th scope="col">Created</th><th scope="col">Payment</th><th scope="col">Dialect</th><th scope="col">Method</th><th scope="col" class="num">Amount</th><th scope="col">Status</th><th scope="col" class="num">Refunded</th></tr></thead>
  <tbody>${items.map(row)}</tbody>
</table>`;
}

export async function paymentsListPages(app: FastifyInstance, deps: DashboardDeps): Promise<void> {
  app.get('/payments', async (req: FastifyRequest<{ Querystring: Record<string, unknown> }>, reply) => {
    const parsed = parseFilters(req.query ?? {}, req.dashboard.merchantIds);
    const { fields, errors } = parsed;
    let body: Html;
    if (errors.length) {
      void reply.code(400);
      body = html`<div class="flash bad" role="alert"><p>These filters cannot be used:</p><ul>${errors.map((e) => html`<li>${e}</li>`)}</ul></div>`;
    } else {
      const page = await deps.paymentConsole.list(parsed.filter, parsed.after, PAGE_SIZE);
      const filtered = filterQuery(fields) !== '';
      const empty = filtered ? 'No payments match these filters.' : 'No payments yet. Payments made through any of the APIs appear here.';
      body = html`<div class="card">
  ${page.items.length ? table(page.items) : html`<p class="empty">${empty}</p>`}
  <nav class="actions pager" aria-label="Pages">
    ${parsed.after ? html`<a class="button secondary" href="${PAYMENTS_PATH}${filterQuery(fields)}">Newest</a>` : ''}
    ${page.next ? html`<a class="button secondary" rel="next" href="${PAYMENTS_PATH}${filterQuery(fields, page.next)}">Next page</a>` : ''}
    <a class="button secondary" href="${PAYMENTS_PATH}.csv${filterQuery(fields)}" download>Export CSV</a>
  </nav>
</div>`;
    }
    return reply.type('text/html; charset=utf-8').send(dashboardPage(req, { title: 'Payments', section: 'payments', body: html`${filterForm(fields)}${body}`, styles: ['payments.css'] }));
  });

  app.get('/payments.csv', async (req: FastifyRequest<{ Querystring: Record<string, unknown> }>, reply) => {
    const parsed = parseFilters({ ...(req.query ?? {}), after: '' }, req.dashboard.merchantIds);
    if (parsed.errors.length) return reply.code(400).type('text/plain; charset=utf-8').send(`${parsed.errors.join('\n')}\n`);
    return reply
      .type('text/csv; charset=utf-8')
      .header('content-disposition', `attachment; filename="payments-${new Date(deps.clock.now()).toISOString().slice(0, 10)}.csv"`)
      .send(paymentsCsv(deps.paymentConsole, parsed.filter));
  });
}

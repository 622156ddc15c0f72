/**
 * /dashboard: the merchant's balances per currency, and today's and the last
 * 30 days' payments per dialect and method (volume and success rate), as
 * charts (drawn by assets/overview.js from the JSON block) and as tables.
 * Covers the user's merchant and its sub-merchants.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { BUSINESS_UTC_OFFSET_MS } from '../../core/clock.ts';
import { exponentOf } from '../../core/money.ts';
import type { Balance } from '../../core/payments/repository.ts';
import type { DailyPaymentTotals } from '../../core/payments/stats.ts';
import type { DashboardDeps } from './deps.ts';
import { dialectLabel, formatMoney, formatRate, methodLabel } from './format.ts';
import { html, jsonData, type Html } from './html.ts';
import { dashboardPage } from './layout.ts';

const DAY_MS = 86_400_000;
const PERIOD_DAYS = 30;
/** Currencies charted at most (the largest by volume); the tables list them all. */
const CHARTED_CURRENCIES = 4;

/** The merchants' balances, added up per currency (each from the ledger query the UQPAY balance API answers with). */
async function balancesOf(deps: DashboardDeps, merchantIds: readonly string[]): Promise<Balance[]> {
  const sums = new Map<string, Balance>();
  for (const list of await Promise.all(merchantIds.map((id) => deps.payments.balances(id)))) {
    for (const b of list) {
      const sum = sums.get(b.currency) ?? { currency: b.currency, available: 0, pending: 0 };
      sum.available += b.available;
      sum.pending += b.pending;
      sums.set(b.currency, sum);
    }
  }
  return [...sums.values()].sort((a, b) => a.currency.localeCompare(b.currency));
}

interface Row {
  dialect: string;
  method: string;
  currency: string;
  attempted: number;
  succeeded: number;
  volume: number;
}

/** The totals added up per dialect, method and currency, largest volume first. */
function byDialectAndMethod(totals: readonly DailyPaymentTotals[]): Row[] {
  const rows = new Map<string, Row>();
  for (const t of totals) {
    const key = `${t.dialect}|${t.method}|${t.currency}`;
    const row = rows.get(key) ?? { dialect: t.dialect, method: t.method, currency: t.currency, attempted: 0, succeeded: 0, volume: 0 };
    row.attempted += t.attempted;
    row.succeeded += t.succeeded;
    row.volume += t.volume;
    rows.set(key, row);
  }
  return [...rows.values()].sort((a, b) => a.dialect.localeCompare(b.dialect) || a.method.localeCompare(b.method) || a.currency.localeCompare(b.currency));
}

function totalsTable(caption: string, rows: Row[], empty: string): Html {
  if (rows.length === 0) return html`<p class="empty">${empty}</p>`;
  return html`<table class="data">
  <caption class="visually-hidden">${caption}</caption>
  <thead><tr><th scope="col">Dialect</th><th scope="col">Method</th><th scope="col" class="num">Payments</th><th scope="col" class="num">Succeeded</th><th scope="col" class="num">Success rate</th><th scope="col" class="num">Volume</th></tr></thead>
  <tbody>${rows.map(
    (r) => html`<tr>
    <td data-label="Dialect">${dialectLabel(r.dialect)}</td>
    <td data-label="Method">${methodLabel(r.method)}</td>
    <td data-label="Payments" class="num">${r.attempted}</td>
    <td data-label="Succeeded" class="num">${r.succeeded}</td>
    <td data-label="Success rate" class="num">${formatRate(r.succeeded, r.attempted)}</td>
    <td data-label="Volume" class="num">${formatMoney(r.volume, r.currency)}</td>
  </tr>`,
  )}</tbody>
</table>`;
}

/** What assets/overview.js draws: per charted currency, each dialect's volume per day; and each dialect's success rate per day. */
function chartData(totals: readonly DailyPaymentTotals[], firstDay: number) {
  const days = Array.from({ length: PERIOD_DAYS }, (_, i) => firstDay + i);
  const dialects = [...new Set(totals.map((t) => t.dialect))].sort();
  const volumeByCurrency = new Map<string, number>();
  for (const t of totals) volumeByCurrency.set(t.currency, (volumeByCurrency.get(t.currency) ?? 0) + t.volume);
  const currencies = [...volumeByCurrency.entries()]
    .filter(([, v]) => v > 0)
    .sort((a, b) => b[1] - a[1])
    .slice(0, CHARTED_CURRENCIES)
    .map(([c]) => c);
  const sum = (pick: (t: DailyPaymentTotals) => number, match: (t: DailyPaymentTotals) => boolean) =>
    days.map((d) => totals.filter((t) => t.day === d && match(t)).reduce((s, t) => s + pick(t), 0));
  return {
    // Each business day's midnight (UTC+08:00), in seconds, as uPlot wants its x values.
    days: days.map((d) => (d * DAY_MS - BUSINESS_UTC_OFFSET_MS) / 1000),
    volume: currencies.map((currency) => ({
      currency,
      exponent: exponentOf(currency),
      series: dialects.map((dialect) => ({ label: dialectLabel(dialect), values: sum((t) => t.volume, (t) => t.dialect === dialect && t.currency === currency) })),
    })),
    successRate: dialects.map((dialect) => {
      const attempted = sum((t) => t.attempted, (t) => t.dialect === dialect);
      const succeeded = sum((t) => t.succeeded, (t) => t.dialect === dialect);
      return { label: dialectLabel(dialect), values: attempted.map((a, i) => (a === 0 ? null : Math.round((succeeded[i]! * 1000) / a) / 10)) };
    }),
  };
}

function balancesCard(balances: Balance[], merchantCount: number): Html {
  const scope = merchantCount > 1 ? html`<p class="muted small">Across your merchant and its ${merchantCount - 1} sub-merchant${merchantCount > 2 ? 's' : ''}.</p>` : '';
  const body =
    balances.length === 0
      ? html`<p class="empty">No money has moved yet. Balances appear here after the first captured payment.</p>`
      : html`<ul class="balances">${balances.map(
          (b) => html`<li><span class="currency">${b.currency}</span><span class="amount">${formatMoney(b.available + b.pending, b.currency)}</span>
          <span class="muted small">Available ${formatMoney(b.available, b.currency)} · Pending settlement ${formatMoney(b.pending, b.currency)}</span></li>`,
        )}</ul>`;
  return html`<section class="card" aria-labelledby="balances-h"><h2 id="balances-h">Balances</h2>${scope}${body}</section>`;
}

export async function overviewPage(app: FastifyInstance, deps: DashboardDeps): Promise<void> {
  app.get('/', async (req: FastifyRequest, reply) => {
    const { merchantIds } = req.dashboard;
    const today = Math.floor((deps.clock.now() + BUSINESS_UTC_OFFSET_MS) / DAY_MS);
    const firstDay = today - PERIOD_DAYS + 1;
    const [balances, totals] = await Promise.all([balancesOf(deps, merchantIds), deps.stats.dailyTotals(merchantIds, firstDay)]);
    const todays = byDialectAndMethod(totals.filter((t) => t.day === today));
    const period = byDialectAndMethod(totals);
    const charts = chartData(totals, firstDay);
    const noPayments = 'No payments yet. Payments made through any of the APIs show up here.';
    const body = html`${balancesCard(balances, merchantIds.length)}
<section class="card" aria-labelledby="today-h">
  <h2 id="today-h">Today <span class="muted small">(business day, UTC+08:00)</span></h2>
  ${totalsTable("Today's payments by dialect and method", todays, 'No payments today yet.')}
</section>
<section class="card" aria-labelledby="period-h">
  <h2 id="period-h">Last ${PERIOD_DAYS} days</h2>
  ${
    period.length === 0
      ? html`<p class="empty">${noPayments}</p>`
      : html`<div class="charts">
    ${charts.volume.map((v, i) => html`<figure class="chart"><figcaption>Volume per day, ${v.currency}</figcaption><div class="chart-area" data-chart="volume" data-index="${i}"></div></figure>`)}
    <figure class="chart"><figcaption>Success rate per day</figcaption><div class="chart-area" data-chart="success-rate"></div></figure>
  </div>
  ${jsonData('overview-data', charts)}
  ${totalsTable(`Payments of the last ${PERIOD_DAYS} days by dialect and method`, period, noPayments)}`
  }
</section>`;
    return reply
      .type('text/html; charset=utf-8')
      .send(dashboardPage(req, { title: 'Overview', section: 'overview', body, scripts: ['uPlot.iife.min.js', 'overview.js'], styles: ['uPlot.min.css'] }));
  });
}

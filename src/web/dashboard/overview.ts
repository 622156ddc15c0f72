/**
 * /dashboard: the merchant's balances per currency, and today's and the last
 * 30 days' payments by dialect and by method (volume and success rate), as
 * charts (drawn by assets/overview.js from the JSON block) and as tables.
 * Covers the user's merchant and its sub-merchants.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { BUSINESS_UTC_OFFSET_MS } from '../../core/clock.ts';
import { exponentOf } from '../../core/money.ts';
import type { Balance } from '../../core/payments/repository.ts';
import type { DailyTotals } from '../../core/payments/stats.ts';
import type { DashboardDeps } from './deps.ts';
import { dialectLabel, formatMoney, formatRate, methodLabel } from './format.ts';
import { html, jsonData, type Html } from './html.ts';
import { dashboardPage } from './layout.ts';

const DAY_MS = 86_400_000;
const PERIOD_DAYS = 30;
/** Currencies charted at most (those with the most successful payments); the tables list them all. */
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
  key: string;
  currency: string;
  attempted: number;
  succeeded: number;
  volume: number;
}

/** The days' totals added up per dialect (or method) and currency. */
function summed(totals: readonly DailyTotals[]): Row[] {
  const rows = new Map<string, Row>();
  for (const t of totals) {
    const id = `${t.key}|${t.currency}`;
    const row = rows.get(id) ?? { key: t.key, currency: t.currency, attempted: 0, succeeded: 0, volume: 0 };
    row.attempted += t.attempted;
    row.succeeded += t.succeeded;
    row.volume += t.volume;
    rows.set(id, row);
  }
  return [...rows.values()].sort((a, b) => a.key.localeCompare(b.key) || a.currency.localeCompare(b.currency));
}

interface Breakdown {
  /** "Dialect" or "Method". */
  heading: string;
  label: (key: string) => string;
  /** What a row counts: payments or attempts. */
  counted: string;
  totals: readonly DailyTotals[];
}

function totalsTable(caption: string, b: Breakdown, rows: Row[]): Html {
  return html`<table class="data">
  <caption>${caption}</caption>
  <thead><tr><th scope="col">${b.heading}</th><th scope="col">Currency</th><th scope="col" class="num">${b.counted}</th><th scope="col" class="num">Succeeded</th><th scope="col" class="num">Success rate</th><th scope="col" class="num">Volume</th></tr></thead>
  <tbody>${rows.map(
    (r) => html`<tr>
    <td data-label="${b.heading}">${b.label(r.key)}</td>
    <td data-label="Currency">${r.currency}</td>
    <td data-label="${b.counted}" class="num">${r.attempted}</td>
    <td data-label="Succeeded" class="num">${r.succeeded}</td>
    <td data-label="Success rate" class="num">${formatRate(r.succeeded, r.attempted)}</td>
    <td data-label="Volume" class="num">${formatMoney(r.volume, r.currency)}</td>
  </tr>`,
  )}</tbody>
</table>`;
}

/** Both breakdowns of a period side by side, or what to do when it had no payments. */
function period(title: string, breakdowns: Breakdown[], pick: (t: DailyTotals) => boolean, empty: string): Html {
  const tables = breakdowns.map((b) => ({ b, rows: summed(b.totals.filter(pick)) }));
  if (tables.every((t) => t.rows.length === 0)) return html`<p class="empty">${empty}</p>`;
  return html`<div class="tables">${tables.map((t) => totalsTable(`${title} by ${t.b.heading.toLowerCase()}`, t.b, t.rows))}</div>`;
}

/** What assets/overview.js draws: per charted currency, each dialect's volume per day; each dialect's and method's success rate per day. */
function chartData(byDialect: readonly DailyTotals[], byMethod: readonly DailyTotals[], firstDay: number) {
  const days = Array.from({ length: PERIOD_DAYS }, (_, i) => firstDay + i);
  const keys = (totals: readonly DailyTotals[]) => [...new Set(totals.map((t) => t.key))].sort();
  const perDay = (totals: readonly DailyTotals[], pick: (t: DailyTotals) => number) => {
    const sums = new Map<number, number>();
    for (const t of totals) sums.set(t.day, (sums.get(t.day) ?? 0) + pick(t));
    return days.map((d) => sums.get(d) ?? 0);
  };
  const rates = (totals: readonly DailyTotals[], label: (key: string) => string) =>
    keys(totals).map((key) => {
      const mine = totals.filter((t) => t.key === key);
      const succeeded = perDay(mine, (t) => t.succeeded);
      return { label: label(key), values: perDay(mine, (t) => t.attempted).map((a, i) => (a === 0 ? null : Math.round((succeeded[i]! * 1000) / a) / 10)) };
    });
  // Amounts in different currencies do not compare: the currencies with the most successful payments are charted.
  const paymentsByCurrency = new Map<string, number>();
  for (const t of byDialect) paymentsByCurrency.set(t.currency, (paymentsByCurrency.get(t.currency) ?? 0) + t.succeeded);
  const currencies = [...paymentsByCurrency.entries()]
    .filter(([, n]) => n > 0)
    .sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))
    .slice(0, CHARTED_CURRENCIES)
    .map(([c]) => c);
  return {
    // Each business day's midnight (UTC+08:00), in seconds, as uPlot wants its x values.
    days: days.map((d) => (d * DAY_MS - BUSINESS_UTC_OFFSET_MS) / 1000),
    volume: currencies.map((currency) => ({
      currency,
      exponent: exponentOf(currency),
      // Only the dialects that took this currency.
      series: keys(byDialect.filter((t) => t.currency === currency && t.volume > 0)).map((key) => ({
        label: dialectLabel(key),
        values: perDay(byDialect.filter((t) => t.key === key && t.currency === currency), (t) => t.volume),
      })),
    })),
    dialectRates: rates(byDialect, dialectLabel),
    methodRates: rates(byMethod, methodLabel),
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
    const [balances, byDialect, byMethod] = await Promise.all([
      balancesOf(deps, merchantIds),
      deps.stats.dailyByDialect(merchantIds, firstDay),
      deps.stats.dailyByMethod(merchantIds, firstDay),
    ]);
    const breakdowns: Breakdown[] = [
      { heading: 'Dialect', label: dialectLabel, counted: 'Payments', totals: byDialect },
      { heading: 'Method', label: methodLabel, counted: 'Attempts', totals: byMethod },
    ];
    const charts = chartData(byDialect, byMethod, firstDay);
    const chart = (caption: string, attrs: Html) => html`<figure class="chart"><figcaption>${caption}</figcaption><div class="chart-area" ${attrs}></div></figure>`;
    const any = byDialect.length > 0 || byMethod.length > 0;
    const body = html`${balancesCard(balances, merchantIds.length)}
<section class="card" aria-labelledby="today-h">
  <h2 id="today-h">Today <span class="muted small">(business day, UTC+08:00)</span></h2>
  ${period('Today', breakdowns, (t) => t.day === today, 'No payments today yet.')}
</section>
<section class="card" aria-labelledby="period-h">
  <h2 id="period-h">Last ${PERIOD_DAYS} days</h2>
  ${
    any
      ? html`<div class="charts">
    ${charts.volume.map((v, i) => chart(`Volume per day, ${v.currency}`, html`data-chart="volume" data-index="${i}"`))}
    ${chart('Success rate per day, by dialect', html`data-chart="dialect-rates"`)}
    ${chart('Success rate per day, by method', html`data-chart="method-rates"`)}
  </div>
  ${jsonData('overview-data', charts)}`
      : ''
  }
  ${period(`Last ${PERIOD_DAYS} days`, breakdowns, () => true, 'No payments yet. Payments made through any of the APIs show up here.')}
</section>`;
    return reply
      .type('text/html; charset=utf-8')
      .send(dashboardPage(req, { title: 'Overview', section: 'overview', body, scripts: ['uPlot.iife.min.js', 'overview.js'], styles: ['uPlot.min.css'] }));
  });
}

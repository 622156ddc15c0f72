/**
 * /dashboard/sandbox (sandbox mode only; not served in live mode, so 404):
 * the platform clock and its advance (the same AdjustableClock.advance the
 * sandbox API calls, which runs the time-driven sweeps), the payments
 * waiting for a shopper with the buttons the wallet app and the 3DS page
 * would press (the same payments commands), and the test-card table.
 */
import type { FastifyInstance } from 'fastify';
import { TEST_CARDS } from '../../network/sim/test-cards.ts';
import { ShopperWaits, type ShopperWait } from '../../store/shopper-waits.ts';
import type { DashboardDeps } from './deps.ts';
import { formatMoney, formatTime, methodLabel } from './format.ts';
import { actionForm, fields, refusalsAsFlash } from './forms.ts';
import { DashboardNotFound, isAdmin, requireAdmin } from './guards.ts';
import { html, type Html } from './html.ts';
import { csrfField, DASHBOARD_PATH, dashboardPage, redirectWithFlash } from './layout.ts';

const PAGE = `${DASHBOARD_PATH}/sandbox`;
const UNITS: Record<string, number> = { seconds: 1, minutes: 60, hours: 3600, days: 86_400 };
/** What the sandbox API allows in one advance: a year. */
const MAX_ADVANCE_S = 31_536_000;

const WAITING_FOR: Record<ShopperWait['kind'], string> = {
  wallet: 'Shopper to pay the QR code',
  challenge: 'Shopper to finish 3DS',
  payment_code: 'Payer to confirm the payment code',
};

/** The buttons of one wait: those the wallet app or the challenge page would press. */
function waitActions(req: Parameters<typeof isAdmin>[0], w: ShopperWait): Html | string {
  if (!isAdmin(req)) return '';
  const at = (action: string) => `${PAGE}/attempts/${encodeURIComponent(w.attemptId)}/${action}`;
  if (w.kind === 'wallet') return html`<div class="actions tight">${actionForm(req, at('pay'), 'Pay', { small: true })}${actionForm(req, at('decline'), 'Decline', { kind: 'secondary', small: true })}</div>`;
  if (w.kind === 'challenge') return html`<div class="actions tight">${actionForm(req, at('approve'), 'Approve 3DS', { small: true })}${actionForm(req, at('fail'), 'Fail 3DS', { kind: 'secondary', small: true })}</div>`;
  return html`<span class="small muted">Confirms by itself: advance the clock</span>`;
}

function waitsSection(req: Parameters<typeof isAdmin>[0], waits: ShopperWait[]): Html {
  return html`<section class="card" aria-labelledby="waiting"><h2 id="waiting">Waiting for a shopper</h2>
  ${
    waits.length
      ? html`<table class="data waits"><caption class="visually-hidden">Payments waiting for a shopper, newest first</caption>
    <thead><tr><th scope="col">Payment</th><th scope="col" class="num">Amount</th><th scope="col">Method</th><th scope="col">Waiting for</th><th scope="col">Created</th><th scope="col"><span class="visually-hidden">Actions</span></th></tr></thead>
    <tbody>${waits.map(
      (w) => html`<tr>
      <td data-label="Payment"><a href="${DASHBOARD_PATH}/payments/${encodeURIComponent(w.intentId)}">${w.intentId}</a></td>
      <td data-label="Amount" class="num">${formatMoney(w.amount, w.currency)}</td>
      <td data-label="Method">${methodLabel(w.method)}</td>
      <td data-label="Waiting for">${WAITING_FOR[w.kind]}</td>
      <td data-label="Created">${formatTime(w.createdAt)}</td>
      <td data-label="">${waitActions(req, w)}</td>
    </tr>`,
    )}</tbody></table>`
      : html`<p class="empty">No payment is waiting for a shopper. A QR code, pay page or 3DS challenge created through any API shows here until it is paid, declined or expires.</p>`
  }
</section>`;
}

function clockSection(req: Parameters<typeof isAdmin>[0], now: number, offsetSeconds: number): Html {
  return html`<section class="card" aria-labelledby="clock"><h2 id="clock">Platform clock</h2>
  <p><span class="clock">${formatTime(now)}</span> <span class="muted small">${offsetSeconds ? `${offsetSeconds} s ahead of real time` : 'real time'}</span></p>
  <p class="small muted">Expiry, pending settlements, card orders and webhook retries follow this clock: advancing it runs them at once.</p>
  ${
    isAdmin(req)
      ? html`<form method="post" action="${PAGE}/clock/advance" class="filters">${csrfField(req)}
    <div><label for="advance-by">Advance by</label><input id="advance-by" name="amount" type="number" min="1" max="${MAX_ADVANCE_S}" step="1" required value="10"></div>
    <div><label for="advance-unit">Unit</label><select id="advance-unit" name="unit">${Object.keys(UNITS).map((u) => html`<option value="${u}"${u === 'minutes' ? html` selected` : ''}>${u}</option>`)}</select></div>
    <div><button type="submit">Advance clock</button></div>
  </form>`
      : ''
  }
</section>`;
}

function testCardsSection(): Html {
  return html`<section class="card" aria-labelledby="test-cards"><h2 id="test-cards">Test cards</h2>
  <p class="small muted">Any future expiry date and any CVC. Any other valid card number is approved without 3DS.</p>
  <table class="data cards"><caption class="visually-hidden">Test card numbers and what they do</caption>
  <thead><tr><th scope="col">Number</th><th scope="col">Brand</th><th scope="col">What happens</th></tr></thead>
  <tbody>${TEST_CARDS.map(
    (c) => html`<tr>
    <td data-label="Number"><div class="nowrap"><code>${c.number}</code> <button type="button" class="secondary small" data-copy="${c.number}" aria-label="Copy ${c.number}">Copy</button></div></td>
    <td data-label="Brand">${c.brand} ${c.fundingType}</td>
    <td data-label="What happens"><div>${c.outcome === 'approved' ? html`<span class="badge ok">approved</span>` : html`<span class="badge bad">${c.failureCode ?? 'declined'}</span>`} ${c.description}</div></td>
  </tr>`,
  )}</tbody></table>
</section>`;
}

export async function sandboxPages(app: FastifyInstance, deps: DashboardDeps): Promise<void> {
  if (!deps.sandbox) return; // live mode: no sandbox page, /dashboard/sandbox answers 404
  const waits = new ShopperWaits(deps.store);

  app.get('/sandbox', async (req, reply) => {
    const body = html`${clockSection(req, deps.clock.now(), deps.clock.offsetSeconds)}${waitsSection(req, await waits.list(req.dashboard.merchantIds))}${testCardsSection()}`;
    return reply.type('text/html; charset=utf-8').send(dashboardPage(req, { title: 'Sandbox', section: 'sandbox', body, styles: ['devtools.css'] }));
  });

  app.post('/sandbox/clock/advance', async (req, reply) => {
    requireAdmin(req);
    const f = fields(req);
    const amount = Number(f.amount);
    const unit = UNITS[f.unit ?? ''];
    const seconds = unit === undefined ? NaN : amount * unit;
    if (!Number.isInteger(amount) || amount < 1 || !(seconds <= MAX_ADVANCE_S)) {
      return redirectWithFlash(reply, `${PAGE}#clock`, 'bad', 'Advance by a whole number of seconds, minutes, hours or days, up to a year.');
    }
    await deps.clock.advance(seconds);
    return redirectWithFlash(reply, `${PAGE}#clock`, 'ok', `The clock moved ${amount} ${f.unit} ahead: it is now ${formatTime(deps.clock.now())}.`);
  });

  app.post<{ Params: { attemptId: string; action: string } }>('/sandbox/attempts/:attemptId/:action', async (req, reply) => {
    requireAdmin(req);
    const { attemptId, action } = req.params;
    if (!['pay', 'decline', 'approve', 'fail'].includes(action)) throw new DashboardNotFound('Not found');
    const wait = await waits.one(req.dashboard.merchantIds, attemptId);
    // Paid, declined or expired since the page was shown (a second click lands here too): say so, change nothing.
    const reference = wait?.reference;
    if (!wait || !reference) return redirectWithFlash(reply, `${PAGE}#waiting`, 'bad', 'This payment is no longer waiting for a shopper.');
    return refusalsAsFlash(reply, `${PAGE}#waiting`, async () => {
      const view =
        wait.kind === 'wallet' && (action === 'pay' || action === 'decline')
          ? await deps.payments.completeWalletPayment(reference, action)
          : wait.kind === 'challenge' && (action === 'approve' || action === 'fail')
            ? await deps.payments.completeChallenge(reference, action === 'approve')
            : null;
      if (!view) throw new DashboardNotFound('Not found');
      return redirectWithFlash(reply, `${PAGE}#waiting`, 'ok', `Payment ${view.intent.id} is now ${view.intent.status}.`);
    });
  });
}

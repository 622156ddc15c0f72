/**
 * AlphaPay's hosted cashier (payUrl): the order's QR code (which encodes
 * paymentUrl, the wallet's pay page), amount, merchant and a countdown to
 * expiry; it follows the order and, once paid, sends the shopper to the
 * `redirect` query parameter or else the order's redirectUrl.
 */
import type { FastifyInstance } from 'fastify';
import QRCode from 'qrcode';
import { formatFixed } from '../core/money.ts';
import type { MerchantService } from '../core/merchants/merchants.ts';
import type { IntentView, PaymentsService } from '../core/payments/service.ts';
import { escapeHtml, page } from './layout.ts';

export const ALPHAPAY_CASHIER_PATH = '/alphapay/cashier';

const WALLET_NAMES: Record<string, string> = { alipaycn: 'Alipay', wechatpay: 'WeChat Pay', unionpay: 'UnionPay' };

type CashierState = 'waiting' | 'paid' | 'failed' | 'closed';

function stateOf({ intent, attempt }: IntentView, ownAttemptId: string): CashierState {
  if (intent.status === 'SUCCEEDED') return 'paid';
  if (intent.status === 'CANCELLED' || intent.status === 'FAILED') return 'closed';
  if (intent.latestAttemptId !== ownAttemptId || attempt?.status === 'FAILED') return 'failed';
  return 'waiting';
}

/** Where the shopper goes once paid: `redirect` when it is an http(s) URL, else the order's redirectUrl. */
function redirectTarget(redirect: string | undefined, view: IntentView): string | null {
  for (const candidate of [redirect, view.intent.returnUrl ?? undefined]) {
    if (!candidate) continue;
    try {
      const u = new URL(candidate);
      if (u.protocol === 'http:' || u.protocol === 'https:') return u.toString();
    } catch {
      /* not a URL: ignored */
    }
  }
  return null;
}

export async function alphapayCashierPages(
  app: FastifyInstance,
  deps: { payments: PaymentsService; merchants: MerchantService; now: () => number; walletPageUrl: (token: string) => string },
): Promise<void> {
  const find = async (token: string) => {
    if (!/^[A-Za-z0-9_-]{16,64}$/.test(token)) return null;
    const view = await deps.payments.walletContext(token);
    return view?.attempt && view.intent.origin === 'alphapay' ? view : null;
  };

  /** The order's state, for the page's script (and anyone polling). */
  app.get<{ Params: { token: string }; Querystring: { redirect?: string } }>(`${ALPHAPAY_CASHIER_PATH}/:token/status`, async (req, reply) => {
    const view = await find(req.params.token);
    if (!view) return reply.code(404).send({ state: 'unknown' });
    const state = stateOf(view, view.attempt!.id);
    void reply.header('cache-control', 'no-store');
    return { state, redirect: state === 'paid' ? redirectTarget(req.query.redirect, view) : null };
  });

  app.get<{ Params: { token: string }; Querystring: { redirect?: string } }>(`${ALPHAPAY_CASHIER_PATH}/:token`, async (req, reply) => {
    reply.type('text/html; charset=utf-8').header('cache-control', 'no-store');
    const view = await find(req.params.token);
    if (!view) return reply.code(404).send(page('Order not found', '<p>This AlphaPay order is unknown.</p>'));
    const { intent, attempt } = view;
    const state = stateOf(view, attempt!.id);
    const target = redirectTarget(req.query.redirect, view);
    if (state === 'paid' && target) return reply.redirect(target, 303);
    const merchant = await deps.merchants.byId(intent.merchantId);
    const walletKind = attempt!.paymentMethod.type === 'wallet' ? attempt!.paymentMethod.wallet.kind : '';
    const paymentUrl = deps.walletPageUrl(req.params.token);
    const qr = await QRCode.toDataURL(paymentUrl, { margin: 1, width: 240 });
    const remainingMs = Math.max(0, intent.expiresAt - deps.now());
    const mmss = (ms: number) => `${String(Math.floor(ms / 60_000)).padStart(2, '0')}:${String(Math.floor((ms % 60_000) / 1000)).padStart(2, '0')}`;
    const banner =
      state === 'paid' ? '<div class="banner ok" id="state">Paid. Thank you!</div>'
      : state === 'closed' ? '<div class="banner bad" id="state">This order is closed.</div>'
      : state === 'failed' ? '<div class="banner bad" id="state">The payment did not go through.</div>'
      : `<div class="banner info" id="state">Scan with ${escapeHtml(WALLET_NAMES[walletKind] ?? 'your wallet')} to pay</div>`;
    const statusUrl = `${ALPHAPAY_CASHIER_PATH}/${req.params.token}/status${req.query.redirect ? `?redirect=${encodeURIComponent(req.query.redirect)}` : ''}`;
    const body = `
<div class="total"><div class="big" id="amount">${escapeHtml(formatFixed(intent.amount, intent.currency))} ${escapeHtml(intent.currency)}</div>
<div class="sub" id="merchant">${escapeHtml(merchant?.name ?? '')}</div></div>
<img class="qr${state === 'waiting' ? '' : ' dim'}" id="qr" src="${qr}" width="240" height="240" alt="QR code to pay">
${banner}
<dl>
  <dt>Order</dt><dd id="description">${escapeHtml(intent.description ?? '')}</dd>
  <dt>Order number</dt><dd><code>${escapeHtml(intent.merchantOrderId ?? intent.id)}</code></dd>
  <dt>Expires in</dt><dd id="countdown" data-remaining-ms="${remainingMs}">${state === 'waiting' ? mmss(remainingMs) : '—'}</dd>
</dl>
<p class="hint"><a id="open-wallet" href="${escapeHtml(paymentUrl)}">Open in ${escapeHtml(WALLET_NAMES[walletKind] ?? 'the wallet')}</a></p>
<script>
(() => {
  const el = document.getElementById('countdown');
  const state = document.getElementById('state');
  let remaining = Number(el.dataset.remainingMs);
  if (${JSON.stringify(state)} !== 'waiting') return;
  const started = Date.now();
  const pad = (n) => String(n).padStart(2, '0');
  const tick = () => {
    const left = Math.max(0, remaining - (Date.now() - started));
    el.textContent = pad(Math.floor(left / 60000)) + ':' + pad(Math.floor((left % 60000) / 1000));
    if (left === 0) { state.textContent = 'This order has expired.'; state.className = 'banner bad'; document.getElementById('qr').classList.add('dim'); }
  };
  const timer = setInterval(tick, 1000);
  const over = (text, cls) => { clearInterval(timer); el.textContent = '—'; state.textContent = text; state.className = 'banner ' + cls; document.getElementById('qr').classList.add('dim'); };
  const poll = async () => {
    try {
      const r = await fetch(${JSON.stringify(statusUrl)}, { cache: 'no-store' });
      const s = await r.json();
      if (s.state === 'paid') {
        over('Paid. Thank you!', 'ok');
        if (s.redirect) location.href = s.redirect;
        return;
      }
      if (s.state !== 'waiting') { over(s.state === 'closed' ? 'This order is closed.' : 'The payment did not go through.', 'bad'); return; }
    } catch {}
    setTimeout(poll, 1500);
  };
  setTimeout(poll, 1500);
})();
</script>`;
    return page('AlphaPay checkout', body, { accent: '#0a7c66', eyebrow: 'AlphaPay cashier' });
  });
}

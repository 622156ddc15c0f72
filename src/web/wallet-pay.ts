/**
 * The hosted wallet page behind a QR code or pay URL: it shows the QR image
 * and what the shopper will be charged, and lets a person pay or decline as
 * the wallet app would. Merchant-presented flows of every dialect land here.
 *
 * The same URL serves the QR code itself as a PNG to a client that asks for
 * an image (an <img src> of UQPAY's qr_code_url), and the page to everyone else.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import QRCode from 'qrcode';
import { isDomainError } from '../core/errors.ts';
import { formatFixed } from '../core/money.ts';
import type { IntentView, PaymentsService } from '../core/payments/service.ts';
import type { PaymentAttempt, PaymentIntent } from '../core/payments/types.ts';
import { escapeHtml, page } from './layout.ts';
import { returnTo } from './three-ds-challenge.ts';

export const WALLET_PAY_PATH = '/wallet/pay';

const WALLET_NAMES: Record<string, string> = {
  alipaycn: 'Alipay', alipayhk: 'AlipayHK', wechatpay: 'WeChat Pay', unionpay: 'UnionPay QR', grabpay: 'GrabPay',
  paynow: 'PayNow', truemoney: 'TrueMoney', tng: "Touch 'n Go", gcash: 'GCash', dana: 'DANA', kakaopay: 'KakaoPay',
  naverpay: 'Naver Pay', tosspay: 'Toss Pay', payme: 'PayMe', fps: 'FPS', octopus: 'Octopus', boost: 'Boost',
  shopeepay: 'ShopeePay', linepay: 'LINE Pay',
};

/** Each wallet's brand colour, for the page's header and Pay button. */
const WALLET_COLOURS: Record<string, string> = {
  alipaycn: '#1677ff', alipayhk: '#1677ff', wechatpay: '#07a35a', unionpay: '#d6182e', grabpay: '#00a94f', paynow: '#7b2c8f',
  truemoney: '#f26f21', tng: '#005abb', gcash: '#0b5fd8', dana: '#118eea', kakaopay: '#3c1e1e', naverpay: '#03a94d',
  tosspay: '#0064ff', payme: '#db0011', fps: '#1d4f91', octopus: '#e97a1c', boost: '#e6272e', shopeepay: '#ee4d2d', linepay: '#06a44c',
};

const QR_SIZE = 220;

/** The wallet order token inside QR content or a pay URL (or the bare token). */
export function walletTokenOf(code: string): string | null {
  const m = new RegExp(`${WALLET_PAY_PATH}/([A-Za-z0-9_-]+)`).exec(code);
  if (m) return m[1]!;
  return /^[A-Za-z0-9_-]{16,64}$/.test(code) ? code : null;
}

/** An <img> asks for image/* and not for HTML; a browser tab, curl and fetch() get the page. */
function wantsImage(req: FastifyRequest): boolean {
  const accept = String(req.headers.accept ?? '');
  return /\bimage\//.test(accept) && !/\btext\/html\b/.test(accept);
}

/** "14:38 UTC+8": the providers' business time zone. */
function clockTime(ms: number): string {
  return `${new Date(ms + 8 * 3_600_000).toISOString().slice(11, 16)} UTC+8`;
}

/** "in 29 min · 14:38 UTC+8" while waiting; "14:38 UTC+8" once past. */
function expiryText(expiresAt: number, now: number): string {
  if (now >= expiresAt) return clockTime(expiresAt);
  return `in ${Math.max(1, Math.ceil((expiresAt - now) / 60_000))} min · ${clockTime(expiresAt)}`;
}

type PageState = 'waiting' | 'expired' | 'paid' | 'pending' | 'declined' | 'cancelled' | 'failed' | 'closed';

/** Where this wallet order stands, as the shopper should read it. */
function stateOf(intent: PaymentIntent, attempt: PaymentAttempt, now: number): PageState {
  const expiresAt = attempt.wallet?.expiresAt;
  if (attempt.status === 'AUTHENTICATION_REDIRECTED' && intent.status === 'REQUIRES_CUSTOMER_ACTION' && intent.latestAttemptId === attempt.id) {
    return expiresAt !== undefined && now >= expiresAt ? 'expired' : 'waiting';
  }
  if (attempt.status === 'EXPIRED') return 'expired';
  if (attempt.status === 'CAPTURE_REQUESTED' || attempt.status === 'SETTLED' || attempt.status === 'SUCCEEDED') return 'paid';
  if (attempt.status === 'PENDING_AUTHORIZATION') return 'pending';
  if (attempt.status === 'CANCELLED' || intent.status === 'CANCELLED') return 'cancelled';
  if (attempt.status === 'FAILED') return attempt.failureCode === 'payment_declined_by_payer' ? 'declined' : 'failed';
  return 'closed';
}

const BANNERS: Record<Exclude<PageState, 'waiting'>, { tone: 'ok' | 'bad' | 'info'; text: string }> = {
  expired: { tone: 'bad', text: 'This QR code has expired. Ask the merchant for a new one.' },
  paid: { tone: 'ok', text: 'Paid. You can return to the merchant.' },
  pending: { tone: 'info', text: 'The wallet is still confirming this payment.' },
  declined: { tone: 'bad', text: 'You declined this payment.' },
  cancelled: { tone: 'bad', text: 'The merchant cancelled this payment.' },
  failed: { tone: 'bad', text: 'This payment did not go through.' },
  closed: { tone: 'info', text: 'This payment can no longer be paid here.' },
};

const STATE_LABELS: Record<PageState, string> = {
  waiting: 'Waiting for you',
  expired: 'Expired',
  paid: 'Paid',
  pending: 'Confirming',
  declined: 'Declined',
  cancelled: 'Cancelled',
  failed: 'Failed',
  closed: 'Closed',
};

/** A word for the shopper, and the intent status for the developer (EXPIRED while the sweep has not yet failed the intent). */
function statusCell(intent: PaymentIntent, state: PageState): string {
  const code = state === 'expired' ? 'EXPIRED' : intent.status;
  return `${escapeHtml(STATE_LABELS[state])}<code id="status">${escapeHtml(code)}</code>`;
}

function amounts(intent: PaymentIntent, attempt: PaymentAttempt): { main: string; details: string } {
  const order = `${formatFixed(intent.amount, intent.currency)} ${intent.currency}`;
  const charge = attempt.wallet;
  if (charge && charge.shopperCurrency !== intent.currency) {
    const shopper = `${formatFixed(charge.shopperAmount, charge.shopperCurrency)} ${charge.shopperCurrency}`;
    return {
      main: `<div class="total"><div class="big" id="shopper-amount">${escapeHtml(shopper)}</div><div class="sub">charged to your wallet</div></div>`,
      details: `<dt>Order amount</dt><dd id="amount">${escapeHtml(order)}</dd>
        <dt>Exchange rate</dt><dd id="fx-rate">1 ${escapeHtml(intent.currency)} = ${escapeHtml(charge.fxRate ?? '')} ${escapeHtml(charge.shopperCurrency)}</dd>`,
    };
  }
  return {
    main: `<div class="total"><div class="big" id="amount">${escapeHtml(order)}</div><div class="sub">charged to your wallet</div></div>`,
    details: '',
  };
}

/** What the QR code encodes: the qr_code the merchant was given while the order waits, else this page's own URL. */
function qrContent(intent: PaymentIntent, attempt: PaymentAttempt, selfUrl: string): string {
  return intent.nextAction?.type === 'display_qr_code' && intent.latestAttemptId === attempt.id ? intent.nextAction.qrCode : selfUrl;
}

async function payPage(view: IntentView, attempt: PaymentAttempt, token: string, selfUrl: string, now: number): Promise<string> {
  const { intent } = view;
  if (attempt.paymentMethod.type !== 'wallet') throw new Error('wallet attempt expected');
  const kind = attempt.paymentMethod.wallet.kind;
  const wallet = WALLET_NAMES[kind] ?? kind;
  const state = stateOf(intent, attempt, now);
  const qr = await QRCode.toDataURL(qrContent(intent, attempt, selfUrl), { margin: 1, width: QR_SIZE });
  const action = `${WALLET_PAY_PATH}/${encodeURIComponent(token)}`;
  const { main, details } = amounts(intent, attempt);
  const expiresAt = attempt.wallet?.expiresAt;
  const banner = state === 'waiting' ? '' : `<div class="banner ${BANNERS[state].tone}" id="${state}">${escapeHtml(BANNERS[state].text)}</div>`;
  const body = `${main}
      <img id="qr" class="qr${state === 'waiting' ? '' : ' dim'}" src="${qr}" alt="QR code for this ${escapeHtml(wallet)} payment" width="${QR_SIZE}" height="${QR_SIZE}">
      ${state === 'waiting' ? `<p class="hint muted">Scan with ${escapeHtml(wallet)}, or act as the wallet app below.</p>` : ''}
      ${banner}
      <dl>
        ${details}
        <dt>Reference</dt><dd id="reference">${escapeHtml(intent.merchantOrderId ?? intent.id)}</dd>
        ${intent.description ? `<dt>Description</dt><dd>${escapeHtml(intent.description)}</dd>` : ''}
        ${expiresAt !== undefined && (state === 'waiting' || state === 'expired') ? `<dt>${state === 'expired' ? 'Expired' : 'Expires'}</dt><dd id="expires">${escapeHtml(expiryText(expiresAt, now))}</dd>` : ''}
        <dt>Status</dt><dd>${statusCell(intent, state)}</dd>
      </dl>
      ${
        state === 'waiting'
          ? `<div class="actions">
          <form method="post" action="${action}"><input type="hidden" name="action" value="decline"><button type="submit" id="decline" class="secondary">Decline</button></form>
          <form method="post" action="${action}"><input type="hidden" name="action" value="pay"><button type="submit" id="pay">Pay with ${escapeHtml(wallet)}</button></form>
        </div>`
          : ''
      }`;
  return page(state === 'waiting' ? `Pay ${intent.merchantOrderId ? 'your order' : 'the merchant'}` : `${wallet} payment`, body, {
    accent: WALLET_COLOURS[kind],
    eyebrow: `Simulated ${wallet}`,
  });
}

function resultPage(view: IntentView, action: 'pay' | 'decline'): string {
  const { intent, attempt } = view;
  const kind = attempt?.paymentMethod.type === 'wallet' ? attempt.paymentMethod.wallet.kind : '';
  const wallet = WALLET_NAMES[kind] ?? kind;
  const paid = intent.status === 'SUCCEEDED';
  const back = returnTo(intent);
  const body = `<div class="banner ${paid ? 'ok' : 'bad'}" id="result">${paid ? 'Payment complete' : action === 'decline' ? 'Payment declined' : 'Payment not completed'}</div>
      <dl>
        <dt>Amount</dt><dd id="amount">${escapeHtml(formatFixed(intent.amount, intent.currency))} ${escapeHtml(intent.currency)}</dd>
        <dt>Reference</dt><dd>${escapeHtml(intent.merchantOrderId ?? intent.id)}</dd>
        <dt>Status</dt><dd>${escapeHtml(paid ? 'Paid' : action === 'decline' ? 'Declined' : 'Not paid')}<code id="status">${escapeHtml(intent.status)}</code></dd>
      </dl>
      ${back ? `<p class="hint"><a id="return" href="${escapeHtml(back)}">Return to the merchant</a></p>` : ''}`;
  return page(paid ? 'Payment complete' : action === 'decline' ? 'Payment declined' : 'Payment not completed', body, {
    accent: WALLET_COLOURS[kind],
    eyebrow: `Simulated ${wallet}`,
  });
}

/** `pageUrl(token)`: the page's address as shoppers reach it (under POLYPAY_BASE_URL), never taken from the request's Host header. */
export async function walletPayPages(app: FastifyInstance, payments: PaymentsService, now: () => number, pageUrl: (token: string) => string): Promise<void> {
  app.get<{ Params: { token: string } }>(`${WALLET_PAY_PATH}/:token`, async (req, reply) => {
    const view = await payments.walletContext(req.params.token);
    const own = view?.attempt;
    if (!view || !own || own.paymentMethod.type !== 'wallet') {
      reply.type('text/html; charset=utf-8');
      return reply.code(404).send(page('Payment not found', '<p>This payment code is unknown.</p>'));
    }
    const selfUrl = pageUrl(req.params.token);
    if (wantsImage(req)) {
      const png = await QRCode.toBuffer(qrContent(view.intent, own, selfUrl), { type: 'png', margin: 1, width: QR_SIZE });
      return reply.type('image/png').header('cache-control', 'no-store').send(png);
    }
    reply.type('text/html; charset=utf-8').header('cache-control', 'no-store');
    return payPage(view, own, req.params.token, selfUrl, now());
  });

  app.post<{ Params: { token: string }; Body: { action?: string } }>(`${WALLET_PAY_PATH}/:token`, async (req, reply) => {
    reply.type('text/html; charset=utf-8');
    const action = req.body?.action;
    if (action !== 'pay' && action !== 'decline') return reply.code(400).send(page('Payment', '<p>Choose to pay or decline.</p>'));
    try {
      const view = await payments.completeWalletPayment(req.params.token, action);
      // Web flows send the shopper back; so does every QFPay order with a return_url (seed 004 names it for its online QR codes too).
      const target = returnTo(view.intent);
      const web = view.attempt?.paymentMethod.type === 'wallet' && view.attempt.paymentMethod.wallet.flow === 'web';
      if (target && (web || view.intent.origin === 'qfpay')) return reply.redirect(target, 303);
      return resultPage(view, action);
    } catch (e) {
      if (!isDomainError(e)) throw e;
      return reply
        .code(e.kind === 'not_found' ? 404 : 409)
        .send(page('Payment unavailable', `<div class="banner bad" id="${e.code === 'qr_code_expired' ? 'expired' : 'error'}">${escapeHtml(e.message)}</div>`));
    }
  });
}

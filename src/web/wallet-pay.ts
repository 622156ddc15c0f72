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
import type { MerchantService } from '../core/merchants/merchants.ts';
import type { IntentView, PaymentsService } from '../core/payments/service.ts';
import type { PaymentAttempt, PaymentIntent } from '../core/payments/types.ts';
import type { WalletKind } from '../core/ports.ts';
import { escapeHtml, page } from './layout.ts';
import { merchantNameOf, SHOPPER_WORDS, shopperStateOf, type ShopperState } from './shopper-view.ts';
import { returnTo } from './three-ds-challenge.ts';

export const WALLET_PAY_PATH = '/wallet/pay';

/** Every wallet's name as its shoppers know it (the type makes a new wallet kind name itself here). */
const WALLET_NAMES: Record<WalletKind, string> = {
  alipaycn: 'Alipay', alipayhk: 'AlipayHK', wechatpay: 'WeChat Pay', unionpay: 'UnionPay QR', grabpay: 'GrabPay',
  paynow: 'PayNow', truemoney: 'TrueMoney', tng: "Touch 'n Go", gcash: 'GCash', dana: 'DANA', kakaopay: 'KakaoPay',
  naverpay: 'Naver Pay', tosspay: 'Toss Pay', payme: 'PayMe', fps: 'FPS', octopus: 'Octopus', boost: 'Boost',
  shopeepay: 'ShopeePay', linepay: 'LINE Pay', promptpay: 'PromptPay', thaiqr: 'Thai QR Payment', airpay: 'AirPay',
  netspay: 'NETSPay', origami: 'Origami', ewallet: 'eWallet', via: 'VIA', razer: 'Razer Pay', dash: 'Singtel Dash',
  maybank: 'MAE by Maybank', gopay: 'GoPay',
};

/** Each wallet's brand colour, for the page's header and Pay button. */
const WALLET_COLOURS: Record<string, string> = {
  alipaycn: '#1677ff', alipayhk: '#1677ff', wechatpay: '#07a35a', unionpay: '#d6182e', grabpay: '#00a94f', paynow: '#7b2c8f',
  truemoney: '#f26f21', tng: '#005abb', gcash: '#0b5fd8', dana: '#118eea', kakaopay: '#3c1e1e', naverpay: '#03a94d',
  tosspay: '#0064ff', payme: '#db0011', fps: '#1d4f91', octopus: '#e97a1c', boost: '#e6272e', shopeepay: '#ee4d2d', linepay: '#06a44c',
  promptpay: '#113566', thaiqr: '#113566', airpay: '#e8362b', netspay: '#c8102e', origami: '#e5004f', ewallet: '#1d4f91', via: '#ea5504',
  razer: '#44d62c', dash: '#e2001a', maybank: '#b8860b', gopay: '#00aed6',
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

/** The line under the big amount: what happens, or happened, to the shopper's money. */
function moneyLine(state: ShopperState, wallet: string): string {
  if (state === 'waiting') return `to pay with ${wallet}`;
  if (state === 'paid' || state === 'cancelled') return `charged to your ${wallet}`;
  if (state === 'processing') return 'being confirmed';
  return 'not charged';
}

function amounts(intent: PaymentIntent, attempt: PaymentAttempt, line: string): { main: string; details: string } {
  const order = `${formatFixed(intent.amount, intent.currency)} ${intent.currency}`;
  const charge = attempt.wallet;
  const sub = `<div class="sub" id="money-line">${escapeHtml(line)}</div>`;
  if (charge && charge.shopperCurrency !== intent.currency) {
    const shopper = `${formatFixed(charge.shopperAmount, charge.shopperCurrency)} ${charge.shopperCurrency}`;
    return {
      main: `<div class="total"><div class="big" id="shopper-amount">${escapeHtml(shopper)}</div>${sub}</div>`,
      details: `<dt>Order amount</dt><dd id="amount">${escapeHtml(order)}</dd>
        <dt>Exchange rate</dt><dd id="fx-rate">1 ${escapeHtml(intent.currency)} = ${escapeHtml(charge.fxRate ?? '')} ${escapeHtml(charge.shopperCurrency)}</dd>`,
    };
  }
  return { main: `<div class="total"><div class="big" id="amount">${escapeHtml(order)}</div>${sub}</div>`, details: '' };
}

/** What the QR code encodes: the qr_code the merchant was given while the order waits, else this page's own URL. */
function qrContent(intent: PaymentIntent, attempt: PaymentAttempt, selfUrl: string): string {
  return intent.nextAction?.type === 'display_qr_code' && intent.latestAttemptId === attempt.id ? intent.nextAction.qrCode : selfUrl;
}

async function payPage(view: IntentView, attempt: PaymentAttempt, merchant: string, token: string, selfUrl: string, now: number): Promise<string> {
  const { intent } = view;
  if (attempt.paymentMethod.type !== 'wallet') throw new Error('wallet attempt expected');
  const kind = attempt.paymentMethod.wallet.kind;
  const wallet = WALLET_NAMES[kind];
  const expiresAt = attempt.wallet?.expiresAt;
  const state = shopperStateOf(intent, attempt, now, expiresAt);
  const words = SHOPPER_WORDS[state];
  const waiting = state === 'waiting';
  const qr = await QRCode.toDataURL(qrContent(intent, attempt, selfUrl), { margin: 1, width: QR_SIZE });
  const action = `${WALLET_PAY_PATH}/${encodeURIComponent(token)}`;
  const { main, details } = amounts(intent, attempt, moneyLine(state, wallet));
  const back = waiting ? null : returnTo(intent);
  const body = `${main}
      <img id="qr" class="qr${waiting ? '' : ' dim'}" src="${qr}" alt="QR code for this ${escapeHtml(wallet)} payment" width="${QR_SIZE}" height="${QR_SIZE}">
      ${waiting ? `<p class="hint muted">Scan with ${escapeHtml(wallet)}, or act as the wallet app below.</p>` : `<div class="banner ${words.tone}" id="${state}">${escapeHtml(words.message)}</div>`}
      <dl>
        <dt>Merchant</dt><dd id="merchant">${escapeHtml(merchant)}</dd>
        ${details}
        <dt>Reference</dt><dd id="reference">${escapeHtml(intent.merchantOrderId ?? intent.id)}</dd>
        ${intent.description ? `<dt>Description</dt><dd>${escapeHtml(intent.description)}</dd>` : ''}
        ${expiresAt !== undefined && (waiting || state === 'expired') ? `<dt>${state === 'expired' ? 'Expired' : 'Expires'}</dt><dd id="expires">${escapeHtml(expiryText(expiresAt, now))}</dd>` : ''}
        <dt>Status</dt><dd id="status">${escapeHtml(words.label)}</dd>
      </dl>
      ${
        waiting
          ? `<div class="actions">
          <form method="post" action="${action}"><input type="hidden" name="action" value="decline"><button type="submit" id="decline" class="secondary">Decline</button></form>
          <form method="post" action="${action}"><input type="hidden" name="action" value="pay"><button type="submit" id="pay">Pay with ${escapeHtml(wallet)}</button></form>
        </div>`
          : ''
      }
      ${back ? `<p class="hint"><a id="return" href="${escapeHtml(back)}">Return to ${escapeHtml(merchant)}</a></p>` : ''}`;
  return page(waiting ? `Pay ${merchant}` : words.title, body, { accent: WALLET_COLOURS[kind], eyebrow: `Simulated ${wallet}` });
}

/** `pageUrl(token)`: the page's address as shoppers reach it (under POLYPAY_BASE_URL), never taken from the request's Host header. */
export async function walletPayPages(
  app: FastifyInstance,
  payments: PaymentsService,
  merchants: Pick<MerchantService, 'byId'>,
  now: () => number,
  pageUrl: (token: string) => string,
): Promise<void> {
  /** The page for a wallet order as it stands now, or null when there is no such order. */
  async function currentPage(token: string): Promise<string | null> {
    const view = await payments.walletContext(token);
    const own = view?.attempt;
    if (!view || !own || own.paymentMethod.type !== 'wallet') return null;
    return payPage(view, own, await merchantNameOf(merchants, view.intent), token, pageUrl(token), now());
  }
  const notFound = () => page('Payment not found', '<p>This payment link is not valid. Ask the merchant for a new one.</p>');

  app.get<{ Params: { token: string } }>(`${WALLET_PAY_PATH}/:token`, async (req, reply) => {
    if (wantsImage(req)) {
      const view = await payments.walletContext(req.params.token);
      if (!view?.attempt || view.attempt.paymentMethod.type !== 'wallet') return reply.code(404).type('text/html; charset=utf-8').send(notFound());
      const png = await QRCode.toBuffer(qrContent(view.intent, view.attempt, pageUrl(req.params.token)), { type: 'png', margin: 1, width: QR_SIZE });
      return reply.type('image/png').header('cache-control', 'no-store').send(png);
    }
    reply.type('text/html; charset=utf-8').header('cache-control', 'no-store');
    const html = await currentPage(req.params.token);
    return html ?? reply.code(404).send(notFound());
  });

  app.post<{ Params: { token: string }; Body: { action?: string } }>(`${WALLET_PAY_PATH}/:token`, async (req, reply) => {
    reply.type('text/html; charset=utf-8').header('cache-control', 'no-store');
    const action = req.body?.action;
    if (action !== 'pay' && action !== 'decline') return reply.code(400).send(page('Payment', '<p>Choose to pay or decline.</p>'));
    try {
      const view = await payments.completeWalletPayment(req.params.token, action);
      // Web flows send the shopper back; so does every QFPay order with a return_url (seed 004 names it for its online QR codes too).
      const target = returnTo(view.intent);
      const web = view.attempt?.paymentMethod.type === 'wallet' && view.attempt.paymentMethod.wallet.flow === 'web';
      if (target && (web || view.intent.origin === 'qfpay')) return reply.redirect(target, 303);
      // Post/Redirect/Get: the page shows the outcome, and reloading it pays nothing twice.
      return reply.redirect(`${WALLET_PAY_PATH}/${encodeURIComponent(req.params.token)}`, 303);
    } catch (e) {
      if (!isDomainError(e)) throw e;
      // Refused (paid already, expired, cancelled): the page as it stands says why.
      const html = e.kind === 'not_found' ? null : await currentPage(req.params.token);
      return html ? reply.code(409).send(html) : reply.code(404).send(notFound());
    }
  });
}

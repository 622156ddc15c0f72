/**
 * The hosted wallet page behind a QR code or pay URL: it shows the QR image
 * and what the shopper will be charged, and lets a person pay or decline as
 * the wallet app would. Merchant-presented flows of every dialect land here.
 */
import type { FastifyInstance } from 'fastify';
import QRCode from 'qrcode';
import { isDomainError } from '../core/errors.ts';
import { formatFixed } from '../core/money.ts';
import type { PaymentsService } from '../core/payments/service.ts';
import { escapeHtml, page } from './layout.ts';
import { returnTo } from './three-ds-challenge.ts';

export const WALLET_PAY_PATH = '/wallet/pay';

const WALLET_NAMES: Record<string, string> = {
  alipaycn: 'Alipay', alipayhk: 'AlipayHK', wechatpay: 'WeChat Pay', unionpay: 'UnionPay QR', grabpay: 'GrabPay',
  paynow: 'PayNow', truemoney: 'TrueMoney', tng: "Touch 'n Go", gcash: 'GCash', dana: 'DANA', kakaopay: 'KakaoPay',
  naverpay: 'Naver Pay', tosspay: 'Toss Pay', payme: 'PayMe', fps: 'FPS', octopus: 'Octopus', boost: 'Boost',
  shopeepay: 'ShopeePay', linepay: 'LINE Pay',
};

/** The wallet order token inside QR content or a pay URL (or the bare token). */
export function walletTokenOf(code: string): string | null {
  const m = new RegExp(`${WALLET_PAY_PATH}/([A-Za-z0-9_-]+)`).exec(code);
  if (m) return m[1]!;
  return /^[A-Za-z0-9_-]{16,64}$/.test(code) ? code : null;
}

export async function walletPayPages(app: FastifyInstance, payments: PaymentsService, now: () => number): Promise<void> {
  app.get<{ Params: { token: string } }>(`${WALLET_PAY_PATH}/:token`, async (req, reply) => {
    reply.type('text/html; charset=utf-8');
    const view = await payments.walletContext(req.params.token);
    const attempt = view?.attempt;
    if (!view || !attempt || attempt.paymentMethod.type !== 'wallet') {
      return reply.code(404).send(page('Payment not found', '<p>This payment code is unknown.</p>'));
    }
    const { intent } = view;
    const wallet = WALLET_NAMES[attempt.paymentMethod.wallet.kind] ?? attempt.paymentMethod.wallet.kind;
    const waiting = attempt.status === 'AUTHENTICATION_REDIRECTED' && intent.status === 'REQUIRES_CUSTOMER_ACTION';
    const expired = waiting && attempt.wallet?.expiresAt !== undefined && now() >= attempt.wallet.expiresAt;
    const charge = attempt.wallet;
    const shopper =
      charge && charge.shopperCurrency !== intent.currency
        ? `<dt>You pay</dt><dd id="shopper-amount">${escapeHtml(formatFixed(charge.shopperAmount, charge.shopperCurrency))} ${escapeHtml(charge.shopperCurrency)}</dd>
           <dt>Rate</dt><dd>1 ${escapeHtml(intent.currency)} = ${escapeHtml(charge.fxRate ?? '')} ${escapeHtml(charge.shopperCurrency)}</dd>`
        : '';
    const content = intent.nextAction?.type === 'display_qr_code' ? intent.nextAction.qrCode : `${req.protocol}://${req.host}${req.url}`;
    const qr = await QRCode.toDataURL(content, { margin: 1, width: 220 });
    const action = `${WALLET_PAY_PATH}/${encodeURIComponent(req.params.token)}`;
    const body = `<p class="muted">Simulated ${escapeHtml(wallet)} checkout. Scan the code with the sandbox, or act as the wallet app below.</p>
      <img id="qr" src="${qr}" alt="QR code for this payment" width="220" height="220">
      <dl>
        <dt>Merchant reference</dt><dd>${escapeHtml(intent.merchantOrderId ?? intent.id)}</dd>
        <dt>Amount</dt><dd id="amount">${escapeHtml(formatFixed(intent.amount, intent.currency))} ${escapeHtml(intent.currency)}</dd>
        ${shopper}
        <dt>Status</dt><dd id="status">${escapeHtml(expired ? 'EXPIRED' : intent.status)}</dd>
      </dl>
      ${
        waiting && !expired
          ? `<form method="post" action="${action}"><input type="hidden" name="action" value="pay"><button type="submit" id="pay">Pay with ${escapeHtml(wallet)}</button></form>
             <form method="post" action="${action}"><input type="hidden" name="action" value="decline"><button type="submit" id="decline" class="secondary">Decline</button></form>`
          : ''
      }`;
    return page(`${wallet} payment`, body);
  });

  app.post<{ Params: { token: string }; Body: { action?: string } }>(`${WALLET_PAY_PATH}/:token`, async (req, reply) => {
    reply.type('text/html; charset=utf-8');
    const action = req.body?.action;
    if (action !== 'pay' && action !== 'decline') return reply.code(400).send(page('Payment', '<p>Choose to pay or decline.</p>'));
    try {
      const view = await payments.completeWalletPayment(req.params.token, action);
      const target = returnTo(view.intent.returnUrl, view.intent.id, view.intent.status);
      if (target && view.attempt?.paymentMethod.type === 'wallet' && view.attempt.paymentMethod.wallet.flow === 'web') return reply.redirect(target, 303);
      return page(action === 'pay' ? 'Payment complete' : 'Payment declined', `<p id="status">Payment status: ${escapeHtml(view.intent.status)}</p>`);
    } catch (e) {
      if (!isDomainError(e)) throw e;
      return reply.code(e.kind === 'not_found' ? 404 : 409).send(page('Payment unavailable', `<p>${escapeHtml(e.message)}</p>`));
    }
  });
}

/**
 * The hosted card page: for an order whose provider has the shopper pay by
 * card on the platform (QFPay's card pay types), the shopper enters the card
 * here, so the card details never pass through the merchant. The card is
 * confirmed through the core as any card payment is: a card that asks for
 * 3DS (or an order that enforces it) goes on to the 3DS challenge page, the
 * rest are authorized and captured at once; then the shopper is sent to the
 * order's return_url. What the page accepts (which networks, whether 3DS is
 * enforced) comes from the dialect that made the order (`policyFor`).
 */
import { timingSafeEqual } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { isDomainError } from '../core/errors.ts';
import { formatFixed } from '../core/money.ts';
import { detectNetwork, type CardNetworkName } from '../core/payments/card.ts';
import type { IntentView, PaymentsService } from '../core/payments/service.ts';
import type { PaymentIntent } from '../core/payments/types.ts';
import type { MerchantService } from '../core/merchants/merchants.ts';
import { merchantNameOf } from './shopper-view.ts';
import { escapeHtml, page } from './layout.ts';
import { returnTo } from './three-ds-challenge.ts';

export const CARD_PAY_PATH = '/card/pay';

/** How an order is paid by card on this page. */
export interface CardPagePolicy {
  /** null: any network the card network simulator knows. */
  networks: readonly CardNetworkName[] | null;
  threeDsAction: 'skip_3ds' | 'enforce_3ds';
  /** What the page calls the method ("Visa / Mastercard", "Apple Pay"). */
  label: string;
}

const NETWORK_NAMES: Record<string, string> = {
  visa: 'Visa', mastercard: 'Mastercard', amex: 'American Express', unionpay: 'UnionPay', jcb: 'JCB', discover: 'Discover', diners: 'Diners Club',
};

/** The page's token: which order, and its client secret (which only this page and the order's own answers carry). */
export function cardPayToken(intent: PaymentIntent): string {
  return `${intent.merchantId}.${intent.id}.${intent.clientSecret}`;
}

function parseToken(token: string): { merchantId: string; intentId: string; secret: string } | null {
  const m = /^([A-Za-z0-9]{1,64})\.([A-Za-z0-9]{1,64})\.([A-Za-z0-9_-]{16,128})$/.exec(token);
  return m ? { merchantId: m[1]!, intentId: m[2]!, secret: m[3]! } : null;
}

/** The look of a form field (the shared layout styles buttons, not inputs). */
const FIELD = 'style="display:block;width:100%;margin-top:.3rem;padding:.6rem .7rem;font:inherit;border:1px solid #c9cfdb;border-radius:.5rem"';

const sameSecret = (a: string, b: string) => a.length === b.length && timingSafeEqual(Buffer.from(a), Buffer.from(b));

interface CardForm {
  card_number?: string;
  expiry_month?: string;
  expiry_year?: string;
  cvc?: string;
  card_name?: string;
}

export async function cardPayPages(
  app: FastifyInstance,
  payments: PaymentsService,
  merchants: Pick<MerchantService, 'byId'>,
  policyFor: (intent: PaymentIntent) => CardPagePolicy | null,
): Promise<void> {
  /** The order behind a token, when the token is right and the order is paid on this page. */
  async function orderOf(token: string): Promise<{ view: IntentView; policy: CardPagePolicy } | null> {
    const t = parseToken(token);
    if (!t) return null;
    try {
      const view = await payments.getIntent(t.merchantId, t.intentId);
      const policy = policyFor(view.intent);
      return policy && sameSecret(view.intent.clientSecret, t.secret) ? { view, policy } : null;
    } catch (e) {
      if (isDomainError(e) && e.kind === 'not_found') return null;
      throw e;
    }
  }

  const unavailable = (why: string) => page('Payment unavailable', `<p id="status">${escapeHtml(why)}</p>`);

  async function form(token: string, { intent }: IntentView, policy: CardPagePolicy, error?: string): Promise<string> {
    const merchant = await merchantNameOf(merchants, intent);
    const networks = policy.networks ? policy.networks.map((n) => NETWORK_NAMES[n] ?? n).join(', ') : 'any card';
    return page(
      'Pay by card',
      `<div class="total"><div class="big" id="amount">${escapeHtml(formatFixed(intent.amount, intent.currency))} ${escapeHtml(intent.currency)}</div>
      <div class="sub">${escapeHtml(policy.label)}</div></div>
      <dl>
        <dt>Merchant</dt><dd id="merchant">${escapeHtml(merchant)}</dd>
        <dt>Order</dt><dd id="reference">${escapeHtml(intent.merchantOrderId ?? intent.id)}</dd>
        <dt>Cards taken</dt><dd>${escapeHtml(networks)}</dd>
      </dl>
      ${error ? `<div class="banner bad" id="error">${escapeHtml(error)}</div>` : ''}
      <form method="post" action="${CARD_PAY_PATH}/${encodeURIComponent(token)}" style="display:block;margin:1rem 0 0">
        <p><label>Card number<input name="card_number" id="card_number" inputmode="numeric" autocomplete="cc-number" required ${FIELD}></label></p>
        <div style="display:flex;gap:.6rem">
          <p style="flex:1;margin:0"><label>Expiry month<input name="expiry_month" id="expiry_month" inputmode="numeric" autocomplete="cc-exp-month" placeholder="MM" required ${FIELD}></label></p>
          <p style="flex:1;margin:0"><label>Expiry year<input name="expiry_year" id="expiry_year" inputmode="numeric" autocomplete="cc-exp-year" placeholder="YYYY" required ${FIELD}></label></p>
          <p style="flex:1;margin:0"><label>Security code<input name="cvc" id="cvc" inputmode="numeric" autocomplete="cc-csc" ${FIELD}></label></p>
        </div>
        <p><label>Name on card<input name="card_name" id="card_name" autocomplete="cc-name" ${FIELD}></label></p>
        <button type="submit" id="pay">Pay</button>
      </form>`,
      { eyebrow: 'Secure card payment' },
    );
  }

  /** A page for an order that is no longer waiting for a card. */
  function finished({ intent }: IntentView): string {
    const paid = intent.status === 'SUCCEEDED' || intent.status === 'REQUIRES_CAPTURE';
    const words = paid ? 'The payment was made.' : intent.status === 'CANCELLED' ? 'The order was cancelled.' : intent.status === 'FAILED' ? 'The payment expired.' : 'The payment is being processed.';
    return page('Pay by card', `<div class="banner ${paid ? 'ok' : 'info'}" id="status">${escapeHtml(words)}</div>`);
  }

  app.get<{ Params: { token: string } }>(`${CARD_PAY_PATH}/:token`, async (req, reply) => {
    reply.type('text/html; charset=utf-8').header('cache-control', 'no-store');
    const found = await orderOf(req.params.token);
    if (!found) return reply.code(404).send(unavailable('There is no card payment here.'));
    if (found.view.intent.status !== 'REQUIRES_PAYMENT_METHOD') return finished(found.view);
    return await form(req.params.token, found.view, found.policy);
  });

  app.post<{ Params: { token: string }; Body: CardForm }>(`${CARD_PAY_PATH}/:token`, async (req, reply) => {
    reply.type('text/html; charset=utf-8').header('cache-control', 'no-store');
    const found = await orderOf(req.params.token);
    if (!found) return reply.code(404).send(unavailable('There is no card payment here.'));
    const { view, policy } = found;
    if (view.intent.status !== 'REQUIRES_PAYMENT_METHOD') return reply.code(409).send(finished(view));
    const body = req.body ?? {};
    const number = (body.card_number ?? '').replace(/[\s-]/g, '');
    const network = detectNetwork(number);
    if (policy.networks && !policy.networks.includes(network)) {
      const names = policy.networks.map((n) => NETWORK_NAMES[n] ?? n).join(' or ');
      return reply.code(400).send(await form(req.params.token, view, policy, `This payment takes ${names} cards only.`));
    }
    let after: IntentView;
    try {
      after = await payments.confirmIntent(view.intent.merchantId, view.intent.id, {
        paymentMethod: {
          type: 'card',
          card: {
            number,
            expiryMonth: (body.expiry_month ?? '').trim(),
            expiryYear: (body.expiry_year ?? '').trim(),
            ...(body.cvc?.trim() ? { cvc: body.cvc.trim() } : {}),
            ...(body.card_name?.trim() ? { cardName: body.card_name.trim() } : {}),
            autoCapture: true,
            threeDsAction: policy.threeDsAction,
          },
        },
      });
    } catch (e) {
      if (!isDomainError(e)) throw e;
      const fixable = e.kind === 'validation';
      return reply.code(fixable ? 400 : 409).send(fixable ? await form(req.params.token, view, policy, e.message) : unavailable(e.message));
    }
    const next = after.intent.nextAction;
    if (after.intent.status === 'REQUIRES_CUSTOMER_ACTION' && next?.type === 'redirect_to_url') return reply.redirect(next.url, 303);
    if (after.intent.status === 'REQUIRES_PAYMENT_METHOD') {
      // Declined: the shopper may try another card.
      return reply.code(402).send(await form(req.params.token, after, policy, 'The card was declined. Try another card.'));
    }
    const target = returnTo(after.intent);
    if (target) return reply.redirect(target, 303);
    return finished(after);
  });
}

/**
 * The hosted 3DS challenge page a shopper is redirected to
 * (next_action.redirect_to_url.url). Completing or failing it settles the
 * payment and sends the shopper on to the merchant's return_url.
 */
import type { FastifyInstance } from 'fastify';
import { isDomainError } from '../core/errors.ts';
import { formatFixed } from '../core/money.ts';
import type { MerchantService } from '../core/merchants/merchants.ts';
import type { IntentView, PaymentsService } from '../core/payments/service.ts';
import type { PaymentAttempt, PaymentIntent } from '../core/payments/types.ts';
import { escapeHtml, page } from './layout.ts';
import { merchantNameOf, SHOPPER_WORDS, shopperStateOf } from './shopper-view.ts';

export const CHALLENGE_PATH = '/3ds/challenge';

const NETWORK_NAMES: Record<string, string> = {
  visa: 'Visa', mastercard: 'Mastercard', amex: 'American Express', unionpay: 'UnionPay', jcb: 'JCB', discover: 'Discover', diners: 'Diners Club',
};

/**
 * Where the shopper goes back to: the intent's return_url, with the intent's
 * id and status added for a UQPAY intent. A QFPay merchant gets its URL as
 * it gave it (the order is looked up by its out_trade_no, and UQPAY's field
 * names mean nothing there).
 */
export function returnTo(intent: PaymentIntent): string | null {
  if (!intent.returnUrl) return null;
  try {
    const url = new URL(intent.returnUrl);
    if (intent.origin === 'qfpay') return url.toString();
    url.searchParams.set('payment_intent_id', intent.id);
    url.searchParams.set('intent_status', intent.status);
    return url.toString();
  } catch {
    return null;
  }
}

/** The challenge while it waits for the shopper, and its outcome once it is over. */
function challengePage(view: IntentView, attempt: PaymentAttempt, merchant: string, challengeId: string, now: number): string {
  const { intent } = view;
  if (attempt.paymentMethod.type !== 'card') throw new Error('card attempt expected');
  const card = attempt.paymentMethod.card;
  const network = NETWORK_NAMES[card.network] ?? card.network;
  const amount = `${formatFixed(intent.amount, intent.currency)} ${intent.currency}`;
  const state = shopperStateOf(intent, attempt, now);
  const words = SHOPPER_WORDS[state];
  const rows = `<dl>
        <dt>Merchant</dt><dd id="merchant">${escapeHtml(merchant)}</dd>
        <dt>Amount</dt><dd id="amount">${escapeHtml(amount)}</dd>
        <dt>Card</dt><dd>${escapeHtml(network)} ending in ${escapeHtml(card.last4)}</dd>
        <dt>Reference</dt><dd id="reference">${escapeHtml(intent.merchantOrderId ?? intent.id)}</dd>
        ${state === 'waiting' ? '' : `<dt>Status</dt><dd id="status">${escapeHtml(words.label)}</dd>`}
      </dl>`;
  const eyebrow = `Simulated ${network} 3-D Secure`;
  if (state !== 'waiting') {
    const back = returnTo(intent);
    return page(
      words.title,
      `<div class="banner ${words.tone}" id="${state}">${escapeHtml(words.message)}</div>
      ${rows}
      ${back ? `<p class="hint"><a id="return" href="${escapeHtml(back)}">Return to ${escapeHtml(merchant)}</a></p>` : ''}`,
      { eyebrow },
    );
  }
  const action = `${CHALLENGE_PATH}/${encodeURIComponent(challengeId)}`;
  return page(
    'Verify your payment',
    `<p class="muted">Your card issuer asks you to confirm this payment to <strong>${escapeHtml(merchant)}</strong>.</p>
      ${rows}
      <div class="actions">
        <form method="post" action="${action}">
          <input type="hidden" name="result" value="failure">
          <button type="submit" id="fail" class="secondary">Fail verification</button>
        </form>
        <form method="post" action="${action}">
          <input type="hidden" name="result" value="success">
          <button type="submit" id="complete">Verify and pay</button>
        </form>
      </div>`,
    { eyebrow },
  );
}

export async function threeDSChallengePages(app: FastifyInstance, payments: PaymentsService, merchants: Pick<MerchantService, 'byId'>, now: () => number): Promise<void> {
  /** The page for a challenge as it stands now, or null when there is no such card challenge. */
  async function currentPage(challengeId: string): Promise<string | null> {
    const view = await payments.challengeContext(challengeId);
    if (!view?.attempt || view.attempt.paymentMethod.type !== 'card') return null;
    return challengePage(view, view.attempt, await merchantNameOf(merchants, view.intent), challengeId, now());
  }
  const notFound = () => page('Verification not found', '<p>This verification link is not valid. Return to the merchant and pay again.</p>');

  app.get<{ Params: { id: string } }>(`${CHALLENGE_PATH}/:id`, async (req, reply) => {
    reply.type('text/html; charset=utf-8').header('cache-control', 'no-store');
    const html = await currentPage(req.params.id);
    return html ?? reply.code(404).send(notFound());
  });

  app.post<{ Params: { id: string }; Body: { result?: string } }>(`${CHALLENGE_PATH}/:id`, async (req, reply) => {
    reply.type('text/html; charset=utf-8').header('cache-control', 'no-store');
    const result = req.body?.result;
    if (result !== 'success' && result !== 'failure') {
      return reply.code(400).send(page('Verify your payment', '<p>Choose to verify the payment or to fail the verification.</p>'));
    }
    try {
      const view = await payments.completeChallenge(req.params.id, result === 'success');
      // Post/Redirect/Get: to the merchant, or to this page showing the outcome; reloading it charges nothing twice.
      return reply.redirect(returnTo(view.intent) ?? `${CHALLENGE_PATH}/${encodeURIComponent(req.params.id)}`, 303);
    } catch (e) {
      if (!isDomainError(e)) throw e;
      // Refused (already verified, expired): the page as it stands says why.
      const html = e.kind === 'not_found' ? null : await currentPage(req.params.id);
      return html ? reply.code(409).send(html) : reply.code(404).send(notFound());
    }
  });
}

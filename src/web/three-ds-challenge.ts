/**
 * The hosted 3DS challenge page a shopper is redirected to
 * (next_action.redirect_to_url.url). Completing or failing it settles the
 * payment and sends the shopper on to the merchant's return_url.
 */
import type { FastifyInstance } from 'fastify';
import { isDomainError } from '../core/errors.ts';
import { formatFixed } from '../core/money.ts';
import type { PaymentsService } from '../core/payments/service.ts';
import type { PaymentIntent } from '../core/payments/types.ts';
import { escapeHtml, page } from './layout.ts';

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

export async function threeDSChallengePages(app: FastifyInstance, payments: PaymentsService): Promise<void> {
  app.get<{ Params: { id: string } }>(`${CHALLENGE_PATH}/:id`, async (req, reply) => {
    const view = await payments.challengeContext(req.params.id);
    reply.type('text/html; charset=utf-8').header('cache-control', 'no-store');
    if (!view || view.attempt?.status !== 'AUTHENTICATION_REDIRECTED') {
      return reply.code(404).send(page('Authentication unavailable', '<p>This authentication request has expired or was already completed.</p>'));
    }
    const { intent, attempt } = view;
    if (attempt.paymentMethod.type !== 'card') return reply.code(404).send(page('Authentication unavailable', '<p>No card authentication here.</p>'));
    const card = attempt.paymentMethod.card;
    const action = `${CHALLENGE_PATH}/${encodeURIComponent(req.params.id)}`;
    return page(
      'Verify your payment',
      `<p class="muted">Simulated 3-D Secure challenge from your card issuer.</p>
      <dl>
        <dt>Merchant reference</dt><dd>${escapeHtml(intent.merchantOrderId ?? intent.id)}</dd>
        <dt>Amount</dt><dd id="amount">${escapeHtml(formatFixed(intent.amount, intent.currency))} ${escapeHtml(intent.currency)}</dd>
        <dt>Card</dt><dd>${escapeHtml(NETWORK_NAMES[card.network] ?? card.network)} ending in ${escapeHtml(card.last4)}</dd>
      </dl>
      <div class="actions">
        <form method="post" action="${action}">
          <input type="hidden" name="result" value="failure">
          <button type="submit" id="fail" class="secondary">Fail authentication</button>
        </form>
        <form method="post" action="${action}">
          <input type="hidden" name="result" value="success">
          <button type="submit" id="complete">Complete authentication</button>
        </form>
      </div>`,
    );
  });

  app.post<{ Params: { id: string }; Body: { result?: string } }>(`${CHALLENGE_PATH}/:id`, async (req, reply) => {
    reply.type('text/html; charset=utf-8').header('cache-control', 'no-store');
    const result = req.body?.result;
    if (result !== 'success' && result !== 'failure') {
      return reply.code(400).send(page('Authentication', '<p>Choose to complete or fail the authentication.</p>'));
    }
    try {
      const view = await payments.completeChallenge(req.params.id, result === 'success');
      const target = returnTo(view.intent);
      if (target) return reply.redirect(target, 303);
      return page('Authentication finished', `<p id="status">Payment status: ${escapeHtml(view.intent.status)}</p>`);
    } catch (e) {
      if (!isDomainError(e)) throw e;
      return reply.code(e.kind === 'not_found' ? 404 : 409).send(page('Authentication unavailable', `<p>${escapeHtml(e.message)}</p>`));
    }
  });
}

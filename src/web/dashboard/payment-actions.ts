/**
 * Capture, cancel and refund from the console: POST
 * /dashboard/payments/:id/{capture,cancel,refund}, through the same core
 * commands as the APIs (same rules, events and webhooks). Each form
 * carries a one-time key (`_key`, made when the page was drawn) used as
 * the command's idempotency key, so a form sent twice (a double click, a
 * resent POST) acts once, and the second answer repeats the first's.
 * The outcome, or the domain error that refused it, comes back as a
 * flash message on the payment's page.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { DomainError, isDomainError } from '../../core/errors.ts';
import { parseDecimal } from '../../core/money.ts';
import type { CommandHooks } from '../../core/payments/command.ts';
import type { IntentView } from '../../core/payments/service.ts';
import { CANCELLATION_REASONS, type CancellationReason } from '../../core/payments/types.ts';
import { KeyTaken } from '../../http/idempotency.ts';
import type { DashboardDeps } from './deps.ts';
import { formatMoney } from './format.ts';
import { fields, formKey } from './forms.ts';
import { findVisible, requireAdmin } from './guards.ts';
import { redirectWithFlash } from './layout.ts';
import { PAYMENTS_PATH } from './payments-list.ts';

/** The idempotency scope of console actions (keys are per merchant and scope). */
const SCOPE = 'dashboard';

type ActionRequest = FastifyRequest<{ Params: { id: string }; Body: Record<string, unknown> }>;
type Outcome = { kind: 'ok' | 'bad'; message: string };
/** Runs the command with the request's idempotency hooks; the message that says what it did. */
type Run = (view: IntentView, form: Record<string, string>, hooks: KeyHooks) => Promise<string>;
/** The key is claimed with the command's first unit; the answer (a message, not the API's body) is stored after it. */
type KeyHooks = Pick<CommandHooks<unknown>, 'begin' | 'begun'>;

const field = (req: FastifyRequest, name: string): string => fields(req)[name]?.trim() ?? '';

const REFUND_REASON_DEFAULT = 'requested_by_customer';

export async function paymentActions(app: FastifyInstance, deps: DashboardDeps): Promise<void> {
  const { payments, idempotency } = deps;

  /** The payment, if one of the user's merchants (theirs or a sub-merchant's) has it; else 404. */
  const visiblePayment = (req: ActionRequest): Promise<IntentView> => findVisible(req, (merchantId) => payments.getIntent(merchantId, req.params.id));

  /** POST /payments/:id/<name>: runs the action under the form's key, and answers with its outcome on the payment's page. */
  function action(name: string, names: string[], run: Run): void {
    app.post(`/payments/:id/${name}`, async (req: ActionRequest, reply: FastifyReply) => {
      requireAdmin(req);
      const view = await visiblePayment(req);
      const page = `${PAYMENTS_PATH}/${encodeURIComponent(view.intent.id)}`;
      const key = formKey(req);
      if (!key) return redirectWithFlash(reply, page, 'bad', 'This form has expired: reload the page and try again');
      const form = Object.fromEntries(names.map((f) => [f, field(req, f)]));
      const hash = idempotency.requestHash('POST', `${page}/${name}`, JSON.stringify(form));
      const request = idempotency.request<Outcome>(view.intent.merchantId, SCOPE, key, hash, (o) => o);
      let outcome: Outcome;
      try {
        // The command's own units claim the key and store its answer (see http/idempotency.ts).
        const hooks: KeyHooks = {
          begin: (tx, subjectId) => request.begin(tx, subjectId),
          begun: () => request.begun(),
        };
        outcome = { kind: 'ok', message: await run(view, form, hooks) };
        await request.succeeded(outcome);
      } catch (error) {
        if (error instanceof KeyTaken) return answerTaken(reply, page, error.claim);
        if (!isDomainError(error)) throw error;
        outcome = { kind: 'bad', message: error.message };
        const taken = await request.failed(422, JSON.stringify(outcome));
        if (taken) return answerTaken(reply, page, taken);
      }
      return redirectWithFlash(reply, page, outcome.kind, outcome.message);
    });
  }

  action('capture', ['amount'], async ({ intent }, form, hooks) => {
    const amount = form.amount ? parseDecimal(form.amount, intent.currency, 'Amount to capture') : undefined;
    const view = await payments.capture(intent.merchantId, intent.id, amount, hooks);
    return `Captured ${formatMoney(view.attempt?.capturedAmount ?? 0, intent.currency)}`;
  });

  action('cancel', ['reason'], async ({ intent }, form, hooks) => {
    const reason = form.reason || 'requested_by_customer';
    if (!(CANCELLATION_REASONS as readonly string[]).includes(reason)) throw DomainError.validation(`Cancellation reason ${reason} is not one of ${CANCELLATION_REASONS.join(', ')}`, 'reason');
    const view = await payments.cancel(intent.merchantId, intent.id, reason as CancellationReason, hooks);
    return `Payment cancelled (${reason.replace(/_/g, ' ')})${view.intent.status === 'CANCELLED' ? '' : `: now ${view.intent.status}`}`;
  });

  action('refund', ['amount', 'reason'], async ({ intent }, form, hooks) => {
    if (!form.amount) throw DomainError.validation('Enter the amount to refund', 'amount');
    const amount = parseDecimal(form.amount, intent.currency, 'Refund amount');
    if (amount === 0) throw DomainError.validation('Refund amount must be more than 0', 'amount');
    const refund = await payments.createRefund(intent.merchantId, { intentId: intent.id, amount, reason: form.reason || REFUND_REASON_DEFAULT }, hooks);
    const money = formatMoney(refund.amount, refund.currency);
    if (refund.status === 'FAILED') return `Refund ${refund.id} of ${money} failed: ${refund.failureCode ?? 'the network refused it'}`;
    return `Refund ${refund.id} of ${money} ${refund.status === 'SUCCEEDED' ? 'succeeded' : 'is processing'}`;
  });
}

/** A key another send of this form holds: its answer again, or that it is still running. */
function answerTaken(reply: FastifyReply, page: string, claim: KeyTaken['claim']) {
  if (claim.kind === 'replay') {
    const stored = JSON.parse(claim.body) as Outcome;
    return redirectWithFlash(reply, page, stored.kind, stored.message);
  }
  if (claim.kind === 'processing') return redirectWithFlash(reply, page, 'ok', 'This action is still being processed: reload the page in a moment');
  return redirectWithFlash(reply, page, 'bad', 'This form was already used for another action: reload the page and try again');
}

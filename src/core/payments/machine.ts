/**
 * The acquiring state machine as pure functions: (state, command) -> (new
 * state, events) or a DomainError. No I/O, no clock, no ids: callers pass
 * `now` and fully built new objects.
 */
import { DomainError } from '../errors.ts';
import { convertShare } from '../fx.ts';
import type {
  AuthenticationData,
  CancellationReason,
  Emit,
  IntentStatus,
  NextAction,
  PaymentAttempt,
  PaymentIntent,
  Refund,
  WalletCharge,
} from './types.ts';

/** The wallet-side facts recorded on a wallet attempt. */
export type WalletChargeInput = WalletCharge;

export interface IntentTransition {
  intent: PaymentIntent;
  attempt?: PaymentAttempt;
  emits: Emit[];
}

const TERMINAL: ReadonlySet<IntentStatus> = new Set(['SUCCEEDED', 'CANCELLED', 'FAILED']);
const CANCELLABLE: ReadonlySet<IntentStatus> = new Set([
  'REQUIRES_PAYMENT_METHOD',
  'REQUIRES_CUSTOMER_ACTION',
  'REQUIRES_CAPTURE',
]);
const EXPIRABLE: ReadonlySet<IntentStatus> = new Set(['REQUIRES_PAYMENT_METHOD', 'REQUIRES_CUSTOMER_ACTION']);

export const isTerminal = (status: IntentStatus): boolean => TERMINAL.has(status);

function requireIntent(intent: PaymentIntent, allowed: IntentStatus[], action: string): void {
  if (!allowed.includes(intent.status)) {
    throw DomainError.invalidState(
      `payment intent ${intent.id} cannot be ${action} when its status is ${intent.status}`,
    );
  }
}

function requireLatest(intent: PaymentIntent, attempt: PaymentAttempt | null | undefined): PaymentAttempt {
  if (!attempt || attempt.id !== intent.latestAttemptId) {
    throw DomainError.invalidState(`payment attempt is not the latest attempt of ${intent.id}`);
  }
  return attempt;
}

export function created(intent: PaymentIntent): IntentTransition {
  if (intent.status !== 'REQUIRES_PAYMENT_METHOD') throw new Error('a new intent starts in REQUIRES_PAYMENT_METHOD');
  return { intent, emits: [{ type: 'payment_intent.created', subject: 'intent' }] };
}

export interface IntentPatch {
  amount?: number;
  currency?: string;
  description?: string | null;
  merchantOrderId?: string | null;
  metadata?: Record<string, unknown> | null;
  returnUrl?: string | null;
  customer?: Record<string, unknown> | null;
}

export function update(intent: PaymentIntent, patch: IntentPatch, now: number): IntentTransition {
  requireIntent(intent, ['REQUIRES_PAYMENT_METHOD'], 'updated');
  const next: PaymentIntent = { ...intent, updatedAt: now };
  for (const [key, value] of Object.entries(patch)) {
    if (value !== undefined) (next as any)[key] = value;
  }
  return { intent: next, emits: [] };
}

/** A confirm starts an attempt; the intent is PENDING until the outside world answers. */
export function beginAttempt(intent: PaymentIntent, attempt: PaymentAttempt, now: number): IntentTransition {
  requireIntent(intent, ['REQUIRES_PAYMENT_METHOD'], 'confirmed');
  if (attempt.status !== 'INITIATED' || attempt.intentId !== intent.id) throw new Error('attempt must be new and belong to the intent');
  if (attempt.amount !== intent.amount || attempt.currency !== intent.currency) throw new Error('attempt must be for the intent amount');
  return {
    intent: { ...intent, status: 'PENDING', latestAttemptId: attempt.id, nextAction: null, updatedAt: now },
    attempt,
    emits: [{ type: 'payment_attempt.created', subject: 'attempt' }],
  };
}

/**
 * The shopper has to act: a 3DS challenge, or a wallet QR code / pay page.
 * The intent waits for them; `patch` records what leads back to this attempt.
 */
export function requireCustomerAction(
  intent: PaymentIntent,
  attempt: PaymentAttempt,
  patch: Pick<Partial<PaymentAttempt>, 'threeDSChallengeId' | 'walletToken' | 'wallet'>,
  nextAction: NextAction,
  now: number,
): IntentTransition {
  requireIntent(intent, ['PENDING'], 'sent to the shopper');
  const a = requireLatest(intent, attempt);
  if (a.status !== 'INITIATED') throw DomainError.invalidState(`attempt ${a.id} is ${a.status}`);
  return {
    intent: { ...intent, status: 'REQUIRES_CUSTOMER_ACTION', nextAction, updatedAt: now },
    attempt: { ...a, ...patch, status: 'AUTHENTICATION_REDIRECTED', updatedAt: now },
    emits: [{ type: 'payment_intent.requires_action', subject: 'intent' }],
  };
}

/** The shopper finished (or failed) the challenge, or 3DS ran frictionless. */
export function authenticated(
  intent: PaymentIntent,
  attempt: PaymentAttempt,
  success: boolean,
  authentication: AuthenticationData,
  now: number,
): IntentTransition {
  const a = requireLatest(intent, attempt);
  const frictionless = intent.status === 'PENDING' && a.status === 'INITIATED';
  const challenged = intent.status === 'REQUIRES_CUSTOMER_ACTION' && a.status === 'AUTHENTICATION_REDIRECTED';
  if (!frictionless && !challenged) {
    throw DomainError.invalidState(`payment intent ${intent.id} is not waiting for authentication`);
  }
  const withAuth = { ...a, authentication: { ...a.authentication, ...authentication }, updatedAt: now };
  if (success) {
    return {
      intent: { ...intent, status: 'PENDING', nextAction: null, updatedAt: now },
      attempt: { ...withAuth, status: 'PENDING_AUTHORIZATION' },
      emits: [],
    };
  }
  return {
    intent: { ...intent, status: 'REQUIRES_PAYMENT_METHOD', nextAction: null, updatedAt: now },
    attempt: { ...withAuth, status: 'FAILED', failureCode: 'authentication_failed', completeTime: now },
    emits: [{ type: 'payment_attempt.failed', subject: 'attempt' }],
  };
}

export interface Approval {
  authCode: string;
  rrn: string;
  arn: string;
  cvcResult?: string;
  avsResult?: string;
  fundingType?: string;
}

export function approved(intent: PaymentIntent, attempt: PaymentAttempt, approval: Approval, now: number): IntentTransition {
  requireIntent(intent, ['PENDING'], 'authorized');
  const a = requireLatest(intent, attempt);
  if (a.status !== 'INITIATED' && a.status !== 'PENDING_AUTHORIZATION') {
    throw DomainError.invalidState(`attempt ${a.id} is ${a.status}`);
  }
  const authorized: PaymentAttempt = {
    ...a,
    authCode: approval.authCode,
    rrn: approval.rrn,
    arn: approval.arn,
    authentication: { ...a.authentication, cvcResult: approval.cvcResult, avsResult: approval.avsResult },
    paymentMethod:
      approval.fundingType !== undefined && a.paymentMethod.type === 'card'
        ? { ...a.paymentMethod, card: { ...a.paymentMethod.card, fundingType: approval.fundingType } }
        : a.paymentMethod,
    updatedAt: now,
  };
  if (!a.autoCapture) {
    return {
      intent: { ...intent, status: 'REQUIRES_CAPTURE', updatedAt: now },
      attempt: { ...authorized, status: 'AUTHORIZED' },
      emits: [],
    };
  }
  return captured(intent, { ...authorized, status: 'AUTHORIZED' }, a.amount, now);
}

/** The network took the authorization but the issuer has not answered: the intent stays PENDING until it does. */
export function authorizationPending(intent: PaymentIntent, attempt: PaymentAttempt, now: number): IntentTransition {
  requireIntent(intent, ['PENDING'], 'left waiting for the issuer');
  const a = requireLatest(intent, attempt);
  if (a.status !== 'INITIATED' && a.status !== 'PENDING_AUTHORIZATION') throw DomainError.invalidState(`attempt ${a.id} is ${a.status}`);
  return { intent: { ...intent, updatedAt: now }, attempt: { ...a, status: 'PENDING_AUTHORIZATION', updatedAt: now }, emits: [] };
}

const PAYABLE_ATTEMPT: ReadonlySet<string> = new Set(['INITIATED', 'PENDING_AUTHORIZATION', 'AUTHENTICATION_REDIRECTED']);

/** The network or wallet refused; a wallet shopper may also decline at the QR page. */
export function declined(
  intent: PaymentIntent,
  attempt: PaymentAttempt,
  failureCode: string,
  adviceCode: string | null,
  now: number,
): IntentTransition {
  requireIntent(intent, ['PENDING', 'REQUIRES_CUSTOMER_ACTION'], 'declined');
  const a = requireLatest(intent, attempt);
  if (!PAYABLE_ATTEMPT.has(a.status)) throw DomainError.invalidState(`attempt ${a.id} is ${a.status}`);
  return {
    intent: { ...intent, status: 'REQUIRES_PAYMENT_METHOD', nextAction: null, updatedAt: now },
    attempt: { ...a, status: 'FAILED', failureCode, adviceCode, completeTime: now, updatedAt: now },
    emits: [{ type: 'payment_attempt.failed', subject: 'attempt' }],
  };
}

/** A wallet took the shopper's money: wallets capture at once. */
export function walletPaid(intent: PaymentIntent, attempt: PaymentAttempt, charge: WalletCharge, now: number): IntentTransition {
  requireIntent(intent, ['PENDING', 'REQUIRES_CUSTOMER_ACTION'], 'paid');
  const a = requireLatest(intent, attempt);
  if (a.paymentMethod.type !== 'wallet' || !PAYABLE_ATTEMPT.has(a.status)) {
    throw DomainError.invalidState(`attempt ${a.id} is not waiting for a wallet payment`);
  }
  const paid: PaymentAttempt = { ...a, wallet: { ...a.wallet, ...charge } };
  if (!a.autoCapture) {
    // A pre-authorization: the wallet has frozen the amount; it waits for a capture or a release.
    return {
      intent: { ...intent, status: 'REQUIRES_CAPTURE', nextAction: null, updatedAt: now },
      attempt: { ...paid, status: 'AUTHORIZED', updatedAt: now },
      emits: [],
    };
  }
  return captured({ ...intent, nextAction: null }, paid, a.amount, now);
}

/** A payment code was accepted but the payer is still confirming: the intent stays PENDING. */
export function awaitingPayer(intent: PaymentIntent, attempt: PaymentAttempt, charge: WalletCharge, now: number): IntentTransition {
  requireIntent(intent, ['PENDING'], 'left waiting for the payer');
  const a = requireLatest(intent, attempt);
  if (a.status !== 'INITIATED') throw DomainError.invalidState(`attempt ${a.id} is ${a.status}`);
  return { intent: { ...intent, updatedAt: now }, attempt: { ...a, status: 'PENDING_AUTHORIZATION', wallet: charge, updatedAt: now }, emits: [] };
}

/** Full or partial capture of an authorization; what is not captured is released. */
export function capture(intent: PaymentIntent, attempt: PaymentAttempt, amount: number, now: number): IntentTransition {
  requireIntent(intent, ['REQUIRES_CAPTURE'], 'captured');
  const a = requireLatest(intent, attempt);
  if (a.status !== 'AUTHORIZED') throw DomainError.invalidState(`attempt ${a.id} is ${a.status}`);
  if (!Number.isSafeInteger(amount) || amount <= 0) throw DomainError.validation('amount_to_capture must be greater than 0', 'amount_to_capture');
  if (amount > a.amount) {
    throw DomainError.amount(`amount_to_capture exceeds the authorized amount`, 'amount_exceeds_authorized');
  }
  return captured(intent, { ...a, wallet: capturedCharge(a, amount) }, amount, now);
}

/** A wallet freeze captured in part charges the shopper that part, converted as the whole was. */
function capturedCharge(a: PaymentAttempt, amount: number): PaymentAttempt['wallet'] {
  const w = a.wallet;
  if (!w || !w.fxRate || w.shopperCurrency === a.currency || amount === a.amount) return w;
  const share = convertShare({ before: 0, amount, total: a.amount, currency: a.currency }, { amount: w.shopperAmount, currency: w.shopperCurrency }, w.fxRate);
  return { ...w, shopperAmount: share.amount };
}

function captured(intent: PaymentIntent, attempt: PaymentAttempt, amount: number, now: number): IntentTransition {
  return {
    intent: { ...intent, status: 'SUCCEEDED', capturedAmount: amount, nextAction: null, completeTime: now, updatedAt: now },
    attempt: { ...attempt, status: 'CAPTURE_REQUESTED', capturedAmount: amount, completeTime: now, updatedAt: now },
    emits: [
      { type: 'payment_attempt.capture_requested', subject: 'attempt' },
      { type: 'payment_intent.succeeded', subject: 'intent' },
    ],
  };
}

/**
 * Cancel closes an intent that has not reached a terminal state (seed 002).
 * Wallet payments may also be cancelled while the payer is confirming, and a
 * wallet payment that SUCCEEDED the same merchant day may be cancelled in full
 * (`sameDayReversal`): the money goes back and `reversed` says how much.
 */
export function cancel(
  intent: PaymentIntent,
  attempt: PaymentAttempt | null,
  reason: CancellationReason,
  now: number,
  opts: { sameDayReversal?: boolean } = {},
): IntentTransition & { reversed: number } {
  const wallet = attempt?.paymentMethod.type === 'wallet';
  const reversible =
    wallet && intent.status === 'SUCCEEDED' && opts.sameDayReversal === true && attempt!.refundedAmount === 0 && attempt!.id === intent.latestAttemptId;
  const pendingWallet = wallet && intent.status === 'PENDING';
  if (!CANCELLABLE.has(intent.status) && !reversible && !pendingWallet) {
    throw DomainError.invalidState(
      `payment intent ${intent.id} cannot be cancelled when its status is ${intent.status}`,
      'payment_intent_not_cancellable',
    );
  }
  const next: PaymentIntent = {
    ...intent,
    status: 'CANCELLED',
    cancellationReason: reason,
    cancelTime: now,
    nextAction: null,
    updatedAt: now,
  };
  const live = attempt && (reversible || ['INITIATED', 'AUTHENTICATION_REDIRECTED', 'AUTHORIZED', 'PENDING_AUTHORIZATION'].includes(attempt.status));
  if (!attempt || !live) return { intent: next, emits: [{ type: 'cancel.succeeded', subject: 'intent' }], reversed: 0 };
  return {
    intent: next,
    attempt: { ...attempt, status: 'CANCELLED', cancellationReason: reason, completeTime: attempt.completeTime ?? now, updatedAt: now },
    emits: [
      { type: 'payment_attempt.cancelled', subject: 'attempt' },
      { type: 'cancel.succeeded', subject: 'intent' },
    ],
    reversed: reversible ? attempt.capturedAmount : 0,
  };
}

/** An unpaid intent fails when it expires (30 minutes after creation). */
export function expire(intent: PaymentIntent, attempt: PaymentAttempt | null, now: number): IntentTransition {
  if (!EXPIRABLE.has(intent.status)) throw DomainError.invalidState(`payment intent ${intent.id} is ${intent.status}`);
  if (now < intent.expiresAt) throw DomainError.invalidState(`payment intent ${intent.id} has not expired`);
  const next: PaymentIntent = { ...intent, status: 'FAILED', nextAction: null, completeTime: now, updatedAt: now };
  if (attempt && attempt.status === 'AUTHENTICATION_REDIRECTED') {
    return {
      intent: next,
      attempt: { ...attempt, status: 'EXPIRED', failureCode: 'payment_expired', completeTime: now, updatedAt: now },
      emits: [{ type: 'payment_intent.failed', subject: 'intent' }],
    };
  }
  return { intent: next, emits: [{ type: 'payment_intent.failed', subject: 'intent' }] };
}

export interface RefundTransition {
  attempt: PaymentAttempt;
  refund: Refund;
  emits: Emit[];
}

/** A refund reserves its amount on the attempt at once, so concurrent refunds cannot exceed the capture. */
/**
 * A refund of a wallet payment charged in another currency: its share of the
 * converted charge (the last refund takes the exact remainder). A share of 0
 * is refused as a charge under the smallest amount is: the shopper would get
 * nothing back.
 */
function shopperRefund(a: PaymentAttempt, amount: number): number | null {
  const w = a.wallet;
  if (!w || !w.fxRate || w.shopperCurrency === a.currency) return null;
  const share = convertShare(
    { before: a.refundedAmount, amount, total: a.capturedAmount, currency: a.currency },
    { amount: w.shopperAmount, currency: w.shopperCurrency },
    w.fxRate,
  );
  if (share.amount < 1) {
    throw DomainError.validation(`amount is below the smallest ${w.shopperCurrency} amount the wallet can refund`, 'amount');
  }
  return share.amount;
}

export function requestRefund(intent: PaymentIntent, attempt: PaymentAttempt | null, refund: Refund, now: number): RefundTransition {
  if (intent.status !== 'SUCCEEDED') {
    throw DomainError.invalidState(`payment intent ${intent.id} is ${intent.status}; only a SUCCEEDED payment can be refunded`, 'payment_intent_not_refundable');
  }
  const a = requireLatest(intent, attempt);
  if (refund.currency !== a.currency) throw DomainError.validation('refund currency must match the payment', 'currency');
  if (!Number.isSafeInteger(refund.amount) || refund.amount <= 0) throw DomainError.validation('amount must be greater than 0', 'amount');
  const refundable = a.capturedAmount - a.refundedAmount;
  if (refund.amount > refundable) {
    throw DomainError.amount(
      `refund amount exceeds the refundable amount of the payment`,
      'refund_amount_exceeds_refundable',
    );
  }
  if (refund.status !== 'PROCESSING') throw new Error('a new refund starts PROCESSING');
  return {
    attempt: { ...a, refundedAmount: a.refundedAmount + refund.amount, updatedAt: now },
    refund: { ...refund, shopperAmount: shopperRefund(a, refund.amount) },
    emits: [{ type: 'refund.created', subject: 'refund' }],
  };
}

export function refundSettled(attempt: PaymentAttempt, refund: Refund, success: boolean, failureCode: string | null, now: number): RefundTransition {
  if (refund.status !== 'PROCESSING') throw DomainError.invalidState(`refund ${refund.id} is ${refund.status}`);
  if (success) {
    return { attempt, refund: { ...refund, status: 'SUCCEEDED', updatedAt: now }, emits: [{ type: 'refund.succeeded', subject: 'refund' }] };
  }
  return {
    attempt: { ...attempt, refundedAmount: attempt.refundedAmount - refund.amount, updatedAt: now },
    refund: { ...refund, status: 'FAILED', failureCode, updatedAt: now },
    emits: [{ type: 'refund.failed', subject: 'refund' }],
  };
}

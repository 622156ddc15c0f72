import { describe, expect, it } from 'vitest';
import { DomainError } from '../../src/core/errors.ts';
import * as m from '../../src/core/payments/machine.ts';
import { INTENT_STATUSES, type IntentStatus, type PaymentAttempt, type PaymentIntent, type Refund } from '../../src/core/payments/types.ts';

const T0 = 1_750_000_000_000;

function intent(status: IntentStatus = 'REQUIRES_PAYMENT_METHOD', over: Partial<PaymentIntent> = {}): PaymentIntent {
  return {
    id: 'PI1', merchantId: 'M1', amount: 1000, currency: 'SGD', status, capturedAmount: 0, description: null,
    merchantOrderId: null, metadata: null, returnUrl: 'https://example.com', customer: null, clientSecret: 's',
    latestAttemptId: status === 'REQUIRES_PAYMENT_METHOD' ? null : 'PA1', nextAction: null, origin: 'uqpay', notifyUrl: null, cancellationReason: null,
    cancelTime: null, completeTime: null, expiresAt: T0 + 1800_000, createdAt: T0, updatedAt: T0, version: 1, ...over,
  };
}

function attempt(status: PaymentAttempt['status'] = 'INITIATED', over: Partial<PaymentAttempt> = {}): PaymentAttempt {
  return {
    id: 'PA1', intentId: 'PI1', merchantId: 'M1', amount: 1000, currency: 'SGD', status, capturedAmount: 0, refundedAmount: 0,
    autoCapture: true,
    paymentMethod: { type: 'card', card: { bin: '424242', last4: '4242', network: 'visa', expiryMonth: 12, expiryYear: 2030, fingerprint: 'f', threeDsAction: 'skip_3ds' } },
    failureCode: null, authCode: null, rrn: null, arn: null, adviceCode: null, authentication: null, threeDSChallengeId: null,
    walletToken: null, wallet: null, cancellationReason: null, completeTime: null, createdAt: T0, updatedAt: T0, ...over,
  };
}

const approval = { authCode: 'A1B2C3', rrn: '123456789012', arn: '1'.repeat(23), cvcResult: 'M', avsResult: 'Y' };

/** Every intent status, and whether a command may run from it. */
function allowedFrom(run: (s: IntentStatus) => unknown): IntentStatus[] {
  return INTENT_STATUSES.filter((s) => {
    try {
      run(s);
      return true;
    } catch (e) {
      if (!(e instanceof DomainError)) throw e;
      return false;
    }
  });
}

describe('payment intent state machine', () => {
  it('confirm starts an attempt only from REQUIRES_PAYMENT_METHOD', () => {
    expect(allowedFrom((s) => m.beginAttempt(intent(s), attempt(), T0))).toEqual(['REQUIRES_PAYMENT_METHOD']);
    const t = m.beginAttempt(intent(), attempt(), T0 + 1);
    expect(t.intent).toMatchObject({ status: 'PENDING', latestAttemptId: 'PA1', updatedAt: T0 + 1 });
    expect(t.emits.map((e) => e.type)).toEqual(['payment_attempt.created']);
  });

  it('update only before confirm', () => {
    expect(allowedFrom((s) => m.update(intent(s), { amount: 5 }, T0))).toEqual(['REQUIRES_PAYMENT_METHOD']);
    expect(m.update(intent(), { amount: 5, description: undefined }, T0).intent).toMatchObject({ amount: 5, description: null });
  });

  it('approval with auto capture succeeds and captures the whole amount', () => {
    const t = m.approved(intent('PENDING'), attempt(), approval, T0 + 5);
    expect(t.intent).toMatchObject({ status: 'SUCCEEDED', capturedAmount: 1000, completeTime: T0 + 5 });
    expect(t.attempt).toMatchObject({ status: 'CAPTURE_REQUESTED', capturedAmount: 1000, authCode: 'A1B2C3' });
    expect(t.emits.map((e) => e.type)).toEqual(['payment_attempt.capture_requested', 'payment_intent.succeeded']);
    expect(allowedFrom((s) => m.approved(intent(s), attempt(), approval, T0))).toEqual(['PENDING']);
  });

  it('approval without auto capture waits for capture; capture is full or partial, never more', () => {
    const t = m.approved(intent('PENDING'), attempt('INITIATED', { autoCapture: false }), approval, T0);
    expect(t.intent.status).toBe('REQUIRES_CAPTURE');
    expect(t.attempt!.status).toBe('AUTHORIZED');
    expect(t.emits).toEqual([]);
    const authorized = t.attempt!;
    expect(() => m.capture(t.intent, authorized, 1001, T0)).toThrow(DomainError);
    expect(() => m.capture(t.intent, authorized, 0, T0)).toThrow(DomainError);
    const c = m.capture(t.intent, authorized, 400, T0);
    expect(c.intent).toMatchObject({ status: 'SUCCEEDED', capturedAmount: 400 });
    expect(c.attempt).toMatchObject({ status: 'CAPTURE_REQUESTED', capturedAmount: 400 });
    expect(() => m.capture(c.intent, c.attempt!, 100, T0)).toThrow(DomainError);
    expect(allowedFrom((s) => m.capture(intent(s), attempt('AUTHORIZED'), 10, T0))).toEqual(['REQUIRES_CAPTURE']);
  });

  it('a decline fails the attempt and returns the intent to REQUIRES_PAYMENT_METHOD', () => {
    const t = m.declined(intent('PENDING'), attempt(), 'insufficient_funds', null, T0);
    expect(t.intent.status).toBe('REQUIRES_PAYMENT_METHOD');
    expect(t.attempt).toMatchObject({ status: 'FAILED', failureCode: 'insufficient_funds' });
    expect(t.emits.map((e) => e.type)).toEqual(['payment_attempt.failed']);
    // A wallet shopper can also decline at the QR page, while the intent waits for them.
    expect(allowedFrom((s) => m.declined(intent(s), attempt(), 'x', null, T0))).toEqual(['REQUIRES_CUSTOMER_ACTION', 'PENDING']);
  });

  it('an attempt that is not the latest cannot change the intent', () => {
    expect(() => m.approved(intent('PENDING'), attempt('INITIATED', { id: 'PA0' }), approval, T0)).toThrow(DomainError);
  });

  it('3DS challenge: redirect, then success to authorization or failure back to the start', () => {
    const r = m.requireCustomerAction(intent('PENDING'), attempt(), { threeDSChallengeId: 'ch1' }, { type: 'redirect_to_url', url: 'u', returnUrl: 'r' }, T0);
    expect(r.intent).toMatchObject({ status: 'REQUIRES_CUSTOMER_ACTION', nextAction: { url: 'u' } });
    expect(r.attempt).toMatchObject({ status: 'AUTHENTICATION_REDIRECTED', threeDSChallengeId: 'ch1' });
    expect(r.emits.map((e) => e.type)).toEqual(['payment_intent.requires_action']);
    const ok = m.authenticated(r.intent, r.attempt!, true, { threeDS: { version: '2.2.0', eci: '05', cavv: 'c', dsTransactionId: 'd', status: 'Y' } }, T0);
    expect(ok.intent).toMatchObject({ status: 'PENDING', nextAction: null });
    expect(ok.attempt).toMatchObject({ status: 'PENDING_AUTHORIZATION' });
    const paid = m.approved(ok.intent, ok.attempt!, approval, T0);
    expect(paid.intent.status).toBe('SUCCEEDED');
    expect(paid.attempt!.authentication?.threeDS?.eci).toBe('05');
    const bad = m.authenticated(r.intent, r.attempt!, false, {}, T0);
    expect(bad.intent.status).toBe('REQUIRES_PAYMENT_METHOD');
    expect(bad.attempt).toMatchObject({ status: 'FAILED', failureCode: 'authentication_failed' });
    // A finished challenge cannot be finished again.
    expect(() => m.authenticated(paid.intent, paid.attempt!, true, {}, T0)).toThrow(DomainError);
  });

  it('cancel is allowed exactly before a terminal state (and not while the network is deciding)', () => {
    expect(allowedFrom((s) => m.cancel(intent(s), null, 'duplicate', T0))).toEqual([
      'REQUIRES_PAYMENT_METHOD',
      'REQUIRES_CUSTOMER_ACTION',
      'REQUIRES_CAPTURE',
    ]);
    const t = m.cancel(intent('REQUIRES_CAPTURE'), attempt('AUTHORIZED'), 'fraudulent', T0 + 9);
    expect(t.intent).toMatchObject({ status: 'CANCELLED', cancellationReason: 'fraudulent', cancelTime: T0 + 9 });
    expect(t.attempt).toMatchObject({ status: 'CANCELLED', cancellationReason: 'fraudulent' });
    expect(t.emits.map((e) => e.type)).toEqual(['payment_attempt.cancelled', 'cancel.succeeded']);
    const noAttempt = m.cancel(intent(), null, 'abandoned', T0);
    expect(noAttempt.attempt).toBeUndefined();
    const failedAttempt = m.cancel(intent(), attempt('FAILED'), 'abandoned', T0);
    expect(failedAttempt.attempt).toBeUndefined();
  });

  it('expiry fails unpaid intents only, and only once due', () => {
    expect(allowedFrom((s) => m.expire(intent(s), null, T0 + 1800_000))).toEqual(['REQUIRES_PAYMENT_METHOD', 'REQUIRES_CUSTOMER_ACTION']);
    expect(() => m.expire(intent(), null, T0 + 1799_999)).toThrow(DomainError);
    const t = m.expire(intent('REQUIRES_CUSTOMER_ACTION'), attempt('AUTHENTICATION_REDIRECTED'), T0 + 1800_000);
    expect(t.intent.status).toBe('FAILED');
    expect(t.attempt!.status).toBe('EXPIRED');
    expect(t.emits.map((e) => e.type)).toEqual(['payment_intent.failed']);
  });
});

describe('refund state machine', () => {
  const paid = intent('SUCCEEDED', { capturedAmount: 1000 });
  const captured = attempt('CAPTURE_REQUESTED', { capturedAmount: 1000 });
  const refund = (amount: number, over: Partial<Refund> = {}): Refund => ({
    id: 'RF1', merchantId: 'M1', intentId: 'PI1', attemptId: 'PA1', amount, currency: 'SGD', status: 'PROCESSING',
    reason: 'r', metadata: null, failureCode: null, createdAt: T0, updatedAt: T0, ...over,
  });

  it('only a SUCCEEDED intent can be refunded', () => {
    expect(allowedFrom((s) => m.requestRefund(intent(s, { capturedAmount: 1000 }), captured, refund(1), T0))).toEqual(['SUCCEEDED']);
  });

  it('reserves the amount so refunds never exceed the capture', () => {
    const a = m.requestRefund(paid, captured, refund(600), T0);
    expect(a.attempt.refundedAmount).toBe(600);
    expect(() => m.requestRefund(paid, a.attempt, refund(401), T0)).toThrow(DomainError);
    const b = m.requestRefund(paid, a.attempt, refund(400), T0);
    expect(b.attempt.refundedAmount).toBe(1000);
    expect(() => m.requestRefund(paid, b.attempt, refund(1), T0)).toThrow(DomainError);
  });

  it('rejects zero, other currencies, and partial-capture overruns', () => {
    expect(() => m.requestRefund(paid, captured, refund(0), T0)).toThrow(DomainError);
    expect(() => m.requestRefund(paid, captured, refund(1, { currency: 'USD' }), T0)).toThrow(DomainError);
    const partial = attempt('CAPTURE_REQUESTED', { capturedAmount: 300 });
    expect(() => m.requestRefund(paid, partial, refund(301), T0)).toThrow(DomainError);
  });

  it('a failed refund releases its reservation', () => {
    const a = m.requestRefund(paid, captured, refund(600), T0);
    const f = m.refundSettled(a.attempt, a.refund, false, 'processing_error', T0);
    expect(f.refund).toMatchObject({ status: 'FAILED', failureCode: 'processing_error' });
    expect(f.attempt.refundedAmount).toBe(0);
    expect(f.emits.map((e) => e.type)).toEqual(['refund.failed']);
    const s = m.refundSettled(a.attempt, a.refund, true, null, T0);
    expect(s.refund.status).toBe('SUCCEEDED');
    expect(() => m.refundSettled(s.attempt, s.refund, true, null, T0)).toThrow(DomainError);
  });
});

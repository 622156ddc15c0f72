/** Core objects -> UQPAY wire objects (field names, id keys, decimal strings, +08:00 times). */
import type { Balance } from '../../core/payments/repository.ts';
import type { IntentView } from '../../core/payments/service.ts';
import type { PaymentAttempt, PaymentIntent, Refund, StoredCard } from '../../core/payments/types.ts';
import { UQPAY_WALLET_TYPES } from './schemas.ts';
import { echoAmount, wireAmount, wireTime, wireTimeMillis } from './wire-format.ts';

function nextAction(intent: PaymentIntent) {
  const a = intent.nextAction;
  if (!a) return null;
  switch (a.type) {
    case 'redirect_to_url':
      return { type: 'redirect_to_url', redirect_to_url: { url: a.url, return_url: a.returnUrl } };
    case 'display_qr_code':
      return { type: 'display_qr_code', display_qr_code: { qr_code: a.qrCode, qr_code_url: a.qrCodeUrl, expires_at: wireTimeMillis(a.expiresAt) } };
    case 'sdk_params':
      // App flows open the wallet through its pay URL (a deep link in production).
      return { type: 'redirect_to_url', redirect_to_url: { url: a.url, return_url: intent.returnUrl ?? '' } };
  }
}

const AVAILABLE_METHODS = ['card', ...UQPAY_WALLET_TYPES];

/** The core's wallet flows as UQPAY names them. */
const UQPAY_FLOW = { qrcode: 'qrcode', web: 'mobile_web', sdk: 'mobile_app', payment_code: 'qrcode' } as const;

function paymentMethod(a: PaymentAttempt) {
  const pm = a.paymentMethod;
  if (pm.type === 'card') return { type: 'card', card: maskedCard(a, pm.card) };
  const w = pm.wallet;
  return {
    type: w.kind,
    [w.kind]: {
      flow: UQPAY_FLOW[w.flow],
      os_type: w.osType ?? '',
      is_present: w.flow === 'payment_code',
      ...(w.paymentCodeLast4 ? { payment_code: `**************${w.paymentCodeLast4}` } : {}),
    },
  };
}

/** The attempt as embedded in an intent (latest_payment_attempt). */
export function attemptSummary(a: PaymentAttempt) {
  return {
    attempt_id: a.id,
    amount: echoAmount(a.amount, a.currency),
    currency: a.currency,
    attempt_status: a.status,
    captured_amount: echoAmount(a.capturedAmount, a.currency),
    refunded_amount: echoAmount(a.refundedAmount, a.currency),
    failure_code: a.failureCode ?? '',
    create_time: wireTime(a.createdAt),
    update_time: wireTime(a.updatedAt),
    complete_time: wireTime(a.completeTime),
  };
}

function maskedCard(a: PaymentAttempt, c: StoredCard) {
  return {
    card_name: c.cardName ?? '',
    card_number: `${c.bin}******${c.last4}`,
    network: c.network,
    brand: c.network,
    bin: c.bin,
    last4: c.last4,
    card_type: c.fundingType ?? '',
    expiry_month: String(c.expiryMonth).padStart(2, '0'),
    expiry_year: String(c.expiryYear),
    billing: c.billing
      ? {
          first_name: c.billing.firstName ?? '',
          last_name: c.billing.lastName ?? '',
          email: c.billing.email ?? '',
          phone_number: c.billing.phoneNumber ?? '',
          address: c.billing.address
            ? {
                country_code: c.billing.address.countryCode ?? '',
                state: c.billing.address.state ?? '',
                city: c.billing.address.city ?? '',
                street: c.billing.address.street ?? '',
                postcode: c.billing.address.postcode ?? '',
              }
            : null,
        }
      : null,
    auto_capture: a.autoCapture,
    authorization_type: c.authorizationType ?? 'authorization',
    three_ds_action: c.threeDsAction,
  };
}

/** The card schemes' two-digit merchant advice codes, which UQPAY's advice_code carries, by the network's advice. */
const ADVICE_CODES: Readonly<Record<string, string>> = Object.assign(Object.create(null), {
  new_account_information: '01',
  try_again_later: '02',
  do_not_try_again: '03',
  stop_recurring: '21',
});

/** The full attempt (GET /v2/payment/payment_attempts/{id}). */
export function attempt(a: PaymentAttempt) {
  const three = a.authentication?.threeDS;
  return {
    ...attemptSummary(a),
    payment_intent_id: a.intentId,
    cancellation_reason: a.cancellationReason ?? '',
    auth_code: a.authCode ?? '',
    arn: a.arn ?? '',
    rrn: a.rrn ?? '',
    advice_code: (a.adviceCode && ADVICE_CODES[a.adviceCode]) ?? '',
    authentication_data: {
      cvv_result: a.authentication?.cvcResult ?? '',
      avs_result: a.authentication?.avsResult ?? '',
      three_ds: three
        ? {
            three_ds_version: three.version,
            eci: three.eci,
            cavv: three.cavv,
            three_ds_authentication_status: three.status,
            ds_transaction_id: three.dsTransactionId,
          }
        : null,
    },
    payment_method: paymentMethod(a),
  };
}

export function intent({ intent: i, attempt: a }: IntentView) {
  return {
    payment_intent_id: i.id,
    amount: echoAmount(i.amount, i.currency),
    currency: i.currency,
    intent_status: i.status,
    description: i.description ?? '',
    available_payment_method_types: AVAILABLE_METHODS,
    captured_amount: echoAmount(i.capturedAmount, i.currency),
    cancel_time: wireTime(i.cancelTime),
    cancellation_reason: i.cancellationReason ?? '',
    client_secret: i.clientSecret,
    merchant_order_id: i.merchantOrderId ?? '',
    metadata: i.metadata ?? {},
    next_action: nextAction(i),
    return_url: i.returnUrl ?? '',
    create_time: wireTime(i.createdAt),
    update_time: wireTime(i.updatedAt),
    complete_time: wireTime(i.completeTime),
    latest_payment_attempt: a ? attemptSummary(a) : null,
  };
}

export function refund(r: Refund) {
  return {
    payment_refund_id: r.id,
    payment_intent_id: r.intentId,
    payment_attempt_id: r.attemptId,
    amount: echoAmount(r.amount, r.currency),
    currency: r.currency,
    refund_status: r.status,
    reason: r.reason,
    failure_code: r.failureCode ?? '',
    metadata: r.metadata ?? {},
    create_time: wireTime(r.createdAt),
    update_time: wireTime(r.updatedAt),
  };
}

export function balance(b: Balance) {
  return {
    currency: b.currency,
    available_balance: wireAmount(b.available, b.currency),
    pending_balance: wireAmount(b.pending, b.currency),
  };
}

export function page<T>(items: T[], total: number, pageSize: number) {
  return { total_pages: Math.ceil(total / pageSize), total_items: total, data: items };
}

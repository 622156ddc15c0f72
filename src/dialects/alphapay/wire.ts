/**
 * How AlphaPay orders and refunds look on the wire: what the dialect keeps of
 * an order in the intent's metadata, the payment and refund statuses, and the
 * inquiry bodies (which notifications repeat without `result`).
 */
import type { IntentView } from '../../core/payments/service.ts';
import type { PaymentIntent, Refund } from '../../core/payments/types.ts';
import type { PaymentMethodType, ScenarioCode } from './schemas.ts';
import { isoTime } from './transport.ts';

/** The origin of intents made through AlphaPay (v2 and v1 alike: one order is visible through both). */
export const ALPHAPAY_ORIGIN = 'alphapay';
/** merchant_references scopes: paymentRequestId (= v1 partner_order_id) and refundRequestId (= v1 partner_refund_id). */
export const PAYMENT_REFERENCE_SCOPE = 'alphapay.payment';
export const REFUND_REFERENCE_SCOPE = 'alphapay.refund';
/** The currency AlphaPay settles in; CNY orders are valued in it at the FX table. */
export const SETTLE_CURRENCY = 'CAD';
export const ALPHAPAY_CURRENCIES = new Set(['CAD', 'USD', 'CNY']);

/** What the dialect keeps of an order, in the intent's metadata under `alphapay`. */
export interface AlphapayOrderMeta {
  api: 'v2' | 'v1';
  scenarioCode: ScenarioCode;
  paymentMethodType: PaymentMethodType | 'CreditCard';
  /** The order amount as the merchant sent it (minor units). */
  orderAmount: { value: string; currency: string };
  /** The order's value in the settlement currency at the FX table when it was made. */
  payAmount: { value: string; currency: string };
  exchangeRate: string;
  redirectUrl?: string;
  customer?: { appId?: string; customerId?: string };
  env?: { osType?: string; version?: string };
  /** v1: the channel named (Alipay, Wechat, UnionPay) and the order's own notify_url. */
  channel?: string;
}

export interface AlphapayRefundMeta {
  refundRequestId?: string;
  description?: string;
}

export function orderMeta(intent: PaymentIntent): AlphapayOrderMeta | null {
  const m = (intent.metadata as { alphapay?: AlphapayOrderMeta } | null)?.alphapay;
  return intent.origin === ALPHAPAY_ORIGIN && m ? m : null;
}

export function refundMeta(refund: Refund): AlphapayRefundMeta {
  return (refund.metadata as { alphapay?: AlphapayRefundMeta } | null)?.alphapay ?? {};
}

export type PaymentStatus = 'PAYMENT_IN_PROCESS' | 'SUCCESS' | 'FAIL' | 'CLOSED' | 'CANCELLED';

/** An order's paymentStatus (docs/alphapay.md lists them). */
export function paymentStatus({ intent, attempt }: IntentView): PaymentStatus {
  if (intent.status === 'SUCCEEDED') return 'SUCCESS';
  if (intent.status === 'CANCELLED') return 'CANCELLED';
  if (intent.status === 'FAILED') return !attempt || attempt.failureCode === 'payment_expired' ? 'CLOSED' : 'FAIL';
  if (intent.status === 'REQUIRES_PAYMENT_METHOD' && attempt?.status === 'FAILED') return 'FAIL';
  return 'PAYMENT_IN_PROCESS';
}

export type RefundStatus = 'REFUND_IN_PROCESS' | 'SUCCESS' | 'FAILED';

export function refundStatus(refund: Refund): RefundStatus {
  return refund.status === 'SUCCEEDED' ? 'SUCCESS' : refund.status === 'FAILED' ? 'FAILED' : 'REFUND_IN_PROCESS';
}

/** The order object of every payment answer. */
export function orderObject(intent: PaymentIntent, meta: AlphapayOrderMeta) {
  return {
    orderAmount: meta.orderAmount,
    payAmount: meta.payAmount,
    description: intent.description ?? '',
    ...(intent.notifyUrl ? { notifyUrl: intent.notifyUrl } : {}),
    ...(meta.redirectUrl ? { redirectUrl: meta.redirectUrl } : {}),
  };
}

/** The inquiryPayment body (without `result`): also the payment notification. */
export function paymentInquiryBody(view: IntentView) {
  const { intent, attempt } = view;
  const meta = orderMeta(intent)!;
  const paid = intent.status === 'SUCCEEDED' || (intent.status === 'CANCELLED' && (attempt?.capturedAmount ?? 0) > 0);
  return {
    scenarioCode: meta.scenarioCode,
    paymentRequestId: intent.merchantOrderId ?? '',
    order: orderObject(intent, meta),
    paymentMethod: { paymentMethodType: meta.paymentMethodType },
    ...(meta.customer ? { customer: meta.customer } : {}),
    paymentCreateTime: isoTime(intent.createdAt),
    paymentExpireTime: isoTime(intent.expiresAt),
    ...(paid && intent.completeTime !== null ? { paymentTime: isoTime(intent.completeTime) } : {}),
    paymentId: intent.id,
    paymentStatus: paymentStatus(view),
    ...(attempt?.failureCode && paymentStatus(view) === 'FAIL' ? { failureReason: attempt.failureCode } : {}),
    ...(attempt ? { refundedAmount: { value: String(attempt.refundedAmount), currency: intent.currency } } : {}),
  };
}

/** The inquiryRefund body (without `result`): also the refund notification. */
export function refundInquiryBody(refund: Refund) {
  const meta = refundMeta(refund);
  return {
    paymentId: refund.intentId,
    ...(meta.refundRequestId ? { refundRequestId: meta.refundRequestId } : {}),
    refundId: refund.id,
    refundTime: isoTime(refund.status === 'PROCESSING' ? refund.createdAt : refund.updatedAt),
    refundStatus: refundStatus(refund),
    refund: {
      refundAmount: { value: String(refund.amount), currency: refund.currency },
      ...(meta.description ? { description: meta.description } : {}),
      ...(refund.notifyUrl ? { notifyUrl: refund.notifyUrl } : {}),
    },
  };
}

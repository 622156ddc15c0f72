/** AlphaPay v1 on the wire: order status codes, the query answer and the notification body, over the same orders as v2. */
import type { IntentView } from '../../../core/payments/service.ts';
import type { Refund } from '../../../core/payments/types.ts';
import { newNonce } from '../transport.ts';
import { v1QuerySign } from '../signature.ts';
import { orderMeta } from '../wire.ts';

/** v1 times: `yyyy-MM-dd HH:mm:ss`, UTC. */
export const v1Time = (ms: number): string => new Date(ms).toISOString().slice(0, 19).replace('T', ' ');

export type V1OrderStatus = 'PAYING' | 'CREATE_FAIL' | 'CLOSED' | 'PAY_FAIL' | 'PAY_SUCCESS' | 'PARTIAL_REFUND' | 'FULL_REFUND';

export function v1OrderStatus({ intent, attempt }: IntentView): V1OrderStatus {
  if (intent.status === 'SUCCEEDED') {
    const refunded = attempt?.refundedAmount ?? 0;
    if (refunded === 0) return 'PAY_SUCCESS';
    return refunded >= (attempt?.capturedAmount ?? 0) ? 'FULL_REFUND' : 'PARTIAL_REFUND';
  }
  if (intent.status === 'CANCELLED') return 'CLOSED';
  if (intent.status === 'FAILED') return !attempt || attempt.failureCode === 'payment_expired' ? 'CLOSED' : 'PAY_FAIL';
  if (intent.status === 'REQUIRES_PAYMENT_METHOD' && attempt?.status === 'FAILED') return 'PAY_FAIL';
  return 'PAYING';
}

/** The order fields v1 answers and notifications share. */
export function v1OrderFields(view: IntentView) {
  const { intent, attempt } = view;
  const meta = orderMeta(intent)!;
  const paid = (attempt?.capturedAmount ?? 0) > 0;
  return {
    partner_order_id: intent.merchantOrderId ?? '',
    order_id: intent.id,
    total_fee: intent.amount,
    real_fee: paid ? attempt!.capturedAmount : 0,
    rate: Number(attempt?.wallet?.fxRate ?? meta.exchangeRate ?? '1'),
    currency: intent.currency,
    channel: meta.channel ?? meta.paymentMethodType,
    create_time: v1Time(intent.createdAt),
    pay_time: paid && intent.completeTime !== null ? v1Time(intent.completeTime) : '',
  };
}

/** A v1 notification: the order's fields signed with time, nonce_str and sign (the v1 query-string rule). */
export function v1NotificationBody(partnerCode: string, credentialCode: string, view: IntentView, refund: Refund | null, now: number) {
  const time = String(now);
  const nonce = newNonce();
  return {
    time,
    nonce_str: nonce,
    sign: v1QuerySign(partnerCode, time, nonce, credentialCode),
    ...v1OrderFields(view),
    ...(refund ? { refund_id: refund.id, partner_refund_id: (refund.metadata as { alphapay?: { refundRequestId?: string } } | null)?.alphapay?.refundRequestId ?? '', refund_fee: refund.amount } : {}),
  };
}

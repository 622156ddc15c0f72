/**
 * The ids a payment goes by in the API it came through, beside the core's
 * intent id (which is also UQPAY's payment intent id and AlphaPay's
 * orderId / paymentId), and the ids a search term can stand for.
 */
import type { PaymentIntent } from '../../core/payments/types.ts';
import { intentIdOf, refundIdOf, syssnOf } from '../../dialects/qfpay/wire.ts';

export interface NamedId {
  label: string;
  value: string;
}

/** The dialect's own names for the payment's ids (QFPay's syssn and out_trade_no, AlphaPay's partner order id). */
export function dialectIds(intent: PaymentIntent): NamedId[] {
  const order = intent.merchantOrderId;
  switch (intent.origin) {
    case 'qfpay':
      return [{ label: 'syssn', value: syssnOf(intent.id) }, ...(order ? [{ label: 'out_trade_no', value: order }] : [])];
    case 'alphapay':
      return [{ label: 'orderId', value: intent.id }, ...(order ? [{ label: 'partner order id', value: order }] : [])];
    default:
      return order ? [{ label: 'merchant_order_id', value: order }] : [];
  }
}

/** A search as the ids it may name: itself, and a QFPay syssn (digits) as the payment or refund it numbers. */
export function searchTerms(text: string): string[] {
  const term = text.trim();
  if (!term) return [];
  return /^\d{5,40}$/.test(term) ? [term, intentIdOf(term), refundIdOf(term)] : [term];
}

/**
 * QFPay's wire format: every field a string, times "YYYY-MM-DD hh:mm:ss" at
 * UTC+08:00, syssn the digits of the core's id, and the order / refund rows
 * that query, notifications and the bill share.
 */
import { BUSINESS_UTC_OFFSET_MS } from '../../core/clock.ts';
import { convert, convertShare } from '../../core/fx.ts';
import type { IntentView } from '../../core/payments/service.ts';
import type { PaymentAttempt, PaymentIntent, Refund } from '../../core/payments/types.ts';
import type { Respcd } from './errors.ts';
import type { CardPagePolicy } from '../../web/card-pay.ts';
import { PAY_TYPES } from './pay-types.ts';

/** Milliseconds -> "YYYY-MM-DD hh:mm:ss" in Hong Kong time, as QFPay writes times. */
export function qfTime(ms: number): string {
  return new Date(ms + BUSINESS_UTC_OFFSET_MS).toISOString().slice(0, 19).replace('T', ' ');
}

const TIME = /^(\d{4})-(\d{2})-(\d{2})[ T](\d{2}):(\d{2}):(\d{2})(?:\.\d{1,6})?$/;

/** "YYYY-MM-DD hh:mm:ss" (fractional seconds tolerated, as Python's str(datetime) may add them) read at UTC+08:00; null when malformed. */
export function parseQfTime(text: string): number | null {
  const m = TIME.exec(text.trim());
  if (!m) return null;
  const [y, mo, d, h, mi, s] = m.slice(1).map(Number) as [number, number, number, number, number, number];
  const ms = Date.UTC(y, mo - 1, d, h, mi, s);
  const back = new Date(ms);
  if (back.getUTCFullYear() !== y || back.getUTCMonth() !== mo - 1 || back.getUTCDate() !== d || h > 23 || mi > 59 || s > 59) return null;
  return ms - BUSINESS_UTC_OFFSET_MS;
}

/** Start of the calendar month (UTC+08:00) that `ms` falls in, and of the next one. */
export function hkMonth(ms: number): { start: number; end: number } {
  const d = new Date(ms + BUSINESS_UTC_OFFSET_MS);
  const start = Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 1) - BUSINESS_UTC_OFFSET_MS;
  const end = Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 1) - BUSINESS_UTC_OFFSET_MS;
  return { start, end };
}

/** syssn is the digits of the core id: PI1933438751883661312 -> 1933438751883661312. */
export const syssnOf = (id: string): string => id.replace(/^[A-Z]+/, '');
export const intentIdOf = (syssn: string): string => `PI${syssn}`;
export const refundIdOf = (syssn: string): string => `RF${syssn}`;

/** What the dialect keeps on a QFPay intent (in its metadata) to answer as QFPay would. */
export interface QfOrderMeta {
  pay_type: string;
  txdtm: string;
  udid?: string;
  goods_name?: string;
  /** The sub-merchant's id when the order came through its parent's app code with mchid (that app code signs its notifications). */
  mchid?: string;
}

/** What the dialect keeps on a QFPay refund. */
export interface QfRefundMeta {
  out_trade_no: string;
  txdtm: string;
  udid?: string;
}

export function orderMeta(intent: PaymentIntent): QfOrderMeta | null {
  const m = (intent.metadata as { qfpay?: QfOrderMeta } | null)?.qfpay;
  return m && typeof m.pay_type === 'string' ? m : null;
}

export function refundMeta(refund: Refund): QfRefundMeta | null {
  const m = (refund.metadata as { qfpay?: QfRefundMeta } | null)?.qfpay;
  return m && typeof m.out_trade_no === 'string' ? m : null;
}

const FAILURE_RESPCD: Record<string, Respcd> = {
  insufficient_balance: '1201',
  insufficient_funds: '1201',
  invalid_payment_code: '1202',
  payment_code_expired: '2005',
  processing_error: '1205',
  payment_declined_by_payer: '1205',
  payment_expired: '1181',
};

const FAILURE_TEXT: Record<string, string> = {
  insufficient_balance: 'insufficient balance',
  invalid_payment_code: 'incorrect payment code',
  payment_code_expired: 'payment code expired',
  processing_error: 'wallet system error',
  payment_declined_by_payer: 'declined by the payer',
  payment_expired: 'order expired',
};

export interface OrderStatus {
  respcd: Respcd;
  errmsg: string;
}

function isCpm(attempt: PaymentAttempt | null): boolean {
  return attempt?.paymentMethod.type === 'wallet' && attempt.paymentMethod.wallet.flow === 'payment_code';
}

/**
 * An order's respcd: 0000 paid (also when later reversed or refunded: `cancel`
 * tells that), 1143 / 1145 not paid yet, 1181 expired, 1142 closed unpaid,
 * the wallet's decline otherwise.
 */
export function orderStatus({ intent, attempt }: IntentView): OrderStatus {
  if (attempt?.status === 'FAILED') {
    const code = attempt.failureCode ?? 'processing_error';
    return { respcd: FAILURE_RESPCD[code] ?? '1205', errmsg: FAILURE_TEXT[code] ?? code };
  }
  if (attempt?.status === 'EXPIRED' || intent.status === 'FAILED') return { respcd: '1181', errmsg: 'order expired' };
  if (attempt && attempt.capturedAmount > 0 && (intent.status === 'SUCCEEDED' || intent.status === 'CANCELLED')) {
    return { respcd: '0000', errmsg: 'success' };
  }
  if (intent.status === 'REQUIRES_CAPTURE' && attempt?.status === 'AUTHORIZED') return { respcd: '0000', errmsg: 'frozen' };
  if (intent.status === 'CANCELLED') return { respcd: '1142', errmsg: 'order closed' };
  if (attempt?.status === 'PENDING_AUTHORIZATION') {
    // The core may record why the wallet is still pending; 1145 is "processing", 1143 "payer confirming".
    const reason = attempt.wallet?.pendingReason;
    return reason === 'processing' ? { respcd: '1145', errmsg: 'processing' } : { respcd: '1143', errmsg: 'waiting for the payer to confirm' };
  }
  return { respcd: '1143', errmsg: 'not paid yet' };
}

/** `cancel`: 0 none, 1 CPM reversed, 2 MPM (or web / app) cancelled, 3 refunded, 4 pre-authorization finished (captured), 5 partially refunded. */
export function cancelFlag({ intent, attempt }: IntentView): string {
  if (intent.status === 'CANCELLED') return isCpm(attempt) ? '1' : '2';
  if (attempt && attempt.capturedAmount > 0 && attempt.refundedAmount > 0) {
    return attempt.refundedAmount >= attempt.capturedAmount ? '3' : '5';
  }
  if (attempt && attempt.capturedAmount > 0 && payTypeOf(intent)?.preAuth) return '4';
  return '0';
}

/** Alipay CN and WeChat Pay debit the shopper in CNY: QFPay reports that amount as cash_fee. */
function cnyWallet(attempt: PaymentAttempt | null): boolean {
  return attempt?.paymentMethod.type === 'wallet' && ['alipaycn', 'wechatpay'].includes(attempt.paymentMethod.wallet.kind);
}

/** What the shopper paid, once paid. */
function cashFee(attempt: PaymentAttempt | null): { cash_fee: string; cash_fee_type: string } {
  if (!attempt?.wallet || !cnyWallet(attempt) || attempt.capturedAmount <= 0) return { cash_fee: '', cash_fee_type: '' };
  return { cash_fee: String(attempt.wallet.shopperAmount), cash_fee_type: attempt.wallet.shopperCurrency };
}

/**
 * What the shopper got back, in the wallet's currency: for one refund its
 * share of the converted charge (worked out by the core when the refund was
 * made), for a payment the sum of its refunds' shares (the charge itself once
 * refunded in full), so the refunds always add up to cash_fee.
 */
function cashRefund(attempt: PaymentAttempt | null, refund?: Refund): { cash_refund_fee: string; cash_refund_fee_type: string } {
  const refunded = refund ? refund.amount : (attempt?.refundedAmount ?? 0);
  if (!attempt?.wallet || !cnyWallet(attempt) || refunded <= 0) return { cash_refund_fee: '', cash_refund_fee_type: '' };
  const { shopperCurrency, shopperAmount, fxRate } = attempt.wallet;
  const currency = attempt.currency;
  let back: number;
  if (shopperCurrency === currency || !fxRate) back = refunded;
  else if (refund) back = refund.shopperAmount ?? convert({ amount: refund.amount, currency }, shopperCurrency, fxRate).amount;
  else back = convertShare({ before: 0, amount: refunded, total: attempt.capturedAmount, currency }, { amount: shopperAmount, currency: shopperCurrency }, fxRate).amount;
  return { cash_refund_fee: String(back), cash_refund_fee_type: shopperCurrency };
}

/** When the shopper paid; an unpaid order shows its creation time, as QFPay's answers do. */
function paidAt({ intent, attempt }: IntentView): number {
  return attempt && attempt.capturedAmount > 0 && intent.completeTime !== null ? intent.completeTime : intent.createdAt;
}

/** The fields of an order that every answer about it shares. */
export function orderFields(view: IntentView): Record<string, string> {
  const { intent, attempt } = view;
  const meta = orderMeta(intent);
  return {
    syssn: syssnOf(intent.id),
    out_trade_no: intent.merchantOrderId ?? '',
    pay_type: meta?.pay_type ?? '',
    txamt: String(intent.amount),
    txcurrcd: intent.currency,
    txdtm: meta?.txdtm ?? qfTime(intent.createdAt),
    sysdtm: qfTime(intent.createdAt),
    paydtm: qfTime(paidAt(view)),
    chnlsn: attempt?.wallet?.walletTransactionId ?? '',
    cardcd: attempt?.paymentMethod.type === 'card' ? `${attempt.paymentMethod.card.bin}******${attempt.paymentMethod.card.last4}` : '',
    udid: meta?.udid ?? '',
    goods_name: meta?.goods_name ?? intent.description ?? '',
  };
}

/** A payment row of /trade/v1/query and the bill. */
export function paymentRow(view: IntentView): Record<string, string> {
  const { intent, attempt } = view;
  const f = orderFields(view);
  const status = orderStatus(view);
  return {
    syssn: f.syssn!,
    out_trade_no: f.out_trade_no!,
    chnlsn: f.chnlsn!,
    goods_name: f.goods_name!,
    txcurrcd: f.txcurrcd!,
    pay_type: f.pay_type!,
    order_type: 'payment',
    txdtm: f.txdtm!,
    txamt: f.txamt!,
    sysdtm: f.sysdtm!,
    paydtm: f.paydtm!,
    cancel: cancelFlag(view),
    respcd: status.respcd,
    errmsg: status.errmsg,
    exchange_rate: attempt?.wallet?.fxRate ?? '',
    ...cashFee(attempt),
    ...cashRefund(attempt),
    udid: f.udid!,
  };
}

export function refundStatus(refund: Refund): OrderStatus {
  if (refund.status === 'SUCCEEDED') return { respcd: '0000', errmsg: 'success' };
  if (refund.status === 'FAILED') return { respcd: '1205', errmsg: refund.failureCode ?? 'refund failed' };
  return { respcd: '1145', errmsg: 'processing' };
}

/** A refund row of /trade/v1/query and the bill: its own syssn and out_trade_no, origssn the payment's. */
export function refundRow(refund: Refund, order: IntentView): Record<string, string> {
  const meta = refundMeta(refund);
  const status = refundStatus(refund);
  const attempt = order.attempt;
  return {
    syssn: syssnOf(refund.id),
    out_trade_no: meta?.out_trade_no ?? '',
    chnlsn: attempt?.wallet?.walletTransactionId ?? '',
    goods_name: orderMeta(order.intent)?.goods_name ?? order.intent.description ?? '',
    txcurrcd: refund.currency,
    origssn: syssnOf(order.intent.id),
    pay_type: orderMeta(order.intent)?.pay_type ?? '',
    order_type: 'refund',
    txdtm: meta?.txdtm ?? qfTime(refund.createdAt),
    txamt: String(refund.amount),
    sysdtm: qfTime(refund.createdAt),
    paydtm: qfTime(refund.status === 'PROCESSING' ? refund.createdAt : refund.updatedAt),
    cancel: '0',
    respcd: status.respcd,
    errmsg: status.errmsg,
    exchange_rate: attempt?.wallet?.fxRate ?? '',
    ...cashFee(attempt),
    ...cashRefund(attempt, refund),
    udid: meta?.udid ?? '',
  };
}

export { cashFee, cashRefund, isCpm };

/** Whether an intent came through this dialect (UQPAY intents have no pay_type and are not QFPay orders). */
export function isQfOrder(intent: PaymentIntent): boolean {
  return intent.origin === 'qfpay' && orderMeta(intent) !== null;
}

export function payTypeOf(intent: PaymentIntent) {
  const code = orderMeta(intent)?.pay_type;
  return code ? PAY_TYPES.get(code) : undefined;
}

/** How the hosted card page takes a QFPay order of a card pay_type; null for any other order. */
export function qfpayCardPolicy(intent: PaymentIntent): CardPagePolicy | null {
  const card = isQfOrder(intent) ? payTypeOf(intent)?.card : undefined;
  if (!card) return null;
  return { networks: card.networks, threeDsAction: card.threeDs, label: card.label };
}

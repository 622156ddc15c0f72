/**
 * QFPay asynchronous notifications: sent for successful payments and
 * successful refunds only (and a pre-authorization's release, notify_type
 * unfreeze), as a JSON object of strings laid out exactly as
 * Python's json.dumps writes it (verifiers rebuild that layout), signed with
 * X-QF-SIGN = upper-case MD5(body + client key of the app code that made the
 * order). Received when the merchant answers HTTP 200 with the body SUCCESS.
 */
import type { Merchant } from '../../core/merchants/merchants.ts';
import type { PaymentEventPayload } from '../../core/payments/types.ts';
import type { RenderInput, RenderedWebhook, WebhookRenderer } from '../../delivery/relay.ts';
import { dialectSends } from '../../delivery/sent-events.ts';
import { pythonJsonDumps, signNotification } from './signature.ts';
import { cancelFlag, cashFee, cashRefund, isQfOrder, orderFields, orderMeta, payTypeOf, qfTime, refundMeta, syssnOf } from './wire.ts';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;

/** QFPay's schedule: after the first send, retries 2 min, 10 min, 10 min, 60 min, 2 h, 6 h and 15 h later. */
export const QFPAY_RETRY_DELAYS_MS: readonly number[] = Object.freeze([2 * MINUTE, 10 * MINUTE, 10 * MINUTE, 60 * MINUTE, 2 * HOUR, 6 * HOUR, 15 * HOUR]);

/** The notification body for a core event, or null when QFPay sends none for it. */
export function notificationBody(type: string, payload: PaymentEventPayload, mchid: string): string | null {
  const { intent, attempt = null, refund } = payload;
  if (!intent || !isQfOrder(intent)) return null;
  const view = { intent, attempt };
  const order = orderFields(view);
  // Both kinds share one layout: the order's fields, with the transaction's own in between.
  const body = (own: Record<'sysdtm' | 'paydtm' | 'txcurrcd' | 'txdtm' | 'txamt' | 'out_trade_no' | 'syssn' | 'notify_type', string>, refundFees: Record<string, string>) => ({
    status: '1',
    pay_type: order.pay_type!,
    sysdtm: own.sysdtm,
    paydtm: own.paydtm,
    txcurrcd: own.txcurrcd,
    txdtm: own.txdtm,
    txamt: own.txamt,
    out_trade_no: own.out_trade_no,
    syssn: own.syssn,
    cancel: cancelFlag(view),
    respcd: '0000',
    notify_type: own.notify_type,
    mchid,
    goods_name: order.goods_name!,
    exchange_rate: attempt?.wallet?.fxRate ?? '',
    chnlsn: order.chnlsn!,
    cardcd: order.cardcd!,
    ...cashFee(attempt),
    ...refundFees,
  });
  let fields: Record<string, string>;
  if (type === 'payment_intent.succeeded') {
    fields = body(
      {
        sysdtm: order.sysdtm!,
        paydtm: order.paydtm!,
        txcurrcd: order.txcurrcd!,
        txdtm: order.txdtm!,
        txamt: order.txamt!,
        out_trade_no: order.out_trade_no!,
        syssn: order.syssn!,
        notify_type: 'payment',
      },
      { cash_refund_fee: '', cash_refund_fee_type: '' },
    );
  } else if (type === 'cancel.succeeded' && payTypeOf(intent)?.preAuth && attempt?.wallet?.walletTransactionId && attempt.capturedAmount === 0) {
    // A pre-authorization whose frozen funds were released (unfreeze, or reversal of the freeze).
    fields = body(
      {
        sysdtm: qfTime(intent.cancelTime ?? intent.updatedAt),
        paydtm: qfTime(intent.cancelTime ?? intent.updatedAt),
        txcurrcd: order.txcurrcd!,
        txdtm: order.txdtm!,
        txamt: order.txamt!,
        out_trade_no: order.out_trade_no!,
        syssn: order.syssn!,
        notify_type: 'unfreeze',
      },
      { cash_refund_fee: '', cash_refund_fee_type: '' },
    );
  } else if (type === 'refund.succeeded' && refund) {
    const meta = refundMeta(refund);
    fields = body(
      {
        sysdtm: qfTime(refund.createdAt),
        paydtm: qfTime(refund.updatedAt),
        txcurrcd: refund.currency,
        txdtm: meta?.txdtm ?? qfTime(refund.createdAt),
        txamt: String(refund.amount),
        out_trade_no: meta?.out_trade_no ?? '',
        syssn: syssnOf(refund.id),
        notify_type: 'refund',
      },
      cashRefund(attempt, refund),
    );
  } else {
    return null;
  }
  return pythonJsonDumps(fields);
}

export class QfpayNotificationRenderer implements WebhookRenderer {
  readonly retryDelaysMs = QFPAY_RETRY_DELAYS_MS;
  private readonly cache = new Map<string, Merchant | null>();

  constructor(private readonly merchantById: (id: string) => Promise<Merchant | null>) {}

  private async merchant(id: string): Promise<Merchant | null> {
    if (!this.cache.has(id)) {
      if (this.cache.size > 10_000) this.cache.clear();
      this.cache.set(id, await this.merchantById(id));
    }
    return this.cache.get(id)!;
  }

  async render({ event }: RenderInput): Promise<RenderedWebhook | null> {
    if (!dialectSends('qfpay', event.type)) return null;
    const merchant = await this.merchant(event.merchant_id);
    if (!merchant) return null;
    const payload = JSON.parse(event.payload) as PaymentEventPayload;
    // The app code that made the order signs: the parent's when the order named this sub-merchant by mchid (and
    // the body names it too), else the merchant's own, also for a sub-merchant using its own app code.
    const parentId = payload.intent && orderMeta(payload.intent)?.mchid === merchant.id ? merchant.parentId : null;
    const signer = parentId ? await this.merchant(parentId) : merchant;
    if (!signer) return null;
    const body = notificationBody(event.type, payload, parentId ? merchant.id : '');
    if (body === null) return null;
    return { body, headers: { 'X-QF-SIGN': signNotification(body, signer.qfpay.clientKey) } };
  }

  /**
   * QFPay's rule is HTTP 200 with the body SUCCESS. The case is not checked:
   * QFPay's own PHP notification sample answers "success".
   */
  isAcknowledged(status: number, body: string): boolean {
    return status === 200 && body.trim().toUpperCase() === 'SUCCESS';
  }
}

/**
 * AlphaPay notifications: on payment success and refund success, the
 * inquiry body without `result`, POSTed to the order's (or refund's)
 * notifyUrl and signed with the merchant's platform key over
 * `POST <notifyUrl path>\n<Merchant-Code>.<Response-Time>.<Nonce>.<body>`.
 * Payments are retried on ALPHAPAY_RETRY_DELAYS_MS; a refund is sent once.
 * Any HTTP 200 counts as received.
 */
import type { Merchant } from '../../core/merchants/merchants.ts';
import type { PaymentEventPayload } from '../../core/payments/types.ts';
import type { RenderInput, RenderedWebhook, WebhookRenderer } from '../../delivery/relay.ts';
import { dialectSends } from '../../delivery/sent-events.ts';
import { ALPHAPAY_RETRY_DELAYS_MS } from '../../delivery/schedules.ts';
import { signedHeaders } from './transport.ts';
import { v1NotificationBody } from './v1/wire.ts';
import { orderMeta, paymentInquiryBody, refundInquiryBody } from './wire.ts';

export class AlphapayNotificationRenderer implements WebhookRenderer {
  readonly retryDelaysMs = ALPHAPAY_RETRY_DELAYS_MS;
  constructor(
    /** Remembered by the caller, which forgets a merchant whose keys change. */
    private readonly merchant: (id: string) => Promise<Merchant | null>,
    /** The merchant's v1 credential code (v1 notifications carry a sign made with it). */
    private readonly credentialCode: (merchant: Merchant) => string | null,
    /** Real time: notifications are signed with the time they are sent. */
    private readonly realNow: () => number,
  ) {}

  async render({ event, delivery }: RenderInput): Promise<RenderedWebhook | null> {
    const isRefund = event.type === 'refund.succeeded';
    if (!dialectSends('alphapay', event.type)) return null;
    // A refund notification is tried once: a retry of one is not sent.
    if (isRefund && delivery.attempts > 0) return null;
    const payload = JSON.parse(event.payload) as PaymentEventPayload;
    const { intent, attempt = null, refund } = payload;
    const meta = intent ? orderMeta(intent) : null;
    if (!intent || !meta || (isRefund && !refund)) return null;
    const merchant = await this.merchant(event.merchant_id);
    if (!merchant) return null;
    const now = this.realNow();
    if (meta.api === 'v1') {
      const code = this.credentialCode(merchant);
      if (!code) return null;
      return { body: JSON.stringify(v1NotificationBody(merchant.alphapay.merchantCode, code, { intent, attempt }, isRefund ? refund! : null, now)), headers: {} };
    }
    const body = JSON.stringify(isRefund ? refundInquiryBody(refund!) : paymentInquiryBody({ intent, attempt }));
    return { body, headers: signedHeaders(merchant, 'POST', new URL(delivery.url).pathname, body, now) };
  }

  isAcknowledged(status: number): boolean {
    return status === 200;
  }
}

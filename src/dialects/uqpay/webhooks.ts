/**
 * UQPAY acquiring webhooks: the v1.6 envelope, signed with the merchant's
 * webhook secret (x-wk-signature = hex HMAC-SHA512 of raw body + x-wk-timestamp).
 */
import { systemClock, type Clock } from '../../core/clock.ts';
import type { PaymentEventPayload } from '../../core/payments/types.ts';
import type { RenderInput, RenderedWebhook, WebhookRenderer } from '../../delivery/relay.ts';
import { UQPAY_RETRY_DELAYS_MS } from '../../delivery/schedules.ts';
import { issuingWebhookBody } from './issuing-webhooks.ts';
import * as wire from './serializers.ts';
import { signWebhook } from './webhook-signature.ts';

/** Core event type -> UQPAY event_type. */
export const ACQUIRING_EVENT_TYPES: Record<string, string> = {
  'payment_intent.created': 'acquiring.payment_intent.created',
  'payment_intent.succeeded': 'acquiring.payment_intent.succeeded',
  'payment_intent.failed': 'acquiring.payment_intent.failed',
  'payment_intent.requires_action': 'acquiring.payment_intent.requires_action',
  'payment_attempt.created': 'acquiring.payment_attempt.created',
  'payment_attempt.capture_requested': 'acquiring.payment_attempt.capture_requested',
  'payment_attempt.cancelled': 'acquiring.payment_attempt.cancelled',
  'payment_attempt.failed': 'acquiring.payment_attempt.failed',
  'cancel.succeeded': 'acquiring.cancel.succeeded',
  'cancel.failed': 'acquiring.cancel.failed',
  'refund.created': 'acquiring.refund.created',
  'refund.succeeded': 'acquiring.refund.succeeded',
  'refund.failed': 'acquiring.refund.failed',
};

function data(type: string, p: PaymentEventPayload): Record<string, unknown> {
  if (type.startsWith('refund.') && p.refund) return wire.refund(p.refund);
  if (type.startsWith('payment_attempt.') && p.attempt) {
    return { payment_attempt_id: p.attempt.id, ...wire.attempt(p.attempt) };
  }
  return wire.intent({ intent: p.intent!, attempt: p.attempt ?? null });
}

export function webhookBody(eventId: string, coreType: string, sourceId: string, payload: PaymentEventPayload): string | null {
  const eventType = ACQUIRING_EVENT_TYPES[coreType];
  if (!eventType) return issuingWebhookBody(eventId, coreType, sourceId, payload);
  return JSON.stringify({
    version: 'V1.6.0',
    event_name: 'ACQUIRING',
    event_type: eventType,
    event_id: eventId,
    source_id: sourceId,
    data: data(coreType, payload),
  });
}

export class UqpayWebhookRenderer implements WebhookRenderer {
  readonly retryDelaysMs = UQPAY_RETRY_DELAYS_MS;

  /**
   * `signingClock` stamps x-wk-timestamp. It is the wall clock, not the
   * platform's (sandbox) clock: receivers check the timestamp against their
   * own clock (SDK verifiers allow 300 s of skew), and advancing the sandbox
   * clock must not make every later webhook fail verification.
   */
  constructor(
    private readonly webhookSecret: (merchantId: string) => Promise<string | null>,
    private readonly signingClock: Clock = systemClock,
  ) {}

  async render({ event }: RenderInput): Promise<RenderedWebhook | null> {
    const body = webhookBody(event.id, event.type, event.source_id, JSON.parse(event.payload));
    const secret = await this.webhookSecret(event.merchant_id);
    if (body === null || secret === null) return null;
    const timestamp = String(Math.floor(this.signingClock.now() / 1000));
    return {
      body,
      headers: { 'x-wk-timestamp': timestamp, 'x-wk-signature': signWebhook(secret, body, timestamp) },
    };
  }

  isAcknowledged(status: number): boolean {
    return status >= 200 && status < 300;
  }
}

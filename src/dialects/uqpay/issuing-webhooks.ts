/** Issuing events as UQPAY webhooks: event_name ISSUING, seed 001's data shapes. */
import type { IssuingEventPayload, IssuingEventType } from '../../core/issuing/types.ts';
import * as wire from './issuing-serializers.ts';

const ISSUING_EVENT_TYPES: ReadonlySet<string> = new Set<IssuingEventType>([
  'card.create.succeeded',
  'card.update.succeeded',
  'card.status.update.succeeded',
  'card.recharge.succeeded',
  'card.withdraw.succeeded',
  'issuing.transaction.authorization',
  'issuing.transaction.reversal',
  'issuing.transaction.refund',
  'issuing.transaction.settlement',
]);

/** The webhook body for an issuing event, or null for an event of another kind. */
export function issuingWebhookBody(eventId: string, type: string, sourceId: string, payload: unknown): string | null {
  if (!ISSUING_EVENT_TYPES.has(type)) return null;
  const p = payload as IssuingEventPayload;
  return JSON.stringify({
    version: 'V1.6.0',
    event_name: 'ISSUING',
    event_type: type,
    event_id: eventId,
    source_id: sourceId,
    data: p.transaction ? wire.transaction(p.transaction, p.card) : wire.cardEventData(p.card),
  });
}

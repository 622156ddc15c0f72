/** The outbox's delivery rows: planned in the same transaction as their event, sent by the relay after commit. */
import type { DeliveryTable } from './schema.ts';

/** A delivery of event `eventId` to `url` in `dialect`, due at once. */
export function plannedDelivery(event: { id: string; merchantId: string; createdAt: number }, dialect: string, url: string): DeliveryTable {
  return {
    id: `${event.id}:${dialect}`,
    event_id: event.id,
    merchant_id: event.merchantId,
    dialect,
    url,
    status: 'pending',
    attempts: 0,
    next_attempt_at: event.createdAt,
    lease_until: null,
    lease_owner: null,
    last_status_code: null,
    last_error: null,
    created_at: event.createdAt,
    updated_at: event.createdAt,
  };
}

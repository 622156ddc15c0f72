/** The outbox's delivery rows: planned in the same transaction as their event, sent by the relay after commit. */
import { dialectSends } from '../delivery/sent-events.ts';
import type { DeliveryTable } from './schema.ts';

export interface PlannedEvent {
  id: string;
  merchantId: string;
  type: string;
  createdAt: number;
}

/**
 * The deliveries of `events`: each to the URL `target` names for it (none:
 * not delivered), in its dialect, due at once; only events that dialect
 * sends. The one place both the payments and the issuing store plan them.
 */
export async function plannedDeliveries<E extends PlannedEvent>(
  events: readonly E[],
  target: (event: E) => { dialect: string; url: string | null } | Promise<{ dialect: string; url: string | null }>,
): Promise<DeliveryTable[]> {
  const out: DeliveryTable[] = [];
  for (const e of events) {
    const { dialect, url } = await target(e);
    if (url && dialectSends(dialect, e.type)) out.push(plannedDelivery(e, dialect, url));
  }
  return out;
}

function plannedDelivery(event: PlannedEvent, dialect: string, url: string): DeliveryTable {
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

/**
 * A merchant's delivery log for the dashboard: its webhooks and
 * notifications, newest first, a page at a time (keyset on created_at, id),
 * filtered by status and event type, each with every try.
 */
import type { Store } from '../store/store.ts';
import type { DeliveryAttemptRecord } from './relay.ts';

export const DELIVERY_STATUSES = ['pending', 'succeeded', 'failed', 'skipped'] as const;

/** Where a page starts: after the delivery with this time and id. */
export interface DeliveryCursor {
  createdAt: number;
  id: string;
}

export interface DeliveryLogQuery {
  merchantIds: string[];
  status?: string;
  /** A core event type (payment_intent.succeeded, refund.succeeded, ...). */
  eventType?: string;
  after?: DeliveryCursor;
  limit: number;
}

export interface DeliveryEntry {
  id: string;
  eventId: string;
  eventType: string;
  sourceId: string;
  merchantId: string;
  dialect: string;
  url: string;
  status: string;
  attempts: number;
  nextAttemptAt: number;
  lastStatusCode: number | null;
  lastError: string | null;
  createdAt: number;
  attemptLog: DeliveryAttemptRecord[];
}

export interface DeliveryPage {
  entries: DeliveryEntry[];
  /** The cursor of the next page, or null on the last. */
  next: DeliveryCursor | null;
}

export const encodeCursor = (c: DeliveryCursor): string => `${c.createdAt}.${c.id}`;

/** A cursor from its text, or undefined when the text is not one. */
export function decodeCursor(text: string | undefined): DeliveryCursor | undefined {
  const m = text ? /^(\d{1,16})\.([\w:.-]{1,200})$/.exec(text) : null;
  return m ? { createdAt: Number(m[1]), id: m[2]! } : undefined;
}

export class DeliveryLog {
  constructor(private readonly store: Store) {}

  async page(q: DeliveryLogQuery): Promise<DeliveryPage> {
    if (!q.merchantIds.length) return { entries: [], next: null };
    let query = this.store.read
      .selectFrom('deliveries')
      .innerJoin('events', 'events.id', 'deliveries.event_id')
      .select([
        'deliveries.id',
        'deliveries.event_id',
        'deliveries.merchant_id',
        'deliveries.dialect',
        'deliveries.url',
        'deliveries.status',
        'deliveries.attempts',
        'deliveries.next_attempt_at',
        'deliveries.last_status_code',
        'deliveries.last_error',
        'deliveries.created_at',
        'events.type as event_type',
        'events.source_id',
      ])
      .where('deliveries.merchant_id', 'in', q.merchantIds);
    if (q.status) query = query.where('deliveries.status', '=', q.status);
    if (q.eventType) query = query.where('events.type', '=', q.eventType);
    const after = q.after;
    if (after) {
      query = query.where((eb) =>
        eb.or([eb('deliveries.created_at', '<', after.createdAt), eb.and([eb('deliveries.created_at', '=', after.createdAt), eb('deliveries.id', '<', after.id)])]),
      );
    }
    // One more than the page: whether there is a next one.
    const rows = await query.orderBy('deliveries.created_at', 'desc').orderBy('deliveries.id', 'desc').limit(q.limit + 1).execute();
    const page = rows.slice(0, q.limit);
    const tries = page.length
      ? await this.store.read
          .selectFrom('delivery_attempts')
          .select(['delivery_id', 'attempt', 'status_code', 'error', 'duration_ms', 'attempted_at'])
          .where('delivery_id', 'in', page.map((d) => d.id))
          .orderBy('attempt')
          .orderBy('id')
          .execute()
      : [];
    const entries = page.map((d) => ({
      id: d.id,
      eventId: d.event_id,
      eventType: d.event_type,
      sourceId: d.source_id,
      merchantId: d.merchant_id,
      dialect: d.dialect,
      url: d.url,
      status: d.status,
      attempts: Number(d.attempts),
      nextAttemptAt: Number(d.next_attempt_at),
      lastStatusCode: d.last_status_code,
      lastError: d.last_error,
      createdAt: Number(d.created_at),
      attemptLog: tries
        .filter((a) => a.delivery_id === d.id)
        .map(({ delivery_id: _id, ...a }) => ({ ...a, attempt: Number(a.attempt), attempted_at: Number(a.attempted_at), duration_ms: Number(a.duration_ms) })),
    }));
    const last = entries[entries.length - 1];
    return { entries, next: rows.length > q.limit && last ? { createdAt: last.createdAt, id: last.id } : null };
  }

}

/**
 * A merchant's delivery log for the dashboard: its webhooks and
 * notifications, newest first, a keyset page at a time, filtered by status
 * and event type, each with every try.
 */
import { after, pageOf, type Cursor, type KeysetPage } from '../store/keyset.ts';
import type { Store } from '../store/store.ts';
import type { DeliveryAttemptRecord } from './relay.ts';

export const DELIVERY_STATUSES = ['pending', 'succeeded', 'failed', 'skipped'] as const;

export interface DeliveryLogQuery {
  merchantIds: string[];
  status?: string;
  /** A core event type (payment_intent.succeeded, refund.succeeded, ...). */
  eventType?: string;
  after?: Cursor;
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

export class DeliveryLog {
  constructor(private readonly store: Store) {}

  async page(q: DeliveryLogQuery): Promise<KeysetPage<DeliveryEntry>> {
    if (!q.merchantIds.length) return { rows: [], next: null };
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
    if (q.after) query = query.where(after('deliveries.created_at', 'deliveries.id', q.after));
    // One more than the page: whether there is a next one.
    const found = await query.orderBy('deliveries.created_at', 'desc').orderBy('deliveries.id', 'desc').limit(q.limit + 1).execute();
    const { rows, next } = pageOf(found, q.limit, (d) => ({ createdAt: Number(d.created_at), id: d.id }));
    const tries = rows.length
      ? await this.store.read
          .selectFrom('delivery_attempts')
          .select(['delivery_id', 'attempt', 'status_code', 'error', 'duration_ms', 'attempted_at', 'response_body'])
          .where('delivery_id', 'in', rows.map((d) => d.id))
          .orderBy('attempt')
          .orderBy('id')
          .execute()
      : [];
    const entries = rows.map((d) => ({
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
    return { rows: entries, next };
  }
}

/** The outbox's delivery rows: planned in the same transaction as their event, sent by the relay after commit. */
import { dialectSends } from '../delivery/sent-events.ts';
import { insertRows } from './compiled.ts';
import type { DeliveryTable, EventTable } from './schema.ts';
import type { Db } from './store.ts';

export interface PlannedEvent {
  id: string;
  merchantId: string;
  type: string;
  createdAt: number;
}

type Target<E> = (event: E) => { dialect: string; url: string | null } | Promise<{ dialect: string; url: string | null }>;

/**
 * Records `events` in the unit on `db` (`rows`: the same events as stored),
 * with the deliveries their dialects send, planned by `target` and leased to
 * the process's relay where it has room (`handoff`). The one place both the
 * payments and the issuing store write the outbox.
 */
export async function appendToOutbox<E extends PlannedEvent>(db: Db, events: readonly E[], rows: EventRow[], target: Target<E>, handoff: Handoff): Promise<void> {
  await insertRows(db, 'events', rows);
  const deliveries = await plannedDeliveries(events, target);
  if (deliveries.length === 0) return;
  handoff.take(deliveries, rows);
  await insertRows(db, 'deliveries', deliveries);
}

/**
 * The deliveries of `events`: each to the URL `target` names for it (none:
 * not delivered), in its dialect, due at once; only events that dialect
 * sends.
 */
export async function plannedDeliveries<E extends PlannedEvent>(events: readonly E[], target: Target<E>): Promise<DeliveryTable[]> {
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

/** An event as the outbox stores it (its payload serialized). */
export type EventRow = Pick<EventTable, 'id' | 'merchant_id' | 'type' | 'source_id' | 'payload' | 'created_at'>;

/** A delivery a unit leased to this process's relay as it planned it, with its event. */
export interface TakenDelivery {
  row: DeliveryTable;
  event: EventRow;
}

/**
 * This process's relay, as the units that plan deliveries see it. It takes
 * a new delivery in the unit that plans it (the row is written already
 * leased to it), and is handed the row and its event once the unit has
 * committed: no claim, no read of the event, no wait for a polling interval.
 * A process that dies before sending leaves a lease that runs out, as any
 * claim does, so the outbox's guarantees are the claim's.
 */
export interface LocalSender {
  /** In the unit: leases `row` to the sender (sets its lease) if it has room for it; false leaves it to a claim. */
  take(row: DeliveryTable): boolean;
  /** The unit committed: send these. */
  handOver(taken: TakenDelivery[]): void;
  /** The unit did not commit: forget these. */
  drop(taken: TakenDelivery[]): void;
  /**
   * Null while the sender keeps up; otherwise a promise that settles once it
   * has caught up (or after a bounded wait): the unit waits for it before it
   * starts, so the API takes new work at the pace its webhooks go out.
   */
  room(): Promise<void> | null;
}

/** Where the units of a process find its relay: attached while the relay runs. */
export class Outbox {
  private sender: LocalSender | null = null;

  attach(sender: LocalSender): void {
    this.sender = sender;
  }

  detach(sender: LocalSender): void {
    if (this.sender === sender) this.sender = null;
  }

  /**
   * Runs a unit (`run` calls the store's unit) with a hand-off of its own:
   * what its plans leased to the relay goes to it if the unit commits, and
   * is forgotten if it does not. While the relay is behind, the unit first
   * waits for it to catch up.
   */
  async unit<T>(run: (handoff: Handoff) => Promise<T>): Promise<T> {
    const sender = this.sender;
    if (!sender) return run(noHandoff);
    const behind = sender.room();
    if (behind) await behind;
    const handoff = new Handoff(sender);
    let value: T;
    try {
      value = await run(handoff);
    } catch (error) {
      if (handoff.taken.length) sender.drop(handoff.taken);
      throw error;
    }
    if (handoff.taken.length) sender.handOver(handoff.taken);
    return value;
  }
}

/** One unit's deliveries taken by the relay. */
export class Handoff {
  readonly taken: TakenDelivery[] = [];

  constructor(private readonly sender: LocalSender | null) {}

  /** Leases to the relay what it has room for, before the rows are inserted. `events`: the rows' events. */
  take(rows: DeliveryTable[], events: readonly EventRow[]): void {
    if (!this.sender) return;
    const byId = new Map(events.map((e) => [e.id, e]));
    for (const row of rows) {
      const event = byId.get(row.event_id);
      if (event && this.sender.take(row)) this.taken.push({ row, event });
    }
  }
}

/** For units run with no relay attached (and reads): takes nothing. */
export const noHandoff = new Handoff(null);

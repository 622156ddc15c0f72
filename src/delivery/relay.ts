/**
 * Outbox relay: claims due rows of `deliveries` (written in the same
 * transaction as their event), renders them in their dialect, POSTs them with
 * no transaction open, and records each try. Delivery is at least once:
 * a row whose lease ran out (the process died mid-send) is claimed again, and
 * receivers dedupe by event id.
 */
import { systemClock, type Clock } from '../core/clock.ts';
import type { DeliveryAttemptTable, DeliveryTable, EventTable } from '../store/schema.ts';
import type { Store } from '../store/store.ts';
import { deliveryPending } from '../store/sweep-conditions.ts';

export type WebhookEvent = Pick<EventTable, 'id' | 'merchant_id' | 'type' | 'source_id' | 'payload' | 'created_at'>;

export interface RenderInput {
  event: WebhookEvent;
  delivery: { id: string; url: string; attempts: number };
  now: number;
}

export interface RenderedWebhook {
  body: string;
  headers: Record<string, string>;
}

/** One per dialect: turns a core event into that provider's notification. */
export interface WebhookRenderer {
  /** null: this dialect does not send this event (the delivery becomes 'skipped'). */
  render(input: RenderInput): Promise<RenderedWebhook | null>;
  /** Whether the receiver's answer counts as received (UQPAY: any 2xx). */
  isAcknowledged(status: number, body: string): boolean;
  /** Delay before retry n is retryDelaysMs[n - 1]; after the last one the delivery is 'failed'. */
  readonly retryDelaysMs: readonly number[];
}

/** Told each try's outcome once it is on record (metrics). */
export interface DeliveryObserver {
  /** `lagMs`: from the event being recorded to the receiver's acknowledgement, in platform time (acknowledged tries only). */
  delivered(dialect: string, outcome: 'acknowledged' | 'retrying' | 'failed' | 'skipped', lagMs?: number): void;
}

type LogFn = (obj: unknown, msg?: string) => void;
export interface RelayLogger {
  info: LogFn;
  warn: LogFn;
  error: LogFn;
}

export interface DeliveryRelayOptions {
  store: Store;
  /** Platform time: when deliveries fall due and when tries happened. */
  clock: Clock;
  /**
   * Real time, for leases (default: the system clock). A lease guards a send
   * in progress, which takes real seconds whatever the sandbox clock does: in
   * platform time, advancing the clock on any node would expire the leases of
   * sends still under way and send them twice.
   */
  leaseClock?: Clock;
  renderers: Record<string, WebhookRenderer>;
  logger?: RelayLogger;
  /** Deliveries claimed per tick (default 50). */
  batchSize?: number;
  /** How long a claim holds (default: long enough for a whole batch to time out, plus 30 s). */
  leaseMs?: number;
  /** Per request, including reading the answer (default 10 s). */
  timeoutMs?: number;
  fetchImpl?: typeof fetch;
  /** Told each try's outcome (metrics). */
  observer?: DeliveryObserver;
}

export type DeliveryAttemptRecord = Omit<DeliveryAttemptTable, 'id' | 'delivery_id'>;
export type DeliveryRecord = Omit<DeliveryTable, 'lease_until'> & { event_type: string; attempt_log: DeliveryAttemptRecord[] };

const CONCURRENCY = 16;

type Claimed = Pick<DeliveryTable, 'id' | 'event_id' | 'dialect' | 'url' | 'attempts'>;

type Outcome =
  | {
      kind: 'sent';
      attemptedAt: number;
      durationMs: number;
      statusCode: number | null;
      error: string | null;
      acknowledged: boolean;
      /** Event recorded to acknowledged, platform time (acknowledged tries). */
      lagMs: number | undefined;
      retryDelaysMs: readonly number[];
    }
  | { kind: 'skipped' }
  /** Could not be rendered: nothing was sent, the lease runs out and it is tried again. */
  | { kind: 'held' };

const silent: RelayLogger = { info() {}, warn() {}, error() {} };

export class DeliveryRelay {
  private readonly store: Store;
  private readonly clock: Clock;
  private readonly leaseClock: Clock;
  private readonly renderers: Record<string, WebhookRenderer>;
  private readonly log: RelayLogger;
  private readonly batchSize: number;
  private readonly leaseMs: number;
  private readonly timeoutMs: number;
  private readonly fetch: typeof fetch;
  private readonly observer: DeliveryObserver | undefined;

  /** Ticks of this instance run one after another, whoever calls them (loop, drain, tests). */
  private chain: Promise<unknown> = Promise.resolve();
  private timer: NodeJS.Timeout | undefined;
  private running = false;
  private inFlight: Promise<unknown> = Promise.resolve();

  constructor(opts: DeliveryRelayOptions) {
    this.store = opts.store;
    this.clock = opts.clock;
    this.leaseClock = opts.leaseClock ?? systemClock;
    this.renderers = opts.renderers;
    this.log = opts.logger ?? silent;
    this.batchSize = opts.batchSize ?? 50;
    this.timeoutMs = opts.timeoutMs ?? 10_000;
    this.leaseMs = opts.leaseMs ?? Math.ceil(this.batchSize / CONCURRENCY) * this.timeoutMs + 30_000;
    this.fetch = opts.fetchImpl ?? fetch;
    this.observer = opts.observer;
  }

  /** Sends the deliveries due now (one batch); returns how many were attempted. */
  async tick(): Promise<number> {
    return (await this.serial(() => this.round())).attempted;
  }

  /** Ticks until nothing is due (after the sandbox clock moves, and in tests). Returns the total attempted. */
  async drain(maxRounds = 20): Promise<number> {
    let attempted = 0;
    for (let i = 0; i < maxRounds; i++) {
      const r = await this.serial(() => this.round());
      attempted += r.attempted;
      if (r.claimed === 0) break;
    }
    return attempted;
  }

  /** Ticks every intervalMs (at once again while full batches come back) until stop(). */
  start(intervalMs = 250): void {
    if (this.running) return;
    this.running = true;
    const loop = async (): Promise<void> => {
      let full = false;
      const tick = this.serial(() => this.round()).then(
        (r) => (full = r.claimed >= this.batchSize),
        (error) => this.log.error({ err: error }, 'delivery relay tick failed'),
      );
      this.inFlight = tick;
      await tick;
      if (this.running) this.timer = setTimeout(loop, full ? 0 : intervalMs);
    };
    this.timer = setTimeout(loop, 0);
  }

  /** Stops the loop and waits for the tick in flight. */
  async stop(): Promise<void> {
    this.running = false;
    clearTimeout(this.timer);
    await this.inFlight;
  }

  /** A merchant's deliveries (optionally of one event) with every try, oldest first. */
  async deliveryLog(merchantId: string, eventId?: string, limit?: number): Promise<DeliveryRecord[]> {
    let q = this.store.read
      .selectFrom('deliveries')
      .innerJoin('events', 'events.id', 'deliveries.event_id')
      .selectAll('deliveries')
      .select('events.type as event_type')
      .where('deliveries.merchant_id', '=', merchantId);
    if (eventId !== undefined) q = q.where('deliveries.event_id', '=', eventId);
    // The newest `limit`, still oldest first.
    const deliveries =
      limit === undefined
        ? await q.orderBy('deliveries.created_at').orderBy('deliveries.id').execute()
        : (await q.orderBy('deliveries.created_at', 'desc').orderBy('deliveries.id', 'desc').limit(limit).execute()).reverse();
    if (!deliveries.length) return [];
    const attempts = await this.store.read
      .selectFrom('delivery_attempts')
      .select(['delivery_id', 'attempt', 'status_code', 'error', 'duration_ms', 'attempted_at'])
      .where('delivery_id', 'in', deliveries.map((d) => d.id))
      .orderBy('attempt')
      .orderBy('id')
      .execute();
    return deliveries.map(({ lease_until: _lease, ...d }) => ({
      ...d,
      attempt_log: attempts.filter((a) => a.delivery_id === d.id).map(({ delivery_id: _id, ...a }) => a),
    }));
  }

  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const next = this.chain.then(fn);
    this.chain = next.catch(() => undefined);
    return next;
  }

  private async round(): Promise<{ claimed: number; attempted: number }> {
    const { rows, lease } = await this.claim();
    if (!rows.length) return { claimed: 0, attempted: 0 };
    const events = await this.store.read
      .selectFrom('events')
      .select(['id', 'merchant_id', 'type', 'source_id', 'payload', 'created_at'])
      .where('id', 'in', [...new Set(rows.map((d) => d.event_id))])
      .execute();
    const byId = new Map(events.map((e) => [e.id, e]));
    const outcomes = await mapLimit(rows, CONCURRENCY, (d) => this.deliver(d, byId.get(d.event_id)));
    await this.record(rows, outcomes, lease);
    return { claimed: rows.length, attempted: outcomes.filter((o) => o.kind === 'sent').length };
  }

  /** One unit: pick due, unleased rows and lease them. PostgreSQL skips rows another claimer has locked. */
  private async claim(): Promise<{ rows: Claimed[]; lease: number }> {
    const now = this.clock.now();
    const real = this.leaseClock.now();
    const lease = real + this.leaseMs;
    const rows = await this.store.unit(async (tx) => {
      let due = tx
        .selectFrom('deliveries')
        .select('id')
        .where(deliveryPending)
        .where('next_attempt_at', '<=', now)
        // Unleased, or the lease ran out; a lease further ahead than any this relay takes was taken in platform time (by an earlier version): out too.
        .where((eb) => eb.or([eb('lease_until', 'is', null), eb('lease_until', '<', real), eb('lease_until', '>', lease)]))
        .orderBy('next_attempt_at')
        .limit(this.batchSize);
      if (this.store.rowLocks) due = due.forUpdate().skipLocked();
      const ids = (await due.execute()).map((r) => r.id);
      if (!ids.length) return [];
      return tx
        .updateTable('deliveries')
        .set({ lease_until: lease, updated_at: now })
        .where('id', 'in', ids)
        .returning(['id', 'event_id', 'dialect', 'url', 'attempts'])
        .execute();
    });
    return { rows, lease };
  }

  private async deliver(d: Claimed, event: WebhookEvent | undefined): Promise<Outcome> {
    const renderer = this.renderers[d.dialect];
    if (!renderer || !event) {
      this.log.error({ delivery: d.id, dialect: d.dialect }, renderer ? 'delivery has no event' : 'no webhook renderer for dialect');
      return { kind: 'held' };
    }
    let rendered: RenderedWebhook | null;
    try {
      rendered = await renderer.render({ event, delivery: { id: d.id, url: d.url, attempts: d.attempts }, now: this.clock.now() });
    } catch (error) {
      this.log.error({ delivery: d.id, err: error }, 'webhook render failed');
      return { kind: 'held' };
    }
    if (!rendered) return { kind: 'skipped' };

    const headers = new Headers({ 'content-type': 'application/json' });
    for (const [name, value] of Object.entries(rendered.headers)) headers.set(name, value);
    const attemptedAt = this.clock.now();
    const started = performance.now();
    let statusCode: number | null = null;
    let error: string | null = null;
    let acknowledged = false;
    try {
      const res = await this.fetch(d.url, {
        method: 'POST',
        headers,
        body: rendered.body,
        redirect: 'manual',
        signal: AbortSignal.timeout(this.timeoutMs),
      });
      statusCode = res.status;
      const body = await res.text();
      acknowledged = renderer.isAcknowledged(res.status, body);
      if (!acknowledged) error = res.status >= 200 && res.status < 300 ? 'not acknowledged' : `HTTP ${res.status}`;
    } catch (err) {
      error = describeFailure(err);
    }
    const durationMs = Math.round(performance.now() - started);
    if (!acknowledged) this.log.warn({ delivery: d.id, attempt: d.attempts + 1, error }, 'webhook not acknowledged');
    const lagMs = acknowledged ? this.clock.now() - event.created_at : undefined;
    return { kind: 'sent', attemptedAt, durationMs, statusCode, error, acknowledged, lagMs, retryDelaysMs: renderer.retryDelaysMs };
  }

  /** One unit per batch: an attempt row per try, and each delivery's new state. Rows whose lease was lost are left alone. */
  private async record(rows: Claimed[], outcomes: Outcome[], lease: number): Promise<void> {
    const now = this.clock.now();
    const reports: Array<Parameters<DeliveryObserver['delivered']>> = [];
    await this.store.unit(async (tx) => {
      reports.length = 0;
      const tries: Array<Omit<DeliveryAttemptTable, 'id'>> = [];
      for (const [i, d] of rows.entries()) {
        const o = outcomes[i]!;
        if (o.kind === 'held') continue;
        const mine = tx.updateTable('deliveries').where('id', '=', d.id).where('lease_until', '=', lease);
        if (o.kind === 'skipped') {
          await mine.set({ status: 'skipped', lease_until: null, updated_at: now }).execute();
          reports.push([d.dialect, 'skipped']);
          continue;
        }
        const attempts = d.attempts + 1;
        const delay = o.retryDelaysMs[attempts - 1];
        const status = o.acknowledged ? 'succeeded' : delay === undefined ? 'failed' : 'pending';
        const result = await mine
          .set({
            status,
            attempts,
            ...(status === 'pending' ? { next_attempt_at: now + delay! } : {}),
            lease_until: null,
            last_status_code: o.statusCode,
            last_error: o.error,
            updated_at: now,
          })
          .executeTakeFirst();
        if (result.numUpdatedRows === 0n) {
          // Another sender took it over: its try is the one on record.
          this.log.warn({ delivery: d.id }, 'delivery lease expired during send');
          continue;
        }
        reports.push([d.dialect, status === 'succeeded' ? 'acknowledged' : status === 'failed' ? 'failed' : 'retrying', o.lagMs]);
        tries.push({ delivery_id: d.id, attempt: attempts, status_code: o.statusCode, error: o.error, duration_ms: o.durationMs, attempted_at: o.attemptedAt });
      }
      if (tries.length) await tx.insertInto('delivery_attempts').values(tries).execute();
    });
    // Counted once committed: these are the tries on record.
    for (const r of reports) this.observer?.delivered(...r);
  }
}

/** A short, secret-free reason: "timeout", an error code such as "ECONNREFUSED", or "request failed". */
function describeFailure(err: unknown): string {
  if (err instanceof Error && (err.name === 'TimeoutError' || err.name === 'AbortError')) return 'timeout';
  const code = (err as { cause?: { code?: unknown } } | null)?.cause?.code ?? (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' && /^[A-Z][A-Z0-9_]{1,40}$/.test(code) ? code : 'request failed';
}

async function mapLimit<T, R>(items: T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}

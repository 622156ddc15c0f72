/**
 * Outbox relay: claims due rows of `deliveries` (written in the same
 * transaction as their event), renders them in their dialect, POSTs them with
 * no transaction open, and records each try. Delivery is at least once:
 * a row whose lease ran out (the process died mid-send) is claimed again, and
 * receivers dedupe by event id.
 *
 * Leases are short and renewed while the rows are held, so what a dead
 * process had claimed is sent again within seconds (at once by a process
 * that starts on the same host, which can tell its holder is gone). Each
 * send runs on its own: a slow receiver holds only its own endpoint's slots
 * (a few per URL origin), and the rest of the queue goes on around it.
 *
 * A claim takes more of an endpoint's rows than it has slots: they wait in
 * that endpoint's queue in this process, and each answer starts the next
 * send at once, so a busy endpoint's throughput is its slots over its answer
 * time, not over the time of a claim and a recording (each a commit).
 *
 * New deliveries mostly skip the claim: while the relay runs, the unit that
 * plans a delivery writes it already leased to this relay (store/outbox.ts)
 * and hands it over with its event once committed, so it is sent at once.
 *
 * An endpoint's slots are a window that follows its answers, as TCP's
 * congestion window does: it starts at `initialPerEndpoint`, grows by one
 * with each quick acknowledgement while rows wait for it (up to
 * `maxPerEndpoint`), and halves at each try that fails, down to the
 * initial window. A healthy receiver under load gets the concurrency it
 * takes to keep up; one that fails or hangs gets no more than it started
 * with.
 */
import { sql, type ExpressionBuilder, type SqlBool, type Updateable } from 'kysely';
import { systemClock, type Clock } from '../core/clock.ts';
import type { DeliveryAttemptTable, DeliveryTable, EventTable } from '../store/schema.ts';
import type { Store } from '../store/store.ts';
import type { Database } from '../store/schema.ts';
import type { LocalSender, Outbox, TakenDelivery } from '../store/outbox.ts';
import { deliveryPending } from '../store/sweep-conditions.ts';
import { leaseOwner, type LeaseOwner } from './lease-owner.ts';
import { BlockedAddressError, CONNECTIONS_PER_ORIGIN, webhookPoster, type WebhookPoster } from './webhook-post.ts';

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
  /** Deliveries claimed at most per claim (default 100). */
  batchSize?: number;
  /** Rows this process holds leased at once, sending or waiting their turn (default 4096). */
  maxLeased?: number;
  /** Of those, rows of one endpoint (default 512): the most a hanging receiver holds back. */
  maxLeasedPerEndpoint?: number;
  /** How long a claim holds unless renewed; renewed every quarter of it while the send is under way (default 8 s). */
  leaseMs?: number;
  /** Per request, including reading the answer (default 10 s). */
  timeoutMs?: number;
  /** Sends under way at once in this process (default 256). */
  maxInFlight?: number;
  /** An endpoint's (URL origin's) window to start with: sends under way at once to it from this process (default 8). */
  initialPerEndpoint?: number;
  /** The most its window grows to (default 64, the connections kept to one origin). */
  maxPerEndpoint?: number;
  /** An acknowledgement slower than this does not grow the window (default 500 ms). */
  quickAnswerMs?: number;
  /**
   * Rows waiting in the queues of endpoints that answer (not of those whose
   * last try failed) beyond which new units wait for the relay before they
   * start (default 256); they go on once half of that is left, or after
   * maxHoldMs. Under sustained load this keeps webhook lag bounded: the API
   * takes payments at the pace their webhooks go out.
   */
  backlogLimit?: number;
  /** The longest a unit waits for the relay to catch up (default 1 s). */
  maxHoldMs?: number;
  /** Where this process's units find the relay while it runs, to hand it their new deliveries. */
  outbox?: Outbox;
  /** Live mode: webhooks to loopback, private and link-local addresses are refused (delivery/address-rule.ts). */
  live?: boolean;
  /** How a rendered webhook is sent (default: webhookPoster for the mode). */
  post?: WebhookPoster;
  /** The name this relay's leases carry (default: this host and process). */
  owner?: LeaseOwner;
  /** Told each try's outcome (metrics). */
  observer?: DeliveryObserver;
}

export type DeliveryAttemptRecord = Omit<DeliveryAttemptTable, 'id' | 'delivery_id'>;
export type DeliveryRecord = Omit<DeliveryTable, 'lease_until' | 'lease_owner'> & { event_type: string; attempt_log: DeliveryAttemptRecord[] };

type Claimed = Pick<DeliveryTable, 'id' | 'event_id' | 'dialect' | 'url' | 'attempts'>;

type Outcome =
  | {
      kind: 'sent';
      attemptedAt: number;
      durationMs: number;
      statusCode: number | null;
      error: string | null;
      /** The start of the receiver's answer (RESPONSE_BODY_KEPT characters), null when none came. */
      responseBody: string | null;
      acknowledged: boolean;
      /** Event recorded to acknowledged, platform time (acknowledged tries). */
      lagMs: number | undefined;
      retryDelaysMs: readonly number[];
    }
  | { kind: 'skipped' }
  /** Could not be rendered: nothing was sent, the lease runs out and it is tried again. */
  | { kind: 'held' };

/** A claimed row waiting for a slot of its endpoint; settles with whether it was attempted, once recorded. */
interface Job {
  row: Claimed;
  event: WebhookEvent | undefined;
  settle: (sent: boolean) => void;
}

/** What one claim did: how many rows it took, whether it took a full batch (more may be due), and the sends it started. */
interface Dispatch {
  claimed: number;
  limited: boolean;
  /** Settles when every send started has been recorded; answers how many were attempted. */
  done: Promise<number>;
}

const silent: RelayLogger = { info() {}, warn() {}, error() {} };

/** How much of a receiver's answer each try keeps, for the delivery log. */
export const RESPONSE_BODY_KEPT = 512;

/** The endpoint a URL's sends share slots by: its origin. */
export function endpointOf(url: string): string {
  try {
    const origin = new URL(url).origin;
    return origin === 'null' ? url : origin;
  } catch {
    return url;
  }
}

/** URLs of `endpoint` (an origin): itself, or followed by a path or a query. */
function notAtEndpoint(eb: ExpressionBuilder<Database, 'deliveries'>, endpoint: string) {
  const like = endpoint.replace(/[\\%_]/g, '\\$&');
  return eb.and([
    eb('url', '<>', endpoint),
    sql<SqlBool>`${sql.ref('url')} not like ${`${like}/%`} escape '\\'`,
    sql<SqlBool>`${sql.ref('url')} not like ${`${like}?%`} escape '\\'`,
  ]);
}

export class DeliveryRelay implements LocalSender {
  private readonly store: Store;
  private readonly clock: Clock;
  private readonly leaseClock: Clock;
  private readonly renderers: Record<string, WebhookRenderer>;
  private readonly log: RelayLogger;
  private readonly batchSize: number;
  private readonly leaseMs: number;
  private readonly timeoutMs: number;
  private readonly maxInFlight: number;
  private readonly initialPerEndpoint: number;
  private readonly maxPerEndpoint: number;
  private readonly quickAnswerMs: number;
  private readonly outbox: Outbox | undefined;
  private readonly maxLeased: number;
  private readonly maxLeasedPerEndpoint: number;
  private readonly post: WebhookPoster;
  private readonly owner: LeaseOwner;
  private readonly observer: DeliveryObserver | undefined;

  /** Claims of this instance run one after another, whoever asks (loop, drain, tests); sends overlap. */
  private chain: Promise<unknown> = Promise.resolve();
  /** Rows this relay has leased and not yet recorded, with their endpoint, and how many per endpoint. */
  private readonly leased = new Map<string, string>();
  private readonly perEndpoint = new Map<string, number>();
  /** Endpoints a claim left out for having all their rows' worth leased: a claim is due once half of those are recorded. */
  private readonly full = new Set<string>();
  /** A claim found this relay holding all it may: a claim is due once half of that is recorded. */
  private relayFull = false;
  /** Claimed rows waiting for a free slot, per endpoint, oldest first. */
  private readonly queues = new Map<string, Job[]>();
  /** Sends under way, per endpoint and in all. */
  private readonly sending = new Map<string, number>();
  /** Each endpoint's window: how many sends it may have under way (initialPerEndpoint when absent). */
  private readonly windows = new Map<string, number>();
  /** Rows units have taken and not yet handed over or dropped. */
  private takenOpen = 0;
  /** Endpoints whose last try was not acknowledged: their queues do not hold the API back. */
  private readonly failing = new Set<string>();
  private readonly backlogLimit: number;
  private readonly maxHoldMs: number;
  /** Units waiting for the relay to catch up. */
  private held: Array<() => void> = [];
  private holdTimer: NodeJS.Timeout | undefined;
  private sendingTotal = 0;
  private readonly sends = new Set<Promise<unknown>>();
  private readonly toRecord: Array<{ row: Claimed; outcome: Outcome; recorded: () => void }> = [];
  private recording: Promise<void> | null = null;
  private heartbeat: NodeJS.Timeout | undefined;
  private reclaimed = false;

  private timer: NodeJS.Timeout | undefined;
  private running = false;
  private intervalMs = 250;
  private looping: Promise<void> | null = null;
  private loopAgain = false;

  constructor(opts: DeliveryRelayOptions) {
    this.store = opts.store;
    this.clock = opts.clock;
    this.leaseClock = opts.leaseClock ?? systemClock;
    this.renderers = opts.renderers;
    this.log = opts.logger ?? silent;
    this.batchSize = opts.batchSize ?? 100;
    this.timeoutMs = opts.timeoutMs ?? 10_000;
    this.leaseMs = opts.leaseMs ?? 8_000;
    this.maxInFlight = opts.maxInFlight ?? 256;
    this.maxPerEndpoint = opts.maxPerEndpoint ?? CONNECTIONS_PER_ORIGIN;
    this.initialPerEndpoint = Math.min(opts.initialPerEndpoint ?? 8, this.maxPerEndpoint);
    this.quickAnswerMs = opts.quickAnswerMs ?? 500;
    this.backlogLimit = opts.backlogLimit ?? 256;
    this.maxHoldMs = opts.maxHoldMs ?? 1_000;
    this.outbox = opts.outbox;
    this.maxLeased = Math.max(opts.maxLeased ?? 4096, this.maxInFlight);
    this.maxLeasedPerEndpoint = Math.max(opts.maxLeasedPerEndpoint ?? 512, this.maxPerEndpoint);
    this.post = opts.post ?? webhookPoster({ live: opts.live ?? false });
    this.owner = opts.owner ?? leaseOwner();
    this.observer = opts.observer;
  }

  /** Sends the deliveries due now that free slots allow (one claim) and waits for them; returns how many were attempted. */
  async tick(): Promise<number> {
    return (await this.serial(() => this.dispatch())).done;
  }

  /**
   * Sends what is due until nothing due is left for this relay to take
   * (after the sandbox clock moves, and in tests), waiting for each claim's
   * sends. Returns the total attempted.
   */
  async drain(maxRounds = 20): Promise<number> {
    let attempted = 0;
    for (let i = 0; i < maxRounds; i++) {
      const d = await this.serial(() => this.dispatch());
      attempted += await d.done;
      if (d.claimed === 0) break;
    }
    // What the background loop claimed meanwhile is this relay's too: nobody else may send it until its
    // lease runs out, so "nothing left to take" includes it sent.
    while (this.sends.size || this.queues.size) await Promise.allSettled([...this.sends]);
    return attempted;
  }

  /** Claims every intervalMs (at once again after a full batch, or when half of a full endpoint's share is recorded) until stop(). */
  start(intervalMs = 250): void {
    if (this.running) return;
    this.running = true;
    this.intervalMs = intervalMs;
    this.outbox?.attach(this);
    this.timer = setTimeout(() => this.loop(), 0);
  }

  /**
   * Stops claiming, gives back the rows still waiting for a slot (their
   * leases cleared, so any node may send them at once), and waits for the
   * sends under way (each bounded by the request timeout).
   */
  async stop(): Promise<void> {
    this.running = false;
    this.outbox?.detach(this);
    this.letHeldGo();
    clearTimeout(this.timer);
    await this.looping;
    // Units under way that took rows hand them over (or drop them) when they end: given back below.
    for (let i = 0; this.takenOpen > 0 && i < 200; i++) await new Promise((resolve) => setTimeout(resolve, 10));
    await this.giveBack();
    while (this.sends.size) await Promise.allSettled([...this.sends]);
    await this.recording;
    clearInterval(this.heartbeat);
    this.heartbeat = undefined;
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
      .select(['delivery_id', 'attempt', 'status_code', 'error', 'duration_ms', 'attempted_at', 'response_body'])
      .where('delivery_id', 'in', deliveries.map((d) => d.id))
      .orderBy('attempt')
      .orderBy('id')
      .execute();
    return deliveries.map(({ lease_until: _lease, lease_owner: _owner, ...d }) => ({
      ...d,
      attempt_log: attempts.filter((a) => a.delivery_id === d.id).map(({ delivery_id: _id, ...a }) => a),
    }));
  }

  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const next = this.chain.then(fn);
    this.chain = next.catch(() => undefined);
    return next;
  }

  private loop(): void {
    if (!this.running) return;
    if (this.looping) {
      this.loopAgain = true;
      return;
    }
    clearTimeout(this.timer);
    this.looping = (async () => {
      let again = false;
      try {
        again = (await this.serial(() => this.dispatch())).limited;
      } catch (error) {
        this.log.error({ err: error }, 'delivery relay claim failed');
      }
      this.looping = null;
      again ||= this.loopAgain;
      this.loopAgain = false;
      if (this.running) this.timer = setTimeout(() => this.loop(), again ? 0 : this.intervalMs);
    })();
  }

  /** Claims what the caps allow and queues each row for its endpoint's next free slot. */
  private async dispatch(): Promise<Dispatch> {
    const { rows, limited } = await this.claim();
    if (!rows.length) return { claimed: 0, limited, done: Promise.resolve(0) };
    for (const d of rows) this.hold(d.id, endpointOf(d.url));
    let byId: Map<string, WebhookEvent>;
    try {
      const events = await this.store.read
        .selectFrom('events')
        .select(['id', 'merchant_id', 'type', 'source_id', 'payload', 'created_at'])
        .where('id', 'in', [...new Set(rows.map((d) => d.event_id))])
        .execute();
      byId = new Map(events.map((e) => [e.id, e]));
    } catch (error) {
      // Left to their leases, which run out and are claimed again.
      for (const d of rows) this.release(d.id);
      throw error;
    }
    const jobs = rows.map(
      (row) =>
        new Promise<boolean>((settle) => this.enqueue({ row, event: byId.get(row.event_id), settle })),
    );
    this.pump();
    const done = Promise.all(jobs).then((sent) => sent.filter(Boolean).length);
    return { claimed: rows.length, limited, done };
  }

  /** Counts a row this relay has leased against its endpoint, and keeps its lease renewed until it is released. */
  private hold(id: string, endpoint: string): void {
    this.leased.set(id, endpoint);
    this.perEndpoint.set(endpoint, (this.perEndpoint.get(endpoint) ?? 0) + 1);
    this.heartbeat ??= setInterval(() => void this.renewLeases(), Math.max(50, Math.floor(this.leaseMs / 4)));
    this.heartbeat.unref?.();
  }

  /** A held row joins its endpoint's queue, to wait for a free slot. */
  private enqueue(job: Job): void {
    const endpoint = this.leased.get(job.row.id)!;
    const queue = this.queues.get(endpoint) ?? this.queues.set(endpoint, []).get(endpoint)!;
    queue.push(job);
  }

  /** Starts the queued sends that free slots allow: per endpoint, and in all. */
  private pump(): void {
    for (const [endpoint, queue] of this.queues) {
      let busy = this.sending.get(endpoint) ?? 0;
      const window = this.windows.get(endpoint) ?? this.initialPerEndpoint;
      while (queue.length && busy < window && this.sendingTotal < this.maxInFlight) {
        busy++;
        this.sendingTotal++;
        this.send(endpoint, queue.shift()!);
      }
      this.sending.set(endpoint, busy);
      if (!queue.length) this.queues.delete(endpoint);
      if (this.sendingTotal >= this.maxInFlight) return;
    }
  }

  private send(endpoint: string, job: Job): void {
    const { row } = job;
    const sent = this.deliver(row, job.event)
      .catch((error): Outcome => {
        this.log.error({ delivery: row.id, err: error }, 'webhook send failed');
        return { kind: 'held' };
      })
      .then((outcome) => {
        // The slot is free once the answer is in; the row stays leased until its outcome is on record.
        this.sendingTotal--;
        const busy = (this.sending.get(endpoint) ?? 1) - 1;
        if (busy > 0) this.sending.set(endpoint, busy);
        else this.sending.delete(endpoint);
        this.adjustWindow(endpoint, outcome);
        this.pump();
        this.letHeldGo(false);
        return this.record(row, outcome);
      })
      .then((outcome) => job.settle(outcome.kind === 'sent'));
    const tracked = sent.finally(() => this.sends.delete(tracked));
    this.sends.add(tracked);
  }

  /** The endpoint's window after a try: one more after a quick acknowledgement while rows wait, half after a failure (never under the initial window). */
  private adjustWindow(endpoint: string, outcome: Outcome): void {
    if (outcome.kind !== 'sent') return;
    if (outcome.acknowledged) this.failing.delete(endpoint);
    else this.failing.add(endpoint);
    const window = this.windows.get(endpoint) ?? this.initialPerEndpoint;
    let next = window;
    if (!outcome.acknowledged) next = Math.max(this.initialPerEndpoint, Math.floor(window / 2));
    else if (outcome.durationMs <= this.quickAnswerMs && this.queues.has(endpoint)) next = Math.min(this.maxPerEndpoint, window + 1);
    if (next === this.initialPerEndpoint) this.windows.delete(endpoint);
    else if (next !== window) this.windows.set(endpoint, next);
  }

  /** Rows waiting in this relay's queues for a slot, sends under way, and units waiting for the relay to catch up (/metrics). */
  stats(): { queued: number; sending: number; held: number } {
    let queued = 0;
    for (const queue of this.queues.values()) queued += queue.length;
    return { queued, sending: this.sendingTotal, held: this.held.length };
  }

  /** Rows waiting for a slot of an endpoint that answers. */
  private backlog(): number {
    let n = 0;
    for (const [endpoint, queue] of this.queues) if (!this.failing.has(endpoint)) n += queue.length;
    return n;
  }

  /** LocalSender: null while the backlog is under its limit; else a wait until half of it is left (or maxHoldMs). */
  room(): Promise<void> | null {
    if (!this.running || this.backlog() < this.backlogLimit) return null;
    this.holdTimer ??= setTimeout(() => this.letHeldGo(), this.maxHoldMs);
    return new Promise<void>((resolve) => this.held.push(resolve));
  }

  /** Lets the units waiting for the relay go, when the backlog is down to half its limit (or at once: `force`). */
  private letHeldGo(force = true): void {
    if (!this.held.length) return;
    if (!force && this.backlog() > this.backlogLimit / 2) return;
    clearTimeout(this.holdTimer);
    this.holdTimer = undefined;
    const held = this.held;
    this.held = [];
    for (const go of held) go();
  }

  /** LocalSender: leases a row its unit is planning, when this relay runs and has room for it. */
  take(row: DeliveryTable): boolean {
    if (!this.running || this.leased.size >= this.maxLeased) return false;
    const endpoint = endpointOf(row.url);
    if ((this.perEndpoint.get(endpoint) ?? 0) >= this.maxLeasedPerEndpoint) return false;
    row.lease_until = this.leaseClock.now() + this.leaseMs;
    row.lease_owner = this.owner.name;
    this.hold(row.id, endpoint);
    this.takenOpen++;
    return true;
  }

  /** LocalSender: the unit committed; its rows join their endpoints' queues (given back at once if the relay has stopped). */
  handOver(taken: TakenDelivery[]): void {
    this.takenOpen -= taken.length;
    const jobs = taken.map(({ row, event }): Job => ({ row, event, settle: () => {} }));
    if (!this.running) {
      void this.giveBackJobs(jobs);
      return;
    }
    for (const job of jobs) this.enqueue(job);
    this.pump();
  }

  /** LocalSender: the unit did not commit; its rows are not this relay's. */
  drop(taken: TakenDelivery[]): void {
    this.takenOpen -= taken.length;
    for (const { row } of taken) this.release(row.id);
  }

  /** Rows still waiting for a slot go back unsent: their leases are cleared in one statement (or, failing that, run out). */
  private async giveBack(): Promise<void> {
    const waiting = [...this.queues.values()].flat();
    this.queues.clear();
    await this.giveBackJobs(waiting);
  }

  private async giveBackJobs(waiting: Job[]): Promise<void> {
    if (!waiting.length) return;
    const ids = waiting.map((j) => j.row.id);
    try {
      await this.store.unit((tx) =>
        tx
          .updateTable('deliveries')
          .set({ lease_until: null, lease_owner: null })
          .where('id', 'in', ids)
          .where('lease_owner', '=', this.owner.name)
          .execute(),
      );
    } catch (error) {
      this.log.warn({ err: error, deliveries: ids.length }, 'webhook deliveries not given back: their leases run out');
    }
    for (const j of waiting) {
      this.release(j.row.id);
      j.settle(false);
    }
  }

  /**
   * One unit: pick due rows nobody holds (unleased, lease run out, or held by
   * a process known dead) and lease them to this relay. Rows of an endpoint
   * whose slots are all taken are left for later. PostgreSQL skips rows
   * another claimer has locked.
   */
  private async claim(): Promise<{ rows: Claimed[]; limited: boolean }> {
    const capacity = Math.min(this.batchSize, this.maxLeased - this.leased.size);
    // Full: rows recorded wake the loop.
    if (capacity <= 0) {
      this.relayFull = true;
      return { rows: [], limited: false };
    }
    const now = this.clock.now();
    const real = this.leaseClock.now();
    const lease = real + this.leaseMs;
    // No live relay leases further ahead than its own clock plus leaseMs; another one may have claimed or
    // renewed a moment after `real` was read, so only a lease beyond twice that is an earlier version's.
    const beyondAnyLive = real + 2 * this.leaseMs;
    const dead = this.reclaimed ? [] : await this.deadOwners(real);
    const saturated = [...this.perEndpoint].filter(([, n]) => n >= this.maxLeasedPerEndpoint).map(([e]) => e);
    for (const endpoint of saturated) this.full.add(endpoint);
    let limited = false;
    const rows = await this.store.unit(async (tx) => {
      let due = tx
        .selectFrom('deliveries')
        .select(['id', 'url'])
        .where(deliveryPending)
        .where('next_attempt_at', '<=', now)
        // Unleased, the lease ran out, or its holder is dead; a lease further ahead than any this relay takes was taken in platform time (by an earlier version): out too.
        .where((eb) =>
          eb.or([
            eb('lease_until', 'is', null),
            eb('lease_until', '<', real),
            eb('lease_until', '>', beyondAnyLive),
            ...(dead.length ? [eb('lease_owner', 'in', dead)] : []),
          ]),
        )
        .orderBy('next_attempt_at')
        .limit(capacity);
      for (const endpoint of saturated) due = due.where((eb) => notAtEndpoint(eb, endpoint));
      if (this.store.rowLocks) due = due.forUpdate().skipLocked();
      const candidates = await due.execute();
      // Within the claim too, no endpoint gets more than its free share. A
      // row of this relay's own whose lease ran out (renewals late) is still
      // its own: it is not taken twice.
      const free = new Map<string, number>();
      const ids: string[] = [];
      for (const c of candidates) {
        if (this.leased.has(c.id)) continue;
        const endpoint = endpointOf(c.url);
        const left = free.get(endpoint) ?? this.maxLeasedPerEndpoint - (this.perEndpoint.get(endpoint) ?? 0);
        if (left <= 0) {
          // Its rows wait for half its share to be recorded, which wakes the loop.
          this.full.add(endpoint);
          continue;
        }
        free.set(endpoint, left - 1);
        ids.push(c.id);
      }
      // A full batch: claim again at once. Not when rows were left only for
      // endpoints that are full: a claim now would scan past all their rows
      // (the whole backlog, under load) to find none.
      limited = ids.length === capacity;
      if (!ids.length) return [];
      return tx
        .updateTable('deliveries')
        .set({ lease_until: lease, lease_owner: this.owner.name, updated_at: now })
        .where('id', 'in', ids)
        .returning(['id', 'event_id', 'dialect', 'url', 'attempts'])
        .execute();
    });
    this.reclaimed = true;
    return { rows, limited };
  }

  /** Holders of live leases that are known dead (checked once, at the first claim: a restart takes its own crashed run's leases back at once). */
  private async deadOwners(real: number): Promise<string[]> {
    const owners = await this.store.read
      .selectFrom('deliveries')
      .select('lease_owner')
      .distinct()
      .where(deliveryPending)
      .where('lease_owner', 'is not', null)
      .where('lease_until', '>=', real)
      .execute();
    const dead = owners.map((o) => o.lease_owner!).filter((o) => this.owner.isDead(o));
    if (dead.length) this.log.info({ owners: dead.length }, 'taking back webhook deliveries leased by a process that is gone');
    return dead;
  }

  /** Pushes the leases of the rows being sent another leaseMs ahead. */
  private async renewLeases(): Promise<void> {
    const ids = [...this.leased.keys()];
    if (!ids.length) {
      clearInterval(this.heartbeat);
      this.heartbeat = undefined;
      return;
    }
    try {
      await this.store.unit((tx) =>
        tx
          .updateTable('deliveries')
          .set({ lease_until: this.leaseClock.now() + this.leaseMs })
          .where('id', 'in', ids)
          .where('lease_owner', '=', this.owner.name)
          .execute(),
      );
    } catch (error) {
      this.log.warn({ err: error }, 'webhook delivery leases not renewed');
    }
  }

  private release(id: string): void {
    const endpoint = this.leased.get(id);
    if (endpoint === undefined) return;
    this.leased.delete(id);
    const n = (this.perEndpoint.get(endpoint) ?? 1) - 1;
    if (n > 0) this.perEndpoint.set(endpoint, n);
    else this.perEndpoint.delete(endpoint);
    // A claim left rows of a full endpoint (or of a full relay) behind: claim
    // again once half its share is free, for one claim per many rows, not per row.
    if (this.full.has(endpoint) && n <= this.maxLeasedPerEndpoint / 2) {
      this.full.delete(endpoint);
      this.loop();
    } else if (this.relayFull && this.leased.size <= this.maxLeased / 2) {
      this.relayFull = false;
      this.loop();
    }
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

    const headers: Record<string, string> = { 'content-type': 'application/json' };
    for (const [name, value] of Object.entries(rendered.headers)) headers[name.toLowerCase()] = value;
    const attemptedAt = this.clock.now();
    const started = performance.now();
    let statusCode: number | null = null;
    let error: string | null = null;
    let responseBody: string | null = null;
    let acknowledged = false;
    try {
      const answer = await this.post({ url: d.url, headers, body: rendered.body, timeoutMs: this.timeoutMs });
      statusCode = answer.status;
      responseBody = answer.body.slice(0, RESPONSE_BODY_KEPT);
      acknowledged = renderer.isAcknowledged(answer.status, answer.body);
      if (!acknowledged) error = describeAnswer(answer.status);
    } catch (err) {
      error = describeFailure(err);
    }
    const durationMs = Math.round(performance.now() - started);
    if (!acknowledged) this.log.warn({ delivery: d.id, attempt: d.attempts + 1, error }, 'webhook not acknowledged');
    const lagMs = acknowledged ? this.clock.now() - event.created_at : undefined;
    return { kind: 'sent', attemptedAt, durationMs, statusCode, error, responseBody, acknowledged, lagMs, retryDelaysMs: renderer.retryDelaysMs };
  }

  /** Queues a finished send for the next recording unit; settles once it is written (or given up to its lease). */
  private record(row: Claimed, outcome: Outcome): Promise<Outcome> {
    if (outcome.kind === 'held') {
      // Not renewed any more: the lease runs out and the row is tried again.
      this.release(row.id);
      return Promise.resolve(outcome);
    }
    return new Promise<Outcome>((resolve) => {
      this.toRecord.push({ row, outcome, recorded: () => resolve(outcome) });
      this.recording ??= this.writeRecords();
    });
  }

  /**
   * Writes the queued outcomes, those that finished together in one unit,
   * until none is left. It says it is done in the same step as it finds the
   * queue empty, so an outcome queued after that starts a new writer.
   */
  private async writeRecords(): Promise<void> {
    while (this.toRecord.length) {
      const batch = this.toRecord.splice(0);
      try {
        const reports = await this.store.unit((tx) => this.writeBatch(tx, batch));
        // Counted once committed: these are the tries on record.
        for (const r of reports) this.observer?.delivered(...r);
      } catch (error) {
        // The leases run out and the rows are sent again: at least once.
        this.log.error({ err: error, deliveries: batch.length }, 'webhook delivery outcomes not recorded');
      }
      for (const b of batch) {
        this.release(b.row.id);
        b.recorded();
      }
    }
    this.recording = null;
  }

  /**
   * An attempt row per try, and each delivery's new state: one UPDATE per
   * distinct new state (under load, all the batch's acknowledged rows share
   * one), one INSERT for the tries. Rows whose lease was lost are left alone.
   */
  private async writeBatch(tx: Parameters<Parameters<Store['unit']>[0]>[0], batch: Array<{ row: Claimed; outcome: Outcome }>): Promise<Array<Parameters<DeliveryObserver['delivered']>>> {
    const now = this.clock.now();
    const released = { lease_until: null, lease_owner: null, updated_at: now };
    const changes = new Map<string, { set: Updateable<DeliveryTable>; rows: Array<{ d: Claimed; o: Outcome; status: string }> }>();
    for (const { row: d, outcome: o } of batch) {
      if (o.kind === 'held') continue;
      let status = 'skipped';
      let set: Updateable<DeliveryTable> = { status, ...released };
      if (o.kind === 'sent') {
        const attempts = d.attempts + 1;
        const delay = o.retryDelaysMs[attempts - 1];
        status = o.acknowledged ? 'succeeded' : delay === undefined ? 'failed' : 'pending';
        set = {
          status,
          attempts,
          ...(status === 'pending' ? { next_attempt_at: now + delay! } : {}),
          last_status_code: o.statusCode,
          last_error: o.error,
          ...released,
        };
      }
      const key = JSON.stringify(set);
      const change = changes.get(key) ?? changes.set(key, { set, rows: [] }).get(key)!;
      change.rows.push({ d, o, status });
    }
    const reports: Array<Parameters<DeliveryObserver['delivered']>> = [];
    const tries: Array<Omit<DeliveryAttemptTable, 'id'>> = [];
    for (const { set, rows } of changes.values()) {
      const updated = await tx
        .updateTable('deliveries')
        .set(set)
        .where('id', 'in', rows.map((r) => r.d.id))
        .where('lease_owner', '=', this.owner.name)
        .returning('id')
        .execute();
      const mine = new Set(updated.map((u) => u.id));
      for (const { d, o, status } of rows) {
        if (!mine.has(d.id)) {
          // Another sender took it over: its try is the one on record.
          this.log.warn({ delivery: d.id }, 'delivery lease expired during send');
          continue;
        }
        if (o.kind !== 'sent') {
          reports.push([d.dialect, 'skipped']);
          continue;
        }
        reports.push([d.dialect, status === 'succeeded' ? 'acknowledged' : status === 'failed' ? 'failed' : 'retrying', o.lagMs]);
        tries.push({ delivery_id: d.id, attempt: d.attempts + 1, status_code: o.statusCode, error: o.error, duration_ms: o.durationMs, attempted_at: o.attemptedAt, response_body: o.responseBody });
      }
    }
    if (tries.length) await tx.insertInto('delivery_attempts').values(tries).execute();
    return reports;
  }
}

/** Why an answer does not count as received: its status, and for a 3xx that redirects are not followed. */
function describeAnswer(status: number): string {
  if (status >= 300 && status < 400) return `HTTP ${status}: redirects are not followed`;
  return status >= 200 && status < 300 ? 'not acknowledged' : `HTTP ${status}`;
}

/** A short, secret-free reason: "timeout", an error code such as "ECONNREFUSED", the address rule's refusal, or "request failed". */
function describeFailure(err: unknown): string {
  if (err instanceof BlockedAddressError) return err.message;
  if (err instanceof Error && (err.name === 'TimeoutError' || err.name === 'AbortError')) return 'timeout';
  const code = (err as { cause?: { code?: unknown } } | null)?.cause?.code ?? (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' && /^[A-Z][A-Z0-9_]{1,40}$/.test(code) ? code : 'request failed';
}

/**
 * GET /metrics in Prometheus' text format: requests and their latency per
 * route, payments by status, the webhook outbox's backlog and lag, delivery
 * outcomes, and the database's queue of work waiting for a connection or a
 * commit. One registry per platform (tests run several in one process).
 */
import type { FastifyInstance } from 'fastify';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { DeliveryObserver } from '../delivery/relay.ts';
import type { Store } from '../store/store.ts';
import { deliveryPending } from '../store/sweep-conditions.ts';

const LATENCY_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
const LAG_BUCKETS = [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 300, 3600];

export class PlatformMetrics implements DeliveryObserver {
  readonly registry = new Registry();
  private readonly requests: Counter<'method' | 'route' | 'status_code'>;
  private readonly latency: Histogram<'method' | 'route'>;
  private readonly deliveries: Counter<'dialect' | 'outcome'>;
  private readonly lag: Histogram<'dialect'>;

  constructor(store: Store) {
    const registers = [this.registry];
    collectDefaultMetrics({ register: this.registry, prefix: 'polypay_' });
    this.requests = new Counter({
      name: 'polypay_http_requests_total',
      help: 'HTTP requests answered, by route pattern and status code',
      labelNames: ['method', 'route', 'status_code'],
      registers,
    });
    this.latency = new Histogram({
      name: 'polypay_http_request_duration_seconds',
      help: 'Time from a request arriving to its answer being sent, by route pattern',
      labelNames: ['method', 'route'],
      buckets: LATENCY_BUCKETS,
      registers,
    });
    this.deliveries = new Counter({
      name: 'polypay_webhook_deliveries_total',
      help: 'Webhook and notification tries by outcome: acknowledged, retrying (not acknowledged, another try is due), failed (the last try was not acknowledged), skipped',
      labelNames: ['dialect', 'outcome'],
      registers,
    });
    this.lag = new Histogram({
      name: 'polypay_webhook_lag_seconds',
      help: 'From an event being recorded to its webhook being acknowledged (platform time)',
      labelNames: ['dialect'],
      buckets: LAG_BUCKETS,
      registers,
    });
    new Gauge({
      name: 'polypay_payment_intents',
      help: 'Payment intents by status (all dialects)',
      labelNames: ['status'],
      registers,
      async collect() {
        this.reset();
        const rows = await store.read.selectFrom('payment_intents').select(['status', (eb) => eb.fn.countAll<number>().as('n')]).groupBy('status').execute();
        for (const r of rows) this.set({ status: r.status }, Number(r.n));
      },
    });
    new Gauge({
      name: 'polypay_outbox_backlog',
      help: 'Webhook deliveries still to be made (due now or waiting for a retry)',
      registers,
      async collect() {
        const row = await store.read.selectFrom('deliveries').select((eb) => eb.fn.countAll<number>().as('n')).where(deliveryPending).executeTakeFirst();
        this.set(Number(row?.n ?? 0));
      },
    });
    new Gauge({
      name: 'polypay_db_waiting',
      help: 'Units of work waiting for a database connection (PostgreSQL) or for their group commit (SQLite)',
      registers,
      collect() {
        this.set(store.stats().waiting);
      },
    });
    new Gauge({
      name: 'polypay_db_connections',
      help: 'Database connections open (PostgreSQL pool; 1 writer for SQLite)',
      registers,
      collect() {
        this.set(store.stats().connections);
      },
    });
  }

  /** The relay's queue and the units it holds back, read at each scrape. */
  watchRelay(stats: () => { queued: number; sending: number; held: number }): void {
    const registers = [this.registry];
    new Gauge({
      name: 'polypay_webhook_queued',
      help: "Webhook deliveries waiting in this process's relay for a free slot of their endpoint",
      registers,
      collect() {
        this.set(stats().queued);
      },
    });
    new Gauge({
      name: 'polypay_webhook_sending',
      help: 'Webhook requests under way from this process',
      registers,
      collect() {
        this.set(stats().sending);
      },
    });
    new Gauge({
      name: 'polypay_webhook_held_units',
      help: 'Units of work waiting, before they start, for the relay to catch up (webhooks behind the API)',
      registers,
      collect() {
        this.set(stats().held);
      },
    });
  }

  delivered(dialect: string, outcome: 'acknowledged' | 'retrying' | 'failed' | 'skipped', lagMs?: number): void {
    this.deliveries.inc({ dialect, outcome });
    if (lagMs !== undefined) this.lag.observe({ dialect }, Math.max(0, lagMs) / 1000);
  }

  /** Counts every answer by its route's pattern (`/api/v2/payment_intents/:id`, not the id), and serves GET /metrics. */
  register(http: FastifyInstance): void {
    http.addHook('onResponse', async (request, reply) => {
      const route = request.routeOptions.url ?? 'unmatched';
      if (route === '/metrics') return;
      this.requests.inc({ method: request.method, route, status_code: String(reply.statusCode) });
      this.latency.observe({ method: request.method, route }, reply.elapsedTime / 1000);
    });
    // `?name=a&name=b` answers those metrics only: a scraper polling one gauge
    // (the bench, waiting for the outbox to empty) does not make the server
    // count every payment by status each time.
    http.get<{ Querystring: { name?: string | string[] } }>('/metrics', { schema: { hide: true } }, async (request, reply) => {
      const names = [request.query.name ?? []].flat();
      const unknown = names.find((n) => !this.registry.getSingleMetric(n));
      if (unknown !== undefined) return reply.code(400).type('text/plain').send(`unknown metric: ${unknown.slice(0, 100)}\n`);
      reply.header('content-type', this.registry.contentType);
      if (!names.length) return this.registry.metrics();
      return (await Promise.all(names.map((n) => this.registry.getSingleMetricAsString(n)))).join('\n') + '\n';
    });
  }
}

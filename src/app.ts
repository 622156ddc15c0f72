/**
 * Composition root: builds the store, the core services with their ports,
 * the dialects, the hosted pages and the background workers.
 */
import { createHmac } from 'node:crypto';
import formbody from '@fastify/formbody';
import swagger from '@fastify/swagger';
import Fastify, { LogController, type FastifyInstance } from 'fastify';
import { AdjustableClock, systemClock } from './core/clock.ts';
import { IdGenerator } from './core/ids.ts';
import { IssuingService } from './core/issuing/service.ts';
import { MerchantService } from './core/merchants/merchants.ts';
import { PaymentsService } from './core/payments/service.ts';
import type { CardNetwork } from './core/ports.ts';
import { SecretBox } from './core/secret-box.ts';
import type { Config } from './config.ts';
import { AlphapayNotificationRenderer } from './dialects/alphapay/notifications.ts';
import { alphapayPlugin } from './dialects/alphapay/plugin.ts';
import { alphapayFault } from './dialects/alphapay/results.ts';
import { alphapayV1Fault } from './dialects/alphapay/v1/plugin.ts';
import { generateRsaKeyPair } from './dialects/alphapay/signature.ts';
import { QfpayNotificationRenderer } from './dialects/qfpay/notifications.ts';
import { qfpayFault } from './dialects/qfpay/errors.ts';
import { qfpayPlugin } from './dialects/qfpay/plugin.ts';
import { CAPTURE_SCOPE as QFPAY_CAPTURE_SCOPE, REFERENCE_SCOPE as QFPAY_REFERENCE_SCOPE } from './dialects/qfpay/routes.ts';
import { PAYMENT_REFERENCE_SCOPE, REFUND_REFERENCE_SCOPE } from './dialects/alphapay/wire.ts';
import { qfpayCardPolicy } from './dialects/qfpay/wire.ts';
import { UqpayAuth } from './dialects/uqpay/auth.ts';
import { uqpayFault } from './dialects/uqpay/errors.ts';
import { uqpayPlugin } from './dialects/uqpay/plugin.ts';
import { UqpayWebhookRenderer } from './dialects/uqpay/webhooks.ts';
import { DeliveryRelay } from './delivery/relay.ts';
import { FaultFormats } from './http/faults.ts';
import { HEALTH_PATHS, healthRoutes } from './http/health.ts';
import { IdempotencyKeys } from './http/idempotency.ts';
import { refuseUnsafeInput } from './http/input-guard.ts';
import { shedLoad } from './http/load-shedding.ts';
import { limitMerchantRates } from './http/rate-limits.ts';
import { loggerOptions } from './http/logging.ts';
import { PlatformMetrics } from './http/metrics.ts';
import { SimCardNetwork } from './network/sim/card-network.ts';
import { SimFxRates } from './network/sim/fx-rates.ts';
import { SimThreeDSServer } from './network/sim/three-ds-server.ts';
import { SimWallets } from './network/sim/wallets.ts';
import { simRoutes } from './sim-api/routes.ts';
import { issuingStore } from './store/issuing-repo.ts';
import { Outbox } from './store/outbox.ts';
import { isStoreUnavailable } from './store/faults.ts';
import { clockOffsets, takeIdNode } from './store/platform-counters.ts';
import { merchantRepository } from './store/merchants-repo.ts';
import { paymentConsoleReads } from './store/payments-console-repo.ts';
import { paymentsStore } from './store/payments-repo.ts';
import { referenceRepository } from './store/references-repo.ts';
import { simCardNetworkRecords } from './store/sim-card-network-repo.ts';
import { openStore, type Store } from './store/store.ts';
import { CARD_PAY_PATH, cardPayPages, cardPayToken } from './web/card-pay.ts';
import { CARD_DISPLAY_PATH, cardSecureDisplayPages } from './web/card-secure-display.ts';
import { nonceLedger } from './store/alphapay-nonces.ts';
import { ALPHAPAY_CASHIER_PATH, alphapayCashierPages } from './web/alphapay-cashier.ts';
import { HOSTED_PAGE_PATHS, hostedPageFault } from './web/error-page.ts';
import { CHALLENGE_PATH, threeDSChallengePages } from './web/three-ds-challenge.ts';
import { WALLET_PAY_PATH, walletPayPages } from './web/wallet-pay.ts';
import { DashboardUsers } from './core/dashboard/users.ts';
import { dashboardUserRepository } from './store/dashboard-users-repo.ts';
import { paymentStats } from './store/payment-stats-repo.ts';
import { dashboardFault } from './web/dashboard/errors.ts';
import { DASHBOARD_PATH } from './web/dashboard/layout.ts';
import { dashboardPlugin } from './web/dashboard/plugin.ts';

export interface Platform {
  config: Config;
  http: FastifyInstance;
  store: Store;
  clock: AdjustableClock;
  merchants: MerchantService;
  payments: PaymentsService;
  issuing: IssuingService;
  relay: DeliveryRelay;
  /** People who sign in to the merchant dashboard. */
  dashboardUsers: DashboardUsers;
  /** Listens, then starts the background workers. Returns the base URL. */
  listen(): Promise<string>;
  /** Starts the workers without listening (tests that use inject). */
  startWorkers(): void;
  close(): Promise<void>;
}

export interface BuildOptions {
  /** Workers' polling intervals; tests shorten them. */
  relayIntervalMs?: number;
  sweepIntervalMs?: number;
  /** How often work a crash left in flight is looked for (default 2 s; also at start and when the sandbox clock is advanced). */
  recoveryIntervalMs?: number;
  /**
   * The card network (default: the simulator), or a function given the
   * simulator that answers the network to use: tests wrap it to interleave
   * other work with an authorization.
   */
  cardNetwork?: CardNetwork | ((simulator: CardNetwork) => CardNetwork);
  /** How long a webhook receiver has to answer (default 10 s); tests shorten it. */
  webhookTimeoutMs?: number;
}

export async function buildPlatform(config: Config, opts: BuildOptions = {}): Promise<Platform> {
  // Card data and merchants' secrets are sealed at rest with the platform key.
  const vault = new SecretBox(config.encryptionKey);
  const store = await openStore({ databaseUrl: config.databaseUrl, dataDir: config.dataDir, secrets: vault });
  try {
    return await assemble(config, opts, store, vault);
  } catch (error) {
    // A platform that cannot be built leaves nothing open behind it (the process must be able to exit).
    await store.close().catch(() => {});
    throw error;
  }
}

async function assemble(config: Config, opts: BuildOptions, store: Store, vault: SecretBox): Promise<Platform> {
  // The sandbox's platform time survives restarts; outside the sandbox it is real time.
  const sandbox = config.mode === 'sandbox';
  const clock = new AdjustableClock(systemClock, sandbox ? clockOffsets(store) : undefined);
  await clock.sync();
  // A node number of its own among the processes sharing the database, so their ids never collide.
  const ids = new IdGenerator(await takeIdNode(store), () => clock.now());
  const merchants = new MerchantService(merchantRepository(store, vault), {
    now: () => clock.now(),
    newId: () => ids.next('M'),
    rsaKeyPair: generateRsaKeyPair,
    vault,
  });

  // The units that plan webhooks hand them to this process's relay through it.
  const outbox = new Outbox();
  let baseUrl = config.publicBaseUrl ?? `http://${config.host}:${config.port}`;
  /** A wallet order's hosted pay page, as shoppers reach it. */
  const walletPageUrl = (token: string) => `${baseUrl}${WALLET_PAY_PATH}/${token}`;
  // The platform's own card issuer: the card network and 3DS server route its BINs to it.
  const issuing = new IssuingService({
    store: issuingStore(store, outbox),
    clock,
    vault,
    cardKey: createHmac('sha256', config.encryptionKey).update('issuing-card-data').digest(),
  });
  // The simulated network keeps its records in the database (shared by the nodes, kept across restarts) and routes the platform's own BINs to its issuer.
  const simNetwork = new SimCardNetwork({ records: simCardNetworkRecords(store), now: () => clock.now(), issuer: issuing });
  const cardNetwork = typeof opts.cardNetwork === 'function' ? opts.cardNetwork(simNetwork) : opts.cardNetwork ?? simNetwork;
  const payments = new PaymentsService({
    store: paymentsStore(store, merchants.remember<string | null>(), outbox),
    clock,
    ids,
    cardNetwork,
    threeDS: new SimThreeDSServer({ challengeUrl: (id) => `${baseUrl}${CHALLENGE_PATH}/${id}`, issuer: issuing }),
    wallets: new SimWallets({ payUrl: walletPageUrl, now: () => clock.now() }),
    fx: new SimFxRates(config.fxRates),
    vault,
    fingerprintKey: createHmac('sha256', config.encryptionKey).update('card-fingerprint').digest(),
    logger: { warn: (obj, msg) => http.log.warn(obj, msg) },
  });

  // Every fault is answered in the format of the API whose prefix the URL has; each API registers its own.
  const faults = new FaultFormats();
  faults.register(['/api'], uqpayFault);
  faults.register(['/trade', '/download'], qfpayFault);
  faults.register(HOSTED_PAGE_PATHS, hostedPageFault);
  faults.register(['/api/v2.0/payments'], alphapayFault);
  faults.register(['/api/v1.0'], alphapayV1Fault);
  faults.register([DASHBOARD_PATH], dashboardFault);
  const http = Fastify({
    logger: loggerOptions(config.logLevel, [CHALLENGE_PATH, WALLET_PAY_PATH, CARD_PAY_PATH, CARD_DISPLAY_PATH, ALPHAPAY_CASHIER_PATH]),
    logController: new LogController({ disableRequestLogging: !config.logRequests }),
    bodyLimit: 1024 * 1024,
    requestTimeout: 30_000, // a request must arrive whole within 30 s
    frameworkErrors: faults.frameworkErrors,
    ajv: { customOptions: { coerceTypes: true, allowUnionTypes: true, useDefaults: true, removeAdditional: false, allErrors: false } },
  });
  const metrics = new PlatformMetrics(store);
  metrics.register(http);
  // Remembered per merchant, and forgotten when its secret is rotated (on this node at once, on others within ACTIVE_CHECK_TTL_MS).
  const webhookSecrets = merchants.remember(async (merchantId) => (await merchants.byId(merchantId))?.uqpay.webhookSecret ?? null);
  const merchantsForNotifications = merchants.remember((merchantId) => merchants.byId(merchantId));
  const relay = new DeliveryRelay({
    store,
    clock,
    observer: metrics,
    renderers: {
      uqpay: new UqpayWebhookRenderer((merchantId) => webhookSecrets.get(merchantId)),
      qfpay: new QfpayNotificationRenderer((merchantId) => merchants.byId(merchantId)),
      alphapay: new AlphapayNotificationRenderer((merchantId) => merchantsForNotifications.get(merchantId), (m) => merchants.alphapayCredentialCode(m), () => systemClock.now()),
    },
    logger: http.log,
    live: config.mode === 'live',
    timeoutMs: opts.webhookTimeoutMs,
    outbox,
  });
  metrics.watchRelay(() => relay.stats());

  const idempotency = new IdempotencyKeys(store, clock, createHmac('sha256', config.encryptionKey).update('idempotency-request').digest());
  await idempotency.sealStoredDigests();
  const auth = new UqpayAuth(config.jwtSecret, merchants, clock);

  // The request schemas the routes validate with are also the published API description.
  await http.register(swagger, {
    openapi: {
      info: { title: 'polypay', version: '0.1.0', description: 'UQPAY-compatible acquiring API (mounted at /api), QFPay-compatible trade API (/trade/v1, /download/v1) and the sandbox API (/sim/v1)' },
    },
  });
  faults.install(http);
  shedLoad(http, { maxInFlight: config.maxInFlight, exempt: HEALTH_PATHS });
  await limitMerchantRates(http, config.rateLimits, (req) => req.merchantId || req.qf?.merchant.id || req.alphapayMerchant?.id || req.alphapayV1Merchant?.id);
  healthRoutes(http, store);
  // Non-finite numbers, NUL characters and lone surrogates are refused on every route, in its dialect's format.
  http.addHook('preHandler', refuseUnsafeInput);
  http.get('/openapi.json', { schema: { hide: true } }, async () => http.swagger());
  await http.register(uqpayPlugin, { prefix: '/api', payments, idempotency, auth, merchants, issuing, simulation: sandbox });
  const cardPageUrl = (view: { intent: Parameters<typeof cardPayToken>[0] }) => `${baseUrl}${CARD_PAY_PATH}/${cardPayToken(view.intent)}`;
  await http.register(qfpayPlugin, { payments, merchants, references: referenceRepository(store), clock, ids, cardPageUrl });
  await http.register(alphapayPlugin, {
    payments,
    merchants,
    references: referenceRepository(store),
    fx: new SimFxRates(config.fxRates),
    nonces: nonceLedger(store),
    clock,
    realClock: systemClock,
    cashierUrl: (token) => `${baseUrl}${ALPHAPAY_CASHIER_PATH}/${token}`,
  });
  await http.register(async (web) => {
    await web.register(formbody); // hosted pages post plain HTML forms
    await threeDSChallengePages(web, payments, merchants, () => clock.now());
    await walletPayPages(web, payments, merchants, () => clock.now(), walletPageUrl);
    await cardPayPages(web, payments, merchants, qfpayCardPolicy);
    await cardSecureDisplayPages(web, issuing);
    await alphapayCashierPages(web, { payments, merchants, now: () => clock.now(), walletPageUrl });
  });
  // Sessions and sign-in throttling run on real time: advancing the sandbox clock signs nobody out.
  const dashboardUsers = new DashboardUsers(dashboardUserRepository(store), {
    now: () => systemClock.now(),
    newId: () => ids.next('DU'),
    merchants,
  });
  await http.register(dashboardPlugin, {
    prefix: DASHBOARD_PATH,
    store,
    merchants,
    payments,
    issuing,
    relay,
    clock,
    sandbox,
    users: dashboardUsers,
    stats: paymentStats(store),
    paymentConsole: paymentConsoleReads(store, { referenceScopes: [QFPAY_REFERENCE_SCOPE, QFPAY_CAPTURE_SCOPE, PAYMENT_REFERENCE_SCOPE, REFUND_REFERENCE_SCOPE] }),
    idempotency,
    publicBaseUrl: config.publicBaseUrl,
  });
  if (sandbox) await http.register(simRoutes, { prefix: '/sim/v1', clock, payments, merchants, relay });

  // Time-driven work follows the platform clock: advancing it runs the sweeps at once.
  // Each step runs even when one before it fails (the database busy a moment): the first failure is reported after.
  const sweep = async () => {
    const failures: unknown[] = [];
    for (const step of [() => payments.expireDue(), () => payments.settlePending(), () => payments.recoverInFlight(), () => issuing.completeDueSteps(), () => relay.drain()]) {
      await step().catch((error: unknown) => failures.push(error));
    }
    if (failures.length) throw failures[0];
  };
  clock.onAdvance(sweep);

  const timers: NodeJS.Timeout[] = [];
  let workersStarted = false;
  // A background job never overlaps itself, and close() waits for the ones running.
  const running = new Map<string, Promise<unknown>>();
  const guard = (name: string, fn: () => Promise<unknown>) => () => {
    if (running.has(name)) return;
    const job = fn()
      // The database away is no bug: one line each time, and the job runs again on its next tick.
      .catch((err) => (isStoreUnavailable(err) ? http.log.warn(`${name} skipped: the database is unavailable`) : http.log.error({ err }, `${name} failed`)))
      .finally(() => running.delete(name));
    running.set(name, job);
  };

  const platform: Platform = {
    config,
    http,
    store,
    clock,
    merchants,
    payments,
    issuing,
    relay,
    dashboardUsers,
    startWorkers() {
      if (workersStarted) return;
      workersStarted = true;
      relay.start(opts.relayIntervalMs ?? 250);
      // Only work in flight longer than a request waits for the outside world (IN_FLIGHT_GRACE_MS): on a database
      // shared with other nodes, what is younger may be theirs, still running.
      guard('startup recovery', () => payments.recoverInFlight())();
      timers.push(setInterval(guard('expiry sweep', () => payments.expireDue()), opts.sweepIntervalMs ?? 1000));
      timers.push(setInterval(guard('pending settlement', () => payments.settlePending()), opts.sweepIntervalMs ?? 1000));
      timers.push(setInterval(guard('card orders', () => issuing.completeDueSteps()), opts.sweepIntervalMs ?? 1000));
      timers.push(setInterval(guard('recovery', () => payments.recoverInFlight()), opts.recoveryIntervalMs ?? 2_000));
      timers.push(setInterval(guard('idempotency purge', () => idempotency.purgeExpired()), 10 * 60_000));
      timers.push(setInterval(guard('card network purge', () => simNetwork.purge()), 10 * 60_000));
      // Another node on the same database may have moved the sandbox clock.
      if (sandbox) timers.push(setInterval(guard('clock sync', () => clock.sync()), opts.sweepIntervalMs ?? 1000));
      for (const t of timers) t.unref();
    },
    async listen() {
      const address = await http.listen({ host: config.host, port: config.port });
      if (!config.publicBaseUrl) {
        const port = (http.server.address() as { port: number }).port;
        baseUrl = `http://${config.host.includes(':') ? `[${config.host}]` : config.host}:${port}`;
      }
      platform.startWorkers();
      return config.publicBaseUrl ?? baseUrl ?? address;
    },
    async close() {
      for (const t of timers) clearInterval(t);
      await http.close(); // stops accepting, lets requests in flight finish
      await Promise.allSettled(running.values());
      await relay.stop();
      await store.close();
    },
  };
  return platform;
}

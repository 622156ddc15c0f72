/**
 * Boots a real platform on 127.0.0.1 for integration tests, on SQLite (a
 * temp data dir) or PostgreSQL (a fresh database per platform), and talks to
 * it over HTTP like a merchant would.
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createPgDatabase as createDatabase, pgUnavailable } from './postgres.ts';
import { describe, expect } from 'vitest';
import { buildPlatform, type BuildOptions, type Platform } from '../../src/app.ts';
import { loadConfig, type Config } from '../../src/config.ts';
import type { IssuedCredentials } from '../../src/core/merchants/merchants.ts';
import type { StoredPaymentMethod } from '../../src/core/payments/types.ts';
import { paymentsStore } from '../../src/store/payments-repo.ts';
import { openStore, type Store } from '../../src/store/store.ts';
import { RecordingEndpoint, type ReceivedRequest } from './receiver.ts';

export { freePort } from './receiver.ts';

export type Backend = 'sqlite' | 'postgres';

export const PG_ADMIN_URL = process.env.POLYPAY_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

let pgReachable: Promise<string | null> | null = null;

/** null when PostgreSQL answers; otherwise why not. */
export function pgUnavailableReason(): Promise<string | null> {
  pgReachable ??= pgUnavailable(PG_ADMIN_URL);
  return pgReachable;
}

/** A fresh database for one test platform. */
export const createPgDatabase = () => createDatabase(PG_ADMIN_URL, 'polypay_t');

/** A bare store on `backend` (a fresh database, or a temp data dir) and what removes it after its close. */
export async function openTestStore(backend: Backend, prefix: string): Promise<{ store: Store; remove: () => Promise<void> | void }> {
  if (backend === 'postgres') {
    const db = await createPgDatabase();
    return { store: await openStore({ databaseUrl: db.url, dataDir: os.tmpdir() }), remove: db.drop };
  }
  const dir = mkdtempSync(path.join(os.tmpdir(), prefix));
  return { store: await openStore({ dataDir: dir }), remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/** Why PostgreSQL tests cannot run here, or null when a server answers. */
export const PG_SKIP_REASON = await pgUnavailableReason();
if (PG_SKIP_REASON) console.warn(`PostgreSQL tests SKIPPED: no server at ${PG_ADMIN_URL} (${PG_SKIP_REASON})`);

/** Runs the suite once per backend; PostgreSQL is skipped, visibly, only when no server answers. */
export function describeEachBackend(name: string, fn: (backend: Backend) => void): void {
  for (const backend of ['sqlite', 'postgres'] as Backend[]) {
    const skip = backend === 'postgres' && PG_SKIP_REASON !== null;
    describe.skipIf(skip)(`${name} [${backend}]`, () => fn(backend));
  }
}

export interface Reply {
  status: number;
  body: any;
  text: string;
  headers: Headers;
}

export interface TestPlatform {
  platform: Platform;
  baseUrl: string;
  backend: Backend;
  dataDir: string;
  databaseUrl: string | undefined;
  close(): Promise<void>;
}

export async function startPlatform(
  backend: Backend,
  opts: { dataDir?: string; databaseUrl?: string; cardNetwork?: BuildOptions['cardNetwork']; recoveryIntervalMs?: number; webhookTimeoutMs?: number; config?: Partial<Config> } = {},
): Promise<TestPlatform> {
  const dataDir = opts.dataDir ?? mkdtempSync(path.join(os.tmpdir(), 'polypay-test-'));
  let databaseUrl = opts.databaseUrl;
  let drop: (() => Promise<void>) | null = null;
  if (backend === 'postgres' && !databaseUrl) {
    const reason = await pgUnavailableReason();
    if (reason) throw new Error(`PostgreSQL unavailable: ${reason}`);
    const db = await createPgDatabase();
    databaseUrl = db.url;
    drop = db.drop;
  }
  const config = loadConfig({}, { dataDir, port: 0, host: '127.0.0.1', databaseUrl, logLevel: 'warn', mode: 'sandbox', ...opts.config });
  const platform = await buildPlatform(config, { relayIntervalMs: 50, sweepIntervalMs: 200, recoveryIntervalMs: opts.recoveryIntervalMs ?? 200, cardNetwork: opts.cardNetwork, webhookTimeoutMs: opts.webhookTimeoutMs });
  const baseUrl = await platform.listen();
  return {
    platform,
    baseUrl,
    backend,
    dataDir,
    databaseUrl,
    async close() {
      await platform.close();
      if (drop) await drop();
      if (!opts.dataDir) rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** A response as a Reply: the body parsed as JSON when it is JSON, else the text. */
export async function readReply(r: Response): Promise<Reply> {
  const text = await r.text();
  let parsed: any = text;
  try {
    parsed = JSON.parse(text);
  } catch {
    /* not JSON */
  }
  return { status: r.status, body: parsed, text, headers: r.headers };
}

/** A merchant's UQPAY client: token handling and the headers the SDKs send. */
export class UqpayClient {
  token = '';

  constructor(readonly baseUrl: string, readonly credentials: IssuedCredentials) {}

  static async create(tp: TestPlatform, opts: { name?: string; webhookUrl?: string } = {}): Promise<UqpayClient> {
    const creds = await tp.platform.merchants.create({ name: opts.name ?? 'Test Merchant', webhookUrl: opts.webhookUrl ?? null });
    const client = new UqpayClient(tp.baseUrl, creds);
    await client.authenticate();
    return client;
  }

  async authenticate(): Promise<void> {
    const r = await fetch(`${this.baseUrl}/api/v1/connect/token`, {
      method: 'POST',
      headers: { 'x-client-id': this.credentials.uqpay.client_id, 'x-api-key': this.credentials.uqpay.api_key, 'Content-Type': 'application/json' },
    });
    if (r.status !== 200) throw new Error(`token request failed: ${r.status} ${await r.text()}`);
    this.token = ((await r.json()) as { auth_token: string }).auth_token;
  }

  async request(method: string, pathname: string, body?: unknown, headers: Record<string, string> = {}): Promise<Reply> {
    const r = await fetch(`${this.baseUrl}/api${pathname}`, {
      method,
      headers: {
        'Content-Type': 'application/json',
        'x-auth-token': `Bearer ${this.token}`,
        'x-client-id': this.credentials.uqpay.client_id,
        ...(method === 'POST' && !('x-idempotency-key' in headers) ? { 'x-idempotency-key': randomUUID() } : {}),
        ...headers,
      },
      ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
    });
    return readReply(r);
  }

  post(pathname: string, body?: unknown, headers?: Record<string, string>) {
    return this.request('POST', pathname, body, headers);
  }

  get(pathname: string, headers?: Record<string, string>) {
    return this.request('GET', pathname, undefined, headers);
  }
}

export { intentBody, seedCard } from './seed-bodies.ts';

export type ReceivedWebhook = ReceivedRequest;

/** A merchant's webhook endpoint on 127.0.0.1 that records what arrives. */
export class WebhookReceiver extends RecordingEndpoint {
  /** Status codes to answer with, in order; 200 once they run out. */
  responses: number[] = [];

  constructor() {
    super('/webhooks', 'webhooks', (w) => w.body?.event_type);
  }

  protected override nextAnswer(): [number, string] {
    return [this.responses.shift() ?? 200, 'ok'];
  }

  ofType(type: string): ReceivedWebhook[] {
    return this.received.filter((w) => w.body?.event_type === type);
  }
}

/** Moves the sandbox clock of `tp` forward. */
export async function advanceClock(tp: TestPlatform, seconds: number): Promise<void> {
  const r = await simPost(tp.baseUrl, '/clock/advance', { seconds });
  expect(r.status, r.text).toBe(200);
}

/**
 * What a crash leaves behind: the first unit of a payment committed (attempt
 * `attemptId` INITIATED, intent `intentId` PENDING), and nobody ever answered.
 */
export async function strandAttempt(tp: TestPlatform, merchantId: string, intentId: string, attemptId: string, paymentMethod: StoredPaymentMethod): Promise<void> {
  await paymentsStore(tp.platform.store).unit(async (tx) => {
    const intent = (await tx.intent(merchantId, intentId))!;
    const now = intent.createdAt;
    await tx.insertAttempt({
      id: attemptId, intentId, merchantId: intent.merchantId, amount: intent.amount, currency: intent.currency,
      status: 'INITIATED', capturedAmount: 0, refundedAmount: 0, autoCapture: true,
      paymentMethod,
      failureCode: null, authCode: null, rrn: null, arn: null, adviceCode: null, authentication: null, threeDSChallengeId: null,
      walletToken: null, wallet: null, cancellationReason: null, completeTime: null, createdAt: now, updatedAt: now,
    });
    await tx.updateIntent({ ...intent, status: 'PENDING', latestAttemptId: attemptId });
  });
}

export async function simPost(baseUrl: string, pathname: string, body: unknown): Promise<Reply> {
  const r = await fetch(`${baseUrl}/sim/v1${pathname}`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) });
  const text = await r.text();
  return { status: r.status, body: text ? JSON.parse(text) : null, text, headers: r.headers };
}

/**
 * The simulated card network across restarts and nodes: what it approved is
 * in the database, so a restarted process (or another node on the same
 * PostgreSQL database) settles a payment in flight with the network's real
 * answer, never as a decline it did not give.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { CardNetwork } from '../../src/core/ports.ts';
import {
  advanceClock, createPgDatabase, describeEachBackend, intentBody, PG_SKIP_REASON, seedCard, startPlatform, strandAttempt, UqpayClient,
  type Backend, type TestPlatform,
} from '../support/platform.ts';

/** A card network that approves through the simulator, then holds the answer back until released (the process "dies" meanwhile). */
class HeldAnswers {
  private reachedNetwork!: () => void;
  /** Resolves once the simulator has answered the held authorization. */
  readonly reached = new Promise<void>((resolve) => (this.reachedNetwork = resolve));
  private releaseAnswer!: () => void;
  private readonly released = new Promise<void>((resolve) => (this.releaseAnswer = resolve));

  wrap = (network: CardNetwork): CardNetwork => ({
    authorize: async (req) => {
      const answer = await network.authorize(req);
      this.reachedNetwork();
      await this.released;
      return answer;
    },
    capture: (reference, amount) => network.capture(reference, amount),
    void: (reference) => network.void(reference),
    refund: (reference, refundId, amount) => network.refund(reference, refundId, amount),
    lookup: (reference) => network.lookup(reference),
    inquire: (reference) => network.inquire(reference),
  });

  release(): void {
    this.releaseAnswer();
  }
}

async function waitFor<T>(read: () => Promise<T>, done: (value: T) => boolean, ms: number): Promise<T> {
  const deadline = Date.now() + ms;
  let value = await read();
  while (!done(value) && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 100));
    value = await read();
  }
  return value;
}

async function pendingBalance(client: UqpayClient, currency: string): Promise<string | undefined> {
  const r = await client.get('/v2/payment/balances?page_size=100');
  return (r.body.data as Array<{ currency: string; pending_balance: string }>).find((b) => b.currency === currency)?.pending_balance;
}

/** The database both processes share: a PostgreSQL database of the test's own, or the SQLite file in one data dir. */
async function sharedDatabase(backend: Backend) {
  if (backend !== 'postgres') return { databaseUrl: undefined, drop: async () => {} };
  const db = await createPgDatabase();
  return { databaseUrl: db.url, drop: db.drop };
}

describeEachBackend('the card network across a restart', (backend) => {
  let first: TestPlatform | null = null;
  let second: TestPlatform | null = null;
  let drop = async () => {};
  let held = new HeldAnswers();
  afterEach(async () => {
    held.release();
    held = new HeldAnswers();
    await second?.close();
    await first?.close(); // removes the data dir the two shared
    first = second = null;
    await drop();
  });

  it('a payment the network approved while the process died ends SUCCEEDED after the restart, and a retry with its key gets it within seconds', async () => {
    const shared = await sharedDatabase(backend);
    drop = shared.drop;
    first = await startPlatform(backend, { databaseUrl: shared.databaseUrl, cardNetwork: held.wrap });
    const creds = (await UqpayClient.create(first)).credentials;
    const viaFirst = new UqpayClient(first.baseUrl, creds);
    await viaFirst.authenticate();

    const key = randomUUID();
    const body = { ...intentBody({ amount: '42.10' }), payment_method: seedCard() };
    const inFlight = viaFirst.post('/v2/payment_intents/create', body, { 'x-idempotency-key': key });
    await held.reached; // the network approved; the answer never reaches the payment
    // The process goes away: its workers stop, it takes no new requests (the one in flight hangs on).
    const closing = first.platform.close();

    second = await startPlatform(backend, { dataDir: first.dataDir, databaseUrl: shared.databaseUrl });
    const merchant = new UqpayClient(second.baseUrl, creds);
    await merchant.authenticate();
    const soon = await merchant.post('/v2/payment_intents/create', body, { 'x-idempotency-key': key });
    expect(soon.status, soon.text).toBe(409); // younger than the recovery's grace: it may still be running
    // No clock advance: recovery and the key's abandonment follow real time within seconds.
    const retry = await waitFor(() => merchant.post('/v2/payment_intents/create', body, { 'x-idempotency-key': key }), (r) => r.status !== 409, 12_000);
    expect(retry.status, retry.text).toBe(200);
    expect(retry.headers.get('x-idempotent-replayed')).toBe('true');
    expect(retry.body).toMatchObject({ intent_status: 'SUCCEEDED', amount: '42.10', captured_amount: '42.10', latest_payment_attempt: { attempt_status: 'CAPTURE_REQUESTED' } });
    const attempt = await merchant.get(`/v2/payment/payment_attempts/${retry.body.latest_payment_attempt.attempt_id}`);
    expect(attempt.body.auth_code).toMatch(/^[A-Z0-9]{6}$/);
    const list = await merchant.get('/v2/payment_intents?page_size=10');
    expect(list.body.total_items).toBe(1); // no second payment
    expect(await pendingBalance(merchant, 'SGD')).toBe('42.1');

    // The old process's answer comes at last: it changes nothing, and the key keeps the settled payment.
    held.release();
    const late = await inFlight;
    expect(late.status).toBeLessThan(500);
    // The test client keeps its connection alive, which would hold the closing server for its keep-alive timeout.
    first.platform.http.server.closeIdleConnections();
    await closing;
    const again = await merchant.post('/v2/payment_intents/create', body, { 'x-idempotency-key': key });
    expect(again.text).toBe(retry.text);
    expect(await pendingBalance(merchant, 'SGD')).toBe('42.1');
  });

  it("a slow issuer's authorization made before a restart is settled by the restarted process once the issuer answers", async () => {
    const shared = await sharedDatabase(backend);
    drop = shared.drop;
    first = await startPlatform(backend, { databaseUrl: shared.databaseUrl });
    const viaFirst = await UqpayClient.create(first);
    const r = await viaFirst.post('/v2/payment_intents/create', { ...intentBody({ amount: '13.00' }), payment_method: seedCard({ card_number: '4000000000000267' }) });
    expect(r.body, r.text).toMatchObject({ intent_status: 'PENDING', latest_payment_attempt: { attempt_status: 'PENDING_AUTHORIZATION' } });
    await first.platform.close();

    second = await startPlatform(backend, { dataDir: first.dataDir, databaseUrl: shared.databaseUrl });
    const merchant = new UqpayClient(second.baseUrl, viaFirst.credentials);
    await merchant.authenticate();
    await advanceClock(second, 11);
    const done = await merchant.get(`/v2/payment_intents/${r.body.payment_intent_id}`);
    expect(done.body).toMatchObject({ intent_status: 'SUCCEEDED', captured_amount: '13.00', latest_payment_attempt: { attempt_status: 'CAPTURE_REQUESTED' } });
    expect(await pendingBalance(merchant, 'SGD')).toBe('13');
  });
});

describeEachBackend('recovery when the sandbox clock is advanced', (backend) => {
  let tp: TestPlatform;
  let merchant: UqpayClient;
  let network!: CardNetwork;
  /** The next authorization's answer is lost on its way back (the network approved; the platform sees an error). */
  let loseNextAnswer = false;

  beforeAll(async () => {
    // Recovery runs at start and on a clock advance only: its timer never fires during the test.
    const losing = (sim: CardNetwork): CardNetwork => ({
      authorize: async (req) => {
        const answer = await sim.authorize(req);
        if (!loseNextAnswer) return answer;
        loseNextAnswer = false;
        throw new Error('connection reset by the network');
      },
      capture: (reference, amount) => sim.capture(reference, amount),
      void: (reference) => sim.void(reference),
      refund: (reference, refundId, amount) => sim.refund(reference, refundId, amount),
      lookup: (reference) => sim.lookup(reference),
      inquire: (reference) => sim.inquire(reference),
    });
    tp = await startPlatform(backend, { recoveryIntervalMs: 3_600_000, cardNetwork: (sim) => losing((network = sim)) });
    merchant = await UqpayClient.create(tp);
  });
  afterAll(async () => {
    await tp?.close();
  });

  const card = { bin: '534693', last4: '8117', network: 'mastercard', expiryMonth: 12, expiryYear: 2099, fingerprint: 'f', threeDsAction: 'skip_3ds' as const };

  it('settles at once what a crash left in flight: approved when the network approved it, declined when it never received it', async () => {
    const approvedId = (await merchant.post('/v2/payment_intents/create', intentBody({ amount: '5.00' }))).body.payment_intent_id;
    const lostId = (await merchant.post('/v2/payment_intents/create', intentBody({ amount: '6.00' }))).body.payment_intent_id;
    const merchantId = merchant.credentials.merchant_id;
    await strandAttempt(tp, merchantId, approvedId, 'PA2000000000000000001', { type: 'card', card });
    await strandAttempt(tp, merchantId, lostId, 'PA2000000000000000002', { type: 'card', card });
    // The crash came after the network approved the first attempt and before it had the second.
    const answer = await network.authorize({
      reference: 'PA2000000000000000001', merchantId, card: { number: '5346930100108117', expiryMonth: 12, expiryYear: 2099 }, amount: { amount: 500, currency: 'SGD' },
    });
    expect(answer.outcome).toBe('approved');

    await advanceClock(tp, 6); // the advance answers once its sweeps (recovery among them) have run
    const approved = await merchant.get(`/v2/payment_intents/${approvedId}`);
    expect(approved.body).toMatchObject({ intent_status: 'SUCCEEDED', captured_amount: '5.00', latest_payment_attempt: { attempt_status: 'CAPTURE_REQUESTED' } });
    const attempt = await merchant.get('/v2/payment/payment_attempts/PA2000000000000000001');
    expect(attempt.body.auth_code).toBe(answer.outcome === 'approved' ? answer.authCode : 'approved');
    const lost = await merchant.get(`/v2/payment_intents/${lostId}`);
    expect(lost.body).toMatchObject({ intent_status: 'REQUIRES_PAYMENT_METHOD', latest_payment_attempt: { attempt_status: 'FAILED', failure_code: 'processing_error' } });
    expect(await pendingBalance(merchant, 'SGD')).toBe('5');
    // The network now refuses the lost attempt's authorization, should it still arrive.
    const late = await network.authorize({
      reference: 'PA2000000000000000002', merchantId, card: { number: '5346930100108117', expiryMonth: 12, expiryYear: 2099 }, amount: { amount: 600, currency: 'SGD' },
    });
    expect(late).toMatchObject({ outcome: 'declined', failureCode: 'processing_error' });
  });

  it('a request whose approval was lost on the way answers 500, and its retry with the same key gets that payment once settled, never a second one', async () => {
    const before = await pendingBalance(merchant, 'AUD');
    const key = randomUUID();
    const body = { ...intentBody({ amount: '9.00', currency: 'AUD' }), payment_method: seedCard() };
    loseNextAnswer = true;
    const failed = await merchant.post('/v2/payment_intents/create', body, { 'x-idempotency-key': key });
    expect(failed.status, failed.text).toBe(500);
    expect(failed.body).toMatchObject({ type: 'api_error' });
    // The payment it recorded is in flight: the retry waits for it rather than paying again.
    const soon = await merchant.post('/v2/payment_intents/create', body, { 'x-idempotency-key': key });
    expect(soon.status, soon.text).toBe(409);
    await advanceClock(tp, 6);
    const retry = await merchant.post('/v2/payment_intents/create', body, { 'x-idempotency-key': key });
    expect(retry.status, retry.text).toBe(200);
    expect(retry.body).toMatchObject({ intent_status: 'SUCCEEDED', amount: '9.00', currency: 'AUD' });
    const all = await merchant.get('/v2/payment_intents?page_size=100');
    expect(all.body.data.filter((i: { currency: string }) => i.currency === 'AUD')).toHaveLength(1);
    expect(before).toBeUndefined();
    expect(await pendingBalance(merchant, 'AUD')).toBe('9');
  });
});

describe.skipIf(PG_SKIP_REASON !== null)('two nodes on one PostgreSQL database', () => {
  let a: TestPlatform;
  let b: TestPlatform;
  let drop: () => Promise<void>;
  const held = new HeldAnswers();

  beforeAll(async () => {
    const db = await createPgDatabase();
    drop = db.drop;
    // Node A never recovers on its own (its timer never fires): what settles its payment is node B.
    a = await startPlatform('postgres', { databaseUrl: db.url, cardNetwork: held.wrap, recoveryIntervalMs: 3_600_000 });
    // The same data dir: nodes sharing a database share its keys (merchants' secrets are sealed with them).
    b = await startPlatform('postgres', { databaseUrl: db.url, dataDir: a.dataDir });
  });
  afterAll(async () => {
    held.release();
    await a?.close();
    await b?.close();
    await drop?.();
  });

  it('a payment node A sent to the network and never finished is settled by node B with the approval the network gave', async () => {
    const viaA = await UqpayClient.create(a);
    const viaB = new UqpayClient(b.baseUrl, viaA.credentials);
    await viaB.authenticate();
    const inFlight = viaA.post('/v2/payment_intents/create', { ...intentBody({ amount: '77.70' }), payment_method: seedCard() });
    await held.reached;
    const list = await viaB.get('/v2/payment_intents?page_size=10');
    const id = list.body.data[0].payment_intent_id;
    expect((await viaB.get(`/v2/payment_intents/${id}`)).body.intent_status).toBe('PENDING');

    await advanceClock(b, 6); // past the grace in which B leaves A's work alone
    const settled = await viaB.get(`/v2/payment_intents/${id}`);
    expect(settled.body).toMatchObject({ intent_status: 'SUCCEEDED', captured_amount: '77.70', latest_payment_attempt: { attempt_status: 'CAPTURE_REQUESTED' } });
    expect(await pendingBalance(viaB, 'SGD')).toBe('77.7');

    held.release();
    const late = await inFlight; // A's answer comes too late to change anything
    expect(late.status).toBeLessThan(500);
    expect((await viaA.get(`/v2/payment_intents/${id}`)).body.intent_status).toBe('SUCCEEDED');
    expect(await pendingBalance(viaA, 'SGD')).toBe('77.7');
  });
});

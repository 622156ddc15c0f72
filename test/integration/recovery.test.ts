import { hash, randomUUID } from 'node:crypto';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { advanceClock, createPgDatabase, describeEachBackend, intentBody, seedCard, startPlatform, strandAttempt, UqpayClient, type TestPlatform } from '../support/platform.ts';

describeEachBackend('recovery of work a crash left in flight', (backend) => {
  let tp: TestPlatform;
  let dropDb: (() => Promise<void>) | null = null;
  let merchant: UqpayClient;
  let dataDir: string;
  let databaseUrl: string | undefined;

  beforeAll(async () => {
    if (backend === 'postgres') {
      const db = await createPgDatabase();
      databaseUrl = db.url;
      dropDb = db.drop;
    }
    tp = await startPlatform(backend, { databaseUrl });
    dataDir = tp.dataDir;
    merchant = await UqpayClient.create(tp);
  });
  afterAll(async () => {
    await tp?.close();
    await dropDb?.();
  });

  async function restart(): Promise<void> {
    await tp.platform.close();
    tp = await startPlatform(backend, { dataDir, databaseUrl });
    merchant = new UqpayClient(tp.baseUrl, merchant.credentials);
    await merchant.authenticate();
  }

  it('an attempt recorded but never answered is settled after a restart once it has been in flight past the grace, charging nothing', async () => {
    const created = await merchant.post('/v2/payment_intents/create', intentBody());
    const id = created.body.payment_intent_id;
    // The crash: the first unit committed (attempt INITIATED, intent PENDING), the network was never asked.
    await strandAttempt(tp, merchant.credentials.merchant_id, id, 'PA1000000000000000001', {
      type: 'card',
      card: { bin: '424242', last4: '4242', network: 'visa', expiryMonth: 12, expiryYear: 2099, fingerprint: 'f', threeDsAction: 'skip_3ds' },
    });
    const strandedAt = Date.now();
    expect((await merchant.get(`/v2/payment_intents/${id}`)).body.intent_status).toBe('PENDING');
    const cancel = await merchant.post(`/v2/payment_intents/${id}/cancel`, { cancellation_reason: 'duplicate' });
    expect(cancel.status).toBe(400); // in flight: neither cancellable nor confirmable until settled

    await restart();
    // In flight for less than the grace (5 s) it may be another node's, still running: left alone.
    // (Only checkable while the restart took less than the grace: on a loaded machine it can take longer.)
    await new Promise((r) => setTimeout(r, 500));
    const pending = await merchant.get(`/v2/payment_intents/${id}`);
    if (Date.now() - strandedAt < 4_500) expect(pending.body.intent_status).toBe('PENDING');
    // Advancing the clock runs recovery before it answers; the network never received the attempt.
    await advanceClock(tp, 6);
    const after = await merchant.get(`/v2/payment_intents/${id}`);
    expect(after.body.intent_status).toBe('REQUIRES_PAYMENT_METHOD');
    expect(after.body.latest_payment_attempt).toMatchObject({ attempt_status: 'FAILED', failure_code: 'processing_error' });
    const balances = await merchant.get('/v2/payment/balances');
    expect(balances.body.total_items).toBe(0);
  });

  it('a retry of an idempotent request that died mid-way gets the settled payment, never a second one (its key stored by an earlier version)', async () => {
    const key = randomUUID();
    const body = JSON.stringify({ ...intentBody({ amount: '12.34' }), payment_method: seedCard() });
    // The crash: the request's first unit committed (its key claimed for the intent, the attempt INITIATED), then nothing.
    const created = await merchant.post('/v2/payment_intents/create', intentBody({ amount: '12.34' }));
    const id = created.body.payment_intent_id;
    await strandAttempt(tp, merchant.credentials.merchant_id, id, 'PA1000000000000000002', {
      type: 'card',
      card: { bin: '534693', last4: '8117', network: 'mastercard', expiryMonth: 12, expiryYear: 2099, fingerprint: 'f', threeDsAction: 'skip_3ds' },
    });
    const now = tp.platform.clock.now();
    const plain = hash('sha256', `POST\n/api/v2/payment_intents/create\n${body}`, 'hex');
    await tp.platform.store.unit((db) =>
      db
        .insertInto('idempotency_keys')
        .values({
          // The plain digest earlier versions stored; the restart seals it with the server's key.
          merchant_id: merchant.credentials.merchant_id, scope: 'uqpay', key, request_hash: plain,
          state: 'processing', response_status: null, response_body: null, created_at: now, expires_at: now + 86_400_000, subject_id: id,
        })
        .execute(),
    );
    const before = await merchant.get('/v2/payment_intents?page_size=100');

    await restart(); // recovery settles the stranded attempt
    const stored = await tp.platform.store.read.selectFrom('idempotency_keys').select('request_hash').where('key', '=', key).executeTakeFirstOrThrow();
    expect(stored.request_hash).toMatch(/^v2:[0-9a-f]{64}$/);
    expect(stored.request_hash).not.toContain(plain);
    const soon = await merchant.post('/v2/payment_intents/create', body, { 'x-idempotency-key': key });
    expect(soon.status, soon.text).toBe(409); // it might still be running: the client is told to wait
    expect(soon.body.message).toBe('request is processing');

    // The advance runs recovery; the key, claimed past the grace by then, answers with the settled payment.
    await advanceClock(tp, 6);
    const retry = await merchant.post('/v2/payment_intents/create', body, { 'x-idempotency-key': key });
    expect(retry.status, retry.text).toBe(200);
    expect(retry.headers.get('x-idempotent-replayed')).toBe('true');
    expect(retry.body).toMatchObject({ payment_intent_id: id, intent_status: 'REQUIRES_PAYMENT_METHOD', amount: '12.34' });
    expect(retry.body.latest_payment_attempt).toMatchObject({ attempt_status: 'FAILED', failure_code: 'processing_error' });
    const again = await merchant.post('/v2/payment_intents/create', body, { 'x-idempotency-key': key });
    expect(again.text).toBe(retry.text);
    const after = await merchant.get('/v2/payment_intents?page_size=100');
    expect(after.body.total_items).toBe(before.body.total_items); // no second intent
    expect((await merchant.get('/v2/payment/balances')).body.total_items).toBe(0); // nothing charged
  });
});

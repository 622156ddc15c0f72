import { afterAll, beforeAll, expect, it } from 'vitest';
import { createPgDatabase, describeEachBackend, intentBody, startPlatform, strandAttempt, UqpayClient, type TestPlatform } from '../support/platform.ts';

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

  it('an attempt recorded but never answered is settled on restart, charging nothing', async () => {
    const created = await merchant.post('/v2/payment_intents/create', intentBody());
    const id = created.body.payment_intent_id;
    // The crash: the first unit committed (attempt INITIATED, intent PENDING), the network was never asked.
    await strandAttempt(tp, merchant.credentials.merchant_id, id, 'PA1000000000000000001', {
      type: 'card',
      card: { bin: '424242', last4: '4242', network: 'visa', expiryMonth: 12, expiryYear: 2099, fingerprint: 'f', threeDsAction: 'skip_3ds' },
    });
    expect((await merchant.get(`/v2/payment_intents/${id}`)).body.intent_status).toBe('PENDING');
    const cancel = await merchant.post(`/v2/payment_intents/${id}/cancel`, { cancellation_reason: 'duplicate' });
    expect(cancel.status).toBe(400); // in flight: neither cancellable nor confirmable until settled

    await tp.platform.close();
    tp = await startPlatform(backend, { dataDir, databaseUrl });
    merchant = new UqpayClient(tp.baseUrl, merchant.credentials);
    await merchant.authenticate();
    const deadline = Date.now() + 5000;
    let status = 'PENDING';
    while (status === 'PENDING' && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 50));
      status = (await merchant.get(`/v2/payment_intents/${id}`)).body.intent_status;
    }
    const after = await merchant.get(`/v2/payment_intents/${id}`);
    expect(after.body.intent_status).toBe('REQUIRES_PAYMENT_METHOD');
    expect(after.body.latest_payment_attempt).toMatchObject({ attempt_status: 'FAILED', failure_code: 'processing_error' });
    const balances = await merchant.get('/v2/payment/balances');
    expect(balances.body.total_items).toBe(0);
  });
});

/**
 * x-idempotency-key as UQPAY clients rely on it: a retry with the same key and
 * body gets the stored response and never a second payment; another body is
 * an idempotency_error; a duplicate racing the first gets the same answer or
 * "request is processing"; keys belong to one merchant and live 24 hours.
 */
import { hash, randomUUID } from 'node:crypto';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeEachBackend, intentBody, seedCard, simPost, startPlatform, UqpayClient, type Reply, type TestPlatform } from '../support/platform.ts';

describeEachBackend('UQPAY idempotency keys', (backend) => {
  let tp: TestPlatform;
  let merchant: UqpayClient;

  beforeAll(async () => {
    tp = await startPlatform(backend);
    merchant = await UqpayClient.create(tp, { name: 'Idempotent Merchant' });
  });
  afterAll(async () => {
    await tp?.close();
  });

  async function intentsWithOrderId(client: UqpayClient, orderId: string): Promise<any[]> {
    const r = await client.get(`/v2/payment_intents?page_size=100&merchant_order_id=${encodeURIComponent(orderId)}`);
    expect(r.status, r.text).toBe(200);
    expect(r.body.data).toHaveLength(r.body.total_items);
    return r.body.data;
  }

  async function balance(client: UqpayClient, currency: string): Promise<string> {
    const r = await client.get(`/v2/payment/balances/${currency}`);
    expect(r.status, r.text).toBe(200);
    return r.body.pending_balance;
  }

  it('replays the stored response for the same key and body, and pays only once', async () => {
    const key = randomUUID();
    const body = { ...intentBody({ amount: '31.40', currency: 'HKD' }), payment_method: seedCard() };
    const first = await merchant.post('/v2/payment_intents/create', body, { 'x-idempotency-key': key });
    expect(first.status, first.text).toBe(200);
    expect(first.body.intent_status).toBe('SUCCEEDED');
    for (let i = 0; i < 3; i++) {
      const again = await merchant.post('/v2/payment_intents/create', body, { 'x-idempotency-key': key });
      expect(again.status).toBe(200);
      expect(again.text).toBe(first.text);
    }
    const found = await intentsWithOrderId(merchant, body.merchant_order_id);
    expect(found.map((i) => i.payment_intent_id)).toEqual([first.body.payment_intent_id]);
    const attempts = await merchant.get(`/v2/payment/payment_attempts?payment_intent_id=${first.body.payment_intent_id}`);
    expect(attempts.body.total_items).toBe(1);
    expect(await balance(merchant, 'HKD')).toBe('31.4');

    // Follow-up calls are idempotent too: a refund retried with its key refunds once.
    const refundKey = randomUUID();
    const refundBody = { payment_intent_id: first.body.payment_intent_id, amount: '10', reason: 'retry me' };
    const r1 = await merchant.post('/v2/payment/refunds', refundBody, { 'x-idempotency-key': refundKey });
    const r2 = await merchant.post('/v2/payment/refunds', refundBody, { 'x-idempotency-key': refundKey });
    expect(r1.status, r1.text).toBe(200);
    expect(r2.text).toBe(r1.text);
    const refunds = await merchant.get(`/v2/payment/refunds?payment_intent_id=${first.body.payment_intent_id}`);
    expect(refunds.body.total_items).toBe(1);
    expect(await balance(merchant, 'HKD')).toBe('21.4');

    // A business error is stored with its key as well: the retry gets the same error, not a second try.
    const capKey = randomUUID();
    const c1 = await merchant.post(`/v2/payment_intents/${first.body.payment_intent_id}/capture`, {}, { 'x-idempotency-key': capKey });
    const c2 = await merchant.post(`/v2/payment_intents/${first.body.payment_intent_id}/capture`, {}, { 'x-idempotency-key': capKey });
    expect(c1.status).toBe(400);
    expect(c2.status).toBe(400);
    expect(c2.text).toBe(c1.text);
  });

  it('refuses the same key with another body (idempotency_error) and keeps the original', async () => {
    const key = randomUUID();
    const body = intentBody({ amount: '5' });
    const first = await merchant.post('/v2/payment_intents/create', body, { 'x-idempotency-key': key });
    expect(first.status).toBe(200);
    for (const other of [
      { ...body, amount: '6' },
      { ...body, description: 'changed' },
      { ...body, payment_method: seedCard() },
    ]) {
      const r = await merchant.post('/v2/payment_intents/create', other, { 'x-idempotency-key': key });
      expect(r.status, r.text).toBe(400);
      expect(r.body).toMatchObject({ type: 'idempotency_error' });
      expect(typeof r.body.code).toBe('string');
      expect(typeof r.body.message).toBe('string');
    }
    // The same key on another endpoint is another request too.
    const elsewhere = await merchant.post(`/v2/payment_intents/${first.body.payment_intent_id}/cancel`, { cancellation_reason: 'duplicate' }, { 'x-idempotency-key': key });
    expect(elsewhere.status).toBe(400);
    expect(elsewhere.body.type).toBe('idempotency_error');
    const still = await merchant.get(`/v2/payment_intents/${first.body.payment_intent_id}`);
    expect(still.body).toMatchObject({ intent_status: 'REQUIRES_PAYMENT_METHOD', amount: '5.00', description: body.description });
    expect(await intentsWithOrderId(merchant, body.merchant_order_id)).toHaveLength(1);
    const replay = await merchant.post('/v2/payment_intents/create', body, { 'x-idempotency-key': key });
    expect(replay.text).toBe(first.text);
  });

  it('a concurrent duplicate gets the same 200 or 409 "request is processing", never a second intent', async () => {
    for (let round = 0; round < 6; round++) {
      const key = randomUUID();
      const withCard = round % 2 === 0;
      const body = withCard ? { ...intentBody({ amount: '2.50', currency: 'EUR' }), payment_method: seedCard() } : intentBody();
      const copies = round < 3 ? 2 : 5;
      const replies: Reply[] = await Promise.all(
        Array.from({ length: copies }, () => merchant.post('/v2/payment_intents/create', body, { 'x-idempotency-key': key })),
      );
      const ok = replies.filter((r) => r.status === 200);
      const busy = replies.filter((r) => r.status === 409);
      expect(ok.length + busy.length, replies.map((r) => `${r.status} ${r.text}`).join('\n')).toBe(copies);
      expect(ok.length).toBeGreaterThanOrEqual(1);
      for (const r of ok) expect(r.text).toBe(ok[0]!.text);
      for (const r of busy) {
        expect(r.body).toMatchObject({ type: 'idempotency_error', message: 'request is processing' });
        expect(typeof r.body.code).toBe('string');
      }
      const found = await intentsWithOrderId(merchant, body.merchant_order_id);
      expect(found.map((i) => i.payment_intent_id)).toEqual([ok[0]!.body.payment_intent_id]);
      // What an SDK does on "request is processing": retry; it then gets the stored response.
      const retried = await merchant.post('/v2/payment_intents/create', body, { 'x-idempotency-key': key });
      expect(retried.status).toBe(200);
      expect(retried.text).toBe(ok[0]!.text);
      if (withCard) {
        const attempts = await merchant.get(`/v2/payment/payment_attempts?payment_intent_id=${ok[0]!.body.payment_intent_id}`);
        expect(attempts.body.total_items).toBe(1);
      }
    }
    // Three card payments of 2.50 EUR, each charged once.
    expect(await balance(merchant, 'EUR')).toBe('7.5');
  });

  it('concurrent repeats of a refused cancel are answered alike and record its cancel.failed event once', async () => {
    const paid = await merchant.post('/v2/payment_intents/create', { ...intentBody(), payment_method: seedCard() });
    expect(paid.body.intent_status).toBe('SUCCEEDED'); // a card payment that succeeded cannot be cancelled
    const id = paid.body.payment_intent_id;
    const key = randomUUID();
    const replies: Reply[] = await Promise.all(
      Array.from({ length: 20 }, () => merchant.post(`/v2/payment_intents/${id}/cancel`, { cancellation_reason: 'requested_by_customer' }, { 'x-idempotency-key': key })),
    );
    const refused = replies.filter((r) => r.status === 400);
    const busy = replies.filter((r) => r.status === 409);
    expect(refused.length + busy.length, replies.map((r) => `${r.status} ${r.text}`).join('\n')).toBe(20);
    for (const r of refused) expect(r.text).toBe(refused[0]!.text);
    expect(refused[0]!.body).toMatchObject({ type: 'payment_error' });
    const events = await tp.platform.store.read.selectFrom('events').select('id').where('source_id', '=', id).where('type', '=', 'cancel.failed').execute();
    expect(events).toHaveLength(1);
    // The intent is as it was.
    expect((await merchant.get(`/v2/payment_intents/${id}`)).body.intent_status).toBe('SUCCEEDED');
  });

  it('stores nothing from which a card number or CVC could be worked out: the request digest is sealed with a server key', async () => {
    const key = randomUUID();
    const body = JSON.stringify({ ...intentBody(), payment_method: seedCard({ card_number: '4000056655665556', cvc: '737' }) });
    const r = await merchant.post('/v2/payment_intents/create', body, { 'x-idempotency-key': key });
    expect(r.body.intent_status).toBe('SUCCEEDED');
    const row = await tp.platform.store.read.selectFrom('idempotency_keys').selectAll().where('key', '=', key).executeTakeFirstOrThrow();
    // The unkeyed digest of this very request (which a CVC guess could be checked against) is not what is stored.
    const plain = hash('sha256', `POST\n/api/v2/payment_intents/create\n${body}`, 'hex');
    expect(row.request_hash).toMatch(/^v2:[0-9a-f]{64}$/);
    expect(row.request_hash).not.toContain(plain);
    expect(JSON.stringify(row)).not.toMatch(/4000056655665556|"737"/);
    // And the same request still replays.
    const again = await merchant.post('/v2/payment_intents/create', body, { 'x-idempotency-key': key });
    expect(again.headers.get('x-idempotent-replayed')).toBe('true');
  });

  it('keys are per merchant: two merchants may use the same key', async () => {
    const other = await UqpayClient.create(tp, { name: 'Same Key Merchant' });
    const key = randomUUID();
    const body = intentBody({ merchant_order_id: `shared-${key.slice(0, 8)}` });
    const mine = await merchant.post('/v2/payment_intents/create', body, { 'x-idempotency-key': key });
    const theirs = await other.post('/v2/payment_intents/create', body, { 'x-idempotency-key': key });
    expect(mine.status).toBe(200);
    expect(theirs.status, theirs.text).toBe(200);
    expect(theirs.body.payment_intent_id).not.toBe(mine.body.payment_intent_id);
    expect((await intentsWithOrderId(merchant, body.merchant_order_id)).map((i) => i.payment_intent_id)).toEqual([mine.body.payment_intent_id]);
    expect((await intentsWithOrderId(other, body.merchant_order_id)).map((i) => i.payment_intent_id)).toEqual([theirs.body.payment_intent_id]);
    // Another merchant's body under the same key is no mismatch for this one.
    const differentBody = await other.post('/v2/payment_intents/create', { ...body, amount: '99' }, { 'x-idempotency-key': randomUUID() });
    expect(differentBody.status).toBe(200);
  });

  it('GET requests carrying an idempotency key (as the Node SDK sends) are answered fresh every time', async () => {
    const created = await merchant.post('/v2/payment_intents/create', intentBody());
    const id = created.body.payment_intent_id;
    const key = randomUUID();
    const before = await merchant.get(`/v2/payment_intents/${id}`, { 'x-idempotency-key': key });
    expect(before.status).toBe(200);
    expect(before.body.intent_status).toBe('REQUIRES_PAYMENT_METHOD');
    const listKey = randomUUID();
    const list1 = await merchant.get('/v2/payment_intents?page_size=1', { 'x-idempotency-key': listKey });
    expect(list1.status).toBe(200);

    await merchant.post(`/v2/payment_intents/${id}/confirm`, { payment_method: seedCard() });
    const after = await merchant.get(`/v2/payment_intents/${id}`, { 'x-idempotency-key': key });
    expect(after.status).toBe(200);
    expect(after.body.intent_status).toBe('SUCCEEDED');
    await merchant.post('/v2/payment_intents/create', intentBody());
    const list2 = await merchant.get('/v2/payment_intents?page_size=1', { 'x-idempotency-key': listKey });
    expect(list2.status).toBe(200);
    expect(list2.body.total_items).toBe(list1.body.total_items + 1);
    // A GET's key is not spent either: a POST may use it afterwards.
    const post = await merchant.post('/v2/payment_intents/create', intentBody(), { 'x-idempotency-key': key });
    expect(post.status, post.text).toBe(200);
  });

  it('without a key every POST is a new request', async () => {
    const body = intentBody();
    const a = await merchant.post('/v2/payment_intents/create', body, { 'x-idempotency-key': '' });
    const b = await merchant.post('/v2/payment_intents/create', body, { 'x-idempotency-key': '' });
    expect(a.status).toBe(200);
    expect(b.status).toBe(200);
    expect(b.body.payment_intent_id).not.toBe(a.body.payment_intent_id);
    expect(await intentsWithOrderId(merchant, body.merchant_order_id)).toHaveLength(2);
  });

  // Last: moves the platform's clock a day forward.
  it('a stored key replays after 23 hours and is free again after 24 hours', async () => {
    const key = randomUUID();
    const body = intentBody();
    const first = await merchant.post('/v2/payment_intents/create', body, { 'x-idempotency-key': key });
    expect(first.status).toBe(200);

    expect((await simPost(tp.baseUrl, '/clock/advance', { seconds: 23 * 3600 })).status).toBe(200);
    await merchant.authenticate();
    const replay = await merchant.post('/v2/payment_intents/create', body, { 'x-idempotency-key': key });
    expect(replay.status).toBe(200);
    expect(replay.text).toBe(first.text);
    const mismatch = await merchant.post('/v2/payment_intents/create', { ...body, amount: '1' }, { 'x-idempotency-key': key });
    expect(mismatch.status).toBe(400);
    expect(mismatch.body.type).toBe('idempotency_error');
    expect(await intentsWithOrderId(merchant, body.merchant_order_id)).toHaveLength(1);

    expect((await simPost(tp.baseUrl, '/clock/advance', { seconds: 3600 + 60 })).status).toBe(200);
    await merchant.authenticate();
    const fresh = await merchant.post('/v2/payment_intents/create', body, { 'x-idempotency-key': key });
    expect(fresh.status, fresh.text).toBe(200);
    expect(fresh.body.payment_intent_id).not.toBe(first.body.payment_intent_id);
    expect(fresh.body.intent_status).toBe('REQUIRES_PAYMENT_METHOD');
    const both = await intentsWithOrderId(merchant, body.merchant_order_id);
    expect(both.map((i) => i.payment_intent_id).sort()).toEqual([first.body.payment_intent_id, fresh.body.payment_intent_id].sort());
    // And the key now stands for the new request.
    const replayNew = await merchant.post('/v2/payment_intents/create', body, { 'x-idempotency-key': key });
    expect(replayNew.text).toBe(fresh.text);
  });
});

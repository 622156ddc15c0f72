import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { sql } from 'kysely';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { verifyWebhook } from '../../src/dialects/uqpay/webhook-signature.ts';
import { describeEachBackend, intentBody, seedCard, simPost, startPlatform, UqpayClient, WebhookReceiver, type TestPlatform } from '../support/platform.ts';

/** A two-decimal amount as the API writes it ("21.5", "8.98", "100"), in cents, without floating point. */
function cents(text: string): number {
  const [whole, fraction = ''] = text.split('.');
  return Number(whole) * 100 + Number(fraction.padEnd(2, '0'));
}

describeEachBackend('UQPAY card payments', (backend) => {
  let tp: TestPlatform;
  let hooks: WebhookReceiver;
  let merchant: UqpayClient;

  beforeAll(async () => {
    tp = await startPlatform(backend);
    hooks = await new WebhookReceiver().start();
    merchant = await UqpayClient.create(tp, { webhookUrl: hooks.url });
  });
  afterAll(async () => {
    await tp?.close();
    await hooks?.close();
  });

  it('creates and confirms at once with a payment method (seed 000)', async () => {
    const r = await merchant.post('/v2/payment_intents/create', { ...intentBody({ merchant_order_id: 'order-001' }), payment_method: seedCard() });
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({
      amount: '8.98',
      currency: 'SGD',
      intent_status: 'SUCCEEDED',
      captured_amount: '8.98',
      merchant_order_id: 'order-001',
      latest_payment_attempt: { attempt_status: 'CAPTURE_REQUESTED', amount: '8.98', captured_amount: '8.98' },
    });
    expect(r.body.payment_intent_id).toMatch(/^PI\d{19}$/);
    expect(r.body.latest_payment_attempt.attempt_id).toMatch(/^PA\d{19}$/);
    expect(r.body.create_time).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+08:00$/);
    expect(r.body).not.toHaveProperty('id');

    await hooks.waitFor(() => hooks.ofType('acquiring.payment_intent.succeeded').some((w) => w.body.source_id === r.body.payment_intent_id));
    const hook = hooks.ofType('acquiring.payment_intent.succeeded').find((w) => w.body.source_id === r.body.payment_intent_id)!;
    expect(hook.body).toMatchObject({ version: 'V1.6.0', event_name: 'ACQUIRING', data: { payment_intent_id: r.body.payment_intent_id, intent_status: 'SUCCEEDED' } });
    const ts = hook.headers['x-wk-timestamp'] as string;
    expect(verifyWebhook(merchant.credentials.uqpay.webhook_secret, hook.raw, ts, hook.headers['x-wk-signature'] as string, Math.floor(Date.now() / 1000))).toBe(true);

    const balance = await merchant.get('/v2/payment/balances/SGD');
    expect(balance.body).toMatchObject({ currency: 'SGD', pending_balance: '8.98' });
  });

  it('creates without a payment method, updates, then confirms (seed 000, second way)', async () => {
    const created = await merchant.post('/v2/payment_intents/create', intentBody({ merchant_order_id: 'order-002' }));
    expect(created.status).toBe(200);
    expect(created.body.intent_status).toBe('REQUIRES_PAYMENT_METHOD');
    expect(created.body.latest_payment_attempt).toBeNull();
    const id = created.body.payment_intent_id;

    const updated = await merchant.post(`/v2/payment_intents/${id}`, { amount: '12.5', description: 'Updated' });
    expect(updated.status).toBe(200);
    expect(updated.body).toMatchObject({ amount: '12.50', description: 'Updated', intent_status: 'REQUIRES_PAYMENT_METHOD' });

    const confirmed = await merchant.post(`/v2/payment_intents/${id}/confirm`, { payment_method: seedCard() });
    expect(confirmed.status).toBe(200);
    expect(confirmed.body).toMatchObject({ intent_status: 'SUCCEEDED', captured_amount: '12.50' });

    const fetched = await merchant.get(`/v2/payment_intents/${id}`);
    expect(fetched.body).toMatchObject({ payment_intent_id: id, intent_status: 'SUCCEEDED', amount: '12.50' });

    const again = await merchant.post(`/v2/payment_intents/${id}/confirm`, { payment_method: seedCard() });
    expect(again.status).toBe(400);
    expect(again.body.type).toBe('payment_error');
  });

  it('declines leave a FAILED attempt and the intent ready for another confirm', async () => {
    const created = await merchant.post('/v2/payment_intents/create', intentBody());
    const id = created.body.payment_intent_id;
    for (const [number, code] of [
      ['4000000000000002', 'card_declined'],
      ['4000000000009995', 'insufficient_funds'],
      ['4000000000000069', 'expired_card'],
    ] as const) {
      const r = await merchant.post(`/v2/payment_intents/${id}/confirm`, { payment_method: seedCard({ card_number: number }) });
      expect(r.status).toBe(200);
      expect(r.body.intent_status).toBe('REQUIRES_PAYMENT_METHOD');
      expect(r.body.latest_payment_attempt).toMatchObject({ attempt_status: 'FAILED', failure_code: code });
    }
    const ok = await merchant.post(`/v2/payment_intents/${id}/confirm`, { payment_method: seedCard({ card_number: '4242424242424242' }) });
    expect(ok.body.intent_status).toBe('SUCCEEDED');
    const attempts = await merchant.get(`/v2/payment/payment_attempts?payment_intent_id=${id}`);
    expect(attempts.body.total_items).toBe(4);
    expect(attempts.body.data.map((a: any) => a.attempt_status).sort()).toEqual(['CAPTURE_REQUESTED', 'FAILED', 'FAILED', 'FAILED']);
    await hooks.waitFor(() => hooks.ofType('acquiring.payment_attempt.failed').filter((w) => w.body.data.payment_intent_id === id).length === 3);

    // The card schemes' merchant advice, as UQPAY's two-digit advice_code.
    for (const [number, advice] of [['4000000000000002', '03'], ['4000000000000119', '02'], ['4000000000009995', '']] as const) {
      const declined = await merchant.post('/v2/payment_intents/create', { ...intentBody(), payment_method: seedCard({ card_number: number }) });
      const attempt = await merchant.get(`/v2/payment/payment_attempts/${declined.body.latest_payment_attempt.attempt_id}`);
      expect(attempt.body.advice_code, number).toBe(advice);
    }
  });

  it('rejects invalid card data with invalid_request_error before the network', async () => {
    for (const card of [
      { card_number: '4242424242424241' },
      { expiry_year: '2020' },
      { cvc: '12' },
      { expiry_month: '13' },
    ]) {
      const r = await merchant.post('/v2/payment_intents/create', { ...intentBody(), payment_method: seedCard(card) });
      expect(r.status).toBe(400);
      expect(r.body).toMatchObject({ type: 'invalid_request_error', code: 'invalid_parameter' });
    }
    const list = await merchant.get('/v2/payment_intents?page_size=100');
    expect(list.body.data.every((i: any) => i.latest_payment_attempt?.attempt_status !== 'INITIATED')).toBe(true);
  });

  it('authorizes with auto_capture false, then captures part of it', async () => {
    const r = await merchant.post('/v2/payment_intents/create', { ...intentBody({ amount: '100' }), payment_method: seedCard({ auto_capture: false }) });
    expect(r.body).toMatchObject({ intent_status: 'REQUIRES_CAPTURE', latest_payment_attempt: { attempt_status: 'AUTHORIZED' } });
    const id = r.body.payment_intent_id;
    const over = await merchant.post(`/v2/payment_intents/${id}/capture`, { amount_to_capture: '100.01' });
    expect(over.status).toBe(400);
    const cap = await merchant.post(`/v2/payment_intents/${id}/capture`, { amount_to_capture: 60 });
    expect(cap.status).toBe(200);
    expect(cap.body).toMatchObject({ intent_status: 'SUCCEEDED', captured_amount: '60.00', latest_payment_attempt: { attempt_status: 'CAPTURE_REQUESTED', captured_amount: '60.00' } });
    const twice = await merchant.post(`/v2/payment_intents/${id}/capture`, { amount_to_capture: '10' });
    expect(twice.status).toBe(400);
  });

  it('a slow issuer leaves the payment PENDING until it answers, then it succeeds (or awaits capture) with its webhooks', async () => {
    const slow = seedCard({ card_number: '4000000000000267' });
    const r = await merchant.post('/v2/payment_intents/create', { ...intentBody({ amount: '21.50' }), payment_method: slow });
    expect(r.status, r.text).toBe(200);
    expect(r.body).toMatchObject({ intent_status: 'PENDING', captured_amount: '0', latest_payment_attempt: { attempt_status: 'PENDING_AUTHORIZATION' } });
    const id = r.body.payment_intent_id;
    const held = await merchant.post('/v2/payment_intents/create', { ...intentBody({ amount: '7' }), payment_method: { ...slow, card: { ...slow.card, auto_capture: false } } });
    expect(held.body.intent_status).toBe('PENDING');
    const before = (await merchant.get('/v2/payment/balances/SGD')).body.pending_balance;

    // Still pending while the issuer thinks: another confirm is refused, nothing is captured.
    expect((await merchant.post(`/v2/payment_intents/${id}/confirm`, { payment_method: seedCard() })).status).toBe(400);
    expect((await merchant.get(`/v2/payment_intents/${id}`)).body.intent_status).toBe('PENDING');
    expect(hooks.ofType('acquiring.payment_intent.succeeded').some((w) => w.body.source_id === id)).toBe(false);

    expect((await simPost(tp.baseUrl, '/clock/advance', { seconds: 11 })).status).toBe(200);
    const done = await merchant.get(`/v2/payment_intents/${id}`);
    expect(done.body).toMatchObject({ intent_status: 'SUCCEEDED', captured_amount: '21.50', latest_payment_attempt: { attempt_status: 'CAPTURE_REQUESTED' } });
    const attempt = await merchant.get(`/v2/payment/payment_attempts/${done.body.latest_payment_attempt.attempt_id}`);
    expect(attempt.body.auth_code).toMatch(/^[A-Z0-9]{6}$/);
    expect((await merchant.get(`/v2/payment_intents/${held.body.payment_intent_id}`)).body).toMatchObject({ intent_status: 'REQUIRES_CAPTURE', latest_payment_attempt: { attempt_status: 'AUTHORIZED' } });
    const after = (await merchant.get('/v2/payment/balances/SGD')).body.pending_balance;
    expect(cents(after) - cents(before)).toBe(2150);
    await hooks.waitFor(() => hooks.ofType('acquiring.payment_intent.succeeded').some((w) => w.body.source_id === id));
    expect(hooks.ofType('acquiring.payment_intent.succeeded').filter((w) => w.body.source_id === id)).toHaveLength(1);
  });

  it('cancels before a terminal state only, with acquiring.cancel webhooks', async () => {
    const r = await merchant.post('/v2/payment_intents/create', intentBody());
    const id = r.body.payment_intent_id;
    const bad = await merchant.post(`/v2/payment_intents/${id}/cancel`, { cancellation_reason: 'because' });
    expect(bad.status).toBe(400);
    expect(bad.body.type).toBe('invalid_request_error');
    const c = await merchant.post(`/v2/payment_intents/${id}/cancel`, { cancellation_reason: 'requested_by_customer' });
    expect(c.status).toBe(200);
    expect(c.body).toMatchObject({ intent_status: 'CANCELLED', cancellation_reason: 'requested_by_customer' });
    expect(c.body.cancel_time).toMatch(/\+08:00$/);
    await hooks.waitFor(() => hooks.ofType('acquiring.cancel.succeeded').some((w) => w.body.source_id === id));

    const paid = await merchant.post('/v2/payment_intents/create', { ...intentBody(), payment_method: seedCard() });
    const no = await merchant.post(`/v2/payment_intents/${paid.body.payment_intent_id}/cancel`, { cancellation_reason: 'duplicate' });
    expect(no.status).toBe(400);
    expect(no.body.type).toBe('payment_error');
    await hooks.waitFor(() => hooks.ofType('acquiring.cancel.failed').some((w) => w.body.source_id === paid.body.payment_intent_id));

    const auth = await merchant.post('/v2/payment_intents/create', { ...intentBody(), payment_method: seedCard({ auto_capture: false }) });
    const voided = await merchant.post(`/v2/payment_intents/${auth.body.payment_intent_id}/cancel`, { cancellation_reason: 'abandoned' });
    expect(voided.body).toMatchObject({ intent_status: 'CANCELLED', latest_payment_attempt: { attempt_status: 'CANCELLED' } });
  });

  it('refunds partially and fully, never more than captured', async () => {
    const paid = await merchant.post('/v2/payment_intents/create', { ...intentBody({ amount: '50', currency: 'USD' }), payment_method: seedCard() });
    const id = paid.body.payment_intent_id;
    const before = (await merchant.get('/v2/payment/balances/USD')).body.pending_balance;
    const r1 = await merchant.post('/v2/payment/refunds', { payment_intent_id: id, amount: '20', reason: 'partial' });
    expect(r1.status).toBe(200);
    expect(r1.body).toMatchObject({ payment_intent_id: id, amount: '20.00', currency: 'USD', refund_status: 'SUCCEEDED' });
    expect(r1.body.payment_refund_id).toMatch(/^RF\d{19}$/);
    const over = await merchant.post('/v2/payment/refunds', { payment_intent_id: id, amount: '30.01', reason: 'too much' });
    expect(over.status).toBe(400);
    expect(over.body.type).toBe('refund_error');
    const r2 = await merchant.post('/v2/payment/refunds', { payment_intent_id: id, amount: '30', reason: 'rest' });
    expect(r2.body.refund_status).toBe('SUCCEEDED');
    const list = await merchant.get(`/v2/payment/refunds?payment_intent_id=${id}`);
    expect(list.body.total_items).toBe(2);
    const one = await merchant.get(`/v2/payment/refunds/${r1.body.payment_refund_id}`);
    expect(one.body.amount).toBe('20.00');
    const intent = await merchant.get(`/v2/payment_intents/${id}`);
    expect(intent.body.latest_payment_attempt.refunded_amount).toBe('50.00');
    const after = (await merchant.get('/v2/payment/balances/USD')).body.pending_balance;
    expect(Number(before) - Number(after)).toBe(50);
    await hooks.waitFor(() => hooks.ofType('acquiring.refund.succeeded').filter((w) => w.body.data.payment_intent_id === id).length === 2);

    const unpaid = await merchant.post('/v2/payment_intents/create', intentBody());
    const nope = await merchant.post('/v2/payment/refunds', { payment_intent_id: unpaid.body.payment_intent_id, amount: '1', reason: 'x' });
    expect(nope.status).toBe(400);
  });

  it('3DS challenge: redirect, complete through the sim API, return URL', async () => {
    const r = await merchant.post('/v2/payment_intents/create', {
      ...intentBody(),
      payment_method: seedCard({ card_number: '4000002500003155' }),
    });
    expect(r.body.intent_status).toBe('REQUIRES_CUSTOMER_ACTION');
    expect(r.body.latest_payment_attempt.attempt_status).toBe('AUTHENTICATION_REDIRECTED');
    expect(r.body.next_action.type).toBe('redirect_to_url');
    const url: string = r.body.next_action.redirect_to_url.url;
    expect(url.startsWith(tp.baseUrl)).toBe(true);
    const page = await fetch(url);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('8.98 SGD');
    const done = await simPost(tp.baseUrl, '/3ds/complete', { url, result: 'success' });
    expect(done.status).toBe(200);
    expect(done.body.intent_status).toBe('SUCCEEDED');
    const attempt = await merchant.get(`/v2/payment/payment_attempts/${r.body.latest_payment_attempt.attempt_id}`);
    expect(attempt.body.authentication_data.three_ds).toMatchObject({ three_ds_authentication_status: 'Y', three_ds_version: '2.2.0' });
    const replay = await simPost(tp.baseUrl, '/3ds/complete', { url, result: 'success' });
    expect(replay.status).toBe(409);
  });

  it('enforce_3ds failure returns the intent to REQUIRES_PAYMENT_METHOD', async () => {
    const r = await merchant.post('/v2/payment_intents/create', {
      ...intentBody(),
      ip_address: '203.0.113.9',
      browser_info: { user_agent: 'test', accept_header: 'text/html' },
      payment_method: seedCard({ three_ds_action: 'enforce_3ds' }),
    });
    expect(r.body.intent_status).toBe('REQUIRES_CUSTOMER_ACTION');
    await hooks.waitFor(() => hooks.ofType('acquiring.payment_intent.requires_action').some((w) => w.body.source_id === r.body.payment_intent_id));
    const done = await simPost(tp.baseUrl, '/3ds/complete', { url: r.body.next_action.redirect_to_url.url, result: 'failure' });
    expect(done.body).toMatchObject({ intent_status: 'REQUIRES_PAYMENT_METHOD', attempt_status: 'FAILED' });
  });

  it('lists intents with paging and filters', async () => {
    const other = await UqpayClient.create(tp, { name: 'Lister' });
    for (let i = 0; i < 3; i++) await other.post('/v2/payment_intents/create', intentBody());
    await other.post('/v2/payment_intents/create', { ...intentBody(), payment_method: seedCard() });
    const p1 = await other.get('/v2/payment_intents?page_size=2&page_number=1');
    expect(p1.body).toMatchObject({ total_items: 4, total_pages: 2 });
    expect(p1.body.data).toHaveLength(2);
    const p2 = await other.get('/v2/payment_intents?page_size=2&page_number=2');
    expect(p2.body.data).toHaveLength(2);
    const ids = new Set([...p1.body.data, ...p2.body.data].map((i: any) => i.payment_intent_id));
    expect(ids.size).toBe(4);
    const succeeded = await other.get('/v2/payment_intents?intent_status=SUCCEEDED');
    expect(succeeded.body.total_items).toBe(1);
    const alias = await other.get('/v2/payment_intents?payment_intent_status=REQUIRES_PAYMENT_METHOD');
    expect(alias.body.total_items).toBe(3);
    const future = await other.get(`/v2/payment_intents?create_start_time=${encodeURIComponent('2999-01-01T00:00:00+08:00')}`);
    expect(future.body.total_items).toBe(0);
    const bad = await other.get('/v2/payment_intents?page_size=101');
    expect(bad.status).toBe(400);
  });

  it('keeps merchants isolated', async () => {
    const a = await merchant.post('/v2/payment_intents/create', { ...intentBody(), payment_method: seedCard() });
    const other = await UqpayClient.create(tp, { name: 'Other' });
    const id = a.body.payment_intent_id;
    for (const r of [
      await other.get(`/v2/payment_intents/${id}`),
      await other.post(`/v2/payment_intents/${id}/cancel`, {}),
      await other.post('/v2/payment/refunds', { payment_intent_id: id, amount: '1', reason: 'steal' }),
      await other.get(`/v2/payment/payment_attempts/${a.body.latest_payment_attempt.attempt_id}`),
    ]) {
      expect(r.status).toBe(400);
      expect(r.body.type).toBe('not_found');
    }
    const list = await other.get('/v2/payment_intents');
    expect(list.body.data.some((i: any) => i.payment_intent_id === id)).toBe(false);
  });

  it('keeps the books balanced and never stores a card number or CVC', async () => {
    const db = tp.platform.store.read;
    const sums = await db.selectFrom('ledger_entries').select(['currency', (eb) => eb.fn.sum<number>('amount').as('total')]).groupBy('currency').execute();
    expect(sums.length).toBeGreaterThan(0);
    for (const row of sums) expect(Number(row.total)).toBe(0);
    const journals = await sql<{ n: number }>`select count(*) as n from (select journal_id from ledger_entries group by journal_id having sum(amount) <> 0) j`.execute(db);
    expect(Number(journals.rows[0]!.n)).toBe(0);

    const pans = ['5346930100108117', '4242424242424242', '4000002500003155', '4000000000000002'];
    const texts = [
      ...(await db.selectFrom('payment_attempts').select('payment_method as t').execute()),
      ...(await db.selectFrom('events').select('payload as t').execute()),
      ...(await db.selectFrom('card_vault').select('ciphertext as t').execute()),
      ...(await db.selectFrom('idempotency_keys').select('response_body as t').execute()),
    ].map((r) => String(r.t));
    expect(texts.length).toBeGreaterThan(0);
    for (const t of texts) {
      for (const pan of pans) expect(t).not.toContain(pan);
      expect(t).not.toMatch(/"cvc"|"cvv"/);
    }
    if (backend === 'sqlite') {
      for (const file of ['polypay.sqlite', 'polypay.sqlite-wal']) {
        const p = path.join(tp.dataDir, file);
        if (!existsSync(p)) continue;
        const bytes = readFileSync(p).toString('latin1');
        for (const pan of pans) expect(bytes.includes(pan), `${pan} in ${file}`).toBe(false);
      }
    }
  });
});

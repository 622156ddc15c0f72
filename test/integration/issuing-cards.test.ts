import { afterAll, afterEach, beforeAll, expect, it } from 'vitest';
import { luhnValid } from '../../src/core/issuing/card-data.ts';
import { verifyWebhook } from '../../src/dialects/uqpay/webhook-signature.ts';
import { advanceClock, describeEachBackend, startPlatform, UqpayClient, WebhookReceiver, type TestPlatform } from '../support/platform.ts';
import { activeCard, cardholderBody, deposit, expectLedgerBalanced, MASTERCARD_SINGLE_PRODUCT, newCardholder, VISA_SHARE_PRODUCT } from '../support/issuing.ts';

describeEachBackend('UQPAY issuing: products, cardholders, cards', (backend) => {
  let tp: TestPlatform;
  let hooks: WebhookReceiver;
  let merchant: UqpayClient;

  beforeAll(async () => {
    tp = await startPlatform(backend);
    hooks = await new WebhookReceiver().start();
    merchant = await UqpayClient.create(tp, { webhookUrl: hooks.url });
  });
  afterEach(async () => {
    await expectLedgerBalanced(tp);
  });
  afterAll(async () => {
    await tp?.close();
    await hooks?.close();
  });

  it('lists the documented card products with pagination (seed 001)', async () => {
    const r = await merchant.get('/v1/issuing/products?page_number=1&page_size=10');
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ total_items: 2, total_pages: 1 });
    expect(r.body.data).toContainEqual(expect.objectContaining({
      product_id: VISA_SHARE_PRODUCT, card_bin: '40963608', card_scheme: 'VISA', mode_type: 'SHARE', card_form: ['VIR', 'PHY'], card_currency: ['USD', 'SGD'], product_status: 'ENABLED',
    }));
    expect(r.body.data).toContainEqual(expect.objectContaining({ product_id: MASTERCARD_SINGLE_PRODUCT, card_bin: '527735', card_scheme: 'MASTERCARD', mode_type: 'SINGLE' }));
    const second = await merchant.get('/v1/issuing/products?page_number=2&page_size=1');
    expect(second.body).toMatchObject({ total_items: 2, total_pages: 2 });
    expect(second.body.data).toHaveLength(1);
  });

  it('creates, retrieves, lists and updates cardholders; email and phone are unique per merchant', async () => {
    const body = cardholderBody({ date_of_birth: '1990-02-03', residential_address: { line1: '1 Raffles Place', city: 'Singapore', country: 'SG', postal_code: '048616' } });
    const created = await merchant.post('/v1/issuing/cardholders', body);
    expect(created.status).toBe(200);
    expect(created.body).toEqual({ cardholder_id: expect.stringMatching(/^[0-9a-f-]{36}$/), cardholder_status: 'SUCCESS' });
    const id = created.body.cardholder_id;

    const got = await merchant.get(`/v1/issuing/cardholders/${id}`);
    expect(got.body).toMatchObject({ cardholder_id: id, email: body.email, first_name: 'Alex', last_name: 'Chen', country_code: 'SG', cardholder_status: 'SUCCESS', date_of_birth: '1990-02-03', residential_address: { city: 'Singapore' } });

    const dupEmail = await merchant.post('/v1/issuing/cardholders', cardholderBody({ email: body.email }));
    expect(dupEmail.status).toBe(409);
    expect(dupEmail.body).toMatchObject({ type: 'conflict_error', code: 'cardholder_already_exists' });
    expect(dupEmail.body.message).toContain('email');
    const dupPhone = await merchant.post('/v1/issuing/cardholders', cardholderBody({ phone_number: body.phone_number }));
    expect(dupPhone.status).toBe(409);
    expect(dupPhone.body.message).toContain('phone_number');

    // Another merchant may use the same email.
    const other = await UqpayClient.create(tp, { name: 'Other' });
    expect((await other.post('/v1/issuing/cardholders', cardholderBody({ email: body.email }))).status).toBe(200);
    expect((await other.get(`/v1/issuing/cardholders/${id}`)).body).toMatchObject({ type: 'not_found' });

    const updated = await merchant.post(`/v1/issuing/cardholders/${id}`, { first_name: 'Alexandra', residential_address: { city: 'Jurong' } });
    expect(updated.status).toBe(200);
    expect(updated.body).toMatchObject({ cardholder_id: id, first_name: 'Alexandra', last_name: 'Chen', residential_address: { city: 'Jurong' } });

    const list = await merchant.get(`/v1/issuing/cardholders?cardholder_status=SUCCESS&page_size=100`);
    expect(list.status).toBe(200);
    expect(list.body.data.map((c: any) => c.cardholder_id)).toContain(id);
  });

  it('sandbox KYC: the last names Pending, Failed and Incomplete keep a cardholder in that status, and such a cardholder gets no card', async () => {
    const pending = await merchant.post('/v1/issuing/cardholders', cardholderBody({ last_name: 'Pending' }));
    expect(pending.body.cardholder_status).toBe('PENDING');
    const failed = await merchant.post('/v1/issuing/cardholders', cardholderBody({ last_name: 'Failed' }));
    expect(failed.body.cardholder_status).toBe('FAILED');
    const incomplete = await merchant.post('/v1/issuing/cardholders', cardholderBody({ last_name: 'incomplete' }));
    expect(incomplete.body.cardholder_status).toBe('INCOMPLETE');

    const filtered = await merchant.get('/v1/issuing/cardholders?cardholder_status=FAILED');
    expect(filtered.body.data.every((c: any) => c.cardholder_status === 'FAILED')).toBe(true);
    expect(filtered.body.data.map((c: any) => c.cardholder_id)).toContain(failed.body.cardholder_id);

    const card = await merchant.post('/v1/issuing/cards', { cardholder_id: pending.body.cardholder_id, card_product_id: VISA_SHARE_PRODUCT, card_currency: 'USD' });
    expect(card.status).toBe(400);
    expect(card.body).toMatchObject({ type: 'cardholder_error', code: 'cardholder_not_verified' });

    // Fixing the name passes KYC.
    const fixed = await merchant.post(`/v1/issuing/cardholders/${pending.body.cardholder_id}`, { last_name: 'Tan' });
    expect(fixed.body.cardholder_status).toBe('SUCCESS');
  });

  it('creates a card PENDING with its order, ACTIVE a few seconds later with card.create.succeeded in seed 001 shape', async () => {
    const cardholderId = await newCardholder(merchant);
    const r = await merchant.post('/v1/issuing/cards', {
      cardholder_id: cardholderId, card_product_id: VISA_SHARE_PRODUCT, card_currency: 'USD', card_limit: 1000,
      spending_controls: [{ amount: '200', interval: 'PER_TRANSACTION' }], risk_controls: { enable_3ds: 'Y', allow_3ds_transactions: 'Y' }, metadata: { team: 'ops' },
    });
    expect(r.status).toBe(200);
    expect(r.body).toEqual({
      card_id: expect.stringMatching(/^[0-9a-f-]{36}$/), card_order_id: expect.stringMatching(/^[0-9a-f-]{36}$/),
      card_status: 'PENDING', order_status: 'PROCESSING', create_time: expect.stringMatching(/\+08:00$/),
    });
    const cardId = r.body.card_id;
    expect((await merchant.get(`/v1/issuing/cards/${cardId}`)).body.card_status).toBe('PENDING');

    await advanceClock(tp, 5);
    const card = await merchant.get(`/v1/issuing/cards/${cardId}`);
    expect(card.body).toMatchObject({
      card_id: cardId, card_status: 'ACTIVE', card_bin: '40963608', card_scheme: 'VISA', mode_type: 'SHARE', card_limit: '1000', available_balance: '1000',
      consumed_amount: '0', card_currency: 'USD', card_product_id: VISA_SHARE_PRODUCT, form_factor: 'VIRTUAL',
      spending_controls: [{ amount: '200', interval: 'PER_TRANSACTION' }], risk_controls: { enable_3ds: 'Y', allow_3ds_transactions: 'Y' }, metadata: { team: 'ops' },
      cardholder: { cardholder_id: cardholderId, cardholder_status: 'SUCCESS' },
    });
    expect(card.body.card_number).toMatch(/^40963608\*{4}\d{4}$/);

    await hooks.waitFor(() => hooks.ofType('card.create.succeeded').some((w) => w.body.data.card_id === cardId));
    const hook = hooks.ofType('card.create.succeeded').find((w) => w.body.data.card_id === cardId)!;
    expect(hook.body).toMatchObject({
      version: 'V1.6.0', event_name: 'ISSUING', event_type: 'card.create.succeeded', source_id: r.body.card_order_id,
      data: {
        card_available_balance: '1000', card_bin: '40963608', card_id: cardId, card_product_id: VISA_SHARE_PRODUCT, card_scheme: 'VISA', card_status: 'ACTIVE',
        cardholder: { cardholder_id: cardholderId, cardholder_status: 'SUCCESS', first_name: 'Alex', last_name: 'Chen' },
        form_factor: 'VIRTUAL', metadata: { team: 'ops' }, mode_type: 'SHARE',
        risk_control: { enable_3ds: 'Y', allow_3ds_transactions: 'Y' }, spending_limits: [{ amount: '200', interval: 'PER_TRANSACTION' }],
      },
    });
    expect(hook.body.data.card_number).toBe(card.body.card_number);
    const ts = hook.headers['x-wk-timestamp'] as string;
    expect(verifyWebhook(merchant.credentials.uqpay.webhook_secret, hook.raw, ts, hook.headers['x-wk-signature'] as string, Math.floor(Date.now() / 1000))).toBe(true);
  });

  it('issues Luhn-valid unique PANs on the BIN, sealed at rest; /secure shows PAN, CVV and expiry, and nothing else does', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) ids.push((await activeCard(tp, merchant)).card_id);
    const pans = new Set<string>();
    for (const id of ids) {
      const s = await merchant.get(`/v1/issuing/cards/${id}/secure`);
      expect(s.status).toBe(200);
      expect(s.headers.get('cache-control')).toBe('no-store');
      expect(s.body).toEqual({ card_number: expect.stringMatching(/^40963608\d{8}$/), cvv: expect.stringMatching(/^\d{3}$/), expire_date: expect.stringMatching(/^\d{2}\/\d{2}$/) });
      expect(luhnValid(s.body.card_number)).toBe(true);
      pans.add(s.body.card_number);
      // The same CVV every time: derived, not random.
      expect((await merchant.get(`/v1/issuing/cards/${id}/secure`)).body.cvv).toBe(s.body.cvv);
      // Nowhere in the database in clear.
      const row = await tp.platform.store.read.selectFrom('issuing_cards').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
      const dump = JSON.stringify(row);
      expect(dump).not.toContain(s.body.card_number);
      expect(dump).not.toContain(s.body.card_number.slice(8));
      const events = await tp.platform.store.read.selectFrom('events').select('payload').execute();
      expect(events.some((e) => e.payload.includes(s.body.card_number))).toBe(false);
      const list = await merchant.get('/v1/issuing/cards?page_size=100');
      expect(list.text).not.toContain(s.body.card_number);
    }
    expect(pans.size).toBe(5);
    const deliveries = hooks.received.map((w) => w.raw).join('\n');
    for (const pan of pans) expect(deliveries).not.toContain(pan);
  });

  it('card_limit rules per BIN and mode (seed 001)', async () => {
    const cardholderId = await newCardholder(merchant);
    const base = { cardholder_id: cardholderId, card_currency: 'USD' };
    // SHARE (BIN 40963608): optional, default 0, never negative.
    const noLimit = await merchant.post('/v1/issuing/cards', { ...base, card_product_id: VISA_SHARE_PRODUCT });
    expect(noLimit.status).toBe(200);
    const negative = await merchant.post('/v1/issuing/cards', { ...base, card_product_id: VISA_SHARE_PRODUCT, card_limit: -1 });
    expect(negative.status).toBe(400);
    expect(negative.body.type).toBe('invalid_request_error');
    // SINGLE (BIN 527735): required, at least 0.01.
    for (const limit of [undefined, 0, '0.00']) {
      const r = await merchant.post('/v1/issuing/cards', { ...base, card_product_id: MASTERCARD_SINGLE_PRODUCT, ...(limit === undefined ? {} : { card_limit: limit }) });
      expect(r.status, String(limit)).toBe(400);
      expect(r.body).toMatchObject({ type: 'invalid_request_error' });
      expect(r.body.message).toContain('card_limit');
    }
    // SINGLE moves money onto the card: the issuing balance must cover it.
    const poor = await merchant.post('/v1/issuing/cards', { ...base, card_product_id: MASTERCARD_SINGLE_PRODUCT, card_limit: '0.01' });
    expect(poor.status).toBe(400);
    expect(poor.body).toMatchObject({ type: 'card_error', code: 'insufficient_balance' });
    await deposit(merchant, 'USD', '100');
    const single = await merchant.post('/v1/issuing/cards', { ...base, card_product_id: MASTERCARD_SINGLE_PRODUCT, card_limit: '30.5' });
    expect(single.status).toBe(200);
    const balance = await merchant.post('/v1/issuing/balances', { currency: 'USD' });
    expect(balance.body).toMatchObject({ currency: 'USD', available_balance: '69.5' });
    await advanceClock(tp, 5);
    const card = await merchant.get(`/v1/issuing/cards/${single.body.card_id}`);
    expect(card.body).toMatchObject({ mode_type: 'SINGLE', card_scheme: 'MASTERCARD', card_limit: '30.5', available_balance: '30.5' });
    expect(card.body.card_number).toMatch(/^527735\*{6}\d{4}$/);
    // Currency the product does not offer.
    const sgd = await merchant.post('/v1/issuing/cards', { ...base, card_product_id: MASTERCARD_SINGLE_PRODUCT, card_currency: 'SGD', card_limit: 1 });
    expect(sgd.status).toBe(400);
    expect(sgd.body.message).toContain('card_currency');
  });

  it('updates limits and controls (card.update.succeeded), recharges and withdraws as card orders', async () => {
    await deposit(merchant, 'USD', '50');
    const card = await activeCard(tp, merchant, { card_product_id: MASTERCARD_SINGLE_PRODUCT, card_limit: '10' });
    const before = Number((await merchant.post('/v1/issuing/balances', { currency: 'USD' })).body.available_balance);

    const updated = await merchant.post(`/v1/issuing/cards/${card.card_id}`, { risk_controls: { blocked_mcc: ['7995'] }, spending_controls: [{ amount: 5, interval: 'PER_TRANSACTION' }], metadata: { a: 'b' } });
    expect(updated.status).toBe(200);
    expect(updated.body).toMatchObject({ card_id: card.card_id, order_type: 'CARD_UPDATE', order_status: 'SUCCESS' });
    await hooks.waitFor(() => hooks.ofType('card.update.succeeded').some((w) => w.body.data.card_id === card.card_id));
    const got = await merchant.get(`/v1/issuing/cards/${card.card_id}`);
    expect(got.body).toMatchObject({ risk_controls: { blocked_mcc: ['7995'], enable_3ds: 'N' }, spending_controls: [{ amount: '5' }], metadata: { a: 'b' } });

    const recharge = await merchant.post(`/v1/issuing/cards/${card.card_id}/recharge`, { amount: '7.25' });
    expect(recharge.status).toBe(200);
    expect(recharge.body).toMatchObject({ order_type: 'CARD_RECHARGE', order_status: 'SUCCESS', amount: '7.25', card_available_balance: '17.25' });
    const withdraw = await merchant.post(`/v1/issuing/cards/${card.card_id}/withdraw`, { amount: '2.25' });
    expect(withdraw.body).toMatchObject({ order_type: 'CARD_WITHDRAW', card_available_balance: '15' });
    const after = Number((await merchant.post('/v1/issuing/balances', { currency: 'USD' })).body.available_balance);
    expect(Math.round((before - after) * 100)).toBe(500);
    const tooMuch = await merchant.post(`/v1/issuing/cards/${card.card_id}/withdraw`, { amount: '15.01' });
    expect(tooMuch.status).toBe(400);
    expect(tooMuch.body).toMatchObject({ type: 'card_error', code: 'insufficient_card_balance' });
    expect((await merchant.get(`/v1/issuing/cards/${card.card_id}`)).body.available_balance).toBe('15');

    const txs = await merchant.get('/v1/issuing/balances/transactions?currency=USD&page_size=100');
    expect(txs.status).toBe(200);
    expect(txs.body.data.length).toBeGreaterThanOrEqual(4);
  });

  it('freezes, unfreezes and cancels through PRE_CANCEL, with card.status.update.succeeded', async () => {
    await deposit(merchant, 'USD', '20');
    const card = await activeCard(tp, merchant, { card_product_id: MASTERCARD_SINGLE_PRODUCT, card_limit: '20' });
    const balanceBefore = (await merchant.post('/v1/issuing/balances', { currency: 'USD' })).body.available_balance;
    const frozen = await merchant.post(`/v1/issuing/cards/${card.card_id}/status`, { card_status: 'FROZEN', update_reason: 'lost' });
    expect(frozen.status).toBe(200);
    expect(frozen.body).toMatchObject({ card_status: 'FROZEN', order_type: 'CARD_STATUS_UPDATE', order_status: 'SUCCESS' });
    await hooks.waitFor(() => hooks.ofType('card.status.update.succeeded').some((w) => w.body.data.card_id === card.card_id && w.body.data.card_status === 'FROZEN'));
    const again = await merchant.post(`/v1/issuing/cards/${card.card_id}/status`, { card_status: 'FROZEN' });
    expect(again.status).toBe(400);
    expect(again.body).toMatchObject({ type: 'card_error', code: 'invalid_card_status' });
    expect((await merchant.post(`/v1/issuing/cards/${card.card_id}/status`, { card_status: 'ACTIVE' })).body.card_status).toBe('ACTIVE');

    const cancel = await merchant.post(`/v1/issuing/cards/${card.card_id}/status`, { card_status: 'CANCELLED' });
    expect(cancel.body).toMatchObject({ card_status: 'PRE_CANCEL', order_status: 'PROCESSING' });
    await advanceClock(tp, 5);
    const cancelled = await merchant.get(`/v1/issuing/cards/${card.card_id}`);
    expect(cancelled.body).toMatchObject({ card_status: 'CANCELLED', available_balance: '0' });
    await hooks.waitFor(() => hooks.ofType('card.status.update.succeeded').some((w) => w.body.data.card_id === card.card_id && w.body.data.card_status === 'CANCELLED'));
    // What was left on the SINGLE card is back on the issuing balance.
    const balanceAfter = (await merchant.post('/v1/issuing/balances', { currency: 'USD' })).body.available_balance;
    expect(Math.round((Number(balanceAfter) - Number(balanceBefore)) * 100)).toBe(2000);
    const reopen = await merchant.post(`/v1/issuing/cards/${card.card_id}/status`, { card_status: 'ACTIVE' });
    expect(reopen.status).toBe(400);
    expect((await merchant.post(`/v1/issuing/cards/${card.card_id}/recharge`, { amount: 1 })).body).toMatchObject({ type: 'card_error', code: 'invalid_card_status' });
  });

  it('lists cards with filters and pagination; another merchant sees none of them', async () => {
    const cardholderId = await newCardholder(merchant);
    const a = await activeCard(tp, merchant, { cardholder_id: cardholderId });
    const b = await activeCard(tp, merchant, { cardholder_id: cardholderId });
    await merchant.post(`/v1/issuing/cards/${b.card_id}/status`, { card_status: 'FROZEN' });
    const byHolder = await merchant.get(`/v1/issuing/cards?cardholder_id=${cardholderId}`);
    expect(byHolder.body.total_items).toBe(2);
    const frozen = await merchant.get(`/v1/issuing/cards?cardholder_id=${cardholderId}&card_status=FROZEN`);
    expect(frozen.body.data.map((c: any) => c.card_id)).toEqual([b.card_id]);
    const byNumber = await merchant.get(`/v1/issuing/cards?card_number=${encodeURIComponent(a.card_number)}`);
    expect(byNumber.body.data.map((c: any) => c.card_id)).toContain(a.card_id);
    const paged = await merchant.get(`/v1/issuing/cards?cardholder_id=${cardholderId}&page_size=1&page_number=2`);
    expect(paged.body).toMatchObject({ total_items: 2, total_pages: 2 });
    expect(paged.body.data).toHaveLength(1);
    const other = await UqpayClient.create(tp, { name: 'Nosy' });
    expect((await other.get(`/v1/issuing/cards?cardholder_id=${cardholderId}`)).body.total_items).toBe(0);
    const peek = await other.get(`/v1/issuing/cards/${a.card_id}/secure`);
    expect(peek.status).toBe(400);
    expect(peek.body.type).toBe('not_found');
  });

  it('bad input gets the UQPAY envelope and status, never a 500, and changes nothing', async () => {
    const cardholderId = await newCardholder(merchant);
    const count = async () => Number((await merchant.get('/v1/issuing/cards?page_size=1')).body.total_items);
    const cards = await count();
    const holders = Number((await merchant.get('/v1/issuing/cardholders?page_size=1')).body.total_items);
    const cases: Array<[string, unknown]> = [
      ['/v1/issuing/cardholders', {}],
      ['/v1/issuing/cardholders', cardholderBody({ email: 'not-an-email' })],
      ['/v1/issuing/cardholders', cardholderBody({ country_code: 'SGP' })],
      ['/v1/issuing/cardholders', cardholderBody({ date_of_birth: '03/02/1990' })],
      ['/v1/issuing/cardholders', '{"email":'],
      ['/v1/issuing/cards', { card_product_id: VISA_SHARE_PRODUCT, card_currency: 'USD' }],
      ['/v1/issuing/cards', { cardholder_id: cardholderId, card_product_id: 'nope', card_currency: 'USD' }],
      ['/v1/issuing/cards', { cardholder_id: 'no-such-holder', card_product_id: VISA_SHARE_PRODUCT, card_currency: 'USD' }],
      ['/v1/issuing/cards', { cardholder_id: cardholderId, card_product_id: VISA_SHARE_PRODUCT, card_currency: 'XXX' }],
      ['/v1/issuing/cards', { cardholder_id: cardholderId, card_product_id: VISA_SHARE_PRODUCT, card_currency: 'USD', card_limit: '1.234' }],
      ['/v1/issuing/cards', { cardholder_id: cardholderId, card_product_id: VISA_SHARE_PRODUCT, card_currency: 'USD', card_limit: 'lots' }],
      ['/v1/issuing/cards', { cardholder_id: cardholderId, card_product_id: VISA_SHARE_PRODUCT, card_currency: 'USD', metadata: { x: 'y'.repeat(3300) } }],
      ['/v1/issuing/cards', { cardholder_id: cardholderId, card_product_id: VISA_SHARE_PRODUCT, card_currency: 'USD', spending_controls: [{ amount: 10, interval: 'DAILY' }] }],
      ['/v1/issuing/cards', { cardholder_id: cardholderId, card_product_id: VISA_SHARE_PRODUCT, card_currency: 'USD', spending_controls: [{ amount: 0, interval: 'PER_TRANSACTION' }] }],
      ['/v1/issuing/cards', { cardholder_id: cardholderId, card_product_id: VISA_SHARE_PRODUCT, card_currency: 'USD', risk_controls: { enable_3ds: 'maybe' } }],
      ['/v1/issuing/cards', { cardholder_id: cardholderId, card_product_id: VISA_SHARE_PRODUCT, card_currency: 'USD', risk_controls: { allowed_mcc: ['59'] } }],
      ['/v1/issuing/cards', { cardholder_id: cardholderId, card_product_id: VISA_SHARE_PRODUCT, card_currency: 'USD', usage_type: 'TWICE' }],
      ['/v1/issuing/cards', { cardholder_id: cardholderId, card_product_id: VISA_SHARE_PRODUCT, card_currency: 'USD', auto_cancel_trigger: 'ON_AUTH' }],
      ['/v1/issuing/cards/no-such-card/status', { card_status: 'FROZEN' }],
      ['/v1/issuing/cards/no-such-card/recharge', { amount: 1 }],
      ['/v1/issuing/transfers', { source_account_id: 'a', destination_account_id: 'b', currency: 'USD', amount: 1 }],
      ['/v1/simulation/issuing/deposit', { currency: 'USD', amount: '-5' }],
    ];
    for (const [path, body] of cases) {
      const r = await merchant.post(path, body);
      expect(r.status, `${path} ${JSON.stringify(body).slice(0, 120)}: ${r.text}`).toBeGreaterThanOrEqual(400);
      expect(r.status, r.text).toBeLessThan(500);
      expect(r.body, r.text).toEqual({ type: expect.any(String), code: expect.any(String), message: expect.any(String) });
    }
    const unknown = await merchant.get('/v1/issuing/cards/no-such-card');
    expect(unknown).toMatchObject({ status: 400, body: { type: 'not_found' } });
    const badPage = await merchant.get('/v1/issuing/cards?page_size=500');
    expect(badPage).toMatchObject({ status: 400, body: { type: 'invalid_request_error' } });
    const noToken = await fetch(`${tp.baseUrl}/api/v1/issuing/cards`);
    expect(noToken.status).toBe(401);
    expect(await count()).toBe(cards);
    expect(Number((await merchant.get('/v1/issuing/cardholders?page_size=1')).body.total_items)).toBe(holders);
  });

  it('the same idempotency key gives the same card once; another body under it is refused', async () => {
    const cardholderId = await newCardholder(merchant);
    const body = { cardholder_id: cardholderId, card_product_id: VISA_SHARE_PRODUCT, card_currency: 'SGD', card_limit: '10' };
    const key = crypto.randomUUID();
    const first = await merchant.post('/v1/issuing/cards', body, { 'x-idempotency-key': key });
    const again = await merchant.post('/v1/issuing/cards', body, { 'x-idempotency-key': key });
    expect(again.body).toEqual(first.body);
    expect(again.headers.get('x-idempotent-replayed')).toBe('true');
    const other = await merchant.post('/v1/issuing/cards', { ...body, card_limit: '11' }, { 'x-idempotency-key': key });
    expect(other).toMatchObject({ status: 400, body: { type: 'idempotency_error' } });
    expect((await merchant.get(`/v1/issuing/cards?cardholder_id=${cardholderId}`)).body.total_items).toBe(1);
  });
});

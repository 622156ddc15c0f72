import { afterAll, afterEach, beforeAll, expect, it } from 'vitest';
import { advanceClock, describeEachBackend, startPlatform, UqpayClient, WebhookReceiver, type TestPlatform } from '../support/platform.ts';
import { activeCard, deposit, expectLedgerBalanced, MASTERCARD_SINGLE_PRODUCT } from '../support/issuing.ts';

const usd = async (client: UqpayClient) => (await client.post('/v1/issuing/balances', { currency: 'USD' })).body.available_balance as string;

describeEachBackend('UQPAY issuing: transactions, simulation, balances and transfers', (backend) => {
  let tp: TestPlatform;
  let hooks: WebhookReceiver;
  let merchant: UqpayClient;

  beforeAll(async () => {
    tp = await startPlatform(backend);
    hooks = await new WebhookReceiver().start();
    merchant = await UqpayClient.create(tp, { webhookUrl: hooks.url });
    await deposit(merchant, 'USD', '1000');
  });
  afterEach(async () => {
    await expectLedgerBalanced(tp);
  });
  afterAll(async () => {
    await tp?.close();
    await hooks?.close();
  });

  const authorize = (cardId: string, amount: string | number, extra: Record<string, unknown> = {}) =>
    merchant.post('/v1/simulation/issuing/authorization', { card_id: cardId, transaction_amount: amount, transaction_currency: 'USD', merchant_name: 'Coffee Shop', merchant_category_code: '5814', ...extra });

  it('approves an authorization within the limit: card and issuing balance move, issuing.transaction.authorization goes out', async () => {
    const card = await activeCard(tp, merchant, { card_limit: '100' });
    const before = await usd(merchant);
    const r = await authorize(card.card_id, '12.34');
    expect(r.status, r.text).toBe(200);
    expect(r.body).toMatchObject({
      card_id: card.card_id, card_number: card.card_number, cardholder_id: card.cardholder.cardholder_id, transaction_type: 'AUTHORIZATION', transaction_status: 'APPROVED',
      transaction_amount: '12.34', transaction_currency: 'USD', billing_amount: '12.34', billing_currency: 'USD', card_available_balance: '87.66', failure_reason: '',
      merchant_data: [{ category_code: '5814', name: 'Coffee Shop' }],
    });
    expect(r.body.authorization_code).toMatch(/^\d{6}$/);
    const got = await merchant.get(`/v1/issuing/cards/${card.card_id}`);
    expect(got.body).toMatchObject({ available_balance: '87.66', consumed_amount: '12.34' });
    expect(Math.round((Number(before) - Number(await usd(merchant))) * 100)).toBe(1234);

    await hooks.waitFor(() => hooks.ofType('issuing.transaction.authorization').some((w) => w.body.source_id === r.body.transaction_id));
    const hook = hooks.ofType('issuing.transaction.authorization').find((w) => w.body.source_id === r.body.transaction_id)!;
    expect(hook.body).toMatchObject({ event_name: 'ISSUING', data: { transaction_id: r.body.transaction_id, transaction_status: 'APPROVED', card_available_balance: '87.66' } });

    const fetched = await merchant.get(`/v1/issuing/transactions/${r.body.transaction_id}`);
    expect(fetched.body).toEqual(r.body);
  });

  it('declines with the reason, recorded, and moves nothing: status, spending control, MCC rules, limit, balance, currency', async () => {
    const card = await activeCard(tp, merchant, {
      card_limit: '50', spending_controls: [{ amount: '20', interval: 'PER_TRANSACTION' }], risk_controls: { blocked_mcc: ['7995'] },
    });
    const mccOnly = await activeCard(tp, merchant, { card_limit: '50', risk_controls: { allowed_mcc: ['5411'] } });
    const before = await usd(merchant);
    const cases: Array<[string, Promise<any>]> = [
      ['EXCEEDS_SPENDING_CONTROL', authorize(card.card_id, '20.01')],
      ['MCC_BLOCKED', authorize(card.card_id, '1', { merchant_category_code: '7995' })],
      ['MCC_NOT_ALLOWED', authorize(mccOnly.card_id, '1', { merchant_category_code: '5814' })],
      ['CURRENCY_MISMATCH', authorize(card.card_id, '1', { transaction_currency: 'SGD' })],
    ];
    for (const [reason, pending] of cases) {
      const r = await pending;
      expect(r.status, r.text).toBe(200);
      expect(r.body, reason).toMatchObject({ transaction_status: 'DECLINED', failure_reason: reason, authorization_code: '' });
    }
    expect((await authorize(mccOnly.card_id, '1', { merchant_category_code: '5411' })).body.transaction_status).toBe('APPROVED');
    expect((await authorize(mccOnly.card_id, '49.01', { merchant_category_code: '5411' })).body).toMatchObject({ transaction_status: 'DECLINED', failure_reason: 'EXCEEDS_CARD_LIMIT' });

    await merchant.post(`/v1/issuing/cards/${card.card_id}/status`, { card_status: 'FROZEN' });
    expect((await authorize(card.card_id, '1')).body).toMatchObject({ transaction_status: 'DECLINED', failure_reason: 'CARD_NOT_ACTIVE' });
    expect((await merchant.get(`/v1/issuing/cards/${card.card_id}`)).body.available_balance).toBe('50');
    expect(Math.round((Number(before) - Number(await usd(merchant))) * 100)).toBe(100); // only the one approval
    const list = await merchant.get(`/v1/issuing/transactions?card_id=${card.card_id}&page_size=100`);
    expect(list.body.total_items).toBe(4);
    await hooks.waitFor(() => hooks.ofType('issuing.transaction.authorization').filter((w) => w.body.data.card_id === card.card_id && w.body.data.transaction_status === 'DECLINED').length === 4);
  });

  it('SINGLE cards spend only what is on them; SHARE cards without a limit spend the issuing balance', async () => {
    const single = await activeCard(tp, merchant, { card_product_id: MASTERCARD_SINGLE_PRODUCT, card_limit: '5' });
    expect((await authorize(single.card_id, '5.01')).body).toMatchObject({ transaction_status: 'DECLINED', failure_reason: 'INSUFFICIENT_BALANCE' });
    expect((await authorize(single.card_id, '5')).body).toMatchObject({ transaction_status: 'APPROVED', card_available_balance: '0' });

    const poor = await UqpayClient.create(tp, { name: 'Poor' });
    await deposit(poor, 'USD', '3');
    const share = await activeCard(tp, poor);
    expect(share).toMatchObject({ card_limit: '0', available_balance: '3' });
    const r = await poor.post('/v1/simulation/issuing/authorization', { card_id: share.card_id, transaction_amount: '3.01', transaction_currency: 'USD' });
    expect(r.body).toMatchObject({ transaction_status: 'DECLINED', failure_reason: 'INSUFFICIENT_BALANCE' });
    const ok = await poor.post('/v1/simulation/issuing/authorization', { card_id: share.card_id, transaction_amount: '2', transaction_currency: 'USD' });
    expect(ok.body).toMatchObject({ transaction_status: 'APPROVED', card_available_balance: '1' });
    expect(await usd(poor)).toBe('1');
  });

  it('reversal gives the money back once, with issuing.transaction.reversal', async () => {
    const card = await activeCard(tp, merchant, { card_limit: '40' });
    const auth = await authorize(card.card_id, '15');
    const before = await usd(merchant);
    const rev = await merchant.post('/v1/simulation/issuing/reversal', { transaction_id: auth.body.transaction_id });
    expect(rev.status, rev.text).toBe(200);
    expect(rev.body).toMatchObject({ transaction_type: 'REVERSAL', transaction_status: 'APPROVED', transaction_amount: '15', original_transaction_id: auth.body.transaction_id, card_available_balance: '40' });
    expect((await merchant.get(`/v1/issuing/cards/${card.card_id}`)).body).toMatchObject({ available_balance: '40', consumed_amount: '0' });
    expect(Math.round((Number(await usd(merchant)) - Number(before)) * 100)).toBe(1500);
    await hooks.waitFor(() => hooks.ofType('issuing.transaction.reversal').some((w) => w.body.source_id === rev.body.transaction_id));

    const twice = await merchant.post('/v1/simulation/issuing/reversal', { transaction_id: auth.body.transaction_id });
    expect(twice).toMatchObject({ status: 400, body: { type: 'card_error', code: 'invalid_transaction_status' } });
    const declined = await authorize(card.card_id, '41');
    expect((await merchant.post('/v1/simulation/issuing/reversal', { transaction_id: declined.body.transaction_id })).status).toBe(400);
    expect((await merchant.post('/v1/simulation/issuing/reversal', { transaction_id: 'nope' })).body.type).toBe('not_found');
  });

  it('ONE_TIME cards with ON_AUTH cancel after their first approval', async () => {
    const card = await activeCard(tp, merchant, { card_limit: '30', usage_type: 'ONE_TIME', auto_cancel_trigger: 'ON_AUTH' });
    expect(card).toMatchObject({ usage_type: 'ONE_TIME', auto_cancel_trigger: 'ON_AUTH' });
    expect((await authorize(card.card_id, '10')).body.transaction_status).toBe('APPROVED');
    expect((await merchant.get(`/v1/issuing/cards/${card.card_id}`)).body.card_status).toBe('PRE_CANCEL');
    expect((await authorize(card.card_id, '1')).body).toMatchObject({ transaction_status: 'DECLINED', failure_reason: 'CARD_NOT_ACTIVE' });
    await advanceClock(tp, 5);
    expect((await merchant.get(`/v1/issuing/cards/${card.card_id}`)).body.card_status).toBe('CANCELLED');
  });

  it('lists transactions by card and time window', async () => {
    const card = await activeCard(tp, merchant, { card_limit: '10' });
    const first = await authorize(card.card_id, '1');
    await advanceClock(tp, 120);
    const second = await authorize(card.card_id, '2');
    const all = await merchant.get(`/v1/issuing/transactions?card_id=${card.card_id}`);
    expect(all.body.data.map((t: any) => t.transaction_id)).toEqual([second.body.transaction_id, first.body.transaction_id]);
    const late = await merchant.get(`/v1/issuing/transactions?card_id=${card.card_id}&start_time=${encodeURIComponent(second.body.transaction_time)}`);
    expect(late.body.data.map((t: any) => t.transaction_id)).toEqual([second.body.transaction_id]);
    const early = await merchant.get(`/v1/issuing/transactions?card_id=${card.card_id}&end_time=${encodeURIComponent(first.body.transaction_time)}`);
    expect(early.body.data.map((t: any) => t.transaction_id)).toEqual([first.body.transaction_id]);
    expect((await merchant.get('/v1/issuing/transactions?start_time=yesterday')).body).toMatchObject({ type: 'invalid_request_error' });
  });

  it('transfers between the master account and its sub-account issuing balances', async () => {
    const master = await UqpayClient.create(tp, { name: 'Master' });
    await deposit(master, 'USD', '20');
    const sub = await tp.platform.merchants.create({ name: 'Sub', parentId: master.credentials.merchant_id });
    const t = await master.post('/v1/issuing/transfers', { source_account_id: master.credentials.merchant_id, destination_account_id: sub.merchant_id, currency: 'USD', amount: '7.5' });
    expect(t.status, t.text).toBe(200);
    expect(t.body).toMatchObject({ transfer_status: 'SUCCEEDED', amount: '7.5', currency: 'USD' });
    expect(await usd(master)).toBe('12.5');
    const subBalance = await master.post('/v1/issuing/balances', { currency: 'USD' }, { 'x-on-behalf-of': sub.merchant_id });
    expect(subBalance.body.available_balance).toBe('7.5');
    expect((await master.get(`/v1/issuing/transfers/${t.body.transfer_id}`)).body).toEqual(t.body);
    const tooMuch = await master.post('/v1/issuing/transfers', { source_account_id: master.credentials.merchant_id, destination_account_id: sub.merchant_id, currency: 'USD', amount: '12.51' });
    expect(tooMuch).toMatchObject({ status: 400, body: { type: 'card_error', code: 'insufficient_balance' } });
    const stranger = await UqpayClient.create(tp, { name: 'Stranger' });
    const steal = await master.post('/v1/issuing/transfers', { source_account_id: stranger.credentials.merchant_id, destination_account_id: master.credentials.merchant_id, currency: 'USD', amount: '1' });
    expect(steal).toMatchObject({ status: 400, body: { type: 'invalid_request_error', code: 'invalid_account' } });
    expect(await usd(master)).toBe('12.5');
  });

  it('bad simulation input gets the UQPAY envelope, never a 500', async () => {
    const card = await activeCard(tp, merchant, { card_limit: '10' });
    const cases: unknown[] = [
      {},
      { card_id: card.card_id, transaction_amount: '0', transaction_currency: 'USD' },
      { card_id: card.card_id, transaction_amount: '1.001', transaction_currency: 'USD' },
      { card_id: card.card_id, transaction_amount: '1', transaction_currency: 'ZZZ' },
      { card_id: card.card_id, transaction_amount: '1', transaction_currency: 'USD', merchant_category_code: 'abcd' },
      { card_id: 'no-such-card', transaction_amount: '1', transaction_currency: 'USD' },
    ];
    for (const body of cases) {
      const r = await merchant.post('/v1/simulation/issuing/authorization', body);
      expect(r.status, r.text).toBe(400);
      expect(r.body).toEqual({ type: expect.any(String), code: expect.any(String), message: expect.any(String) });
    }
    expect((await merchant.get(`/v1/issuing/transactions?card_id=${card.card_id}`)).body.total_items).toBe(0);
  });
});

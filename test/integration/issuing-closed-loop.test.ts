/**
 * The closed loop: a card issued here pays a UQPAY payment intent on the
 * same platform. The card network routes the platform's own BINs to the
 * issuing side, which decides; both sides' ledgers and webhooks move.
 */
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest';
import { describeEachBackend, intentBody, seedCard, simPost, startPlatform, UqpayClient, WebhookReceiver, type TestPlatform } from '../support/platform.ts';
import { AlphapayClient, payBody } from '../support/alphapay.ts';
import { activeCard, deposit, expectLedgerBalanced, MASTERCARD_SINGLE_PRODUCT } from '../support/issuing.ts';

/** A two-decimal amount as the API writes it, in cents, without floating point. */
function cents(text: string): number {
  const [whole, fraction = ''] = text.split('.');
  return Number(whole) * 100 + Number(fraction.padEnd(2, '0'));
}

describeEachBackend('UQPAY issuing: the closed loop with acquiring', (backend) => {
  let tp: TestPlatform;
  let issuerHooks: WebhookReceiver;
  let shopHooks: WebhookReceiver;
  /** Issues the cards. */
  let issuer: UqpayClient;
  /** Takes the payments. */
  let shop: UqpayClient;

  beforeAll(async () => {
    tp = await startPlatform(backend);
    issuerHooks = await new WebhookReceiver().start();
    shopHooks = await new WebhookReceiver().start();
    issuer = await UqpayClient.create(tp, { name: 'Card Program', webhookUrl: issuerHooks.url });
    shop = await UqpayClient.create(tp, { name: 'Corner Shop', webhookUrl: shopHooks.url });
    await deposit(issuer, 'USD', '500');
  });
  afterEach(async () => {
    await expectLedgerBalanced(tp);
  });
  afterAll(async () => {
    await tp?.close();
    await issuerHooks?.close();
    await shopHooks?.close();
  });

  /** The issued card as a shopper types it into a payment form. */
  async function paymentMethod(cardId: string, overrides: Record<string, unknown> = {}) {
    const s = (await issuer.get(`/v1/issuing/cards/${cardId}/secure`)).body;
    const [mm, yy] = s.expire_date.split('/');
    return seedCard({ card_number: s.card_number, expiry_month: mm, expiry_year: `20${yy}`, cvc: s.cvv, network: undefined, ...overrides });
  }

  const pay = async (cardId: string, amount: string, overrides: Record<string, unknown> = {}, currency = 'USD') =>
    shop.post('/v2/payment_intents/create', { ...intentBody({ amount, currency }), payment_method: await paymentMethod(cardId, overrides) });

  const usdPending = async () => cents((await shop.get('/v2/payment/balances/USD')).body.pending_balance);
  const issuingUsd = async () => cents((await issuer.post('/v1/issuing/balances', { currency: 'USD' })).body.available_balance);

  it('an issued card pays an AlphaPay CREDIT_CARD order: the issuing side decides, a decline says so, both ledgers move', async () => {
    const card = await activeCard(tp, issuer, { card_limit: '30' });
    const s = (await issuer.get(`/v1/issuing/cards/${card.card_id}/secure`)).body;
    const [mm, yy] = s.expire_date.split('/');
    const ap = new AlphapayClient(tp.baseUrl, shop.credentials.alphapay);
    const order = (value: string, cvv = s.cvv) => ({
      ...payBody({ scenarioCode: 'CREDIT_CARD', value, currency: 'USD' }),
      paymentMethod: undefined,
      card: { info: { number: s.card_number, expMonth: mm, expYear: `20${yy}`, cvv, holder: 'Alex Chen' } },
    });
    const shopBefore = await usdPending();
    const issuingBefore = await issuingUsd();
    const paid = await ap.pay(order('1250'));
    expect(paid.body.result, paid.text).toMatchObject({ resultCode: 'SUCCESS', resultStatus: 'S' });
    expect(paid.signed).toBe(true);
    const inquiry = await ap.send('inquiryPayment', { paymentId: paid.body.paymentId });
    expect(inquiry.body.paymentStatus).toBe('SUCCESS');
    expect(JSON.stringify(paid.body)).not.toContain(s.card_number);
    // 12.50 USD left the card program's issuing balance and reached the shop's acquiring balance.
    expect(await usdPending()).toBe(shopBefore + 1250);
    expect(await issuingUsd()).toBe(issuingBefore - 1250);
    expect((await issuer.get(`/v1/issuing/cards/${card.card_id}`)).body).toMatchObject({ consumed_amount: '12.5', available_balance: '17.5' });
    await issuerHooks.waitFor(() => issuerHooks.ofType('issuing.transaction.authorization').some((w) => w.body.data.card_id === card.card_id && w.body.data.transaction_amount === '12.5'));

    // Over what is left on the card, and a wrong CVV: declined by the issuing side, nothing moves.
    const over = await ap.pay(order('2000'));
    expect(over.body.result, over.text).toMatchObject({ resultCode: 'PAYMENT_FAILED', resultStatus: 'F' });
    const badCvv = await ap.pay(order('100', s.cvv === '000' ? '001' : '000'));
    expect(badCvv.body.result, badCvv.text).toMatchObject({ resultCode: 'PAYMENT_FAILED', resultStatus: 'F' });
    expect(await usdPending()).toBe(shopBefore + 1250);
    expect(await issuingUsd()).toBe(issuingBefore - 1250);
  });

  it('an issued card pays an intent: approved by the issuing side, both balances move by the amount, both sides are told', async () => {
    const card = await activeCard(tp, issuer, { card_limit: '100' });
    const shopBefore = await usdPending();
    const issuingBefore = await issuingUsd();
    const r = await pay(card.card_id, '25.5');
    expect(r.status, r.text).toBe(200);
    expect(r.body).toMatchObject({ intent_status: 'SUCCEEDED', captured_amount: '25.50', latest_payment_attempt: { attempt_status: 'CAPTURE_REQUESTED' } });
    const attempt = (await shop.get(`/v2/payment/payment_attempts/${r.body.latest_payment_attempt.attempt_id}`)).body;
    expect(attempt).toMatchObject({ authentication_data: { cvv_result: 'M' }, payment_method: { card: { network: 'visa', card_type: 'prepaid', bin: '409636' } } });
    expect(attempt.auth_code).toMatch(/^\d{6}$/);

    expect((await issuer.get(`/v1/issuing/cards/${card.card_id}`)).body).toMatchObject({ available_balance: '74.5', consumed_amount: '25.5' });
    expect(await usdPending()).toBe(shopBefore + 2550);
    expect(await issuingUsd()).toBe(issuingBefore - 2550);

    const txs = (await issuer.get(`/v1/issuing/transactions?card_id=${card.card_id}`)).body.data;
    expect(txs).toHaveLength(1);
    expect(txs[0]).toMatchObject({ transaction_type: 'AUTHORIZATION', transaction_status: 'APPROVED', transaction_amount: '25.5', authorization_code: attempt.auth_code, merchant_data: [{ name: 'Corner Shop' }] });
    expect(txs[0].posted_time).not.toBe('');

    await shopHooks.waitFor(() => shopHooks.ofType('acquiring.payment_intent.succeeded').some((w) => w.body.source_id === r.body.payment_intent_id));
    await issuerHooks.waitFor(() => issuerHooks.ofType('issuing.transaction.authorization').some((w) => w.body.data.transaction_id === txs[0].transaction_id));
    await issuerHooks.waitFor(() => issuerHooks.ofType('issuing.transaction.settlement').some((w) => w.body.data.transaction_id === txs[0].transaction_id));
    // The shop hears nothing of the card program, and the card program nothing of the shop's intent.
    expect(shopHooks.received.some((w) => w.body.event_name === 'ISSUING')).toBe(false);
    expect(issuerHooks.received.some((w) => w.body.event_name === 'ACQUIRING')).toBe(false);
  });

  it('declines carry the issuing reason as the acquiring decline code, and move nothing', async () => {
    const card = await activeCard(tp, issuer, { card_limit: '10', risk_controls: { blocked_mcc: [] } });
    const before = await issuingUsd();
    const cases: Array<[string, Promise<any>, string]> = [
      ['over the limit', pay(card.card_id, '10.01'), 'insufficient_funds'],
      ['wrong CVC', pay(card.card_id, '1', { cvc: '000' === (await paymentMethod(card.card_id)).card.cvc ? '001' : '000' }), 'incorrect_cvc'],
      ['wrong expiry', pay(card.card_id, '1', { expiry_year: '2099' }), 'expired_card'],
      ['another currency', pay(card.card_id, '1', {}, 'SGD'), 'card_declined'],
    ];
    for (const [what, pending, code] of cases) {
      const r = await pending;
      expect(r.status, r.text).toBe(200);
      expect(r.body.intent_status, what).toBe('REQUIRES_PAYMENT_METHOD');
      expect(r.body.latest_payment_attempt, what).toMatchObject({ attempt_status: 'FAILED', failure_code: code });
    }
    await issuer.post(`/v1/issuing/cards/${card.card_id}/status`, { card_status: 'FROZEN' });
    const frozen = await pay(card.card_id, '1');
    expect(frozen.body.latest_payment_attempt).toMatchObject({ attempt_status: 'FAILED', failure_code: 'card_declined' });
    const reasons = (await issuer.get(`/v1/issuing/transactions?card_id=${card.card_id}`)).body.data.map((t: any) => t.failure_reason).sort();
    expect(reasons).toEqual(['CARD_NOT_ACTIVE', 'CURRENCY_MISMATCH', 'EXCEEDS_CARD_LIMIT', 'INVALID_CVV', 'INVALID_EXPIRY_DATE']);
    expect(await issuingUsd()).toBe(before);
    expect((await issuer.get(`/v1/issuing/cards/${card.card_id}`)).body.available_balance).toBe('10');

    // A number on the platform's BIN that it never issued.
    const s = (await issuer.get(`/v1/issuing/cards/${card.card_id}/secure`)).body;
    const body = s.card_number.slice(0, 8) + String((Number(s.card_number.slice(8, 15)) + 1) % 1e7).padStart(7, '0');
    let check = 0;
    for (let i = 0; i < 15; i++) {
      let d = Number(body[14 - i]);
      if (i % 2 === 0) d = d * 2 > 9 ? d * 2 - 9 : d * 2;
      check += d;
    }
    const unissued = await shop.post('/v2/payment_intents/create', { ...intentBody({ amount: '1', currency: 'USD' }), payment_method: seedCard({ card_number: body + ((10 - (check % 10)) % 10), cvc: '123' }) });
    expect(unissued.body.latest_payment_attempt).toMatchObject({ attempt_status: 'FAILED', failure_code: 'incorrect_number' });
  });

  it('3DS follows the card: enable_3ds challenges even with skip_3ds, and the challenge decides', async () => {
    const card = await activeCard(tp, issuer, { card_limit: '50', risk_controls: { enable_3ds: 'Y', allow_3ds_transactions: 'Y' } });
    const r = await pay(card.card_id, '5');
    expect(r.body.intent_status).toBe('REQUIRES_CUSTOMER_ACTION');
    const done = await simPost(tp.baseUrl, '/3ds/complete', { url: r.body.next_action.redirect_to_url.url, result: 'success' });
    expect(done.body).toMatchObject({ intent_status: 'SUCCEEDED' });
    expect((await issuer.get(`/v1/issuing/cards/${card.card_id}`)).body.available_balance).toBe('45');

    const failed = await pay(card.card_id, '5');
    const no = await simPost(tp.baseUrl, '/3ds/complete', { url: failed.body.next_action.redirect_to_url.url, result: 'failure' });
    expect(no.body).toMatchObject({ intent_status: 'REQUIRES_PAYMENT_METHOD' });
    expect((await issuer.get(`/v1/issuing/cards/${card.card_id}`)).body.available_balance).toBe('45');

    // Without enable_3ds the card is not challenged when the merchant skips 3DS.
    const plain = await activeCard(tp, issuer, { card_limit: '50' });
    expect((await pay(plain.card_id, '5')).body.intent_status).toBe('SUCCEEDED');
  });

  it('captures post, cancellations and refunds flow back to the card', async () => {
    const card = await activeCard(tp, issuer, { card_product_id: MASTERCARD_SINGLE_PRODUCT, card_limit: '60' });
    // Authorize only, then capture part: the rest goes back to the card.
    const held = await pay(card.card_id, '20', { auto_capture: false });
    expect(held.body.intent_status).toBe('REQUIRES_CAPTURE');
    expect((await issuer.get(`/v1/issuing/cards/${card.card_id}`)).body.available_balance).toBe('40');
    const captured = await shop.post(`/v2/payment_intents/${held.body.payment_intent_id}/capture`, { amount_to_capture: '15' });
    expect(captured.body).toMatchObject({ intent_status: 'SUCCEEDED', captured_amount: '15.00' });
    expect((await issuer.get(`/v1/issuing/cards/${card.card_id}`)).body).toMatchObject({ available_balance: '45', consumed_amount: '15' });

    // Authorize, then cancel: the whole hold is released.
    const cancelled = await pay(card.card_id, '10', { auto_capture: false });
    expect((await issuer.get(`/v1/issuing/cards/${card.card_id}`)).body.available_balance).toBe('35');
    const cancel = await shop.post(`/v2/payment_intents/${cancelled.body.payment_intent_id}/cancel`, { cancellation_reason: 'requested_by_customer' });
    expect(cancel.body.intent_status).toBe('CANCELLED');
    expect((await issuer.get(`/v1/issuing/cards/${card.card_id}`)).body.available_balance).toBe('45');
    await issuerHooks.waitFor(() => issuerHooks.ofType('issuing.transaction.reversal').some((w) => w.body.data.card_id === card.card_id && w.body.data.transaction_amount === '10'));

    // Refund part of the captured payment: it goes back onto the card.
    const pendingBefore = await usdPending();
    const refund = await shop.post('/v2/payment/refunds', { payment_intent_id: held.body.payment_intent_id, amount: '4', reason: 'damaged' });
    expect(refund.body.refund_status).toBe('SUCCEEDED');
    expect((await issuer.get(`/v1/issuing/cards/${card.card_id}`)).body).toMatchObject({ available_balance: '49', consumed_amount: '11' });
    expect(await usdPending()).toBe(pendingBefore - 400);
    await issuerHooks.waitFor(() => issuerHooks.ofType('issuing.transaction.refund').some((w) => w.body.data.card_id === card.card_id && w.body.data.transaction_amount === '4'));
    const types = (await issuer.get(`/v1/issuing/transactions?card_id=${card.card_id}&page_size=100`)).body.data.map((t: any) => t.transaction_type).sort();
    expect(types).toEqual(['AUTHORIZATION', 'AUTHORIZATION', 'REFUND', 'REVERSAL', 'REVERSAL']);
  });

  it('a ONE_TIME card with ON_CAPTURE cancels when its payment is captured', async () => {
    const card = await activeCard(tp, issuer, { card_limit: '30', usage_type: 'ONE_TIME', auto_cancel_trigger: 'ON_CAPTURE' });
    const held = await pay(card.card_id, '9', { auto_capture: false });
    expect((await issuer.get(`/v1/issuing/cards/${card.card_id}`)).body.card_status).toBe('ACTIVE');
    await shop.post(`/v2/payment_intents/${held.body.payment_intent_id}/capture`, {});
    expect((await issuer.get(`/v1/issuing/cards/${card.card_id}`)).body.card_status).toBe('PRE_CANCEL');
    expect((await pay(card.card_id, '1')).body.latest_payment_attempt.failure_code).toBe('card_declined');
  });
});

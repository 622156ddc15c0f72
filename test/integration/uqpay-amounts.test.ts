/**
 * UQPAY amounts as its documented answers write them: seed 000 answers
 * "8.98" for "8.98", seed 002 "0.01" and a refunded_amount of "0", and the
 * official SDK's examples "10.00" and "5.00": the currency's decimal places,
 * with nothing as "0". A request for "25.50" answers "25.50" (it answered
 * "25.5"), and "25.5" answers "25.50" too.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeEachBackend, intentBody, seedCard, startPlatform, UqpayClient, type TestPlatform } from '../support/platform.ts';

describeEachBackend('UQPAY amounts on the wire', (backend) => {
  let tp: TestPlatform;
  let merchant: UqpayClient;
  beforeAll(async () => {
    tp = await startPlatform(backend);
    merchant = await UqpayClient.create(tp, { name: 'Amounts Shop' });
  });
  afterAll(async () => tp?.close());

  it('intents, attempts and refunds answer amounts with the currency\'s decimals, and zero as "0"', async () => {
    const unpaid = await merchant.post('/v2/payment_intents/create', intentBody({ amount: '25.50' }));
    expect(unpaid.status, unpaid.text).toBe(200);
    expect(unpaid.body).toMatchObject({ amount: '25.50', captured_amount: '0' });

    const paid = await merchant.post('/v2/payment_intents/create', { ...intentBody({ amount: '25.5' }), payment_method: seedCard() });
    expect(paid.body).toMatchObject({ intent_status: 'SUCCEEDED', amount: '25.50', captured_amount: '25.50' });
    expect(paid.body.latest_payment_attempt).toMatchObject({ amount: '25.50', captured_amount: '25.50', refunded_amount: '0' });

    const seed = await merchant.post('/v2/payment_intents/create', { ...intentBody(), payment_method: seedCard() });
    expect(seed.body).toMatchObject({ amount: '8.98', captured_amount: '8.98' });

    const refund = await merchant.post('/v2/payment/refunds', { payment_intent_id: paid.body.payment_intent_id, amount: '5.00', reason: 'partial' });
    expect(refund.body).toMatchObject({ amount: '5.00', refund_status: 'SUCCEEDED' });
    const after = await merchant.get(`/v2/payment_intents/${paid.body.payment_intent_id}`);
    expect(after.body.latest_payment_attempt).toMatchObject({ refunded_amount: '5.00' });

    const yen = await merchant.post('/v2/payment_intents/create', intentBody({ amount: '1000', currency: 'JPY' }));
    expect(yen.body).toMatchObject({ amount: '1000', currency: 'JPY' });
  });
});

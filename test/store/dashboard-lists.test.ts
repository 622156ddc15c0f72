/**
 * The dashboard's issuing lists and the sandbox's waiting payments on both
 * databases: newest first, keyset pages that neither skip nor repeat a row,
 * and nothing of a merchant outside the set asked for.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { IssuingLists } from '../../src/store/issuing-lists.ts';
import { ShopperWaits } from '../../src/store/shopper-waits.ts';
import { activeCard, deposit, newCardholder } from '../support/issuing.ts';
import { describeEachBackend, intentBody, seedCard, startPlatform, UqpayClient, type TestPlatform } from '../support/platform.ts';

describeEachBackend('dashboard lists', (backend) => {
  let tp: TestPlatform;
  let merchant: UqpayClient;
  let other: UqpayClient;

  beforeAll(async () => {
    tp = await startPlatform(backend);
    merchant = await UqpayClient.create(tp, { name: 'Lists Shop' });
    other = await UqpayClient.create(tp, { name: 'Other Lists Shop' });
  });
  afterAll(async () => tp?.close());

  it('pages cardholders, cards and card transactions newest first, without gaps or repeats', async () => {
    await deposit(merchant, 'USD', '300');
    const holders = [await newCardholder(merchant), await newCardholder(merchant), await newCardholder(merchant)];
    const card = await activeCard(tp, merchant, { cardholder_id: holders[0], card_limit: '50' });
    await merchant.authenticate(); // the helper moved the clock
    for (const amount of ['1', '2', '3']) {
      const r = await merchant.post('/v1/simulation/issuing/authorization', { card_id: card.card_id, transaction_amount: amount, transaction_currency: 'USD', merchant_name: `Shop ${amount}`, merchant_category_code: '5814' });
      expect(r.body.transaction_status, r.text).toBe('APPROVED');
    }
    await newCardholder(other);
    const lists = new IssuingLists(tp.platform.store);
    const ids = [merchant.credentials.merchant_id];

    const first = await lists.cardholders({ merchantIds: ids, limit: 2 });
    const second = await lists.cardholders({ merchantIds: ids, limit: 2, after: first.next! });
    expect([...first.rows, ...second.rows].map((h) => h.id)).toEqual([...holders].reverse());
    expect(second.next).toBeNull();
    expect(first.rows.find((h) => h.id === holders[0]) ?? second.rows.find((h) => h.id === holders[0])).toMatchObject({ cards: 1, name: 'Alex Chen' });

    const cards = await lists.cards({ merchantIds: ids, limit: 10, parentId: holders[0] });
    expect(cards.rows).toEqual([expect.objectContaining({ id: card.card_id, status: 'ACTIVE', currency: 'USD', limit: 5000, available: 5000 - 600 })]);
    const { pan } = await tp.platform.issuing.secure(merchant.credentials.merchant_id, card.card_id);
    expect(JSON.stringify(cards.rows)).not.toContain(pan); // never the card number

    const t1 = await lists.transactions({ merchantIds: ids, limit: 2, parentId: card.card_id });
    const t2 = await lists.transactions({ merchantIds: ids, limit: 2, parentId: card.card_id, after: t1.next! });
    expect([...t1.rows, ...t2.rows].map((t) => t.merchantName)).toEqual(['Shop 3', 'Shop 2', 'Shop 1']);
    expect(t1.rows[0]).toMatchObject({ amount: 300, currency: 'USD', status: 'APPROVED', type: 'AUTHORIZATION' });

    expect((await lists.cards({ merchantIds: [other.credentials.merchant_id], limit: 10 })).rows).toEqual([]);
    expect((await lists.cardholders({ merchantIds: [], limit: 10 })).rows).toEqual([]);
  });

  it('lists the payments waiting for a shopper with what the simulator needs, only for the merchants asked', async () => {
    await merchant.authenticate();
    const qr = await merchant.post('/v2/payment_intents/create', { ...intentBody(), payment_method: { type: 'wechatpay', wechatpay: { flow: 'qrcode', is_present: false } } });
    const challenged = await merchant.post('/v2/payment_intents/create', { ...intentBody(), payment_method: seedCard({ card_number: '4000002500003155' }) });
    const waits = new ShopperWaits(tp.platform.store);
    const mine = await waits.list([merchant.credentials.merchant_id]);
    expect(mine.map((w) => [w.intentId, w.kind, w.method])).toEqual([
      [challenged.body.payment_intent_id, 'challenge', 'card'],
      [qr.body.payment_intent_id, 'wallet', 'wechatpay'],
    ]);
    expect(mine.every((w) => typeof w.reference === 'string' && w.reference.length > 8)).toBe(true);
    expect(await waits.list([other.credentials.merchant_id])).toEqual([]);
    expect(await waits.one([other.credentials.merchant_id], mine[0]!.attemptId)).toBeNull();
    await tp.platform.payments.completeChallenge(mine[0]!.reference!, true);
    expect(await waits.one([merchant.credentials.merchant_id], mine[0]!.attemptId)).toBeNull();
  });
});

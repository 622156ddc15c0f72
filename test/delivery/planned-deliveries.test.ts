import { describe, expect, it } from 'vitest';
import { plannedDeliveries } from '../../src/store/outbox.ts';

const event = (id: string, type: string) => ({ id, merchantId: 'mer_1', type, createdAt: 1_000 });
const lifecycle = ['payment_intent.created', 'payment_attempt.created', 'payment_intent.requires_action', 'payment_intent.succeeded', 'refund.created', 'refund.succeeded', 'cancel.succeeded'];

describe('planned deliveries', () => {
  it('plan a row only for the events the dialect notifies', async () => {
    const plan = async (dialect: string) =>
      (await plannedDeliveries(lifecycle.map((t, i) => event(`evt_${i}`, t)), () => ({ dialect, url: 'https://shop.example/hook' }))).map((d) => lifecycle[Number(d.event_id.slice(4))]);
    expect(await plan('uqpay')).toEqual(lifecycle);
    expect(await plan('qfpay')).toEqual(['payment_intent.succeeded', 'refund.succeeded', 'cancel.succeeded']);
    expect(await plan('alphapay')).toEqual(['payment_intent.succeeded', 'refund.succeeded']);
  });

  it('an unpaid QFPay or AlphaPay order (created only) and an event with no URL plan nothing', async () => {
    expect(await plannedDeliveries([event('evt_1', 'payment_intent.created')], () => ({ dialect: 'qfpay', url: 'https://shop.example/n' }))).toEqual([]);
    expect(await plannedDeliveries([event('evt_1', 'payment_intent.created')], () => ({ dialect: 'alphapay', url: 'https://shop.example/n' }))).toEqual([]);
    expect(await plannedDeliveries([event('evt_1', 'payment_intent.succeeded')], () => ({ dialect: 'uqpay', url: null }))).toEqual([]);
  });

  it('a planned row is pending, due when its event was recorded, keyed by event and dialect', async () => {
    const [d] = await plannedDeliveries([event('evt_9', 'payment_intent.succeeded')], async () => ({ dialect: 'alphapay', url: 'https://shop.example/n' }));
    expect(d).toMatchObject({ id: 'evt_9:alphapay', event_id: 'evt_9', merchant_id: 'mer_1', dialect: 'alphapay', url: 'https://shop.example/n', status: 'pending', attempts: 0, next_attempt_at: 1_000, lease_until: null });
  });
});

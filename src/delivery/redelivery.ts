/**
 * Sending an event again, and sending a test event, from the dashboard.
 *
 * A resend is a new delivery row of the same event (same event id, same
 * dialect, same URL), due at once, sent by the relay like any other: the
 * original row and its tries stay as they were in the log, a resend never
 * races the relay for a row it holds a lease on, and a receiver that
 * already has the event dedupes it by event id as it does any repeat (at
 * least once). The resend carries the event's own snapshot, so it says what
 * was true when the event happened, as the first send did.
 */
import { randomUUID } from 'node:crypto';
import type { Clock } from '../core/clock.ts';
import type { PaymentIntent } from '../core/payments/types.ts';
import type { DeliveryTable } from '../store/schema.ts';
import type { Store } from '../store/store.ts';

export class DeliveryNotFound extends Error {}

/** A one-time key of a form: what a resend's delivery id is made from, so a double-submit resends once. */
const ONCE = /^[A-Za-z0-9_-]{8,64}$/;

/** Test events carry this event id prefix, so receivers and the log can tell them apart. */
export const TEST_EVENT_PREFIX = 'evt_test_';

/** A delivery of `event_id` in `dialect` to `url`, due at `now`, never tried. */
function dueNow(d: Pick<DeliveryTable, 'id' | 'event_id' | 'merchant_id' | 'dialect' | 'url'>, now: number): DeliveryTable {
  return { ...d, status: 'pending', attempts: 0, next_attempt_at: now, lease_until: null, lease_owner: null, last_status_code: null, last_error: null, created_at: now, updated_at: now };
}

export class Redelivery {
  constructor(private readonly store: Store, private readonly clock: Clock) {}

  /**
   * Plans delivery `deliveryId` (of one of `merchantIds`) again, due now.
   * Returns the new delivery's id; the same `once` key returns the same id
   * without planning another.
   */
  async resend(merchantIds: string[], deliveryId: string, once: string = randomUUID()): Promise<string> {
    if (!ONCE.test(once)) throw new Error('the form key is not valid');
    return this.store.unit(async (tx) => {
      const original = await tx
        .selectFrom('deliveries')
        .select(['id', 'event_id', 'merchant_id', 'dialect', 'url'])
        .where('id', '=', deliveryId)
        .where('merchant_id', 'in', merchantIds.length ? merchantIds : [''])
        .executeTakeFirst();
      if (!original) throw new DeliveryNotFound(`delivery ${deliveryId} not found`);
      const row = dueNow({ ...original, id: `${original.event_id}:${original.dialect}:resend:${once}` }, this.clock.now());
      await tx.insertInto('deliveries').values(row).onConflict((oc) => oc.column('id').doNothing()).execute();
      return row.id;
    });
  }

  /**
   * Records a test event for `merchantId` and plans its UQPAY webhook to
   * `url`, in one unit: a payment_intent.succeeded webhook of an intent that
   * does not exist (id PI_TEST_..., metadata test_event: true, amount 1.00
   * USD), signed with the merchant's webhook secret like any other. Returns
   * the event id.
   */
  async sendTestEvent(merchantId: string, url: string, once: string = randomUUID()): Promise<string> {
    if (!ONCE.test(once)) throw new Error('the form key is not valid');
    const now = this.clock.now();
    const eventId = `${TEST_EVENT_PREFIX}${once}`;
    const intent: PaymentIntent = {
      id: `PI_TEST_${once}`,
      merchantId,
      amount: 100,
      currency: 'USD',
      status: 'SUCCEEDED',
      capturedAmount: 100,
      description: 'Test event sent from the dashboard: no payment was made',
      merchantOrderId: null,
      metadata: { test_event: true },
      returnUrl: null,
      customer: null,
      clientSecret: '',
      latestAttemptId: null,
      nextAction: null,
      origin: 'uqpay',
      notifyUrl: null,
      cancellationReason: null,
      cancelTime: null,
      completeTime: now,
      expiresAt: now,
      createdAt: now,
      updatedAt: now,
      version: 1,
    };
    await this.store.unit(async (tx) => {
      const event = { id: eventId, merchant_id: merchantId, type: 'payment_intent.succeeded', source_id: intent.id, payload: JSON.stringify({ intent }), created_at: now };
      const inserted = await tx.insertInto('events').values(event).onConflict((oc) => oc.column('id').doNothing()).returning('id').executeTakeFirst();
      if (inserted) await tx.insertInto('deliveries').values(dueNow({ id: `${eventId}:uqpay`, event_id: eventId, merchant_id: merchantId, dialect: 'uqpay', url }, now)).execute();
    });
    return eventId;
  }
}

/**
 * Many stored payments, fast: written straight through the store in batches
 * (not through the APIs), varied like a real merchant's (three dialects,
 * statuses, currencies, cards and wallets, refunds, webhooks with their
 * tries), for the console's benchmark and its pagination tests. Seeded
 * pseudo-randomness: the same arguments give the same rows.
 */
import { IdGenerator } from '../../src/core/ids.ts';
import type { IntentStatus, PaymentAttempt, PaymentIntent, Refund, StoredPaymentMethod } from '../../src/core/payments/types.ts';
import { attemptRow, intentRow, refundRow } from '../../src/store/payments-repo.ts';
import type { Store } from '../../src/store/store.ts';

export interface SeedOptions {
  merchantId: string;
  count: number;
  /** created_at of the first payment; each next one `stepMs` later (a fraction makes some share a millisecond). */
  startMs: number;
  stepMs: number;
  /** Plans a delivery with one try for each event when set. */
  webhookUrl?: string;
  seed?: number;
}

const DIALECTS = [
  { origin: 'uqpay', currencies: ['USD', 'SGD', 'HKD', 'JPY'], methods: ['card:visa', 'card:mastercard', 'card:amex', 'wallet:alipaycn', 'wallet:grabpay'] },
  { origin: 'qfpay', currencies: ['HKD'], methods: ['wallet:alipayhk', 'wallet:wechatpay', 'wallet:payme', 'card:visa'] },
  { origin: 'alphapay', currencies: ['CAD', 'USD', 'CNY'], methods: ['wallet:alipaycn', 'wallet:wechatpay', 'wallet:unionpay', 'card:mastercard'] },
] as const;

const STATUSES: Array<[IntentStatus, number]> = [
  ['SUCCEEDED', 70],
  ['FAILED', 10],
  ['REQUIRES_PAYMENT_METHOD', 10],
  ['CANCELLED', 5],
  ['PENDING', 3],
  ['REQUIRES_CAPTURE', 2],
];

const LAST4S = ['4242', '4444', '0005', '8117', '5556', '1111', '0002', '9995', '3220', '1881'];

/** A small seeded generator (mulberry32). */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const pick = <T>(rnd: () => number, list: readonly T[]): T => list[Math.floor(rnd() * list.length)]!;

function weighted(rnd: () => number): IntentStatus {
  let r = rnd() * 100;
  for (const [status, weight] of STATUSES) {
    if ((r -= weight) < 0) return status;
  }
  return 'SUCCEEDED';
}

function method(name: string, last4: string): StoredPaymentMethod {
  const [type, kind] = name.split(':') as [string, string];
  if (type === 'card') {
    return { type: 'card', card: { bin: '424242', last4, network: kind, expiryMonth: 12, expiryYear: 2030, fingerprint: `fp${last4}`, threeDsAction: 'skip_3ds' } };
  }
  return { type: 'wallet', wallet: { kind: kind as never, flow: 'qrcode' } };
}

const ATTEMPT_STATUS: Record<IntentStatus, PaymentAttempt['status']> = {
  SUCCEEDED: 'SUCCEEDED',
  FAILED: 'FAILED',
  REQUIRES_PAYMENT_METHOD: 'FAILED',
  CANCELLED: 'CANCELLED',
  PENDING: 'PENDING_AUTHORIZATION',
  REQUIRES_CAPTURE: 'AUTHORIZED',
  REQUIRES_CUSTOMER_ACTION: 'AUTHENTICATION_REDIRECTED',
};

/** Stores `count` payments of one merchant; returns their intent ids, oldest first. */
export async function seedPayments(store: Store, o: SeedOptions): Promise<{ ids: string[] }> {
  const rnd = random(o.seed ?? 17);
  let now = o.startMs;
  // The seed is also the id generator's node: seeds of different runs make different ids.
  const ids = new IdGenerator(o.seed ?? 17, () => Math.floor(now));
  const written: string[] = [];
  const BATCH = 400;
  for (let done = 0; done < o.count; done += BATCH) {
    const intents: PaymentIntent[] = [];
    const attempts: PaymentAttempt[] = [];
    const refunds: Refund[] = [];
    const events: Array<{ id: string; merchant_id: string; type: string; source_id: string; payload: string; created_at: number }> = [];
    const deliveries: ReturnType<typeof deliveredOnce>[] = [];
    const ledger: Array<{ journal_id: string; merchant_id: string; account: string; currency: string; amount: number; source_id: string; created_at: number }> = [];
    for (let n = done; n < Math.min(o.count, done + BATCH); n++) {
      now = o.startMs + n * o.stepMs;
      const created = Math.floor(now);
      const dialect = DIALECTS[n % 4 === 3 ? 2 : n % 4 === 2 ? 1 : 0]!;
      const currency = pick(rnd, dialect.currencies);
      const status = weighted(rnd);
      const amount = currency === 'JPY' ? 100 + Math.floor(rnd() * 50_000) : 100 + Math.floor(rnd() * 200_000);
      const intentId = ids.next('PI');
      const attemptId = ids.next('PA');
      const paid = status === 'SUCCEEDED';
      const refunded = paid && rnd() < 0.1 ? Math.max(1, Math.floor(amount / 2)) : 0;
      const intent: PaymentIntent = {
        id: intentId, merchantId: o.merchantId, amount, currency, status, capturedAmount: paid ? amount : 0,
        description: `Order ${n}`, merchantOrderId: `order-${o.seed ?? 17}-${n}`, metadata: null, returnUrl: null, customer: null,
        clientSecret: 'seeded', latestAttemptId: attemptId, nextAction: null, origin: dialect.origin, notifyUrl: null,
        cancellationReason: status === 'CANCELLED' ? 'requested_by_customer' : null, cancelTime: status === 'CANCELLED' ? created : null,
        completeTime: paid ? created : null, expiresAt: created + 30 * 60_000, createdAt: created, updatedAt: created, version: 2,
      };
      intents.push(intent);
      attempts.push({
        id: attemptId, intentId, merchantId: o.merchantId, amount, currency, status: ATTEMPT_STATUS[status],
        capturedAmount: paid ? amount : 0, refundedAmount: refunded, autoCapture: true,
        paymentMethod: method(pick(rnd, dialect.methods), pick(rnd, LAST4S)),
        failureCode: status === 'FAILED' ? 'card_declined' : null, authCode: paid ? '123456' : null, rrn: null, arn: null,
        adviceCode: null, authentication: null, threeDSChallengeId: null, walletToken: null, wallet: null,
        cancellationReason: null, completeTime: paid ? created : null, createdAt: created, updatedAt: created,
      });
      const sources: Array<[string, string]> = [['payment_intent.created', intentId], [paid ? 'payment_intent.succeeded' : 'payment_attempt.created', paid ? intentId : attemptId]];
      if (paid) ledger.push(...entries(o.merchantId, currency, amount, attemptId, created));
      if (refunded) {
        const refundId = ids.next('RF');
        refunds.push({
          id: refundId, merchantId: o.merchantId, intentId, attemptId, amount: refunded, currency, status: 'SUCCEEDED',
          reason: 'requested_by_customer', metadata: null, failureCode: null, createdAt: created, updatedAt: created,
        });
        sources.push(['refund.succeeded', refundId]);
        ledger.push(...entries(o.merchantId, currency, -refunded, refundId, created));
      }
      for (const [type, source] of sources) {
        const event = { id: ids.next('EV'), merchant_id: o.merchantId, type, source_id: source, payload: '{}', created_at: created };
        events.push(event);
        if (o.webhookUrl) deliveries.push(deliveredOnce(event, dialect.origin, o.webhookUrl));
      }
      written.push(intentId);
    }
    await store.unit(async (db) => {
      await db.insertInto('payment_intents').values(intents.map(intentRow)).execute();
      await db.insertInto('payment_attempts').values(attempts.map(attemptRow)).execute();
      if (refunds.length) await db.insertInto('refunds').values(refunds.map(refundRow)).execute();
      await db.insertInto('events').values(events).execute();
      if (ledger.length) await db.insertInto('ledger_entries').values(ledger).execute();
      if (deliveries.length) {
        await db.insertInto('deliveries').values(deliveries.map((d) => d.delivery)).execute();
        await db.insertInto('delivery_attempts').values(deliveries.map((d) => d.tried)).execute();
      }
    });
  }
  return { ids: written };
}

/** A webhook sent and acknowledged at the first try. */
function deliveredOnce(e: { id: string; merchant_id: string; created_at: number }, dialect: string, url: string) {
  const id = `${e.id}:${dialect}`;
  return {
    delivery: {
      id, event_id: e.id, merchant_id: e.merchant_id, dialect, url, status: 'succeeded', attempts: 1, next_attempt_at: e.created_at,
      lease_until: null, lease_owner: null, last_status_code: 200, last_error: null, created_at: e.created_at, updated_at: e.created_at,
    },
    tried: { delivery_id: id, attempt: 1, status_code: 200, error: null, duration_ms: 3, attempted_at: e.created_at + 40 },
  };
}

/** A capture's (or, negative, a refund's) journal: the merchant's pending balance against the scheme. */
function entries(merchantId: string, currency: string, amount: number, sourceId: string, at: number) {
  const journal = `${sourceId}-j`;
  return [
    { journal_id: journal, merchant_id: merchantId, account: 'merchant_pending', currency, amount: -amount, source_id: sourceId, created_at: at },
    { journal_id: journal, merchant_id: merchantId, account: 'scheme_receivable', currency, amount, source_id: sourceId, created_at: at },
  ];
}

/**
 * A running load of UQPAY card payments for the fault suites, and the
 * checks a merchant would make afterwards: every payment acknowledged is
 * there with its status, no request made a second payment, the balance is
 * the sum of what was captured, and the events say the same.
 */
import { randomUUID } from 'node:crypto';
import { expect } from 'vitest';
import { intentBody, seedCard, type Reply, type TestPlatform, type UqpayClient } from './platform.ts';

export interface LoadPayment {
  key: string;
  orderId: string;
  cents: number;
  body: string;
  /** The first answer (null when the connection failed: the process is gone). */
  first: Reply | null;
  /** What the connection failure was, when there was one. */
  transportError?: string;
  latencyMs: number;
}

/** A seed-000 card payment in SGD of a random amount, with its own idempotency key. */
export function newPayment(): LoadPayment {
  const cents = 100 + Math.floor(Math.random() * 9900);
  const orderId = randomUUID();
  const amount = `${Math.floor(cents / 100)}.${String(cents % 100).padStart(2, '0')}`;
  const body = JSON.stringify({ ...intentBody({ amount, currency: 'SGD', merchant_order_id: orderId }), payment_method: seedCard() });
  return { key: randomUUID(), orderId, cents, body, first: null, latencyMs: 0 };
}

/** Sends a payment's create request (again, for a retry: same key, same body). */
export async function sendPayment(client: UqpayClient, p: LoadPayment): Promise<Reply | null> {
  try {
    return await client.post('/v2/payment_intents/create', p.body, { 'x-idempotency-key': p.key });
  } catch (e) {
    p.transportError = String((e as Error).cause ?? e);
    return null;
  }
}

/**
 * `workers` clients paying one after another until `stop(sent)` says so; after
 * an answer that says to come back later, a client pauses `backoffMs` (a
 * real one would wait Retry-After; tests keep it short).
 */
export async function payUntil(client: UqpayClient, workers: number, stop: (sent: readonly LoadPayment[]) => boolean, backoffMs = 100): Promise<LoadPayment[]> {
  const payments: LoadPayment[] = [];
  await Promise.all(
    Array.from({ length: workers }, async () => {
      while (!stop(payments)) {
        const p = newPayment();
        payments.push(p);
        const started = performance.now();
        p.first = await sendPayment(client, p);
        p.latencyMs = performance.now() - started;
        if (p.first && p.first.status >= 429) await new Promise((r) => setTimeout(r, backoffMs));
      }
    }),
  );
  return payments;
}

/** A UQPAY answer meaning "not now, try again": 503 api_error with Retry-After. */
export function expectUqpayUnavailable(r: Reply, code: string, label: string): void {
  const what = `${label}: ${r.status} ${r.text.slice(0, 300)}`;
  expect(r.status, what).toBe(503);
  expect(r.body, what).toEqual({ type: 'api_error', code, message: expect.any(String) });
  expect(Number(r.headers.get('retry-after')), what).toBeGreaterThanOrEqual(1);
}

/**
 * Retries every payment that was not acknowledged, with its key and body,
 * until each has a settled answer (200); a retry may be told the first
 * request is still processing until recovery has settled what it left in
 * flight. Returns the final answers by key.
 */
export async function retryUnacknowledged(client: UqpayClient, payments: LoadPayment[], timeoutMs = 20_000): Promise<Map<string, Reply>> {
  const finals = new Map<string, Reply>();
  const deadline = Date.now() + timeoutMs;
  let open = payments.filter((p) => p.first?.status !== 200);
  while (open.length) {
    const still: LoadPayment[] = [];
    const queue = [...open];
    // Eight clients retrying at once.
    await Promise.all(
      Array.from({ length: 8 }, async () => {
        for (let p = queue.shift(); p; p = queue.shift()) {
          const r = await sendPayment(client, p);
          expect(r, `retry of ${p.key}: ${p.transportError}`).not.toBeNull();
          if (r!.status === 200) finals.set(p.key, r!);
          else {
            expect(r!.status === 409 || r!.status === 503, `retry of ${p.key}: ${r!.status} ${r!.text}`).toBe(true);
            still.push(p);
          }
        }
      }),
    );
    open = still;
    if (open.length && Date.now() > deadline) throw new Error(`${open.length} payments still unsettled: ${open[0]!.key}`);
    if (open.length) await new Promise((r) => setTimeout(r, 200));
  }
  return finals;
}

interface ListedIntent {
  payment_intent_id: string;
  merchant_order_id: string;
  intent_status: string;
  amount: string;
  captured_amount: string;
}

/** Every intent of the merchant, through the list API. */
export async function allIntents(client: UqpayClient): Promise<ListedIntent[]> {
  const out: ListedIntent[] = [];
  for (let page = 1; ; page++) {
    const r = await client.get(`/v2/payment_intents?page_size=100&page_number=${page}`);
    expect(r.status, r.text).toBe(200);
    out.push(...r.body.data);
    if (page >= r.body.total_pages) return out;
  }
}

const cents = (s: string) => Math.round(Number(s) * 100);

/**
 * After the load and the retries: one intent per payment asked for, the
 * acknowledged ones as they were acknowledged, retries of them answered with
 * the same intent, the SGD balance the sum captured, one succeeded event per
 * paid intent and none for the others. Returns the intents paid.
 */
export async function expectMoneyConsistent(tp: TestPlatform, client: UqpayClient, payments: LoadPayment[], finals: Map<string, Reply>): Promise<ListedIntent[]> {
  const intents = await allIntents(client);
  const byOrder = new Map<string, ListedIntent[]>();
  for (const i of intents) byOrder.set(i.merchant_order_id, [...(byOrder.get(i.merchant_order_id) ?? []), i]);
  // No request made a second payment, and nothing appeared that nobody asked for.
  const doubled = [...byOrder.entries()].filter(([, list]) => list.length > 1);
  expect(doubled.map(([order, list]) => `${order}: ${list.map((i) => i.payment_intent_id).join(', ')}`)).toEqual([]);
  expect(intents.length).toBe(payments.length);
  for (const p of payments) {
    const [intent] = byOrder.get(p.orderId) ?? [];
    expect(intent, `payment ${p.orderId}`).toBeDefined();
    const answer = p.first?.status === 200 ? p.first : finals.get(p.key);
    expect(answer, `payment ${p.orderId} has no answer`).toBeDefined();
    // What the merchant was told is what is stored.
    expect(answer!.body.payment_intent_id).toBe(intent!.payment_intent_id);
    if (p.first?.status === 200) {
      expect(p.first.body.intent_status).toBe('SUCCEEDED');
      expect(intent!.intent_status).toBe('SUCCEEDED');
    }
    expect(['SUCCEEDED', 'REQUIRES_PAYMENT_METHOD']).toContain(intent!.intent_status);
    expect(cents(intent!.amount)).toBe(p.cents);
  }
  const paid = intents.filter((i) => i.intent_status === 'SUCCEEDED');
  const captured = paid.reduce((s, i) => s + cents(i.captured_amount), 0);
  const balances = await client.get('/v2/payment/balances?page_size=100');
  expect(balances.status, balances.text).toBe(200);
  const sgd = balances.body.data.find((b: { currency: string }) => b.currency === 'SGD');
  expect(cents(sgd?.pending_balance ?? '0')).toBe(captured);
  const events = await tp.platform.store.read
    .selectFrom('events')
    .select(['source_id'])
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('merchant_id', '=', client.credentials.merchant_id)
    .where('type', '=', 'payment_intent.succeeded')
    .groupBy('source_id')
    .execute();
  const succeededEvents = new Map(events.map((e) => [e.source_id, Number(e.n)]));
  expect(succeededEvents.size).toBe(paid.length);
  for (const i of paid) expect(succeededEvents.get(i.payment_intent_id), i.payment_intent_id).toBe(1);
  return paid;
}

/**
 * Money never moves twice: the same operation fired 20 times at once on one
 * intent succeeds exactly once (or, for partial refunds, never past the
 * captured amount), never answers 500, and the ledger agrees. On PostgreSQL
 * the same holds with two server processes sharing one database.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { IssuedCredentials } from '../../src/core/merchants/merchants.ts';
import { StaleWrite } from '../../src/core/payments/repository.ts';
import type { CardNetwork } from '../../src/core/ports.ts';
import { paymentsStore } from '../../src/store/payments-repo.ts';
import { createPgDatabase, describeEachBackend, freePort, intentBody, PG_SKIP_REASON, seedCard, startPlatform, UqpayClient, type Reply, type TestPlatform } from '../support/platform.ts';

const N = 20;
const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/** Fires the requests together; checks none failed with a 5xx or outside UQPAY's envelope. */
async function together(label: string, requests: Array<() => Promise<Reply>>): Promise<{ ok: Reply[]; refused: Reply[] }> {
  const replies = await Promise.all(requests.map((send) => send()));
  for (const r of replies) {
    const what = `${label}: ${r.status} ${r.text.slice(0, 300)}`;
    expect([200, 400], what).toContain(r.status);
    if (r.status !== 200) {
      expect(typeof r.body.type, what).toBe('string');
      expect(typeof r.body.code, what).toBe('string');
      expect(typeof r.body.message, what).toBe('string');
    }
  }
  return { ok: replies.filter((r) => r.status === 200), refused: replies.filter((r) => r.status !== 200) };
}

async function balances(client: UqpayClient): Promise<Record<string, { pending: string; available: string }>> {
  const r = await client.get('/v2/payment/balances?page_size=100');
  expect(r.status, r.text).toBe(200);
  return Object.fromEntries(r.body.data.map((b: any) => [b.currency, { pending: b.pending_balance, available: b.available_balance }]));
}

async function pending(client: UqpayClient, currency: string): Promise<string | undefined> {
  return (await balances(client))[currency]?.pending;
}

/** Minor units of a 2-decimal amount string, for sums. */
const cents = (s: string) => Math.round(Number(s) * 100);

describeEachBackend('UQPAY concurrent operations on one intent', (backend) => {
  let tp: TestPlatform;
  let merchant: UqpayClient;

  beforeAll(async () => {
    tp = await startPlatform(backend);
    merchant = await UqpayClient.create(tp, { name: 'Concurrency Merchant' });
  });
  afterAll(async () => {
    await tp?.close();
  });

  it(`${N} simultaneous confirms: one attempt, paid once`, async () => {
    const id = (await merchant.post('/v2/payment_intents/create', intentBody({ amount: '8.98', currency: 'AUD' }))).body.payment_intent_id;
    const { ok, refused } = await together(
      'confirm',
      Array.from({ length: N }, () => () => merchant.post(`/v2/payment_intents/${id}/confirm`, { payment_method: seedCard() })),
    );
    expect(ok).toHaveLength(1);
    expect(ok[0]!.body.intent_status).toBe('SUCCEEDED');
    for (const r of refused) expect(r.body.type).toBe('payment_error');
    const attempts = await merchant.get(`/v2/payment/payment_attempts?payment_intent_id=${id}`);
    expect(attempts.body.total_items).toBe(1);
    expect(attempts.body.data[0].attempt_status).toBe('CAPTURE_REQUESTED');
    const intent = await merchant.get(`/v2/payment_intents/${id}`);
    expect(intent.body).toMatchObject({ intent_status: 'SUCCEEDED', captured_amount: '8.98' });
    expect(await pending(merchant, 'AUD')).toBe('8.98');
  });

  it(`${N} simultaneous captures of an authorization: captured once`, async () => {
    const id = (await merchant.post('/v2/payment_intents/create', { ...intentBody({ amount: '100', currency: 'CAD' }), payment_method: seedCard({ auto_capture: false }) })).body
      .payment_intent_id;
    const { ok, refused } = await together(
      'capture',
      Array.from({ length: N }, (_, i) => () => merchant.post(`/v2/payment_intents/${id}/capture`, i % 2 ? { amount_to_capture: '100' } : {})),
    );
    expect(ok).toHaveLength(1);
    expect(ok[0]!.body).toMatchObject({ intent_status: 'SUCCEEDED', captured_amount: '100.00' });
    for (const r of refused) expect(r.body.type).toBe('payment_error');
    const intent = await merchant.get(`/v2/payment_intents/${id}`);
    expect(intent.body).toMatchObject({ intent_status: 'SUCCEEDED', captured_amount: '100.00', latest_payment_attempt: { captured_amount: '100.00' } });
    expect(await pending(merchant, 'CAD')).toBe('100');
  });

  it(`${N} simultaneous cancels: one CANCELLED, the others refused, no 500`, async () => {
    const unpaid = (await merchant.post('/v2/payment_intents/create', intentBody())).body.payment_intent_id;
    const authorized = (await merchant.post('/v2/payment_intents/create', { ...intentBody({ currency: 'GBP' }), payment_method: seedCard({ auto_capture: false }) })).body
      .payment_intent_id;
    for (const id of [unpaid, authorized]) {
      const { ok, refused } = await together(
        'cancel',
        Array.from({ length: N }, () => () => merchant.post(`/v2/payment_intents/${id}/cancel`, { cancellation_reason: 'requested_by_customer' })),
      );
      expect(ok).toHaveLength(1);
      expect(ok[0]!.body.intent_status).toBe('CANCELLED');
      expect(refused).toHaveLength(N - 1);
      for (const r of refused) expect(r.body.type).toBe('payment_error');
      expect((await merchant.get(`/v2/payment_intents/${id}`)).body.intent_status).toBe('CANCELLED');
    }
    const voided = await merchant.get(`/v2/payment_intents/${authorized}`);
    expect(voided.body.latest_payment_attempt.attempt_status).toBe('CANCELLED');
    expect(await pending(merchant, 'GBP')).toBeUndefined();
  });

  it(`captures and cancels racing on one authorization: exactly one of them wins`, async () => {
    const id = (await merchant.post('/v2/payment_intents/create', { ...intentBody({ amount: '10', currency: 'CHF' }), payment_method: seedCard({ auto_capture: false }) })).body
      .payment_intent_id;
    const { ok } = await together(
      'capture or cancel',
      Array.from({ length: N }, (_, i) => () =>
        i % 2 ? merchant.post(`/v2/payment_intents/${id}/capture`, {}) : merchant.post(`/v2/payment_intents/${id}/cancel`, { cancellation_reason: 'abandoned' }),
      ),
    );
    expect(ok).toHaveLength(1);
    const final = (await merchant.get(`/v2/payment_intents/${id}`)).body;
    expect(final.intent_status).toBe(ok[0]!.body.intent_status);
    if (final.intent_status === 'SUCCEEDED') expect(await pending(merchant, 'CHF')).toBe('10');
    else {
      expect(final.intent_status).toBe('CANCELLED');
      expect(await pending(merchant, 'CHF')).toBeUndefined();
    }
  });

  it(`${N} simultaneous full refunds: refunded once`, async () => {
    const paid = (await merchant.post('/v2/payment_intents/create', { ...intentBody({ amount: '50', currency: 'NZD' }), payment_method: seedCard() })).body;
    const id = paid.payment_intent_id;
    expect(await pending(merchant, 'NZD')).toBe('50');
    const { ok, refused } = await together(
      'full refund',
      Array.from({ length: N }, () => () => merchant.post('/v2/payment/refunds', { payment_intent_id: id, amount: '50', reason: 'all of it' })),
    );
    expect(ok).toHaveLength(1);
    expect(ok[0]!.body.refund_status).toBe('SUCCEEDED');
    for (const r of refused) expect(r.body.type).toBe('refund_error');
    const refunds = await merchant.get(`/v2/payment/refunds?payment_intent_id=${id}&page_size=100`);
    const succeeded = refunds.body.data.filter((f: any) => f.refund_status === 'SUCCEEDED');
    expect(succeeded).toHaveLength(1);
    expect(succeeded.reduce((s: number, f: any) => s + cents(f.amount), 0)).toBe(cents(paid.captured_amount));
    expect((await merchant.get(`/v2/payment_intents/${id}`)).body.latest_payment_attempt.refunded_amount).toBe('50.00');
    expect(await pending(merchant, 'NZD')).toBe('0');
  });

  it(`${N} simultaneous partial refunds adding up past the capture: never more than captured`, async () => {
    const paid = (await merchant.post('/v2/payment_intents/create', { ...intentBody({ amount: '100', currency: 'USD' }), payment_method: seedCard() })).body;
    const id = paid.payment_intent_id;
    const { ok, refused } = await together(
      'partial refund',
      Array.from({ length: N }, () => () => merchant.post('/v2/payment/refunds', { payment_intent_id: id, amount: '7', reason: 'part' })),
    );
    // 20 x 7 = 140 asked for, 100 captured: 14 fit.
    expect(ok.filter((r) => r.body.refund_status !== 'SUCCEEDED').map((r) => r.text)).toEqual([]);
    expect(ok).toHaveLength(14);
    for (const r of refused) expect(r.body.type).toBe('refund_error');
    const refunds = await merchant.get(`/v2/payment/refunds?payment_intent_id=${id}&page_size=100`);
    const total = refunds.body.data.filter((f: any) => f.refund_status === 'SUCCEEDED').reduce((s: number, f: any) => s + cents(f.amount), 0);
    expect(total).toBeLessThanOrEqual(cents(paid.captured_amount));
    expect(total).toBe(9800);
    expect((await merchant.get(`/v2/payment_intents/${id}`)).body.latest_payment_attempt.refunded_amount).toBe('98.00');
    expect(await pending(merchant, 'USD')).toBe('2');
  });
});

// ---- two server processes on one PostgreSQL database ----------------------

interface Node {
  baseUrl: string;
  proc: ChildProcess;
  output(): string;
  stop(): Promise<void>;
}

async function startNode(env: Record<string, string>): Promise<Node> {
  const port = await freePort();
  const proc = spawn(process.execPath, ['bin/polypay.js', 'start'], {
    cwd: REPO,
    env: { ...process.env, ...env, PORT: String(port), HOST: '127.0.0.1', LOG_LEVEL: 'warn' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  proc.stdout!.on('data', (c) => (output += c));
  proc.stderr!.on('data', (c) => (output += c));
  const node: Node = {
    baseUrl: `http://127.0.0.1:${port}`,
    proc,
    output: () => output,
    async stop() {
      if (proc.exitCode !== null || proc.signalCode !== null) return;
      const exited = once(proc, 'exit');
      proc.kill('SIGTERM');
      const timer = setTimeout(() => proc.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(timer);
    },
  };
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (proc.exitCode !== null) throw new Error(`polypay exited with ${proc.exitCode}:\n${output}`);
    try {
      const r = await fetch(`${node.baseUrl}/healthz`);
      if (r.status === 200) return node;
    } catch {
      /* not listening yet */
    }
    if (Date.now() > deadline) {
      await node.stop();
      throw new Error(`polypay did not start in time:\n${output}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}

describeEachBackend('an authorization answered while a recovery sweep settles the same attempt', (backend) => {
  let tp: TestPlatform;
  let merchant: UqpayClient;
  /** Before the network answers the next authorization, the sweep settles every attempt in flight. */
  let sweepFirst = false;

  beforeAll(async () => {
    const racing = (network: CardNetwork): CardNetwork => ({
      authorize: async (req) => {
        if (sweepFirst) {
          sweepFirst = false;
          expect(await tp.platform.payments.recoverInFlight(0)).toBe(1);
        }
        return network.authorize(req);
      },
      capture: (reference, amount) => network.capture(reference, amount),
      void: (reference) => network.void(reference),
      refund: (reference, refundId, amount) => network.refund(reference, refundId, amount),
      lookup: (reference) => network.lookup(reference),
      inquire: (reference) => network.inquire(reference),
    });
    tp = await startPlatform(backend, { cardNetwork: racing });
    merchant = await UqpayClient.create(tp, { name: 'Racing Merchant' });
  });
  afterAll(async () => {
    await tp?.close();
  });

  it('the sweep decides first: the late approval is refused, nothing is charged, the intent can be paid again', async () => {
    sweepFirst = true;
    const created = await merchant.post('/v2/payment_intents/create', { ...intentBody({ amount: '25.00' }), payment_method: seedCard() });
    // The sweep found the network had not received it and declined the attempt; the network then refuses the
    // authorization that arrives after, and nothing pays the intent.
    expect(created.status, created.text).toBe(400);
    expect(created.body).toMatchObject({ type: 'payment_error', code: 'invalid_status_for_operation' });
    const list = await merchant.get('/v2/payment_intents?page_size=10');
    expect(list.body.total_items).toBe(1);
    const id = list.body.data[0].payment_intent_id;
    const intent = await merchant.get(`/v2/payment_intents/${id}`);
    expect(intent.body.intent_status).toBe('REQUIRES_PAYMENT_METHOD');
    expect(intent.body.latest_payment_attempt).toMatchObject({ attempt_status: 'FAILED', failure_code: 'processing_error' });
    expect(await balances(merchant)).toEqual({});

    const paid = await merchant.post(`/v2/payment_intents/${id}/confirm`, { payment_method: seedCard() });
    expect(paid.status, paid.text).toBe(200);
    expect(paid.body.intent_status).toBe('SUCCEEDED');
    expect(await pending(merchant, 'SGD')).toBe('25');
  });

  it('an intent written since a copy was read is not overwritten by that copy', async () => {
    const created = await merchant.post('/v2/payment_intents/create', intentBody({ description: 'first' }));
    const id = created.body.payment_intent_id;
    const store = paymentsStore(tp.platform.store);
    const copy = (await store.reads.intent(merchant.credentials.merchant_id, id))!;
    const updated = await merchant.post(`/v2/payment_intents/${id}`, { description: 'second' });
    expect(updated.status, updated.text).toBe(200);
    await expect(store.unit((tx) => tx.updateIntent({ ...copy, description: 'from the old copy' }))).rejects.toBeInstanceOf(StaleWrite);
    expect((await merchant.get(`/v2/payment_intents/${id}`)).body.description).toBe('second');
  });
});

describe.skipIf(PG_SKIP_REASON !== null)('UQPAY concurrency across two server processes [postgres]', () => {
  let db: Awaited<ReturnType<typeof createPgDatabase>>;
  let dataDir: string;
  const nodes: Node[] = [];
  /** The same merchant and token, talking to node A and node B. */
  let viaA: UqpayClient;
  let viaB: UqpayClient;
  const via = (i: number) => (i % 2 ? viaB : viaA);

  beforeAll(async () => {
    db = await createPgDatabase();
    dataDir = mkdtempSync(path.join(os.tmpdir(), 'polypay-nodes-'));
    const env = { POLYPAY_DATA_DIR: dataDir, DATABASE_URL: db.url };
    nodes.push(await startNode(env));
    // Node A created the demo merchant; node B finds it in the shared database.
    nodes.push(await startNode(env));
    const creds = JSON.parse(readFileSync(path.join(dataDir, 'demo-merchant.json'), 'utf8')) as IssuedCredentials;
    viaA = new UqpayClient(nodes[0]!.baseUrl, creds);
    await viaA.authenticate();
    viaB = new UqpayClient(nodes[1]!.baseUrl, creds);
    viaB.token = viaA.token; // a token from one node works on the other
  }, 60_000);
  afterAll(async () => {
    await Promise.all(nodes.map((n) => n.stop()));
    await db?.drop();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  it('both nodes serve the same merchant and data', async () => {
    const created = await viaA.post('/v2/payment_intents/create', intentBody());
    expect(created.status, created.text).toBe(200);
    const seen = await viaB.get(`/v2/payment_intents/${created.body.payment_intent_id}`);
    expect(seen.status, seen.text).toBe(200);
    expect(seen.body.payment_intent_id).toBe(created.body.payment_intent_id);
    const paidOnB = await viaB.post(`/v2/payment_intents/${created.body.payment_intent_id}/confirm`, { payment_method: seedCard() });
    expect(paidOnB.status, paidOnB.text).toBe(200);
    expect(paidOnB.body.intent_status).toBe('SUCCEEDED');
  });

  it('a payment made through one node is captured and refunded through the other', async () => {
    // Behind a load balancer, the follow-up calls of a payment land on any node.
    const authorized = (await viaA.post('/v2/payment_intents/create', { ...intentBody({ amount: '20', currency: 'SGD' }), payment_method: seedCard({ auto_capture: false }) })).body;
    expect(authorized.intent_status).toBe('REQUIRES_CAPTURE');
    const captured = await viaB.post(`/v2/payment_intents/${authorized.payment_intent_id}/capture`, {});
    expect(captured.status, captured.text).toBe(200);
    expect(captured.body).toMatchObject({ intent_status: 'SUCCEEDED', captured_amount: '20.00' });
    const refund = await viaB.post('/v2/payment/refunds', { payment_intent_id: authorized.payment_intent_id, amount: '5', reason: 'other node' });
    expect(refund.status, refund.text).toBe(200);
    expect(refund.body.refund_status).toBe('SUCCEEDED');
    const paid = (await viaB.post('/v2/payment_intents/create', { ...intentBody({ amount: '20', currency: 'SGD' }), payment_method: seedCard({ auto_capture: false }) })).body;
    const voided = await viaA.post(`/v2/payment_intents/${paid.payment_intent_id}/cancel`, { cancellation_reason: 'abandoned' });
    expect(voided.status, voided.text).toBe(200);
    expect(voided.body.intent_status).toBe('CANCELLED');
  });

  it(`${N} captures of one authorization spread over both nodes: captured once`, async () => {
    const id = (await viaA.post('/v2/payment_intents/create', { ...intentBody({ amount: '100', currency: 'CAD' }), payment_method: seedCard({ auto_capture: false }) })).body
      .payment_intent_id;
    const { ok, refused } = await together(
      'capture on two nodes',
      Array.from({ length: N }, (_, i) => () => via(i).post(`/v2/payment_intents/${id}/capture`, {})),
    );
    expect(ok).toHaveLength(1);
    for (const r of refused) expect(r.body.type).toBe('payment_error');
    const intent = await viaB.get(`/v2/payment_intents/${id}`);
    expect(intent.body).toMatchObject({ intent_status: 'SUCCEEDED', captured_amount: '100.00' });
    expect(await pending(viaA, 'CAD')).toBe('100');
  });

  it(`${N} refunds of one payment spread over both nodes: never more than captured`, async () => {
    const full = (await viaA.post('/v2/payment_intents/create', { ...intentBody({ amount: '50', currency: 'NZD' }), payment_method: seedCard() })).body;
    const fullRefunds = await together(
      'full refund on two nodes',
      Array.from({ length: N }, (_, i) => () => via(i).post('/v2/payment/refunds', { payment_intent_id: full.payment_intent_id, amount: '50', reason: 'all' })),
    );
    expect(fullRefunds.ok).toHaveLength(1);
    expect(fullRefunds.ok[0]!.body.refund_status, fullRefunds.ok[0]!.text).toBe('SUCCEEDED');
    expect(await pending(viaB, 'NZD')).toBe('0');

    const part = (await viaB.post('/v2/payment_intents/create', { ...intentBody({ amount: '100', currency: 'USD' }), payment_method: seedCard() })).body;
    const partial = await together(
      'partial refund on two nodes',
      Array.from({ length: N }, (_, i) => () => via(i).post('/v2/payment/refunds', { payment_intent_id: part.payment_intent_id, amount: '7', reason: 'part' })),
    );
    expect(partial.ok.filter((r) => r.body.refund_status !== 'SUCCEEDED').map((r) => r.text)).toEqual([]);
    expect(partial.ok).toHaveLength(14);
    const refunds = await viaA.get(`/v2/payment/refunds?payment_intent_id=${part.payment_intent_id}&page_size=100`);
    const total = refunds.body.data.filter((f: any) => f.refund_status === 'SUCCEEDED').reduce((s: number, f: any) => s + cents(f.amount), 0);
    expect(total).toBe(9800);
    expect(await pending(viaA, 'USD')).toBe('2');
  });
});

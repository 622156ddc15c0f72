/**
 * kill -9 of the real server (`polypay start`) under 20 concurrent card
 * payments with a webhook receiver, then a restart on the same data: every
 * acknowledged payment is there with its status, a retry of every request
 * with its idempotency key gets the same payment (never a second one), the
 * balance is the captured sum, and every webhook of what was acknowledged
 * (those the dead process had claimed included) reaches the receiver within
 * 15 s of the restart.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { IssuedCredentials } from '../../src/core/merchants/merchants.ts';
import { clockOffsets } from '../../src/store/platform-counters.ts';
import { openStore } from '../../src/store/store.ts';
import { deliveryPending } from '../../src/store/sweep-conditions.ts';
import { createPgDatabase, describeEachBackend, freePort, intentBody, seedCard, UqpayClient, type Reply } from '../support/platform.ts';

const bin = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../bin/polypay.js');
const run = promisify(execFile);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const WORKERS = 20;
const PAYMENTS_PER_WORKER = 2;

/** Minor units of a two-decimal amount string ("8.98", "25"), without floating point. */
function cents(amount: string): number {
  const [whole, fraction = ''] = amount.split('.');
  return Number(whole) * 100 + Number((fraction + '00').slice(0, 2));
}

/** The merchant's endpoint: answers 200 after a short wait (so sends are under way at the kill), remembers each event's first arrival. */
async function slowReceiver() {
  const firstArrival = new Map<string, number>();
  const intentsSucceeded = new Set<string>();
  let requests = 0;
  const server = http.createServer((req, res) => {
    let raw = '';
    req.setEncoding('utf8');
    req.on('data', (c: string) => (raw += c));
    req.on('end', () => {
      requests++;
      const body = JSON.parse(raw);
      if (!firstArrival.has(body.event_id)) firstArrival.set(body.event_id, Date.now());
      if (body.event_type === 'acquiring.payment_intent.succeeded') intentsSucceeded.add(body.data.payment_intent_id);
      setTimeout(() => res.end('ok'), 20);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/webhooks`,
    firstArrival,
    intentsSucceeded,
    requests: () => requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

interface Sent {
  key: string;
  body: string;
  orderId: string;
  /** The answer, when one came before the kill. */
  reply?: Reply;
}

describeEachBackend('kill -9 of the server under load, then a restart', (backend) => {
  let dataDir: string;
  let databaseUrl: string | undefined;
  let dropDb: (() => Promise<void>) | undefined;
  let port: number;
  let server: ChildProcess | undefined;
  let stderr = '';
  let receiver: Awaited<ReturnType<typeof slowReceiver>>;

  const env = () => {
    const e: NodeJS.ProcessEnv = { ...process.env, LOG_LEVEL: 'error', POLYPAY_DATA_DIR: dataDir };
    delete e.POLYPAY_MODE;
    delete e.DATABASE_URL;
    if (databaseUrl) e.DATABASE_URL = databaseUrl;
    return e;
  };

  async function startServer(): Promise<void> {
    stderr = '';
    const child = spawn(process.execPath, [bin, 'start', '--port', String(port), '--host', '127.0.0.1', '--data-dir', dataDir], {
      env: env(),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    // Errors, for the failure messages: the log (JSON lines on stdout) and anything on stderr.
    child.stderr!.on('data', (c) => (stderr += String(c)));
    child.stdout!.on('data', (c) => {
      for (const line of String(c).split('\n')) if (line.startsWith('{')) stderr += line.slice(0, 500) + '\n';
    });
    server = child;
    for (const deadline = Date.now() + 30_000; ; ) {
      if (child.exitCode !== null) throw new Error(`server exited with ${child.exitCode}: ${stderr}`);
      if (Date.now() > deadline) throw new Error(`server not up in time: ${stderr}`);
      const up = await fetch(`http://127.0.0.1:${port}/healthz`).then((r) => r.ok, () => false);
      if (up) return;
      await sleep(100);
    }
  }

  async function kill9(): Promise<void> {
    const child = server!;
    server = undefined;
    const exited = once(child, 'exit');
    child.kill('SIGKILL');
    const [code, signal] = await exited;
    expect({ code, signal }).toEqual({ code: null, signal: 'SIGKILL' });
  }

  beforeAll(async () => {
    dataDir = mkdtempSync(path.join(os.tmpdir(), 'polypay-kill-'));
    if (backend === 'postgres') {
      const db = await createPgDatabase();
      databaseUrl = db.url;
      dropDb = db.drop;
    }
    port = await freePort();
    receiver = await slowReceiver();
  });

  afterAll(async () => {
    if (server) {
      server.kill('SIGKILL');
      await once(server, 'exit');
    }
    await receiver?.close();
    await dropDb?.();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('keeps every acknowledged payment, makes no second one on retry, and sends every webhook within 15 s of the restart', async () => {
    await startServer();
    const baseUrl = `http://127.0.0.1:${port}`;
    const created = await run(process.execPath, [bin, 'merchant', 'create', '--name', 'Shop', '--webhook-url', receiver.url, '--json'], { env: env() });
    const credentials = JSON.parse(created.stdout) as IssuedCredentials;
    let merchant = new UqpayClient(baseUrl, credentials);
    await merchant.authenticate();

    // 20 clients paying one after another, each request with its own idempotency key.
    const sent: Sent[] = [];
    let acknowledged = 0;
    const refused: string[] = [];
    let down = false;
    const worker = async () => {
      for (let i = 0; i < PAYMENTS_PER_WORKER && !down; i++) {
        const orderId = randomUUID();
        const s: Sent = { key: randomUUID(), orderId, body: JSON.stringify({ ...intentBody({ merchant_order_id: orderId }), payment_method: seedCard() }) };
        sent.push(s);
        try {
          s.reply = await merchant.post('/v2/payment_intents/create', s.body, { 'x-idempotency-key': s.key });
        } catch {
          down = true; // the server is gone; this request's fate is unknown
          continue;
        }
        if (s.reply.status !== 200) refused.push(s.reply.text);
        else acknowledged++;
      }
    };
    let loadDone = false;
    const load = Promise.all(Array.from({ length: WORKERS }, worker)).finally(() => (loadDone = true));
    // Mid-load: once a few payments are acknowledged, with the others under way.
    while (acknowledged < WORKERS / 2 && !loadDone) await sleep(5);
    expect(loadDone, `the load ran out before the kill: ${acknowledged} acknowledged, ${refused.length} refused ${refused[0]} ${stderr}`).toBe(false);
    await kill9();
    await load;
    expect(refused).toEqual([]);
    const acked = sent.filter((s) => s.reply);
    expect(acked.length).toBeGreaterThan(0);
    expect(acked.length).toBeLessThan(sent.length);
    for (const s of acked) expect(s.reply!.body.intent_status).toBe('SUCCEEDED');

    // What the dead process left: webhook deliveries it had claimed and not finished, and payments in flight.
    // The sandbox clock is moved a minute on while it is down, so the restart's crash recovery settles the
    // payments left in flight (it takes up only work in flight that long: younger work may be another node's).
    const store = await openStore({ dataDir, databaseUrl });
    const claimedByTheDead = await store.read
      .selectFrom('deliveries')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where(deliveryPending)
      .where('lease_owner', 'is not', null)
      .where('lease_until', '>', Date.now())
      .executeTakeFirstOrThrow();
    await clockOffsets(store).add(61_000);
    await store.close();

    // The restart counts from when the new process answers: starting the process takes longer than that on a busy machine.
    await startServer();
    const restartedAt = Date.now();
    merchant = new UqpayClient(baseUrl, credentials);
    await merchant.authenticate();

    // Every webhook planned before the kill arrives, at least once, within 15 s of the restart.
    const log = async () => {
      const r = await fetch(`${baseUrl}/sim/v1/merchants/${credentials.merchant_id}/deliveries?limit=1000`);
      return ((await r.json()) as { data: Array<{ event_id: string; status: string; created_at: string }> }).data;
    };
    const beforeKill = (await log()).filter((d) => Date.parse(d.created_at) < restartedAt);
    expect(beforeKill.length).toBeGreaterThanOrEqual(acked.length * 2);
    const allArrived = () =>
      beforeKill.every((d) => receiver.firstArrival.has(d.event_id)) && acked.every((s) => receiver.intentsSucceeded.has(s.reply!.body.payment_intent_id));
    while (!allArrived() && Date.now() - restartedAt < 15_000) await sleep(50);
    const missing = beforeKill.filter((d) => !receiver.firstArrival.has(d.event_id)).length;
    expect(missing, `${missing} of ${beforeKill.length} webhooks missing 15 s after the restart (${Number(claimedByTheDead.n)} had been claimed by the dead process)`).toBe(0);
    expect(allArrived()).toBe(true);
    expect(Math.max(...beforeKill.map((d) => receiver.firstArrival.get(d.event_id)!)) - restartedAt).toBeLessThan(15_000);

    // Every acknowledged payment is there, with its status.
    for (const s of acked) {
      const r = await merchant.get(`/v2/payment_intents/${s.reply!.body.payment_intent_id}`);
      expect(r.status, r.text).toBe(200);
      expect(r.body).toMatchObject({ intent_status: 'SUCCEEDED', merchant_order_id: s.orderId, amount: '8.98' });
    }

    // Retries with the same keys: the same payment for what was acknowledged; for the rest, the payment the
    // dead process had under way, settled by the restart's recovery (409 "processing" only until then).
    const retried = new Map<string, Reply>();
    for (const s of sent) {
      let r = await merchant.post('/v2/payment_intents/create', s.body, { 'x-idempotency-key': s.key });
      for (const deadline = Date.now() + (s.reply ? 0 : 10_000); r.status === 409 && Date.now() < deadline; ) {
        await sleep(100); // still in flight: the restart's recovery settles it
        r = await merchant.post('/v2/payment_intents/create', s.body, { 'x-idempotency-key': s.key });
      }
      expect(r.status, `${r.text} ${stderr}`).toBe(200);
      expect(r.body.merchant_order_id).toBe(s.orderId);
      if (s.reply) {
        expect(r.headers.get('x-idempotent-replayed')).toBe('true');
        expect(r.body).toMatchObject({ payment_intent_id: s.reply.body.payment_intent_id, intent_status: 'SUCCEEDED' });
      }
      retried.set(s.key, r);
      const again = await merchant.post('/v2/payment_intents/create', s.body, { 'x-idempotency-key': s.key });
      expect(again.body.payment_intent_id).toBe(r.body.payment_intent_id);
    }
    const stillProcessing = sent.length - retried.size;
    if (stillProcessing) console.warn(`${backend}: ${stillProcessing} request(s) in flight at the kill still processing after the restart`);

    // One intent per request sent, never two; the balance is what the succeeded ones captured.
    const intents: Array<{ payment_intent_id: string; merchant_order_id: string; intent_status: string; amount: string }> = [];
    for (let page = 1; ; page++) {
      const r = await merchant.get(`/v2/payment_intents?page_size=100&page_number=${page}`);
      expect(r.status, r.text).toBe(200);
      intents.push(...r.body.data);
      if (intents.length >= r.body.total_items || !r.body.data.length) break;
    }
    // Each order at most once; every retried request's payment among them; none that nobody asked for.
    const orders = intents.map((i) => i.merchant_order_id);
    expect(new Set(orders).size).toBe(orders.length);
    expect(intents.length).toBeLessThanOrEqual(sent.length);
    expect(orders.every((o) => sent.some((s) => s.orderId === o))).toBe(true);
    const ids = new Set(intents.map((i) => i.payment_intent_id));
    for (const r of retried.values()) expect(ids.has(r.body.payment_intent_id)).toBe(true);
    const captured = intents.filter((i) => i.intent_status === 'SUCCEEDED').reduce((sum, i) => sum + cents(i.amount), 0);
    expect(captured).toBeGreaterThanOrEqual(acked.length * cents('8.98'));
    const balances = await merchant.get('/v2/payment/balances?page_size=100');
    expect(balances.status, balances.text).toBe(200);
    const sgd = balances.body.data.find((b: { currency: string }) => b.currency === 'SGD');
    expect(cents(sgd.pending_balance) + cents(sgd.available_balance)).toBe(captured);
  }, 90_000);
});

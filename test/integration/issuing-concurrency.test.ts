/**
 * Authorizations racing on one card: many connections at once, and two
 * server processes on one PostgreSQL database. The card's row (and the
 * issuing balance's) is locked by each authorization's unit, so the card
 * never goes past its limit or balance.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { IssuedCredentials } from '../../src/core/merchants/merchants.ts';
import { createPgDatabase, describeEachBackend, freePort, PG_SKIP_REASON, startPlatform, UqpayClient, type Reply, type TestPlatform } from '../support/platform.ts';
import { activeCard, deposit, expectLedgerBalanced, MASTERCARD_SINGLE_PRODUCT, newCardholder, VISA_SHARE_PRODUCT } from '../support/issuing.ts';

const REPO = path.resolve(import.meta.dirname, '../..');
const N = 30;

function tally(replies: Reply[]) {
  for (const r of replies) expect(r.status, r.text).toBe(200);
  return {
    approved: replies.filter((r) => r.body.transaction_status === 'APPROVED').length,
    declined: replies.filter((r) => r.body.transaction_status === 'DECLINED').map((r) => r.body.failure_reason as string),
  };
}

const authorization = (cardId: string, amount: string) => ({ card_id: cardId, transaction_amount: amount, transaction_currency: 'USD', merchant_category_code: '5411' });

describeEachBackend('UQPAY issuing: racing authorizations on one card', (backend) => {
  let tp: TestPlatform;
  let merchant: UqpayClient;

  beforeAll(async () => {
    tp = await startPlatform(backend);
    merchant = await UqpayClient.create(tp);
  });
  afterEach(async () => {
    await expectLedgerBalanced(tp);
  });
  afterAll(async () => {
    await tp?.close();
  });

  it(`${N} authorizations of 7 at once on a card limited to 100: 14 approved, never past the limit`, async () => {
    await deposit(merchant, 'USD', '1000');
    const card = await activeCard(tp, merchant, { card_limit: '100' });
    const { approved, declined } = tally(await Promise.all(Array.from({ length: N }, () => merchant.post('/v1/simulation/issuing/authorization', authorization(card.card_id, '7')))));
    expect(approved).toBe(14);
    expect(new Set(declined)).toEqual(new Set(['EXCEEDS_CARD_LIMIT']));
    expect((await merchant.get(`/v1/issuing/cards/${card.card_id}`)).body).toMatchObject({ available_balance: '2', consumed_amount: '98' });
  });

  it(`${N} authorizations of 3 at once on a SINGLE card holding 50: 16 approved, never past its funds`, async () => {
    await deposit(merchant, 'USD', '50');
    const card = await activeCard(tp, merchant, { card_product_id: MASTERCARD_SINGLE_PRODUCT, card_limit: '50' });
    const { approved, declined } = tally(await Promise.all(Array.from({ length: N }, () => merchant.post('/v1/simulation/issuing/authorization', authorization(card.card_id, '3')))));
    expect(approved).toBe(16);
    expect(new Set(declined)).toEqual(new Set(['INSUFFICIENT_BALANCE']));
    expect((await merchant.get(`/v1/issuing/cards/${card.card_id}`)).body.available_balance).toBe('2');
  });

  it('SHARE cards racing on one issuing balance never overdraw it', async () => {
    const poor = await UqpayClient.create(tp, { name: 'Shared balance' });
    await deposit(poor, 'USD', '40');
    const holder = await newCardholder(poor);
    const cards = [await activeCard(tp, poor, { cardholder_id: holder }), await activeCard(tp, poor, { cardholder_id: holder, card_product_id: VISA_SHARE_PRODUCT })];
    const replies = await Promise.all(
      Array.from({ length: N }, (_, i) => poor.post('/v1/simulation/issuing/authorization', authorization(cards[i % 2]!.card_id, '5'))),
    );
    const { approved, declined } = tally(replies);
    expect(approved).toBe(8);
    expect(new Set(declined)).toEqual(new Set(['INSUFFICIENT_BALANCE']));
    expect((await poor.post('/v1/issuing/balances', { currency: 'USD' })).body.available_balance).toBe('0');
  });
});

// ---- two server processes on one PostgreSQL database ----------------------

interface Node {
  baseUrl: string;
  stop(): Promise<void>;
}

async function startNode(env: Record<string, string>): Promise<Node> {
  const port = await freePort();
  const proc: ChildProcess = spawn(process.execPath, ['bin/polypay.js', 'start'], {
    cwd: REPO,
    env: { ...process.env, ...env, PORT: String(port), HOST: '127.0.0.1', LOG_LEVEL: 'warn' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  proc.stdout!.on('data', (c) => (output += c));
  proc.stderr!.on('data', (c) => (output += c));
  const node: Node = {
    baseUrl: `http://127.0.0.1:${port}`,
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
      if ((await fetch(`${node.baseUrl}/healthz`)).status === 200) return node;
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

describe.skipIf(PG_SKIP_REASON !== null)('UQPAY issuing: authorizations on one card through two server processes [postgres]', () => {
  let db: Awaited<ReturnType<typeof createPgDatabase>>;
  let dataDir: string;
  const nodes: Node[] = [];
  let viaA: UqpayClient;
  let viaB: UqpayClient;

  beforeAll(async () => {
    db = await createPgDatabase();
    dataDir = mkdtempSync(path.join(os.tmpdir(), 'polypay-issuing-nodes-'));
    const env = { POLYPAY_DATA_DIR: dataDir, DATABASE_URL: db.url };
    nodes.push(await startNode(env));
    nodes.push(await startNode(env));
    const creds = JSON.parse(readFileSync(path.join(dataDir, 'demo-merchant.json'), 'utf8')) as IssuedCredentials;
    viaA = new UqpayClient(nodes[0]!.baseUrl, creds);
    await viaA.authenticate();
    viaB = new UqpayClient(nodes[1]!.baseUrl, creds);
    viaB.token = viaA.token;
  }, 60_000);
  afterAll(async () => {
    await Promise.all(nodes.map((n) => n.stop()));
    await db?.drop();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  it(`${N} authorizations spread over both nodes: never past the card's limit or the issuing balance`, async () => {
    const deposited = await viaA.post('/v1/simulation/issuing/deposit', { currency: 'USD', amount: '60' });
    expect(deposited.status, deposited.text).toBe(200);
    const holder = await newCardholder(viaB);
    const created = await viaA.post('/v1/issuing/cards', { cardholder_id: holder, card_product_id: VISA_SHARE_PRODUCT, card_currency: 'USD', card_limit: '100' });
    expect(created.status, created.text).toBe(200);
    const advanced = await fetch(`${nodes[0]!.baseUrl}/sim/v1/clock/advance`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ seconds: 5 }) });
    expect(advanced.status).toBe(200);
    // Node B takes up the clock within its sync interval; either node's sweep activates the card.
    const deadline = Date.now() + 10_000;
    while ((await viaB.get(`/v1/issuing/cards/${created.body.card_id}`)).body.card_status !== 'ACTIVE') {
      if (Date.now() > deadline) throw new Error('card never turned ACTIVE');
      await new Promise((r) => setTimeout(r, 100));
    }
    const replies = await Promise.all(
      Array.from({ length: N }, (_, i) => (i % 2 ? viaB : viaA).post('/v1/simulation/issuing/authorization', authorization(created.body.card_id, '7'))),
    );
    const { approved, declined } = tally(replies);
    // The issuing balance (60) binds before the card's limit (100): 8 x 7 = 56.
    expect(approved).toBe(8);
    expect(new Set(declined)).toEqual(new Set(['INSUFFICIENT_BALANCE']));
    expect((await viaB.get(`/v1/issuing/cards/${created.body.card_id}`)).body).toMatchObject({ consumed_amount: '56', available_balance: '44' });
    expect((await viaA.post('/v1/issuing/balances', { currency: 'USD' })).body.available_balance).toBe('4');
    const list = await viaB.get(`/v1/issuing/transactions?card_id=${created.body.card_id}&page_size=100`);
    expect(list.body.total_items).toBe(N);
  });
});

/**
 * Defects found by fuzzing and attacking the landed platform (issue 13):
 * numbers that are not finite passed validation, NUL characters reached
 * PostgreSQL (which cannot store them) and lone surrogates were stored as
 * each driver saw fit. Every such request is refused with the dialect's own
 * 400 (UQPAY invalid_parameter naming the field, QFPay respcd 1104), alike on
 * both databases, and changes nothing.
 */
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CHALLENGE_PATH } from '../../src/web/three-ds-challenge.ts';
import { WALLET_PAY_PATH } from '../../src/web/wallet-pay.ts';
import { QfpayClient, qfSign, txdtm } from '../clients/qfpay-client.mts';
import { describeEachBackend, intentBody, startPlatform, UqpayClient, type Reply, type TestPlatform } from '../support/platform.ts';

const LISTS = ['/v2/payment_intents', '/v2/payment/payment_attempts', '/v2/payment/refunds', '/v2/payment/balances'];
const NOT_FINITE = ['Infinity', '-Infinity', '1e400', '9'.repeat(309)];

function expectInvalidParameter(r: Reply, field: string, label: string): void {
  const what = `${label} -> ${r.status} ${r.text.slice(0, 300)}`;
  expect(r.status, what).toBe(400);
  expect(r.body.type, what).toBe('invalid_request_error');
  expect(r.body.code, what).toBe('invalid_parameter');
  expect(r.body.message, what).toContain(field);
}

describeEachBackend('defects: input no database can take the same way', (backend) => {
  let tp: TestPlatform;
  let merchant: UqpayClient;
  let qf: QfpayClient;
  let intentId: string;

  /** What a refused request must leave unchanged: every list and the event count. */
  async function snapshot(): Promise<string> {
    const lists = await Promise.all(LISTS.map((l) => merchant.get(`${l}?page_size=100`)));
    const events = await tp.platform.store.read.selectFrom('events').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
    return JSON.stringify({ lists: lists.map((l) => l.body), events: Number(events.n) });
  }

  beforeAll(async () => {
    tp = await startPlatform(backend);
    merchant = await UqpayClient.create(tp, { name: 'Defects Merchant' });
    const creds = await tp.platform.merchants.create({ name: 'Defects QF Merchant' });
    qf = new QfpayClient(tp.baseUrl, creds.qfpay);
    const created = await merchant.post('/v2/payment_intents/create', intentBody({ merchant_order_id: 'ORDER-1' }));
    expect(created.status).toBe(200);
    intentId = created.body.payment_intent_id;
  });
  afterAll(async () => tp?.close());

  it('refuses page_size and page_number that are not finite on every list, balances included', async () => {
    const before = await snapshot();
    for (const list of LISTS) {
      for (const n of NOT_FINITE) {
        for (const field of ['page_size', 'page_number']) {
          expectInvalidParameter(await merchant.get(`${list}?${field}=${n}`), field, `${list}?${field}=${n.slice(0, 12)}`);
        }
      }
    }
    expect(await snapshot()).toBe(before);
    // Finite values in range still page as before.
    expect((await merchant.get('/v2/payment_intents?page_size=1&page_number=1')).body.data).toHaveLength(1);
  });

  it('refuses JSON numbers that overflow to Infinity in bodies', async () => {
    const before = await snapshot();
    const body = (raw: string) => JSON.stringify({ ...intentBody(), metadata: { n: 0 } }).replace('"n":0', `"n":${raw}`);
    for (const raw of ['1e400', '-1e400', '9'.repeat(309)]) {
      expectInvalidParameter(await merchant.post('/v2/payment_intents/create', body(raw)), 'metadata.n', `metadata ${raw.slice(0, 12)}`);
    }
    const amount = await merchant.post('/v2/payment_intents/create', JSON.stringify(intentBody()).replace(/"amount":"[^"]*"/, '"amount":1e400'));
    expect(amount.status, amount.text).toBe(400);
    expect(amount.body.message).toContain('amount');
    expect(await snapshot()).toBe(before);
  });

  it('refuses NUL characters in ids, filters and bodies with 400, and an id holding one is as unknown as any', async () => {
    const before = await snapshot();
    expectInvalidParameter(await merchant.get('/v2/payment_intents/%00'), 'id', 'intent id %00');
    expectInvalidParameter(await merchant.get(`/v2/payment_intents/${intentId}%00`), 'id', 'real intent id + %00');
    expectInvalidParameter(await merchant.get('/v2/payment/payment_attempts/a%00b'), 'id', 'attempt id');
    expectInvalidParameter(await merchant.get('/v2/payment/refunds/%00'), 'id', 'refund id');
    expectInvalidParameter(await merchant.get('/v2/payment_intents?merchant_order_id=%00'), 'merchant_order_id', 'filter');
    expectInvalidParameter(await merchant.get('/v2/payment/refunds?payment_intent_id=x%00'), 'payment_intent_id', 'refunds filter');
    expectInvalidParameter(await merchant.post('/v2/payment_intents/create', { ...intentBody(), merchant_order_id: 'a\u0000b' }), 'merchant_order_id', 'body');
    expectInvalidParameter(await merchant.post('/v2/payment_intents/create', { ...intentBody(), metadata: { 'k\u0000': 'v' } }), 'metadata', 'metadata key');
    expectInvalidParameter(await merchant.post(`/v2/payment_intents/${intentId}`, { description: 'x\u0000' }), 'description', 'update');
    expect(await snapshot()).toBe(before);
    // The hosted pages look ids up too.
    for (const page of [`${CHALLENGE_PATH}/%00`, `${WALLET_PAY_PATH}/a%00b`]) {
      const r = await fetch(`${tp.baseUrl}${page}`);
      expect(r.status, `${page}: ${await r.text()}`).toBe(400);
    }
  });

  it('refuses lone surrogates in JSON text with 400', async () => {
    const before = await snapshot();
    const lone = (field: string, escaped: string) => JSON.stringify(intentBody()).replace(/}$/, `,"${field}":"a${escaped}b"}`);
    expectInvalidParameter(await merchant.post('/v2/payment_intents/create', lone('merchant_order_id', '\\ud800')), 'merchant_order_id', 'high surrogate');
    expectInvalidParameter(await merchant.post('/v2/payment_intents/create', lone('description', '\\udc00')), 'description', 'low surrogate');
    expect(await snapshot()).toBe(before);
    // A real pair (an emoji) is text like any other.
    const emoji = await merchant.post('/v2/payment_intents/create', { ...intentBody(), description: 'cake \ud83c\udf70' });
    expect(emoji.status, emoji.text).toBe(200);
    expect(emoji.body.description).toBe('cake \ud83c\udf70');
  });

  /** A signed QFPay query whose body is the JSON text given (form encoding cannot carry a lone surrogate). */
  async function jsonQuery(json: string, signed: Record<string, string>) {
    const r = await fetch(`${tp.baseUrl}/trade/v1/query`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', 'X-QF-APPCODE': qf.credentials.app_code, 'X-QF-SIGN': qfSign(signed, qf.credentials.client_key) },
      body: json,
    });
    const text = await r.text();
    return { status: r.status, body: JSON.parse(text), text };
  }

  it('QFPay: NUL characters and numbers that are not finite are respcd 1104, signed or not, in the query string or the body', async () => {
    const cases: Array<[string, () => Promise<{ status: number; body: any; text: string }>]> = [
      ['query out_trade_no a%00b (GET-style query string on POST)', () => qf.query({ out_trade_no: 'a\u0000b' })],
      ['query syssn', () => qf.query({ syssn: '\u0000' })],
      ['mchid', () => qf.query({ mchid: 'M1\u0000' })],
      ['payment out_trade_no', () => qf.pay({ pay_type: '800101', out_trade_no: 'x\u0000y' })],
      ['close via GET', () => qf.get('/trade/v1/close', { out_trade_no: 'a\u0000b', txamt: '300', txdtm: txdtm() })],
      ['lone surrogate in a JSON body', () => jsonQuery('{"out_trade_no":"a\\ud800"}', { out_trade_no: 'a\ud800' })],
    ];
    for (const n of NOT_FINITE) cases.push([`page ${n.slice(0, 12)}`, () => qf.query({ page: n })], [`page_size ${n.slice(0, 12)}`, () => qf.query({ page_size: n })], [`txamt ${n.slice(0, 12)}`, () => qf.pay({ pay_type: '800101', txamt: n })], [`expired_time ${n.slice(0, 12)}`, () => qf.pay({ pay_type: '800101', expired_time: n })], [`refund txamt ${n.slice(0, 12)}`, () => qf.refund({ syssn: '20260101000000000001', txamt: n })]);
    for (const [label, send] of cases) {
      const r = await send();
      expect(r.status, `${label}: ${r.text}`).toBe(200);
      expect(r.body.respcd, `${label}: ${r.text}`).toBe('1104');
    }
    const orders = await qf.query({});
    expect(orders.body.respcd).toBe('0000');
    expect(orders.body.data).toEqual([]);
  });
});

describeEachBackend('defects: a disabled merchant', (backend) => {
  let tp: TestPlatform;
  let master: UqpayClient;
  let sub: UqpayClient;
  let bystander: UqpayClient;
  let masterQf: QfpayClient;
  let subQf: QfpayClient;

  beforeAll(async () => {
    tp = await startPlatform(backend);
    master = await UqpayClient.create(tp, { name: 'Closing Merchant' });
    const subCreds = await tp.platform.merchants.createSubMerchant(master.credentials.merchant_id, { name: 'Closing Branch' });
    sub = new UqpayClient(tp.baseUrl, subCreds);
    await sub.authenticate();
    bystander = await UqpayClient.create(tp, { name: 'Bystander' });
    masterQf = new QfpayClient(tp.baseUrl, master.credentials.qfpay);
    subQf = new QfpayClient(tp.baseUrl, subCreds.qfpay);
  });
  afterAll(async () => tp?.close());

  it('loses its tokens at once, gets no new ones, and its sub-merchants and QFPay app code go with it', async () => {
    const onBehalf = { 'x-on-behalf-of': sub.credentials.merchant_id };
    // All working, each token verified once (so a cache of verified tokens would hide the change).
    for (const r of [await master.get('/v2/payment_intents'), await master.get('/v2/payment_intents', onBehalf), await sub.get('/v2/payment_intents'), await bystander.get('/v2/payment_intents')]) {
      expect(r.status, r.text).toBe(200);
    }
    expect((await masterQf.query({})).body.respcd).toBe('0000');
    expect((await masterQf.query({ mchid: sub.credentials.merchant_id })).body.respcd).toBe('0000');

    const disabled = await tp.platform.merchants.disable(master.credentials.merchant_id);
    expect(disabled.sort()).toEqual([master.credentials.merchant_id, sub.credentials.merchant_id].sort());

    for (const [label, r] of [
      ['master token', await master.get('/v2/payment_intents')],
      ['master token acting for the sub', await master.get('/v2/payment_intents', onBehalf)],
      ['sub token', await sub.get('/v2/payment_intents')],
      ['create', await master.post('/v2/payment_intents/create', intentBody())],
    ] as const) {
      expect(r.status, `${label}: ${r.text}`).toBe(401);
      expect(r.body, label).toMatchObject({ type: 'unauthorized_error', code: 'merchant_disabled' });
    }
    for (const client of [master, sub]) {
      await expect(client.authenticate(), client.credentials.merchant_id).rejects.toThrow(/400 .*merchant_disabled/);
    }
    for (const [label, r] of [
      ['app code', await masterQf.query({})],
      ['app code acting for the sub', await masterQf.query({ mchid: sub.credentials.merchant_id })],
      ["sub's own app code", await subQf.query({})],
      ['payment', await masterQf.pay({ pay_type: '800101' })],
    ] as const) {
      expect(r.body.respcd, `${label}: ${r.text}`).toBe('1108');
      expect(r.body.resperr, label).toContain('disabled');
    }
    // Nothing was made meanwhile, and other merchants are untouched.
    const events = await tp.platform.store.read.selectFrom('events').select((eb) => eb.fn.countAll<number>().as('n')).where('merchant_id', '=', master.credentials.merchant_id).executeTakeFirstOrThrow();
    expect(Number(events.n)).toBe(0);
    expect((await bystander.get('/v2/payment_intents')).status).toBe(200);
    expect((await bystander.post('/v2/payment_intents/create', intentBody())).status).toBe(200);
    // Disabling again changes nothing; a disabled merchant gets no new sub-merchants.
    expect(await tp.platform.merchants.disable(master.credentials.merchant_id)).toEqual([]);
    await expect(tp.platform.merchants.createSubMerchant(master.credentials.merchant_id, { name: 'Late Branch' })).rejects.toThrow(/disabled/);
    await expect(tp.platform.merchants.disable('M404')).rejects.toThrow(/not found/);
  });

  it.skipIf(backend !== 'postgres')('is refused within two seconds by another node sharing the database', async () => {
    // Nodes of one deployment share the database and the keys (here: the same data dir's keys.json).
    const node2 = await startPlatform(backend, { databaseUrl: tp.databaseUrl!, dataDir: tp.dataDir });
    try {
      const shop = await UqpayClient.create(tp, { name: 'Two Node Merchant' });
      const onNode2 = new UqpayClient(node2.baseUrl, shop.credentials);
      onNode2.token = shop.token;
      expect((await onNode2.get('/v2/payment_intents')).status).toBe(200); // node 2 has seen it active
      await tp.platform.merchants.disable(shop.credentials.merchant_id);
      const started = Date.now();
      let r = await onNode2.get('/v2/payment_intents');
      while (r.status === 200 && Date.now() - started < 5000) {
        await new Promise((f) => setTimeout(f, 100));
        r = await onNode2.get('/v2/payment_intents');
      }
      expect(r.status, r.text).toBe(401);
      expect(Date.now() - started).toBeLessThan(2000);
    } finally {
      await node2.platform.close(); // the database is the first node's, dropped with it
    }
  });
});

describeEachBackend('defects: merchant secrets at rest', (backend) => {
  let tp: TestPlatform;
  afterAll(async () => tp?.close());

  it('keeps no QFPay client key, webhook secret or AlphaPay private key in clear in the database, and they still work', async () => {
    tp = await startPlatform(backend);
    const creds = await tp.platform.merchants.create({ name: 'Sealed Merchant' });
    const merchant = (await tp.platform.merchants.byId(creds.merchant_id))!;
    const secrets = [creds.qfpay.client_key, creds.uqpay.webhook_secret, merchant.alphapay.platformPrivateKey];
    expect(merchant.qfpay.clientKey).toBe(creds.qfpay.client_key);
    expect(merchant.uqpay.webhookSecret).toBe(creds.uqpay.webhook_secret);

    const rows = await tp.platform.store.read.selectFrom('merchants').selectAll().execute();
    const stored = JSON.stringify(rows);
    for (const secret of secrets) expect(stored).not.toContain(secret);
    // What lookups need is still there as is.
    expect(stored).toContain(creds.qfpay.app_code);
    expect(stored).toContain(creds.uqpay.client_id);
    if (backend === 'sqlite') {
      const { readFileSync, existsSync } = await import('node:fs');
      const file = path.join(tp.dataDir, 'polypay.sqlite');
      const raw = Buffer.concat([file, `${file}-wal`].filter(existsSync).map((f) => readFileSync(f))).toString('latin1');
      expect(raw).toContain(creds.qfpay.app_code); // the bytes were read where the rows are
      for (const secret of secrets) expect(raw).not.toContain(secret);
    }
    // The sealed key still signs: a QFPay request with it is accepted.
    expect((await new QfpayClient(tp.baseUrl, creds.qfpay).query({})).body.respcd).toBe('0000');
  });
});

describe('defects: data dir and database files are the owner\'s alone', () => {
  it('creates the data dir 0700 and the database, its -wal and -shm, and keys.json 0600 whatever the umask; narrows those an older release left open', async () => {
    const { chmodSync, existsSync, mkdtempSync, rmSync, statSync } = await import('node:fs');
    const root = mkdtempSync(path.join(os.tmpdir(), 'polypay-modes-'));
    const dataDir = path.join(root, 'data');
    const file = path.join(dataDir, 'polypay.sqlite');
    const files = [file, `${file}-wal`, `${file}-shm`, path.join(dataDir, 'keys.json')];
    const mode = (f: string) => (statSync(f).mode & 0o777).toString(8);
    const previous = process.umask(0o022);
    try {
      let tp = await startPlatform('sqlite', { dataDir });
      await tp.platform.merchants.create({ name: 'Modes Merchant' });
      expect(mode(dataDir)).toBe('700');
      for (const f of files) {
        expect(existsSync(f), f).toBe(true);
        expect(mode(f), f).toBe('600');
      }
      await tp.close();
      // As an older release left them: readable by all.
      chmodSync(dataDir, 0o755);
      for (const f of files) if (existsSync(f)) chmodSync(f, 0o644);
      tp = await startPlatform('sqlite', { dataDir });
      await tp.platform.merchants.create({ name: 'Modes Merchant 2' });
      expect(mode(dataDir)).toBe('700');
      for (const f of files) if (existsSync(f)) expect(mode(f), f).toBe('600');
      await tp.close();
    } finally {
      process.umask(previous);
      rmSync(root, { recursive: true, force: true });
    }
  });
});

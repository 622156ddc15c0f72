/**
 * Defects found by fuzzing and attacking the landed platform (issue 13):
 * numbers that are not finite passed validation, NUL characters reached
 * PostgreSQL (which cannot store them) and lone surrogates were stored as
 * each driver saw fit. Every such request is refused with the dialect's own
 * 400 (UQPAY invalid_parameter naming the field, QFPay respcd 1104), alike on
 * both databases, and changes nothing.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
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
    for (const n of NOT_FINITE) cases.push([`page ${n.slice(0, 12)}`, () => qf.query({ page: n })], [`page_size ${n.slice(0, 12)}`, () => qf.query({ page_size: n })], [`txamt ${n.slice(0, 12)}`, () => qf.pay({ pay_type: '800101', txamt: n })]);
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

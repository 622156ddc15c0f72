/**
 * Every answer under an API's prefix is in that API's format, whatever went
 * wrong and wherever: a route that does not exist, a URL fastify cannot
 * decode, a body too large, under UQPAY (/api), QFPay (/trade, /download),
 * the sandbox API (/sim) and the shoppers' hosted pages (an HTML page, never
 * JSON). No fastify default body ({"statusCode", "error", "message"},
 * FST_ERR_* codes, "Route ... not found") reaches a client.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { CANCELLATION_REASONS } from '../../src/core/payments/types.ts';
import { CHALLENGE_PATH } from '../../src/web/three-ds-challenge.ts';
import { WALLET_PAY_PATH } from '../../src/web/wallet-pay.ts';
import { QfpayClient } from '../clients/qfpay-client.mts';
import { describeEachBackend, intentBody, readReply, seedCard, startPlatform, UqpayClient, type Reply, type TestPlatform } from '../support/platform.ts';

/** Nothing of fastify's own error bodies. */
function expectNoFastifyBody(r: Reply, label: string): void {
  expect(r.text, label).not.toMatch(/FST_|"statusCode"|Route (GET|POST|PUT|DELETE):/);
}

function expectUqpay(r: Reply, status: number, type: string, label: string): void {
  const what = `${label} -> ${r.status} ${r.text.slice(0, 300)}`;
  expect(r.status, what).toBe(status);
  expect(r.headers.get('content-type') ?? '', what).toMatch(/^application\/json/);
  expect(Object.keys(r.body).sort(), what).toEqual(['code', 'message', 'type']);
  expect(r.body.type, what).toBe(type);
  expectNoFastifyBody(r, what);
}

function expectQfpay(r: Reply, status: number, respcd: string, label: string): void {
  const what = `${label} -> ${r.status} ${r.text.slice(0, 300)}`;
  expect(r.status, what).toBe(status);
  expect(r.headers.get('content-type') ?? '', what).toMatch(/^application\/json/);
  expect(Object.keys(r.body).sort(), what).toEqual(['respcd', 'resperr', 'respmsg']);
  expect(r.body.respcd, what).toBe(respcd);
  expect(r.body.resperr.length, what).toBeGreaterThan(0);
  expectNoFastifyBody(r, what);
}

function expectSandbox(r: Reply, status: number, code: string, label: string): void {
  const what = `${label} -> ${r.status} ${r.text.slice(0, 300)}`;
  expect(r.status, what).toBe(status);
  expect(r.body, what).toEqual({ error: { code, message: expect.any(String) } });
  expectNoFastifyBody(r, what);
}

function expectPage(r: Reply, status: number, label: string): void {
  const what = `${label} -> ${r.status} ${r.text.slice(0, 200)}`;
  expect(r.status, what).toBe(status);
  expect(r.headers.get('content-type') ?? '', what).toMatch(/^text\/html/);
  expect(r.text, what).toMatch(/^<!doctype html>/);
  expect(r.text, what).toContain('polypay sandbox');
  expectNoFastifyBody(r, what);
}

describeEachBackend('Errors in every corner', (backend) => {
  let tp: TestPlatform;
  let merchant: UqpayClient;
  let qf: QfpayClient;

  const send = async (method: string, pathname: string, body?: string, headers: Record<string, string> = {}) =>
    readReply(await fetch(`${tp.baseUrl}${pathname}`, { method, headers, ...(body === undefined ? {} : { body }) }));
  const form = { 'content-type': 'application/x-www-form-urlencoded' };
  /** A form body of about 2 MB, twice the platform's body limit. */
  const hugeForm = `result=${'x'.repeat(2 * 1024 * 1024)}`;

  beforeAll(async () => {
    tp = await startPlatform(backend);
    merchant = await UqpayClient.create(tp, { name: 'Corner Cases' });
    const creds = await tp.platform.merchants.create({ name: 'Corner Cases QF', webhookUrl: null });
    qf = new QfpayClient(tp.baseUrl, creds.qfpay);
  });
  afterAll(async () => {
    await tp?.close();
  });

  it('answers a path no QFPay endpoint has with 404 in QFPay format, signed or not', async () => {
    expectQfpay(await send('POST', '/trade/v2/payment', 'txamt=100&pay_type=800101', form), 404, '1104', 'POST /trade/v2/payment');
    // Unsigned: the path decides before the signature is looked at (it answered 200 with 1108).
    const unsigned = await send('POST', '/trade/v1/no_such_endpoint', 'txamt=100', form);
    expectQfpay(unsigned, 404, '1104', 'unsigned POST /trade/v1/no_such_endpoint');
    expect(unsigned.body.resperr).toContain('/trade/v1/no_such_endpoint');
    expectQfpay(await qf.post('/trade/v1/no_such_endpoint', { txamt: '100' }), 404, '1104', 'signed POST /trade/v1/no_such_endpoint');
    expectQfpay(await send('POST', '/trade/v1/no_such_endpoint', '{"broken', { 'content-type': 'application/json' }), 404, '1104', 'unknown path, unreadable body');
    expectQfpay(await send('GET', '/download/v1/nothing_here'), 404, '1104', 'GET /download/v1/nothing_here');
    expectQfpay(await send('GET', '/trade'), 404, '1104', 'GET /trade');
  });

  it('answers a URL that cannot be decoded in the format of its prefix', async () => {
    expectUqpay(await send('GET', '/api/v2/payment_intents/%00%FF'), 400, 'invalid_request_error', 'GET /api/v2/payment_intents/%00%FF');
    expectUqpay(
      await send('GET', '/api/v2/payment_intents/%E0%A4%A', undefined, { 'x-auth-token': `Bearer ${merchant.token}` }),
      400,
      'invalid_request_error',
      'GET /api/v2/payment_intents/%E0%A4%A',
    );
    expectQfpay(await send('POST', '/trade/v1/query/%FF', 'a=1', form), 200, '1103', 'POST /trade/v1/query/%FF');
    expectPage(await send('GET', `${CHALLENGE_PATH}/%FF%FE`), 400, 'GET 3DS page %FF%FE');
    expectSandbox(await send('GET', '/sim/v1/%FF'), 400, 'invalid_request', 'GET /sim/v1/%FF');
  });

  it('shows a shopper an HTML page, never JSON, for a form too large or a page that does not exist', async () => {
    expectPage(await send('POST', `${CHALLENGE_PATH}/CH_nonexistent`, hugeForm, form), 413, '2 MB POST to the 3DS page');
    expectPage(await send('POST', `${WALLET_PAY_PATH}/nonexistent`, hugeForm, form), 413, '2 MB POST to the wallet page');
    expectPage(await send('GET', `${CHALLENGE_PATH}/x/y/z`), 404, 'GET a 3DS path with no page');
    expectPage(await send('GET', `${WALLET_PAY_PATH}`), 404, 'GET the wallet page without a token');
  });

  it('answers bodies too large and unknown routes under each API in its format', async () => {
    const big = JSON.stringify({ ...intentBody(), description: 'x'.repeat(200_000) });
    const tooLarge = await merchant.post('/v2/payment_intents/create', big);
    expectUqpay(tooLarge, 413, 'invalid_request_error', 'UQPAY create with a 200 KB body');
    expect(tooLarge.body.code).toBe('request_too_large');
    expectQfpay(await qf.post('/trade/v1/payment', { goods_name: 'x'.repeat(200_000) }), 200, '1103', 'QFPay payment with a 200 KB body');
    expectUqpay(await merchant.get('/v9/nothing'), 404, 'not_found', 'GET /api/v9/nothing');
    expectUqpay(await send('DELETE', '/api/v2/payment_intents/PI1'), 404, 'not_found', 'DELETE /api/v2/payment_intents/PI1');
    expectSandbox(await send('GET', '/sim/v1/no_such_thing'), 404, 'route_not_found', 'GET /sim/v1/no_such_thing');
    expectSandbox(await send('GET', '/no/such/page'), 404, 'route_not_found', 'GET /no/such/page');
  });

  it('names the allowed values of a cancellation_reason it refuses', async () => {
    const created = await merchant.post('/v2/payment_intents/create', intentBody());
    expect(created.status, created.text).toBe(200);
    const r = await merchant.post(`/v2/payment_intents/${created.body.payment_intent_id}/cancel`, { cancellation_reason: 'changed_my_mind' });
    expectUqpay(r, 400, 'invalid_request_error', 'cancel with cancellation_reason changed_my_mind');
    expect(r.body.message).toContain('cancellation_reason');
    for (const reason of CANCELLATION_REASONS) expect(r.body.message).toContain(reason);
    // The intent was not cancelled.
    const after = await merchant.get(`/v2/payment_intents/${created.body.payment_intent_id}`);
    expect(after.body.intent_status).toBe('REQUIRES_PAYMENT_METHOD');
  });

  it('says an intent that does not exist is not found when asked to confirm it, whatever the body', async () => {
    // It answered "payment_method is required" to a confirm without a body, as if the intent were there.
    for (const id of ['PI1999999999999999999', 'no-such-intent']) {
      for (const [label, body] of [['a card', { payment_method: seedCard() }], ['no payment method', {}], ['no body', undefined]] as const) {
        const r = await merchant.post(`/v2/payment_intents/${id}/confirm`, body);
        expectUqpay(r, 400, 'not_found', `confirm ${id} with ${label}`);
        expect(r.body.message).toBe(`payment_intent ${id} not found`);
      }
    }
    // An intent that exists still gets the body's fault.
    const created = await merchant.post('/v2/payment_intents/create', intentBody());
    const r = await merchant.post(`/v2/payment_intents/${created.body.payment_intent_id}/confirm`, {});
    expectUqpay(r, 400, 'invalid_request_error', 'confirm of an existing intent without payment_method');
    expect(r.body.message).toBe('payment_method is required');
  });
});

/**
 * Whatever a client sends, the UQPAY API answers with a 4xx and its error
 * envelope {type, code, message}, never a 500, and a refused request changes
 * nothing: no intent, attempt, refund, ledger entry or event appears.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeEachBackend, intentBody, seedCard, startPlatform, UqpayClient, type Reply, type TestPlatform } from '../support/platform.ts';

function expectRejected(r: Reply, label: string, status?: number): void {
  const what = `${label} -> ${r.status} ${r.text.slice(0, 300)}`;
  if (status !== undefined) expect(r.status, what).toBe(status);
  expect(r.status, what).toBeGreaterThanOrEqual(400);
  expect(r.status, what).toBeLessThan(500);
  expect(r.headers.get('content-type') ?? '', what).toMatch(/^application\/json/);
  expect(typeof r.body, what).toBe('object');
  expect(typeof r.body.type, what).toBe('string');
  expect(typeof r.body.code, what).toBe('string');
  expect(typeof r.body.message, what).toBe('string');
  expect(r.body.type, what).not.toBe('api_error');
  expect(r.body.message.length, what).toBeGreaterThan(0);
}

describeEachBackend('UQPAY bad input', (backend) => {
  let tp: TestPlatform;
  let merchant: UqpayClient;
  /** REQUIRES_PAYMENT_METHOD */
  let unpaid: string;
  /** REQUIRES_CAPTURE */
  let authorized: string;
  /** SUCCEEDED, partly refunded */
  let paid: any;
  let refundId: string;

  /** Everything a refused request must leave as it was. */
  async function snapshot(): Promise<string> {
    const parts = await Promise.all(
      ['/v2/payment_intents?page_size=100', '/v2/payment/payment_attempts?page_size=100', '/v2/payment/refunds?page_size=100', '/v2/payment/balances?page_size=100'].map((p) =>
        merchant.get(p),
      ),
    );
    for (const p of parts) expect(p.status, p.text).toBe(200);
    const events = await tp.platform.store.read
      .selectFrom('events')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('merchant_id', '=', merchant.credentials.merchant_id)
      .executeTakeFirstOrThrow();
    return JSON.stringify({ data: parts.map((p) => p.body), events: Number(events.n) });
  }

  /** Runs the requests and checks each is refused with the envelope, and that nothing changed. */
  async function allRefused(cases: Array<[string, () => Promise<Reply>, number?]>): Promise<void> {
    const before = await snapshot();
    for (const [label, send, status] of cases) expectRejected(await send(), label, status);
    expect(await snapshot()).toBe(before);
  }

  const create = (body: unknown) => () => merchant.post('/v2/payment_intents/create', body);
  /** A create body as JSON text whose payment_method is `method`, written as is (numbers JSON.stringify could not write). */
  const withRawMethod = (method: string) => JSON.stringify({ ...intentBody(), payment_method: 0 }).replace('"payment_method":0', `"payment_method":${method}`);

  beforeAll(async () => {
    tp = await startPlatform(backend);
    merchant = await UqpayClient.create(tp, { name: 'Bad Input Merchant' });
    unpaid = (await merchant.post('/v2/payment_intents/create', intentBody())).body.payment_intent_id;
    authorized = (await merchant.post('/v2/payment_intents/create', { ...intentBody({ amount: '40' }), payment_method: seedCard({ auto_capture: false }) })).body.payment_intent_id;
    paid = (await merchant.post('/v2/payment_intents/create', { ...intentBody({ amount: '30' }), payment_method: seedCard() })).body;
    expect(paid.intent_status).toBe('SUCCEEDED');
    const refund = await merchant.post('/v2/payment/refunds', { payment_intent_id: paid.payment_intent_id, amount: '10', reason: 'setup' });
    expect(refund.status).toBe(200);
    refundId = refund.body.payment_refund_id;
  });
  afterAll(async () => {
    await tp?.close();
  });

  it('refuses bodies that are not a JSON object', async () => {
    await allRefused([
      ['malformed JSON', create('{"amount": "1.00", "currency": "SGD",'), 400],
      ['unquoted keys', create('{amount: 1, currency: SGD}'), 400],
      ['plain text', create('pay me'), 400],
      ['trailing garbage', create(JSON.stringify(intentBody()) + 'x'), 400],
      ['JSON array', create('[]'), 400],
      ['array of a valid body', create(JSON.stringify([intentBody()])), 400],
      ['JSON number', create('5'), 400],
      ['JSON string', create('"abc"'), 400],
      ['JSON null', create('null'), 400],
      ['JSON true', create('true'), 400],
      ['empty body on create', create(''), 400],
      ['array on confirm', () => merchant.post(`/v2/payment_intents/${unpaid}/confirm`, '[]'), 400],
      ['malformed on refund', () => merchant.post('/v2/payment/refunds', '{"payment_intent_id":'), 400],
      ['number on capture', () => merchant.post(`/v2/payment_intents/${authorized}/capture`, '7'), 400],
      ['string on cancel', () => merchant.post(`/v2/payment_intents/${unpaid}/cancel`, '"abandoned"'), 400],
    ]);
  });

  it('refuses wrong types and missing required fields', async () => {
    const { amount: _a, ...noAmount } = intentBody();
    const { currency: _c, ...noCurrency } = intentBody();
    await allRefused([
      ['amount {}', create(intentBody({ amount: {} })), 400],
      ['amount []', create(intentBody({ amount: [] })), 400],
      ['amount null', create(intentBody({ amount: null })), 400],
      ['amount true', create(intentBody({ amount: true })), 400],
      ['currency 5', create(intentBody({ currency: 5 })), 400],
      ['currency 123', create(intentBody({ currency: 123 })), 400],
      ['currency {}', create(intentBody({ currency: {} })), 400],
      ['payment_method "x"', create(intentBody({ payment_method: 'x' })), 400],
      ['payment_method []', create(intentBody({ payment_method: [] })), 400],
      ['metadata "x"', create(intentBody({ metadata: 'x' })), 400],
      ['card as a string', create({ ...intentBody(), payment_method: { type: 'card', card: '5346930100108117' } }), 400],
      ['auto_capture "maybe"', create({ ...intentBody(), payment_method: seedCard({ auto_capture: 'maybe' }) }), 400],
      ['missing amount', create(noAmount), 400],
      ['missing currency', create(noCurrency), 400],
      ['missing both', create({ description: 'nothing else' }), 400],
      ['empty object', create({}), 400],
      ['confirm without payment_method', () => merchant.post(`/v2/payment_intents/${unpaid}/confirm`, {}), 400],
      ['card without number', () => merchant.post(`/v2/payment_intents/${unpaid}/confirm`, { payment_method: { type: 'card', card: { expiry_month: '12', expiry_year: '2030' } } }), 400],
      ['refund without reason', () => merchant.post('/v2/payment/refunds', { payment_intent_id: paid.payment_intent_id, amount: '1' }), 400],
      ['refund without amount', () => merchant.post('/v2/payment/refunds', { payment_intent_id: paid.payment_intent_id, reason: 'x' }), 400],
      ['refund without intent', () => merchant.post('/v2/payment/refunds', { amount: '1', reason: 'x' }), 400],
      ['refund amount {}', () => merchant.post('/v2/payment/refunds', { payment_intent_id: paid.payment_intent_id, amount: {}, reason: 'x' }), 400],
      ['capture amount {}', () => merchant.post(`/v2/payment_intents/${authorized}/capture`, { amount_to_capture: {} }), 400],
      ['cancel reason not in the list', () => merchant.post(`/v2/payment_intents/${unpaid}/cancel`, { cancellation_reason: 'because' }), 400],
      ['update amount {}', () => merchant.post(`/v2/payment_intents/${unpaid}`, { amount: {} }), 400],
      // A one-element array is not the value it holds.
      ['amount ["8.98"]', create(intentBody({ amount: ['8.98'] })), 400],
      ['currency ["SGD"]', create(intentBody({ currency: ['SGD'] })), 400],
      ['auto_capture [true]', create({ ...intentBody(), payment_method: seedCard({ auto_capture: [true] }) }), 400],
      ['refund intent id in an array', () => merchant.post('/v2/payment/refunds', { payment_intent_id: [paid.payment_intent_id], amount: '1', reason: 'x' }), 400],
      ['metadata nested 5000 deep', create(JSON.stringify(intentBody()).replace(/}$/, `,"metadata":{"a":${'['.repeat(5000)}1${']'.repeat(5000)}}}`)), 400],
      ['customer nested 40 deep', create({ ...intentBody(), customer: JSON.parse(`${'{"a":'.repeat(40)}1${'}'.repeat(40)}`) }), 400],
      ['return_url javascript:', create(intentBody({ return_url: 'javascript:alert(1)' })), 400],
      ['return_url relative', create(intentBody({ return_url: '/done' })), 400],
    ]);
    // A missing field is named by its path.
    expect((await create(noAmount)()).body.message).toBe('amount is required');
    const noNumber = await merchant.post(`/v2/payment_intents/${unpaid}/confirm`, { payment_method: { type: 'card', card: { expiry_month: '12', expiry_year: '2030' } } });
    expect(noNumber.body.message).toBe('payment_method.card.card_number is required');
  });

  it('accepts what lenient clients send: no body on capture and cancel, null for a field not set, a filter by a time it was shown', async () => {
    const held = await merchant.post('/v2/payment_intents/create', { ...intentBody({ amount: '12.34', metadata: null, description: null }), payment_method: seedCard({ auto_capture: false }) });
    expect(held.body.intent_status).toBe('REQUIRES_CAPTURE');
    const captured = await merchant.post(`/v2/payment_intents/${held.body.payment_intent_id}/capture`);
    expect(captured.status, captured.text).toBe(200);
    expect(captured.body).toMatchObject({ intent_status: 'SUCCEEDED', captured_amount: '12.34' });

    const open = await merchant.post('/v2/payment_intents/create', intentBody());
    const cancelled = await merchant.post(`/v2/payment_intents/${open.body.payment_intent_id}/cancel`);
    expect(cancelled.status, cancelled.text).toBe(200);
    expect(cancelled.body.intent_status).toBe('CANCELLED');

    // auto_capture null is auto_capture not sent: captured at once, not held.
    const auto = await merchant.post('/v2/payment_intents/create', { ...intentBody(), return_url: '', payment_method: seedCard({ auto_capture: null }) });
    expect(auto.body.intent_status).toBe('SUCCEEDED');
    const held2 = await merchant.post('/v2/payment_intents/create', { ...intentBody({ amount: '5' }), payment_method: seedCard({ auto_capture: false }) });
    const full = await merchant.post(`/v2/payment_intents/${held2.body.payment_intent_id}/capture`, { amount_to_capture: null });
    expect(full.body).toMatchObject({ intent_status: 'SUCCEEDED', captured_amount: '5.00' });

    // Wire times are whole seconds: the create_time shown, as both ends of the range, finds the intent.
    const t = encodeURIComponent(auto.body.create_time);
    const found = await merchant.get(`/v2/payment_intents?start_time=${t}&end_time=${t}&page_size=100`);
    expect(found.body.data.map((i: { payment_intent_id: string }) => i.payment_intent_id)).toContain(auto.body.payment_intent_id);
  });

  it('refuses amounts that are not positive, have too many decimals, or are out of range', async () => {
    await allRefused([
      ['negative string', create(intentBody({ amount: '-1' })), 400],
      ['negative number', create(intentBody({ amount: -5 })), 400],
      ['zero string', create(intentBody({ amount: '0' })), 400],
      ['zero number', create(intentBody({ amount: 0 })), 400],
      ['zero with decimals', create(intentBody({ amount: '0.00' })), 400],
      ['1.001 SGD', create(intentBody({ amount: '1.001', currency: 'SGD' })), 400],
      ['1.001 SGD as number', create(intentBody({ amount: 1.001, currency: 'SGD' })), 400],
      ['1.5 JPY', create(intentBody({ amount: '1.5', currency: 'JPY' })), 400],
      ['1.0001 BHD', create(intentBody({ amount: '1.0001', currency: 'BHD' })), 400],
      ['exponent', create(intentBody({ amount: '1e3' })), 400],
      ['huge', create(intentBody({ amount: '99999999999999999999' })), 400],
      ['huge number', create(intentBody({ amount: 1e300 })), 400],
      ['comma', create(intentBody({ amount: '1,00' })), 400],
      ['blank', create(intentBody({ amount: ' ' })), 400],
      ['NaN', create(intentBody({ amount: 'NaN' })), 400],
      ['Infinity', create(intentBody({ amount: 'Infinity' })), 400],
      ['hex', create(intentBody({ amount: '0x10' })), 400],
      ['update to negative', () => merchant.post(`/v2/payment_intents/${unpaid}`, { amount: '-3' }), 400],
      ['update to 3 decimals', () => merchant.post(`/v2/payment_intents/${unpaid}`, { amount: '3.333' }), 400],
      ['capture zero', () => merchant.post(`/v2/payment_intents/${authorized}/capture`, { amount_to_capture: '0' }), 400],
      ['capture negative', () => merchant.post(`/v2/payment_intents/${authorized}/capture`, { amount_to_capture: -1 }), 400],
      ['capture 3 decimals', () => merchant.post(`/v2/payment_intents/${authorized}/capture`, { amount_to_capture: '1.001' }), 400],
      ['capture over the authorization', () => merchant.post(`/v2/payment_intents/${authorized}/capture`, { amount_to_capture: '40.01' }), 400],
      ['refund zero', () => merchant.post('/v2/payment/refunds', { payment_intent_id: paid.payment_intent_id, amount: '0', reason: 'x' }), 400],
      ['refund negative', () => merchant.post('/v2/payment/refunds', { payment_intent_id: paid.payment_intent_id, amount: '-1', reason: 'x' }), 400],
      ['refund 3 decimals', () => merchant.post('/v2/payment/refunds', { payment_intent_id: paid.payment_intent_id, amount: '0.001', reason: 'x' }), 400],
      ['refund over the rest', () => merchant.post('/v2/payment/refunds', { payment_intent_id: paid.payment_intent_id, amount: '20.01', reason: 'x' }), 400],
    ]);
  });

  it('refuses unknown currencies and fields over their limits', async () => {
    await allRefused([
      ['unknown currency', create(intentBody({ currency: 'XYZ' })), 400],
      ['digits as currency', create(intentBody({ currency: 'S1D' })), 400],
      ['4-letter currency', create(intentBody({ currency: 'SGDX' })), 400],
      ['empty currency', create(intentBody({ currency: '' })), 400],
      ['description of 33 chars', create(intentBody({ description: 'd'.repeat(33) })), 400],
      ['merchant_order_id of 37 chars', create(intentBody({ merchant_order_id: 'o'.repeat(37) })), 400],
      ['metadata over 512 bytes', create(intentBody({ metadata: { note: 'm'.repeat(520) } })), 400],
      ['metadata over 512 bytes in multibyte text', create(intentBody({ metadata: { note: '支'.repeat(200) } })), 400],
      ['update: unknown currency', () => merchant.post(`/v2/payment_intents/${unpaid}`, { currency: 'XYZ', amount: '1' }), 400],
      ['update: long description', () => merchant.post(`/v2/payment_intents/${unpaid}`, { description: 'd'.repeat(33) }), 400],
      ['update: big metadata', () => merchant.post(`/v2/payment_intents/${unpaid}`, { metadata: { note: 'm'.repeat(520) } }), 400],
      ['refund: long reason', () => merchant.post('/v2/payment/refunds', { payment_intent_id: paid.payment_intent_id, amount: '1', reason: 'r'.repeat(101) }), 400],
      ['refund: big metadata', () => merchant.post('/v2/payment/refunds', { payment_intent_id: paid.payment_intent_id, amount: '1', reason: 'x', metadata: { note: 'm'.repeat(520) } }), 400],
      ['balance of an unknown currency', () => merchant.get('/v2/payment/balances/XYZ'), 400],
      ['balance of a 4-letter currency', () => merchant.get('/v2/payment/balances/SGDX'), 400],
    ]);
    // The limits themselves are fine.
    const edge = await merchant.post('/v2/payment_intents/create', intentBody({ description: 'd'.repeat(32), merchant_order_id: 'o'.repeat(36), metadata: { n: 'm'.repeat(500) } }));
    expect(edge.status, edge.text).toBe(200);
  });

  it('refuses unsupported payment methods and enforce_3ds without browser_info', async () => {
    await allRefused([
      ['unsupported type', create({ ...intentBody(), payment_method: { type: 'cheque', cheque: { number: '1' } } }), 400],
      ['empty type', create({ ...intentBody(), payment_method: { type: '', card: seedCard().card } }), 400],
      ['type card without card', create({ ...intentBody(), payment_method: { type: 'card' } }), 400],
      ['bad three_ds_action', create({ ...intentBody(), payment_method: seedCard({ three_ds_action: 'maybe_3ds' }) }), 400],
      ['enforce_3ds without browser_info', create({ ...intentBody(), ip_address: '203.0.113.9', payment_method: seedCard({ three_ds_action: 'enforce_3ds' }) }), 400],
      ['enforce_3ds without ip_address', create({ ...intentBody(), browser_info: { user_agent: 'x' }, payment_method: seedCard({ three_ds_action: 'enforce_3ds' }) }), 400],
      ['enforce_3ds with neither', create({ ...intentBody(), payment_method: seedCard({ three_ds_action: 'enforce_3ds' }) }), 400],
      ['confirm: unsupported type', () => merchant.post(`/v2/payment_intents/${unpaid}/confirm`, { payment_method: { type: 'cheque' } }), 400],
      ['confirm: enforce_3ds without browser_info', () => merchant.post(`/v2/payment_intents/${unpaid}/confirm`, { payment_method: seedCard({ three_ds_action: 'enforce_3ds' }) }), 400],
      ['confirm: invalid card number', () => merchant.post(`/v2/payment_intents/${unpaid}/confirm`, { payment_method: seedCard({ card_number: '1234' }) }), 400],
      // Names that every JavaScript object has are not wallet flows.
      ...['toString', 'constructor', '__proto__', 'hasOwnProperty'].map(
        (flow): [string, () => Promise<Reply>, number] => [`wallet flow ${flow}`, create({ ...intentBody(), payment_method: { type: 'alipaycn', alipaycn: { flow } } }), 400],
      ),
      // An 18-digit payment code or a 19-digit card number sent as a JSON number has already lost digits.
      ['payment_code as an inexact number', create(withRawMethod('{"type":"alipaycn","alipaycn":{"is_present":true,"payment_code":284057804613761201}}')), 400],
      ['card_number as an inexact number', create(withRawMethod('{"type":"card","card":{"card_number":4000000000000000006,"expiry_month":"12","expiry_year":"2030","cvc":"123"}}')), 400],
    ]);
    const still = await merchant.get(`/v2/payment_intents/${unpaid}`);
    expect(still.body).toMatchObject({ intent_status: 'REQUIRES_PAYMENT_METHOD', latest_payment_attempt: null });
  });

  it('answers an unknown id on every route with not_found', async () => {
    const ids = ['PI0000000000000000000', 'nope', 'x'.repeat(64)];
    const cases: Array<[string, () => Promise<Reply>, number?]> = [];
    for (const id of ids) {
      cases.push(
        [`GET intent ${id}`, () => merchant.get(`/v2/payment_intents/${id}`), 400],
        [`update ${id}`, () => merchant.post(`/v2/payment_intents/${id}`, { description: 'x' }), 400],
        [`confirm ${id}`, () => merchant.post(`/v2/payment_intents/${id}/confirm`, { payment_method: seedCard() }), 400],
        [`capture ${id}`, () => merchant.post(`/v2/payment_intents/${id}/capture`, {}), 400],
        [`capture ${id} with amount`, () => merchant.post(`/v2/payment_intents/${id}/capture`, { amount_to_capture: '1' }), 400],
        [`cancel ${id}`, () => merchant.post(`/v2/payment_intents/${id}/cancel`, { cancellation_reason: 'duplicate' }), 400],
        [`refund ${id}`, () => merchant.post('/v2/payment/refunds', { payment_intent_id: id, amount: '1', reason: 'x' }), 400],
        [`attempt ${id}`, () => merchant.get(`/v2/payment/payment_attempts/${id.replace(/^PI/, 'PA')}`), 400],
        [`refund get ${id}`, () => merchant.get(`/v2/payment/refunds/${id.replace(/^PI/, 'RF')}`), 400],
      );
    }
    const before = await snapshot();
    for (const [label, send, status] of cases) {
      const r = await send();
      expectRejected(r, label, status);
      expect(r.body.type, label).toBe('not_found');
    }
    // A refund naming an attempt that is not the payment's.
    expectRejected(
      await merchant.post('/v2/payment/refunds', { payment_intent_id: paid.payment_intent_id, payment_attempt_id: 'PA0000000000000000000', amount: '1', reason: 'x' }),
      'refund of a foreign attempt',
      400,
    );
    // Ids over the length limit are refused too.
    await allRefused([
      ['GET intent, 65 chars', () => merchant.get(`/v2/payment_intents/${'P'.repeat(65)}`), 400],
      ['cancel, 65 chars', () => merchant.post(`/v2/payment_intents/${'P'.repeat(65)}/cancel`, {}), 400],
    ]);
    expect(await snapshot()).toBe(before);
    // The real objects are still there.
    expect((await merchant.get(`/v2/payment/refunds/${refundId}`)).status).toBe(200);
    expect((await merchant.get(`/v2/payment/payment_attempts/${paid.latest_payment_attempt.attempt_id}`)).status).toBe(200);
  });

  it('refuses bad paging and filters on every list', async () => {
    const cases: Array<[string, () => Promise<Reply>, number?]> = [];
    for (const list of ['/v2/payment_intents', '/v2/payment/payment_attempts', '/v2/payment/refunds', '/v2/payment/balances']) {
      for (const q of ['page_size=0', 'page_size=101', 'page_size=abc', 'page_size=-1', 'page_size=1.5', 'page_number=0', 'page_number=abc', 'page_number=-2', 'page_number=2147483648', 'page_number=99999999999999999999']) {
        cases.push([`${list}?${q}`, () => merchant.get(`${list}?${q}`), 400]);
      }
    }
    cases.push(
      ['intent_status=BOGUS', () => merchant.get('/v2/payment_intents?intent_status=BOGUS'), 400],
      ['payment_intent_status=BOGUS', () => merchant.get('/v2/payment_intents?payment_intent_status=BOGUS'), 400],
      ['create_start_time=garbage', () => merchant.get('/v2/payment_intents?create_start_time=garbage'), 400],
      ['end_time=garbage', () => merchant.get('/v2/payment/refunds?end_time=garbage'), 400],
      ['attempt_status=BOGUS', () => merchant.get('/v2/payment/payment_attempts?attempt_status=BOGUS'), 400],
    );
    await allRefused(cases);
    // The bounds themselves are accepted.
    for (const q of ['page_size=1', 'page_size=100', 'page_number=1']) {
      expect((await merchant.get(`/v2/payment_intents?${q}`)).status).toBe(200);
    }
    // The last page number there can be, far past the end: an empty page with the real totals.
    for (const list of ['/v2/payment_intents', '/v2/payment/payment_attempts', '/v2/payment/refunds', '/v2/payment/balances']) {
      const r = await merchant.get(`${list}?page_size=100&page_number=2147483647`);
      expect(r.status, list).toBe(200);
      expect(r.body.data, list).toEqual([]);
      expect(r.body.total_items, list).toBeGreaterThan(0);
    }
  });

  it('refuses bodies over 64 KiB with 413', async () => {
    const big = (n: number) => ({ ...intentBody(), metadata: { blob: 'x'.repeat(n) } });
    await allRefused([
      ['create, 65 KiB', create(big(65 * 1024)), 413],
      ['create, 2 MiB', create(big(2 * 1024 * 1024)), 413],
      ['confirm, 100 KiB', () => merchant.post(`/v2/payment_intents/${unpaid}/confirm`, { payment_method: seedCard({ card_name: 'n'.repeat(100 * 1024) }) }), 413],
      ['refund, 70 KiB', () => merchant.post('/v2/payment/refunds', { payment_intent_id: paid.payment_intent_id, amount: '1', reason: 'x', metadata: { b: 'x'.repeat(70 * 1024) } }), 413],
    ]);
  });

  it('refuses a body that is not JSON whatever its Content-Type says (or without one)', async () => {
    const send = (body: BodyInit, headers: Record<string, string>) => async (): Promise<Reply> => {
      const r = await fetch(`${tp.baseUrl}/api/v2/payment_intents/create`, {
        method: 'POST',
        headers: { 'x-auth-token': `Bearer ${merchant.token}`, 'x-client-id': merchant.credentials.uqpay.client_id, 'x-idempotency-key': randomUUID(), ...headers },
        body,
      });
      const text = await r.text();
      return { status: r.status, body: JSON.parse(text), text, headers: r.headers };
    };
    const form = 'amount=8.98&currency=SGD';
    await allRefused([
      // A Uint8Array body makes fetch send no Content-Type at all.
      ['no Content-Type, form body', send(new TextEncoder().encode(form), {}), 400],
      ['no Content-Type, empty body', send(new Uint8Array(0), {}), 400],
      ['form Content-Type', send(form, { 'Content-Type': 'application/x-www-form-urlencoded' }), 400],
      ['text/plain, not JSON', send(form, { 'Content-Type': 'text/plain' }), 400],
      ['multipart', send('--b\r\nContent-Disposition: form-data; name="amount"\r\n\r\n1\r\n--b--\r\n', { 'Content-Type': 'multipart/form-data; boundary=b' }), 400],
      ['JSON with a bad charset', send('{"amount":', { 'Content-Type': 'application/json; charset=latin1' }), 400],
    ]);
  });

  it('answers unknown routes under /api with a 404 envelope', async () => {
    const cases: Array<[string, () => Promise<Reply>, number?]> = [
      ['GET unknown', () => merchant.get('/v2/nothing-here'), 404],
      ['POST unknown', () => merchant.post('/v2/payment_intents/PI1/refund_all', {}), 404],
      ['DELETE intent', () => merchant.request('DELETE', `/v2/payment_intents/${unpaid}`), 404],
      ['PUT intent', () => merchant.request('PUT', `/v2/payment_intents/${unpaid}`, { amount: '1' }), 404],
      ['v1 acquiring', () => merchant.get('/v1/payment_intents'), 404],
      [
        'unknown without a token',
        async () => {
          const r = await fetch(`${tp.baseUrl}/api/v3/whatever`);
          const text = await r.text();
          return { status: r.status, body: JSON.parse(text), text, headers: r.headers };
        },
        404,
      ],
    ];
    await allRefused(cases);
  });
});

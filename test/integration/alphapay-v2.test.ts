/**
 * AlphaPay v2 over HTTP as a merchant meets it: signed requests, every
 * scenario code, each wallet paid and declined through the wallet simulator,
 * refunds, cancel, inquiry, transactions and settlements on the same ledger
 * as UQPAY, signed notifications, and bad input of every kind.
 */
import { generateKeyPairSync, randomUUID } from 'node:crypto';
import { readQrDataUrl } from '../support/qr.ts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { IssuedCredentials } from '../../src/core/merchants/merchants.ts';
import { AlphapayClient, AlphapayNotifyReceiver, payBody, type ApReply } from '../support/alphapay.ts';
import { advanceClock, describeEachBackend, simPost, startPlatform, UqpayClient, type TestPlatform } from '../support/platform.ts';

function expectResult(r: ApReply, code: string, status: 'S' | 'F' | 'U' = code === 'SUCCESS' ? 'S' : 'F'): void {
  expect(r.status, r.text).toBe(200);
  expect(r.body.result, r.text).toMatchObject({ resultCode: code, resultStatus: status });
  expect(typeof r.body.result.resultMessage).toBe('string');
}

function decodeQr(dataUrl: string): string | null {
  expect(dataUrl).toMatch(/^data:image\/png;base64,/);
  return readQrDataUrl(dataUrl);
}

describeEachBackend('AlphaPay v2', (backend) => {
  let tp: TestPlatform;
  let creds: IssuedCredentials;
  let ap: AlphapayClient;
  let hooks: AlphapayNotifyReceiver;

  beforeAll(async () => {
    tp = await startPlatform(backend);
    hooks = await new AlphapayNotifyReceiver().start();
    creds = await tp.platform.merchants.create({ name: 'Maple Tea House' });
    ap = new AlphapayClient(tp.baseUrl, creds.alphapay);
  });
  afterAll(async () => {
    await tp?.close();
    await hooks?.close();
  });

  const inquiry = (paymentId: string) => ap.send('inquiryPayment', { paymentId });

  it('ONLINE_QRCODE: signed answer, a QR image that encodes paymentUrl, a cashier payUrl; paid by scanning; signed notification', async () => {
    const body = payBody({ value: '1234', notifyUrl: hooks.url, redirectUrl: 'https://shop.example/done' });
    const r = await ap.pay(body);
    expectResult(r, 'SUCCESS');
    expect(r.signed).toBe(true);
    expect(r.body).toMatchObject({ scenarioCode: 'ONLINE_QRCODE', paymentRequestId: body.paymentRequestId, order: { orderAmount: { value: '1234', currency: 'CAD' }, description: 'Test order' } });
    const info = r.body.paymentInfo;
    expect(decodeQr(info.paymentQRImage)).toBe(info.paymentUrl);
    expect(info.payUrl).toContain('/alphapay/cashier/');
    expect(Date.parse(r.body.paymentExpireTime)).toBeGreaterThan(Date.parse(r.body.paymentCreateTime));
    const before = await inquiry(r.body.paymentId);
    expectResult(before, 'SUCCESS');
    expect(before.body.paymentStatus).toBe('PAYMENT_IN_PROCESS');

    const scan = await simPost(tp.baseUrl, '/wallet/scan', { code: info.paymentUrl, action: 'pay' });
    expect(scan.status, scan.text).toBe(200);
    const after = await inquiry(r.body.paymentId);
    expect(after.body).toMatchObject({ paymentStatus: 'SUCCESS', paymentId: r.body.paymentId, paymentRequestId: body.paymentRequestId });
    expect(after.body.paymentTime).toBeTruthy();

    await hooks.waitFor((all) => all.some((n) => n.body?.paymentId === r.body.paymentId));
    const n = hooks.received.find((x) => x.body?.paymentId === r.body.paymentId)!;
    expect(hooks.verified(n, creds.alphapay)).toBe(true);
    expect(n.body.result).toBeUndefined();
    expect(n.body).toMatchObject({ paymentStatus: 'SUCCESS', paymentRequestId: body.paymentRequestId });
    // A tampered body does not verify.
    expect(hooks.verified({ ...n, raw: n.raw.replace('SUCCESS', 'FAIL') }, creds.alphapay)).toBe(false);
  });

  for (const type of ['Alipay', 'Wechat', 'UnionPay']) {
    it(`${type}: paid and declined through the wallet simulator`, async () => {
      const paid = await ap.pay(payBody({ type }));
      expectResult(paid, 'SUCCESS');
      await simPost(tp.baseUrl, '/wallet/scan', { code: paid.body.paymentInfo.paymentUrl, action: 'pay' });
      expect((await inquiry(paid.body.paymentId)).body.paymentStatus).toBe('SUCCESS');
      const declined = await ap.pay(payBody({ type }));
      await simPost(tp.baseUrl, '/wallet/scan', { code: declined.body.paymentInfo.paymentUrl, action: 'decline' });
      const q = await inquiry(declined.body.paymentId);
      expect(q.body.paymentStatus).toBe('FAIL');
      expect(q.body.paymentMethod.paymentMethodType).toBe(type);
    });
  }

  it('every scenario code answers with what its flow needs', async () => {
    const web = await ap.pay(payBody({ scenarioCode: 'ONLINE_WEB', redirectUrl: 'https://shop.example/back' }));
    expectResult(web, 'SUCCESS');
    expect(web.body.paymentInfo.payUrl).toContain('/alphapay/cashier/');
    const wap = await ap.pay(payBody({ scenarioCode: 'ONLINE_WAP', type: 'UnionPay' }));
    expectResult(wap, 'SUCCESS');
    expect(wap.body.paymentInfo.payUrl).toBeTruthy();
    for (const [scenarioCode, extra] of [
      ['JSAPI', {}],
      ['NATIVE_JSAPI', { customer: { appId: 'wx123', customerId: 'openid-1' } }],
      ['APP', { env: { osType: 'IOS', version: '17' } }],
      ['MINI_APP', { customer: { appId: 'wx123', customerId: 'openid-2' } }],
    ] as const) {
      const r = await ap.pay(payBody({ scenarioCode, type: 'Wechat', ...extra }));
      expectResult(r, 'SUCCESS');
      expect(Object.keys(r.body.paymentInfo.sdkParams).length, scenarioCode).toBeGreaterThan(0);
      expect(r.body.paymentInfo.sdkParams.package).toMatch(/^prepay_id=/);
    }
    const offlineQr = await ap.pay(payBody({ scenarioCode: 'OFFLINE_QRCODE' }));
    expect(decodeQr(offlineQr.body.paymentInfo.paymentQRImage)).toBe(offlineQr.body.paymentInfo.paymentUrl);
    // Mini-program without its appId is refused.
    expectResult(await ap.pay(payBody({ scenarioCode: 'MINI_APP', type: 'Wechat' })), 'PARAM_INVALID');
    // ONLINE_WEB takes Alipay and UnionPay only.
    expectResult(await ap.pay(payBody({ scenarioCode: 'ONLINE_WEB', type: 'Wechat' })), 'PARAM_INVALID');
  });

  it('OFFLINE: a payment code settles at once, as the code table says (pending, then paid; declined)', async () => {
    const paid = await ap.pay({ ...payBody({ scenarioCode: 'OFFLINE' }), paymentMethod: { paymentMethodType: 'Alipay', paymentCode: '280000000000000001' } });
    expectResult(paid, 'SUCCESS');
    expect((await inquiry(paid.body.paymentId)).body.paymentStatus).toBe('SUCCESS');
    const pending = await ap.pay({ ...payBody({ scenarioCode: 'OFFLINE' }), paymentMethod: { paymentMethodType: 'Wechat', paymentCode: '130000000000001143' } });
    expectResult(pending, 'PAYMENT_IN_PROCESS', 'U');
    await advanceClock(tp, 11);
    expect((await inquiry(pending.body.paymentId)).body.paymentStatus).toBe('SUCCESS');
    const declined = await ap.pay({ ...payBody({ scenarioCode: 'OFFLINE' }), paymentMethod: { paymentMethodType: 'Alipay', paymentCode: '280000000000001201' } });
    expectResult(declined, 'PAYMENT_FAILED');
    expect((await inquiry(declined.body.paymentId)).body.paymentStatus).toBe('FAIL');
  });

  it('CREDIT_CARD: approved at once, declined, and through a 3DS challenge', async () => {
    const card = (number: string) => ({ ...payBody({ scenarioCode: 'CREDIT_CARD' }), paymentMethod: undefined, card: { info: { number, expMonth: '12', expYear: '2034', cvv: '123', holder: 'Ada Lovelace' } } });
    const ok = await ap.pay(card('4242424242424242'));
    expectResult(ok, 'SUCCESS');
    expect((await inquiry(ok.body.paymentId)).body.paymentStatus).toBe('SUCCESS');
    expect(JSON.stringify(ok.body)).not.toContain('4242424242424242');
    expectResult(await ap.pay(card('4000000000000002')), 'PAYMENT_FAILED');
    const challenged = await ap.pay(card('4000002500003155'));
    expectResult(challenged, 'PAYMENT_IN_PROCESS', 'U');
    const done = await simPost(tp.baseUrl, '/3ds/complete', { url: challenged.body.paymentInfo.payUrl, result: 'success' });
    expect(done.status, done.text).toBe(200);
    expect((await inquiry(challenged.body.paymentId)).body.paymentStatus).toBe('SUCCESS');
  });

  it('amounts: CNY valued in CAD; under 0.01 CAD made but failing when paid; description cut at 128', async () => {
    const cny = await ap.pay(payBody({ value: '1000', currency: 'CNY' }));
    expectResult(cny, 'SUCCESS');
    expect(cny.body.order.orderAmount).toEqual({ value: '1000', currency: 'CNY' });
    expect(cny.body.order.payAmount.currency).toBe('CAD');
    expect(Number(cny.body.order.payAmount.value)).toBe(193); // 10 CNY / 5.1730 = 1.93 CAD
    // 5 fen is worth 0.0097 CAD at 5.1730 CNY per CAD: under 0.01 CAD, though it rounds to a cent.
    const tiny = await ap.pay(payBody({ value: '5', currency: 'CNY' }));
    expectResult(tiny, 'SUCCESS');
    const scan = await simPost(tp.baseUrl, '/wallet/scan', { code: tiny.body.paymentInfo.paymentUrl, action: 'pay' });
    expect(scan.status, scan.text).toBe(200);
    const q = await inquiry(tiny.body.paymentId);
    expect(q.body.paymentStatus).toBe('FAIL');
    expect(q.body.failureReason).toBe('amount_below_minimum');
    expectResult(await ap.pay(payBody({ value: '6', currency: 'CNY' })), 'SUCCESS');
    const tinyCode = await ap.pay({ ...payBody({ scenarioCode: 'OFFLINE', value: '5', currency: 'CNY' }), paymentMethod: { paymentMethodType: 'Alipay', paymentCode: '280000000000000002' } });
    expectResult(tinyCode, 'AMOUNT_INVALID');
    const long = 'é'.repeat(200);
    const cut = await ap.pay(payBody({ description: long }));
    expectResult(cut, 'SUCCESS');
    expect(cut.body.order.description).toBe('é'.repeat(128));
    expect((await inquiry(cut.body.paymentId)).body.order.description).toBe('é'.repeat(128));
  });

  it('refunds: partial, full, never over the paid amount; inquiry by id and request id; refund notification signed', async () => {
    const r = await ap.pay(payBody({ value: '1000', notifyUrl: hooks.url }));
    await simPost(tp.baseUrl, '/wallet/scan', { code: r.body.paymentInfo.paymentUrl, action: 'pay' });
    const paymentId = r.body.paymentId;
    const part = await ap.send('refund', { paymentId, refundRequestId: 'rf-1', refund: { refundAmount: { value: '300', currency: 'CAD' }, description: 'one cup' } });
    expectResult(part, 'SUCCESS');
    expect(part.signed).toBe(true);
    expect(part.body).toMatchObject({ paymentId, refundRequestId: 'rf-1', refundStatus: 'SUCCESS', refund: { refundAmount: { value: '300', currency: 'CAD' } } });
    expectResult(await ap.send('refund', { paymentId, refundRequestId: 'rf-2', refund: { refundAmount: { value: '701' } } }), 'REFUND_AMOUNT_EXCEED');
    expectResult(await ap.send('refund', { paymentId, refundRequestId: 'rf-1', refund: { refundAmount: { value: '1' } } }), 'DUPLICATE_REQUEST_ID');
    expectResult(await ap.send('refund', { paymentId, refund: { refundAmount: { value: '1', currency: 'USD' } } }), 'CURRENCY_MISMATCH');
    const rest = await ap.send('refund', { paymentId, refundRequestId: 'rf-3', refund: { refundAmount: { value: '700' } } });
    expectResult(rest, 'SUCCESS');
    expectResult(await ap.send('refund', { paymentId, refund: { refundAmount: { value: '1' } } }), 'REFUND_AMOUNT_EXCEED');
    const byId = await ap.send('inquiryRefund', { refundId: part.body.refundId });
    expect(byId.body).toMatchObject({ refundId: part.body.refundId, refundStatus: 'SUCCESS', paymentId });
    const byReq = await ap.send('inquiryRefund', { refundRequestId: 'rf-3' });
    expect(byReq.body.refundId).toBe(rest.body.refundId);
    expectResult(await ap.send('inquiryRefund', { refundId: 'RFnope' }), 'REFUND_NOT_EXIST');
    expect((await inquiry(paymentId)).body.refundedAmount).toEqual({ value: '1000', currency: 'CAD' });
    // Unpaid orders have nothing to refund.
    const unpaid = await ap.pay(payBody());
    expectResult(await ap.send('refund', { paymentId: unpaid.body.paymentId, refund: { refundAmount: { value: '1' } } }), 'ORDER_NOT_PAID');
    await hooks.waitFor((all) => all.filter((n) => n.body?.refundStatus === 'SUCCESS' && n.body?.paymentId === paymentId).length === 2);
    for (const n of hooks.received.filter((x) => x.body?.refundStatus === 'SUCCESS' && x.body?.paymentId === paymentId)) expect(hooks.verified(n, creds.alphapay)).toBe(true);
  });

  it('cancel: an unpaid order is cancelled (again: same answer); a paid one answers ORDER_PAID', async () => {
    const open = await ap.pay(payBody());
    const c = await ap.send('cancel', { paymentId: open.body.paymentId });
    expectResult(c, 'SUCCESS');
    expect(c.body).toMatchObject({ paymentId: open.body.paymentId, paymentRequestId: open.body.paymentRequestId });
    expectResult(await ap.send('cancel', { paymentId: open.body.paymentId }), 'SUCCESS');
    expect((await inquiry(open.body.paymentId)).body.paymentStatus).toBe('CANCELLED');
    const paid = await ap.pay(payBody());
    await simPost(tp.baseUrl, '/wallet/scan', { code: paid.body.paymentInfo.paymentUrl, action: 'pay' });
    expectResult(await ap.send('cancel', { paymentId: paid.body.paymentId }), 'ORDER_PAID');
    expect((await inquiry(paid.body.paymentId)).body.paymentStatus).toBe('SUCCESS');
    expectResult(await ap.send('cancel', { paymentId: 'PInope' }), 'ORDER_NOT_EXIST');
  });

  it('an unpaid order expires: inquiry says CLOSED', async () => {
    const r = await ap.pay(payBody());
    await advanceClock(tp, 31 * 60);
    expect((await inquiry(r.body.paymentId)).body.paymentStatus).toBe('CLOSED');
  });

  it('paymentRequestId is unique per merchant; another merchant may use it', async () => {
    const body = payBody();
    expectResult(await ap.pay(body), 'SUCCESS');
    expectResult(await ap.pay({ ...body, order: { ...body.order, orderAmount: { value: '5', currency: 'CAD' } } }), 'DUPLICATE_REQUEST_ID');
    const other = await tp.platform.merchants.create({ name: 'Other' });
    expectResult(await new AlphapayClient(tp.baseUrl, other.alphapay).pay(body), 'SUCCESS');
    // Inquiry by the merchant's own id works too.
    const q = await ap.send('inquiryPayment', { paymentRequestId: body.paymentRequestId });
    expect(q.body.paymentRequestId).toBe(body.paymentRequestId);
  });

  it('concurrent requests with one paymentRequestId make one order; with one refundRequestId, one refund', async () => {
    const body = payBody();
    const answers = await Promise.all(Array.from({ length: 8 }, () => ap.pay(body)));
    const codes = answers.map((r) => r.body.result.resultCode).sort();
    expect(codes.filter((c) => c === 'SUCCESS')).toHaveLength(1);
    expect(codes.filter((c) => c === 'DUPLICATE_REQUEST_ID')).toHaveLength(7);
    const paid = answers.find((r) => r.body.result.resultCode === 'SUCCESS')!;
    await simPost(tp.baseUrl, '/wallet/scan', { code: paid.body.paymentInfo.paymentUrl, action: 'pay' });
    const refunds = await Promise.all(
      Array.from({ length: 6 }, () => ap.send('refund', { paymentId: paid.body.paymentId, refundRequestId: 'same-refund', refund: { refundAmount: { value: '10' } } })),
    );
    expect(refunds.filter((r) => r.body.result.resultCode === 'SUCCESS')).toHaveLength(1);
    expect((await inquiry(paid.body.paymentId)).body.refundedAmount.value).toBe('10');
  });

  it('transactions and settlements of the day; an AlphaPay payment shows in the UQPAY balance of the same merchant', async () => {
    const m = await tp.platform.merchants.create({ name: 'Ledger Shop' });
    const client = new AlphapayClient(tp.baseUrl, m.alphapay);
    const uq = new UqpayClient(tp.baseUrl, m);
    await uq.authenticate();
    const paid = await client.pay(payBody({ value: '2500', paymentRequestId: 'L-1' }));
    await simPost(tp.baseUrl, '/wallet/scan', { code: paid.body.paymentInfo.paymentUrl, action: 'pay' });
    await client.send('refund', { paymentId: paid.body.paymentId, refundRequestId: 'L-R1', refund: { refundAmount: { value: '500' } } });
    const bal = await uq.get('/v2/payment/balances/CAD');
    expect(bal.status, bal.text).toBe(200);
    expect(JSON.stringify(bal.body)).toContain('20'); // 25.00 paid - 5.00 refunded
    const now = new Date((await (await fetch(`${tp.baseUrl}/sim/v1/clock`)).json()).now);
    const date = now.toISOString().slice(0, 10).replace(/-/g, '');
    const tx = await client.send('transactions', { date, pageLimit: 1 });
    expectResult(tx, 'SUCCESS');
    expect(tx.body.pagination).toMatchObject({ page: 1, pageLimit: 1, total: 2, totalPage: 2 });
    const all = await client.send('transactions', { date, transactionType: 'All' });
    expect(all.body.transactions.map((t: any) => [t.transactionType, t.requestId, t.amount])).toEqual(
      expect.arrayContaining([['Credit', 'L-1', '2500'], ['Debit', 'L-R1', '500']]),
    );
    const debit = await client.send('transactions', { date, transactionType: 'Debit' });
    expect(debit.body.transactions).toHaveLength(1);
    const st = await client.send('settlements', { date });
    expectResult(st, 'SUCCESS');
    expect(st.body.settlements[0].settleInfo).toMatchObject({ creditNum: 1, debitNum: 1, creditAmount: '2500', debitAmount: '500', netAmount: '2000' });
    expectResult(await client.send('transactions', { date: '20261399' }), 'PARAM_INVALID');
  });

  describe('bad input gets its documented result, never a 500, and changes nothing', () => {
    const countIntents = async () => (await tp.platform.payments.listIntents(creds.merchant_id, {}, { pageSize: 1, pageNumber: 1 })).total;

    it('unsigned, wrong key, unknown merchant, stale or malformed time, reused nonce, tampered body', async () => {
      const before = await countIntents();
      const other = generateKeyPairSync('rsa', { modulusLength: 2048, privateKeyEncoding: { format: 'der', type: 'pkcs8' }, publicKeyEncoding: { format: 'der', type: 'spki' } });
      const r1 = await ap.pay(payBody(), { signature: null });
      expectResult(r1, 'SIGNATURE_INVALID');
      expect(r1.signed).toBe(false);
      expectResult(await ap.pay(payBody(), { privateKey: other.privateKey.toString('base64') }), 'SIGNATURE_INVALID');
      expectResult(await ap.pay(payBody(), { signature: 'garbage' }), 'SIGNATURE_INVALID');
      const unknown = await ap.pay(payBody(), { merchantCode: 'NOPE00' });
      expectResult(unknown, 'MERCHANT_NOT_FOUND');
      expect(unknown.signed).toBe(false);
      const stale = await ap.pay(payBody(), { time: new Date(Date.now() - 6 * 60_000).toISOString() });
      expectResult(stale, 'REQUEST_TIME_INVALID');
      expect(stale.signed).toBe(true);
      expectResult(await ap.pay(payBody(), { time: new Date(Date.now() + 6 * 60_000).toISOString() }), 'REQUEST_TIME_INVALID');
      expectResult(await ap.pay(payBody(), { time: 'yesterday' }), 'REQUEST_TIME_INVALID');
      const nonce = randomUUID().replace(/-/g, '');
      expectResult(await ap.send('inquiryPayment', { paymentId: 'PIx' }, { nonce }), 'ORDER_NOT_EXIST');
      const again = await ap.pay(payBody(), { nonce });
      expectResult(again, 'NONCE_REUSED');
      expect(again.signed).toBe(true);
      const signedBody = JSON.stringify(payBody({ value: '100' }));
      expectResult(await ap.pay(signedBody, { sentBody: signedBody.replace('"100"', '"900"') }), 'SIGNATURE_INVALID');
      // Spaces after the commas of the Signature header are fine.
      expectResult(await ap.pay(payBody(), { spaces: true }), 'SUCCESS');
      expect(await countIntents()).toBe(before + 1);
    });

    it('malformed JSON, wrong types, missing fields, out-of-range values, unknown ids, oversize bodies, unknown endpoints', async () => {
      const before = await countIntents();
      const cases: Array<[string, unknown, string]> = [
        ['malformed JSON', '{"scenarioCode":', 'PARAM_INVALID'],
        ['a JSON array', '[]', 'PARAM_INVALID'],
        ['value as a number', { ...payBody(), order: { orderAmount: { value: 100, currency: 'CAD' }, description: 'x' } }, 'PARAM_INVALID'],
        ['value with decimals', payBody({ value: '1.00' }), 'PARAM_INVALID'],
        ['value of 8 digits', payBody({ value: '12345678' }), 'PARAM_INVALID'],
        ['value 0', payBody({ value: '0' }), 'PARAM_INVALID'],
        ['unknown currency', payBody({ currency: 'EUR' }), 'PARAM_INVALID'],
        ['unknown scenario', payBody({ scenarioCode: 'TELEPATHY' }), 'PARAM_INVALID'],
        ['unknown wallet', payBody({ type: 'Bitcoin' }), 'PARAM_INVALID'],
        ['no paymentRequestId', { ...payBody(), paymentRequestId: undefined }, 'PARAM_INVALID'],
        ['empty description', payBody({ description: '' }), 'PARAM_INVALID'],
        ['notifyUrl not a URL', payBody({ notifyUrl: 'not a url' }), 'PARAM_INVALID'],
        ['OFFLINE without paymentCode', payBody({ scenarioCode: 'OFFLINE' }), 'PARAM_INVALID'],
        ['CREDIT_CARD without card', payBody({ scenarioCode: 'CREDIT_CARD' }), 'PARAM_INVALID'],
        ['CREDIT_CARD bad number', { ...payBody({ scenarioCode: 'CREDIT_CARD' }), card: { info: { number: '4242424242424241', expMonth: '12', expYear: '2034' } } }, 'PARAM_INVALID'],
      ];
      for (const [what, body, code] of cases) {
        const r = await ap.pay(body as object);
        expect(r.status, what).toBe(200);
        expect(r.body.result?.resultCode, `${what}: ${r.text}`).toBe(code);
      }
      const huge = await ap.pay(payBody({ description: 'x'.repeat(70 * 1024) }));
      expect(huge.status).toBe(200);
      expect(huge.body.result.resultCode).toBe('REQUEST_TOO_LARGE');
      expectResult(await ap.send('inquiryPayment', {}), 'PARAM_INVALID');
      expectResult(await ap.send('inquiryPayment', { paymentId: 12 }), 'PARAM_INVALID');
      expectResult(await ap.send('inquiryPayment', { paymentId: 'PI-not-there' }), 'ORDER_NOT_EXIST');
      expectResult(await ap.send('refund', { paymentId: 'PInothere', refund: { refundAmount: { value: '1' } } }), 'ORDER_NOT_EXIST');
      const nowhere = await ap.send('teleport', {});
      expect(nowhere.status).toBe(404);
      expect(nowhere.body.result.resultCode).toBe('NOT_FOUND');
      const get = await fetch(`${tp.baseUrl}/api/v2.0/payments/pay`);
      expect(get.status, await get.clone().text()).toBe(404);
      expect((await get.json()).result.resultCode).toBe('NOT_FOUND');
      expect(await countIntents()).toBe(before);
    });

    it('another merchant\'s payment is not found', async () => {
      const mine = await ap.pay(payBody());
      const other = await tp.platform.merchants.create({ name: 'Nosy' });
      expectResult(await new AlphapayClient(tp.baseUrl, other.alphapay).send('inquiryPayment', { paymentId: mine.body.paymentId }), 'ORDER_NOT_EXIST');
    });
  });

  it('the published API description lists the AlphaPay endpoints with their request schemas', async () => {
    const r = await fetch(`${tp.baseUrl}/openapi.json`);
    expect(r.status).toBe(200);
    const doc = await r.json();
    expect(Object.keys(doc.paths)).toEqual(expect.arrayContaining(['/api/v2.0/payments/pay', '/api/v2.0/payments/refund', '/api/v2.0/payments/transactions']));
    expect(JSON.stringify(doc.paths['/api/v2.0/payments/pay'])).toContain('scenarioCode');
  });

  it('a merchant registers its own public key: requests signed with the new key pass, the old key fails', async () => {
    const m = await tp.platform.merchants.create({ name: 'Own Key' });
    const own = generateKeyPairSync('rsa', { modulusLength: 2048, privateKeyEncoding: { format: 'der', type: 'pkcs8' }, publicKeyEncoding: { format: 'pem', type: 'spki' } });
    const r = await simPost(tp.baseUrl, `/merchants/${m.merchant_id}/alphapay-key`, { public_key: own.publicKey });
    expect(r.status, r.text).toBe(200);
    const client = new AlphapayClient(tp.baseUrl, { ...m.alphapay, merchant_private_key: own.privateKey.toString('base64') });
    expectResult(await client.pay(payBody()), 'SUCCESS');
    expectResult(await new AlphapayClient(tp.baseUrl, m.alphapay).pay(payBody()), 'SIGNATURE_INVALID');
    const weak = generateKeyPairSync('rsa', { modulusLength: 1024, publicKeyEncoding: { format: 'pem', type: 'spki' }, privateKeyEncoding: { format: 'pem', type: 'pkcs8' } });
    expect((await simPost(tp.baseUrl, `/merchants/${m.merchant_id}/alphapay-key`, { public_key: weak.publicKey })).status).toBe(400);
    expect((await simPost(tp.baseUrl, `/merchants/${m.merchant_id}/alphapay-key`, { public_key: 'nonsense' })).status).toBe(400);
    expect((await simPost(tp.baseUrl, '/merchants/Mnope/alphapay-key', { public_key: own.publicKey })).status).toBe(404);
  });
});

describe('AlphaPay payment notifications retry on their schedule; refunds are tried once', () => {
  let tp: TestPlatform;
  let hooks: AlphapayNotifyReceiver;
  beforeAll(async () => {
    tp = await startPlatform('sqlite');
    hooks = await new AlphapayNotifyReceiver().start();
  });
  afterAll(async () => {
    await tp?.close();
    await hooks?.close();
  });

  it('3 quick tries, then every 30 minutes; a refund notification that fails is not retried', async () => {
    const m = await tp.platform.merchants.create({ name: 'Flaky Endpoint' });
    const ap = new AlphapayClient(tp.baseUrl, m.alphapay);
    hooks.answers = [500, 500, 500, 500];
    const r = await ap.pay(payBody({ notifyUrl: hooks.url }));
    await simPost(tp.baseUrl, '/wallet/scan', { code: r.body.paymentInfo.paymentUrl, action: 'pay' });
    await hooks.waitFor((all) => all.length >= 1);
    await advanceClock(tp, 16);
    await hooks.waitFor((all) => all.length >= 2);
    await advanceClock(tp, 16);
    await hooks.waitFor((all) => all.length >= 3);
    await advanceClock(tp, 60);
    expect(hooks.received).toHaveLength(3);
    await advanceClock(tp, 30 * 60);
    await hooks.waitFor((all) => all.length >= 4);
    await advanceClock(tp, 30 * 60);
    await hooks.waitFor((all) => all.length >= 5);
    const log = await (await fetch(`${tp.baseUrl}/sim/v1/merchants/${m.merchant_id}/deliveries`)).json();
    const payment = log.data.find((d: any) => d.event_type === 'payment_intent.succeeded');
    expect(payment).toMatchObject({ dialect: 'alphapay', status: 'succeeded', attempts: 5 });

    hooks.answers = [500];
    await ap.send('refund', { paymentId: r.body.paymentId, refund: { refundAmount: { value: '10' } } });
    await hooks.waitFor((all) => all.some((n) => n.body?.refundStatus === 'SUCCESS'));
    await advanceClock(tp, 3600);
    expect(hooks.received.filter((n) => n.body?.refundStatus === 'SUCCESS')).toHaveLength(1);
  });
});

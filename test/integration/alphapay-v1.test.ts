/**
 * AlphaPay v1 with the public npm client (alphapay 0.2.4), unmodified: its
 * requests to the provider's host are redirected to polypay at Node's https
 * layer. Orders are the same as v2's (visible through both), refunds are
 * signed the v1 way (the client's own refund calls send no sign and are
 * refused), and notifications verify with the client's own check.
 */
import { createHash, randomUUID } from 'node:crypto';
import http from 'node:http';
import https from 'node:https';
import Alphapay from 'alphapay';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { IssuedCredentials } from '../../src/core/merchants/merchants.ts';
import { AlphapayClient } from '../support/alphapay.ts';
import { describeEachBackend, simPost, startPlatform, type TestPlatform } from '../support/platform.ts';
import { RecordingEndpoint } from '../support/receiver.ts';

class V1Receiver extends RecordingEndpoint {
  constructor() {
    super('/v1/notify', 'notifications', (n) => `${n.body?.partner_order_id}`);
  }
  protected override nextAnswer(): [number, string] {
    return [200, '{"return_code":"SUCCESS"}'];
  }
}

const AlphapayClass = ((Alphapay as unknown as { default?: unknown }).default ?? Alphapay) as new (partnerCode: string, credentialCode: string) => any;

describeEachBackend('AlphaPay v1 (npm client)', (backend) => {
  let tp: TestPlatform;
  let creds: IssuedCredentials;
  let client: any;
  let hooks: V1Receiver;
  const realRequest = https.request;

  /** A v1 call signed by hand (the client's refund calls carry no sign). */
  async function signed(method: string, path: string, body?: unknown, over: { time?: string; nonce?: string; sign?: string } = {}) {
    const time = over.time ?? String(Date.now());
    const nonce = over.nonce ?? randomUUID().slice(0, 12);
    const sign = over.sign ?? createHash('sha256').update(`${creds.alphapay.merchant_code}&${time}&${nonce}&${creds.alphapay.credential_code}`).digest('hex');
    const r = await fetch(`${tp.baseUrl}/api/v1.0/gateway/partners/${creds.alphapay.merchant_code}${path}?time=${time}&nonce_str=${nonce}&sign=${sign}`, {
      method,
      headers: { 'Content-Type': 'application/json' },
      ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
    });
    return { status: r.status, body: await r.json() };
  }

  beforeAll(async () => {
    tp = await startPlatform(backend);
    hooks = await new V1Receiver().start();
    creds = await tp.platform.merchants.create({ name: 'Shop Plugin' });
    client = new AlphapayClass(creds.alphapay.merchant_code, creds.alphapay.credential_code);
    const { port } = new URL(tp.baseUrl);
    // The client hard-codes the provider's host: its requests go to polypay instead.
    (https as { request: unknown }).request = ((options: http.RequestOptions, cb: (res: http.IncomingMessage) => void) =>
      http.request({ ...options, hostname: '127.0.0.1', host: '127.0.0.1', port: Number(port), protocol: 'http:' }, cb)) as typeof https.request;
  });
  afterAll(async () => {
    (https as { request: unknown }).request = realRequest;
    await tp?.close();
    await hooks?.close();
  });

  it('QR order, query (trailing slash), paid through the simulator, visible through v2; notification passes the client\'s check', async () => {
    const orderId = `wc${Date.now()}`;
    const created = await client.createQRCodePayment(orderId, { description: 'Bubble tea', price: 850, currency: 'CAD', channel: 'Alipay', notify_url: hooks.url });
    expect(created).toMatchObject({ return_code: 'SUCCESS', result_code: 'SUCCESS', partner_order_id: orderId, channel: 'Alipay', partner_code: creds.alphapay.merchant_code });
    expect(created.code_url).toContain('/wallet/pay/');
    expect(created.qrcode_img).toMatch(/^data:image\/png;base64,/);
    const again = await client.createQRCodePayment(orderId, { description: 'Bubble tea', price: '850', currency: 'CAD', channel: 'Alipay' });
    expect(again.result_code).toBe('EXISTS');
    expect((await client.getOrderStatus(orderId)).result_code).toBe('PAYING');
    await simPost(tp.baseUrl, '/wallet/scan', { code: created.code_url, action: 'pay' });
    const paid = await client.getOrderStatus(orderId);
    expect(paid).toMatchObject({ return_code: 'SUCCESS', result_code: 'PAY_SUCCESS', partner_order_id: orderId, order_id: created.order_id, total_fee: 850, real_fee: 850, currency: 'CAD' });
    const v2 = await new AlphapayClient(tp.baseUrl, creds.alphapay).send('inquiryPayment', { paymentId: created.order_id });
    expect(v2.body).toMatchObject({ paymentStatus: 'SUCCESS', paymentRequestId: orderId });
    await hooks.waitFor((all) => all.some((n) => n.body?.partner_order_id === orderId));
    const n = hooks.received.find((x) => x.body?.partner_order_id === orderId)!;
    expect(client.isNotificationValid(n.body)).toBe(true);
    expect(client.isNotificationValid({ ...n.body, sign: 'f'.repeat(64) })).toBe(false);
  });

  it('JSAPI and H5 orders answer pay_url; a v2 order is visible through v1', async () => {
    const j = await client.createJSAPIPayment(`js-${randomUUID().slice(0, 8)}`, { description: 'JSAPI', price: 100, channel: 'Wechat' });
    expect(j).toMatchObject({ return_code: 'SUCCESS', result_code: 'SUCCESS' });
    expect(j.pay_url).toMatch(/^http/);
    const h = await client.createH5Payment(`h5-${randomUUID().slice(0, 8)}`, { description: 'H5', price: 100, channel: 'Alipay' });
    expect(h.pay_url).toContain('/alphapay/cashier/');
    expect((await client.createH5Payment(`h5-${randomUUID().slice(0, 8)}`, { description: 'H5', price: 100, channel: 'Wechat' })).return_code).toBe('INVALID_CHANNEL');
    const v2 = await new AlphapayClient(tp.baseUrl, creds.alphapay).pay({ scenarioCode: 'ONLINE_QRCODE', paymentRequestId: 'from-v2', order: { orderAmount: { value: '300', currency: 'CAD' }, description: 'v2' }, paymentMethod: { paymentMethodType: 'Wechat' } });
    const seen = await client.getOrderStatus('from-v2');
    expect(seen).toMatchObject({ result_code: 'PAYING', order_id: v2.body.paymentId, total_fee: 300, channel: 'Wechat' });
  });

  it('refunds: the client\'s unsigned calls are refused and move nothing; signed refunds partial, full, over; refund query', async () => {
    const orderId = `rf${Date.now()}`;
    const created = await client.createQRCodePayment(orderId, { description: 'Refundable', price: 1000, channel: 'Wechat' });
    await simPost(tp.baseUrl, '/wallet/scan', { code: created.code_url, action: 'pay' });
    const unsigned = await client.applyRefund(orderId, 'r1');
    expect(unsigned.return_code).toBe('INVALID_SIGN');
    expect((await client.getRefundStatus(orderId, 'r1')).return_code).toBe('INVALID_SIGN');
    expect((await client.getOrderStatus(orderId)).result_code).toBe('PAY_SUCCESS');
    const part = await signed('PUT', `/orders/${orderId}/refunds/r1`, { fee: 400 });
    expect(part.body).toMatchObject({ return_code: 'SUCCESS', result_code: 'FINISHED', partner_refund_id: 'r1', amount: 400, currency: 'CAD' });
    expect((await signed('PUT', `/orders/${orderId}/refunds/r1`, { fee: 400 })).body.refund_id).toBe(part.body.refund_id);
    expect((await signed('PUT', `/orders/${orderId}/refunds/r2`, { fee: 601 })).body.return_code).toBe('REFUND_AMOUNT_EXCEED');
    expect((await client.getOrderStatus(orderId)).result_code).toBe('PARTIAL_REFUND');
    expect((await signed('PUT', `/orders/${orderId}/refunds/r3`, { fee: '600' })).body.result_code).toBe('FINISHED');
    expect((await client.getOrderStatus(orderId)).result_code).toBe('FULL_REFUND');
    expect((await signed('GET', `/orders/${orderId}/refunds/r3`)).body).toMatchObject({ result_code: 'FINISHED', amount: 600 });
    expect((await signed('GET', `/orders/${orderId}/refunds/nope`)).body.return_code).toBe('ORDER_NOT_EXIST');
  });

  it('exchange rate; bad signs, stale time, reused nonce, unknown partner, bad bodies: JSON errors, nothing changed', async () => {
    const rate = await client.getCurrentExchangeRate();
    expect(rate).toMatchObject({ return_code: 'SUCCESS', wechat_rate: 5.173 });
    expect((await signed('GET', '/orders/none/')).body.return_code).toBe('ORDER_NOT_EXIST');
    expect((await signed('PUT', '/orders/bad1', { description: 'x', price: 100 }, { sign: 'a'.repeat(64) })).body.return_code).toBe('INVALID_SIGN');
    expect((await signed('PUT', '/orders/bad2', { description: 'x', price: 100 }, { time: String(Date.now() - 10 * 60_000) })).body.return_code).toBe('SIGN_TIMEOUT');
    const nonce = randomUUID().slice(0, 10);
    expect((await signed('GET', '/orders/none/', undefined, { nonce })).body.return_code).toBe('ORDER_NOT_EXIST');
    expect((await signed('PUT', '/orders/bad3', { description: 'x', price: 100 }, { nonce })).body.return_code).toBe('INVALID_SIGN');
    expect((await signed('PUT', '/orders/bad4', '{"description":')).body.return_code).toBe('PARAM_INVALID');
    expect((await signed('PUT', '/orders/bad5', { description: 'x', price: 1.5 })).body.return_code).toBe('PARAM_INVALID');
    expect((await signed('PUT', '/orders/bad6', { description: 'x', price: 100, currency: 'EUR' })).body.return_code).toBe('PARAM_INVALID');
    expect((await signed('PUT', '/orders/bad7', { price: 100 })).body.return_code).toBe('PARAM_INVALID');
    expect((await signed('PUT', '/orders/bad8', { description: 'x', price: 100, channel: 'Cash' })).body.return_code).toBe('INVALID_CHANNEL');
    const other = await fetch(`${tp.baseUrl}/api/v1.0/gateway/partners/NOPE99/orders/x?time=1&nonce_str=a&sign=b`);
    expect(other.status).toBe(200);
    expect((await other.json()).return_code).toBe('INVALID_SHORT_ID');
    const nowhere = await fetch(`${tp.baseUrl}/api/v1.0/teleport`);
    expect(nowhere.status).toBe(404);
    expect((await nowhere.json()).return_code).toBe('NOT_FOUND');
    for (const id of ['bad1', 'bad2', 'bad3', 'bad4', 'bad5', 'bad6', 'bad7', 'bad8']) expect((await client.getOrderStatus(id)).return_code, id).toBe('ORDER_NOT_EXIST');
  });
});

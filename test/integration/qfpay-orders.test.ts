/**
 * What happens to QFPay orders after they are made: out_trade_no uniqueness
 * across payments and refunds, refunds, reversal / close, expiry,
 * sub-merchants by mchid, the daily bill, and notification retries until the
 * merchant answers SUCCESS.
 */
import { strFromU8, unzipSync } from 'fflate';
import { beforeAll, expect, it } from 'vitest';
import type { IssuedCredentials } from '../../src/core/merchants/merchants.ts';
import { QFPAY_RETRY_DELAYS_MS } from '../../src/dialects/qfpay/notifications.ts';
import { QfpayClient, txdtm, type QfReply } from '../clients/qfpay-client.mts';
import { advanceClock, describeEachBackend, simPost, type TestPlatform } from '../support/platform.ts';
import { md5, NotifyReceiver, useQfpayShop } from '../support/qfpay.ts';

function expectRespcd(r: QfReply, respcd: string): void {
  expect(r.status, r.text).toBe(200);
  expect(r.body.respcd, r.text).toBe(respcd);
  expect(r.body.resperr).toBeTruthy();
  expect(typeof r.body.respmsg).toBe('string');
}

/** A paid CPM order (Alipay, HKD). */
async function paidOrder(qf: QfpayClient, outTradeNo: string, txamt = '1000'): Promise<string> {
  const r = await qf.pay({ pay_type: '800108', auth_code: '280000000000000001', txamt, out_trade_no: outTradeNo });
  expect(r.body.respcd, r.text).toBe('0000');
  return r.body.syssn;
}

describeEachBackend('QFPay orders', (backend) => {
  let tp: TestPlatform;
  let hooks: NotifyReceiver;
  let creds: IssuedCredentials;
  let qf: QfpayClient;
  const shop = useQfpayShop(backend, 'QFPay Orders');
  beforeAll(() => void ({ tp, hooks, creds, qf } = shop));

  it('out_trade_no is unique per merchant across payments and refunds, also under concurrency', async () => {
    const syssn = await paidOrder(qf, 'DUP-1');
    expectRespcd(await qf.pay({ pay_type: '800101', out_trade_no: 'DUP-1' }), '2011');
    expectRespcd(await qf.refund({ syssn, txamt: '100', out_trade_no: 'DUP-1' }), '2011');
    const refund = await qf.refund({ syssn, txamt: '100', out_trade_no: 'DUP-R1' });
    expect(refund.body.respcd, refund.text).toBe('0000');
    expectRespcd(await qf.pay({ pay_type: '800101', out_trade_no: 'DUP-R1' }), '2011');
    expectRespcd(await qf.refund({ syssn, txamt: '100', out_trade_no: 'DUP-R1' }), '2011');

    // A refused request does not use up its out_trade_no.
    expectRespcd(await qf.pay({ pay_type: '800101', out_trade_no: 'DUP-2', txamt: '0' }), '1104');
    expectRespcd(await qf.refund({ syssn, txamt: '999999', out_trade_no: 'DUP-3' }), '1272');
    expect((await qf.pay({ pay_type: '800101', out_trade_no: 'DUP-2' })).body.respcd).toBe('0000');
    expect((await qf.refund({ syssn, txamt: '1', out_trade_no: 'DUP-3' })).body.respcd).toBe('0000');

    const racers = await Promise.all(Array.from({ length: 6 }, () => qf.pay({ pay_type: '800201', out_trade_no: 'DUP-RACE' })));
    expect(racers.map((r) => r.body.respcd).sort()).toEqual(['0000', '2011', '2011', '2011', '2011', '2011']);
    expect((await qf.query({ out_trade_no: 'DUP-RACE' })).body.data).toHaveLength(1);
  });

  it('refunds: partial, over the rest, in full, of unpaid or unknown orders; refund rows and notifications', async () => {
    const syssn = await paidOrder(qf, 'RF-ORDER', '1000');
    const first = await qf.refund({ syssn, txamt: '300', out_trade_no: 'RF-1', udid: 'desk' });
    expect(first.body).toMatchObject({ respcd: '0000', resperr: 'success', orig_syssn: syssn, out_trade_no: 'RF-1', txamt: '300', txcurrcd: 'HKD', udid: 'desk' });
    expect(first.body.syssn).toMatch(/^\d+$/);
    expect(first.body.syssn).not.toBe(syssn);
    // Alipay CN refunds the shopper in CNY at the payment's rate.
    expect(first.body).toMatchObject({ cash_refund_fee: '275', cash_refund_fee_type: 'CNY' });

    expect((await qf.query({ syssn })).body.data[0]).toMatchObject({ respcd: '0000', cancel: '5', order_type: 'payment' });
    const byRefundSyssn = (await qf.query({ syssn: first.body.syssn })).body.data;
    expect(byRefundSyssn).toHaveLength(1);
    const row = byRefundSyssn[0];
    expect(row).toMatchObject({ order_type: 'refund', origssn: syssn, syssn: first.body.syssn, out_trade_no: 'RF-1', txamt: '300', respcd: '0000', pay_type: '800108' });
    expect((await qf.query({ out_trade_no: 'RF-1' })).body.data.map((r: any) => r.syssn)).toEqual([first.body.syssn]);
    // Payment and refund together, newest first.
    expect((await qf.query({ out_trade_no: 'RF-ORDER,RF-1' })).body.data.map((r: any) => r.order_type)).toEqual(['refund', 'payment']);

    expectRespcd(await qf.refund({ syssn, txamt: '701', out_trade_no: 'RF-2' }), '1272');
    expect((await qf.refund({ syssn, txamt: '700', out_trade_no: 'RF-3' })).body.respcd).toBe('0000');
    expect((await qf.query({ syssn })).body.data[0].cancel).toBe('3');
    expectRespcd(await qf.refund({ syssn, txamt: '1', out_trade_no: 'RF-4' }), '1125');

    // Both rows come back for a time-range query, the refunds with their origssn.
    const all = (await qf.query({ pay_type: '800108' })).body.data.filter((r: any) => r.syssn === syssn || r.origssn === syssn);
    expect(all.map((r: any) => r.order_type).sort()).toEqual(['payment', 'refund', 'refund']);

    await hooks.waitFor(() => hooks.received.filter((n) => n.body.notify_type === 'refund' && ['RF-1', 'RF-3'].includes(n.body.out_trade_no)).length === 2);
    const note = hooks.received.find((n) => n.body.notify_type === 'refund' && n.body.out_trade_no === 'RF-1')!;
    expect(note.headers['x-qf-sign']).toBe(md5(note.raw + creds.qfpay.client_key));
    expect(note.body).toMatchObject({ status: '1', notify_type: 'refund', syssn: first.body.syssn, txamt: '300', respcd: '0000', cancel: '5', cash_refund_fee: '275', cash_refund_fee_type: 'CNY' });

    const unpaid = await qf.pay({ pay_type: '800101', out_trade_no: 'RF-UNPAID' });
    expectRespcd(await qf.refund({ syssn: unpaid.body.syssn, txamt: '1' }), '1261');
    expectRespcd(await qf.refund({ syssn: '1234567890123456789', txamt: '1' }), '1268');
    expectRespcd(await qf.refund({ syssn, txamt: '-5' }), '1104');
    expectRespcd(await qf.refund({ txamt: '5' }), '1104');

    // FPS takes no refunds.
    const fps = await qf.pay({ pay_type: '802001', out_trade_no: 'RF-FPS' });
    await simPost(tp.baseUrl, '/wallet/scan', { code: fps.body.qrcode, action: 'pay' });
    expectRespcd(await qf.refund({ syssn: fps.body.syssn, txamt: '1' }), '1155');
  });

  it('reversal and close: unpaid orders close, same-day payments are reversed in full, asking again succeeds again', async () => {
    const mpm = await qf.pay({ pay_type: '800201', out_trade_no: 'RV-MPM' });
    const closed = await qf.post('/trade/v1/close', { syssn: mpm.body.syssn, txamt: '300', txdtm: txdtm() });
    expect(closed.body).toMatchObject({ respcd: '0000', orig_syssn: mpm.body.syssn, out_trade_no: 'RV-MPM', txamt: '300', txcurrcd: 'HKD' });
    expect(closed.body.syssn).not.toBe(mpm.body.syssn);
    expect((await qf.query({ syssn: mpm.body.syssn })).body.data[0]).toMatchObject({ cancel: '2', respcd: '1142' });
    const scan = await simPost(tp.baseUrl, '/wallet/scan', { code: mpm.body.qrcode, action: 'pay' });
    expect(scan.status).not.toBe(200);

    const paid = await paidOrder(qf, 'RV-CPM', '500');
    const reversed = await qf.get('/trade/v1/reversal', { out_trade_no: 'RV-CPM', txamt: '500', txdtm: txdtm() });
    expect(reversed.body).toMatchObject({ respcd: '0000', orig_syssn: paid, out_trade_no: 'RV-CPM', txamt: '500' });
    expect((await qf.query({ syssn: paid })).body.data[0]).toMatchObject({ cancel: '1', respcd: '0000' });
    const again = await qf.post('/trade/v1/reversal', { syssn: paid, txamt: '500', txdtm: txdtm() });
    expect(again.body).toMatchObject({ respcd: '0000', orig_syssn: paid });
    expectRespcd(await qf.refund({ syssn: paid, txamt: '1' }), '1263');

    // The payer is still confirming: the reversal stops the payment.
    const pending = await qf.pay({ pay_type: '800108', auth_code: '280000000000001143', out_trade_no: 'RV-PENDING' });
    expect(pending.body.respcd).toBe('1143');
    expect((await qf.get('/trade/v1/reversal', { syssn: pending.body.syssn, txamt: '300', txdtm: txdtm() })).body.respcd).toBe('0000');
    expect((await qf.query({ syssn: pending.body.syssn })).body.data[0].cancel).toBe('1');

    const refunded = await paidOrder(qf, 'RV-REFUNDED');
    expect((await qf.refund({ syssn: refunded, txamt: '10' })).body.respcd).toBe('0000');
    expectRespcd(await qf.post('/trade/v1/reversal', { syssn: refunded, txamt: '1000', txdtm: txdtm() }), '1262');

    expectRespcd(await qf.post('/trade/v1/reversal', { syssn: mpm.body.syssn, txamt: '301', txdtm: txdtm() }), '1266');
    expectRespcd(await qf.post('/trade/v1/close', { out_trade_no: 'RV-NOPE', txamt: '300', txdtm: txdtm() }), '1268');
    expectRespcd(await qf.post('/trade/v1/close', {}), '1104');
    expectRespcd(await qf.post('/trade/v1/close', { out_trade_no: 'RV-CPM', txamt: '500', txdtm: 'now' }), '1104');
  });

  it('reversal and close need txamt and txdtm, and refuse a syssn and an out_trade_no that name different orders', async () => {
    const a = await qf.pay({ pay_type: '800201', out_trade_no: 'RV-A', txamt: '300' });
    const b = await qf.pay({ pay_type: '800201', out_trade_no: 'RV-B', txamt: '300' });
    for (const path of ['/trade/v1/reversal', '/trade/v1/close']) {
      expectRespcd(await qf.post(path, { syssn: a.body.syssn, txdtm: txdtm() }), '1104');
      expectRespcd(await qf.post(path, { syssn: a.body.syssn, txamt: '300' }), '1104');
      expectRespcd(await qf.get(path, { out_trade_no: 'RV-A', txamt: '', txdtm: txdtm() }), '1104');
      expectRespcd(await qf.post(path, { syssn: a.body.syssn, out_trade_no: 'RV-B', txamt: '300', txdtm: txdtm() }), '1267');
      expectRespcd(await qf.get(path, { syssn: b.body.syssn, out_trade_no: 'RV-A', txamt: '300', txdtm: txdtm() }), '1267');
    }
    // Neither order was closed by the refused requests.
    for (const syssn of [a.body.syssn, b.body.syssn]) {
      expect((await qf.query({ syssn })).body.data[0]).toMatchObject({ respcd: '1143', cancel: '0' });
    }
    // Both naming the same order is fine.
    const closed = await qf.post('/trade/v1/close', { syssn: a.body.syssn, out_trade_no: 'RV-A', txamt: '300', txdtm: txdtm() });
    expect(closed.body).toMatchObject({ respcd: '0000', orig_syssn: a.body.syssn, out_trade_no: 'RV-A' });
  });

  it('a paid FPS order takes no reversal or close (1150); an unpaid one can be closed', async () => {
    const fps = await qf.pay({ pay_type: '802001', out_trade_no: 'RV-FPS', txamt: '800' });
    await simPost(tp.baseUrl, '/wallet/scan', { code: fps.body.qrcode, action: 'pay' });
    expect((await qf.query({ syssn: fps.body.syssn })).body.data[0]).toMatchObject({ respcd: '0000', cancel: '0' });
    expectRespcd(await qf.post('/trade/v1/reversal', { syssn: fps.body.syssn, txamt: '800', txdtm: txdtm() }), '1150');
    expectRespcd(await qf.get('/trade/v1/close', { out_trade_no: 'RV-FPS', txamt: '800', txdtm: txdtm() }), '1150');
    expectRespcd(await qf.post('/trade/v1/close', { syssn: fps.body.syssn, txamt: '800', txdtm: txdtm() }), '1150');
    // Still paid, nothing given back.
    expect((await qf.query({ syssn: fps.body.syssn })).body.data[0]).toMatchObject({ respcd: '0000', cancel: '0' });
    const ledger = await tp.platform.payments.getIntent(creds.merchant_id, `PI${fps.body.syssn}`);
    expect(ledger.intent.status).toBe('SUCCEEDED');
    expect(ledger.attempt).toMatchObject({ capturedAmount: 800, refundedAmount: 0 });

    const unpaid = await qf.pay({ pay_type: '802001', out_trade_no: 'RV-FPS-UNPAID', txamt: '800' });
    expect((await qf.post('/trade/v1/close', { syssn: unpaid.body.syssn, txamt: '800', txdtm: txdtm() })).body.respcd).toBe('0000');
    expect((await qf.query({ syssn: unpaid.body.syssn })).body.data[0]).toMatchObject({ respcd: '1142', cancel: '2' });
  });

  it('sub-merchants: mchid acts for the app code\'s own sub-merchant only; each has its own orders and out_trade_no space', async () => {
    const sub = await tp.platform.merchants.createSubMerchant(creds.merchant_id, { name: 'Branch' });
    const other = await tp.platform.merchants.create({ name: 'Other Partner' });
    const otherSub = await tp.platform.merchants.createSubMerchant(other.merchant_id, { name: 'Other Branch' });
    const asSub = new QfpayClient(tp.baseUrl, creds.qfpay, sub.merchant_id);

    const mine = await qf.pay({ pay_type: '800108', auth_code: '280000000000000001', out_trade_no: 'SUB-1' });
    const theirs = await asSub.pay({ pay_type: '800108', auth_code: '280000000000000001', out_trade_no: 'SUB-1' });
    expect(mine.body.respcd).toBe('0000');
    expect(theirs.body.respcd).toBe('0000');

    expect((await qf.query({ syssn: theirs.body.syssn })).body.data).toHaveLength(0);
    expect((await asSub.query({ syssn: mine.body.syssn })).body.data).toHaveLength(0);
    expect((await asSub.query({ out_trade_no: 'SUB-1' })).body.data.map((r: any) => r.syssn)).toEqual([theirs.body.syssn]);
    expectRespcd(await qf.refund({ syssn: theirs.body.syssn, txamt: '1' }), '1268');
    expect((await asSub.refund({ syssn: theirs.body.syssn, txamt: '1' })).body.respcd).toBe('0000');

    expectRespcd(await new QfpayClient(tp.baseUrl, other.qfpay, sub.merchant_id).query({}), '1108');
    expectRespcd(await new QfpayClient(tp.baseUrl, creds.qfpay, otherSub.merchant_id).pay({ pay_type: '800101' }), '1108');
    expectRespcd(await new QfpayClient(tp.baseUrl, creds.qfpay, 'M0000000000000000000').pay({ pay_type: '800101' }), '1108');
    // A sub-merchant's own app code does not reach its parent.
    expectRespcd(await new QfpayClient(tp.baseUrl, sub.qfpay, creds.merchant_id).query({}), '1108');

    // The sub-merchant's notification goes to the app code's URL, signed with the app code's key, naming the sub-merchant.
    await hooks.waitFor(() => hooks.of(theirs.body.syssn).length > 0);
    const n = hooks.of(theirs.body.syssn)[0]!;
    expect(n.body).toMatchObject({ mchid: sub.merchant_id, out_trade_no: 'SUB-1', notify_type: 'payment' });
    expect(n.headers['x-qf-sign']).toBe(md5(n.raw + creds.qfpay.client_key));
    expect(hooks.of(mine.body.syssn)[0]!.body.mchid).toBe('');
  });

  it('a sub-merchant using its own app code gets notifications signed with its own key, without mchid', async () => {
    const sub = await tp.platform.merchants.createSubMerchant(creds.merchant_id, { name: 'Own Keys Branch', webhookUrl: hooks.url });
    const own = new QfpayClient(tp.baseUrl, sub.qfpay);
    const viaParent = new QfpayClient(tp.baseUrl, creds.qfpay, sub.merchant_id);

    const paid = await own.pay({ pay_type: '800108', auth_code: '280000000000000001', txamt: '1000', out_trade_no: 'OWN-1' });
    expect(paid.body.respcd, paid.text).toBe('0000');
    const refund = await own.refund({ syssn: paid.body.syssn, txamt: '400', out_trade_no: 'OWN-R1' });
    expect(refund.body.respcd, refund.text).toBe('0000');
    // The same sub-merchant's order made through the parent's app code with mchid.
    const parents = await viaParent.pay({ pay_type: '800108', auth_code: '280000000000000001', out_trade_no: 'OWN-2' });
    expect(parents.body.respcd, parents.text).toBe('0000');
    // A refund by the sub-merchant's own app code of that order: the order's app code (the parent's) still signs.
    const crossRefund = await own.refund({ syssn: parents.body.syssn, txamt: '100', out_trade_no: 'OWN-R2' });
    expect(crossRefund.body.respcd, crossRefund.text).toBe('0000');

    await hooks.waitFor(() => [paid, refund, parents, crossRefund].every((r) => hooks.of(r.body.syssn).length > 0));
    for (const r of [paid, refund]) {
      const n = hooks.of(r.body.syssn)[0]!;
      expect(n.body.mchid).toBe('');
      expect(n.headers['x-qf-sign']).toBe(md5(n.raw + sub.qfpay.client_key));
    }
    for (const r of [parents, crossRefund]) {
      const n = hooks.of(r.body.syssn)[0]!;
      expect(n.body.mchid).toBe(sub.merchant_id);
      expect(n.headers['x-qf-sign']).toBe(md5(n.raw + creds.qfpay.client_key));
    }
  });

  it('the daily bill is a zip holding a CSV of the day\'s successful payments and refunds', async () => {
    const syssn = await paidOrder(qf, 'BILL-1', '1200');
    const refund = await qf.refund({ syssn, txamt: '200', out_trade_no: 'BILL-R1' });
    const unpaid = await qf.pay({ pay_type: '800201', out_trade_no: 'BILL-UNPAID' });
    const { body: clock } = await (await fetch(`${tp.baseUrl}/sim/v1/clock`)).json().then((b) => ({ body: b as { now: string } }));
    const today = txdtm(Date.parse(clock.now)).slice(0, 10);

    for (const tradeDate of [today.replace(/-/g, ''), today]) {
      const r = await qf.get('/download/v1/trade_bill', { trade_date: tradeDate });
      expect(r.status).toBe(200);
      expect(r.headers.get('content-type')).toBe('application/zip');
      expect(r.headers.get('content-disposition')).toContain(`trade_bill_${today.replace(/-/g, '')}.zip`);
      const files = unzipSync(new Uint8Array(r.body as Buffer));
      const names = Object.keys(files);
      expect(names).toEqual([`trade_bill_${today.replace(/-/g, '')}.csv`]);
      const lines = strFromU8(files[names[0]!]!).trimEnd().split('\r\n');
      const header = lines[0]!.split(',');
      expect(header).toEqual(expect.arrayContaining(['syssn', 'origssn', 'out_trade_no', 'order_type', 'pay_type', 'txamt', 'txcurrcd', 'sysdtm', 'respcd', 'cancel']));
      const rows = lines.slice(1).map((l) => Object.fromEntries(l.split(',').map((v, i) => [header[i], v])));
      expect(rows.find((x) => x.syssn === syssn)).toMatchObject({ order_type: 'payment', out_trade_no: 'BILL-1', txamt: '1200', respcd: '0000', cancel: '5' });
      expect(rows.find((x) => x.syssn === refund.body.syssn)).toMatchObject({ order_type: 'refund', origssn: syssn, out_trade_no: 'BILL-R1', txamt: '200' });
      expect(rows.find((x) => x.syssn === unpaid.body.syssn)).toBeUndefined();
      expect(rows.every((x) => x.respcd === '0000')).toBe(true);
    }
    const empty = await qf.get('/download/v1/trade_bill', { trade_date: '20200101' });
    const files = unzipSync(new Uint8Array(empty.body as Buffer));
    expect(strFromU8(Object.values(files)[0]!).trimEnd().split('\r\n')).toHaveLength(1);

    expectRespcd(await qf.get('/download/v1/trade_bill', { trade_date: '2020-13-01' }), '1104');
    expectRespcd(await qf.get('/download/v1/trade_bill', {}), '1104');
    expectRespcd(await qf.get('/download/v1/trade_bill', { trade_date: today }, { sign: 'X' }), '1108');
  });

  it('notifications are retried on QFPay\'s schedule until the merchant answers 200 SUCCESS', async () => {
    expect(QFPAY_RETRY_DELAYS_MS).toEqual([120_000, 600_000, 600_000, 3_600_000, 7_200_000, 21_600_000, 54_000_000]);
    const picky = await new NotifyReceiver().start();
    try {
      const merchant = await tp.platform.merchants.create({ name: 'Picky', webhookUrl: picky.url });
      const client = new QfpayClient(tp.baseUrl, merchant.qfpay);
      picky.answers = [[500, 'error'], [200, 'ok'], [200, 'SUCCESS']];
      const syssn = await paidOrder(client, 'RETRY-1');
      await picky.waitFor((all) => all.length === 1);
      await advanceClock(tp, 119);
      await new Promise((r) => setTimeout(r, 300));
      expect(picky.received).toHaveLength(1);
      await advanceClock(tp, 2);
      await picky.waitFor((all) => all.length === 2);
      await advanceClock(tp, 601);
      await picky.waitFor((all) => all.length === 3);
      await advanceClock(tp, 3601);
      await new Promise((r) => setTimeout(r, 300));
      expect(picky.received).toHaveLength(3);
      expect(new Set(picky.received.map((n) => n.raw)).size).toBe(1);
      expect(picky.received.every((n) => n.body.syssn === syssn)).toBe(true);

      const log = (await tp.platform.relay.deliveryLog(merchant.merchant_id)).filter((d) => d.dialect === 'qfpay' && d.attempts > 0);
      expect(log).toHaveLength(1);
      expect(log[0]).toMatchObject({ status: 'succeeded', attempts: 3 });
      expect(log[0]!.attempt_log.map((a) => a.status_code)).toEqual([500, 200, 200]);
      expect(log[0]!.attempt_log.map((a) => a.error)).toEqual(['HTTP 500', 'not acknowledged', null]);
      // Events QFPay does not notify (created, requires_action, ...) were never planned: the paid order is the only delivery.
      const planned = await tp.platform.relay.deliveryLog(merchant.merchant_id);
      expect(planned.map((d) => [d.dialect, d.event_type, d.status])).toEqual([['qfpay', 'payment_intent.succeeded', 'succeeded']]);
    } finally {
      await picky.close();
    }
  });

  it('expired_time: an unpaid order expires (1181) after its minutes; a paid order on an earlier day is refunded, not reversed', async () => {
    const r = await qf.pay({ pay_type: '800101', expired_time: '5', out_trade_no: 'EXP-5' });
    const thirty = await qf.pay({ pay_type: '800101', out_trade_no: 'EXP-30' });
    const paid = await paidOrder(qf, 'EXP-PAID');
    await advanceClock(tp, 299);
    expect((await qf.query({ syssn: r.body.syssn })).body.data[0].respcd).toBe('1143');
    await advanceClock(tp, 2);
    expect((await qf.query({ syssn: r.body.syssn })).body.data[0]).toMatchObject({ respcd: '1181' });
    expect((await qf.query({ syssn: thirty.body.syssn })).body.data[0].respcd).toBe('1143');
    const scan = await simPost(tp.baseUrl, '/wallet/scan', { code: r.body.qrcode, action: 'pay' });
    expect(scan.status).not.toBe(200);
    expectRespcd(await qf.post('/trade/v1/close', { syssn: r.body.syssn, txamt: '300', txdtm: txdtm() }), '1181');
    await advanceClock(tp, 26 * 3600);
    expect((await qf.query({ syssn: thirty.body.syssn })).body.data[0].respcd).toBe('1181');
    expectRespcd(await qf.post('/trade/v1/reversal', { syssn: paid, txamt: '1000', txdtm: txdtm() }), '1260');
    expect((await qf.refund({ syssn: paid, txamt: '1000' })).body.respcd).toBe('0000');
  });
});

/**
 * Alipay pre-authorization as QFPay documents it: the payment call with a
 * pre-authorization pay_type freezes the amount (CPM 801801, MPM 801808,
 * in-app 801810, online 801814); /trade/v1/authtrade captures all or part of
 * it (its own syssn, which refunds name), /trade/v1/unfreeze releases it, and
 * a reversal of the freeze releases it too. Query shows the freeze as 0000,
 * a capture as cancel 4; notifications come for the capture (payment), the
 * release (unfreeze) and refunds.
 */
import { beforeAll, expect, it } from 'vitest';
import { txdtm, type QfpayClient, type QfReply } from '../clients/qfpay-client.mts';
import { describeEachBackend, simPost, type TestPlatform } from '../support/platform.ts';
import { md5, useQfpayShop, type NotifyReceiver } from '../support/qfpay.ts';

function expectRespcd(r: QfReply, respcd: string): void {
  expect(r.status, r.text).toBe(200);
  expect(r.body.respcd, r.text).toBe(respcd);
}

describeEachBackend('QFPay Alipay pre-authorization', (backend) => {
  let tp: TestPlatform;
  let qf: QfpayClient;
  let hooks: NotifyReceiver;
  let clientKey: string;
  const shop = useQfpayShop(backend, 'Hotel Shop');
  beforeAll(() => void ({ tp, qf, hooks } = shop, clientKey = shop.creds.qfpay.client_key));

  const row = async (syssn: string) => (await qf.query({ syssn })).body.data.find((r: any) => r.order_type === 'payment');
  const authtrade = (fields: Record<string, string>) => qf.post('/trade/v1/authtrade', { txdtm: txdtm(), ...fields });
  const unfreeze = (fields: Record<string, string>) => qf.post('/trade/v1/unfreeze', { txdtm: txdtm(), ...fields });

  it('MPM freeze, partial capture (authtrade), refund by the capture syssn; finished freezes take no second capture or release', async () => {
    const freeze = await qf.pay({ pay_type: '801808', txcurrcd: 'USD', txamt: '1000', out_trade_no: 'PA-MPM' });
    expectRespcd(freeze, '0000');
    expect(freeze.body.qrcode).toMatch(new RegExp(`^${tp.baseUrl}/wallet/pay/`));
    const syssn = freeze.body.syssn;
    // Not frozen yet: nothing to capture.
    expectRespcd(await authtrade({ syssn, txamt: '100' }), '1261');
    expect((await row(syssn)).respcd).toBe('1143');

    expect((await simPost(tp.baseUrl, '/wallet/scan', { code: freeze.body.qrcode, action: 'pay' })).status).toBe(200);
    expect(await row(syssn)).toMatchObject({ respcd: '0000', cancel: '0' });
    // A freeze is not a payment: no notification yet, and no refund.
    expectRespcd(await qf.refund({ syssn, txamt: '100' }), '1261');

    expectRespcd(await authtrade({ syssn, txamt: '1001' }), '1266');
    expectRespcd(await authtrade({ syssn, txamt: '600', txcurrcd: 'HKD' }), '1267');
    const capture = await authtrade({ syssn, txamt: '600', out_trade_no: 'PA-MPM-CAP' });
    expectRespcd(capture, '0000');
    expect(capture.body).toMatchObject({ respmsg: 'Capture received', orig_syssn: syssn, txamt: '600', txcurrcd: 'USD', out_trade_no: 'PA-MPM-CAP', pay_type: '801808' });
    expect(capture.body.syssn).toMatch(/^\d+$/);
    expect(capture.body.syssn).not.toBe(syssn);
    // Finished: cancel 4; the shopper paid the captured part in CNY (6.00 USD x 7.1450 = 42.87).
    expect(await row(syssn)).toMatchObject({ respcd: '0000', cancel: '4', cash_fee: '4287', cash_fee_type: 'CNY' });
    expect((await qf.query({ syssn: capture.body.syssn })).body.data.map((r: any) => r.syssn)).toEqual([syssn]);
    await hooks.waitFor((all) => all.some((n) => n.body.syssn === syssn && n.body.notify_type === 'payment'));
    const note = hooks.of(syssn).find((n) => n.body.notify_type === 'payment')!;
    expect(note.body).toMatchObject({ pay_type: '801808', respcd: '0000', cash_fee: '4287' });
    expect(note.headers['x-qf-sign']).toBe(md5(note.raw + clientKey));

    expectRespcd(await authtrade({ syssn, txamt: '100' }), '1264');
    expectRespcd(await unfreeze({ syssn, out_trade_no: 'PA-MPM', txamt: '1000' }), '1264');
    expectRespcd(await authtrade({ syssn, txamt: '1', out_trade_no: 'PA-MPM-CAP' }), '1264');

    // Refunds name the capture by the syssn authtrade answered with.
    const refund = await qf.refund({ syssn: capture.body.syssn, txamt: '600' });
    expectRespcd(refund, '0000');
    expect(refund.body).toMatchObject({ orig_syssn: capture.body.syssn, txamt: '600', cash_refund_fee: '4287' });
    expectRespcd(await qf.refund({ syssn: capture.body.syssn, txamt: '1' }), '1125');
    expect((await row(syssn)).cancel).toBe('3');
  });

  it('CPM freeze released with unfreeze: the order closes, an unfreeze notification comes, nothing can be captured after', async () => {
    const freeze = await qf.pay({ pay_type: '801801', txcurrcd: 'HKD', txamt: '5000', out_trade_no: 'PA-CPM', auth_code: '283854702356157409' });
    expectRespcd(freeze, '0000');
    const syssn = freeze.body.syssn;
    expect(await row(syssn)).toMatchObject({ respcd: '0000', cancel: '0' });
    expectRespcd(await unfreeze({ syssn, out_trade_no: 'PA-CPM', txamt: '4000' }), '1266');
    expectRespcd(await unfreeze({ syssn, out_trade_no: 'PA-OTHER', txamt: '5000' }), '1267');
    const released = await unfreeze({ syssn, out_trade_no: 'PA-CPM', txamt: '5000' });
    expectRespcd(released, '0000');
    expect(released.body).toMatchObject({ respmsg: 'Void received', orig_syssn: syssn, txamt: '5000', out_trade_no: 'PA-CPM' });
    expect(await row(syssn)).toMatchObject({ respcd: '1142', cancel: '1' });
    expectRespcd(await authtrade({ syssn, txamt: '100' }), '1263');
    expectRespcd(await unfreeze({ syssn, out_trade_no: 'PA-CPM', txamt: '5000' }), '1263');
    await hooks.waitFor((all) => all.some((n) => n.body.syssn === syssn && n.body.notify_type === 'unfreeze'));
    const note = hooks.of(syssn).find((n) => n.body.notify_type === 'unfreeze')!;
    expect(note.body).toMatchObject({ pay_type: '801801', txamt: '5000', respcd: '0000' });
    expect(note.headers['x-qf-sign']).toBe(md5(note.raw + clientKey));
    expect(hooks.of(syssn).some((n) => n.body.notify_type === 'payment')).toBe(false);
  });

  it('online and in-app freezes: a reversal releases the freeze, a full capture finishes it', async () => {
    const web = await qf.pay({ pay_type: '801814', txcurrcd: 'SGD', txamt: '2000', return_url: 'https://hotel.example/back' });
    expectRespcd(web, '0000');
    const paid = await fetch(web.body.pay_url, { method: 'POST', body: new URLSearchParams({ action: 'pay' }), redirect: 'manual' });
    expect(paid.status).toBe(303);
    expect((await row(web.body.syssn)).respcd).toBe('0000');
    expectRespcd(await qf.post('/trade/v1/reversal', { syssn: web.body.syssn, txamt: '2000', txdtm: txdtm() }), '0000');
    expect(await row(web.body.syssn)).toMatchObject({ respcd: '1142', cancel: '2' });
    await hooks.waitFor((all) => all.some((n) => n.body.syssn === web.body.syssn && n.body.notify_type === 'unfreeze'));

    const app = await qf.pay({ pay_type: '801810', txcurrcd: 'THB', txamt: '30000', goods_name: 'Deposit' });
    expectRespcd(app, '0000');
    expect((await simPost(tp.baseUrl, '/wallet/scan', { code: app.body.pay_params.tradeNO, action: 'pay' })).status).toBe(200);
    expectRespcd(await authtrade({ syssn: app.body.syssn, txamt: '30000' }), '0000');
    expect(await row(app.body.syssn)).toMatchObject({ respcd: '0000', cancel: '4', cash_fee: '6150' });
  });

  it('authtrade and unfreeze refuse what is not a pre-authorization, unknown orders and bad parameters', async () => {
    const plain = await qf.pay({ pay_type: '800108', auth_code: '283854702356157409' });
    expectRespcd(await authtrade({ syssn: plain.body.syssn, txamt: '100' }), '1136');
    expectRespcd(await unfreeze({ syssn: plain.body.syssn, out_trade_no: plain.body.out_trade_no, txamt: '300' }), '1136');
    expectRespcd(await authtrade({ syssn: '1234567890123456789', txamt: '100' }), '1268');
    expectRespcd(await authtrade({ syssn: plain.body.syssn }), '1104');
    expectRespcd(await unfreeze({ syssn: plain.body.syssn, txamt: '300' }), '1104');
    // Pre-authorization takes the currencies Alipay lists for it.
    expectRespcd(await qf.pay({ pay_type: '801808', txcurrcd: 'EUR' }), '1250');
  });
});

/**
 * Refunds of a payment the wallet charged in another currency (Alipay CN and
 * WeChat Pay debit CNY): each refund reports its share of the converted
 * charge in cash_refund_fee, the shares add up to cash_fee exactly, and a
 * refund worth nothing in CNY is refused like a payment under the smallest
 * CNY amount.
 */
import { beforeAll, expect, it } from 'vitest';
import type { QfpayClient } from '../clients/qfpay-client.mts';
import { describeEachBackend } from '../support/platform.ts';
import { useQfpayShop, type NotifyReceiver } from '../support/qfpay.ts';

/** A paid Alipay CPM order of `txamt` THB. */
async function paidThb(qf: QfpayClient, txamt: string): Promise<string> {
  const r = await qf.pay({ pay_type: '800108', txcurrcd: 'THB', txamt, auth_code: '283854702356157409' });
  expect(r.body.respcd, r.text).toBe('0000');
  return r.body.syssn;
}

describeEachBackend('QFPay refunds in the wallet currency', (backend) => {
  let qf: QfpayClient;
  let hooks: NotifyReceiver;
  const shop = useQfpayShop(backend, 'Bangkok Shop');
  beforeAll(() => void ({ qf, hooks } = shop));

  it('1.00 THB charged 21 fen: a 0.01 THB refund (0 fen) is refused, 0.99 and then the last 0.01 report 20 and 1', async () => {
    const syssn = await paidThb(qf, '100');
    const paid = (await qf.query({ syssn })).body.data[0];
    expect(paid).toMatchObject({ cash_fee: '21', cash_fee_type: 'CNY', exchange_rate: '0.2050' });

    // 0.01 THB is 0.205 fen: nothing the shopper could get back.
    const tiny = await qf.refund({ syssn, txamt: '1', out_trade_no: 'THB-R0' });
    expect(tiny.body.respcd, tiny.text).toBe('1104');
    expect(tiny.body.resperr).toBe('amount is below the smallest CNY amount the wallet can refund');
    // As a payment that small is refused.
    const tinyPay = await qf.pay({ pay_type: '800101', txcurrcd: 'THB', txamt: '1' });
    expect(tinyPay.body.respcd).toBe('1104');
    expect(tinyPay.body.resperr).toBe('amount is below the smallest CNY amount the wallet can charge');
    // The refused refund left nothing behind: its out_trade_no is free and nothing was refunded.
    expect((await qf.query({ syssn })).body.data[0].cancel).toBe('0');

    const big = await qf.refund({ syssn, txamt: '99', out_trade_no: 'THB-R0' });
    expect(big.body).toMatchObject({ respcd: '0000', txamt: '99', cash_fee: '21', cash_refund_fee: '20', cash_refund_fee_type: 'CNY' });
    expect((await qf.query({ syssn })).body.data[0]).toMatchObject({ cancel: '5', cash_refund_fee: '20' });
    // The last 0.01 THB completes the refund: it gets the fen that is left.
    const last = await qf.refund({ syssn, txamt: '1', out_trade_no: 'THB-R1' });
    expect(last.body).toMatchObject({ respcd: '0000', txamt: '1', cash_refund_fee: '1', cash_refund_fee_type: 'CNY' });

    const rows = (await qf.query({ syssn: [syssn, big.body.syssn, last.body.syssn].join(',') })).body.data;
    const payment = rows.find((r: any) => r.order_type === 'payment');
    expect(payment).toMatchObject({ cancel: '3', cash_fee: '21', cash_refund_fee: '21' });
    const refunds = rows.filter((r: any) => r.order_type === 'refund');
    expect(refunds.map((r: any) => Number(r.cash_refund_fee)).reduce((a: number, b: number) => a + b, 0)).toBe(21);

    await hooks.waitFor((all) => all.filter((n) => n.body.notify_type === 'refund' && ['THB-R0', 'THB-R1'].includes(n.body.out_trade_no)).length === 2);
    const notes = hooks.received.filter((n) => n.body.notify_type === 'refund' && n.body.out_trade_no?.startsWith('THB-R'));
    expect(Object.fromEntries(notes.map((n) => [n.body.out_trade_no, n.body.cash_refund_fee]))).toEqual({ 'THB-R0': '20', 'THB-R1': '1' });
  });

  it('three partial refunds of 10.00 THB add up to its 205 fen exactly', async () => {
    const syssn = await paidThb(qf, '1000');
    const fees: number[] = [];
    for (const [i, txamt] of ['333', '333', '334'].entries()) {
      const r = await qf.refund({ syssn, txamt, out_trade_no: `THB-3-${i}` });
      expect(r.body.respcd, r.text).toBe('0000');
      fees.push(Number(r.body.cash_refund_fee));
    }
    // 3.33 THB alone is 68.265 -> 68 fen each time: 68 * 3 = 204 would lose a fen. Cumulative shares: 68, 69, 68.
    expect(fees).toEqual([68, 69, 68]);
    expect(fees.reduce((a, b) => a + b, 0)).toBe(205);
    expect((await qf.query({ syssn })).body.data[0]).toMatchObject({ cash_fee: '205', cash_refund_fee: '205', cancel: '3' });
  });
});

/**
 * QFPay's whole published pay_type table, one row per code (taken from
 * QFPay's pay-type page, its shown and its commented-out rows), each paid or
 * declined the way its shopper would: MPM by scanning the QR code, web / WAP /
 * online on the hosted pay page, in-app / JSAPI / mini program through the
 * wallet SDK's order, CPM with the sandbox payment codes, cards on the hosted
 * card page (3DS where the card or the pay type asks). Every paid order
 * queries as 0000 and sends a signed payment notification carrying its
 * pay_type.
 */
import { beforeAll, expect, it } from 'vitest';
import { PAY_TYPES } from '../../src/dialects/qfpay/pay-types.ts';
import { txdtm, type QfpayClient, type QfReply } from '../clients/qfpay-client.mts';
import { describeEachBackend, simPost, type TestPlatform } from '../support/platform.ts';
import { md5, useQfpayShop, type NotifyReceiver } from '../support/qfpay.ts';

type Mode = 'mpm' | 'cpm' | 'web' | 'sdk' | 'card' | 'preauth-mpm' | 'preauth-cpm' | 'preauth-web' | 'preauth-sdk';

/** QFPay's table: code, how the shopper pays, a currency of its region. */
const PUBLISHED: ReadonlyArray<[string, Mode, string]> = [
  ['800008', 'cpm', 'HKD'], ['800101', 'mpm', 'EUR'], ['800108', 'cpm', 'THB'], ['801101', 'web', 'HKD'], ['801107', 'web', 'USD'],
  ['801110', 'sdk', 'SGD'], ['800107', 'sdk', 'HKD'], ['801501', 'mpm', 'HKD'], ['801510', 'sdk', 'HKD'], ['801512', 'web', 'HKD'],
  ['801514', 'web', 'HKD'], ['800201', 'mpm', 'AUD'], ['800208', 'cpm', 'HKD'], ['800207', 'sdk', 'HKD'], ['800212', 'web', 'HKD'],
  ['800210', 'sdk', 'HKD'], ['800213', 'sdk', 'CAD'], ['801008', 'cpm', 'HKD'], ['801010', 'sdk', 'HKD'], ['805801', 'mpm', 'HKD'],
  ['805808', 'cpm', 'HKD'], ['805814', 'web', 'HKD'], ['805812', 'web', 'HKD'], ['800701', 'mpm', 'HKD'], ['800708', 'cpm', 'USD'],
  ['800712', 'web', 'HKD'], ['800714', 'web', 'HKD'], ['802001', 'mpm', 'HKD'], ['803701', 'mpm', 'HKD'], ['803712', 'web', 'HKD'],
  ['803714', 'web', 'HKD'], ['802801', 'card', 'HKD'], ['802808', 'card', 'HKD'], ['806527', 'card', 'HKD'], ['806708', 'card', 'HKD'],
  ['806808', 'card', 'HKD'], ['804101', 'mpm', 'MYR'], ['804108', 'cpm', 'MYR'], ['804114', 'web', 'MYR'], ['804201', 'mpm', 'SGD'],
  ['804208', 'cpm', 'MYR'], ['804214', 'web', 'SGD'], ['803801', 'mpm', 'SGD'], ['803808', 'cpm', 'SGD'], ['804001', 'mpm', 'MYR'],
  ['804008', 'cpm', 'MYR'], ['804014', 'web', 'MYR'], ['805208', 'cpm', 'THB'], ['805401', 'mpm', 'SGD'], ['803101', 'mpm', 'JPY'],
  ['803108', 'cpm', 'HKD'], ['803208', 'cpm', 'MYR'], ['803214', 'web', 'MYR'], ['803301', 'mpm', 'MYR'], ['803308', 'cpm', 'MYR'],
  ['803314', 'web', 'MYR'], ['802201', 'web', 'THB'], ['802301', 'mpm', 'SGD'], ['802901', 'mpm', 'THB'], ['801908', 'cpm', 'JPY'],
  ['801208', 'cpm', 'THB'], ['801301', 'web', 'THB'], ['801408', 'cpm', 'THB'], ['801701', 'mpm', 'SGD'], ['805601', 'mpm', 'IDR'],
  ['805612', 'web', 'IDR'], ['800710', 'sdk', 'HKD'], ['801801', 'preauth-cpm', 'HKD'], ['801808', 'preauth-mpm', 'USD'], ['801810', 'preauth-sdk', 'THB'],
  ['801814', 'preauth-web', 'SGD'], ['803001', 'mpm', 'HKD'], ['803008', 'cpm', 'HKD'], ['805508', 'card', 'HKD'], ['805514', 'card', 'HKD'],
];

/** The sandbox's payment codes: seed 000's two success codes, and the outcome codes by their last four digits. */
const SUCCESS_CODES = ['283854702356157409', '284057804613761079'];
const DECLINE_CODES: ReadonlyArray<[string, string]> = [['134567890123451201', '1201'], ['284567890123452005', '2005']];

/** A card of the pay type's network, and one that goes through a 3DS challenge where the network has one. */
const CARDS: Record<string, { card: string; challenge?: string; wrongNetwork?: string }> = {
  '802801': { card: '5555555555554444', challenge: '4000002500003155', wrongNetwork: '378282246310005' },
  '802808': { card: '4242424242424242', wrongNetwork: '6200000000000005' },
  '806527': { card: '4242424242424242', challenge: '4000002500003155' },
  '806708': { card: '6200000000000005', wrongNetwork: '4242424242424242' },
  '806808': { card: '378282246310005', wrongNetwork: '5555555555554444' },
  '805508': { card: '4242424242424242', challenge: '4000002500003155' },
  '805514': { card: '4000000000003220', challenge: '4242424242424242' }, // enforced 3DS: a not-enrolled card is challenged
};

const AMOUNT: Record<string, string> = { JPY: '1000', IDR: '20000' };

function ok(r: QfReply): void {
  expect(r.status, r.text).toBe(200);
  expect(r.body.respcd, r.text).toBe('0000');
}

/** The wallet order's token in pay_params (WeChat: prepay_id=..., others: tradeNO). */
function sdkToken(params: Record<string, string>): string {
  return params.tradeNO ?? params.package!.replace(/^prepay_id=/, '');
}

/** The hosted card page: enter a card; follow a 3DS challenge when sent to one. */
async function payByCard(payUrl: string, number: string, challenge: 'success' | 'failure' = 'success'): Promise<Response> {
  const page = await fetch(payUrl);
  expect(page.status).toBe(200);
  expect(await page.text()).toContain('id="card_number"');
  const form = new URLSearchParams({ card_number: number, expiry_month: '12', expiry_year: String(new Date().getUTCFullYear() + 3), cvc: number.length === 15 ? '1234' : '123', card_name: 'Test Shopper' });
  const r = await fetch(payUrl, { method: 'POST', body: form, redirect: 'manual' });
  const location = r.headers.get('location') ?? '';
  if (r.status === 303 && location.includes('/3ds/challenge/')) {
    const challengePage = await fetch(location);
    expect(challengePage.status).toBe(200);
    return fetch(location, { method: 'POST', body: new URLSearchParams({ result: challenge }), redirect: 'manual' });
  }
  return r;
}

describeEachBackend('QFPay pay types: the whole published table', (backend) => {
  let tp: TestPlatform;
  let qf: QfpayClient;
  let hooks: NotifyReceiver;
  let clientKey: string;
  const shop = useQfpayShop(backend, 'Every Pay Type Shop');
  beforeAll(() => void ({ tp, qf, hooks } = shop, clientKey = shop.creds.qfpay.client_key));

  /** Orders paid in this suite: syssn -> pay_type, checked for their notification at the end. */
  const paid = new Map<string, string>();

  async function create(code: string, currency: string, extra: Record<string, string> = {}): Promise<QfReply> {
    const r = await qf.pay({ pay_type: code, txcurrcd: currency, txamt: AMOUNT[currency] ?? '1500', return_url: 'https://shop.example/back', goods_name: 'Table row', ...extra });
    ok(r);
    expect(r.body).toMatchObject({ pay_type: code, txcurrcd: currency, txamt: AMOUNT[currency] ?? '1500' });
    expect(r.body.syssn).toMatch(/^\d+$/);
    return r;
  }

  async function expectPaid(syssn: string, code: string): Promise<Record<string, string>> {
    const row = (await qf.query({ syssn })).body.data[0];
    expect(row, `${code} ${syssn}`).toMatchObject({ syssn, pay_type: code, order_type: 'payment', respcd: '0000' });
    paid.set(syssn, code);
    return row;
  }

  it('has every code of the published table, and no other', () => {
    expect(PUBLISHED).toHaveLength(75);
    expect(new Set(PUBLISHED.map(([c]) => c)).size).toBe(75);
    expect([...PAY_TYPES.keys()].sort()).toEqual(PUBLISHED.map(([c]) => c).sort());
  });

  it('MPM codes answer a QR code; the wallet app pays it (or declines it)', async () => {
    const rows = PUBLISHED.filter(([, m]) => m === 'mpm');
    await Promise.all(rows.map(async ([code, , currency]) => {
      const r = await create(code, currency);
      expect(r.body.qrcode, code).toMatch(new RegExp(`^${tp.baseUrl}/wallet/pay/`));
      expect((await qf.query({ syssn: r.body.syssn })).body.data[0].respcd).toBe('1143');
      expect((await simPost(tp.baseUrl, '/wallet/scan', { code: r.body.qrcode, action: 'pay' })).status).toBe(200);
      await expectPaid(r.body.syssn, code);
      const declined = await create(code, currency);
      expect((await simPost(tp.baseUrl, '/wallet/scan', { code: declined.body.qrcode, action: 'decline' })).status).toBe(200);
      expect((await qf.query({ syssn: declined.body.syssn })).body.data[0].respcd).toBe('1205');
    }));
  });

  it('web / WAP / online codes answer a pay_url to the hosted page, which sends the shopper back', async () => {
    const rows = PUBLISHED.filter(([, m]) => m === 'web');
    await Promise.all(rows.map(async ([code, , currency]) => {
      const r = await create(code, currency);
      expect(r.body.pay_url, code).toMatch(new RegExp(`^${tp.baseUrl}/wallet/pay/`));
      expect(r.body).not.toHaveProperty('qrcode');
      const page = await fetch(r.body.pay_url, { method: 'POST', body: new URLSearchParams({ action: 'pay' }), redirect: 'manual' });
      expect(page.status, code).toBe(303);
      expect(page.headers.get('location')).toBe('https://shop.example/back');
      await expectPaid(r.body.syssn, code);
    }));
    // GrabPay online for SG merchants (QFPay's "*"): return_url is required, and the page comes back in web_url too.
    const grab = await create('804214', 'SGD');
    expect(grab.body.web_url).toBe(grab.body.pay_url);
    const noReturn = await qf.pay({ pay_type: '804214', txcurrcd: 'SGD' });
    expect(noReturn.body).toMatchObject({ respcd: '1104', resperr: 'return_url is required for pay_type 804214' });
  });

  it('in-app / JSAPI / mini-program codes answer pay_params for the wallet SDK, whose order the app pays', async () => {
    const rows = PUBLISHED.filter(([, m]) => m === 'sdk');
    await Promise.all(rows.map(async ([code, , currency]) => {
      const r = await create(code, currency);
      expect(typeof r.body.pay_params, code).toBe('object');
      for (const v of Object.values(r.body.pay_params)) expect(typeof v).toBe('string');
      expect((await simPost(tp.baseUrl, '/wallet/scan', { code: sdkToken(r.body.pay_params), action: 'pay' })).status).toBe(200);
      await expectPaid(r.body.syssn, code);
    }));
  });

  it("CPM codes take the sandbox's payment codes: both seed success codes pay, the outcome codes decline or wait", async () => {
    const rows = PUBLISHED.filter(([, m]) => m === 'cpm');
    await Promise.all(rows.map(async ([code, , currency]) => {
      for (const auth_code of SUCCESS_CODES) {
        const r = await create(code, currency, { auth_code });
        await expectPaid(r.body.syssn, code);
      }
      for (const [auth_code, respcd] of DECLINE_CODES) {
        const r = await qf.pay({ pay_type: code, txcurrcd: currency, txamt: AMOUNT[currency] ?? '1500', auth_code });
        expect(r.body.respcd, `${code} ${auth_code}`).toBe(respcd);
      }
      const pending = await qf.pay({ pay_type: code, txcurrcd: currency, txamt: AMOUNT[currency] ?? '1500', auth_code: '284567890123451145' });
      expect(pending.body.respcd, code).toBe('1145');
    }));
  });

  it('card codes answer a pay_url to the hosted card page; the card is entered there, with 3DS where asked', async () => {
    const rows = PUBLISHED.filter(([, m]) => m === 'card');
    await Promise.all(rows.map(async ([code, , currency]) => {
      const cards = CARDS[code]!;
      const r = await create(code, currency);
      expect(r.body.pay_url, code).toMatch(new RegExp(`^${tp.baseUrl}/card/pay/`));
      expect(r.body).not.toHaveProperty('qrcode');
      expect((await qf.query({ syssn: r.body.syssn })).body.data[0].respcd).toBe('1143');
      if (cards.wrongNetwork) {
        const wrong = await fetch(r.body.pay_url, { method: 'POST', body: new URLSearchParams({ card_number: cards.wrongNetwork, expiry_month: '12', expiry_year: '2040' }) });
        expect(wrong.status, code).toBe(400);
        expect(await wrong.text()).toContain('cards only');
      }
      const done = await payByCard(r.body.pay_url, cards.card);
      expect(done.status, code).toBe(303);
      expect(done.headers.get('location')).toBe('https://shop.example/back');
      await expectPaid(r.body.syssn, code);
      // The notification names the card masked (cardcd); the merchant never saw the number.
      await hooks.waitFor((all) => all.some((n) => n.body.syssn === r.body.syssn));
      expect(hooks.of(r.body.syssn)[0]!.body.cardcd).toBe(`${cards.card.slice(0, 6)}******${cards.card.slice(-4)}`);
      if (cards.challenge) {
        const c = await create(code, currency);
        const finished = await payByCard(c.body.pay_url, cards.challenge);
        expect(finished.status, code).toBe(303);
        await expectPaid(c.body.syssn, code);
      }
    }));
    // A failed challenge leaves the order unpaid; a declined card too, and the shopper may try another card.
    const failed = await create('802801', 'HKD');
    await payByCard(failed.body.pay_url, '4000002500003155', 'failure');
    expect((await qf.query({ syssn: failed.body.syssn })).body.data[0].respcd).not.toBe('0000');
    const declined = await create('802801', 'HKD');
    const d = await payByCard(declined.body.pay_url, '4000000000009995');
    expect(d.status).toBe(402);
    expect((await qf.query({ syssn: declined.body.syssn })).body.data[0].respcd).toBe('1201');
    expect((await payByCard(declined.body.pay_url, '4242424242424242')).status).toBe(303);
    await expectPaid(declined.body.syssn, '802801');
    // A paid card order is refunded through the card network, not reversed.
    const reversal = await qf.post('/trade/v1/reversal', { syssn: declined.body.syssn, txamt: '1500', txdtm: txdtm() });
    expect(reversal.body).toMatchObject({ respcd: '1260', resperr: 'a paid card order is not reversed: use /trade/v1/refund' });
    const refund = await qf.refund({ syssn: declined.body.syssn, txamt: '500' });
    expect(refund.body, refund.text).toMatchObject({ respcd: '0000', txamt: '500', cash_refund_fee: '' });
    // The card page of an order is not found with a wrong secret.
    expect((await fetch(failed.body.pay_url.replace(/.$/, (c: string) => (c === 'A' ? 'B' : 'A')))).status).toBe(404);
  });

  it('pre-authorization codes freeze the amount through their own path; authtrade captures it', async () => {
    const rows = PUBLISHED.filter(([, m]) => m.startsWith('preauth-'));
    await Promise.all(rows.map(async ([code, mode, currency]) => {
      const r = await create(code, currency, mode === 'preauth-cpm' ? { auth_code: SUCCESS_CODES[1]! } : {});
      if (mode === 'preauth-mpm') await simPost(tp.baseUrl, '/wallet/scan', { code: r.body.qrcode, action: 'pay' });
      if (mode === 'preauth-web') await simPost(tp.baseUrl, '/wallet/scan', { code: r.body.pay_url, action: 'pay' });
      if (mode === 'preauth-sdk') await simPost(tp.baseUrl, '/wallet/scan', { code: sdkToken(r.body.pay_params), action: 'pay' });
      expect(await (async () => (await qf.query({ syssn: r.body.syssn })).body.data[0])(), code).toMatchObject({ respcd: '0000', cancel: '0' });
      const capture = await qf.post('/trade/v1/authtrade', { syssn: r.body.syssn, txamt: r.body.txamt, txdtm: r.body.txdtm });
      ok(capture);
      expect((await expectPaid(r.body.syssn, code)).cancel).toBe('4');
    }));
  });

  it('a code QFPay withdrew, or a regional code in another region\'s currency, gets 1250; an unknown one 1104', async () => {
    expect((await qf.pay({ pay_type: '805810' })).body).toMatchObject({ respcd: '1250', respmsg: expect.stringContaining('forbidden') });
    const region = await qf.pay({ pay_type: '802901', txcurrcd: 'HKD' });
    expect(region.body.respcd).toBe('1250');
    expect(region.body.resperr).toContain('TH merchants paid in THB');
    expect((await qf.pay({ pay_type: '804208', txcurrcd: 'SGD', auth_code: SUCCESS_CODES[0]! })).body.respcd).toBe('1250');
    expect((await qf.pay({ pay_type: '123456' })).body).toMatchObject({ respcd: '1104', resperr: 'pay_type 123456 is not a known QFPay pay_type' });
  });

  it('every paid order sent a signed payment notification with its pay_type', async () => {
    expect(paid.size).toBeGreaterThan(70);
    await hooks.waitFor((all) => [...paid.keys()].every((s) => all.some((n) => n.body.syssn === s && n.body.notify_type === 'payment')), 20_000);
    for (const [syssn, code] of paid) {
      const n = hooks.of(syssn).find((x) => x.body.notify_type === 'payment')!;
      expect(n.body).toMatchObject({ pay_type: code, respcd: '0000', status: '1' });
      expect(n.headers['x-qf-sign']).toBe(md5(n.raw + clientKey));
    }
  });
});

/**
 * The QFPay dialect as a merchant's code meets it: signed form requests,
 * every pay_type family (MPM QR codes, CPM payment codes, web / WAP pay
 * pages, JSAPI / in-app / mini-program parameters), the query, and signed
 * notifications in Python's json.dumps layout.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, expect, it } from 'vitest';
import type { IssuedCredentials } from '../../src/core/merchants/merchants.ts';
import { SecretBox } from '../../src/core/secret-box.ts';
import { qfSign, QfpayClient, txdtm, type QfReply } from '../clients/qfpay-client.mts';
import { describeEachBackend, simPost, type TestPlatform } from '../support/platform.ts';
import { md5, useQfpayShop, type NotifyReceiver, type ReceivedNotification } from '../support/qfpay.ts';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const vectors = JSON.parse(readFileSync(path.resolve(repoRoot, '..', 'shared', 'vectors', 'signatures.json'), 'utf8')).qfpay;

/** The layout of Python's json.dumps for a flat object of strings (ensure_ascii escapes). */
function pythonLayout(obj: Record<string, string>): string {
  const str = (s: string) => JSON.stringify(s).replace(/[\u007f-\uffff]/g, (c) => '\\u' + c.charCodeAt(0).toString(16).padStart(4, '0'));
  return '{' + Object.entries(obj).map(([k, v]) => `${str(k)}: ${str(v)}`).join(', ') + '}';
}

/** What a merchant's endpoint checks before answering SUCCESS. */
function expectSignedNotification(n: ReceivedNotification, clientKey: string): void {
  expect(n.headers['content-type']).toMatch(/^application\/json/);
  expect(n.headers['x-qf-sign']).toBe(md5(n.raw + clientKey));
  expect(n.raw).toBe(pythonLayout(n.body));
  for (const v of Object.values(n.body)) expect(typeof v).toBe('string');
}

function expectQfError(r: QfReply, respcd: string): void {
  expect(r.status, r.text).toBe(200);
  expect(r.body.respcd, r.text).toBe(respcd);
  expect(typeof r.body.resperr).toBe('string');
  expect(r.body.resperr.length).toBeGreaterThan(0);
  expect(typeof r.body.respmsg).toBe('string');
}

async function rawPost(baseUrl: string, pathname: string, body: string, headers: Record<string, string>): Promise<QfReply> {
  const r = await fetch(`${baseUrl}${pathname}`, { method: 'POST', headers, body });
  const text = await r.text();
  return { status: r.status, body: JSON.parse(text), text, headers: r.headers };
}

const ALL_FIELDS = ['respcd', 'respmsg', 'resperr', 'pay_type', 'txamt', 'txcurrcd', 'txdtm', 'sysdtm', 'paydtm', 'out_trade_no', 'syssn', 'chnlsn', 'cardcd', 'udid'];
const TIME = /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$/;

describeEachBackend('QFPay payments', (backend) => {
  let tp: TestPlatform;
  let hooks: NotifyReceiver;
  let creds: IssuedCredentials;
  let qf: QfpayClient;
  const shop = useQfpayShop(backend, 'QFPay Shop');
  beforeAll(() => void ({ tp, hooks, creds, qf } = shop));

  it('verifies the published signature vectors over HTTP: MD5 and SHA256, either case; anything else is 1108', async () => {
    // A merchant whose client key and sub-merchant are those of the vector.
    const app = await tp.platform.merchants.create({ name: 'Vector Merchant' });
    const sub = await tp.platform.merchants.createSubMerchant(app.merchant_id, { name: 'Vector Shop' });
    await tp.platform.store.unit(async (db) => {
      // Stored sealed with the platform key, as every merchant secret is.
      await db.updateTable('merchants').set({ qfpay_client_key: new SecretBox(tp.platform.config.encryptionKey).seal(vectors.request.client_key) }).where('id', '=', app.merchant_id).execute();
      await db.updateTable('merchants').set({ id: vectors.request.params.mchid }).where('id', '=', sub.merchant_id).execute();
    });
    const params: Record<string, string> = vectors.request.params;
    const form = new URLSearchParams(params).toString();
    const headers = (sign: string, type?: string) => ({
      'Content-Type': 'application/x-www-form-urlencoded',
      'X-QF-APPCODE': app.qfpay.app_code,
      'X-QF-SIGN': sign,
      ...(type ? { 'X-QF-SIGNTYPE': type } : {}),
    });

    const first = await rawPost(tp.baseUrl, '/trade/v1/payment', form, headers(vectors.request.md5_upper));
    expect(first.status).toBe(200);
    expect(first.body).toMatchObject({ respcd: '0000', pay_type: '800101', txamt: '10', txcurrcd: 'EUR', txdtm: '2019-12-25 14:21:28', out_trade_no: '01234567890123' });
    expect(first.body.qrcode).toMatch(new RegExp(`^${tp.baseUrl}/`));

    // The signature passes (the answer is about the duplicate out_trade_no, not the signature).
    for (const [sign, type] of [
      [vectors.request.sha256_upper, 'SHA256'],
      [vectors.request.sha256_upper.toLowerCase(), 'sha256'],
      [vectors.request.md5_upper.toLowerCase(), undefined],
      [vectors.request.md5_upper, 'MD5'],
    ] as Array<[string, string | undefined]>) {
      const r = await rawPost(tp.baseUrl, '/trade/v1/payment', form, headers(sign, type));
      expectQfError(r, '2011');
    }

    for (const [sign, type] of [
      [vectors.request.sha256_upper, undefined], // SHA256 signature without saying so
      [vectors.request.md5_upper, 'SHA256'],
      ['9CE1C7E8852F01E4352A3C4D667EFF39', undefined],
      ['', undefined],
      [vectors.request.md5_upper, 'SHA1'],
    ] as Array<[string, string | undefined]>) {
      expectQfError(await rawPost(tp.baseUrl, '/trade/v1/payment', form, headers(sign, type)), '1108');
    }
    // One parameter changed after signing.
    expectQfError(await rawPost(tp.baseUrl, '/trade/v1/payment', form.replace('txamt=10', 'txamt=11'), headers(vectors.request.md5_upper)), '1108');
    // Unknown app code, no app code.
    expectQfError(await rawPost(tp.baseUrl, '/trade/v1/payment', form, { ...headers(vectors.request.md5_upper), 'X-QF-APPCODE': 'F'.repeat(32) }), '1108');
    const { 'X-QF-APPCODE': _omit, ...noAppCode } = headers(vectors.request.md5_upper);
    expectQfError(await rawPost(tp.baseUrl, '/trade/v1/payment', form, noAppCode), '1108');
    // The vector's mchid under another app code is not that app code's merchant.
    const other = new QfpayClient(tp.baseUrl, creds.qfpay, vectors.request.params.mchid);
    expectQfError(await other.pay({ pay_type: '800101' }), '1108');
  });

  it('accepts what the sample clients send: query-string params, JSON, PHP-encoded and Java-raw values, signed empty values', async () => {
    const key = creds.qfpay.client_key;
    const base = { txamt: '200', txcurrcd: 'HKD', pay_type: '800101', txdtm: txdtm() };
    const auth = (sign: string) => ({ 'X-QF-APPCODE': creds.qfpay.app_code, 'X-QF-SIGN': sign });

    // Python's requests.post(url, params=data): everything in the query string, no body.
    const inQuery = { ...base, out_trade_no: 'Q-query' };
    const q = await fetch(`${tp.baseUrl}/trade/v1/payment?${new URLSearchParams(inQuery)}`, { method: 'POST', headers: auth(qfSign(inQuery, key)) });
    expect((await q.json()).respcd).toBe('0000');

    // A JSON body, numbers and all.
    const json = { ...base, out_trade_no: 'Q-json', txamt: 200 };
    const j = await rawPost(tp.baseUrl, '/trade/v1/payment', JSON.stringify(json), { ...auth(qfSign({ ...json, txamt: '200' }, key)), 'Content-Type': 'application/json' });
    expect(j.body.respcd, j.text).toBe('0000');

    // PHP's sample: values URL-encoded before signing, and the encoded text is what it posts.
    const goods = 'Tea & cake';
    const php = { ...base, out_trade_no: 'Q-php', goods_name: encodeURIComponent(goods) };
    const phpBody = Object.keys(php).sort().map((k) => `${k}=${php[k as keyof typeof php]}`).join('&');
    const p = await rawPost(tp.baseUrl, '/trade/v1/payment', phpBody, { ...auth(md5(phpBody + key)), 'Content-Type': 'application/x-www-form-urlencoded' });
    expect(p.body.respcd, p.text).toBe('0000');
    const phpRow = (await qf.query({ out_trade_no: 'Q-php' })).body.data[0];
    expect(phpRow.goods_name).toBe(goods);

    // Java's sample: the data string as the body, values not encoded at all (a space, a plus).
    const java = { ...base, out_trade_no: 'Q-java+1', udid: 'till 2' };
    const javaBody = Object.keys(java).sort().map((k) => `${k}=${java[k as keyof typeof java]}`).join('&');
    const jv = await rawPost(tp.baseUrl, '/trade/v1/payment', javaBody, { ...auth(md5(javaBody + key)), 'Content-Type': 'application/x-www-form-urlencoded' });
    expect(jv.body.respcd, jv.text).toBe('0000');

    // Python's make_req_sign signs an empty value too ("goods_name=").
    const empty = { ...base, out_trade_no: 'Q-empty', goods_name: '' };
    const withEmpty = md5(Object.keys(empty).sort().map((k) => `${k}=${empty[k as keyof typeof empty]}`).join('&') + key);
    const e = await rawPost(tp.baseUrl, '/trade/v1/payment', new URLSearchParams(empty).toString(), { ...auth(withEmpty), 'Content-Type': 'application/x-www-form-urlencoded' });
    expect(e.body.respcd, e.text).toBe('0000');

    // Form bodies are read even when a client forgets the Content-Type.
    const bare = { ...base, out_trade_no: 'Q-bare' };
    const b = await rawPost(tp.baseUrl, '/trade/v1/payment', new URLSearchParams(bare).toString(), { ...auth(qfSign(bare, key)), 'Content-Type': 'text/plain' });
    expect(b.body.respcd, b.text).toBe('0000');
  });

  it('a parameter sent twice, in the body or in the query string and the body, is 1104; a POST\'s query string is signed too', async () => {
    const key = creds.qfpay.client_key;
    const auth = (sign: string) => ({ 'X-QF-APPCODE': creds.qfpay.app_code, 'X-QF-SIGN': sign, 'Content-Type': 'application/x-www-form-urlencoded' });
    const base = { txcurrcd: 'HKD', pay_type: '800101', txdtm: txdtm() };

    // txamt twice in one body, signed as a last-value-wins reader would see it.
    const twice = `${new URLSearchParams({ ...base, txamt: '1000', out_trade_no: 'DUP-BODY' })}&txamt=1`;
    expectQfError(await rawPost(tp.baseUrl, '/trade/v1/payment', twice, auth(qfSign({ ...base, txamt: '1', out_trade_no: 'DUP-BODY' }, key))), '1104');
    // The same value twice is still a parameter sent twice.
    const same = `${new URLSearchParams({ ...base, txamt: '1000', out_trade_no: 'DUP-SAME' })}&out_trade_no=DUP-SAME`;
    expectQfError(await rawPost(tp.baseUrl, '/trade/v1/payment', same, auth(qfSign({ ...base, txamt: '1000', out_trade_no: 'DUP-SAME' }, key))), '1104');

    // A signed body with ?txamt=1 beside it.
    const body = { ...base, txamt: '1000', out_trade_no: 'DUP-QUERY' };
    expectQfError(await rawPost(tp.baseUrl, '/trade/v1/payment?txamt=1', new URLSearchParams(body).toString(), auth(qfSign(body, key))), '1104');
    // A GET whose query string names a parameter twice.
    const open = await qf.pay({ pay_type: '800201', out_trade_no: 'DUP-OPEN' });
    const close = { syssn: open.body.syssn, txamt: '300', txdtm: txdtm() };
    const get = await fetch(`${tp.baseUrl}/trade/v1/close?${new URLSearchParams(close)}&txamt=300`, {
      headers: { 'X-QF-APPCODE': creds.qfpay.app_code, 'X-QF-SIGN': qfSign(close, key) },
    });
    expect((await get.json()).respcd).toBe('1104');
    expect((await qf.query({ syssn: open.body.syssn })).body.data[0]).toMatchObject({ respcd: '1143', cancel: '0' });

    // A query-string parameter the signature leaves out is 1108; signed with the body, it counts.
    const extra = { ...base, txamt: '1000', out_trade_no: 'DUP-SPLIT' };
    expectQfError(await rawPost(tp.baseUrl, '/trade/v1/payment?udid=till-9', new URLSearchParams(extra).toString(), auth(qfSign(extra, key))), '1108');
    const split = await rawPost(tp.baseUrl, '/trade/v1/payment?udid=till-9', new URLSearchParams(extra).toString(), auth(qfSign({ ...extra, udid: 'till-9' }, key)));
    expect(split.body).toMatchObject({ respcd: '0000', udid: 'till-9', txamt: '1000' });

    // None of the refused requests made an order.
    const rows = (await qf.query({ out_trade_no: 'DUP-BODY,DUP-SAME,DUP-QUERY' })).body.data;
    expect(rows).toHaveLength(0);
  });

  it('answers bad input with a clear respcd, resperr and respmsg, never a 500', async () => {
    const cases: Array<[Record<string, string>, string]> = [
      [{ pay_type: '800101', txamt: '' }, '1104'],
      [{ pay_type: '800101', txamt: '1.50' }, '1104'],
      [{ pay_type: '800101', txamt: '0' }, '1104'],
      [{ pay_type: '800101', txamt: '123456789012' }, '1104'],
      [{ pay_type: '800101', txcurrcd: 'GBP' }, '1104'],
      [{ pay_type: '800101', txcurrcd: 'H$D' }, '1104'],
      [{ pay_type: '999999' }, '1104'],
      // A code QFPay withdrew, and a regional pay type in another region's currency: 1250, not "unknown".
      [{ pay_type: '805810' }, '1250'],
      [{ pay_type: '802901', txcurrcd: 'HKD' }, '1250'],
      [{ pay_type: '804214', txcurrcd: 'MYR' }, '1104'], // GrabPay online needs return_url
      [{ pay_type: '800101', txdtm: '2026/01/01 10:00:00' }, '1104'],
      [{ pay_type: '800101', txdtm: '2026-02-30 10:00:00' }, '1104'],
      [{ pay_type: '800101', expired_time: '3' }, '1104'],
      [{ pay_type: '800101', expired_time: '121' }, '1104'],
      [{ pay_type: '800101', goods_name: 'x'.repeat(65) }, '1104'],
      [{ pay_type: '800101', out_trade_no: 'x'.repeat(129) }, '1104'],
      [{ pay_type: '800101', notify_url: 'ftp://example.com/n' }, '1104'],
      [{ pay_type: '801101', return_url: 'not a url' }, '1104'],
      [{ pay_type: '800108' }, '1104'],
      [{ pay_type: '800108', auth_code: 'not-a-code' }, '1202'],
      [{ pay_type: '800008', auth_code: '990000000000000001' }, '1202'],
    ];
    for (const [fields, respcd] of cases) {
      const r = await qf.pay(fields);
      expect(r.status, JSON.stringify(fields)).toBe(200);
      expect(r.body.respcd, `${JSON.stringify(fields)} -> ${r.text}`).toBe(respcd);
      expect(r.body.resperr).toBeTruthy();
      expect(typeof r.body.respmsg).toBe('string');
    }
    const noPayType = await qf.post('/trade/v1/payment', { txamt: '1', txcurrcd: 'HKD', out_trade_no: 'np', txdtm: txdtm() });
    expectQfError(noPayType, '1104');
    expect(noPayType.body.resperr).toMatch(/pay_type/);

    const badJson = await rawPost(tp.baseUrl, '/trade/v1/payment', '{"txamt": ', {
      'Content-Type': 'application/json',
      'X-QF-APPCODE': creds.qfpay.app_code,
      'X-QF-SIGN': 'X',
    });
    expectQfError(badJson, '1103');

    const unknown = await qf.post('/trade/v1/nothing', {});
    expect(unknown.status).toBe(404);
    expect(unknown.body.respcd).toBe('1104');

    // None of the refused requests left an order behind.
    const all = await qf.query({});
    expect(all.body.data.filter((r: any) => r.out_trade_no === 'np')).toHaveLength(0);
  });

  it('MPM pay types answer with a QR code; paying it shows 0000 and sends a signed notification', async () => {
    const mpm = ['800101', '800201', '801501', '800701', '805801', '802001', '803701'];
    for (const payType of mpm) {
      const outTradeNo = `MPM-${payType}`;
      const r = await qf.pay({ pay_type: payType, out_trade_no: outTradeNo, txamt: '300', goods_name: '咖啡 coffee', udid: 'till-7' });
      expect(r.status).toBe(200);
      for (const f of ALL_FIELDS) expect(typeof r.body[f], `${payType} ${f}`).toBe('string');
      expect(r.body).toMatchObject({ respcd: '0000', resperr: 'success', pay_type: payType, txamt: '300', txcurrcd: 'HKD', out_trade_no: outTradeNo, udid: 'till-7' });
      expect(r.body.sysdtm).toMatch(TIME);
      expect(r.body.syssn).toMatch(/^\d{15,40}$/);
      expect(r.body.qrcode).toMatch(new RegExp(`^${tp.baseUrl}/`));
      if (payType === '801501') expect(r.body.pay_url).toMatch(new RegExp(`^${tp.baseUrl}/`));
      else expect(r.body).not.toHaveProperty('pay_url');

      const before = await qf.query({ syssn: r.body.syssn });
      expect(before.body.data[0]).toMatchObject({ respcd: '1143', cancel: '0', order_type: 'payment' });

      const scan = await simPost(tp.baseUrl, '/wallet/scan', { code: r.body.qrcode, action: 'pay' });
      expect(scan.status, scan.text).toBe(200);

      const after = await qf.query({ syssn: r.body.syssn });
      expect(after.body).toMatchObject({ respcd: '0000', page: '1', page_size: '10' });
      expect(after.body.data).toHaveLength(1);
      expect(after.body.data[0]).toMatchObject({
        syssn: r.body.syssn,
        out_trade_no: outTradeNo,
        pay_type: payType,
        order_type: 'payment',
        txamt: '300',
        txcurrcd: 'HKD',
        respcd: '0000',
        cancel: '0',
        goods_name: '咖啡 coffee',
        udid: 'till-7',
      });
      expect(after.body.data[0].chnlsn).not.toBe('');

      await hooks.waitFor(() => hooks.of(r.body.syssn).length > 0);
      const [n] = hooks.of(r.body.syssn);
      expectSignedNotification(n!, creds.qfpay.client_key);
      expect(n!.body).toMatchObject({ status: '1', notify_type: 'payment', respcd: '0000', pay_type: payType, txamt: '300', out_trade_no: outTradeNo, cancel: '0', mchid: '' });
      expect(n!.raw).toContain('"goods_name": "\\u5496\\u5561 coffee"');
    }

    // Alipay CN and WeChat Pay debit the shopper in CNY: the query says how much, at which rate.
    const alipay = (await qf.query({ out_trade_no: 'MPM-800101' })).body.data[0];
    expect(alipay).toMatchObject({ cash_fee: '275', cash_fee_type: 'CNY', exchange_rate: '0.9170' });
    const n = hooks.of(alipay.syssn)[0]!;
    expect(Object.keys(n.body)).toEqual([
      'status', 'pay_type', 'sysdtm', 'paydtm', 'txcurrcd', 'txdtm', 'txamt', 'out_trade_no', 'syssn', 'cancel', 'respcd',
      'notify_type', 'mchid', 'goods_name', 'exchange_rate', 'chnlsn', 'cardcd', 'cash_fee', 'cash_fee_type', 'cash_refund_fee', 'cash_refund_fee_type',
    ]);
    expect(n.body).toMatchObject({ cash_fee: '275', cash_fee_type: 'CNY', exchange_rate: '0.9170' });
    const payme = (await qf.query({ out_trade_no: 'MPM-805801' })).body.data[0];
    expect(payme).toMatchObject({ cash_fee: '', cash_fee_type: '' });
    // Only successful payments are notified: no notification for the unpaid orders of other tests.
    expect(hooks.received.every((h) => h.body.respcd === '0000' && h.body.status === '1')).toBe(true);
  });

  it('CPM pay types charge the payment code: paid at once, pending then paid, or declined', async () => {
    const paid = await qf.pay({ pay_type: '800108', auth_code: '280000000000000001', txamt: '1000', out_trade_no: 'CPM-paid' });
    expect(paid.body).toMatchObject({ respcd: '0000', resperr: 'success', pay_type: '800108', txamt: '1000' });
    expect(paid.body.chnlsn).not.toBe('');
    expect(paid.body).not.toHaveProperty('qrcode');

    // Any wallet (800008): the code says which; WeChat codes start 10-15.
    const anyWallet = await qf.pay({ pay_type: '800008', auth_code: '134567890123456789', out_trade_no: 'CPM-any' });
    expect(anyWallet.body.respcd).toBe('0000');

    for (const [payType, code] of [['800208', '130000000000000002'], ['801008', '130000000000000003'], ['805808', '570000000000000004'], ['800708', '620000000000000005']]) {
      const r = await qf.pay({ pay_type: payType!, auth_code: code! });
      expect(r.body.respcd, `${payType}: ${r.text}`).toBe('0000');
    }

    // The payer is still entering the password: 1143, then paid once they have.
    const pending = await qf.pay({ pay_type: '800008', auth_code: '280000000000001143', out_trade_no: 'CPM-pending' });
    expect(pending.body.respcd).toBe('1143');
    expect((await qf.query({ syssn: pending.body.syssn })).body.data[0].respcd).toBe('1143');
    const processing = await qf.pay({ pay_type: '800208', auth_code: '130000000000001145', out_trade_no: 'CPM-processing' });
    expect(processing.body.respcd).toBe('1145');
    expect((await qf.query({ syssn: processing.body.syssn })).body.data[0].respcd).toBe('1145');
    const moved = await simPost(tp.baseUrl, '/clock/advance', { seconds: 11 });
    expect(moved.status).toBe(200);
    const settled = await qf.query({ syssn: `${pending.body.syssn},${processing.body.syssn}` });
    expect(settled.body.data.map((r: any) => r.respcd)).toEqual(['0000', '0000']);
    await hooks.waitFor(() => hooks.of(pending.body.syssn).length > 0);
    expectSignedNotification(hooks.of(pending.body.syssn)[0]!, creds.qfpay.client_key);

    // Declines: the order exists and keeps its failure.
    for (const [code, respcd] of [['280000000000001201', '1201'], ['280000000000001202', '1202'], ['280000000000002005', '2005'], ['280000000000001205', '1205']]) {
      const r = await qf.pay({ pay_type: '800108', auth_code: code!, out_trade_no: `CPM-declined-${respcd}` });
      expect(r.body.respcd, r.text).toBe(respcd);
      expect(r.body.resperr).not.toBe('success');
      expect(r.body.syssn).toMatch(/^\d+$/);
      const row = (await qf.query({ out_trade_no: `CPM-declined-${respcd}` })).body.data[0];
      expect(row).toMatchObject({ respcd, order_type: 'payment' });
      expect(hooks.of(r.body.syssn)).toHaveLength(0);
    }
  });

  it('web / WAP pay types answer with a pay_url whose page sends the shopper back to return_url', async () => {
    for (const payType of ['801101', '801107', '801512', '801514', '800212', '800712', '800714', '805812', '805814', '803712', '803714']) {
      const r = await qf.pay({ pay_type: payType, return_url: 'https://shop.example/done?order=1' });
      expect(r.body.respcd, r.text).toBe('0000');
      expect(r.body.pay_url).toMatch(new RegExp(`^${tp.baseUrl}/`));
      expect(r.body).not.toHaveProperty('qrcode');
    }
    // Alipay WAP takes a return_url of at most 200 characters; web pay types up to 512.
    const returnUrl = (length: number) => `https://shop.example/done?order=${'x'.repeat(length - 32)}`;
    expect(returnUrl(200)).toHaveLength(200);
    for (const payType of ['801107', '801512']) {
      expect((await qf.pay({ pay_type: payType, return_url: returnUrl(200) })).body.respcd).toBe('0000');
      const long = await qf.pay({ pay_type: payType, return_url: returnUrl(201), out_trade_no: `WAP-LONG-${payType}` });
      expectQfError(long, '1104');
      expect(long.body.resperr).toMatch(/return_url/);
      expect((await qf.query({ out_trade_no: `WAP-LONG-${payType}` })).body.data).toHaveLength(0);
    }
    expect((await qf.pay({ pay_type: '801101', return_url: returnUrl(512) })).body.respcd).toBe('0000');
    expectQfError(await qf.pay({ pay_type: '801101', return_url: returnUrl(513) }), '1104');

    const r = await qf.pay({ pay_type: '801101', txamt: '10', return_url: 'https://shop.example/done?order=42', out_trade_no: 'WEB-1' });
    const page = await fetch(r.body.pay_url);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toMatch(/text\/html/);
    expect(await page.text()).toContain('WEB-1');

    const paid = await fetch(r.body.pay_url, { method: 'POST', body: new URLSearchParams({ action: 'pay' }), redirect: 'manual' });
    expect(paid.status).toBe(303);
    // The merchant's URL as it gave it: no UQPAY fields, no internal ids.
    expect(paid.headers.get('location')).toBe('https://shop.example/done?order=42');
    expect((await qf.query({ out_trade_no: 'WEB-1' })).body.data[0].respcd).toBe('0000');

    // Alipay HK's online QR (801501) sends the shopper back too, once paid on its page (seed 004).
    const qr = await qf.pay({ pay_type: '801501', txamt: '10', return_url: 'https://shop.example/done?order=43' });
    expect(qr.body.respcd, qr.text).toBe('0000');
    const qrPaid = await fetch(qr.body.pay_url, { method: 'POST', body: new URLSearchParams({ action: 'pay' }), redirect: 'manual' });
    expect(qrPaid.status).toBe(303);
    expect(qrPaid.headers.get('location')).toBe('https://shop.example/done?order=43');
  });

  it('JSAPI, in-app and mini-program pay types answer with pay_params for the wallet SDK', async () => {
    for (const payType of ['800207', '800210', '800213', '801010', '801110', '801510', '800107']) {
      const r = await qf.pay({ pay_type: payType, goods_name: 'App order' });
      expect(r.body.respcd, r.text).toBe('0000');
      expect(typeof r.body.pay_params).toBe('object');
      for (const v of Object.values(r.body.pay_params)) expect(typeof v).toBe('string');
      if (['800207', '800210', '800213', '801010'].includes(payType)) {
        expect(Object.keys(r.body.pay_params).sort()).toEqual(['appId', 'nonceStr', 'package', 'paySign', 'signType', 'timeStamp']);
        expect(r.body.pay_params.package).toMatch(/^prepay_id=/);
      }
      expect(r.body).not.toHaveProperty('qrcode');
      expect(r.body).not.toHaveProperty('pay_url');
    }
  });

  it('query filters by lists, pay_type, respcd and time, and pages', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) {
      const r = await qf.pay({ pay_type: '805801', out_trade_no: `PAGE-${i}` });
      ids.push(r.body.syssn);
    }
    const byOut = await qf.query({ out_trade_no: 'PAGE-0,PAGE-1, PAGE-2,missing' });
    expect(byOut.body.data.map((r: any) => r.out_trade_no).sort()).toEqual(['PAGE-0', 'PAGE-1', 'PAGE-2']);
    const bySyssn = await qf.query({ syssn: ids.join(','), page_size: '2', page: '2' });
    expect(bySyssn.body).toMatchObject({ respcd: '0000', page: '2', page_size: '2' });
    expect(bySyssn.body.data).toHaveLength(2);
    const payme = await qf.query({ pay_type: '805801', respcd: '1143' });
    expect(payme.body.data.map((r: any) => r.out_trade_no)).toEqual(expect.arrayContaining(['PAGE-0', 'PAGE-4']));
    expect(payme.body.data.every((r: any) => r.pay_type === '805801' && r.respcd === '1143')).toBe(true);
    const big = await qf.query({ page_size: '500' });
    expect(big.body.page_size).toBe('100');
    const now = Date.now();
    const lastMonth = txdtm(now - 40 * 86_400_000);
    const empty = await qf.query({ start_time: lastMonth.slice(0, 8) + '01 00:00:00', end_time: lastMonth.slice(0, 8) + '02 00:00:00' });
    expect(empty.body).toMatchObject({ respcd: '0000', data: [] });
    expectQfError(await qf.query({ start_time: txdtm(now - 62 * 86_400_000), end_time: txdtm(now) }), '1104');
    expectQfError(await qf.query({ start_time: 'yesterday' }), '1104');
    expectQfError(await qf.query({ page: '0' }), '1104');
  });
});

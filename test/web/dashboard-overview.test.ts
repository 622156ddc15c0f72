/**
 * The overview over payments made through each dialect's API: balances per
 * currency, and payments, success rate and volume by dialect and by method,
 * for the user's merchant and its sub-merchants and nobody else's.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { txdtm, QfpayClient } from '../clients/qfpay-client.mts';
import { AlphapayClient, payBody } from '../support/alphapay.ts';
import { createUser, signIn } from '../support/dashboard.ts';
import { describeEachBackend, intentBody, seedCard, startPlatform, UqpayClient, type TestPlatform } from '../support/platform.ts';

/** The rows of the overview's table with this caption: each row's cells, as text. */
function tableAfter(page: string, caption: string): string[][] {
  const at = page.indexOf(`<caption>${caption}</caption>`);
  if (at < 0) return [];
  const section = page.slice(at);
  const table = section.slice(0, section.indexOf('</table>'));
  return [...table.matchAll(/<tr>([\s\S]*?)<\/tr>/g)]
    .map((m) => [...m[1]!.matchAll(/<td[^>]*>([\s\S]*?)<\/td>/g)].map((c) => c[1]!.trim()))
    .filter((cells) => cells.length > 0);
}

const balancesOf = (page: string) => [...page.matchAll(/<span class="amount">([^<]*)<\/span>/g)].map((m) => m[1]);

describeEachBackend('dashboard overview', (backend) => {
  let tp: TestPlatform;
  let shopId: string;
  let otherId: string;
  beforeAll(async () => {
    tp = await startPlatform(backend);
    const uq = await UqpayClient.create(tp, { name: 'Overview Shop' });
    shopId = uq.credentials.merchant_id;
    const card = async (client: UqpayClient, amount: string, cardNumber = '5346930100108117') => {
      const r = await client.post('/v2/payment_intents/create', { ...intentBody({ amount, currency: 'SGD' }), payment_method: seedCard({ card_number: cardNumber, network: cardNumber.startsWith('4') ? 'visa' : 'mastercard' }) });
      expect(r.status, r.text).toBe(200);
    };
    await card(uq, '10.00');
    await card(uq, '5.50');
    await card(uq, '7.00', '4000000000000002'); // declined
    // A sub-merchant's payment counts for its parent's users.
    const sub = new UqpayClient(tp.baseUrl, await tp.platform.merchants.createSubMerchant(shopId, { name: 'Overview Kiosk' }));
    await sub.authenticate();
    await card(sub, '20.00');
    // A payment code over QFPay, and one over AlphaPay, paid at once.
    const qf = new QfpayClient(tp.baseUrl, uq.credentials.qfpay);
    const q = await qf.pay({ pay_type: '800008', txcurrcd: 'HKD', txamt: '1500', auth_code: '283854702356157409', txdtm: txdtm() });
    expect(q.body.respcd, q.text).toBe('0000');
    const ap = new AlphapayClient(tp.baseUrl, uq.credentials.alphapay);
    const a = await ap.pay({ ...payBody({ scenarioCode: 'OFFLINE', value: '250', currency: 'CAD' }), paymentMethod: { paymentMethodType: 'Alipay', paymentCode: '280000000000000001' } });
    expect(a.body.result?.resultCode, a.text).toBe('SUCCESS');
    // Another merchant's payment: never on the first one's overview.
    const other = await UqpayClient.create(tp, { name: 'Other Shop' });
    otherId = other.credentials.merchant_id;
    await card(other, '99.00');
  });
  afterAll(async () => tp?.close());

  it('shows balances and per-dialect, per-method totals of the merchant and its sub-merchants', async () => {
    const login = await createUser(tp, { merchantId: shopId, role: 'viewer' });
    const page = (await (await signIn(tp, login.email, login.password)).get('/dashboard')).text;
    expect(balancesOf(page)).toEqual(['CAD 2.50', 'HKD 15.00', 'SGD 35.50']);
    expect(page).toContain('Across your merchant and its 1 sub-merchant.');
    const byDialect = [
      ['AlphaPay', 'CAD', '1', '1', '100%', 'CAD 2.50'],
      ['QFPay', 'HKD', '1', '1', '100%', 'HKD 15.00'],
      ['UQPAY', 'SGD', '4', '3', '75%', 'SGD 35.50'],
    ];
    const byMethod = [
      ['Alipay', 'CAD', '1', '1', '100%', 'CAD 2.50'],
      ['Alipay', 'HKD', '1', '1', '100%', 'HKD 15.00'],
      ['Card', 'SGD', '4', '3', '75%', 'SGD 35.50'],
    ];
    expect(tableAfter(page, 'Today by dialect')).toEqual(byDialect);
    expect(tableAfter(page, 'Today by method')).toEqual(byMethod);
    expect(tableAfter(page, 'Last 30 days by dialect')).toEqual(byDialect);
    expect(tableAfter(page, 'Last 30 days by method')).toEqual(byMethod);
    // The charts' data, for the script to draw: no script runs inline.
    const data = JSON.parse(/<script type="application\/json" id="overview-data">([^<]*)<\/script>/.exec(page)![1]!);
    expect(data.days).toHaveLength(30);
    expect(data.volume.map((v: { currency: string }) => v.currency)).toEqual(['SGD', 'CAD', 'HKD']);
    expect(data.volume[0].series.map((s: { label: string }) => s.label)).toEqual(['UQPAY']);
    expect(data.methodRates.map((r: { label: string; values: unknown[] }) => [r.label, r.values.at(-1)])).toEqual([['Alipay', 100], ['Card', 75]]);
    const sgd = data.volume[0].series.find((s: { label: string }) => s.label === 'UQPAY');
    expect(sgd.values.at(-1)).toBe(3550);
    expect(page).not.toContain('SGD 99.00');
  });

  it("shows another merchant's user only that merchant's payments", async () => {
    const login = await createUser(tp, { merchantId: otherId });
    const page = (await (await signIn(tp, login.email, login.password)).get('/dashboard')).text;
    expect(balancesOf(page)).toEqual(['SGD 99.00']);
    expect(tableAfter(page, 'Last 30 days by dialect')).toEqual([['UQPAY', 'SGD', '1', '1', '100%', 'SGD 99.00']]);
    expect(tableAfter(page, 'Last 30 days by method')).toEqual([['Card', 'SGD', '1', '1', '100%', 'SGD 99.00']]);
    for (const theirs of ['Overview Shop', 'SGD 35.50', 'HKD', 'CAD']) expect(page).not.toContain(theirs);
  });
});

describe('dashboard overview of a merchant without payments', () => {
  let tp: TestPlatform;
  beforeAll(async () => {
    tp = await startPlatform('sqlite');
  });
  afterAll(async () => tp?.close());

  it('says so instead of showing empty charts', async () => {
    const merchant = await tp.platform.merchants.create({ name: 'New Shop' });
    const login = await createUser(tp, { merchantId: merchant.merchant_id });
    const page = (await (await signIn(tp, login.email, login.password)).get('/dashboard')).text;
    expect(page).toContain('No money has moved yet.');
    expect(page).toContain('No payments today yet.');
    expect(page).not.toContain('data-chart');
  });
});

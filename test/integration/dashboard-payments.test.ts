/**
 * The console's payments pages over HTTP, as a signed-in merchant user sees
 * them: the list with its filters, search and pages, the filters' errors,
 * the CSV export, a payment's timeline, and the capture, cancel and refund
 * actions (the same rules as the API, once per form however often it is
 * sent, a refusal as a message, never a 500).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createUser, signIn, type DashboardClient } from '../support/dashboard.ts';
import { intentBody, seedCard, startPlatform, UqpayClient, type TestPlatform } from '../support/platform.ts';
import { seedPayments } from '../support/console-seed.ts';

/** The one-time key of the first form of a page posting to `action`. */
function formKey(page: string, action: string): string {
  const form = page.slice(page.indexOf(`action="${action}"`));
  return /name="_key" value="([^"]+)"/.exec(form)?.[1] ?? '';
}

const flashOf = (page: string) => /class="flash (ok|bad)"[^>]*>([^<]*)</.exec(page)?.slice(1) ?? [];

describe('dashboard payments pages', () => {
  let tp: TestPlatform;
  let api: UqpayClient;
  let admin: DashboardClient;

  beforeAll(async () => {
    tp = await startPlatform('sqlite');
    api = await UqpayClient.create(tp, { name: 'Console Shop' });
    const login = await createUser(tp, { merchantId: api.credentials.merchant_id });
    admin = await signIn(tp, login.email, login.password);
  });

  afterAll(async () => {
    await tp?.close();
  });

  async function cardPayment(fields: Record<string, unknown> = {}, card: Record<string, unknown> = {}) {
    const r = await api.post('/v2/payment_intents/create', { ...intentBody(fields), payment_method: seedCard(card) });
    expect(r.status, r.text).toBe(200);
    return r.body as { payment_intent_id: string; intent_status: string };
  }

  /** A form of the payment's page, sent as the browser sends it; the page shown after. */
  async function act(intentId: string, action: string, fields: Record<string, string>, key?: string) {
    const page = await admin.get(`/dashboard/payments/${intentId}`);
    expect(page.status, page.text).toBe(200);
    const form = { _key: key ?? formKey(page.text, `/dashboard/payments/${intentId}/${action}`), ...fields };
    const r = await admin.post(`/dashboard/payments/${intentId}/${action}`, form);
    expect(r.status, r.text).toBe(303);
    expect(r.location).toBe(`/dashboard/payments/${intentId}`);
    const after = await admin.get(r.location!);
    return { form, flash: flashOf(after.text), page: after.text };
  }

  it('lists a payment made through the API, finds it by filter and by any id, and shows its timeline', async () => {
    const paid = await cardPayment({ amount: '12.34', currency: 'USD' }, { card_number: '4242424242424242', network: 'visa' });
    const list = await admin.get('/dashboard/payments');
    expect(list.status).toBe(200);
    expect(list.text).toContain(paid.payment_intent_id);
    expect(list.text).toContain('USD 12.34');
    expect(list.text).toContain('Visa •••• 4242');
    for (const query of ['status=SUCCEEDED&dialect=uqpay&currency=usd', 'method=card%3Avisa', `q=${paid.payment_intent_id}`, 'q=4242', 'currency=USD&min=12.34&max=12.34']) {
      const r = await admin.get(`/dashboard/payments?${query}`);
      expect(r.status, query).toBe(200);
      expect(r.text, query).toContain(paid.payment_intent_id);
    }
    for (const query of ['status=FAILED', 'dialect=qfpay', 'currency=USD&min=12.35', 'q=9999']) {
      const r = await admin.get(`/dashboard/payments?${query}`);
      expect(r.text, query).not.toContain(paid.payment_intent_id);
      expect(r.text, query).toContain('No payments match these filters.');
    }
    const detail = await admin.get(`/dashboard/payments/${paid.payment_intent_id}`);
    expect(detail.status).toBe(200);
    expect(detail.text).toContain('Payment created for USD 12.34');
    expect(detail.text).toContain('Payment succeeded');
    expect(detail.text).toContain('Ledger journal');
    // No webhook URL, so nothing is sent and there is nothing to resend.
    expect(detail.text).not.toContain('/resend');
  });

  it('says what is wrong with a filter instead of listing', async () => {
    const cases: Array<[string, string]> = [
      ['currency=USD&min=1.234', 'Minimum amount has more than 2 decimal places for USD'],
      ['currency=JPY&max=10.5', 'Maximum amount has more than 0 decimal places for JPY'],
      ['min=10', 'Choose a currency to filter by minimum amount'],
      ['currency=USD&min=abc', 'Minimum amount must be a positive decimal number'],
      ['currency=USD&min=20&max=10', 'Minimum amount must not be more than Maximum amount'],
      ['currency=XYZ', 'Currency XYZ is not supported'],
      ['from=2026-02-30', 'From must be a date like 2026-12-04'],
      ['status=PAID', 'Status PAID is not one a payment has'],
      ['after=nonsense', 'The page link is not valid'],
    ];
    for (const [query, message] of cases) {
      const r = await admin.get(`/dashboard/payments?${query}`);
      expect(r.status, query).toBe(400);
      expect(r.text, query).toContain(message);
      const csv = await admin.get(`/dashboard/payments.csv?${query.replace(/after=.*/, 'min=1')}`);
      expect(csv.status, query).toBe(400);
    }
  });

  it('pages with Next links that carry on where a page ended, to the last page and no further', async () => {
    const merchantId = api.credentials.merchant_id;
    await seedPayments(tp.platform.store, { merchantId, count: 120, startMs: Date.UTC(2026, 0, 1), stepMs: 0.5, seed: 11 });
    const seen: string[] = [];
    let path = '/dashboard/payments?dialect=qfpay';
    for (let pages = 0; pages < 10; pages++) {
      const r = await admin.get(path);
      expect(r.status).toBe(200);
      seen.push(...[...r.text.matchAll(/href="\/dashboard\/payments\/(PI\d+)"/g)].map((m) => m[1]!));
      const next = /rel="next" href="([^"]+)"/.exec(r.text)?.[1];
      if (!next) break;
      path = next.replace(/&amp;/g, '&');
    }
    // Every fourth seeded payment is a QFPay order: 30 of them, each once, newest first.
    expect(seen).toHaveLength(30);
    expect(new Set(seen).size).toBe(30);
    expect(seen).toEqual([...seen].sort().reverse());
  });

  it('exports the filtered list as CSV: quoted, decimal amounts, cells no spreadsheet runs as formulas', async () => {
    const tricky = await cardPayment({ amount: '1000.5', currency: 'SGD', merchant_order_id: '=HYPERLINK("http://x")', description: 'Tea, "green"\nand cake' });
    const r = await admin.get(`/dashboard/payments.csv?q=${tricky.payment_intent_id}`);
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toContain('text/csv');
    expect(r.headers.get('content-disposition')).toMatch(/attachment; filename="payments-\d{4}-\d{2}-\d{2}\.csv"/);
    const lines = r.text.split('\r\n');
    expect(lines[0]).toBe('created,payment_id,dialect,dialect_ids,merchant_order_id,merchant_id,method,status,currency,amount,captured,refunded,description');
    expect(r.text).toContain(`,${tricky.payment_intent_id},UQPAY,`);
    expect(r.text).toContain(`"'=HYPERLINK(""http://x"")"`);
    expect(r.text).toContain(',SGD,1000.50,1000.50,0.00,"Tea, ""green""\nand cake"\r\n');
    const all = await admin.get('/dashboard/payments.csv');
    // The header, every payment of the merchant across the export's pages, and the final line break.
    expect(all.text.split('\r\n').length).toBeGreaterThan(120);
  });

  it('refunds in part and in full from the console, once per form however often it is sent', async () => {
    const paid = await cardPayment({ amount: '50', currency: 'SGD' });
    const first = await act(paid.payment_intent_id, 'refund', { amount: '20.5', reason: 'requested_by_customer' });
    expect(first.flash[0]).toBe('ok');
    expect(first.flash[1]).toMatch(/Refund RF\d+ of SGD 20\.50 succeeded/);
    // The same form again (a double click): no second refund, the same answer.
    const again = await admin.post(`/dashboard/payments/${paid.payment_intent_id}/refund`, first.form);
    expect(again.status).toBe(303);
    expect(flashOf((await admin.get(again.location!)).text)).toEqual(first.flash);
    let refunds = await api.get(`/v2/payment/refunds?payment_intent_id=${paid.payment_intent_id}`);
    expect(refunds.body.data).toHaveLength(1);
    expect(refunds.body.data[0].amount).toBe('20.50');

    const tooMuch = await act(paid.payment_intent_id, 'refund', { amount: '30', reason: 'x' });
    expect(tooMuch.flash[0]).toBe('bad');
    const badAmount = await act(paid.payment_intent_id, 'refund', { amount: '1.005', reason: 'x' });
    expect(badAmount.flash).toEqual(['bad', 'Refund amount has more than 2 decimal places for SGD']);
    const rest = await act(paid.payment_intent_id, 'refund', { amount: '29.50', reason: 'x' });
    expect(rest.flash[0]).toBe('ok');
    expect(rest.page).toContain('Refunded</dt><dd>SGD 50.00');
    refunds = await api.get(`/v2/payment/refunds?payment_intent_id=${paid.payment_intent_id}`);
    expect(refunds.body.data).toHaveLength(2);
    // Nothing left to refund: the form is gone.
    expect(rest.page).not.toContain(`/dashboard/payments/${paid.payment_intent_id}/refund`);
  });

  it('captures and cancels through the core\'s rules; a refused action is a message, never a 500', async () => {
    const held = await cardPayment({ amount: '10', currency: 'SGD' }, { auto_capture: false });
    expect(held.intent_status).toBe('REQUIRES_CAPTURE');
    const capture = await act(held.payment_intent_id, 'capture', { amount: '7.25' });
    expect(capture.flash).toEqual(['ok', 'Captured SGD 7.25']);
    expect((await api.get(`/v2/payment_intents/${held.payment_intent_id}`)).body.intent_status).toBe('SUCCEEDED');

    const open = await api.post('/v2/payment_intents/create', intentBody({ amount: '3', currency: 'SGD' }));
    const id = open.body.payment_intent_id as string;
    const cancel = await act(id, 'cancel', { reason: 'fraudulent' });
    expect(cancel.flash[0]).toBe('ok');
    const viaApi = await api.get(`/v2/payment_intents/${id}`);
    expect(viaApi.body.intent_status).toBe('CANCELLED');
    expect(viaApi.body.cancellation_reason).toBe('fraudulent');
    // Cancelled already: the core refuses, the page says why (the form is gone, so post one as a stale tab would).
    const stale = await admin.post(`/dashboard/payments/${id}/cancel`, { _key: 'stale-tab-key-0000000001', reason: 'duplicate' });
    expect(stale.status).toBe(303);
    const refused = flashOf((await admin.get(stale.location!)).text);
    expect(refused[0]).toBe('bad');
    expect(refused[1]).toContain('cannot be cancelled');
    const badReason = await admin.post(`/dashboard/payments/${id}/cancel`, { _key: 'stale-tab-key-0000000002', reason: 'bored' });
    expect(flashOf((await admin.get(badReason.location!)).text)[1]).toContain('Cancellation reason bored is not one of');
    const noKey = await admin.post(`/dashboard/payments/${id}/cancel`, { reason: 'duplicate' });
    expect(flashOf((await admin.get(noKey.location!)).text)[1]).toContain('This form has expired');
  });

  it('refuses a viewer\'s action, and shows another merchant\'s user nothing of these payments', async () => {
    const paid = await cardPayment({ amount: '5', currency: 'SGD' });
    const viewerLogin = await createUser(tp, { merchantId: api.credentials.merchant_id, role: 'viewer' });
    const viewer = await signIn(tp, viewerLogin.email, viewerLogin.password);
    const page = await viewer.get(`/dashboard/payments/${paid.payment_intent_id}`);
    expect(page.status).toBe(200);
    expect(page.text).not.toContain('/refund"');
    expect(page.text).not.toContain('Resend');
    const refused = await viewer.post(`/dashboard/payments/${paid.payment_intent_id}/refund`, { _key: 'viewer-key-00000000001', amount: '1' });
    expect(refused.status).toBe(403);
    expect((await api.get(`/v2/payment/refunds?payment_intent_id=${paid.payment_intent_id}`)).body.data).toHaveLength(0);

    const other = await UqpayClient.create(tp, { name: 'Other Shop' });
    const otherLogin = await createUser(tp, { merchantId: other.credentials.merchant_id });
    const stranger = await signIn(tp, otherLogin.email, otherLogin.password);
    expect((await stranger.get(`/dashboard/payments/${paid.payment_intent_id}`)).status).toBe(404);
    const act404 = await stranger.post(`/dashboard/payments/${paid.payment_intent_id}/refund`, { _key: 'stranger-key-000000001', amount: '1' });
    expect(act404.status).toBe(404);
    const list = await stranger.get(`/dashboard/payments?q=${paid.payment_intent_id}`);
    expect(list.text).not.toContain(`href="/dashboard/payments/${paid.payment_intent_id}"`);
    expect(list.text).toContain('No payments match these filters.');
  });
});

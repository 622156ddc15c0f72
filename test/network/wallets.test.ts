/**
 * The simulated wallet apps: merchant-presented orders (QR content, pay URL,
 * app parameters), customer-presented payment codes whose last four digits
 * pick the outcome, pending charges that settle as platform time passes, and
 * refunds; plus which wallet a payment code belongs to.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { isDomainError } from '../../src/core/errors.ts';
import { validateWallet, walletOfPaymentCode } from '../../src/core/payments/methods.ts';
import { PAYMENT_CODE_OUTCOMES, SimWallets } from '../../src/network/sim/wallets.ts';

const T0 = Date.UTC(2026, 0, 5, 4, 0, 0);

function wallets(start = T0) {
  const clock = { now: start };
  const sim = new SimWallets({ payUrl: (token) => `https://pay.example/wallet/pay/${token}`, now: () => clock.now });
  return { sim, clock };
}

const sgd = (amount: number) => ({ amount, currency: 'SGD' });
const cny = (amount: number) => ({ amount, currency: 'CNY' });

function charge(sim: SimWallets, code: string, reference = `PA${code}`) {
  return sim.chargePaymentCode({ reference, merchantId: 'M1', wallet: 'alipaycn', code, amount: sgd(898), shopperAmount: cny(4770) });
}

describe('SimWallets merchant-presented orders', () => {
  it('gives each order its own token, with the pay URL as QR content', async () => {
    const { sim } = wallets();
    const req = { reference: 'PA1', merchantId: 'M1', wallet: 'alipaycn' as const, flow: 'qrcode' as const, amount: sgd(898), shopperAmount: cny(4770), expiresAt: T0 + 1_800_000 };
    const a = await sim.createOrder(req);
    const b = await sim.createOrder({ ...req, reference: 'PA2' });
    expect(a.token).toMatch(/^[A-Za-z0-9_-]{24}$/);
    expect(a.token).not.toBe(b.token);
    expect(a.payUrl).toBe(`https://pay.example/wallet/pay/${a.token}`);
    expect(a.qrContent).toBe(a.payUrl);
  });

  it('hands app flows the parameters of the wallet family, stamped with platform time', async () => {
    const { sim, clock } = wallets();
    clock.now = T0 + 86_400_000 * 10; // the sandbox clock, not the wall clock
    const base = { reference: 'PA1', merchantId: 'M1', flow: 'sdk' as const, amount: sgd(898), shopperAmount: cny(4770), expiresAt: T0 };
    const wechat = await sim.createOrder({ ...base, wallet: 'wechatpay' });
    expect(wechat.sdkParams).toMatchObject({ appId: expect.any(String), package: `prepay_id=${wechat.token}`, signType: 'RSA', timeStamp: String(Math.floor(clock.now / 1000)) });
    expect(wechat.sdkParams.nonceStr).toMatch(/^[0-9a-f]{24}$/);
    const alipay = await sim.createOrder({ ...base, wallet: 'alipaycn' });
    expect(alipay.sdkParams.orderStr).toBe(`sandbox_order=${alipay.token}&total_amount=4770&currency=CNY`);
    expect(alipay.sdkParams.tradeNO).toBe(alipay.token);
  });
});

describe('SimWallets payment codes', () => {
  it('pays any code that is not in the outcome table at once', async () => {
    const { sim } = wallets();
    const r = await charge(sim, '284057804613761079');
    expect(r).toMatchObject({ outcome: 'paid', wallet: 'alipaycn' });
    expect(r.outcome === 'paid' && r.walletTransactionId).toMatch(/^[0-9a-f]{32}$/);
  });

  it('declines by the last four digits with the documented failure codes', async () => {
    const { sim } = wallets();
    expect(await charge(sim, '284057804613761201')).toEqual({ outcome: 'declined', failureCode: 'insufficient_balance' });
    expect(await charge(sim, '284057804613761202')).toEqual({ outcome: 'declined', failureCode: 'invalid_payment_code' });
    expect(await charge(sim, '284057804613762005')).toEqual({ outcome: 'declined', failureCode: 'payment_code_expired' });
    expect(await charge(sim, '284057804613761205')).toEqual({ outcome: 'declined', failureCode: 'processing_error' });
  });

  it('leaves 1143 / 1145 pending until their confirm delay has passed on the platform clock', async () => {
    const { sim, clock } = wallets();
    expect(await charge(sim, '284057804613761143', 'PA-a')).toEqual({ outcome: 'pending', wallet: 'alipaycn', reason: 'payer_confirming' });
    expect(await charge(sim, '284057804613761145', 'PA-b')).toEqual({ outcome: 'pending', wallet: 'alipaycn', reason: 'processing' });

    clock.now = T0 + 4_999;
    expect((await sim.settle('PA-a', clock.now))?.outcome).toBe('pending');
    expect((await sim.settle('PA-b', clock.now))?.outcome).toBe('pending');
    clock.now = T0 + 5_000;
    expect(await sim.settle('PA-b', clock.now)).toMatchObject({ outcome: 'paid', wallet: 'alipaycn' });
    expect((await sim.settle('PA-a', clock.now))?.outcome).toBe('pending');
    clock.now = T0 + 10_000;
    expect(await sim.settle('PA-a', clock.now)).toMatchObject({ outcome: 'paid', wallet: 'alipaycn' });
  });

  it('answers a pending charge it never saw (another node\'s) from the platform\'s record: pending until its delay has passed', async () => {
    const { sim } = wallets();
    const since = T0;
    expect((await sim.settle('PA-elsewhere', since + 9_999, { reason: 'payer_confirming', since }))?.outcome).toBe('pending');
    expect(await sim.settle('PA-elsewhere', since + 10_000, { reason: 'payer_confirming', since })).toMatchObject({ outcome: 'paid' });
    expect((await sim.settle('PA-elsewhere-2', since + 4_999, { reason: 'processing', since }))?.outcome).toBe('pending');
    expect(await sim.settle('PA-elsewhere-2', since + 5_000, { reason: 'processing', since })).toMatchObject({ outcome: 'paid' });
  });

  it('takes a charge it never saw and the platform has no pending record of (its answer was lost in a crash) as confirmed by the payer', async () => {
    const { sim } = wallets();
    expect(await sim.settle('PA-unknown', T0)).toMatchObject({ outcome: 'paid' });
  });

  it('keeps its outcome table consistent and documented in docs/wallets.md', () => {
    const suffixes = PAYMENT_CODE_OUTCOMES.map((o) => o.suffix);
    expect(new Set(suffixes).size).toBe(suffixes.length);
    const doc = readFileSync(path.join(import.meta.dirname, '../../docs/wallets.md'), 'utf8');
    for (const o of PAYMENT_CODE_OUTCOMES) {
      expect(o.suffix).toMatch(/^\d{4}$/);
      if (o.result === 'pending') expect(o.confirmAfterSeconds).toBeGreaterThan(0);
      if (o.result === 'declined') expect(o.failureCode).toBeTruthy();
      const row = doc.split('\n').find((line) => line.startsWith(`| ${o.suffix} |`));
      expect(row, `docs/wallets.md row for ${o.suffix}`).toBeDefined();
      expect(row).toContain(o.result === 'declined' ? o.failureCode! : o.result);
      if (o.confirmAfterSeconds) expect(row).toContain(`${o.confirmAfterSeconds} s`);
    }
  });
});

describe('SimWallets refunds', () => {
  it('accepts a refund id once per amount, so a retry after a crash does not refund twice', async () => {
    const { sim } = wallets();
    await sim.refund('PA1', 'RF1', sgd(100));
    await sim.refund('PA1', 'RF1', sgd(100)); // the same refund again: fine
    await expect(sim.refund('PA1', 'RF1', sgd(50))).rejects.toThrow(/another amount/);
    await sim.refund('PA1', 'RF2', sgd(50));
  });

  it('remembers only the latest 10,000 refund ids, so its memory does not grow with every refund', async () => {
    const { sim } = wallets();
    await sim.refund('PA0', 'RF-first', sgd(100));
    for (let i = 0; i < 10_000; i++) await sim.refund(`PA${i}`, `RF${i}`, sgd(1));
    await expect(sim.refund('PA9999', 'RF9999', sgd(2))).rejects.toThrow(/another amount/); // a recent one is still known
    await expect(sim.refund('PA0', 'RF-first', sgd(50))).resolves.toBeUndefined(); // the oldest is forgotten
  });
});

describe('payment codes', () => {
  it('name their wallet by prefix', () => {
    expect(walletOfPaymentCode('284057804613761079')).toBe('alipaycn'); // seed 000
    expect(walletOfPaymentCode('254057804613761079')).toBe('alipaycn');
    expect(walletOfPaymentCode('304057804613761079')).toBe('alipaycn');
    expect(walletOfPaymentCode('134567890123451079')).toBe('wechatpay');
    expect(walletOfPaymentCode('104567890123451079')).toBe('wechatpay');
    expect(walletOfPaymentCode('6212345678901231079')).toBe('unionpay');
    expect(walletOfPaymentCode('994567890123451079')).toBeNull();
  });

  it('are validated as 10-32 digits; a named wallet is kept, an unnamed one taken from the prefix', () => {
    expect(validateWallet({ kind: 'alipaycn', flow: 'payment_code', paymentCode: ' 284057804613761079 ' })).toEqual({ kind: 'alipaycn', paymentCode: '284057804613761079' });
    expect(validateWallet({ kind: null, flow: 'payment_code', paymentCode: '134567890123451079' })).toEqual({ kind: 'wechatpay', paymentCode: '134567890123451079' });
    expect(validateWallet({ kind: 'grabpay', flow: 'qrcode' })).toEqual({ kind: 'grabpay' });
    for (const paymentCode of [undefined, '', '123456789', '28405780461376107X', '2840-5780-4613-7610', '1'.repeat(33)]) {
      let error: unknown;
      try {
        validateWallet({ kind: 'alipaycn', flow: 'payment_code', ...(paymentCode !== undefined ? { paymentCode } : {}) });
      } catch (e) {
        error = e;
      }
      expect(isDomainError(error) && error.kind === 'validation', String(paymentCode)).toBe(true);
    }
    expect(() => validateWallet({ kind: null, flow: 'payment_code', paymentCode: '994567890123451079' })).toThrow(/supported wallet/);
    expect(() => validateWallet({ kind: null, flow: 'qrcode' })).toThrow(/must be named/);
  });
});

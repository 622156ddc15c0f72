/**
 * Currency conversion for wallet charges: exact integer arithmetic with
 * half-up rounding to the target's minor unit, the sandbox rate table with
 * its overrides and inverse rates, and what a wallet charges the shopper.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.ts';
import { isDomainError } from '../../src/core/errors.ts';
import { convert } from '../../src/core/fx.ts';
import { shopperCharge } from '../../src/core/payments/methods.ts';
import { QFPAY_CURRENCIES } from '../../src/dialects/qfpay/pay-types.ts';
import { DEFAULT_CNY_RATES, SimFxRates } from '../../src/network/sim/fx-rates.ts';

const m = (amount: number, currency: string) => ({ amount, currency });

describe('convert', () => {
  it('leaves an amount alone when the currencies match', () => {
    expect(convert(m(898, 'SGD'), 'SGD', '5.3120')).toEqual(m(898, 'SGD'));
  });

  it('converts between two-decimal currencies exactly', () => {
    expect(convert(m(1000, 'SGD'), 'CNY', '5.3120')).toEqual(m(5312, 'CNY')); // 10.00 SGD -> 53.12 CNY
    expect(convert(m(1, 'USD'), 'CNY', '7.1450')).toEqual(m(7, 'CNY')); // 0.01 USD -> 0.07145 -> 0.07 CNY
  });

  it('rounds half up to the target minor unit', () => {
    expect(convert(m(898, 'SGD'), 'CNY', '5.3120')).toEqual(m(4770, 'CNY')); // 47.70176 -> 47.70
    expect(convert(m(99, 'SGD'), 'CNY', '5.3120')).toEqual(m(526, 'CNY')); // 5.25888 -> 5.26
    expect(convert(m(1, 'SGD'), 'CNY', '0.5')).toEqual(m(1, 'CNY')); // exactly half: up
    expect(convert(m(3, 'SGD'), 'CNY', '0.5')).toEqual(m(2, 'CNY')); // 1.5 -> 2
    expect(convert(m(5, 'SGD'), 'CNY', '0.1')).toEqual(m(1, 'CNY')); // 0.5 -> 1
    expect(convert(m(4, 'SGD'), 'CNY', '0.1')).toEqual(m(0, 'CNY')); // 0.4 -> 0
    expect(convert(m(1, 'SGD'), 'CNY', '0.4999999')).toEqual(m(0, 'CNY')); // just under half: down
  });

  it('handles a zero-decimal currency (JPY) on either side', () => {
    expect(convert(m(1000, 'JPY'), 'CNY', '0.047150')).toEqual(m(4715, 'CNY')); // 1000 JPY -> 47.15 CNY
    expect(convert(m(1, 'JPY'), 'CNY', '0.047150')).toEqual(m(5, 'CNY')); // 0.04715 -> 0.05
    expect(convert(m(10000, 'CNY'), 'JPY', '21.208908')).toEqual(m(2121, 'JPY')); // 100 CNY -> 2120.8908 -> 2121 JPY
    expect(convert(m(2357, 'CNY'), 'JPY', '21.208908')).toEqual(m(500, 'JPY')); // 23.57 CNY -> 499.8939 -> 500 JPY
  });

  it('handles a three-decimal currency (KWD) on either side', () => {
    expect(convert(m(1234, 'KWD'), 'CNY', '23.5')).toEqual(m(2900, 'CNY')); // 1.234 KWD -> 28.999 -> 29.00 CNY
    expect(convert(m(1000, 'CNY'), 'KWD', '0.0425')).toEqual(m(425, 'KWD')); // 10.00 CNY -> 0.425 KWD
    expect(convert(m(100, 'CNY'), 'KWD', '0.04255')).toEqual(m(43, 'KWD')); // 0.04255 -> 0.043 KWD (half up)
    expect(convert(m(100, 'CNY'), 'KWD', '0.04254')).toEqual(m(43, 'KWD')); // 0.04254 -> 0.043
    expect(convert(m(100, 'CNY'), 'KWD', '0.04249')).toEqual(m(42, 'KWD')); // 0.04249 -> 0.042
    expect(convert(m(1000, 'KWD'), 'JPY', '480.25')).toEqual(m(480, 'JPY')); // 1.000 KWD -> 480.25 -> 480 JPY
  });

  it('stays exact for the largest amounts, where floating point would not', () => {
    // 99,999,999,999.99 SGD x 5.3120 = 531,199,999,999.94688 CNY
    expect(convert(m(9_999_999_999_999, 'SGD'), 'CNY', '5.3120')).toEqual(m(53_119_999_999_995, 'CNY'));
    // 0.29 x 7 = 2.03 exactly; in floating point 0.29 * 7 * 100 is 202.99999999999997.
    expect(convert(m(29, 'USD'), 'CNY', '7')).toEqual(m(203, 'CNY'));
  });

  it('refuses a rate that is not a plain decimal', () => {
    for (const rate of ['abc', '-1', '1e5', '5,3', '', '.5', '5.']) {
      expect(() => convert(m(100, 'SGD'), 'CNY', rate), rate).toThrow(/invalid rate/);
    }
  });
});

describe('SimFxRates', () => {
  it('quotes the documented CNY table', () => {
    const fx = new SimFxRates();
    for (const [code, rate] of Object.entries(DEFAULT_CNY_RATES)) expect(fx.rate(code, 'CNY')).toEqual({ rate, source: 'sandbox table' });
    expect(fx.rate('SGD', 'CNY')!.rate).toBe('5.3120');
    expect(fx.rate('SGD', 'SGD')).toEqual({ rate: '1', source: 'identity' });
    expect(fx.rate('SGD', 'USD')).toBeNull();
    expect(fx.rate('KWD', 'CNY')).toBeNull();
  });

  it('has a CNY rate for every currency QFPay takes, so Alipay and WeChat Pay orders in any of them can be charged', () => {
    const fx = new SimFxRates();
    for (const code of QFPAY_CURRENCIES) expect(fx.rate(code, 'CNY'), code).not.toBeNull();
  });

  it('derives inverse rates to 6 decimals, rounded half up', () => {
    const fx = new SimFxRates({ 'AAA/BBB': '3', 'CCC/BBB': '1.5', 'DDD/BBB': '8' });
    expect(fx.rate('CNY', 'SGD')).toEqual({ rate: '0.188253', source: 'sandbox table (inverse)' }); // 1 / 5.3120 = 0.18825301...
    expect(fx.rate('CNY', 'JPY')!.rate).toBe('21.208908'); // 1 / 0.047150 = 21.2089077...
    expect(fx.rate('CNY', 'USD')!.rate).toBe('0.139958'); // 1 / 7.1450 = 0.1399580...
    expect(fx.rate('BBB', 'AAA')!.rate).toBe('0.333333');
    expect(fx.rate('BBB', 'CCC')!.rate).toBe('0.666667'); // 0.6666666... rounds up
    expect(fx.rate('BBB', 'DDD')!.rate).toBe('0.125000');
    // Round trip through the inverse lands within a fen.
    const cny = convert(m(10_000, 'SGD'), 'CNY', fx.rate('SGD', 'CNY')!.rate);
    const back = convert(cny, 'SGD', fx.rate('CNY', 'SGD')!.rate);
    expect(Math.abs(back.amount - 10_000)).toBeLessThanOrEqual(1);
  });

  it('takes overrides over the defaults, and new pairs', () => {
    const fx = new SimFxRates({ 'SGD/CNY': '5.30', 'KWD/CNY': '23.5' });
    expect(fx.rate('SGD', 'CNY')!.rate).toBe('5.30');
    expect(fx.rate('KWD', 'CNY')!.rate).toBe('23.5');
    expect(fx.rate('USD', 'CNY')!.rate).toBe(DEFAULT_CNY_RATES.USD);
    // A direct rate wins over the inverse of the other direction.
    const both = new SimFxRates({ 'CNY/SGD': '0.2' });
    expect(both.rate('CNY', 'SGD')!.rate).toBe('0.2');
  });

  it('refuses malformed overrides at startup', () => {
    const bad: Record<string, string>[] = [{ 'SGD-CNY': '5.3' }, { 'sgd/cny': '5.3' }, { 'SGD/CNY': '-5' }, { 'SGD/CNY': '5,3' }, { 'SGD/CNY': 'abc' }, { 'SGD/CNY': '0.00' }];
    for (const overrides of bad) {
      expect(() => new SimFxRates(overrides), JSON.stringify(overrides)).toThrow(/invalid FX rate/);
    }
  });

  it('reads overrides from POLYPAY_FX_RATES', () => {
    const config = loadConfig({ POLYPAY_FX_RATES: '{"SGD/CNY":"5.30"}', POLYPAY_ENCRYPTION_KEY: 'aa'.repeat(32), POLYPAY_JWT_SECRET: 'bb'.repeat(32) });
    expect(config.fxRates).toEqual({ 'SGD/CNY': '5.30' });
    expect(new SimFxRates(config.fxRates).rate('SGD', 'CNY')!.rate).toBe('5.30');
    const none = loadConfig({ POLYPAY_ENCRYPTION_KEY: 'aa'.repeat(32), POLYPAY_JWT_SECRET: 'bb'.repeat(32) });
    expect(none.fxRates).toEqual({});
  });

  it('is documented in docs/wallets.md', () => {
    const doc = readFileSync(path.join(import.meta.dirname, '../../docs/wallets.md'), 'utf8');
    for (const [code, rate] of Object.entries(DEFAULT_CNY_RATES)) {
      expect(doc, `${code} ${rate}`).toMatch(new RegExp(`^\\| ${code} \\| ${rate.replace('.', '\\.')} \\|`, 'm'));
    }
  });
});

describe('shopperCharge', () => {
  const fx = new SimFxRates();

  it('charges Alipay CN and WeChat Pay shoppers in CNY at the table rate', () => {
    expect(shopperCharge('alipaycn', m(898, 'SGD'), fx)).toEqual({ shopperAmount: 4770, shopperCurrency: 'CNY', fxRate: '5.3120' });
    expect(shopperCharge('wechatpay', m(1000, 'JPY'), fx)).toEqual({ shopperAmount: 4715, shopperCurrency: 'CNY', fxRate: '0.047150' });
  });

  it('charges other wallets, and CNY orders, in the order currency', () => {
    expect(shopperCharge('grabpay', m(898, 'SGD'), fx)).toEqual({ shopperAmount: 898, shopperCurrency: 'SGD', fxRate: null });
    expect(shopperCharge('alipayhk', m(898, 'HKD'), fx)).toEqual({ shopperAmount: 898, shopperCurrency: 'HKD', fxRate: null });
    expect(shopperCharge('alipaycn', m(5000, 'CNY'), fx)).toEqual({ shopperAmount: 5000, shopperCurrency: 'CNY', fxRate: null });
  });

  it('refuses a currency without a rate, and an amount below one fen', () => {
    const refused = (f: () => unknown) => {
      try {
        f();
      } catch (e) {
        return isDomainError(e) && e.kind === 'validation' ? e.message : `unexpected ${String(e)}`;
      }
      return 'not refused';
    };
    expect(refused(() => shopperCharge('alipaycn', m(1000, 'KWD'), fx))).toMatch(/no exchange rate from KWD to CNY/);
    expect(refused(() => shopperCharge('wechatpay', m(1, 'THB'), fx))).toMatch(/below the smallest CNY amount/);
    expect(shopperCharge('wechatpay', m(3, 'THB'), fx).shopperAmount).toBe(1); // 0.03 THB = 0.00615 -> 0.01 CNY
  });
});

/**
 * The simulated FX desk: a fixed, documented table of rates (decimal strings,
 * units of the target per one unit of the source), overridable from config.
 * Inverse rates are derived exactly to 6 decimal places.
 */
import type { FxRates } from '../../core/ports.ts';

/** CNY per one unit of each currency: what Alipay CN and WeChat Pay charge shoppers. */
export const DEFAULT_CNY_RATES: Readonly<Record<string, string>> = {
  AED: '1.9450',
  AUD: '4.6810',
  CAD: '5.1730',
  EUR: '7.7420',
  GBP: '9.1250',
  HKD: '0.9170',
  IDR: '0.000445',
  JPY: '0.047150',
  MMK: '0.003400',
  MYR: '1.5960',
  SGD: '5.3120',
  THB: '0.2050',
  USD: '7.1450',
};

/** What is wrong with one rate override ("SGD/CNY": "5.30"), or null when it can be used. */
export function fxOverrideProblem(pair: string, rate: unknown): string | null {
  if (!/^[A-Z]{3}\/[A-Z]{3}$/.test(pair)) return `${JSON.stringify(pair)} is not a currency pair like "SGD/CNY"`;
  if (typeof rate !== 'string' || !/^\d+(\.\d+)?$/.test(rate) || !/[1-9]/.test(rate)) return `the rate for ${pair} must be a positive decimal string like "5.30", not ${JSON.stringify(rate)}`;
  return null;
}

export class SimFxRates implements FxRates {
  private readonly rates = new Map<string, string>();

  /** `overrides` like {"SGD/CNY": "5.30"}. */
  constructor(overrides: Record<string, string> = {}) {
    for (const [code, rate] of Object.entries(DEFAULT_CNY_RATES)) this.rates.set(`${code}/CNY`, rate);
    for (const [pair, rate] of Object.entries(overrides)) {
      const problem = fxOverrideProblem(pair, rate);
      if (problem) throw new Error(`invalid FX rate: ${problem}`);
      this.rates.set(pair, rate);
    }
  }

  rate(from: string, to: string): { rate: string; source: string } | null {
    if (from === to) return { rate: '1', source: 'identity' };
    const direct = this.rates.get(`${from}/${to}`);
    if (direct) return { rate: direct, source: 'sandbox table' };
    const inverse = this.rates.get(`${to}/${from}`);
    if (!inverse) return null;
    // 1 / rate to 6 decimals, rounded half-up, in integers.
    const [w, f = ''] = inverse.split('.');
    const num = BigInt(w! + f);
    const den = 10n ** BigInt(f.length);
    const scaled = (den * 10n ** 6n * 2n + num) / (2n * num);
    const text = scaled.toString().padStart(7, '0');
    return { rate: `${text.slice(0, -6)}.${text.slice(-6)}`, source: 'sandbox table (inverse)' };
  }
}

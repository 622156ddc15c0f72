/**
 * Partial refunds of a converted payment: each refund's converted amount is
 * its share of the converted whole, so the refunds always add up to exactly
 * what the shopper was charged.
 */
import { describe, expect, it } from 'vitest';
import { convert, convertShare } from '../../src/core/fx.ts';

const m = (amount: number, currency: string) => ({ amount, currency });

/** Every refund's share, refunding `slices` in turn from a payment of `total` THB charged in CNY at `rate`. */
function shares(total: number, slices: number[], rate: string): number[] {
  const whole = convert(m(total, 'THB'), 'CNY', rate);
  let before = 0;
  return slices.map((amount) => {
    const share = convertShare({ before, amount, total, currency: 'THB' }, whole, rate);
    before += amount;
    return share.amount;
  });
}

describe('convertShare', () => {
  it('gives the issue case 0 and 21 fen: 1.00 THB charged 21 fen, refunded 0.01 then 0.99', () => {
    expect(convert(m(100, 'THB'), 'CNY', '0.2050')).toEqual(m(21, 'CNY')); // 20.5 fen, half up
    expect(shares(100, [1, 99], '0.2050')).toEqual([0, 21]);
  });

  it('makes the last refund take the exact remainder', () => {
    // 3 x 0.33 THB and 0.01: converting each alone gives 7 + 7 + 7 + 0 = 21 + 0 by luck, 0.99 alone 20; cumulative shares 7 + 7 + 6 + 1.
    expect(shares(100, [33, 33, 33, 1], '0.2050')).toEqual([7, 7, 6, 1]);
    expect(shares(100, [50, 50], '0.2050')).toEqual([10, 11]);
  });

  it('always adds up to the converted whole, whatever the slices (exhaustive over small splits)', () => {
    for (const rate of ['0.2050', '5.3120', '0.047150', '7.1450', '0.000445']) {
      for (const total of [1, 7, 99, 100, 101, 1999]) {
        const whole = convert(m(total, 'THB'), 'CNY', rate).amount;
        for (let first = 1; first < total; first += Math.max(1, Math.floor(total / 37))) {
          for (let second = 1; first + second <= total; second += Math.max(1, Math.floor(total / 11))) {
            const rest = total - first - second;
            const got = shares(total, rest > 0 ? [first, second, rest] : [first, second], rate);
            expect(got.reduce((a, b) => a + b, 0)).toBe(whole);
            for (const g of got) expect(g).toBeGreaterThanOrEqual(0);
          }
        }
      }
    }
  });

  it('keeps the same currency unchanged', () => {
    expect(convertShare({ before: 10, amount: 5, total: 100, currency: 'THB' }, m(100, 'THB'), '1')).toEqual(m(5, 'THB'));
  });

  it('refuses a slice outside the whole', () => {
    expect(() => convertShare({ before: 90, amount: 20, total: 100, currency: 'THB' }, m(21, 'CNY'), '0.2050')).toThrow(/outside/);
    expect(() => convertShare({ before: 0, amount: -1, total: 100, currency: 'THB' }, m(21, 'CNY'), '0.2050')).toThrow(/outside/);
  });
});

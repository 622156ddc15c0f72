/**
 * Currency conversion in exact integer arithmetic. A rate is a decimal string
 * (units of `to` per one unit of `from`); amounts are minor units; the result
 * is rounded half-up to the target's minor unit.
 */
import { exponentOf, type Money } from './money.ts';

function decimalToFraction(rate: string): { num: bigint; den: bigint } {
  const m = /^(\d+)(?:\.(\d+))?$/.exec(rate);
  if (!m) throw new Error(`invalid rate ${rate}`);
  const frac = m[2] ?? '';
  return { num: BigInt(m[1]! + frac), den: 10n ** BigInt(frac.length) };
}

export function convert(amount: Money, to: string, rate: string): Money {
  if (amount.currency === to) return amount;
  const { num, den } = decimalToFraction(rate);
  // minor_to = minor_from / 10^e_from * rate * 10^e_to
  const scaleFrom = 10n ** BigInt(exponentOf(amount.currency));
  const scaleTo = 10n ** BigInt(exponentOf(to));
  const numerator = BigInt(amount.amount) * num * scaleTo;
  const denominator = den * scaleFrom;
  const rounded = (2n * numerator + denominator) / (2n * denominator);
  return { amount: Number(rounded), currency: to };
}

/**
 * The part of a converted whole that one slice of it gets, so that the slices
 * always add up to the whole: a partial refund of `amount` after `before` has
 * been refunded, out of a payment of `total` (all in the order currency) that
 * was charged `totalConverted` in `to`. Each slice is convert(before + amount)
 * - convert(before); the slice that completes the whole gets the exact
 * remainder, totalConverted - convert(before). No minor unit is lost or made
 * up, however the slices fall.
 */
export function convertShare(
  slice: { before: number; amount: number; total: number; currency: string },
  totalConverted: Money,
  rate: string,
): Money {
  const { before, amount, total, currency } = slice;
  if (!Number.isSafeInteger(before) || !Number.isSafeInteger(amount) || before < 0 || amount < 0 || before + amount > total) {
    throw new Error(`slice ${before}+${amount} is outside the whole ${total}`);
  }
  const to = totalConverted.currency;
  const upTo = (n: number): number => (n === total ? totalConverted.amount : convert({ amount: n, currency }, to, rate).amount);
  return { amount: upTo(before + amount) - upTo(before), currency: to };
}

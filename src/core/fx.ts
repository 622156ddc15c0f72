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

import { describe, expect, it } from 'vitest';
import { DomainError } from '../../src/core/errors.ts';
import { assertCurrency, exponentOf, formatDecimal, formatFixed, parseAmountInput, parseDecimal } from '../../src/core/money.ts';

describe('money', () => {
  it('parses major-unit decimals into minor units by the currency exponent', () => {
    expect(parseDecimal('8.98', 'SGD')).toBe(898);
    expect(parseDecimal('100', 'SGD')).toBe(10000);
    expect(parseDecimal('0.5', 'USD')).toBe(50);
    expect(parseDecimal('100', 'JPY')).toBe(100);
    expect(parseDecimal('1.234', 'BHD')).toBe(1234);
    expect(parseDecimal('8.980', 'SGD')).toBe(898);
    expect(parseDecimal('0.01', 'SGD')).toBe(1);
    expect(parseDecimal('000.10', 'SGD')).toBe(10);
  });

  it('rejects too many decimals, signs, exponents and junk', () => {
    for (const [text, cur] of [
      ['1.001', 'SGD'],
      ['1.5', 'JPY'],
      ['-1', 'SGD'],
      ['+1', 'SGD'],
      ['1e3', 'SGD'],
      ['', 'SGD'],
      ['1.', 'SGD'],
      ['.5', 'SGD'],
      ['1,00', 'SGD'],
      ['12345678901234567', 'SGD'],
    ]) {
      expect(() => parseDecimal(text!, cur!), `${text} ${cur}`).toThrow(DomainError);
    }
  });

  it('takes JSON numbers by their written decimal, never by float arithmetic', () => {
    expect(parseAmountInput(8.98, 'SGD')).toBe(898);
    expect(() => parseAmountInput(0.1 + 0.2, 'SGD')).toThrow(DomainError); // 0.30000000000000004: refused, not rounded
    expect(parseAmountInput(1.15, 'SGD')).toBe(115); // 1.15 * 100 would be 114.99999999999999
    expect(parseAmountInput(4.35, 'USD')).toBe(435); // 4.35 * 100 = 434.99999999999994
    expect(() => parseAmountInput(1e21, 'SGD')).toThrow(DomainError);
    expect(() => parseAmountInput(Number.NaN, 'SGD')).toThrow(DomainError);
    expect(() => parseAmountInput({}, 'SGD')).toThrow(DomainError);
  });

  it('formats without trailing zeros, or fixed to the exponent', () => {
    expect(formatDecimal(898, 'SGD')).toBe('8.98');
    expect(formatDecimal(1000, 'SGD')).toBe('10');
    expect(formatDecimal(1050, 'SGD')).toBe('10.5');
    expect(formatDecimal(0, 'SGD')).toBe('0');
    expect(formatDecimal(1, 'SGD')).toBe('0.01');
    expect(formatDecimal(100, 'JPY')).toBe('100');
    expect(formatDecimal(1234, 'BHD')).toBe('1.234');
    expect(formatDecimal(-898, 'SGD')).toBe('-8.98');
    expect(formatFixed(1000, 'SGD')).toBe('10.00');
    expect(formatFixed(5, 'KWD')).toBe('0.005');
    expect(formatFixed(7, 'JPY')).toBe('7');
  });

  it('round-trips every amount from 0 to 100000 minor units', () => {
    for (let minor = 0; minor <= 100_000; minor += 7) {
      expect(parseDecimal(formatDecimal(minor, 'SGD'), 'SGD')).toBe(minor);
      expect(parseDecimal(formatFixed(minor, 'BHD'), 'BHD')).toBe(minor);
    }
  });

  it('knows currencies and their exponents', () => {
    expect(assertCurrency('sgd')).toBe('SGD');
    expect(() => assertCurrency('XXX')).toThrow(DomainError);
    expect(() => assertCurrency(5)).toThrow(DomainError);
    expect(exponentOf('JPY')).toBe(0);
    expect(exponentOf('KWD')).toBe(3);
    expect(exponentOf('EUR')).toBe(2);
  });
});

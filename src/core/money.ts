import { DomainError } from './errors.ts';

/**
 * Money is an integer count of minor units plus an ISO-4217 currency.
 * Amounts never pass through floating point arithmetic: decimal strings are
 * parsed digit by digit at the edge and formatted back the same way.
 */
export interface Money {
  readonly amount: number; // minor units, a safe integer
  readonly currency: string; // ISO-4217 alphabetic code, upper case
}

/** ISO-4217 minor-unit exponents that differ from the default of 2. */
const EXPONENTS: Record<string, number> = {
  BIF: 0, CLP: 0, DJF: 0, GNF: 0, ISK: 0, JPY: 0, KMF: 0, KRW: 0, PYG: 0,
  RWF: 0, UGX: 0, UYI: 0, VND: 0, VUV: 0, XAF: 0, XOF: 0, XPF: 0,
  BHD: 3, IQD: 3, JOD: 3, KWD: 3, LYD: 3, OMR: 3, TND: 3,
  CLF: 4, UYW: 4,
};

/** Currencies the platform accepts (ISO-4217 active codes commonly used in acquiring). */
const KNOWN = new Set([
  'AED', 'AUD', 'BDT', 'BGN', 'BHD', 'BND', 'BRL', 'CAD', 'CHF', 'CLP', 'CNY', 'COP', 'CZK', 'DKK',
  'EGP', 'EUR', 'GBP', 'HKD', 'HUF', 'IDR', 'ILS', 'INR', 'ISK', 'JOD', 'JPY', 'KES', 'KHR', 'KRW',
  'KWD', 'LAK', 'LKR', 'MMK', 'MOP', 'MXN', 'MYR', 'NGN', 'NOK', 'NPR', 'NZD', 'OMR', 'PHP', 'PKR',
  'PLN', 'QAR', 'RON', 'SAR', 'SEK', 'SGD', 'THB', 'TND', 'TRY', 'TWD', 'UAH', 'USD', 'VND', 'ZAR',
]);

/** Largest amount accepted in any currency: 10^13 minor units keeps every sum far below 2^53. */
export const MAX_MINOR_UNITS = 10_000_000_000_000;

export function exponentOf(currency: string): number {
  return EXPONENTS[currency] ?? 2;
}

export function isKnownCurrency(code: string): boolean {
  return KNOWN.has(code);
}

export function assertCurrency(code: unknown, field = 'currency'): string {
  if (typeof code !== 'string' || !/^[A-Za-z]{3}$/.test(code)) {
    throw DomainError.validation(`${field} must be a 3-letter ISO-4217 code`, field);
  }
  const upper = code.toUpperCase();
  if (!KNOWN.has(upper)) throw DomainError.validation(`${field} ${upper} is not supported`, field);
  return upper;
}

export function money(amount: number, currency: string): Money {
  if (!Number.isSafeInteger(amount)) throw new Error(`minor units must be an integer, got ${amount}`);
  return { amount, currency };
}

/**
 * Parses a major-unit decimal ("8.98", "100", "0.5") into minor units.
 * Too many decimals, signs, exponents and out-of-range values are validation errors.
 */
export function parseDecimal(text: string, currency: string, field = 'amount'): number {
  const m = /^(\d{1,16})(?:\.(\d+))?$/.exec(text.trim());
  if (!m) throw DomainError.validation(`${field} must be a positive decimal number`, field);
  const exp = exponentOf(currency);
  const whole = m[1]!;
  let frac = m[2] ?? '';
  if (frac.length > exp) {
    // Trailing zeros beyond the exponent carry no value ("8.980" is 8.98).
    if (/^0*$/.test(frac.slice(exp))) frac = frac.slice(0, exp);
    else throw DomainError.validation(`${field} has more than ${exp} decimal places for ${currency}`, field);
  }
  const digits = (whole + frac.padEnd(exp, '0')).replace(/^0+(?=\d)/, '');
  if (digits.length > 16) throw DomainError.validation(`${field} is too large`, field);
  const minor = Number(digits);
  if (!Number.isSafeInteger(minor) || minor > MAX_MINOR_UNITS) {
    throw DomainError.validation(`${field} is too large`, field);
  }
  return minor;
}

/**
 * Accepts the amount as a JSON string or number. A number is taken by its
 * shortest round-trip decimal text (what the client wrote), never by arithmetic.
 */
export function parseAmountInput(value: unknown, currency: string, field = 'amount'): number {
  if (typeof value === 'number') {
    if (!Number.isFinite(value) || value < 0) throw DomainError.validation(`${field} must be a positive decimal number`, field);
    const text = String(value);
    if (/e/i.test(text)) throw DomainError.validation(`${field} is out of range`, field);
    return parseDecimal(text, currency, field);
  }
  if (typeof value === 'string') return parseDecimal(value, currency, field);
  throw DomainError.validation(`${field} must be a decimal string or number`, field);
}

/** Formats minor units as a plain decimal string without trailing zeros: 898 SGD -> "8.98", 1000 -> "10", 0 -> "0". */
export function formatDecimal(minor: number, currency: string): string {
  const exp = exponentOf(currency);
  const negative = minor < 0;
  const digits = String(Math.abs(minor)).padStart(exp + 1, '0');
  const whole = digits.slice(0, digits.length - exp);
  const frac = digits.slice(digits.length - exp).replace(/0+$/, '');
  return (negative ? '-' : '') + (frac ? `${whole}.${frac}` : whole);
}

/** Formats with exactly the currency's decimal places: 1000 SGD -> "10.00". */
export function formatFixed(minor: number, currency: string): string {
  const exp = exponentOf(currency);
  const negative = minor < 0;
  const digits = String(Math.abs(minor)).padStart(exp + 1, '0');
  const whole = digits.slice(0, digits.length - exp);
  const frac = digits.slice(digits.length - exp);
  return (negative ? '-' : '') + (exp ? `${whole}.${frac}` : whole);
}

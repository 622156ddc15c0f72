import { createHmac } from 'node:crypto';

/**
 * Pure helpers for card numbers. The core may reuse them for field
 * validation; none of them keeps or logs a PAN.
 */

export type CardNetworkName = 'visa' | 'mastercard' | 'amex' | 'unionpay' | 'jcb' | 'discover' | 'diners' | 'unknown';

/** True when `number` is 12-19 digits and passes the Luhn (mod 10) check. */
export function luhnValid(number: string): boolean {
  if (!/^\d{12,19}$/.test(number)) return false;
  let sum = 0;
  let double = false;
  for (let i = number.length - 1; i >= 0; i--) {
    let d = number.charCodeAt(i) - 48;
    if (double) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
    double = !double;
  }
  return sum % 10 === 0;
}

/** The card network by BIN range (issuer identification number prefixes). */
export function detectNetwork(number: string): CardNetworkName {
  if (!/^\d{6,}/.test(number)) return 'unknown';
  const p2 = Number(number.slice(0, 2));
  const p3 = Number(number.slice(0, 3));
  const p4 = Number(number.slice(0, 4));
  if (number[0] === '4') return 'visa';
  if ((p2 >= 51 && p2 <= 55) || (p4 >= 2221 && p4 <= 2720)) return 'mastercard';
  if (p2 === 34 || p2 === 37) return 'amex';
  if (p2 === 62 || p2 === 81) return 'unionpay';
  if (p4 >= 3528 && p4 <= 3589) return 'jcb';
  if (p4 === 6011 || p2 === 65 || (p3 >= 644 && p3 <= 649)) return 'discover';
  if ((p3 >= 300 && p3 <= 305) || p4 === 3095 || p2 === 36 || p2 === 38 || p2 === 39) return 'diners';
  return 'unknown';
}

/** A keyed fingerprint of the PAN (HMAC-SHA256, hex): equal cards match without storing the number. */
export function fingerprint(number: string, key: string | Buffer): string {
  return createHmac('sha256', key).update(number).digest('hex');
}

export function bin(number: string): string {
  return number.slice(0, 6);
}

export function last4(number: string): string {
  return number.slice(-4);
}

/** First 6 and last 4 digits, the rest as asterisks: "534693******8117". */
export function maskPan(number: string): string {
  if (number.length <= 10) return '*'.repeat(Math.max(0, number.length - 4)) + number.slice(-4);
  return bin(number) + '*'.repeat(number.length - 10) + last4(number);
}

/** A card is valid through the last day of its expiry month (UTC). `month` is 1-12, `year` four digits. */
export function isExpired(month: number, year: number, nowMs: number): boolean {
  return nowMs >= Date.UTC(year, month, 1); // Date.UTC months are 0-based: this is the 1st of the next month
}

/** CVC format: 4 digits for American Express, 3 for every other network. */
export function cvcValid(cvc: string, network: CardNetworkName): boolean {
  return network === 'amex' ? /^\d{4}$/.test(cvc) : /^\d{3}$/.test(cvc);
}

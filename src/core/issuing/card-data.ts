/**
 * Card numbers and CVVs. A PAN is the product's BIN, random digits and a
 * Luhn check digit; it is kept sealed, with a keyed fingerprint that makes it
 * unique without revealing it. The CVV is never stored: it is derived from
 * the PAN and expiry with the platform's key whenever it is needed.
 */
import { createHmac, randomInt } from 'node:crypto';

export const PAN_LENGTH = 16;

/** The Luhn check digit for `partial` (the number without its last digit). */
export function luhnCheckDigit(partial: string): number {
  let sum = 0;
  for (let i = 0; i < partial.length; i++) {
    let d = partial.charCodeAt(partial.length - 1 - i) - 48;
    if (i % 2 === 0) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
  }
  return (10 - (sum % 10)) % 10;
}

export function luhnValid(number: string): boolean {
  return /^\d{12,19}$/.test(number) && luhnCheckDigit(number.slice(0, -1)) === Number(number.at(-1));
}

/** A fresh Luhn-valid PAN on `bin`. */
export function newPan(bin: string): string {
  let body = bin;
  while (body.length < PAN_LENGTH - 1) body += String(randomInt(10));
  return body + luhnCheckDigit(body);
}

export class CardSecrets {
  constructor(private readonly key: Buffer) {}

  /** Uniqueness and lookup without the PAN. */
  fingerprint(pan: string): string {
    return createHmac('sha256', this.key).update(`pan:${pan}`).digest('hex');
  }

  /** The card's CVV: three digits from an HMAC of PAN and expiry. */
  cvv(pan: string, expiryMonth: number, expiryYear: number): string {
    const mac = createHmac('sha256', this.key).update(`cvv:${pan}:${String(expiryMonth).padStart(2, '0')}${expiryYear}`).digest();
    return String(mac.readUInt32BE(0) % 1000).padStart(3, '0');
  }
}

/** "40963608****1764": BIN and last four, as UQPAY shows a card number. */
export function maskedPan(bin: string, last4: string): string {
  return `${bin}${'*'.repeat(Math.max(4, PAN_LENGTH - bin.length - 4))}${last4}`;
}

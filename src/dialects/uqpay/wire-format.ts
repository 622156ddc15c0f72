/** UQPAY's wire conventions: times in ISO-8601 at +08:00, amounts as decimal strings. */
import { BUSINESS_UTC_OFFSET_MS } from '../../core/clock.ts';
import { formatDecimal, formatFixed } from '../../core/money.ts';

let lastSecond = Number.NaN;
let lastText = '';

/** 1749802694000 -> "2025-06-13T16:18:14+08:00"; null -> "" (the provider sends empty strings for unset times). */
export function wireTime(ms: number | null | undefined): string {
  if (ms === null || ms === undefined) return '';
  // A response shows several times, nearly always of the same second: format each second once.
  const second = Math.floor(ms / 1000);
  if (second !== lastSecond) {
    lastSecond = second;
    lastText = new Date(second * 1000 + BUSINESS_UTC_OFFSET_MS).toISOString().slice(0, 19) + '+08:00';
  }
  return lastText;
}

/** With milliseconds, as display_qr_code.expires_at shows it: "2025-06-19T14:38:59.563+08:00". */
export function wireTimeMillis(ms: number): string {
  return new Date(ms + BUSINESS_UTC_OFFSET_MS).toISOString().slice(0, 23) + '+08:00';
}

/** Accepts any ISO-8601 time (or unix seconds) in a query filter. */
export function parseWireTime(text: string): number | null {
  if (/^\d{9,11}$/.test(text)) return Number(text) * 1000;
  const ms = Date.parse(text);
  return Number.isNaN(ms) ? null : ms;
}

export const wireAmount = (minor: number, currency: string): string => formatDecimal(minor, currency);

/**
 * The amounts of intents, attempts and refunds, as UQPAY's documented answers
 * write them: the currency's decimal places ("25.50", "0.01", "10.00"; JPY
 * "1000"), and nothing as "0" (seed 002's refunded_amount).
 */
export const echoAmount = (minor: number, currency: string): string => (minor === 0 ? '0' : formatFixed(minor, currency));

// UQPAY webhook signatures.
// Provider rule: header `x-wk-signature` = lower-case hex HMAC-SHA512 keyed with the
// webhook secret over (raw body + `x-wk-timestamp` string); SDK verifiers allow 300 s skew.
import { createHmac, timingSafeEqual } from 'node:crypto';

export const DEFAULT_TOLERANCE_SECONDS = 300;

/** Lower-case hex HMAC-SHA512(secret, rawBody + timestamp). */
export function signWebhook(secret: string, rawBody: string, timestamp: string): string {
  return createHmac('sha512', secret).update(rawBody + timestamp, 'utf8').digest('hex');
}

/**
 * Checks a webhook signature in constant time and rejects timestamps that are not
 * unix seconds or lie more than `toleranceSeconds` away from `nowSeconds`.
 */
export function verifyWebhook(
  secret: string,
  rawBody: string,
  timestamp: string,
  signature: string,
  nowSeconds: number,
  toleranceSeconds: number = DEFAULT_TOLERANCE_SECONDS,
): boolean {
  if (!/^\d{1,12}$/.test(timestamp)) return false;
  if (Math.abs(nowSeconds - Number(timestamp)) > toleranceSeconds) return false;
  const expected = Buffer.from(signWebhook(secret, rawBody, timestamp), 'utf8');
  const given = Buffer.from(signature.toLowerCase(), 'utf8');
  return given.length === expected.length && timingSafeEqual(given, expected);
}

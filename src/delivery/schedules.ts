/** Delays before retry 1, 2, ... n: doubling from firstMs, each capped at capMs. */
export function exponentialDelays(firstMs: number, retries: number, capMs: number): number[] {
  return Array.from({ length: retries }, (_, i) => Math.min(firstMs * 2 ** i, capMs));
}

/**
 * UQPAY webhooks: up to 5 retries, backoff from 16 s doubling, capped at 900 s
 * (16, 32, 64, 128, 256 s). The spec notes (uqpay.md section 5) mark this
 * schedule as unconfirmed: adjust it here if the provider documents another.
 */
export const UQPAY_RETRY_DELAYS_MS: readonly number[] = Object.freeze(exponentialDelays(16_000, 5, 900_000));

/**
 * AlphaPay payment notifications: sent at once, two more quick tries 15 s
 * apart, then every 30 minutes until 24 hours after the first send.
 * (Refund notifications are sent once: their renderer sends no retry.)
 */
export const ALPHAPAY_RETRY_DELAYS_MS: readonly number[] = Object.freeze([
  15_000,
  15_000,
  ...Array.from({ length: Math.floor((24 * 3_600_000 - 30_000) / 1_800_000) }, () => 1_800_000),
]);

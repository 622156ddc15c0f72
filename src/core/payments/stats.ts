/**
 * Payment totals for the merchant overview, per business day (UTC+08:00, as
 * the providers count days) and currency, in minor units: by dialect (the
 * API a payment was made through: the intent's origin, uqpay, qfpay or
 * alphapay), counting intents that reached an attempt, succeeded when
 * SUCCEEDED; and by method ("card" or the wallet's kind), counting attempts,
 * succeeded when they captured money (a retried payment's failed attempts
 * count against its method).
 */
import type { StoredPaymentMethod } from './types.ts';

/** The method a payment is counted under: "card", or the wallet's kind (stored with the attempt, migration 014). */
export const paymentMethodName = (method: StoredPaymentMethod): string => (method.type === 'card' ? 'card' : method.wallet.kind);

export interface DailyTotals {
  /** Days since the epoch, counted at UTC+08:00. */
  day: number;
  /** The dialect or the method. */
  key: string;
  currency: string;
  attempted: number;
  succeeded: number;
  /** Captured, minor units of `currency`. */
  volume: number;
}

export interface PaymentStats {
  /** The merchants' payments created on business day `fromDay` or after, per dialect. */
  dailyByDialect(merchantIds: readonly string[], fromDay: number): Promise<DailyTotals[]>;
  /** The merchants' payment attempts made on business day `fromDay` or after, per method. */
  dailyByMethod(merchantIds: readonly string[], fromDay: number): Promise<DailyTotals[]>;
}

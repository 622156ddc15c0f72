/**
 * Payment totals for the merchant overview: per business day (UTC+08:00,
 * as the providers count days), dialect, method and currency, in minor units.
 * The dialect is the API the payment was made through (the intent's origin:
 * uqpay, qfpay, alphapay); the method is "card" or the wallet's kind, from the
 * intent's latest attempt. Only intents that reached an attempt count.
 */
export interface DailyPaymentTotals {
  /** Days since the epoch, counted at UTC+08:00. */
  day: number;
  dialect: string;
  method: string;
  currency: string;
  /** Payments with an attempt. */
  attempted: number;
  /** Of them, those SUCCEEDED. */
  succeeded: number;
  /** Captured by the succeeded ones, minor units of `currency`. */
  volume: number;
}

export interface PaymentStats {
  /** Totals of the merchants' payments created on business day `fromDay` or after. */
  dailyTotals(merchantIds: readonly string[], fromDay: number): Promise<DailyPaymentTotals[]>;
}

/**
 * What the merchant console reads of payments: one list across the dialects
 * (every QFPay and AlphaPay order is a payment intent, its origin names the
 * API it came through), and everything recorded about one payment. Reads
 * only: the console acts through PaymentsService like the APIs do.
 */
import type { IntentView } from './context.ts';
import type { IntentStatus, PaymentAttempt, PaymentIntent, Refund } from './types.ts';

export interface PaymentListFilter {
  /** The merchants whose payments are listed (a user's merchant and its sub-merchants). */
  merchantIds: string[];
  status?: IntentStatus;
  /** The API the payment came through: uqpay, qfpay, alphapay. */
  origin?: string;
  /** "card" (any card), "card:<network>", "wallet" (any wallet) or "wallet:<kind>". */
  method?: string;
  currency?: string;
  createdFrom?: number;
  /** Exclusive. */
  createdBefore?: number;
  /** Minor units of `currency` (set only with a currency). */
  amountMin?: number;
  amountMax?: number;
  /**
   * Terms matched against every id a payment is known by: its intent,
   * attempt and refund ids, the merchant's order id, the dialects' own
   * references, and a card's last 4 digits.
   */
  search?: string[];
}

/** A position in the list (newest first): the last payment of the page before. */
export interface ListCursor {
  createdAt: number;
  id: string;
}

export interface PaymentListPage {
  /** Each payment with its latest attempt. */
  items: IntentView[];
  /** Where the next page starts, or null on the last page. */
  next: ListCursor | null;
}

export interface DeliveryTry {
  attempt: number;
  statusCode: number | null;
  error: string | null;
  durationMs: number;
  attemptedAt: number;
  /** The start of the receiver's answer, as the relay kept it. */
  responseBody: string | null;
}

/** One webhook or notification planned for an event, and every try to send it. */
export interface DeliveryRecord {
  id: string;
  dialect: string;
  url: string;
  status: string;
  nextAttemptAt: number;
  tries: DeliveryTry[];
}

export interface EventRecord {
  id: string;
  type: string;
  sourceId: string;
  createdAt: number;
  deliveries: DeliveryRecord[];
}

export interface LedgerRecord {
  journalId: string;
  account: string;
  currency: string;
  /** Signed minor units. */
  amount: number;
  sourceId: string;
  createdAt: number;
}

/** Everything recorded about one payment, each list oldest first. */
export interface PaymentRecord {
  intent: PaymentIntent;
  attempts: PaymentAttempt[];
  refunds: Refund[];
  events: EventRecord[];
  ledger: LedgerRecord[];
}

export interface PaymentConsoleReads {
  list(filter: PaymentListFilter, after: ListCursor | null, limit: number): Promise<PaymentListPage>;
  /** The payment with this intent id among these merchants' payments, or null. */
  record(merchantIds: string[], intentId: string): Promise<PaymentRecord | null>;
}

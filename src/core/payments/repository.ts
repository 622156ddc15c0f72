import type { Journal } from '../ledger/journal.ts';
import type { IdempotencyKey, KeyClaim } from './command.ts';
import type { AttemptStatus, DomainEvent, IntentStatus, PaymentAttempt, PaymentIntent, Refund } from './types.ts';

/** What the payments service needs from storage inside one unit of work. */
export interface PaymentsTx {
  /** `lock` takes a row lock where the database has them, serializing concurrent commands on one intent. */
  intent(merchantId: string, id: string, lock?: boolean): Promise<PaymentIntent | null>;
  attempt(merchantId: string, id: string): Promise<PaymentAttempt | null>;
  attemptByChallenge(challengeId: string): Promise<PaymentAttempt | null>;
  attemptByWalletToken(token: string): Promise<PaymentAttempt | null>;
  refund(merchantId: string, id: string): Promise<Refund | null>;
  insertIntent(intent: PaymentIntent): Promise<void>;
  /**
   * Writes the intent over the stored version it carries and returns it with
   * the version it has now; throws StaleWrite when the stored intent is no
   * longer that version (another request wrote it meanwhile).
   */
  updateIntent(intent: PaymentIntent): Promise<PaymentIntent>;
  /**
   * The caller's copies of an intent and attempt as an earlier unit stored
   * them: updates of them in this unit write only what differs from these
   * copies (the intent's version still decides whether an update applies).
   * An attempt changes only with its intent, except for refunds, which need
   * a SUCCEEDED intent, so a current intent version vouches for its attempt.
   */
  basedOn(intent: PaymentIntent, attempt: PaymentAttempt): void;
  insertAttempt(attempt: PaymentAttempt): Promise<void>;
  updateAttempt(attempt: PaymentAttempt): Promise<void>;
  insertRefund(refund: Refund): Promise<void>;
  updateRefund(refund: Refund): Promise<void>;
  post(journal: Journal, now: number): Promise<void>;
  /** Appends events to the outbox and plans their deliveries, in this transaction. */
  appendEvents(events: DomainEvent[]): Promise<void>;
  vaultPut(token: string, ciphertext: string, expiresAt: number): Promise<void>;
  vaultTake(token: string): Promise<string | null>;
  /** Claims a merchant's idempotency key for a request, in this transaction (see command.ts). */
  claimKey(key: IdempotencyKey, now: number, subjectId: string | null): Promise<KeyClaim>;
  /**
   * Stores the response a claimed idempotency key answers with, if the key
   * is still processing. False when it was not; a store that sends the write
   * without waiting for its answer (PostgreSQL, see compiled.ts) answers
   * true without knowing, so nothing inside a unit may act on a true.
   */
  completeKey(key: IdempotencyKey, status: number, body: string): Promise<boolean>;
  /** Reserves a provider reference (QFPay out_trade_no) for an object; false when the merchant already used it. */
  reserveReference(merchantId: string, scope: string, reference: string, objectId: string, now: number): Promise<boolean>;
}

export interface Page<T> {
  items: T[];
  total: number;
}

export interface PageRequest {
  pageSize: number;
  pageNumber: number;
}

export interface IntentFilter {
  status?: IntentStatus;
  createdFrom?: number;
  createdTo?: number;
  merchantOrderId?: string;
}

export interface AttemptFilter {
  intentId?: string;
  status?: AttemptStatus;
}

export interface RefundFilter {
  intentId?: string;
  merchantOrderId?: string;
  createdFrom?: number;
  createdTo?: number;
}

export interface Balance {
  currency: string;
  available: number;
  pending: number;
}

/** Reads outside a unit of work: they see committed data only. */
export interface PaymentsReads {
  intent(merchantId: string, id: string): Promise<PaymentIntent | null>;
  attempt(merchantId: string, id: string): Promise<PaymentAttempt | null>;
  attemptsByIds(merchantId: string, ids: string[]): Promise<PaymentAttempt[]>;
  attemptByChallenge(challengeId: string): Promise<PaymentAttempt | null>;
  attemptByWalletToken(token: string): Promise<PaymentAttempt | null>;
  refund(merchantId: string, id: string): Promise<Refund | null>;
  listIntents(merchantId: string, filter: IntentFilter, page: PageRequest): Promise<Page<PaymentIntent>>;
  listAttempts(merchantId: string, filter: AttemptFilter, page: PageRequest): Promise<Page<PaymentAttempt>>;
  listRefunds(merchantId: string, filter: RefundFilter, page: PageRequest): Promise<Page<Refund>>;
  balances(merchantId: string): Promise<Balance[]>;
  /** Intents past their expiry that are still unpaid. */
  expiredIntents(now: number, limit: number): Promise<Array<{ merchantId: string; id: string }>>;
  /** Attempts still waiting on the card network (a crash between the two units left them). */
  attemptsInFlight(olderThan: number, limit: number): Promise<PaymentAttempt[]>;
  refundsInFlight(olderThan: number, limit: number): Promise<Refund[]>;
}

export interface PaymentsStore {
  unit<T>(fn: (tx: PaymentsTx) => Promise<T>): Promise<T>;
  reads: PaymentsReads;
}

/** An update was based on a copy of a row that is no longer the stored one: another request wrote it meanwhile. */
export class StaleWrite extends Error {
  constructor(
    readonly resource: string,
    readonly id: string,
  ) {
    super(`${resource} ${id} was written by another request meanwhile`);
    this.name = 'StaleWrite';
  }
}

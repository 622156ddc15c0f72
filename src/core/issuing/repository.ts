/** What the issuing service needs from storage (store/issuing-repo.ts implements it for SQLite and PostgreSQL). */
import type {
  Card,
  Cardholder,
  CardholderStatus,
  CardOrder,
  CardStatus,
  IssuingBalance,
  IssuingEntry,
  IssuingEvent,
  IssuingTransaction,
  TransactionType,
  Transfer,
} from './types.ts';

export interface PageRequest {
  pageSize: number;
  pageNumber: number;
}

export interface Page<T> {
  total: number;
  items: T[];
}

/** An idempotency key as the HTTP edge claims it (same shape as acquiring's). */
export interface RequestKey {
  merchantId: string;
  scope: string;
  key: string;
  requestHash: string;
  expiresAt: number;
}

export interface IssuingTx {
  cardholder(merchantId: string, id: string): Promise<Cardholder | null>;
  /** A cardholder of the merchant other than `exceptId` with this email or phone number. */
  cardholderWithContact(merchantId: string, email: string, phoneNumber: string, exceptId?: string): Promise<Cardholder | null>;
  insertCardholder(c: Cardholder): Promise<void>;
  updateCardholder(c: Cardholder): Promise<void>;

  /** With `lock`, the card's row stays locked to this unit (PostgreSQL row lock; SQLite's writer is single). */
  card(merchantId: string, id: string, lock?: boolean): Promise<Card | null>;
  cardByFingerprint(fingerprint: string, lock?: boolean): Promise<Card | null>;
  insertCard(card: Card): Promise<void>;
  updateCard(card: Card): Promise<void>;
  insertOrder(order: CardOrder): Promise<void>;
  /** The card's order of `type` still PROCESSING succeeds; its id (null when there is none). */
  completeOrder(cardId: string, type: CardOrder['type'], now: number): Promise<string | null>;

  balance(merchantId: string, currency: string, lock?: boolean): Promise<IssuingBalance | null>;
  saveBalance(balance: IssuingBalance, isNew: boolean): Promise<void>;

  transaction(merchantId: string, id: string): Promise<IssuingTransaction | null>;
  transactionByReference(reference: string, type: TransactionType): Promise<IssuingTransaction | null>;
  insertTransaction(t: IssuingTransaction): Promise<void>;
  updateTransaction(t: IssuingTransaction): Promise<void>;
  insertTransfer(t: Transfer): Promise<void>;

  post(journal: { id: string; merchantId: string; sourceId: string; entries: IssuingEntry[] }, now: number): Promise<void>;
  appendEvents(events: IssuingEvent[]): Promise<void>;

  putDisplayToken(tokenHash: string, merchantId: string, cardId: string, expiresAt: number): Promise<void>;
  /** Marks the token used; the card it shows, or null when it is unknown, used or expired. */
  useDisplayToken(tokenHash: string, now: number): Promise<{ merchantId: string; cardId: string } | null>;

  claimKey(key: RequestKey, now: number, subjectId: string | null): Promise<{ kind: string }>;
  completeKey(key: RequestKey, status: number, body: string): Promise<boolean>;
}

export interface CardholderFilter {
  status?: CardholderStatus;
  email?: string;
}

export interface CardFilter {
  status?: CardStatus;
  cardholderId?: string;
  last4?: string;
}

export interface TransactionFilter {
  cardId?: string;
  createdFrom?: number;
  createdTo?: number;
}

export interface BalanceTransaction {
  id: string;
  sourceId: string;
  currency: string;
  /** Merchant-facing: positive adds to the issuing balance. */
  amount: number;
  createdAt: number;
}

export interface IssuingReads {
  cardholder(merchantId: string, id: string): Promise<Cardholder | null>;
  card(merchantId: string, id: string): Promise<Card | null>;
  transaction(merchantId: string, id: string): Promise<IssuingTransaction | null>;
  transfer(merchantId: string, id: string): Promise<Transfer | null>;
  cardholdersByIds(merchantId: string, ids: string[]): Promise<Cardholder[]>;
  listCardholders(merchantId: string, f: CardholderFilter, page: PageRequest): Promise<Page<Cardholder>>;
  listCards(merchantId: string, f: CardFilter, page: PageRequest): Promise<Page<Card>>;
  listTransactions(merchantId: string, f: TransactionFilter, page: PageRequest): Promise<Page<IssuingTransaction>>;
  listTransfers(merchantId: string, page: PageRequest): Promise<Page<Transfer>>;
  balances(merchantId: string): Promise<IssuingBalance[]>;
  balanceTransactions(merchantId: string, currency: string | undefined, page: PageRequest): Promise<Page<BalanceTransaction>>;
  cardsWithStepDue(now: number, limit: number): Promise<Array<{ merchantId: string; id: string }>>;
  /** The acquiring merchant's name, for the transaction's merchant data. */
  merchantName(merchantId: string): Promise<string | null>;
}

export interface IssuingStore {
  unit<T>(fn: (tx: IssuingTx) => Promise<T>): Promise<T>;
  reads: IssuingReads;
}

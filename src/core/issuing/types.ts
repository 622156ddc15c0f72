/** The issuing aggregate's objects. Amounts are integer minor units of the card's currency. */

export const CARDHOLDER_STATUSES = ['SUCCESS', 'PENDING', 'INCOMPLETE', 'FAILED'] as const;
export type CardholderStatus = (typeof CARDHOLDER_STATUSES)[number];

export const CARD_STATUSES = ['PENDING', 'ACTIVE', 'FROZEN', 'BLOCKED', 'PRE_CANCEL', 'CANCELLED', 'FAILED'] as const;
export type CardStatus = (typeof CARD_STATUSES)[number];

export type TransactionStatus = 'APPROVED' | 'DECLINED' | 'PENDING';

export type TransactionType = 'AUTHORIZATION' | 'REVERSAL' | 'REFUND';

export type ModeType = 'SHARE' | 'SINGLE';

export interface CardProduct {
  id: string;
  bin: string;
  scheme: 'VISA' | 'MASTERCARD';
  modeType: ModeType;
  cardForms: ReadonlyArray<'VIR' | 'PHY'>;
  currencies: readonly string[];
  /** card_limit must be sent and be at least one minor unit (seed 001: BINs 527735, 555071, 555243). */
  limitRequired: boolean;
}

export interface Address {
  line1?: string;
  line2?: string;
  city?: string;
  state?: string;
  postalCode?: string;
  country?: string;
}

/** What a cardholder gives beyond the required fields. */
export interface CardholderDetails {
  dateOfBirth?: string;
  gender?: string;
  nationality?: string;
  residentialAddress?: Address;
  identity?: { type?: string; number?: string };
}

export interface Cardholder {
  id: string;
  merchantId: string;
  email: string;
  phoneNumber: string;
  firstName: string;
  lastName: string;
  countryCode: string;
  status: CardholderStatus;
  details: CardholderDetails;
  createdAt: number;
  updatedAt: number;
}

export interface SpendingControl {
  amount: number; // minor units
  interval: 'PER_TRANSACTION';
}

export interface RiskControls {
  enable3ds: boolean;
  allow3dsTransactions: boolean;
  allowedMcc: string[];
  blockedMcc: string[];
}

export type UsageType = 'NORMAL' | 'ONE_TIME';
export type AutoCancelTrigger = 'ON_AUTH' | 'ON_CAPTURE';

export interface CardControls {
  spending: SpendingControl[];
  risk: RiskControls;
  usageType: UsageType;
  autoCancelTrigger: AutoCancelTrigger | null;
}

export interface Card {
  id: string;
  merchantId: string;
  cardholderId: string;
  productId: string;
  currency: string;
  /** The PAN, sealed (AES-256-GCM): only the issuing service opens it. */
  panSealed: string;
  panFingerprint: string;
  bin: string;
  last4: string;
  expiryMonth: number;
  expiryYear: number;
  status: CardStatus;
  /** SHARE: the most the card may spend; SINGLE: what has been put on the card. */
  cardLimit: number;
  /** What the card can still spend (SHARE: limit left; SINGLE: funds on the card). */
  available: number;
  consumed: number;
  controls: CardControls;
  metadata: Record<string, unknown>;
  /** When the card's step in progress completes: PENDING turns ACTIVE, PRE_CANCEL turns CANCELLED (null: none). */
  stepDueAt: number | null;
  createdAt: number;
  updatedAt: number;
}

export type CardOrderType = 'CARD_CREATE' | 'CARD_UPDATE' | 'CARD_STATUS_UPDATE' | 'CARD_RECHARGE' | 'CARD_WITHDRAW';
export type CardOrderStatus = 'PROCESSING' | 'PENDING' | 'SUCCESS' | 'FAILED';

export interface CardOrder {
  id: string;
  merchantId: string;
  cardId: string;
  type: CardOrderType;
  status: CardOrderStatus;
  amount: number | null;
  currency: string;
  createdAt: number;
  updatedAt: number;
}

export interface IssuingTransaction {
  id: string;
  merchantId: string;
  cardId: string;
  cardholderId: string;
  type: TransactionType;
  status: TransactionStatus;
  amount: number;
  currency: string;
  merchantName: string;
  merchantCategoryCode: string;
  failureReason: string | null;
  authorizationCode: string | null;
  /** The card network's reference (the acquirer's attempt or refund id), when it came through the network. */
  networkReference: string | null;
  originalTransactionId: string | null;
  cardAvailableBalance: number;
  capturedAmount: number;
  reversedAmount: number;
  createdAt: number;
  postedAt: number | null;
}

export interface IssuingBalance {
  id: string;
  merchantId: string;
  currency: string;
  available: number;
  createdAt: number;
  updatedAt: number;
}

export interface Transfer {
  id: string;
  merchantId: string;
  sourceAccountId: string;
  destinationAccountId: string;
  currency: string;
  amount: number;
  status: 'SUCCEEDED';
  createdAt: number;
}

/** Issuing's ledger accounts (posted to the same double-entry ledger as acquiring). */
export type IssuingAccount = 'issuing_balance' | 'issuing_card_funds' | 'issuing_deposits' | 'scheme_payable';

export interface IssuingEntry {
  account: IssuingAccount;
  amount: number;
  currency: string;
}

/** What goes out as a webhook: the card or transaction as it stands, with its cardholder. */
export interface IssuingEvent {
  id: string;
  merchantId: string;
  type: IssuingEventType;
  sourceId: string;
  payload: IssuingEventPayload;
  createdAt: number;
}

export type IssuingEventType =
  | 'card.create.succeeded'
  | 'card.update.succeeded'
  | 'card.status.update.succeeded'
  | 'card.recharge.succeeded'
  | 'card.withdraw.succeeded'
  | 'issuing.transaction.authorization'
  | 'issuing.transaction.reversal'
  | 'issuing.transaction.refund'
  | 'issuing.transaction.settlement';

export interface IssuingEventPayload {
  card: CardView;
  transaction?: IssuingTransaction;
}

/** A card without its sealed PAN, with its cardholder: what reads and events show. */
export type CardView = Omit<Card, 'panSealed' | 'panFingerprint'> & {
  cardholder: Cardholder;
  product: CardProduct;
  /** What the card can spend now: its own available amount, or the issuing balance for a SHARE card without a limit. */
  availableBalance: number;
};

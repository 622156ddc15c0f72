/** The acquiring domain: a PaymentIntent is paid by PaymentAttempts; captured money can be refunded. */
import type { PendingReason, WalletFlow, WalletKind } from '../ports.ts';

export const INTENT_STATUSES = [
  'REQUIRES_PAYMENT_METHOD',
  'REQUIRES_CUSTOMER_ACTION',
  'REQUIRES_CAPTURE',
  'PENDING',
  'SUCCEEDED',
  'CANCELLED',
  'FAILED',
] as const;
export type IntentStatus = (typeof INTENT_STATUSES)[number];

export const ATTEMPT_STATUSES = [
  'INITIATED',
  'AUTHENTICATION_REDIRECTED',
  'PENDING_AUTHORIZATION',
  'AUTHORIZED',
  'CAPTURE_REQUESTED',
  'SETTLED',
  'SUCCEEDED',
  'CANCELLED',
  'EXPIRED',
  'FAILED',
] as const;
export type AttemptStatus = (typeof ATTEMPT_STATUSES)[number];

export const REFUND_STATUSES = ['INITIATED', 'PROCESSING', 'SUCCEEDED', 'FAILED'] as const;
export type RefundStatus = (typeof REFUND_STATUSES)[number];

export const CANCELLATION_REASONS = ['duplicate', 'fraudulent', 'requested_by_customer', 'abandoned'] as const;
export type CancellationReason = (typeof CANCELLATION_REASONS)[number];

export interface BillingDetails {
  firstName?: string;
  lastName?: string;
  email?: string;
  phoneNumber?: string;
  address?: {
    countryCode?: string;
    state?: string;
    city?: string;
    street?: string;
    postcode?: string;
  };
}

/** What the acquiring side keeps of a card: never the full number, never the CVC. */
export interface StoredCard {
  cardName?: string;
  bin: string;
  last4: string;
  network: string;
  fundingType?: string;
  expiryMonth: number;
  expiryYear: number;
  fingerprint: string;
  billing?: BillingDetails;
  authorizationType?: string;
  threeDsAction: 'skip_3ds' | 'enforce_3ds';
}

/** What the acquiring side keeps of a wallet payment: never the full payment code. */
export interface StoredWallet {
  kind: WalletKind;
  flow: WalletFlow;
  osType?: string;
  paymentCodeLast4?: string;
}

export type StoredPaymentMethod = { type: 'card'; card: StoredCard } | { type: 'wallet'; wallet: StoredWallet };

export type NextAction =
  | { type: 'redirect_to_url'; url: string; returnUrl: string }
  | { type: 'display_qr_code'; qrCode: string; qrCodeUrl: string; expiresAt: number }
  | { type: 'sdk_params'; url: string; params: Record<string, string> };

/** What a wallet reported for an attempt: the shopper's side of the money and the rate applied. */
export interface WalletCharge {
  shopperAmount: number;
  shopperCurrency: string;
  /** Shopper currency per one unit of the order currency, exact decimal; null when no conversion. */
  fxRate: string | null;
  walletTransactionId?: string;
  /** Merchant-presented flows: when the QR / pay page stops working. */
  expiresAt?: number;
  /** A payment-code charge still open: why (the payer is entering a password, or the wallet is processing). */
  pendingReason?: PendingReason;
  /** A provider rule the order breaks, found when it was made: the order exists, and paying it fails with this code. */
  refusal?: string;
}

export interface ThreeDSAuthentication {
  version: string;
  eci: string;
  cavv: string;
  dsTransactionId: string;
  status: string;
}

export interface AuthenticationData {
  cvcResult?: string;
  avsResult?: string;
  threeDS?: ThreeDSAuthentication;
}

export interface PaymentIntent {
  id: string;
  merchantId: string;
  amount: number;
  currency: string;
  status: IntentStatus;
  capturedAmount: number;
  description: string | null;
  merchantOrderId: string | null;
  metadata: Record<string, unknown> | null;
  returnUrl: string | null;
  customer: Record<string, unknown> | null;
  clientSecret: string;
  latestAttemptId: string | null;
  nextAction: NextAction | null;
  /** The API the intent was created through; its notifications speak that dialect. */
  origin: string;
  /** Where that dialect's notifications go instead of the merchant's webhook URL (QFPay notify_url, ...). */
  notifyUrl: string | null;
  cancellationReason: CancellationReason | null;
  cancelTime: number | null;
  completeTime: number | null;
  expiresAt: number;
  createdAt: number;
  updatedAt: number;
  /**
   * How many times the intent has been stored (1 when first written). The
   * store writes an intent only over the version it carries, and counts up.
   */
  version: number;
}

export interface PaymentAttempt {
  id: string;
  intentId: string;
  merchantId: string;
  amount: number;
  currency: string;
  status: AttemptStatus;
  capturedAmount: number;
  /** Refunds succeeded or in flight: a refund reserves its amount when it is created. */
  refundedAmount: number;
  autoCapture: boolean;
  paymentMethod: StoredPaymentMethod;
  failureCode: string | null;
  authCode: string | null;
  rrn: string | null;
  arn: string | null;
  adviceCode: string | null;
  authentication: AuthenticationData | null;
  threeDSChallengeId: string | null;
  /** Merchant-presented wallet flows: the token behind the QR code and pay page. */
  walletToken: string | null;
  wallet: WalletCharge | null;
  cancellationReason: CancellationReason | null;
  completeTime: number | null;
  createdAt: number;
  updatedAt: number;
}

export interface Refund {
  id: string;
  merchantId: string;
  intentId: string;
  attemptId: string;
  amount: number;
  currency: string;
  status: RefundStatus;
  reason: string;
  metadata: Record<string, unknown> | null;
  failureCode: string | null;
  /**
   * What the shopper gets back in the wallet's own currency when the wallet
   * charged another one (Alipay CN / WeChat Pay debit CNY): this refund's share
   * of the converted payment, so the refunds add up to exactly what was charged.
   */
  shopperAmount?: number | null;
  createdAt: number;
  updatedAt: number;
  /** Where this refund's notifications go instead of its intent's notify URL (AlphaPay refund.notifyUrl). */
  notifyUrl?: string;
}

/** Core event types; each dialect maps them to its own wire names. */
export type PaymentEventType =
  | 'payment_intent.created'
  | 'payment_intent.succeeded'
  | 'payment_intent.failed'
  | 'payment_intent.requires_action'
  | 'payment_attempt.created'
  | 'payment_attempt.capture_requested'
  | 'payment_attempt.cancelled'
  | 'payment_attempt.failed'
  | 'cancel.succeeded'
  | 'cancel.failed'
  | 'refund.created'
  | 'refund.succeeded'
  | 'refund.failed';

/** An event as the state machines name it: which object it is about. */
export interface Emit {
  type: PaymentEventType;
  subject: 'intent' | 'attempt' | 'refund';
}

/** The snapshot stored with an event, rendered by each dialect at delivery time. */
export interface PaymentEventPayload {
  intent?: PaymentIntent;
  attempt?: PaymentAttempt;
  refund?: Refund;
}

export interface DomainEvent {
  id: string;
  merchantId: string;
  type: string;
  sourceId: string;
  payload: PaymentEventPayload;
  createdAt: number;
  /** Who is told: the dialect the intent came through, at its notify URL or else the merchant's webhook URL. */
  notify: { dialect: string; url: string | null };
}

/** A posting to the double-entry ledger; the entries of one journal sum to zero. */
export interface LedgerEntry {
  account: LedgerAccount;
  amount: number; // signed minor units
  currency: string;
}

export type LedgerAccount = 'merchant_pending' | 'merchant_available' | 'scheme_receivable';

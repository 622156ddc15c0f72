import type { Money } from './money.ts';

/**
 * The outside world, as the core sees it. The composition root hands the core
 * implementations (today the simulators in network/sim); the core never
 * imports one.
 */

/** Card details as entered by the shopper. Lives only in memory, never in storage. */
export interface CardDetails {
  number: string; // digits only
  expiryMonth: number; // 1-12
  expiryYear: number; // four digits
  cvc?: string;
  holderName?: string;
}

export interface ThreeDSData {
  version: string; // "2.2.0"
  eci: string;
  cavv: string;
  dsTransactionId: string;
  status: 'Y' | 'A' | 'N' | 'U' | 'R';
}

export interface AuthorizationRequest {
  /** The attempt id: the network keeps it so an authorization can be looked up after a crash. */
  reference: string;
  merchantId: string;
  card: CardDetails;
  amount: Money;
  threeDS?: ThreeDSData;
  /** A sale: the authorization is captured at once (auto_capture), so no separate capture follows. */
  capture?: boolean;
}

export type AuthorizationResult =
  | {
      outcome: 'approved';
      authCode: string;
      rrn: string;
      arn: string;
      cvcResult: 'M' | 'N' | 'P' | 'U';
      avsResult: string;
      network: string; // visa, mastercard, ...
      fundingType: 'credit' | 'debit' | 'prepaid';
    }
  | {
      outcome: 'declined';
      /** Provider-neutral decline reason: card_declined, insufficient_funds, expired_card, incorrect_cvc, processing_error, ... */
      failureCode: string;
      adviceCode?: string;
      network: string;
    }
  /** The issuer has not answered yet: `lookup` gives the answer once it has. */
  | { outcome: 'pending'; network: string };

/** What the network says when asked about an authorization whose answer the platform lost. */
export type AuthorizationInquiry = AuthorizationResult | { outcome: 'never_received' };

export interface CardNetwork {
  /** The same reference again (a retry) gets the first answer. */
  authorize(req: AuthorizationRequest): Promise<AuthorizationResult>;
  capture(reference: string, amount: Money): Promise<void>;
  void(reference: string): Promise<void>;
  refund(reference: string, refundId: string, amount: Money): Promise<void>;
  /** What the network knows of an authorization; null when it has not received it (it may be on its way). */
  lookup(reference: string): Promise<AuthorizationResult | null>;
  /**
   * For recovery of an attempt whose answer was lost (a crash, a timeout):
   * the answer the network gave (or pending), or never_received. That is
   * final: from then on the network refuses an authorization under the
   * reference (as a network reverses one its acquirer timed out on), so the
   * attempt is safe to decline, also while its request may still be running
   * on another node.
   */
  inquire(reference: string): Promise<AuthorizationInquiry>;
}

/** Whether a card takes part in 3DS: challenged always, only when the merchant enforces 3DS, or never. */
export type ThreeDSEnrollment = 'always' | 'when_enforced' | 'never';

/**
 * The platform's own card issuer, as the card network sees it: the network
 * routes an authorization whose card number is on one of the platform's card
 * products here instead of to its test-card table. Capture, void and refund
 * answer false for a reference the issuer never authorized.
 */
export interface CardIssuer {
  /** The number is on a BIN of one of the platform's card products. */
  issues(cardNumber: string): boolean;
  authorize(req: AuthorizationRequest): Promise<AuthorizationResult>;
  capture(reference: string, amount: Money): Promise<boolean>;
  void(reference: string): Promise<boolean>;
  refund(reference: string, refundId: string, amount: Money): Promise<boolean>;
  lookup(reference: string): Promise<AuthorizationResult | null>;
  /** How the card's risk controls say 3DS goes (null: no such card). */
  threeDSEnrollment(card: CardDetails): Promise<ThreeDSEnrollment | null>;
}

export type AuthenticationDecision =
  | { kind: 'frictionless'; data: ThreeDSData }
  | { kind: 'challenge'; acsUrl: string; challengeId: string }
  | { kind: 'not_enrolled' };

export interface AuthenticationRequest {
  reference: string; // attempt id
  card: CardDetails;
  amount: Money;
  /** The merchant asked for 3DS (enforce_3ds): a challenge-capable card is always challenged. */
  enforce: boolean;
}

export interface ThreeDSServer {
  authenticate(req: AuthenticationRequest): Promise<AuthenticationDecision>;
  /** Result data for a challenge that the shopper finished, for a card of `network` (visa, mastercard, ...). */
  challengeResult(challengeId: string, success: boolean, network: string): ThreeDSData;
}

/** E-wallets the platform accepts; each provider dialect names them its own way. */
export const WALLET_KINDS = [
  'alipaycn', 'alipayhk', 'wechatpay', 'unionpay', 'grabpay', 'paynow', 'truemoney', 'tng', 'gcash',
  'dana', 'kakaopay', 'naverpay', 'tosspay', 'payme', 'fps', 'octopus', 'boost', 'shopeepay', 'linepay',
  'promptpay', 'thaiqr', 'airpay', 'netspay', 'origami', 'ewallet', 'via', 'razer', 'dash', 'maybank', 'gopay',
] as const;
export type WalletKind = (typeof WALLET_KINDS)[number];

/**
 * How the shopper meets the wallet: a QR code the merchant shows (qrcode), a
 * hosted page for web or mobile browsers (web), app / JSAPI / mini-program
 * parameters (sdk), or the shopper's own payment code that the merchant scans
 * (payment_code).
 */
export type WalletFlow = 'qrcode' | 'web' | 'sdk' | 'payment_code';

export interface WalletOrderRequest {
  reference: string; // attempt id
  merchantId: string;
  wallet: WalletKind;
  flow: Exclude<WalletFlow, 'payment_code'>;
  /** What the merchant is paid, in the order currency. */
  amount: Money;
  /** What the shopper's wallet is charged (CNY for Alipay CN and WeChat Pay). */
  shopperAmount: Money;
  expiresAt: number;
  returnUrl?: string;
}

export interface WalletOrder {
  /** Opaque token: scanning the QR or opening the pay page leads back to this order. */
  token: string;
  /** What the QR code encodes. */
  qrContent: string;
  /** Hosted page showing the QR image and pay / decline buttons as the wallet app would. */
  payUrl: string;
  /** For app / JSAPI / mini-program flows: what the merchant's app hands the wallet SDK. */
  sdkParams: Record<string, string>;
}

export interface PaymentCodeRequest {
  reference: string;
  merchantId: string;
  wallet: WalletKind | null; // null: any wallet (the code says which)
  code: string;
  amount: Money;
  shopperAmount: Money;
}

/** Why a payment-code charge is still open: the payer is entering a password, or the wallet is processing. */
export type PendingReason = 'payer_confirming' | 'processing';

export type PaymentCodeResult =
  | { outcome: 'paid'; wallet: WalletKind; walletTransactionId: string }
  /** The payer is still confirming (entering a password): settled later; ask again with `settle`. */
  | { outcome: 'pending'; wallet: WalletKind; reason: PendingReason }
  | { outcome: 'declined'; failureCode: 'insufficient_balance' | 'invalid_payment_code' | 'payment_code_expired' | 'processing_error' };

export interface Wallets {
  createOrder(req: WalletOrderRequest): Promise<WalletOrder>;
  chargePaymentCode(req: PaymentCodeRequest): Promise<PaymentCodeResult>;
  /**
   * The final answer for a payment-code charge left pending, once the payer has finished (null or 'pending':
   * not yet). `pending` is what the platform recorded of it (why, and since when), for a wallet that answers
   * from that rather than from its own memory (another node's, or one from before a restart).
   */
  settle(reference: string, now: number, pending?: { reason: PendingReason; since: number }): Promise<PaymentCodeResult | null>;
  refund(reference: string, refundId: string, amount: Money): Promise<void>;
  /** Pre-authorization: takes `amount` of the frozen funds; the rest is released. */
  capture(reference: string, amount: Money): Promise<void>;
  /** Pre-authorization: releases the frozen funds back to the shopper (unfreeze). */
  release(reference: string): Promise<void>;
}

/** Exchange rates as exact decimal strings ("5.2712" CNY per 1 SGD), never floats. */
export interface FxRates {
  rate(from: string, to: string): { rate: string; source: string } | null;
}

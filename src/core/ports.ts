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
    };

export interface CardNetwork {
  authorize(req: AuthorizationRequest): Promise<AuthorizationResult>;
  capture(reference: string, amount: Money): Promise<void>;
  void(reference: string): Promise<void>;
  refund(reference: string, refundId: string, amount: Money): Promise<void>;
  /** What the network knows of an authorization; null when it never saw it. */
  lookup(reference: string): Promise<AuthorizationResult | null>;
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
  /** Result data for a challenge that the shopper finished. */
  challengeResult(challengeId: string, success: boolean): ThreeDSData;
}

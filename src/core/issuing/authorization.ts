/**
 * The issuer's decision on an authorization, as a pure function of the card
 * (read under lock), the issuing balance it draws on and the request.
 */
import type { Card } from './types.ts';
import { expiryPassed } from './cards.ts';

/** Why the issuer declined, as the issuing API reports it (failure_reason). */
export type DeclineReason =
  | 'CARD_NOT_ACTIVE'
  | 'CARD_EXPIRED'
  | 'INVALID_EXPIRY_DATE'
  | 'INVALID_CVV'
  | 'CURRENCY_MISMATCH'
  | 'EXCEEDS_SPENDING_CONTROL'
  | 'EXCEEDS_CARD_LIMIT'
  | 'INSUFFICIENT_BALANCE'
  | 'MCC_NOT_ALLOWED'
  | 'MCC_BLOCKED'
  | 'THREE_DS_REQUIRED'
  | 'THREE_DS_NOT_ALLOWED'
  | 'INVALID_AMOUNT';

export interface AuthorizationInput {
  amount: number;
  currency: string;
  merchantCategoryCode: string;
  /** Present when the card was entered (network authorizations); the simulation API sends the card id only. */
  cardEntered?: { expiryMonth: number; expiryYear: number; cvcMatches: boolean | null };
  /** 3DS came with the authorization and succeeded. */
  threeDS: boolean;
}

export type Decision = { approved: true } | { approved: false; reason: DeclineReason };

/**
 * `shareBalance`: the merchant's issuing balance in the card's currency, for
 * SHARE cards (null for SINGLE cards, which hold their own funds).
 */
export function decide(card: Card, input: AuthorizationInput, shareBalance: number | null, now: number): Decision {
  const decline = (reason: DeclineReason): Decision => ({ approved: false, reason });
  if (input.amount <= 0) return decline('INVALID_AMOUNT');
  if (card.status !== 'ACTIVE') return decline('CARD_NOT_ACTIVE');
  if (expiryPassed(card, now)) return decline('CARD_EXPIRED');
  const entered = input.cardEntered;
  if (entered) {
    if (entered.expiryMonth !== card.expiryMonth || entered.expiryYear !== card.expiryYear) return decline('INVALID_EXPIRY_DATE');
    if (entered.cvcMatches === false) return decline('INVALID_CVV');
  }
  if (input.currency !== card.currency) return decline('CURRENCY_MISMATCH');
  const risk = card.controls.risk;
  if (risk.blockedMcc.includes(input.merchantCategoryCode)) return decline('MCC_BLOCKED');
  if (risk.allowedMcc.length > 0 && !risk.allowedMcc.includes(input.merchantCategoryCode)) return decline('MCC_NOT_ALLOWED');
  if (input.threeDS && !risk.allow3dsTransactions) return decline('THREE_DS_NOT_ALLOWED');
  if (risk.enable3ds && input.cardEntered && !input.threeDS) return decline('THREE_DS_REQUIRED');
  for (const control of card.controls.spending) {
    if (control.interval === 'PER_TRANSACTION' && input.amount > control.amount) return decline('EXCEEDS_SPENDING_CONTROL');
  }
  // A SHARE card without a limit (card_limit 0) is capped by the issuing balance only.
  const limited = shareBalance === null || card.cardLimit > 0;
  if (limited && input.amount > card.available) return decline(shareBalance !== null ? 'EXCEEDS_CARD_LIMIT' : 'INSUFFICIENT_BALANCE');
  if (shareBalance !== null && input.amount > shareBalance) return decline('INSUFFICIENT_BALANCE');
  return { approved: true };
}

/** The acquiring side's decline code for an issuing decline (what the card network tells the acquirer). */
export function networkFailureCode(reason: DeclineReason): string {
  switch (reason) {
    case 'CARD_EXPIRED':
    case 'INVALID_EXPIRY_DATE':
      return 'expired_card';
    case 'INVALID_CVV':
      return 'incorrect_cvc';
    case 'EXCEEDS_CARD_LIMIT':
    case 'INSUFFICIENT_BALANCE':
      return 'insufficient_funds';
    case 'THREE_DS_REQUIRED':
      return 'authentication_required';
    default:
      return 'card_declined';
  }
}

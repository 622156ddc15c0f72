import { detectNetwork, type CardNetworkName } from '../../core/payments/card.ts';

/**
 * The documented test-card table of the simulated card network and 3DS
 * server (docs/test-cards.md is written from it). Any other Luhn-valid number
 * is approved without 3DS (see defaultTestCard).
 */

export type FundingType = 'credit' | 'debit' | 'prepaid';

export interface TestCard {
  number: string;
  network: CardNetworkName;
  brand: string;
  fundingType: FundingType;
  outcome: 'approved' | 'declined';
  /** Set when outcome is 'declined'. */
  failureCode?: string;
  /** The card scheme's advice to the merchant: new_account_information, try_again_later, do_not_try_again, stop_recurring. */
  adviceCode?: string;
  /**
   * 'challenge': always challenged, even with skip_3ds; the network declines it without successful 3DS.
   * 'frictionless': authenticated without a challenge, when the merchant enforces 3DS.
   * Absent: not enrolled unless 3DS is enforced, in which case it is challenged.
   */
  threeDS?: 'challenge' | 'frictionless';
  /** The issuer answers this long (platform time) after the authorization request; until then it is pending. */
  issuerDelayMs?: number;
  description: string;
}

export const TEST_CARDS: readonly TestCard[] = [
  { number: '5346930100108117', network: 'mastercard', brand: 'Mastercard', fundingType: 'credit', outcome: 'approved', description: 'Approved (the UQPAY quickstart card).' },
  { number: '4242424242424242', network: 'visa', brand: 'Visa', fundingType: 'credit', outcome: 'approved', description: 'Approved.' },
  { number: '5555555555554444', network: 'mastercard', brand: 'Mastercard', fundingType: 'credit', outcome: 'approved', description: 'Approved.' },
  { number: '378282246310005', network: 'amex', brand: 'American Express', fundingType: 'credit', outcome: 'approved', description: 'Approved (4-digit CVC).' },
  { number: '6200000000000005', network: 'unionpay', brand: 'UnionPay', fundingType: 'debit', outcome: 'approved', description: 'Approved, debit.' },
  { number: '4000056655665556', network: 'visa', brand: 'Visa', fundingType: 'debit', outcome: 'approved', description: 'Approved, debit.' },
  { number: '5200828282828210', network: 'mastercard', brand: 'Mastercard', fundingType: 'debit', outcome: 'approved', description: 'Approved, debit.' },
  { number: '3566002020360505', network: 'jcb', brand: 'JCB', fundingType: 'credit', outcome: 'approved', description: 'Approved.' },
  { number: '6011111111111117', network: 'discover', brand: 'Discover', fundingType: 'credit', outcome: 'approved', description: 'Approved.' },
  { number: '36227206271667', network: 'diners', brand: 'Diners Club', fundingType: 'credit', outcome: 'approved', description: 'Approved (14 digits).' },
  { number: '4000000000000002', network: 'visa', brand: 'Visa', fundingType: 'credit', outcome: 'declined', failureCode: 'card_declined', adviceCode: 'do_not_try_again', description: 'Declined: generic decline (do not honor), do not try again.' },
  { number: '4000000000009995', network: 'visa', brand: 'Visa', fundingType: 'credit', outcome: 'declined', failureCode: 'insufficient_funds', description: 'Declined: insufficient funds.' },
  { number: '4000000000000069', network: 'visa', brand: 'Visa', fundingType: 'credit', outcome: 'declined', failureCode: 'expired_card', description: 'Declined by the issuer as expired, whatever expiry date is sent.' },
  { number: '4000000000000127', network: 'visa', brand: 'Visa', fundingType: 'credit', outcome: 'declined', failureCode: 'incorrect_cvc', description: 'Declined: incorrect CVC, whatever CVC is sent.' },
  { number: '4000000000000119', network: 'visa', brand: 'Visa', fundingType: 'credit', outcome: 'declined', failureCode: 'processing_error', adviceCode: 'try_again_later', description: 'Declined: network processing error.' },
  { number: '4000000000000267', network: 'visa', brand: 'Visa', fundingType: 'credit', outcome: 'approved', issuerDelayMs: 10_000, description: 'Slow issuer: the authorization is pending (intent PENDING) for 10 s of platform time, then approved.' },
  { number: '4000002500003155', network: 'visa', brand: 'Visa', fundingType: 'credit', outcome: 'approved', threeDS: 'challenge', description: '3DS challenge always required (even with skip_3ds); approved after a successful challenge.' },
  { number: '4000000000003220', network: 'visa', brand: 'Visa', fundingType: 'credit', outcome: 'approved', threeDS: 'frictionless', description: '3DS frictionless authentication when 3DS is enforced; approved.' },
];

const BRANDS: Record<CardNetworkName, string> = {
  visa: 'Visa', mastercard: 'Mastercard', amex: 'American Express', unionpay: 'UnionPay',
  jcb: 'JCB', discover: 'Discover', diners: 'Diners Club', unknown: 'Unknown',
};

/** The behaviour of a number that is not in the table: approved, credit, no 3DS unless enforced. */
export function defaultTestCard(number: string): TestCard {
  const network = detectNetwork(number);
  return { number, network, brand: BRANDS[network], fundingType: 'credit', outcome: 'approved', description: 'Any other Luhn-valid number: approved.' };
}

/** Indexes the table by number; `extra` entries (tests, demos) add to or replace the documented ones. */
export function testCardTable(extra: readonly TestCard[] = []): ReadonlyMap<string, TestCard> {
  return new Map([...TEST_CARDS, ...extra].map((c) => [c.number, c]));
}

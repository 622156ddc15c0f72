/**
 * The card's rules as pure functions: (card, command) -> new card, or a
 * domain error. No storage, no clock: `now` is passed in.
 */
import { DomainError } from '../errors.ts';
import type { Card, CardStatus, Cardholder, CardholderStatus } from './types.ts';

/** How long a card order takes in platform time: PENDING -> ACTIVE, PRE_CANCEL -> CANCELLED. */
export const CARD_ORDER_DELAY_MS = 3_000;

/** How long an issued card is valid: expiry is the month three years on. */
export const CARD_VALIDITY_YEARS = 3;

export const cardError = (message: string, code = 'card_error') => new DomainError('invalid_state', code, message);

/**
 * Sandbox KYC (docs/issuing.md): a cardholder whose last name is "Pending",
 * "Failed" or "Incomplete" (any case) stays in that status; every other
 * complete cardholder is approved at once.
 */
export function kycStatus(lastName: string): CardholderStatus {
  switch (lastName.trim().toLowerCase()) {
    case 'pending':
      return 'PENDING';
    case 'failed':
      return 'FAILED';
    case 'incomplete':
      return 'INCOMPLETE';
    default:
      return 'SUCCESS';
  }
}

export function assertCardholderCanHoldCards(cardholder: Cardholder): void {
  if (cardholder.status !== 'SUCCESS') {
    throw new DomainError('invalid_state', 'cardholder_not_verified', `cardholder ${cardholder.id} is ${cardholder.status}: cards need a cardholder with status SUCCESS`);
  }
}

/** The order in progress completes (the sweep, once its time has come). */
export function completeStep(card: Card, now: number): Card {
  if (card.status === 'PENDING') return { ...card, status: 'ACTIVE', stepDueAt: null, updatedAt: now };
  if (card.status === 'PRE_CANCEL') return { ...card, status: 'CANCELLED', stepDueAt: null, updatedAt: now };
  return { ...card, stepDueAt: null };
}

/** The statuses a merchant may ask for, and from where. */
const ALLOWED: Record<'ACTIVE' | 'FROZEN' | 'CANCELLED', readonly CardStatus[]> = {
  ACTIVE: ['FROZEN'],
  FROZEN: ['ACTIVE'],
  CANCELLED: ['ACTIVE', 'FROZEN'],
};

/** A status change the merchant asked for. CANCELLED goes through PRE_CANCEL first. */
export function changeStatus(card: Card, target: 'ACTIVE' | 'FROZEN' | 'CANCELLED', now: number): Card {
  if (card.status === target) throw cardError(`card ${card.id} is already ${target}`, 'invalid_card_status');
  if (!ALLOWED[target].includes(card.status)) {
    throw cardError(`card ${card.id} is ${card.status} and cannot be changed to ${target}`, 'invalid_card_status');
  }
  if (target === 'CANCELLED') return { ...card, status: 'PRE_CANCEL', stepDueAt: now + CARD_ORDER_DELAY_MS, updatedAt: now };
  return { ...card, status: target, updatedAt: now };
}

/** Cards whose limit or funds may be changed: not cancelled or cancelling, not failed. */
export function assertChangeable(card: Card): void {
  if (card.status === 'PRE_CANCEL' || card.status === 'CANCELLED' || card.status === 'FAILED') {
    throw cardError(`card ${card.id} is ${card.status}`, 'invalid_card_status');
  }
}

/**
 * The limit moves by `delta` (an update of card_limit, a recharge, a
 * withdrawal): what the card can spend moves with it, and never below zero.
 */
export function adjustLimit(card: Card, delta: number, now: number): Card {
  assertChangeable(card);
  const available = card.available + delta;
  if (available < 0) {
    throw DomainError.amount(`the card can spend ${card.available} minor units: its limit cannot fall by ${-delta}`, 'insufficient_card_balance');
  }
  return { ...card, cardLimit: card.cardLimit + delta, available, updatedAt: now };
}

export function expiryPassed(card: Pick<Card, 'expiryMonth' | 'expiryYear'>, now: number): boolean {
  const d = new Date(now);
  const y = d.getUTCFullYear();
  const m = d.getUTCMonth() + 1;
  return card.expiryYear < y || (card.expiryYear === y && card.expiryMonth < m);
}

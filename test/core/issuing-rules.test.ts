import { describe, expect, it } from 'vitest';
import { decide, networkFailureCode, type AuthorizationInput } from '../../src/core/issuing/authorization.ts';
import { CardSecrets, luhnValid, maskedPan, newPan } from '../../src/core/issuing/card-data.ts';
import { adjustLimit, changeStatus, completeStep, expiryPassed, kycStatus, CARD_ORDER_DELAY_MS } from '../../src/core/issuing/cards.ts';
import type { Card, CardStatus } from '../../src/core/issuing/types.ts';

const NOW = Date.UTC(2026, 11, 4, 12);

function card(overrides: Partial<Card> = {}): Card {
  return {
    id: 'c1', merchantId: 'm1', cardholderId: 'h1', productId: 'p1', currency: 'USD', panSealed: 'x', panFingerprint: 'f', bin: '40963608', last4: '1234',
    expiryMonth: 12, expiryYear: 2029, status: 'ACTIVE', cardLimit: 10_000, available: 10_000, consumed: 0,
    controls: { spending: [], risk: { enable3ds: false, allow3dsTransactions: true, allowedMcc: [], blockedMcc: [] }, usageType: 'NORMAL', autoCancelTrigger: null },
    metadata: {}, stepDueAt: null, createdAt: NOW, updatedAt: NOW, ...overrides,
  };
}

const input = (overrides: Partial<AuthorizationInput> = {}): AuthorizationInput => ({ amount: 1000, currency: 'USD', merchantCategoryCode: '5411', threeDS: false, ...overrides });

describe('issuing authorization decision', () => {
  it('approves within every rule', () => {
    expect(decide(card(), input(), 50_000, NOW)).toEqual({ approved: true });
    expect(decide(card(), input({ amount: 10_000 }), null, NOW)).toEqual({ approved: true });
  });

  it.each<[string, Partial<Card>, Partial<AuthorizationInput>, number | null, string]>([
    ['zero amount', {}, { amount: 0 }, null, 'INVALID_AMOUNT'],
    ['frozen', { status: 'FROZEN' }, {}, null, 'CARD_NOT_ACTIVE'],
    ['pending', { status: 'PENDING' }, {}, null, 'CARD_NOT_ACTIVE'],
    ['expired', { expiryMonth: 11, expiryYear: 2026 }, {}, null, 'CARD_EXPIRED'],
    ['wrong expiry entered', {}, { cardEntered: { expiryMonth: 1, expiryYear: 2029, cvcMatches: true } }, null, 'INVALID_EXPIRY_DATE'],
    ['wrong CVV', {}, { cardEntered: { expiryMonth: 12, expiryYear: 2029, cvcMatches: false } }, null, 'INVALID_CVV'],
    ['currency', {}, { currency: 'SGD' }, null, 'CURRENCY_MISMATCH'],
    ['blocked MCC', { controls: { ...card().controls, risk: { ...card().controls.risk, blockedMcc: ['5411'] } } }, {}, null, 'MCC_BLOCKED'],
    ['MCC not allowed', { controls: { ...card().controls, risk: { ...card().controls.risk, allowedMcc: ['5814'] } } }, {}, null, 'MCC_NOT_ALLOWED'],
    ['3DS not allowed', { controls: { ...card().controls, risk: { ...card().controls.risk, allow3dsTransactions: false } } }, { threeDS: true }, null, 'THREE_DS_NOT_ALLOWED'],
    ['3DS required', { controls: { ...card().controls, risk: { ...card().controls.risk, enable3ds: true } } }, { cardEntered: { expiryMonth: 12, expiryYear: 2029, cvcMatches: null } }, null, 'THREE_DS_REQUIRED'],
    ['spending control', { controls: { ...card().controls, spending: [{ amount: 999, interval: 'PER_TRANSACTION' }] } }, {}, null, 'EXCEEDS_SPENDING_CONTROL'],
    ['SHARE over the limit', { available: 999 }, {}, 50_000, 'EXCEEDS_CARD_LIMIT'],
    ['SHARE over the balance', {}, {}, 999, 'INSUFFICIENT_BALANCE'],
    ['SINGLE over its funds', { available: 999 }, {}, null, 'INSUFFICIENT_BALANCE'],
  ])('declines: %s', (_what, c, i, share, reason) => {
    expect(decide(card(c), input(i), share, NOW)).toEqual({ approved: false, reason });
  });

  it('a SHARE card without a limit spends the balance only', () => {
    expect(decide(card({ cardLimit: 0, available: 0 }), input(), 1000, NOW)).toEqual({ approved: true });
    expect(decide(card({ cardLimit: 0, available: 0 }), input(), 999, NOW)).toEqual({ approved: false, reason: 'INSUFFICIENT_BALANCE' });
  });

  it('3DS that came satisfies enable_3ds', () => {
    const c = card({ controls: { ...card().controls, risk: { ...card().controls.risk, enable3ds: true } } });
    expect(decide(c, input({ threeDS: true, cardEntered: { expiryMonth: 12, expiryYear: 2029, cvcMatches: true } }), null, NOW)).toEqual({ approved: true });
  });

  it('maps reasons to the acquirer decline codes', () => {
    expect(networkFailureCode('EXCEEDS_CARD_LIMIT')).toBe('insufficient_funds');
    expect(networkFailureCode('INVALID_CVV')).toBe('incorrect_cvc');
    expect(networkFailureCode('CARD_EXPIRED')).toBe('expired_card');
    expect(networkFailureCode('THREE_DS_REQUIRED')).toBe('authentication_required');
    expect(networkFailureCode('MCC_BLOCKED')).toBe('card_declined');
  });
});

describe('card rules', () => {
  const statuses: CardStatus[] = ['PENDING', 'ACTIVE', 'FROZEN', 'BLOCKED', 'PRE_CANCEL', 'CANCELLED', 'FAILED'];
  const allowed: Record<string, CardStatus[]> = { ACTIVE: ['FROZEN'], FROZEN: ['ACTIVE'], CANCELLED: ['ACTIVE', 'FROZEN'] };

  it.each(statuses.flatMap((from) => (['ACTIVE', 'FROZEN', 'CANCELLED'] as const).map((to) => [from, to] as const)))('status %s -> %s', (from, to) => {
    const c = card({ status: from });
    if (!allowed[to]!.includes(from)) {
      expect(() => changeStatus(c, to, NOW)).toThrow();
      return;
    }
    const next = changeStatus(c, to, NOW);
    if (to === 'CANCELLED') expect(next).toMatchObject({ status: 'PRE_CANCEL', stepDueAt: NOW + CARD_ORDER_DELAY_MS });
    else expect(next.status).toBe(to);
  });

  it('completes the step in progress', () => {
    expect(completeStep(card({ status: 'PENDING', stepDueAt: NOW }), NOW).status).toBe('ACTIVE');
    expect(completeStep(card({ status: 'PRE_CANCEL', stepDueAt: NOW }), NOW)).toMatchObject({ status: 'CANCELLED', stepDueAt: null });
  });

  it('moves a limit, never below what the card can spend', () => {
    expect(adjustLimit(card(), 500, NOW)).toMatchObject({ cardLimit: 10_500, available: 10_500 });
    expect(adjustLimit(card(), -10_000, NOW)).toMatchObject({ cardLimit: 0, available: 0 });
    expect(() => adjustLimit(card(), -10_001, NOW)).toThrow();
    expect(() => adjustLimit(card({ status: 'CANCELLED' }), 1, NOW)).toThrow();
  });

  it('knows expiry by month', () => {
    expect(expiryPassed({ expiryMonth: 12, expiryYear: 2026 }, NOW)).toBe(false);
    expect(expiryPassed({ expiryMonth: 11, expiryYear: 2026 }, NOW)).toBe(true);
    expect(expiryPassed({ expiryMonth: 1, expiryYear: 2025 }, NOW)).toBe(true);
  });

  it('sandbox KYC by last name', () => {
    expect(kycStatus('Chen')).toBe('SUCCESS');
    expect(kycStatus(' PENDING ')).toBe('PENDING');
    expect(kycStatus('failed')).toBe('FAILED');
    expect(kycStatus('Incomplete')).toBe('INCOMPLETE');
  });
});

describe('card data', () => {
  it('makes Luhn-valid 16-digit PANs on the BIN', () => {
    for (let i = 0; i < 200; i++) {
      const pan = newPan('527735');
      expect(pan).toMatch(/^527735\d{10}$/);
      expect(luhnValid(pan)).toBe(true);
    }
    expect(luhnValid('4242424242424242')).toBe(true);
    expect(luhnValid('4242424242424241')).toBe(false);
  });

  it('derives the same CVV for the same card and key, another for another key or expiry', () => {
    const a = new CardSecrets(Buffer.alloc(32, 1));
    const b = new CardSecrets(Buffer.alloc(32, 2));
    const pan = '4096360812345678';
    expect(a.cvv(pan, 12, 2029)).toMatch(/^\d{3}$/);
    expect(a.cvv(pan, 12, 2029)).toBe(a.cvv(pan, 12, 2029));
    // Fixed keys and numbers: these differ (a three-digit CVV collides one time in a thousand elsewhere).
    expect(b.cvv(pan, 12, 2029)).not.toBe(a.cvv(pan, 12, 2029));
    expect(a.cvv(pan, 11, 2029)).not.toBe(a.cvv(pan, 12, 2029));
    expect(a.fingerprint(pan)).not.toContain(pan);
  });

  it('masks as UQPAY shows card numbers', () => {
    expect(maskedPan('40963608', '1764')).toBe('40963608****1764');
    expect(maskedPan('527735', '1764')).toBe('527735******1764');
  });
});

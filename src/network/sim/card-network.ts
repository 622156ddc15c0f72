import { hash } from 'node:crypto';
import type { Money } from '../../core/money.ts';
import type { AuthorizationRequest, AuthorizationResult, CardIssuer, CardNetwork } from '../../core/ports.ts';
import { luhnValid } from '../../core/payments/card.ts';
import { defaultTestCard, testCardTable, type TestCard } from './test-cards.ts';

export interface SimCardNetworkOptions {
  /** Extra test cards; an entry with a documented number replaces it. */
  cards?: readonly TestCard[];
  /** Platform time, for issuers that answer late (default: real time). */
  now?: () => number;
  /** The platform's own issuer: cards on its products' BINs are authorized there, not by the test-card table. */
  issuer?: CardIssuer;
}

interface Authorization {
  /** The issuer's answer, given out from `answerAt` on (before it, the authorization is pending). */
  result: AuthorizationResult;
  answerAt?: number;
  amount: Money;
  captured?: number;
  voided: boolean;
  refunded: number;
  refunds: Map<string, number>;
}

const AUTH_CODE_ALPHABET = 'ABCDEFGHJKLMNPQRSTUVWXYZ0123456789';

/**
 * The simulated card network: deterministic outcomes from the test-card table.
 * Authorizations, captures, voids and refunds are kept in memory for the life
 * of the process (so `lookup` works after a crash of a request, not after a
 * restart: the simulated network forgets everything when the process stops).
 * No timers and no I/O: it sits on the hot path of the benchmark.
 *
 * Captures, voids and refunds that break the rules (declined authorization,
 * over the authorized amount, ...) throw a plain Error: the core checks these
 * rules first and should never send one. A reference this process never saw
 * (authorized before a restart, or by another API node) is taken on the
 * platform's word: the platform's own records are the source of truth then.
 */
export class SimCardNetwork implements CardNetwork {
  private readonly cards: ReadonlyMap<string, TestCard>;
  private readonly authorizations = new Map<string, Authorization>();
  private readonly now: () => number;
  private readonly issuer: CardIssuer | undefined;

  constructor(options: SimCardNetworkOptions = {}) {
    this.cards = testCardTable(options.cards);
    this.now = options.now ?? Date.now;
    this.issuer = options.issuer;
  }

  async authorize(req: AuthorizationRequest): Promise<AuthorizationResult> {
    if (this.issuer?.issues(req.card.number)) return this.issuer.authorize(req);
    // The same reference twice (a retry after a crash) gets the first answer.
    const known = this.authorizations.get(req.reference);
    if (known) return this.answer(known);
    const result = this.decide(req);
    const delay = result.outcome === 'approved' ? this.cardOf(req.card.number).issuerDelayMs : undefined;
    const auth: Authorization = { result, amount: req.amount, voided: false, refunded: 0, refunds: new Map() };
    if (delay !== undefined) auth.answerAt = this.now() + delay;
    this.authorizations.set(req.reference, auth);
    return this.answer(auth);
  }

  async capture(reference: string, amount: Money): Promise<void> {
    if (await this.issuer?.capture(reference, amount)) return;
    const auth = this.approved(reference, amount);
    if (!auth) return;
    if (auth.voided) throw new Error(`authorization ${reference} was voided`);
    if (amount.amount <= 0 || amount.amount > auth.amount.amount) {
      throw new Error(`capture of ${amount.amount} is outside the authorized ${auth.amount.amount}`);
    }
    if (auth.captured !== undefined) {
      if (auth.captured === amount.amount) return; // a retried capture
      throw new Error(`authorization ${reference} was already captured`);
    }
    auth.captured = amount.amount;
  }

  async void(reference: string): Promise<void> {
    if (await this.issuer?.void(reference)) return;
    const auth = this.approved(reference);
    if (!auth) return;
    if (auth.captured !== undefined) throw new Error(`authorization ${reference} was captured`);
    auth.voided = true;
  }

  async refund(reference: string, refundId: string, amount: Money): Promise<void> {
    if (await this.issuer?.refund(reference, refundId, amount)) return;
    const auth = this.approved(reference, amount);
    if (!auth) return;
    if (auth.voided) throw new Error(`authorization ${reference} was voided`);
    const previous = auth.refunds.get(refundId);
    if (previous !== undefined) {
      if (previous === amount.amount) return; // a retried refund
      throw new Error(`refund ${refundId} was already made for another amount`);
    }
    // Refunds draw on the captured amount, or on the authorized amount of an authorization never captured separately.
    const limit = auth.captured ?? auth.amount.amount;
    if (amount.amount <= 0 || auth.refunded + amount.amount > limit) {
      throw new Error(`refund of ${amount.amount} is over the refundable ${limit - auth.refunded}`);
    }
    auth.refunds.set(refundId, amount.amount);
    auth.refunded += amount.amount;
  }

  async lookup(reference: string): Promise<AuthorizationResult | null> {
    const issued = await this.issuer?.lookup(reference);
    if (issued) return issued;
    const auth = this.authorizations.get(reference);
    return auth ? this.answer(auth) : null;
  }

  /** The issuer's answer, or pending while it has not come. */
  private answer(auth: Authorization): AuthorizationResult {
    if (auth.answerAt !== undefined && this.now() < auth.answerAt) return { outcome: 'pending', network: auth.result.network };
    return auth.result;
  }

  private cardOf(number: string): TestCard {
    return this.cards.get(number) ?? defaultTestCard(number);
  }

  private decide(req: AuthorizationRequest): AuthorizationResult {
    const { number, cvc } = req.card;
    const card = this.cardOf(number);
    const network = card.network;
    if (!luhnValid(number)) return { outcome: 'declined', failureCode: 'incorrect_number', network };
    const status = req.threeDS?.status;
    if (status !== undefined && status !== 'Y' && status !== 'A') {
      return { outcome: 'declined', failureCode: 'authentication_failed', network };
    }
    if (card.threeDS === 'challenge' && status === undefined) {
      return { outcome: 'declined', failureCode: 'authentication_required', network };
    }
    if (card.outcome === 'declined') {
      const failureCode = card.failureCode ?? 'card_declined';
      return { outcome: 'declined', failureCode, network, ...(card.adviceCode !== undefined && { adviceCode: card.adviceCode }) };
    }
    // Codes derive from the reference, so the same attempt always gets the same codes.
    const digest = hash('sha256', req.reference, 'buffer');
    let authCode = '';
    for (let i = 0; i < 6; i++) authCode += AUTH_CODE_ALPHABET[digest[i]! % AUTH_CODE_ALPHABET.length];
    const digits = BigInt('0x' + digest.subarray(6).toString('hex')).toString().padStart(40, '0');
    return {
      outcome: 'approved',
      authCode,
      rrn: digits.slice(-12),
      arn: '7' + digits.slice(-34, -12),
      cvcResult: cvc ? 'M' : 'P',
      avsResult: 'Y',
      network,
      fundingType: card.fundingType,
    };
  }

  /** The approved authorization behind a reference (null if this process never saw it); with `amount`, its currency must match. */
  private approved(reference: string, amount?: Money): Authorization | null {
    const auth = this.authorizations.get(reference);
    if (!auth) return null;
    const answer = this.answer(auth);
    if (answer.outcome !== 'approved') throw new Error(`authorization ${reference} was ${answer.outcome}`);
    if (amount && amount.currency !== auth.amount.currency) {
      throw new Error(`currency ${amount.currency} differs from the authorized ${auth.amount.currency}`);
    }
    return auth;
  }
}

import { hash } from 'node:crypto';
import type { Money } from '../../core/money.ts';
import type { AuthorizationInquiry, AuthorizationRequest, AuthorizationResult, CardIssuer, CardNetwork } from '../../core/ports.ts';
import { luhnValid } from '../../core/payments/card.ts';
import { defaultTestCard, testCardTable, type TestCard } from './test-cards.ts';

/**
 * How long the network keeps an authorization's record, in platform time:
 * recovery has settled every attempt long before. After that a capture,
 * void or refund of it is taken on the platform's word (see SimCardNetwork).
 */
export const SIM_NETWORK_RETENTION_MS = 7 * 24 * 60 * 60 * 1000;

/** What the network keeps of one authorization reference. */
export interface NetworkAuthorization {
  /** The issuer's answer; null: never received (recovery asked first), and refused from then on. */
  result: AuthorizationResult | null;
  /** A slow issuer's answer is given from then on (before, the authorization is pending). */
  answerAt: number | null;
  amount: Money | null;
  captured: number | null;
  voided: boolean;
  refunded: number;
  /** Refund id -> amount, so a retried refund is recognised. */
  refunds: Record<string, number>;
  createdAt: number;
}

/**
 * Where the network keeps its records: in the platform's database, each
 * write a small unit of its own (the network is an outside party, never part
 * of a payments transaction), so every node and a restarted process see the
 * same network. Implemented by store/sim-card-network-repo.ts.
 */
export interface CardNetworkRecords {
  /** Stores `auth` under `reference` unless the reference has a record; answers the record stored (this one or the earlier one). */
  add(reference: string, auth: NetworkAuthorization): Promise<NetworkAuthorization>;
  find(reference: string): Promise<NetworkAuthorization | null>;
  /**
   * In one unit, with the record read under lock: `change` answers the record
   * to store (or null to keep it, or throws to refuse). False when there is no record.
   */
  change(reference: string, change: (auth: NetworkAuthorization) => NetworkAuthorization | null): Promise<boolean>;
  /** Deletes up to `limit` records created before `before`; answers how many. */
  purge(before: number, limit: number): Promise<number>;
}

export interface SimCardNetworkOptions {
  /** Where authorizations are kept. */
  records: CardNetworkRecords;
  /** Extra test cards; an entry with a documented number replaces it. */
  cards?: readonly TestCard[];
  /** Platform time, for issuers that answer late and for retention (default: real time). */
  now?: () => number;
  /** The platform's own issuer: cards on its products' BINs are authorized there, not by the test-card table. */
  issuer?: CardIssuer;
}

const AUTH_CODE_ALPHABET = 'ABCDEFGHJKLMNPQRSTUVWXYZ0123456789';

/**
 * The simulated card network: deterministic outcomes from the test-card table.
 * Authorizations, captures, voids and refunds are kept in its records (the
 * platform's database), not in process memory: any node answers alike, a
 * restart forgets nothing, and the process holds nothing per payment.
 * Records are kept SIM_NETWORK_RETENTION_MS (see `purge`).
 *
 * Captures, voids and refunds that break the rules (declined authorization,
 * over the authorized amount, ...) throw a plain Error: the core checks these
 * rules first and should never send one. A reference the network has no
 * record of (purged after the retention window) is taken on the platform's
 * word: the platform's own records are the source of truth then.
 */
export class SimCardNetwork implements CardNetwork {
  private readonly cards: ReadonlyMap<string, TestCard>;
  private readonly records: CardNetworkRecords;
  private readonly now: () => number;
  private readonly issuer: CardIssuer | undefined;

  constructor(options: SimCardNetworkOptions) {
    this.cards = testCardTable(options.cards);
    this.records = options.records;
    this.now = options.now ?? Date.now;
    this.issuer = options.issuer;
  }

  async authorize(req: AuthorizationRequest): Promise<AuthorizationResult> {
    if (this.issuer?.issues(req.card.number)) {
      // The issuer keeps its own records; the network's hold only what recovery found never received.
      const marker = await this.records.find(req.reference);
      if (marker && !marker.result) return { outcome: 'declined', failureCode: 'processing_error', network: this.decide(req).network };
      return this.issuer.authorize(req);
    }
    const result = this.decide(req);
    const now = this.now();
    const delay = result.outcome === 'approved' ? this.cardOf(req.card.number).issuerDelayMs : undefined;
    const auth: NetworkAuthorization = {
      result,
      answerAt: delay === undefined ? null : now + delay,
      amount: req.amount,
      captured: null,
      voided: false,
      refunded: 0,
      refunds: {},
      createdAt: now,
    };
    // The same reference twice (a retry after a crash) gets the first answer.
    const stored = await this.records.add(req.reference, auth);
    // Recovery found it never received, and it declined the attempt: a late authorization is refused.
    if (!stored.result) return { outcome: 'declined', failureCode: 'processing_error', network: result.network };
    return this.answer(stored.result, stored.answerAt);
  }

  async capture(reference: string, amount: Money): Promise<void> {
    if (await this.issuer?.capture(reference, amount)) return;
    await this.records.change(reference, (auth) => {
      this.checkApproved(reference, auth, amount);
      if (auth.voided) throw new Error(`authorization ${reference} was voided`);
      const authorized = auth.amount!.amount;
      if (amount.amount <= 0 || amount.amount > authorized) {
        throw new Error(`capture of ${amount.amount} is outside the authorized ${authorized}`);
      }
      if (auth.captured !== null) {
        if (auth.captured === amount.amount) return null; // a retried capture
        throw new Error(`authorization ${reference} was already captured`);
      }
      return { ...auth, captured: amount.amount };
    });
  }

  async void(reference: string): Promise<void> {
    if (await this.issuer?.void(reference)) return;
    await this.records.change(reference, (auth) => {
      this.checkApproved(reference, auth);
      if (auth.captured !== null) throw new Error(`authorization ${reference} was captured`);
      return auth.voided ? null : { ...auth, voided: true };
    });
  }

  async refund(reference: string, refundId: string, amount: Money): Promise<void> {
    if (await this.issuer?.refund(reference, refundId, amount)) return;
    await this.records.change(reference, (auth) => {
      this.checkApproved(reference, auth, amount);
      if (auth.voided) throw new Error(`authorization ${reference} was voided`);
      const previous = auth.refunds[refundId];
      if (previous !== undefined) {
        if (previous === amount.amount) return null; // a retried refund
        throw new Error(`refund ${refundId} was already made for another amount`);
      }
      // Refunds draw on the captured amount, or on the authorized amount of an authorization never captured separately.
      const limit = auth.captured ?? auth.amount!.amount;
      if (amount.amount <= 0 || auth.refunded + amount.amount > limit) {
        throw new Error(`refund of ${amount.amount} is over the refundable ${limit - auth.refunded}`);
      }
      return { ...auth, refunded: auth.refunded + amount.amount, refunds: { ...auth.refunds, [refundId]: amount.amount } };
    });
  }

  async lookup(reference: string): Promise<AuthorizationResult | null> {
    const issued = await this.issuer?.lookup(reference);
    if (issued) return issued;
    const auth = await this.records.find(reference);
    return auth?.result ? this.answer(auth.result, auth.answerAt) : null;
  }

  async inquire(reference: string): Promise<AuthorizationInquiry> {
    const issued = await this.issuer?.lookup(reference);
    if (issued) return issued;
    const unreceived: NetworkAuthorization = {
      result: null, answerAt: null, amount: null, captured: null, voided: false, refunded: 0, refunds: {}, createdAt: this.now(),
    };
    // Records the reference as never received unless it was: an authorization on its way now is refused when it arrives.
    const stored = await this.records.add(reference, unreceived);
    return stored.result ? this.answer(stored.result, stored.answerAt) : { outcome: 'never_received' };
  }

  /** Forgets authorizations older than the retention window; answers how many. Runs in the background, in batches. */
  async purge(batch = 1000): Promise<number> {
    const before = this.now() - SIM_NETWORK_RETENTION_MS;
    let total = 0;
    for (;;) {
      const n = await this.records.purge(before, batch);
      total += n;
      if (n < batch) return total;
    }
  }

  /** The issuer's answer, or pending while it has not come. */
  private answer(result: AuthorizationResult, answerAt: number | null): AuthorizationResult {
    if (answerAt !== null && this.now() < answerAt) return { outcome: 'pending', network: result.network };
    return result;
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

  /** Throws unless the authorization was approved (and has answered); with `amount`, its currency must match. */
  private checkApproved(reference: string, auth: NetworkAuthorization, amount?: Money): void {
    const answer = auth.result ? this.answer(auth.result, auth.answerAt) : null;
    if (answer?.outcome !== 'approved') throw new Error(`authorization ${reference} was ${answer?.outcome ?? 'never received'}`);
    if (amount && amount.currency !== auth.amount!.currency) {
      throw new Error(`currency ${amount.currency} differs from the authorized ${auth.amount!.currency}`);
    }
  }
}

/**
 * The acquiring service: runs the state machine against storage and the
 * outside world. Every state change commits with its events in one unit of
 * work; calls to the card network and 3DS server happen between units, never
 * inside one (record the attempt, commit, call, commit the result).
 */
import { randomBytes } from 'node:crypto';
import type { Clock } from '../clock.ts';
import { DomainError, isDomainError } from '../errors.ts';
import { type IdGenerator, uuid } from '../ids.ts';
import { captureEntries, refundEntries } from '../ledger/journal.ts';
import type { AuthorizationResult, CardDetails, CardNetwork, ThreeDSData, ThreeDSServer } from '../ports.ts';
import type { SecretBox } from '../secret-box.ts';
import { bin, cvcValid, detectNetwork, fingerprint, isExpired, last4, luhnValid } from './card.ts';
import * as machine from './machine.ts';
import type {
  AttemptFilter,
  IntentFilter,
  Page,
  PageRequest,
  PaymentsStore,
  PaymentsTx,
  RefundFilter,
} from './repository.ts';
import type {
  AuthenticationData,
  BillingDetails,
  CancellationReason,
  DomainEvent,
  Emit,
  PaymentAttempt,
  PaymentIntent,
  Refund,
} from './types.ts';

export const INTENT_LIFETIME_MS = 30 * 60 * 1000;

export interface CardInput {
  number: string;
  expiryMonth: string;
  expiryYear: string;
  cvc?: string;
  cardName?: string;
  billing?: BillingDetails;
  autoCapture: boolean;
  authorizationType?: string;
  threeDsAction: 'skip_3ds' | 'enforce_3ds';
}

export interface PaymentMethodInput {
  type: 'card';
  card: CardInput;
}

export interface IntentFields {
  description?: string | null;
  merchantOrderId?: string | null;
  metadata?: Record<string, unknown> | null;
  returnUrl?: string | null;
  customer?: Record<string, unknown> | null;
}

export interface CreateIntentInput extends IntentFields {
  amount: number;
  currency: string;
  paymentMethod?: PaymentMethodInput;
}

export interface ConfirmInput {
  paymentMethod: PaymentMethodInput;
  returnUrl?: string | null;
}

/** An intent with its latest attempt, as every response shows it. */
export interface IntentView {
  intent: PaymentIntent;
  attempt: PaymentAttempt | null;
}

export interface PaymentsDeps {
  store: PaymentsStore;
  clock: Clock;
  ids: IdGenerator;
  cardNetwork: CardNetwork;
  threeDS: ThreeDSServer;
  vault: SecretBox;
  /** Key for card fingerprints, so equal cards can be matched without keeping their numbers. */
  fingerprintKey: Buffer;
  logger?: { warn(obj: object, msg: string): void };
}

/** How long a vaulted card (waiting for its 3DS challenge) is kept at most. */
const VAULT_TTL_MS = INTENT_LIFETIME_MS;

export class PaymentsService {
  constructor(private readonly deps: PaymentsDeps) {}

  private get now(): number {
    return this.deps.clock.now();
  }

  // ---- intents ---------------------------------------------------------

  async createIntent(merchantId: string, input: CreateIntentInput): Promise<IntentView> {
    const card = input.paymentMethod ? this.validateCard(input.paymentMethod.card) : null;
    const now = this.now;
    const intent: PaymentIntent = {
      id: this.deps.ids.next('PI'),
      merchantId,
      amount: input.amount,
      currency: input.currency,
      status: 'REQUIRES_PAYMENT_METHOD',
      capturedAmount: 0,
      description: input.description ?? null,
      merchantOrderId: input.merchantOrderId ?? null,
      metadata: input.metadata ?? null,
      returnUrl: input.returnUrl ?? null,
      customer: input.customer ?? null,
      clientSecret: randomBytes(24).toString('base64url'),
      latestAttemptId: null,
      nextAction: null,
      cancellationReason: null,
      cancelTime: null,
      completeTime: null,
      expiresAt: now + INTENT_LIFETIME_MS,
      createdAt: now,
      updatedAt: now,
    };
    const createdT = machine.created(intent);
    if (!input.paymentMethod || !card) {
      await this.deps.store.unit(async (tx) => {
        await tx.insertIntent(intent);
        await tx.appendEvents(this.events(createdT.emits, intent, null, null, now));
      });
      return { intent, attempt: null };
    }
    const attempt = this.newAttempt(intent, input.paymentMethod.card, card, now);
    const begun = machine.beginAttempt(intent, attempt, now);
    await this.deps.store.unit(async (tx) => {
      await tx.insertIntent(begun.intent);
      await tx.insertAttempt(attempt);
      await tx.appendEvents([
        ...this.events(createdT.emits, intent, null, null, now),
        ...this.events(begun.emits, begun.intent, attempt, null, now),
      ]);
    });
    return this.proceed(begun.intent, attempt, card, input.paymentMethod.card.threeDsAction === 'enforce_3ds');
  }

  async confirmIntent(merchantId: string, id: string, input: ConfirmInput): Promise<IntentView> {
    const card = this.validateCard(input.paymentMethod.card);
    const now = this.now;
    const begun = await this.deps.store.unit(async (tx) => {
      const intent = await this.lockIntent(tx, merchantId, id);
      const base = input.returnUrl ? { ...intent, returnUrl: input.returnUrl } : intent;
      const attempt = this.newAttempt(base, input.paymentMethod.card, card, now);
      const t = machine.beginAttempt(base, attempt, now);
      await tx.insertAttempt(attempt);
      await tx.updateIntent(t.intent);
      await tx.appendEvents(this.events(t.emits, t.intent, attempt, null, now));
      return { intent: t.intent, attempt };
    });
    return this.proceed(begun.intent, begun.attempt, card, input.paymentMethod.card.threeDsAction === 'enforce_3ds');
  }

  async updateIntent(merchantId: string, id: string, patch: machine.IntentPatch): Promise<IntentView> {
    const now = this.now;
    return this.deps.store.unit(async (tx) => {
      const intent = await this.lockIntent(tx, merchantId, id);
      const t = machine.update(intent, patch, now);
      await tx.updateIntent(t.intent);
      return { intent: t.intent, attempt: null };
    });
  }

  async getIntent(merchantId: string, id: string): Promise<IntentView> {
    const intent = await this.deps.store.reads.intent(merchantId, id);
    if (!intent) throw DomainError.notFound('payment_intent', id);
    const attempt = intent.latestAttemptId ? await this.deps.store.reads.attempt(merchantId, intent.latestAttemptId) : null;
    return { intent, attempt };
  }

  async listIntents(merchantId: string, filter: IntentFilter, page: PageRequest): Promise<Page<IntentView>> {
    const result = await this.deps.store.reads.listIntents(merchantId, filter, page);
    const ids = result.items.map((i) => i.latestAttemptId).filter((x): x is string => !!x);
    const attempts = new Map((await this.deps.store.reads.attemptsByIds(merchantId, ids)).map((a) => [a.id, a]));
    return {
      total: result.total,
      items: result.items.map((intent) => ({
        intent,
        attempt: intent.latestAttemptId ? attempts.get(intent.latestAttemptId) ?? null : null,
      })),
    };
  }

  async capture(merchantId: string, id: string, amount: number | undefined): Promise<IntentView> {
    const now = this.now;
    const view = await this.deps.store.unit(async (tx) => {
      const intent = await this.lockIntent(tx, merchantId, id);
      const attempt = intent.latestAttemptId ? await tx.attempt(merchantId, intent.latestAttemptId) : null;
      if (intent.status !== 'REQUIRES_CAPTURE' || !attempt) {
        throw DomainError.invalidState(`payment intent ${id} cannot be captured when its status is ${intent.status}`);
      }
      const t = machine.capture(intent, attempt, amount ?? attempt.amount, now);
      await this.save(tx, t, null, now);
      return { intent: t.intent, attempt: t.attempt! };
    });
    // The capture is committed as requested; the network hears of it after the commit.
    await this.afterCommit('capture', view.attempt.id, () =>
      this.deps.cardNetwork.capture(view.attempt.id, { amount: view.attempt.capturedAmount, currency: view.attempt.currency }),
    );
    return view;
  }

  async cancel(merchantId: string, id: string, reason: CancellationReason): Promise<IntentView> {
    const now = this.now;
    let result: { view: IntentView; voidAuthorization: boolean };
    try {
      result = await this.deps.store.unit(async (tx) => {
        const intent = await this.lockIntent(tx, merchantId, id);
        const attempt = intent.latestAttemptId ? await tx.attempt(merchantId, intent.latestAttemptId) : null;
        const t = machine.cancel(intent, attempt, reason, now);
        await this.save(tx, t, null, now);
        if (attempt?.threeDSChallengeId) await tx.vaultTake(attempt.id);
        return {
          view: { intent: t.intent, attempt: t.attempt ?? attempt },
          voidAuthorization: attempt?.status === 'AUTHORIZED',
        };
      });
    } catch (error) {
      if (isDomainError(error) && error.kind === 'invalid_state') await this.recordCancelFailure(merchantId, id, now);
      throw error;
    }
    const attemptId = result.view.attempt?.id;
    if (result.voidAuthorization && attemptId) await this.afterCommit('void', attemptId, () => this.deps.cardNetwork.void(attemptId));
    return result.view;
  }

  /** A refused cancel is still news for the merchant: acquiring.cancel.failed. */
  private async recordCancelFailure(merchantId: string, id: string, now: number): Promise<void> {
    await this.deps.store.unit(async (tx) => {
      const intent = await tx.intent(merchantId, id);
      if (!intent) return;
      await tx.appendEvents(this.events([{ type: 'cancel.failed', subject: 'intent' }], intent, null, null, now));
    });
  }

  // ---- 3DS -------------------------------------------------------------

  /** The shopper finished the challenge on the hosted page (or the sandbox API said how it went). */
  async completeChallenge(challengeId: string, success: boolean): Promise<IntentView> {
    const now = this.now;
    const threeDS = this.deps.threeDS.challengeResult(challengeId, success);
    const step = await this.deps.store.unit(async (tx) => {
      const found = await tx.attemptByChallenge(challengeId);
      if (!found) throw DomainError.notFound('authentication', challengeId);
      const intent = await this.lockIntent(tx, found.merchantId, found.intentId);
      const attempt = await tx.attempt(found.merchantId, found.id);
      const t = machine.authenticated(intent, attempt!, success, { threeDS: threeDSData(threeDS) }, now);
      const sealed = await tx.vaultTake(found.id);
      await this.save(tx, t, null, now);
      return { t, sealed };
    });
    const { intent } = step.t;
    const attempt = step.t.attempt!;
    if (!success) return { intent, attempt };
    if (!step.sealed) {
      // The vaulted card is gone (it expired): there is nothing to authorize with.
      return this.applyAuthorization(intent, attempt, { outcome: 'declined', failureCode: 'processing_error', network: attempt.paymentMethod.card.network });
    }
    const card = JSON.parse(this.deps.vault.open(step.sealed)) as CardDetails;
    const result = await this.authorize(intent, attempt, card, threeDS);
    return this.applyAuthorization(intent, attempt, result);
  }

  /** The intent behind a challenge, for the hosted page. */
  async challengeContext(challengeId: string): Promise<IntentView | null> {
    const attempt = await this.deps.store.reads.attemptByChallenge(challengeId);
    if (!attempt) return null;
    return this.getIntent(attempt.merchantId, attempt.intentId);
  }

  // ---- attempts and refunds -------------------------------------------

  async getAttempt(merchantId: string, id: string): Promise<PaymentAttempt> {
    const attempt = await this.deps.store.reads.attempt(merchantId, id);
    if (!attempt) throw DomainError.notFound('payment_attempt', id);
    return attempt;
  }

  listAttempts(merchantId: string, filter: AttemptFilter, page: PageRequest): Promise<Page<PaymentAttempt>> {
    return this.deps.store.reads.listAttempts(merchantId, filter, page);
  }

  async createRefund(
    merchantId: string,
    input: { intentId: string; attemptId?: string; amount: number; reason: string; metadata?: Record<string, unknown> | null },
  ): Promise<Refund> {
    const now = this.now;
    const requested = await this.deps.store.unit(async (tx) => {
      const intent = await this.lockIntent(tx, merchantId, input.intentId);
      if (input.attemptId && input.attemptId !== intent.latestAttemptId) {
        throw DomainError.validation(`payment_attempt_id ${input.attemptId} is not the successful attempt of ${intent.id}`, 'payment_attempt_id');
      }
      const attempt = intent.latestAttemptId ? await tx.attempt(merchantId, intent.latestAttemptId) : null;
      const refund: Refund = {
        id: this.deps.ids.next('RF'),
        merchantId,
        intentId: intent.id,
        attemptId: attempt?.id ?? '',
        amount: input.amount,
        currency: intent.currency,
        status: 'PROCESSING',
        reason: input.reason,
        metadata: input.metadata ?? null,
        failureCode: null,
        createdAt: now,
        updatedAt: now,
      };
      const t = machine.requestRefund(intent, attempt, refund, now);
      await tx.insertRefund(t.refund);
      await tx.updateAttempt(t.attempt);
      await tx.appendEvents(this.events(t.emits, intent, t.attempt, t.refund, now));
      return t;
    });
    let ok = true;
    try {
      await this.deps.cardNetwork.refund(requested.attempt.id, requested.refund.id, {
        amount: requested.refund.amount,
        currency: requested.refund.currency,
      });
    } catch {
      ok = false;
    }
    return this.settleRefund(merchantId, requested.refund.id, ok);
  }

  private async settleRefund(merchantId: string, refundId: string, ok: boolean): Promise<Refund> {
    const now = this.now;
    return this.deps.store.unit(async (tx) => {
      const refund = await tx.refund(merchantId, refundId);
      if (!refund) throw DomainError.notFound('refund', refundId);
      const intent = await this.lockIntent(tx, merchantId, refund.intentId);
      if (refund.status !== 'PROCESSING') return refund;
      const attempt = (await tx.attempt(merchantId, refund.attemptId))!;
      const t = machine.refundSettled(attempt, refund, ok, ok ? null : 'processing_error', now);
      await tx.updateRefund(t.refund);
      if (!ok) await tx.updateAttempt(t.attempt);
      else await tx.post({ id: uuid(), merchantId, sourceId: refund.id, entries: refundEntries(refund.amount, refund.currency) }, now);
      await tx.appendEvents(this.events(t.emits, intent, t.attempt, t.refund, now));
      return t.refund;
    });
  }

  async getRefund(merchantId: string, id: string): Promise<Refund> {
    const refund = await this.deps.store.reads.refund(merchantId, id);
    if (!refund) throw DomainError.notFound('refund', id);
    return refund;
  }

  listRefunds(merchantId: string, filter: RefundFilter, page: PageRequest): Promise<Page<Refund>> {
    return this.deps.store.reads.listRefunds(merchantId, filter, page);
  }

  balances(merchantId: string) {
    return this.deps.store.reads.balances(merchantId);
  }

  // ---- time-driven work and recovery ------------------------------------

  /** Fails unpaid intents past their expiry. Returns how many expired. */
  async expireDue(limit = 500): Promise<number> {
    const now = this.now;
    const due = await this.deps.store.reads.expiredIntents(now, limit);
    let count = 0;
    for (const { merchantId, id } of due) {
      const done = await this.deps.store.unit(async (tx) => {
        const intent = await tx.intent(merchantId, id, true);
        if (!intent || intent.expiresAt > now || !['REQUIRES_PAYMENT_METHOD', 'REQUIRES_CUSTOMER_ACTION'].includes(intent.status)) return false;
        const attempt = intent.latestAttemptId ? await tx.attempt(merchantId, intent.latestAttemptId) : null;
        const t = machine.expire(intent, attempt, now);
        if (attempt?.threeDSChallengeId) await tx.vaultTake(attempt.id);
        await this.save(tx, t, null, now);
        return true;
      });
      if (done) count++;
    }
    return count;
  }

  /**
   * Attempts a crash left between "recorded" and "result applied" are settled
   * by asking the network what it knows; refunds in flight are re-sent (the
   * network dedupes by refund id) and settled.
   */
  async recoverInFlight(olderThanMs = 60_000): Promise<number> {
    const cutoff = this.now - olderThanMs;
    let count = 0;
    for (const attempt of await this.deps.store.reads.attemptsInFlight(cutoff, 100)) {
      const intent = await this.deps.store.reads.intent(attempt.merchantId, attempt.intentId);
      if (!intent || intent.status !== 'PENDING' || intent.latestAttemptId !== attempt.id) continue;
      const known = await this.deps.cardNetwork.lookup(attempt.id);
      const result: AuthorizationResult = known ?? { outcome: 'declined', failureCode: 'processing_error', network: attempt.paymentMethod.card.network };
      try {
        await this.applyAuthorization(intent, attempt, result);
        count++;
      } catch (error) {
        if (!isDomainError(error)) throw error;
      }
    }
    for (const refund of await this.deps.store.reads.refundsInFlight(cutoff, 100)) {
      let ok = true;
      try {
        await this.deps.cardNetwork.refund(refund.attemptId, refund.id, { amount: refund.amount, currency: refund.currency });
      } catch {
        ok = false;
      }
      await this.settleRefund(refund.merchantId, refund.id, ok);
      count++;
    }
    return count;
  }

  // ---- internals ---------------------------------------------------------

  /**
   * A network call that follows a committed change (capture, void). The
   * change stands whatever the network says now; a refusal is logged for
   * reconciliation instead of failing a request whose effect is already durable.
   */
  private async afterCommit(operation: string, reference: string, call: () => Promise<void>): Promise<void> {
    try {
      await call();
    } catch (err) {
      this.deps.logger?.warn({ operation, reference, err }, 'card network refused a committed operation');
    }
  }

  private validateCard(input: CardInput): CardDetails {
    const number = input.number.replace(/[\s-]/g, '');
    if (!/^\d{12,19}$/.test(number) || !luhnValid(number)) {
      throw DomainError.validation('card_number is invalid', 'card_number');
    }
    const month = Number(input.expiryMonth);
    if (!/^\d{1,2}$/.test(input.expiryMonth) || month < 1 || month > 12) {
      throw DomainError.validation('expiry_month must be 01-12', 'expiry_month');
    }
    let year = Number(input.expiryYear);
    if (/^\d{2}$/.test(input.expiryYear)) year += 2000;
    else if (!/^\d{4}$/.test(input.expiryYear)) throw DomainError.validation('expiry_year must be a four-digit year', 'expiry_year');
    if (isExpired(month, year, this.now)) throw DomainError.validation('the card has expired', 'expiry_year');
    const network = detectNetwork(number);
    if (input.cvc !== undefined && input.cvc !== '' && !cvcValid(input.cvc, network)) {
      throw DomainError.validation('cvc is malformed', 'cvc');
    }
    const card: CardDetails = { number, expiryMonth: month, expiryYear: year };
    if (input.cvc) card.cvc = input.cvc;
    if (input.cardName) card.holderName = input.cardName;
    return card;
  }

  private newAttempt(intent: PaymentIntent, input: CardInput, card: CardDetails, now: number): PaymentAttempt {
    return {
      id: this.deps.ids.next('PA'),
      intentId: intent.id,
      merchantId: intent.merchantId,
      amount: intent.amount,
      currency: intent.currency,
      status: 'INITIATED',
      capturedAmount: 0,
      refundedAmount: 0,
      autoCapture: input.autoCapture,
      paymentMethod: {
        type: 'card',
        card: {
          ...(input.cardName !== undefined ? { cardName: input.cardName } : {}),
          bin: bin(card.number),
          last4: last4(card.number),
          network: detectNetwork(card.number),
          expiryMonth: card.expiryMonth,
          expiryYear: card.expiryYear,
          fingerprint: fingerprint(card.number, this.deps.fingerprintKey),
          ...(input.billing ? { billing: input.billing } : {}),
          ...(input.authorizationType ? { authorizationType: input.authorizationType } : {}),
          threeDsAction: input.threeDsAction,
        },
      },
      failureCode: null,
      authCode: null,
      rrn: null,
      arn: null,
      adviceCode: null,
      authentication: null,
      threeDSChallengeId: null,
      cancellationReason: null,
      completeTime: null,
      createdAt: now,
      updatedAt: now,
    };
  }

  /** After the attempt is recorded: 3DS if needed, then the authorization. */
  private async proceed(intent: PaymentIntent, attempt: PaymentAttempt, card: CardDetails, enforce: boolean): Promise<IntentView> {
    const amount = { amount: attempt.amount, currency: attempt.currency };
    const decision = await this.deps.threeDS.authenticate({ reference: attempt.id, card, amount, enforce });
    if (decision.kind === 'challenge') {
      const now = this.now;
      const returnUrl = intent.returnUrl ?? '';
      const t = machine.requireAuthentication(intent, attempt, decision.challengeId, { type: 'redirect_to_url', url: decision.acsUrl, returnUrl }, now);
      // The card waits for the shopper in the vault, encrypted and without its CVC.
      const { cvc: _cvc, ...vaulted } = card;
      const sealed = this.deps.vault.seal(JSON.stringify(vaulted));
      await this.deps.store.unit(async (tx) => {
        await this.save(tx, t, null, now);
        await tx.vaultPut(attempt.id, sealed, now + VAULT_TTL_MS);
      });
      return { intent: t.intent, attempt: t.attempt! };
    }
    let current = attempt;
    let threeDS: ThreeDSData | undefined;
    if (decision.kind === 'frictionless') {
      threeDS = decision.data;
      current = { ...attempt, authentication: { threeDS: threeDSData(decision.data) } };
    }
    const result = await this.authorize(intent, current, card, threeDS);
    return this.applyAuthorization(intent, current, result);
  }

  private authorize(intent: PaymentIntent, attempt: PaymentAttempt, card: CardDetails, threeDS?: ThreeDSData): Promise<AuthorizationResult> {
    return this.deps.cardNetwork.authorize({
      reference: attempt.id,
      merchantId: intent.merchantId,
      card,
      amount: { amount: attempt.amount, currency: attempt.currency },
      ...(threeDS ? { threeDS } : {}),
    });
  }

  private async applyAuthorization(intent: PaymentIntent, attempt: PaymentAttempt, result: AuthorizationResult): Promise<IntentView> {
    const now = this.now;
    return this.deps.store.unit(async (tx) => {
      const current = await this.lockIntent(tx, intent.merchantId, intent.id);
      const stored = await tx.attempt(intent.merchantId, attempt.id);
      const base = { ...stored!, authentication: attempt.authentication ?? stored!.authentication };
      let t: machine.IntentTransition;
      if (result.outcome === 'approved') {
        t = machine.approved(current, base, {
          authCode: result.authCode,
          rrn: result.rrn,
          arn: result.arn,
          cvcResult: result.cvcResult,
          avsResult: result.avsResult,
          fundingType: result.fundingType,
        }, now);
      } else {
        t = machine.declined(current, base, result.failureCode, result.adviceCode ?? null, now);
      }
      await this.save(tx, t, null, now);
      return { intent: t.intent, attempt: t.attempt ?? base };
    });
  }

  private async lockIntent(tx: PaymentsTx, merchantId: string, id: string): Promise<PaymentIntent> {
    const intent = await tx.intent(merchantId, id, true);
    if (!intent) throw DomainError.notFound('payment_intent', id);
    return intent;
  }

  /** Writes a transition, its events, and the capture journal when money was captured. */
  private async save(tx: PaymentsTx, t: machine.IntentTransition, refund: Refund | null, now: number): Promise<void> {
    await tx.updateIntent(t.intent);
    if (t.attempt) await tx.updateAttempt(t.attempt);
    if (t.attempt && t.emits.some((e) => e.type === 'payment_attempt.capture_requested')) {
      await tx.post({ id: uuid(), merchantId: t.intent.merchantId, sourceId: t.attempt.id, entries: captureEntries(t.attempt.capturedAmount, t.attempt.currency) }, now);
    }
    await tx.appendEvents(this.events(t.emits, t.intent, t.attempt ?? null, refund, now));
  }

  private events(emits: Emit[], intent: PaymentIntent, attempt: PaymentAttempt | null, refund: Refund | null, now: number): DomainEvent[] {
    return emits.map((e) => {
      const sourceId = e.subject === 'refund' ? refund!.id : e.subject === 'attempt' ? attempt!.id : intent.id;
      return {
        id: uuid(),
        merchantId: intent.merchantId,
        type: e.type,
        sourceId,
        payload: { intent, ...(attempt ? { attempt } : {}), ...(refund ? { refund } : {}) },
        createdAt: now,
      };
    });
  }
}

function threeDSData(d: ThreeDSData): AuthenticationData['threeDS'] {
  return { version: d.version, eci: d.eci, cavv: d.cavv, dsTransactionId: d.dsTransactionId, status: d.status };
}

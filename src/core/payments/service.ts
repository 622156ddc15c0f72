/**
 * The acquiring service: runs the state machine against storage and the
 * outside world. Every state change commits with its events in one unit of
 * work; calls to the card network and 3DS server happen between units, never
 * inside one (record the attempt, commit, call, commit the result).
 */
import { sameBusinessDay, type Clock } from '../clock.ts';
import { DomainError, isDomainError } from '../errors.ts';
import { type IdGenerator, secureRandomBytes, uuid } from '../ids.ts';
import { captureEntries, refundEntries } from '../ledger/journal.ts';
import type { AuthorizationResult, CardDetails, CardNetwork, FxRates, PaymentCodeResult, ThreeDSData, ThreeDSServer, Wallets } from '../ports.ts';
import type { SecretBox } from '../secret-box.ts';
import { CommandUnits, type CommandHooks } from './command.ts';
import * as machine from './machine.ts';
import { shopperCharge, storedMethod, validateMethod, type MethodSecrets, type PaymentMethodInput } from './methods.ts';
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
  CancellationReason,
  DomainEvent,
  Emit,
  PaymentAttempt,
  PaymentIntent,
  Refund,
} from './types.ts';

export const INTENT_LIFETIME_MS = 30 * 60 * 1000;

export type { CardInput, PaymentMethodInput, WalletInput } from './methods.ts';

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
  /** The API the intent comes through (default uqpay); notifications speak it. */
  origin?: string;
  notifyUrl?: string | null;
  /** Lifetime of an unpaid intent (QFPay expired_time); default 30 minutes. */
  expiresInMs?: number;
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
  wallets: Wallets;
  fx: FxRates;
  vault: SecretBox;
  /** Key for card fingerprints, so equal cards can be matched without keeping their numbers. */
  fingerprintKey: Buffer;
  logger?: { warn(obj: object, msg: string): void };
}

type Units = CommandUnits<IntentView>;

/** How long a vaulted card (waiting for its 3DS challenge) is kept at most. */
const VAULT_TTL_MS = INTENT_LIFETIME_MS;

export class PaymentsService {
  constructor(private readonly deps: PaymentsDeps) {}

  private get now(): number {
    return this.deps.clock.now();
  }

  /** The units of work the platform runs on its own (3DS results, wallet settlement, recovery): no caller hooks. */
  private internal<O = IntentView>(subjectId: string): CommandUnits<O> {
    return new CommandUnits<O>(this.deps.store, subjectId, undefined);
  }

  // ---- intents ---------------------------------------------------------

  async createIntent(merchantId: string, input: CreateIntentInput, hooks?: CommandHooks<IntentView>): Promise<IntentView> {
    const now = this.now;
    const secrets = input.paymentMethod ? validateMethod(input.paymentMethod, now) : null;
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
      clientSecret: secureRandomBytes(24).toString('base64url'),
      latestAttemptId: null,
      nextAction: null,
      origin: input.origin ?? 'uqpay',
      notifyUrl: input.notifyUrl ?? null,
      cancellationReason: null,
      cancelTime: null,
      completeTime: null,
      expiresAt: now + (input.expiresInMs ?? INTENT_LIFETIME_MS),
      createdAt: now,
      updatedAt: now,
    };
    const createdT = machine.created(intent);
    const units = new CommandUnits(this.deps.store, intent.id, hooks);
    if (!input.paymentMethod || !secrets) {
      return units.settle(async (tx) => {
        await tx.insertIntent(intent);
        await tx.appendEvents(this.events(createdT.emits, intent, null, null, now));
        return { intent, attempt: null };
      });
    }
    const attempt = this.newAttempt(intent, input.paymentMethod, secrets, now);
    const begun = machine.beginAttempt(intent, attempt, now);
    await units.unit(async (tx) => {
      await tx.insertIntent(begun.intent);
      await tx.insertAttempt(attempt);
      await tx.appendEvents([
        ...this.events(createdT.emits, intent, null, null, now),
        ...this.events(begun.emits, begun.intent, attempt, null, now),
      ]);
    });
    return this.proceed(units, begun.intent, attempt, input.paymentMethod, secrets);
  }

  async confirmIntent(merchantId: string, id: string, input: ConfirmInput, hooks?: CommandHooks<IntentView>): Promise<IntentView> {
    const now = this.now;
    const secrets = validateMethod(input.paymentMethod, now);
    const units = new CommandUnits(this.deps.store, id, hooks);
    const begun = await units.unit(async (tx) => {
      const intent = await this.lockIntent(tx, merchantId, id);
      const base = input.returnUrl ? { ...intent, returnUrl: input.returnUrl } : intent;
      const attempt = this.newAttempt(base, input.paymentMethod, secrets, now);
      const t = machine.beginAttempt(base, attempt, now);
      await tx.insertAttempt(attempt);
      await tx.updateIntent(t.intent);
      await tx.appendEvents(this.events(t.emits, t.intent, attempt, null, now));
      return { intent: t.intent, attempt };
    });
    return this.proceed(units, begun.intent, begun.attempt, input.paymentMethod, secrets);
  }

  async updateIntent(merchantId: string, id: string, patch: machine.IntentPatch, hooks?: CommandHooks<IntentView>): Promise<IntentView> {
    const now = this.now;
    return new CommandUnits(this.deps.store, id, hooks).settle(async (tx) => {
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

  async capture(merchantId: string, id: string, amount: number | undefined, hooks?: CommandHooks<IntentView>): Promise<IntentView> {
    const now = this.now;
    const view = await new CommandUnits(this.deps.store, id, hooks).settle(async (tx) => {
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

  /**
   * Cancels an intent before a terminal state; a wallet payment that
   * SUCCEEDED the same merchant day is cancelled in full and its money returned.
   */
  async cancel(merchantId: string, id: string, reason: CancellationReason, hooks?: CommandHooks<IntentView>): Promise<IntentView> {
    const now = this.now;
    let result: { view: IntentView; voidAuthorization: boolean; reversed: number };
    try {
      result = await new CommandUnits(this.deps.store, id, hooks).settle(async (tx) => {
        const intent = await this.lockIntent(tx, merchantId, id);
        const attempt = intent.latestAttemptId ? await tx.attempt(merchantId, intent.latestAttemptId) : null;
        const sameDayReversal = intent.completeTime !== null && sameBusinessDay(intent.completeTime, now);
        const t = machine.cancel(intent, attempt, reason, now, { sameDayReversal });
        await this.save(tx, t, null, now);
        if (t.reversed > 0) {
          await tx.post({ id: uuid(), merchantId, sourceId: intent.id, entries: refundEntries(t.reversed, intent.currency) }, now);
        }
        if (attempt?.threeDSChallengeId) await tx.vaultTake(attempt.id);
        return {
          view: { intent: t.intent, attempt: t.attempt ?? attempt },
          voidAuthorization: attempt?.status === 'AUTHORIZED',
          reversed: t.reversed,
        };
      }, (r) => r.view);
    } catch (error) {
      if (isDomainError(error) && error.kind === 'invalid_state') await this.recordCancelFailure(merchantId, id, now);
      throw error;
    }
    const attempt = result.view.attempt;
    if (result.voidAuthorization && attempt) await this.afterCommit('void', attempt.id, () => this.deps.cardNetwork.void(attempt.id));
    if (result.reversed > 0 && attempt) {
      await this.afterCommit('wallet reversal', attempt.id, () =>
        this.deps.wallets.refund(attempt.id, `${attempt.id}-cancel`, { amount: result.reversed, currency: attempt.currency }),
      );
    }
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
      return this.applyAuthorization(this.internal(intent.id), intent, attempt, { outcome: 'declined', failureCode: 'processing_error', network: networkOf(attempt) });
    }
    const card = JSON.parse(this.deps.vault.open(step.sealed)) as CardDetails;
    const result = await this.authorize(intent, attempt, card, threeDS);
    return this.applyAuthorization(this.internal(intent.id), intent, attempt, result);
  }

  /**
   * The intent behind a challenge and the attempt that challenge belongs to
   * (which may no longer be the intent's latest), for the hosted page.
   */
  async challengeContext(challengeId: string): Promise<IntentView | null> {
    const attempt = await this.deps.store.reads.attemptByChallenge(challengeId);
    if (!attempt) return null;
    const intent = await this.deps.store.reads.intent(attempt.merchantId, attempt.intentId);
    return intent ? { intent, attempt } : null;
  }

  // ---- wallets -----------------------------------------------------------

  /** The shopper scanned the QR code (or opened the pay page) and paid or declined in the wallet app. */
  async completeWalletPayment(token: string, action: 'pay' | 'decline'): Promise<IntentView> {
    const now = this.now;
    return this.deps.store.unit(async (tx) => {
      const found = await tx.attemptByWalletToken(token);
      if (!found) throw DomainError.notFound('wallet order', token);
      const intent = await this.lockIntent(tx, found.merchantId, found.intentId);
      const attempt = (await tx.attempt(found.merchantId, found.id))!;
      if (attempt.status === 'AUTHENTICATION_REDIRECTED' && attempt.wallet?.expiresAt !== undefined && now >= attempt.wallet.expiresAt) {
        throw DomainError.invalidState('the QR code has expired', 'qr_code_expired');
      }
      const t =
        action === 'pay'
          ? machine.walletPaid(intent, attempt, { ...attempt.wallet!, walletTransactionId: uuid().replace(/-/g, '') }, now)
          : machine.declined(intent, attempt, 'payment_declined_by_payer', null, now);
      await this.save(tx, t, null, now);
      return { intent: t.intent, attempt: t.attempt! };
    });
  }

  /**
   * The intent behind a wallet order and the attempt that order belongs to
   * (which may no longer be the intent's latest: an old QR code after a
   * decline and a new confirm), for the hosted pay page.
   */
  async walletContext(token: string): Promise<IntentView | null> {
    const attempt = await this.deps.store.reads.attemptByWalletToken(token);
    if (!attempt) return null;
    const intent = await this.deps.store.reads.intent(attempt.merchantId, attempt.intentId);
    return intent ? { intent, attempt } : null;
  }

  /** Payment-code charges whose payer was still confirming: ask the wallet how they ended. */
  async settlePendingWallets(limit = 100): Promise<number> {
    let count = 0;
    for (const attempt of await this.deps.store.reads.attemptsInFlight(Number.MAX_SAFE_INTEGER, limit)) {
      if (attempt.paymentMethod.type !== 'wallet') continue;
      if (await this.settleWalletAttempt(attempt)) count++;
    }
    return count;
  }

  /** Settles one pending wallet attempt if the wallet has an answer; true when it changed. */
  async settleWalletAttempt(attempt: PaymentAttempt): Promise<boolean> {
    if (attempt.status !== 'PENDING_AUTHORIZATION' || attempt.paymentMethod.type !== 'wallet') return false;
    const result = await this.deps.wallets.settle(attempt.id, this.now);
    if (!result || result.outcome === 'pending') return false;
    const intent = await this.deps.store.reads.intent(attempt.merchantId, attempt.intentId);
    if (!intent || intent.status !== 'PENDING') return false;
    try {
      await this.applyWalletCharge(this.internal(intent.id), intent, attempt, result, attempt.wallet!);
      return true;
    } catch (error) {
      if (isDomainError(error)) return false;
      throw error;
    }
  }

  /**
   * A wallet attempt a crash left behind. A payment code the wallet may have
   * charged is asked about (settled when the wallet answers); a QR code or
   * pay page whose order was never recorded reached no shopper, so the
   * attempt fails and the merchant can confirm again.
   */
  private async recoverWalletAttempt(intent: PaymentIntent, attempt: PaymentAttempt): Promise<boolean> {
    if (attempt.paymentMethod.type !== 'wallet') return false;
    if (attempt.status === 'PENDING_AUTHORIZATION') return this.settleWalletAttempt(attempt);
    if (attempt.status !== 'INITIATED') return false;
    const { flow } = attempt.paymentMethod.wallet;
    try {
      const charge = attempt.wallet!;
      const result: PaymentCodeResult | null =
        flow === 'payment_code' ? await this.deps.wallets.settle(attempt.id, this.now) : { outcome: 'declined', failureCode: 'processing_error' };
      if (!result) return false;
      await this.applyWalletCharge(this.internal(intent.id), intent, attempt, result, charge);
      return true;
    } catch (error) {
      if (isDomainError(error)) return false;
      throw error;
    }
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
    hooks?: CommandHooks<Refund>,
  ): Promise<Refund> {
    const now = this.now;
    const refundId = this.deps.ids.next('RF');
    const units = new CommandUnits(this.deps.store, refundId, hooks);
    const requested = await units.unit(async (tx) => {
      const intent = await this.lockIntent(tx, merchantId, input.intentId);
      if (input.attemptId && input.attemptId !== intent.latestAttemptId) {
        throw DomainError.validation(`payment_attempt_id ${input.attemptId} is not the successful attempt of ${intent.id}`, 'payment_attempt_id');
      }
      const attempt = intent.latestAttemptId ? await tx.attempt(merchantId, intent.latestAttemptId) : null;
      const refund: Refund = {
        id: refundId,
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
    const ok = await this.sendRefund(requested.attempt, requested.refund);
    return this.settleRefund(units, merchantId, requested.refund.id, ok);
  }

  private async settleRefund(units: CommandUnits<Refund>, merchantId: string, refundId: string, ok: boolean): Promise<Refund> {
    const now = this.now;
    return units.settle(async (tx) => {
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
      if (attempt.paymentMethod.type === 'wallet') {
        if (await this.recoverWalletAttempt(intent, attempt)) count++;
        continue;
      }
      const known = await this.deps.cardNetwork.lookup(attempt.id);
      const result: AuthorizationResult = known ?? { outcome: 'declined', failureCode: 'processing_error', network: networkOf(attempt) };
      try {
        await this.applyAuthorization(this.internal(intent.id), intent, attempt, result);
        count++;
      } catch (error) {
        if (!isDomainError(error)) throw error;
      }
    }
    for (const refund of await this.deps.store.reads.refundsInFlight(cutoff, 100)) {
      const attempt = await this.deps.store.reads.attempt(refund.merchantId, refund.attemptId);
      if (!attempt) continue;
      await this.settleRefund(this.internal(refund.id), refund.merchantId, refund.id, await this.sendRefund(attempt, refund));
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

  private async sendRefund(attempt: PaymentAttempt, refund: Refund): Promise<boolean> {
    const amount = { amount: refund.amount, currency: refund.currency };
    try {
      if (attempt.paymentMethod.type === 'wallet') await this.deps.wallets.refund(attempt.id, refund.id, amount);
      else await this.deps.cardNetwork.refund(attempt.id, refund.id, amount);
      return true;
    } catch {
      return false;
    }
  }

  private newAttempt(intent: PaymentIntent, method: PaymentMethodInput, secrets: MethodSecrets, now: number): PaymentAttempt {
    return {
      id: this.deps.ids.next('PA'),
      intentId: intent.id,
      merchantId: intent.merchantId,
      amount: intent.amount,
      currency: intent.currency,
      status: 'INITIATED',
      capturedAmount: 0,
      refundedAmount: 0,
      autoCapture: method.type === 'card' ? method.card.autoCapture : true,
      paymentMethod: storedMethod(method, secrets, this.deps.fingerprintKey),
      failureCode: null,
      authCode: null,
      rrn: null,
      arn: null,
      adviceCode: null,
      authentication: null,
      threeDSChallengeId: null,
      walletToken: null,
      // What the wallet will charge the shopper is priced now, before anything
      // is stored: a charge the FX table cannot price is refused up front.
      wallet: secrets.type === 'wallet' ? shopperCharge(secrets.kind, { amount: intent.amount, currency: intent.currency }, this.deps.fx) : null,
      cancellationReason: null,
      completeTime: null,
      createdAt: now,
      updatedAt: now,
    };
  }

  /** After the attempt is recorded: ask the outside world, then record its answer. */
  private proceed(units: Units, intent: PaymentIntent, attempt: PaymentAttempt, method: PaymentMethodInput, secrets: MethodSecrets): Promise<IntentView> {
    if (method.type === 'card' && secrets.type === 'card') {
      return this.proceedCard(units, intent, attempt, secrets.card, method.card.threeDsAction === 'enforce_3ds');
    }
    return this.proceedWallet(units, intent, attempt, secrets.type === 'wallet' ? secrets.paymentCode : undefined);
  }

  /** 3DS if needed, then the authorization. */
  private async proceedCard(units: Units, intent: PaymentIntent, attempt: PaymentAttempt, card: CardDetails, enforce: boolean): Promise<IntentView> {
    const amount = { amount: attempt.amount, currency: attempt.currency };
    const decision = await this.deps.threeDS.authenticate({ reference: attempt.id, card, amount, enforce });
    if (decision.kind === 'challenge') {
      const now = this.now;
      const returnUrl = intent.returnUrl ?? '';
      const t = machine.requireCustomerAction(intent, attempt, { threeDSChallengeId: decision.challengeId }, { type: 'redirect_to_url', url: decision.acsUrl, returnUrl }, now);
      // The card waits for the shopper in the vault, encrypted and without its CVC.
      const { cvc: _cvc, ...vaulted } = card;
      const sealed = this.deps.vault.seal(JSON.stringify(vaulted));
      return units.settle(async (tx) => {
        await this.save(tx, t, null, now);
        await tx.vaultPut(attempt.id, sealed, now + VAULT_TTL_MS);
        return { intent: t.intent, attempt: t.attempt! };
      });
    }
    let current = attempt;
    let threeDS: ThreeDSData | undefined;
    if (decision.kind === 'frictionless') {
      threeDS = decision.data;
      current = { ...attempt, authentication: { threeDS: threeDSData(decision.data) } };
    }
    const result = await this.authorize(intent, current, card, threeDS);
    return this.applyAuthorization(units, intent, current, result);
  }

  /** A QR code / pay page for the shopper, or a charge of the shopper's payment code. */
  private async proceedWallet(units: Units, intent: PaymentIntent, attempt: PaymentAttempt, paymentCode: string | undefined): Promise<IntentView> {
    if (attempt.paymentMethod.type !== 'wallet') throw new Error('wallet attempt expected');
    const { kind, flow } = attempt.paymentMethod.wallet;
    const amount = { amount: attempt.amount, currency: attempt.currency };
    const charge = attempt.wallet!;
    const shopperAmount = { amount: charge.shopperAmount, currency: charge.shopperCurrency };
    if (flow === 'payment_code') {
      const result = await this.deps.wallets.chargePaymentCode({ reference: attempt.id, merchantId: intent.merchantId, wallet: kind, code: paymentCode!, amount, shopperAmount });
      return this.applyWalletCharge(units, intent, attempt, result, charge);
    }
    const order = await this.deps.wallets.createOrder({
      reference: attempt.id,
      merchantId: intent.merchantId,
      wallet: kind,
      flow,
      amount,
      shopperAmount,
      expiresAt: intent.expiresAt,
      ...(intent.returnUrl ? { returnUrl: intent.returnUrl } : {}),
    });
    const now = this.now;
    const nextAction: machine.IntentTransition['intent']['nextAction'] =
      flow === 'qrcode'
        ? { type: 'display_qr_code', qrCode: order.qrContent, qrCodeUrl: order.payUrl, expiresAt: intent.expiresAt }
        : flow === 'web'
          ? { type: 'redirect_to_url', url: order.payUrl, returnUrl: intent.returnUrl ?? '' }
          : { type: 'sdk_params', url: order.payUrl, params: order.sdkParams };
    const t = machine.requireCustomerAction(intent, attempt, { walletToken: order.token, wallet: { ...charge, expiresAt: intent.expiresAt } }, nextAction, now);
    return units.settle(async (tx) => {
      await this.save(tx, t, null, now);
      return { intent: t.intent, attempt: t.attempt! };
    });
  }

  private async applyWalletCharge(units: Units, intent: PaymentIntent, attempt: PaymentAttempt, result: PaymentCodeResult, charge: machine.WalletChargeInput): Promise<IntentView> {
    const now = this.now;
    return units.settle(async (tx) => {
      const current = await this.lockIntent(tx, intent.merchantId, intent.id);
      const stored = (await tx.attempt(intent.merchantId, attempt.id))!;
      let t: machine.IntentTransition;
      if (result.outcome === 'paid') t = machine.walletPaid(current, stored, { ...charge, walletTransactionId: result.walletTransactionId }, now);
      else if (result.outcome === 'pending') t = stored.status === 'INITIATED' ? machine.awaitingPayer(current, stored, { ...charge, pendingReason: result.reason }, now) : { intent: current, attempt: stored, emits: [] };
      else t = machine.declined(current, stored, result.failureCode, null, now);
      await this.save(tx, t, null, now);
      return { intent: t.intent, attempt: t.attempt ?? stored };
    });
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

  private async applyAuthorization(units: Units, intent: PaymentIntent, attempt: PaymentAttempt, result: AuthorizationResult): Promise<IntentView> {
    const now = this.now;
    return units.settle(async (tx) => {
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
    const payload = { intent, ...(attempt ? { attempt } : {}), ...(refund ? { refund } : {}) };
    return emits.map((e) => {
      const sourceId = e.subject === 'refund' ? refund!.id : e.subject === 'attempt' ? attempt!.id : intent.id;
      return {
        id: uuid(),
        merchantId: intent.merchantId,
        type: e.type,
        sourceId,
        payload,
        createdAt: now,
        notify: { dialect: intent.origin, url: intent.notifyUrl },
      };
    });
  }
}

function networkOf(attempt: PaymentAttempt): string {
  return attempt.paymentMethod.type === 'card' ? attempt.paymentMethod.card.network : attempt.paymentMethod.wallet.kind;
}

function threeDSData(d: ThreeDSData): AuthenticationData['threeDS'] {
  return { version: d.version, eci: d.eci, cavv: d.cavv, dsTransactionId: d.dsTransactionId, status: d.status };
}

/**
 * The intent lifecycle a merchant drives: create, confirm (a new attempt,
 * handed to the card or wallet flow), update, capture, cancel, and reads.
 */
import { sameBusinessDay } from '../clock.ts';
import { DomainError, isDomainError } from '../errors.ts';
import { secureRandomBytes, uuid } from '../ids.ts';
import { refundEntries } from '../ledger/journal.ts';
import type { CardFlow } from './card-flow.ts';
import type { CommandHooks } from './command.ts';
import { found, INTENT_LIFETIME_MS, type IntentView, type PaymentsContext, type Units } from './context.ts';
import * as machine from './machine.ts';
import { shopperCharge, storedMethod, validateMethod, type MethodSecrets, type PaymentMethodInput } from './methods.ts';
import type { AttemptFilter, IntentFilter, Page, PageRequest } from './repository.ts';
import type { CancellationReason, PaymentAttempt, PaymentIntent } from './types.ts';
import type { WalletFlow } from './wallet-flow.ts';

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

export class Intents {
  constructor(
    private readonly ctx: PaymentsContext,
    private readonly card: CardFlow,
    private readonly wallet: WalletFlow,
  ) {}

  async createIntent(merchantId: string, input: CreateIntentInput, hooks?: CommandHooks<IntentView>): Promise<IntentView> {
    const now = this.ctx.now;
    const secrets = input.paymentMethod ? validateMethod(input.paymentMethod, now) : null;
    const intent: PaymentIntent = {
      id: this.ctx.deps.ids.next('PI'),
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
      version: 1,
    };
    const createdT = machine.created(intent);
    const units = this.ctx.units(intent.id, hooks);
    if (!input.paymentMethod || !secrets) {
      return units.settle(async (tx) => {
        await tx.insertIntent(intent);
        await tx.appendEvents(this.ctx.events(createdT.emits, intent, null, null, now));
        return { intent, attempt: null };
      });
    }
    const attempt = this.newAttempt(intent, input.paymentMethod, secrets, now);
    const begun = machine.beginAttempt(intent, attempt, now);
    await units.unit(async (tx) => {
      await tx.insertIntent(begun.intent);
      await tx.insertAttempt(attempt);
      await tx.appendEvents([
        ...this.ctx.events(createdT.emits, intent, null, null, now),
        ...this.ctx.events(begun.emits, begun.intent, attempt, null, now),
      ]);
    });
    return this.proceed(units, begun.intent, attempt, input.paymentMethod, secrets);
  }

  async confirmIntent(merchantId: string, id: string, input: ConfirmInput, hooks?: CommandHooks<IntentView>): Promise<IntentView> {
    const now = this.ctx.now;
    const secrets = validateMethod(input.paymentMethod, now);
    const units = this.ctx.units(id, hooks);
    const begun = await units.unit(async (tx) => {
      const intent = await this.ctx.lockIntent(tx, merchantId, id);
      const base = input.returnUrl ? { ...intent, returnUrl: input.returnUrl } : intent;
      const attempt = this.newAttempt(base, input.paymentMethod, secrets, now);
      const t = machine.beginAttempt(base, attempt, now);
      await tx.insertAttempt(attempt);
      const stored = await tx.updateIntent(t.intent);
      await tx.appendEvents(this.ctx.events(t.emits, stored, attempt, null, now));
      return { intent: stored, attempt };
    });
    return this.proceed(units, begun.intent, begun.attempt, input.paymentMethod, secrets);
  }

  async updateIntent(merchantId: string, id: string, patch: machine.IntentPatch, hooks?: CommandHooks<IntentView>): Promise<IntentView> {
    const now = this.ctx.now;
    return this.ctx.units(id, hooks).settle(async (tx) => {
      const intent = await this.ctx.lockIntent(tx, merchantId, id);
      const t = machine.update(intent, patch, now);
      await tx.updateIntent(t.intent);
      return { intent: t.intent, attempt: null };
    });
  }

  async getIntent(merchantId: string, id: string): Promise<IntentView> {
    const intent = found(await this.ctx.deps.store.reads.intent(merchantId, id), 'payment_intent', id);
    const attempt = intent.latestAttemptId ? await this.ctx.deps.store.reads.attempt(merchantId, intent.latestAttemptId) : null;
    return { intent, attempt };
  }

  async listIntents(merchantId: string, filter: IntentFilter, page: PageRequest): Promise<Page<IntentView>> {
    const result = await this.ctx.deps.store.reads.listIntents(merchantId, filter, page);
    const ids = result.items.map((i) => i.latestAttemptId).filter((x): x is string => !!x);
    const attempts = new Map((await this.ctx.deps.store.reads.attemptsByIds(merchantId, ids)).map((a) => [a.id, a]));
    return {
      total: result.total,
      items: result.items.map((intent) => ({
        intent,
        attempt: intent.latestAttemptId ? attempts.get(intent.latestAttemptId) ?? null : null,
      })),
    };
  }

  async getAttempt(merchantId: string, id: string): Promise<PaymentAttempt> {
    return found(await this.ctx.deps.store.reads.attempt(merchantId, id), 'payment_attempt', id);
  }

  listAttempts(merchantId: string, filter: AttemptFilter, page: PageRequest): Promise<Page<PaymentAttempt>> {
    return this.ctx.deps.store.reads.listAttempts(merchantId, filter, page);
  }

  async capture(merchantId: string, id: string, amount: number | undefined, hooks?: CommandHooks<IntentView>): Promise<IntentView> {
    const now = this.ctx.now;
    const view = await this.ctx.units(id, hooks).settle(async (tx) => {
      const intent = await this.ctx.lockIntent(tx, merchantId, id);
      const attempt = intent.latestAttemptId ? await tx.attempt(merchantId, intent.latestAttemptId) : null;
      if (intent.status !== 'REQUIRES_CAPTURE' || !attempt) {
        throw DomainError.invalidState(`payment intent ${id} cannot be captured when its status is ${intent.status}`);
      }
      const t = machine.capture(intent, attempt, amount ?? attempt.amount, now);
      await this.ctx.save(tx, t, null, now);
      return { intent: t.intent, attempt: t.attempt! };
    });
    // The capture is committed as requested; the network hears of it after the commit.
    const captured = { amount: view.attempt.capturedAmount, currency: view.attempt.currency };
    await this.ctx.afterCommit('capture', view.attempt.id, () =>
      view.attempt.paymentMethod.type === 'wallet'
        ? this.ctx.deps.wallets.capture(view.attempt.id, captured)
        : this.ctx.deps.cardNetwork.capture(view.attempt.id, captured),
    );
    return view;
  }

  /**
   * Cancels an intent before a terminal state; a wallet payment that
   * SUCCEEDED the same merchant day is cancelled in full and its money returned.
   */
  async cancel(merchantId: string, id: string, reason: CancellationReason, hooks?: CommandHooks<IntentView>): Promise<IntentView> {
    const now = this.ctx.now;
    const result = await this.ctx.units(id, hooks).settle(async (tx) => {
      const intent = await this.ctx.lockIntent(tx, merchantId, id);
      const attempt = intent.latestAttemptId ? await tx.attempt(merchantId, intent.latestAttemptId) : null;
      const sameDayReversal = intent.completeTime !== null && sameBusinessDay(intent.completeTime, now);
      let t: ReturnType<typeof machine.cancel>;
      try {
        t = machine.cancel(intent, attempt, reason, now, { sameDayReversal });
      } catch (error) {
        if (!isDomainError(error) || error.kind !== 'invalid_state') throw error;
        // A refused cancel is still news for the merchant (acquiring.cancel.failed). It is recorded in the
        // unit that claims the request's idempotency key, so a repeat of the request records it no second time.
        await tx.appendEvents(this.ctx.events([{ type: 'cancel.failed', subject: 'intent' }], intent, null, null, now));
        return { refused: error };
      }
      await this.ctx.save(tx, t, null, now);
      if (t.reversed > 0) {
        await tx.post({ id: uuid(), merchantId, sourceId: intent.id, entries: refundEntries(t.reversed, intent.currency) }, now);
      }
      if (attempt?.threeDSChallengeId) await tx.vaultTake(attempt.id);
      return {
        view: { intent: t.intent, attempt: t.attempt ?? attempt },
        voidAuthorization: attempt?.status === 'AUTHORIZED',
        reversed: t.reversed,
      };
    }, (r) => ('refused' in r ? null : r.view));
    if ('refused' in result) throw result.refused;
    const attempt = result.view.attempt;
    if (result.voidAuthorization && attempt) {
      await this.ctx.afterCommit('void', attempt.id, () =>
        attempt.paymentMethod.type === 'wallet' ? this.ctx.deps.wallets.release(attempt.id) : this.ctx.deps.cardNetwork.void(attempt.id),
      );
    }
    if (result.reversed > 0 && attempt) {
      await this.ctx.afterCommit('wallet reversal', attempt.id, () =>
        this.ctx.deps.wallets.refund(attempt.id, `${attempt.id}-cancel`, { amount: result.reversed, currency: attempt.currency }),
      );
    }
    return result.view;
  }

  private newAttempt(intent: PaymentIntent, method: PaymentMethodInput, secrets: MethodSecrets, now: number): PaymentAttempt {
    return {
      id: this.ctx.deps.ids.next('PA'),
      intentId: intent.id,
      merchantId: intent.merchantId,
      amount: intent.amount,
      currency: intent.currency,
      status: 'INITIATED',
      capturedAmount: 0,
      refundedAmount: 0,
      autoCapture: method.type === 'card' ? method.card.autoCapture : !method.wallet.authorizeOnly,
      paymentMethod: storedMethod(method, secrets, this.ctx.deps.fingerprintKey),
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
      wallet:
        secrets.type === 'wallet' && method.type === 'wallet'
          ? { ...shopperCharge(secrets.kind, { amount: intent.amount, currency: intent.currency }, this.ctx.deps.fx), ...(method.wallet.refusal ? { refusal: method.wallet.refusal } : {}) }
          : null,
      cancellationReason: null,
      completeTime: null,
      createdAt: now,
      updatedAt: now,
    };
  }

  /** After the attempt is recorded: ask the outside world, then record its answer. */
  private proceed(units: Units, intent: PaymentIntent, attempt: PaymentAttempt, method: PaymentMethodInput, secrets: MethodSecrets): Promise<IntentView> {
    if (method.type === 'card' && secrets.type === 'card') {
      return this.card.proceedCard(units, intent, attempt, secrets.card, method.card.threeDsAction === 'enforce_3ds');
    }
    return this.wallet.proceedWallet(units, intent, attempt, secrets.type === 'wallet' ? secrets.paymentCode : undefined);
  }
}

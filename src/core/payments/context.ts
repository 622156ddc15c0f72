/**
 * What every payments flow shares: the outside world it runs against, the
 * clock, and the one way a state change is written (the transition, its
 * events and, when money was captured, the capture journal).
 */
import type { Clock } from '../clock.ts';
import { DomainError, isDomainError } from '../errors.ts';
import { type IdGenerator, uuid } from '../ids.ts';
import { captureEntries } from '../ledger/journal.ts';
import type { CardNetwork, FxRates, ThreeDSServer, Wallets } from '../ports.ts';
import type { SecretBox } from '../secret-box.ts';
import { CommandUnits, type CommandHooks } from './command.ts';
import type * as machine from './machine.ts';
import { StaleWrite, type PaymentsStore, type PaymentsTx } from './repository.ts';
import type { DomainEvent, Emit, PaymentAttempt, PaymentIntent, Refund } from './types.ts';

export const INTENT_LIFETIME_MS = 30 * 60 * 1000;

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

export type Units = CommandUnits<IntentView>;

/** Runs a step on an intent and its attempt in the unit that settles a command (see ownCopies and storedRows). */
export type Settle = (step: (tx: PaymentsTx, intent: PaymentIntent, attempt: PaymentAttempt) => Promise<IntentView>) => Promise<IntentView>;

export class PaymentsContext {
  constructor(readonly deps: PaymentsDeps) {}

  get now(): number {
    return this.deps.clock.now();
  }

  /** The units of a caller's command on `subjectId`, joined by the caller's hooks. */
  units<O = IntentView>(subjectId: string, hooks: CommandHooks<O> | undefined): CommandUnits<O> {
    return new CommandUnits<O>(this.deps.store, subjectId, hooks);
  }

  /** The units of work the platform runs on its own (3DS results, wallet settlement, recovery): no caller hooks. */
  internal<O = IntentView>(subjectId: string): CommandUnits<O> {
    return this.units<O>(subjectId, undefined);
  }

  /**
   * A network call that follows a committed change (capture, void). The
   * change stands whatever the network says now; a refusal is logged for
   * reconciliation instead of failing a request whose effect is already durable.
   */
  async afterCommit(operation: string, reference: string, call: () => Promise<void>): Promise<void> {
    try {
      await call();
    } catch (err) {
      this.deps.logger?.warn({ operation, reference, err }, 'card network refused a committed operation');
    }
  }

  /** Runs a step the platform takes on its own: true when it was applied, false when the domain refused it. */
  async applied(step: () => Promise<unknown>): Promise<boolean> {
    try {
      await step();
      return true;
    } catch (error) {
      if (isDomainError(error)) return false;
      throw error;
    }
  }

  /** The intent behind an attempt found by a token (3DS challenge, wallet order), with that attempt, for a hosted page. */
  async viewOf(attempt: PaymentAttempt | null): Promise<IntentView | null> {
    if (!attempt) return null;
    const intent = await this.deps.store.reads.intent(attempt.merchantId, attempt.intentId);
    return intent ? { intent, attempt } : null;
  }

  /**
   * Settles the next step of a command that stored `intent` and `attempt`
   * itself (in one unit, so they belong together). Nothing but the command
   * moves an intent while its attempt is in flight, so they are normally
   * still current and are not read back; the intent's version is checked on
   * write, and when another request (a recovery sweep) wrote it meanwhile,
   * the step is applied again to the stored rows, read under lock (where it
   * may well be refused).
   */
  ownCopies(units: Units, intent: PaymentIntent, attempt: PaymentAttempt): Settle {
    return async (step) => {
      try {
        return await units.settle((tx) => {
          tx.basedOn(intent, attempt);
          return step(tx, intent, attempt);
        });
      } catch (error) {
        if (!(error instanceof StaleWrite)) throw error;
      }
      return this.storedRows(units, intent, attempt)(step);
    };
  }

  /**
   * Applies an answer from outside that came after its request was over (a
   * slow issuer, a payer who finished confirming): on the stored rows, if the
   * intent still waits on this attempt. True when it was applied.
   */
  async applyLateAnswer(attempt: PaymentAttempt, apply: (settle: Settle) => Promise<IntentView>): Promise<boolean> {
    const intent = await this.deps.store.reads.intent(attempt.merchantId, attempt.intentId);
    if (!intent || intent.status !== 'PENDING' || intent.latestAttemptId !== attempt.id) return false;
    return this.applied(() => apply(this.storedRows(this.internal(intent.id), intent, attempt)));
  }

  /** Settles a step on the stored rows of `intent` and `attempt`, read under lock in the step's unit. */
  storedRows(units: Units, intent: PaymentIntent, attempt: PaymentAttempt): Settle {
    const { merchantId } = intent;
    return (step) =>
      units.settle(async (tx) => {
        const current = await this.lockIntent(tx, merchantId, intent.id);
        const stored = found(await tx.attempt(merchantId, attempt.id), 'payment_attempt', attempt.id);
        return step(tx, current, stored);
      });
  }

  async lockIntent(tx: PaymentsTx, merchantId: string, id: string): Promise<PaymentIntent> {
    return found(await tx.intent(merchantId, id, true), 'payment_intent', id);
  }

  /**
   * Writes a transition, its events, and the capture journal when money was
   * captured; returns the intent as stored (with its new version).
   */
  async save(tx: PaymentsTx, t: machine.IntentTransition, refund: Refund | null, now: number): Promise<PaymentIntent> {
    const intent = await tx.updateIntent(t.intent);
    if (t.attempt) await tx.updateAttempt(t.attempt);
    if (t.attempt && t.emits.some((e) => e.type === 'payment_attempt.capture_requested')) {
      await tx.post({ id: uuid(), merchantId: intent.merchantId, sourceId: t.attempt.id, entries: captureEntries(t.attempt.capturedAmount, t.attempt.currency) }, now);
    }
    await tx.appendEvents(this.events(t.emits, intent, t.attempt ?? null, refund, now));
    return intent;
  }

  events(emits: Emit[], intent: PaymentIntent, attempt: PaymentAttempt | null, refund: Refund | null, now: number): DomainEvent[] {
    // An attempt's events carry the attempt alone (its webhooks show nothing
    // else); intent and refund events carry the intent with its attempt (and
    // the refund), which their webhooks and notifications are built from.
    // Events of one transition share these objects, serialized once each.
    const payload = { intent, ...(attempt ? { attempt } : {}), ...(refund ? { refund } : {}) };
    const attemptPayload = attempt ? { attempt } : payload;
    return emits.map((e) => {
      const sourceId = e.subject === 'refund' ? refund!.id : e.subject === 'attempt' ? attempt!.id : intent.id;
      return {
        id: uuid(),
        merchantId: intent.merchantId,
        type: e.type,
        sourceId,
        payload: e.subject === 'attempt' ? attemptPayload : payload,
        createdAt: now,
        notify: { dialect: intent.origin, url: refund?.notifyUrl ?? intent.notifyUrl },
      };
    });
  }
}

/** What a lookup found, or the not-found error for `resource` `id`. */
export function found<T>(value: T | null | undefined, resource: string, id: string): T {
  if (!value) throw DomainError.notFound(resource, id);
  return value;
}

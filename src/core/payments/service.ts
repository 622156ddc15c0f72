/**
 * The acquiring service: runs the state machine against storage and the
 * outside world. Every state change commits with its events in one unit of
 * work; calls to the card network and 3DS server happen between units, never
 * inside one (record the attempt, commit, call, commit the result).
 *
 * This is the facade the API and the platform's jobs call; each flow lives in
 * its own module: intents.ts (create, confirm, update, capture, cancel),
 * card-flow.ts (3DS and authorization), wallet-flow.ts, refunds.ts, and
 * maintenance.ts (expiry and crash recovery), all sharing context.ts.
 */
import { CardFlow } from './card-flow.ts';
import type { CommandHooks } from './command.ts';
import { PaymentsContext, type IntentView, type PaymentsDeps } from './context.ts';
import { Intents, type ConfirmInput, type CreateIntentInput } from './intents.ts';
import type * as machine from './machine.ts';
import { IN_FLIGHT_GRACE_MS, Maintenance } from './maintenance.ts';
import { Refunds, type RefundInput } from './refunds.ts';
import type { AttemptFilter, IntentFilter, Page, PageRequest, RefundFilter } from './repository.ts';
import type { CancellationReason, PaymentAttempt, Refund } from './types.ts';
import { WalletFlow } from './wallet-flow.ts';

export { INTENT_LIFETIME_MS } from './context.ts';
export { IN_FLIGHT_GRACE_MS } from './maintenance.ts';
export type { IntentView, PaymentsDeps } from './context.ts';
export type { ConfirmInput, CreateIntentInput, IntentFields } from './intents.ts';
export type { CardInput, PaymentMethodInput, WalletInput } from './methods.ts';
export type { RefundInput } from './refunds.ts';

export class PaymentsService {
  private readonly ctx: PaymentsContext;
  private readonly intents: Intents;
  private readonly card: CardFlow;
  private readonly wallet: WalletFlow;
  private readonly refunds: Refunds;
  private readonly maintenance: Maintenance;

  constructor(deps: PaymentsDeps) {
    this.ctx = new PaymentsContext(deps);
    this.card = new CardFlow(this.ctx);
    this.wallet = new WalletFlow(this.ctx);
    this.refunds = new Refunds(this.ctx);
    this.intents = new Intents(this.ctx, this.card, this.wallet);
    this.maintenance = new Maintenance(this.ctx, this.card, this.wallet, this.refunds);
  }

  // ---- intents ---------------------------------------------------------

  createIntent(merchantId: string, input: CreateIntentInput, hooks?: CommandHooks<IntentView>): Promise<IntentView> {
    return this.intents.createIntent(merchantId, input, hooks);
  }

  confirmIntent(merchantId: string, id: string, input: ConfirmInput, hooks?: CommandHooks<IntentView>): Promise<IntentView> {
    return this.intents.confirmIntent(merchantId, id, input, hooks);
  }

  updateIntent(merchantId: string, id: string, patch: machine.IntentPatch, hooks?: CommandHooks<IntentView>): Promise<IntentView> {
    return this.intents.updateIntent(merchantId, id, patch, hooks);
  }

  getIntent(merchantId: string, id: string): Promise<IntentView> {
    return this.intents.getIntent(merchantId, id);
  }

  listIntents(merchantId: string, filter: IntentFilter, page: PageRequest): Promise<Page<IntentView>> {
    return this.intents.listIntents(merchantId, filter, page);
  }

  capture(merchantId: string, id: string, amount: number | undefined, hooks?: CommandHooks<IntentView>): Promise<IntentView> {
    return this.intents.capture(merchantId, id, amount, hooks);
  }

  /**
   * Cancels an intent before a terminal state; a wallet payment that
   * SUCCEEDED the same merchant day is cancelled in full and its money returned.
   */
  cancel(merchantId: string, id: string, reason: CancellationReason, hooks?: CommandHooks<IntentView>): Promise<IntentView> {
    return this.intents.cancel(merchantId, id, reason, hooks);
  }

  // ---- 3DS -------------------------------------------------------------

  /** The shopper finished the challenge on the hosted page (or the sandbox API said how it went). */
  completeChallenge(challengeId: string, success: boolean): Promise<IntentView> {
    return this.card.completeChallenge(challengeId, success);
  }

  /** The intent behind a challenge and the attempt that challenge belongs to, for the hosted page. */
  challengeContext(challengeId: string): Promise<IntentView | null> {
    return this.card.challengeContext(challengeId);
  }

  // ---- wallets -----------------------------------------------------------

  /** The shopper scanned the QR code (or opened the pay page) and paid or declined in the wallet app. */
  completeWalletPayment(token: string, action: 'pay' | 'decline'): Promise<IntentView> {
    return this.wallet.completeWalletPayment(token, action);
  }

  /** The intent behind a wallet order and the attempt that order belongs to, for the hosted pay page. */
  walletContext(token: string): Promise<IntentView | null> {
    return this.wallet.walletContext(token);
  }

  /** Attempts waiting for an answer from outside (a payer confirming a payment code, a slow issuer): applies the answers that came. */
  settlePending(limit = 100): Promise<number> {
    return this.maintenance.settlePending(limit);
  }

  /** Settles one pending wallet attempt if the wallet has an answer; true when it changed. */
  settleWalletAttempt(attempt: PaymentAttempt): Promise<boolean> {
    return this.wallet.settleWalletAttempt(attempt);
  }

  // ---- attempts and refunds -------------------------------------------

  getAttempt(merchantId: string, id: string): Promise<PaymentAttempt> {
    return this.intents.getAttempt(merchantId, id);
  }

  listAttempts(merchantId: string, filter: AttemptFilter, page: PageRequest): Promise<Page<PaymentAttempt>> {
    return this.intents.listAttempts(merchantId, filter, page);
  }

  createRefund(merchantId: string, input: RefundInput, hooks?: CommandHooks<Refund>): Promise<Refund> {
    return this.refunds.createRefund(merchantId, input, hooks);
  }

  getRefund(merchantId: string, id: string): Promise<Refund> {
    return this.refunds.getRefund(merchantId, id);
  }

  listRefunds(merchantId: string, filter: RefundFilter, page: PageRequest): Promise<Page<Refund>> {
    return this.refunds.listRefunds(merchantId, filter, page);
  }

  balances(merchantId: string) {
    return this.ctx.deps.store.reads.balances(merchantId);
  }

  // ---- time-driven work and recovery ------------------------------------

  /** Fails unpaid intents past their expiry. Returns how many expired. */
  expireDue(limit = 500): Promise<number> {
    return this.maintenance.expireDue(limit);
  }

  /** Settles attempts and refunds a crash left in flight (for longer than `olderThanMs` of platform time). Returns how many were settled. */
  recoverInFlight(olderThanMs = IN_FLIGHT_GRACE_MS): Promise<number> {
    return this.maintenance.recoverInFlight(olderThanMs);
  }
}

/**
 * Card payments: 3DS when the issuer asks for it, then the authorization.
 * A challenged card waits in the vault until the shopper finishes the
 * challenge on the hosted page.
 */
import { DomainError } from '../errors.ts';
import type { AuthorizationResult, CardDetails, ThreeDSData } from '../ports.ts';
import { INTENT_LIFETIME_MS, type IntentView, type PaymentsContext, type Settle, type Units } from './context.ts';
import type { PaymentsTx } from './repository.ts';
import * as machine from './machine.ts';
import type { AuthenticationData, PaymentAttempt, PaymentIntent } from './types.ts';

/** How long a vaulted card (waiting for its 3DS challenge) is kept at most. */
const VAULT_TTL_MS = INTENT_LIFETIME_MS;

export class CardFlow {
  constructor(private readonly ctx: PaymentsContext) {}

  /** 3DS if needed, then the authorization. */
  async proceedCard(units: Units, intent: PaymentIntent, attempt: PaymentAttempt, card: CardDetails, enforce: boolean): Promise<IntentView> {
    const amount = { amount: attempt.amount, currency: attempt.currency };
    const decision = await this.ctx.deps.threeDS.authenticate({ reference: attempt.id, card, amount, enforce });
    if (decision.kind === 'challenge') {
      const now = this.ctx.now;
      const returnUrl = intent.returnUrl ?? '';
      const t = machine.requireCustomerAction(intent, attempt, { threeDSChallengeId: decision.challengeId }, { type: 'redirect_to_url', url: decision.acsUrl, returnUrl }, now);
      // The card waits for the shopper in the vault, encrypted and without its CVC.
      const { cvc: _cvc, ...vaulted } = card;
      const sealed = this.ctx.deps.vault.seal(JSON.stringify(vaulted));
      return units.settle(async (tx) => {
        await this.ctx.save(tx, t, null, now);
        await tx.vaultPut(attempt.id, sealed, now + VAULT_TTL_MS);
        return { intent: t.intent, attempt: t.attempt! };
      });
    }
    const threeDS = decision.kind === 'frictionless' ? decision.data : undefined;
    const authentication = threeDS ? { threeDS: threeDSData(threeDS) } : null;
    const result = await this.authorize(intent, attempt, card, threeDS);
    return this.applyAuthorization(this.ctx.ownCopies(units, intent, attempt), authentication, result);
  }

  /** The shopper finished the challenge on the hosted page (or the sandbox API said how it went). */
  async completeChallenge(challengeId: string, success: boolean): Promise<IntentView> {
    const now = this.ctx.now;
    const step = await this.ctx.deps.store.unit(async (tx) => {
      const found = await tx.attemptByChallenge(challengeId);
      if (!found) throw DomainError.notFound('authentication', challengeId);
      const intent = await this.ctx.lockIntent(tx, found.merchantId, found.intentId);
      const attempt = await tx.attempt(found.merchantId, found.id);
      // The 3DS server's answer for the challenge (no I/O: the result data for the card's network).
      const threeDS = this.ctx.deps.threeDS.challengeResult(challengeId, success, networkOf(found));
      const t = machine.authenticated(intent, attempt!, success, { threeDS: threeDSData(threeDS) }, now);
      const sealed = await tx.vaultTake(found.id);
      const stored = await this.ctx.save(tx, t, null, now);
      return { intent: stored, attempt: t.attempt!, sealed, threeDS };
    });
    const { intent, attempt, threeDS } = step;
    if (!success) return { intent, attempt };
    const settle = this.ctx.ownCopies(this.ctx.internal(intent.id), intent, attempt);
    if (!step.sealed) {
      // The vaulted card is gone (it expired): there is nothing to authorize with.
      return this.applyAuthorization(settle, null, processingError(attempt));
    }
    const card = JSON.parse(this.ctx.deps.vault.open(step.sealed)) as CardDetails;
    const result = await this.authorize(intent, attempt, card, threeDS);
    return this.applyAuthorization(settle, null, result);
  }

  /**
   * The intent behind a challenge and the attempt that challenge belongs to
   * (which may no longer be the intent's latest), for the hosted page.
   */
  async challengeContext(challengeId: string): Promise<IntentView | null> {
    return this.ctx.viewOf(await this.ctx.deps.store.reads.attemptByChallenge(challengeId));
  }

  /**
   * A card attempt a crash left between "recorded" and "result applied" is
   * settled by asking the network: its answer, or a processing_error decline
   * when it never received the authorization (and now never will).
   */
  async recoverCardAttempt(intent: PaymentIntent, attempt: PaymentAttempt): Promise<boolean> {
    const known = await this.ctx.deps.cardNetwork.inquire(attempt.id);
    if (known.outcome === 'pending') return false; // the issuer is still deciding: settlePendingCard applies its answer
    const result = known.outcome === 'never_received' ? processingError(attempt) : known;
    const settle = this.ctx.storedRows(this.ctx.internal(intent.id), intent, attempt);
    return this.ctx.applied(() => this.applyAuthorization(settle, null, result));
  }

  /**
   * An authorization the issuer had not answered: applies the answer once the
   * network has one. True when the attempt changed.
   */
  async settlePendingCard(attempt: PaymentAttempt): Promise<boolean> {
    if (attempt.status !== 'PENDING_AUTHORIZATION' || attempt.paymentMethod.type !== 'card') return false;
    const result = await this.ctx.deps.cardNetwork.lookup(attempt.id);
    // Not seen yet (its authorization may be on its way right now) or still pending: nothing to apply.
    if (!result || result.outcome === 'pending') return false;
    return this.ctx.applyLateAnswer(attempt, (settle) => this.applyAuthorization(settle, null, result));
  }

  private authorize(intent: PaymentIntent, attempt: PaymentAttempt, card: CardDetails, threeDS?: ThreeDSData): Promise<AuthorizationResult> {
    return this.ctx.deps.cardNetwork.authorize({
      reference: attempt.id,
      merchantId: intent.merchantId,
      card,
      amount: { amount: attempt.amount, currency: attempt.currency },
      capture: attempt.autoCapture,
      ...(threeDS ? { threeDS } : {}),
    });
  }

  /**
   * Records the network's answer for an attempt, with the 3DS data that went
   * with the authorization when the attempt does not have it yet.
   */
  private applyAuthorization(settle: Settle, authentication: AuthenticationData | null, result: AuthorizationResult): Promise<IntentView> {
    return settle((tx, intent, attempt) => this.recordAuthorization(tx, intent, attempt, authentication, result));
  }

  private async recordAuthorization(
    tx: PaymentsTx,
    intent: PaymentIntent,
    stored: PaymentAttempt,
    authentication: AuthenticationData | null,
    result: AuthorizationResult,
  ): Promise<IntentView> {
    const now = this.ctx.now;
    const attempt = authentication ? { ...stored, authentication } : stored;
    let t: machine.IntentTransition;
    if (result.outcome === 'approved') {
      t = machine.approved(intent, attempt, {
        authCode: result.authCode,
        rrn: result.rrn,
        arn: result.arn,
        cvcResult: result.cvcResult,
        avsResult: result.avsResult,
        fundingType: result.fundingType,
      }, now);
    } else if (result.outcome === 'pending') {
      t = machine.authorizationPending(intent, attempt, now);
    } else {
      t = machine.declined(intent, attempt, result.failureCode, result.adviceCode ?? null, now);
    }
    const saved = await this.ctx.save(tx, t, null, now);
    return { intent: saved, attempt: t.attempt ?? attempt };
  }
}

function networkOf(attempt: PaymentAttempt): string {
  return attempt.paymentMethod.type === 'card' ? attempt.paymentMethod.card.network : attempt.paymentMethod.wallet.kind;
}

/** The answer for an attempt that cannot be authorized (its card is gone, or the network never received it). */
function processingError(attempt: PaymentAttempt): AuthorizationResult {
  return { outcome: 'declined', failureCode: 'processing_error', network: networkOf(attempt) };
}

function threeDSData(d: ThreeDSData): AuthenticationData['threeDS'] {
  return { version: d.version, eci: d.eci, cavv: d.cavv, dsTransactionId: d.dsTransactionId, status: d.status };
}

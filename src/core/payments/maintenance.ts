/**
 * Time-driven work and recovery, run by the platform rather than a request:
 * expiring unpaid intents and settling what a crash left in flight.
 */
import type { CardFlow } from './card-flow.ts';
import type { PaymentsContext } from './context.ts';
import * as machine from './machine.ts';
import type { Refunds } from './refunds.ts';
import type { WalletFlow } from './wallet-flow.ts';

/**
 * How long an attempt or refund may wait for the outside world before
 * recovery settles it: longer than a live request waits for a network or
 * wallet answer, so on a database shared by several nodes recovery leaves
 * alone what another node is still working on. Platform time: advancing the
 * sandbox clock makes everything in flight this old at once.
 */
export const IN_FLIGHT_GRACE_MS = 5_000;

export class Maintenance {
  constructor(
    private readonly ctx: PaymentsContext,
    private readonly card: CardFlow,
    private readonly wallet: WalletFlow,
    private readonly refunds: Refunds,
  ) {}

  /** Fails unpaid intents past their expiry. Returns how many expired. */
  async expireDue(limit: number): Promise<number> {
    const now = this.ctx.now;
    const due = await this.ctx.deps.store.reads.expiredIntents(now, limit);
    let count = 0;
    for (const { merchantId, id } of due) {
      const done = await this.ctx.deps.store.unit(async (tx) => {
        const intent = await tx.intent(merchantId, id, true);
        if (!intent || intent.expiresAt > now || !['REQUIRES_PAYMENT_METHOD', 'REQUIRES_CUSTOMER_ACTION'].includes(intent.status)) return false;
        const attempt = intent.latestAttemptId ? await tx.attempt(merchantId, intent.latestAttemptId) : null;
        const t = machine.expire(intent, attempt, now);
        if (attempt?.threeDSChallengeId) await tx.vaultTake(attempt.id);
        await this.ctx.save(tx, t, null, now);
        return true;
      });
      if (done) count++;
    }
    return count;
  }

  /**
   * Attempts waiting for an answer from outside (a payer still confirming a
   * payment code, an issuer that has not answered): applies the answers that
   * have come. Returns how many settled.
   */
  async settlePending(limit: number): Promise<number> {
    let count = 0;
    for (const attempt of await this.ctx.deps.store.reads.attemptsInFlight(Number.MAX_SAFE_INTEGER, limit)) {
      if (attempt.status !== 'PENDING_AUTHORIZATION') continue;
      const settled = attempt.paymentMethod.type === 'wallet' ? await this.wallet.settleWalletAttempt(attempt) : await this.card.settlePendingCard(attempt);
      if (settled) count++;
    }
    return count;
  }

  /**
   * Attempts a crash left between "recorded" and "result applied" are settled
   * by asking the network what it knows; refunds in flight are re-sent (the
   * network dedupes by refund id) and settled. Only what has waited longer
   * than `olderThanMs` of platform time.
   */
  async recoverInFlight(olderThanMs: number = IN_FLIGHT_GRACE_MS): Promise<number> {
    const cutoff = this.ctx.now - olderThanMs;
    let count = 0;
    for (const attempt of await this.ctx.deps.store.reads.attemptsInFlight(cutoff, 100)) {
      const intent = await this.ctx.deps.store.reads.intent(attempt.merchantId, attempt.intentId);
      if (!intent || intent.status !== 'PENDING' || intent.latestAttemptId !== attempt.id) continue;
      const recovered = attempt.paymentMethod.type === 'wallet'
        ? await this.wallet.recoverWalletAttempt(intent, attempt)
        : await this.card.recoverCardAttempt(intent, attempt);
      if (recovered) count++;
    }
    for (const refund of await this.ctx.deps.store.reads.refundsInFlight(cutoff, 100)) {
      if (await this.refunds.recoverRefund(refund)) count++;
    }
    return count;
  }
}

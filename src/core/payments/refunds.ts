/**
 * Refunds: recorded as PROCESSING and committed, sent to the card network or
 * wallet, then settled with the answer (the refund journal posted on success).
 */
import { DomainError } from '../errors.ts';
import { uuid } from '../ids.ts';
import { refundEntries } from '../ledger/journal.ts';
import type { CommandHooks, CommandUnits } from './command.ts';
import { found, type PaymentsContext } from './context.ts';
import * as machine from './machine.ts';
import type { Page, PageRequest, RefundFilter } from './repository.ts';
import type { PaymentAttempt, Refund } from './types.ts';

export interface RefundInput {
  intentId: string;
  attemptId?: string;
  amount: number;
  reason: string;
  metadata?: Record<string, unknown> | null;
  /** Where the refund's notifications go (default: its intent's notify URL). */
  notifyUrl?: string | null;
}

export class Refunds {
  constructor(private readonly ctx: PaymentsContext) {}

  async createRefund(merchantId: string, input: RefundInput, hooks?: CommandHooks<Refund>): Promise<Refund> {
    const now = this.ctx.now;
    const refundId = this.ctx.deps.ids.next('RF');
    const units = this.ctx.units<Refund>(refundId, hooks);
    const requested = await units.unit(async (tx) => {
      const intent = await this.ctx.lockIntent(tx, merchantId, input.intentId);
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
        ...(input.notifyUrl ? { notifyUrl: input.notifyUrl } : {}),
      };
      const t = machine.requestRefund(intent, attempt, refund, now);
      await tx.insertRefund(t.refund);
      await tx.updateAttempt(t.attempt);
      await tx.appendEvents(this.ctx.events(t.emits, intent, t.attempt, t.refund, now));
      return t;
    });
    const ok = await this.sendRefund(requested.attempt, requested.refund);
    return this.settleRefund(units, merchantId, requested.refund.id, ok);
  }

  /** A refund a crash left in flight is re-sent (the network dedupes by refund id) and settled; false when its attempt is gone. */
  async recoverRefund(refund: Refund): Promise<boolean> {
    const attempt = await this.ctx.deps.store.reads.attempt(refund.merchantId, refund.attemptId);
    if (!attempt) return false;
    await this.settleRefund(this.ctx.internal(refund.id), refund.merchantId, refund.id, await this.sendRefund(attempt, refund));
    return true;
  }

  async getRefund(merchantId: string, id: string): Promise<Refund> {
    return found(await this.ctx.deps.store.reads.refund(merchantId, id), 'refund', id);
  }

  listRefunds(merchantId: string, filter: RefundFilter, page: PageRequest): Promise<Page<Refund>> {
    return this.ctx.deps.store.reads.listRefunds(merchantId, filter, page);
  }

  private async settleRefund(units: CommandUnits<Refund>, merchantId: string, refundId: string, ok: boolean): Promise<Refund> {
    const now = this.ctx.now;
    return units.settle(async (tx) => {
      const refund = await tx.refund(merchantId, refundId);
      if (!refund) throw DomainError.notFound('refund', refundId);
      const intent = await this.ctx.lockIntent(tx, merchantId, refund.intentId);
      if (refund.status !== 'PROCESSING') return refund;
      const attempt = (await tx.attempt(merchantId, refund.attemptId))!;
      const t = machine.refundSettled(attempt, refund, ok, ok ? null : 'processing_error', now);
      await tx.updateRefund(t.refund);
      if (!ok) await tx.updateAttempt(t.attempt);
      else await tx.post({ id: uuid(), merchantId, sourceId: refund.id, entries: refundEntries(refund.amount, refund.currency) }, now);
      await tx.appendEvents(this.ctx.events(t.emits, intent, t.attempt, t.refund, now));
      return t.refund;
    });
  }

  private async sendRefund(attempt: PaymentAttempt, refund: Refund): Promise<boolean> {
    const amount = { amount: refund.amount, currency: refund.currency };
    try {
      if (attempt.paymentMethod.type === 'wallet') await this.ctx.deps.wallets.refund(attempt.id, refund.id, amount);
      else await this.ctx.deps.cardNetwork.refund(attempt.id, refund.id, amount);
      return true;
    } catch {
      return false;
    }
  }
}

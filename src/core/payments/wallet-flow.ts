/**
 * Wallet payments: a QR code, pay page or SDK parameters the shopper pays
 * through in the wallet app, or a charge of the shopper's payment code whose
 * payer may still be confirming (settled later by asking the wallet).
 */
import { DomainError, isDomainError } from '../errors.ts';
import { uuid } from '../ids.ts';
import type { PaymentCodeResult } from '../ports.ts';
import type { IntentView, PaymentsContext, Settle, Units } from './context.ts';
import * as machine from './machine.ts';
import type { PaymentAttempt, PaymentIntent } from './types.ts';

/** A wallet's answer to a charge, or the platform's own refusal of an order the provider will not take. */
type ChargeAnswer = PaymentCodeResult | { outcome: 'declined'; failureCode: string };

export class WalletFlow {
  constructor(private readonly ctx: PaymentsContext) {}

  /** A QR code / pay page for the shopper, or a charge of the shopper's payment code. */
  async proceedWallet(units: Units, intent: PaymentIntent, attempt: PaymentAttempt, paymentCode: string | undefined): Promise<IntentView> {
    if (attempt.paymentMethod.type !== 'wallet') throw new Error('wallet attempt expected');
    const { kind, flow } = attempt.paymentMethod.wallet;
    const amount = { amount: attempt.amount, currency: attempt.currency };
    const charge = attempt.wallet!;
    const shopperAmount = { amount: charge.shopperAmount, currency: charge.shopperCurrency };
    if (flow === 'payment_code') {
      const request = { reference: attempt.id, merchantId: intent.merchantId, wallet: kind, code: paymentCode!, amount, shopperAmount };
      // An order the provider will not take is never charged.
      const result: ChargeAnswer = charge.refusal
        ? { outcome: 'declined', failureCode: charge.refusal }
        : await this.ctx.deps.wallets.chargePaymentCode(request);
      return this.applyWalletCharge(this.ctx.ownCopies(units, intent, attempt), result, charge);
    }
    const order = await this.ctx.deps.wallets.createOrder({
      reference: attempt.id,
      merchantId: intent.merchantId,
      wallet: kind,
      flow,
      amount,
      shopperAmount,
      expiresAt: intent.expiresAt,
      ...(intent.returnUrl ? { returnUrl: intent.returnUrl } : {}),
    });
    const now = this.ctx.now;
    const nextAction: machine.IntentTransition['intent']['nextAction'] =
      flow === 'qrcode'
        ? { type: 'display_qr_code', qrCode: order.qrContent, qrCodeUrl: order.payUrl, expiresAt: intent.expiresAt }
        : flow === 'web'
          ? { type: 'redirect_to_url', url: order.payUrl, returnUrl: intent.returnUrl ?? '' }
          : { type: 'sdk_params', url: order.payUrl, params: order.sdkParams };
    return this.ctx.ownCopies(units, intent, attempt)(async (tx, current, stored) => {
      const t = machine.requireCustomerAction(current, stored, { walletToken: order.token, wallet: { ...charge, expiresAt: current.expiresAt } }, nextAction, now);
      return { intent: await this.ctx.save(tx, t, null, now), attempt: t.attempt! };
    });
  }

  /** The shopper scanned the QR code (or opened the pay page) and paid or declined in the wallet app. */
  async completeWalletPayment(token: string, action: 'pay' | 'decline'): Promise<IntentView> {
    const now = this.ctx.now;
    return this.ctx.deps.store.unit(async (tx) => {
      const found = await tx.attemptByWalletToken(token);
      if (!found) throw DomainError.notFound('wallet order', token);
      const intent = await this.ctx.lockIntent(tx, found.merchantId, found.intentId);
      const attempt = (await tx.attempt(found.merchantId, found.id))!;
      // A code still waiting for its payer, or expired by the sweep, is refused as expired once past its time.
      const unpaid = attempt.status === 'AUTHENTICATION_REDIRECTED' || attempt.status === 'EXPIRED';
      if (unpaid && attempt.wallet?.expiresAt !== undefined && now >= attempt.wallet.expiresAt) {
        throw DomainError.invalidState('the QR code has expired', 'qr_code_expired');
      }
      const t =
        action === 'pay' && attempt.wallet?.refusal
          ? machine.declined(intent, attempt, attempt.wallet.refusal, null, now)
          : action === 'pay'
          ? machine.walletPaid(intent, attempt, { ...attempt.wallet!, walletTransactionId: uuid().replace(/-/g, '') }, now)
          : machine.declined(intent, attempt, 'payment_declined_by_payer', null, now);
      await this.ctx.save(tx, t, null, now);
      return { intent: t.intent, attempt: t.attempt! };
    });
  }

  /**
   * The intent behind a wallet order and the attempt that order belongs to
   * (which may no longer be the intent's latest: an old QR code after a
   * decline and a new confirm), for the hosted pay page.
   */
  async walletContext(token: string): Promise<IntentView | null> {
    return this.ctx.viewOf(await this.ctx.deps.store.reads.attemptByWalletToken(token));
  }

  /** Settles one pending wallet attempt if the wallet has an answer; true when it changed. */
  async settleWalletAttempt(attempt: PaymentAttempt): Promise<boolean> {
    if (attempt.status !== 'PENDING_AUTHORIZATION' || attempt.paymentMethod.type !== 'wallet') return false;
    const reason = attempt.wallet?.pendingReason;
    // Pending since the attempt was last written (when the charge was found pending).
    const result = await this.ctx.deps.wallets.settle(attempt.id, this.ctx.now, reason ? { reason, since: attempt.updatedAt } : undefined);
    if (!result || result.outcome === 'pending') return false;
    return this.ctx.applyLateAnswer(attempt, (settle) => this.applyWalletCharge(settle, result, attempt.wallet!));
  }

  /**
   * A wallet attempt a crash left behind. A payment code the wallet may have
   * charged is asked about (settled when the wallet answers); a QR code or
   * pay page whose order was never recorded reached no shopper, so the
   * attempt fails and the merchant can confirm again.
   */
  async recoverWalletAttempt(intent: PaymentIntent, attempt: PaymentAttempt): Promise<boolean> {
    if (attempt.paymentMethod.type !== 'wallet') return false;
    if (attempt.status === 'PENDING_AUTHORIZATION') return this.settleWalletAttempt(attempt);
    if (attempt.status !== 'INITIATED') return false;
    const { flow } = attempt.paymentMethod.wallet;
    try {
      const charge = attempt.wallet!;
      const result: PaymentCodeResult | null =
        flow === 'payment_code' ? await this.ctx.deps.wallets.settle(attempt.id, this.ctx.now) : { outcome: 'declined', failureCode: 'processing_error' };
      if (!result) return false;
      await this.applyWalletCharge(this.ctx.storedRows(this.ctx.internal(intent.id), intent, attempt), result, charge);
      return true;
    } catch (error) {
      if (isDomainError(error)) return false;
      throw error;
    }
  }

  private async applyWalletCharge(settle: Settle, result: ChargeAnswer, charge: machine.WalletChargeInput): Promise<IntentView> {
    const now = this.ctx.now;
    return settle(async (tx, current, stored) => {
      let t: machine.IntentTransition;
      if (result.outcome === 'paid') t = machine.walletPaid(current, stored, { ...charge, walletTransactionId: result.walletTransactionId }, now);
      else if (result.outcome === 'pending') t = stored.status === 'INITIATED' ? machine.awaitingPayer(current, stored, { ...charge, pendingReason: result.reason }, now) : { intent: current, attempt: stored, emits: [] };
      else t = machine.declined(current, stored, result.failureCode, null, now);
      return { intent: await this.ctx.save(tx, t, null, now), attempt: t.attempt ?? stored };
    });
  }
}

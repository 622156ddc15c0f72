/**
 * The simulated wallet apps (Alipay, WeChat Pay, UnionPay QR, ...).
 *
 * Merchant-presented: an order gets a token; its QR code encodes the hosted
 * pay page, where a person (or POST /sim/v1/wallet/scan) pays or declines as
 * the wallet app would. Customer-presented: the shopper's payment code decides
 * the outcome by its last four digits (PAYMENT_CODE_OUTCOMES), so tests can
 * ask for every case. A pending charge settles as paid once its delay has
 * passed since it was made, reckoned from the platform's record of it, so any
 * node answers alike; one with no record of its pending state (its charge's
 * answer was lost in a crash) is taken as confirmed by the payer.
 */
import { randomUUID } from 'node:crypto';
import { secureRandomBytes } from '../../core/ids.ts';
import type { Money } from '../../core/money.ts';
import type { PaymentCodeRequest, PaymentCodeResult, PendingReason, WalletKind, WalletOrder, WalletOrderRequest, Wallets } from '../../core/ports.ts';

export interface PaymentCodeOutcome {
  suffix: string;
  result: 'paid' | 'pending' | 'declined';
  /** Pending: seconds of platform time until the payer has confirmed. */
  confirmAfterSeconds?: number;
  pendingReason?: PendingReason;
  failureCode?: 'insufficient_balance' | 'invalid_payment_code' | 'payment_code_expired' | 'processing_error';
  description: string;
}

/** Outcomes by a payment code's last four digits; any other valid code is paid at once. */
export const PAYMENT_CODE_OUTCOMES: readonly PaymentCodeOutcome[] = [
  { suffix: '1143', result: 'pending', pendingReason: 'payer_confirming', confirmAfterSeconds: 10, description: 'payer is entering the password; paid 10 s later' },
  { suffix: '1145', result: 'pending', pendingReason: 'processing', confirmAfterSeconds: 5, description: 'wallet still processing; paid 5 s later' },
  { suffix: '1201', result: 'declined', failureCode: 'insufficient_balance', description: 'insufficient balance' },
  { suffix: '1202', result: 'declined', failureCode: 'invalid_payment_code', description: 'invalid payment code' },
  { suffix: '2005', result: 'declined', failureCode: 'payment_code_expired', description: 'payment code expired' },
  { suffix: '1205', result: 'declined', failureCode: 'processing_error', description: 'wallet system error' },
];

/** What an app / JSAPI / mini-program flow hands the wallet SDK, per wallet family. */
function sdkParams(wallet: WalletKind, token: string, shopper: Money, now: number): Record<string, string> {
  const nonce = secureRandomBytes(12).toString('hex');
  const timeStamp = String(Math.floor(now / 1000));
  if (wallet === 'wechatpay') {
    return { appId: 'wxsandbox0000000000', timeStamp, nonceStr: nonce, package: `prepay_id=${token}`, signType: 'RSA', paySign: secureRandomBytes(32).toString('base64') };
  }
  return { orderStr: `sandbox_order=${token}&total_amount=${shopper.amount}&currency=${shopper.currency}`, tradeNO: token, nonce };
}

/** How long a pending charge of this kind takes to be confirmed (PAYMENT_CODE_OUTCOMES). */
function confirmAfterMs(reason: PendingReason): number {
  return (PAYMENT_CODE_OUTCOMES.find((o) => o.pendingReason === reason)?.confirmAfterSeconds ?? 0) * 1000;
}

interface PendingCharge {
  readyAt: number;
  walletKind: WalletKind;
  reason: PendingReason;
}

/** How many refund ids the wallets remember, to recognise a retried refund. */
const RECENT_REFUNDS = 10_000;

export class SimWallets implements Wallets {
  private readonly pending = new Map<string, PendingCharge>();
  private readonly refunds = new Map<string, number>();

  constructor(private readonly opts: { payUrl: (token: string) => string; now: () => number }) {}

  async createOrder(req: WalletOrderRequest): Promise<WalletOrder> {
    const token = secureRandomBytes(18).toString('base64url');
    const payUrl = this.opts.payUrl(token);
    return { token, qrContent: payUrl, payUrl, sdkParams: sdkParams(req.wallet, token, req.shopperAmount, this.opts.now()) };
  }

  async chargePaymentCode(req: PaymentCodeRequest): Promise<PaymentCodeResult> {
    const kind = req.wallet ?? 'alipaycn';
    const outcome = PAYMENT_CODE_OUTCOMES.find((o) => req.code.endsWith(o.suffix));
    if (!outcome) return { outcome: 'paid', wallet: kind, walletTransactionId: randomUUID().replace(/-/g, '') };
    if (outcome.result === 'declined') return { outcome: 'declined', failureCode: outcome.failureCode! };
    this.pending.set(req.reference, { readyAt: this.opts.now() + outcome.confirmAfterSeconds! * 1000, walletKind: kind, reason: outcome.pendingReason! });
    return { outcome: 'pending', wallet: kind, reason: outcome.pendingReason! };
  }

  async settle(reference: string, now: number, pending?: { reason: PendingReason; since: number }): Promise<PaymentCodeResult | null> {
    const p = this.pending.get(reference);
    const readyAt = p?.readyAt ?? (pending ? pending.since + confirmAfterMs(pending.reason) : undefined);
    const reason = p?.reason ?? pending?.reason;
    if (readyAt !== undefined && reason !== undefined && now < readyAt) return { outcome: 'pending', wallet: p?.walletKind ?? 'alipaycn', reason };
    this.pending.delete(reference);
    return { outcome: 'paid', wallet: p?.walletKind ?? 'alipaycn', walletTransactionId: randomUUID().replace(/-/g, '') };
  }

  /** Pre-authorizations: what was captured of each freeze, or that it was released. */
  private readonly freezes = new Map<string, { captured: number } | 'released'>();

  async capture(reference: string, amount: Money): Promise<void> {
    const previous = this.freezes.get(reference);
    if (previous === 'released') throw new Error(`freeze ${reference} was released`);
    if (previous && previous.captured !== amount.amount) throw new Error(`freeze ${reference} was already captured for another amount`);
    this.freezes.set(reference, { captured: amount.amount });
  }

  async release(reference: string): Promise<void> {
    if (typeof this.freezes.get(reference) === 'object') throw new Error(`freeze ${reference} was captured`);
    this.freezes.set(reference, 'released');
  }

  async refund(_reference: string, refundId: string, amount: Money): Promise<void> {
    const previous = this.refunds.get(refundId);
    if (previous !== undefined && previous !== amount.amount) throw new Error(`refund ${refundId} was already made for another amount`);
    this.refunds.set(refundId, amount.amount);
    // A retried refund comes soon after the first: the latest ones are enough, and memory stays bounded.
    if (this.refunds.size > RECENT_REFUNDS) this.refunds.delete(this.refunds.keys().next().value!);
  }
}

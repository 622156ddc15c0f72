/**
 * Payments waiting for a shopper, for the dashboard's sandbox page: a QR
 * code or pay page not yet paid in the wallet app, a 3DS challenge not yet
 * finished, a payment code the payer is still confirming.
 */
import type { Store } from './store.ts';

export type WaitKind = 'wallet' | 'challenge' | 'payment_code';

export interface ShopperWait {
  attemptId: string;
  intentId: string;
  merchantId: string;
  amount: number;
  currency: string;
  kind: WaitKind;
  /** The wallet's kind (alipaycn, ...), or "card". */
  method: string;
  /** The wallet order token (wallet) or challenge id (challenge) the simulator commands take; null for a payment code. */
  reference: string | null;
  createdAt: number;
}

const WAITING = ['AUTHENTICATION_REDIRECTED', 'PENDING_AUTHORIZATION'];

export class ShopperWaits {
  constructor(private readonly store: Store) {}

  /** The newest `limit` waits of `merchantIds`, newest first. */
  async list(merchantIds: string[], limit = 50): Promise<ShopperWait[]> {
    return this.find(merchantIds, undefined, limit);
  }

  /** One wait by attempt id, if it belongs to one of `merchantIds` and still waits. */
  async one(merchantIds: string[], attemptId: string): Promise<ShopperWait | null> {
    return (await this.find(merchantIds, attemptId, 1))[0] ?? null;
  }

  private async find(merchantIds: string[], attemptId: string | undefined, limit: number): Promise<ShopperWait[]> {
    if (!merchantIds.length) return [];
    let q = this.store.read
      .selectFrom('payment_attempts')
      .select(['id', 'intent_id', 'merchant_id', 'amount', 'currency', 'status', 'payment_method', 'three_ds_challenge_id', 'wallet_token', 'created_at'])
      .where('merchant_id', 'in', merchantIds)
      .where('status', 'in', WAITING);
    if (attemptId !== undefined) q = q.where('id', '=', attemptId);
    const rows = await q.orderBy('created_at', 'desc').orderBy('id', 'desc').limit(limit).execute();
    return rows.flatMap((r): ShopperWait[] => {
      const method = JSON.parse(r.payment_method) as { type: string; wallet?: { kind: string } };
      const kind: WaitKind | null =
        r.status === 'AUTHENTICATION_REDIRECTED'
          ? r.three_ds_challenge_id
            ? 'challenge'
            : r.wallet_token
              ? 'wallet'
              : null
          : method.type === 'wallet'
            ? 'payment_code'
            : null;
      if (!kind) return [];
      return [
        {
          attemptId: r.id,
          intentId: r.intent_id,
          merchantId: r.merchant_id,
          amount: Number(r.amount),
          currency: r.currency,
          kind,
          method: method.wallet?.kind ?? 'card',
          reference: kind === 'challenge' ? r.three_ds_challenge_id : kind === 'wallet' ? r.wallet_token : null,
          createdAt: Number(r.created_at),
        },
      ];
    });
  }
}

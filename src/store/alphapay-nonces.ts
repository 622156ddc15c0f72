/**
 * Nonces AlphaPay requests were signed with, per merchant, kept in the
 * database so a nonce is refused on a second use on any node sharing it.
 */
import type { Store } from './store.ts';

export interface NonceLedger {
  /** Records the nonce until `expiresAt`; false when the merchant used it before (and it has not expired). */
  claim(merchantId: string, nonce: string, expiresAt: number, now: number): Promise<boolean>;
  /** Forgets nonces past their expiry. */
  purgeExpired(now: number): Promise<number>;
}

export function nonceLedger(store: Store): NonceLedger {
  return {
    async claim(merchantId, nonce, expiresAt, now) {
      return store.unit(async (db) => {
        // A nonce kept past its expiry no longer counts: a purge may not have run yet.
        await db.deleteFrom('alphapay_nonces').where('merchant_id', '=', merchantId).where('nonce', '=', nonce).where('expires_at', '<', now).execute();
        const rows = await db
          .insertInto('alphapay_nonces')
          .values({ merchant_id: merchantId, nonce, expires_at: expiresAt })
          .onConflict((oc) => oc.columns(['merchant_id', 'nonce']).doNothing())
          .returning('nonce')
          .execute();
        return rows.length > 0;
      });
    },
    async purgeExpired(now) {
      const r = await store.unit((db) => db.deleteFrom('alphapay_nonces').where('expires_at', '<', now).executeTakeFirst());
      return Number(r.numDeletedRows);
    },
  };
}

/**
 * Provider-level references that must be unique per merchant (QFPay
 * out_trade_no across payments and refunds), looked up by reference. They
 * are reserved inside the unit of work that creates their object (see
 * request-guards.ts).
 */
import type { Store } from './store.ts';

export interface ReferenceRepository {
  /** Object ids by reference, for the references that exist. */
  find(merchantId: string, scope: string, references: string[]): Promise<Map<string, string>>;
}

export function referenceRepository(store: Store): ReferenceRepository {
  return {
    async find(merchantId, scope, references) {
      if (references.length === 0) return new Map();
      const rows = await store.read
        .selectFrom('merchant_references')
        .select(['reference', 'object_id'])
        .where('merchant_id', '=', merchantId)
        .where('scope', '=', scope)
        .where('reference', 'in', references)
        .execute();
      return new Map(rows.map((r) => [r.reference, r.object_id]));
    },
  };
}

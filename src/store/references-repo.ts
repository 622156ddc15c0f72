/**
 * Provider-level references that must be unique per merchant (QFPay
 * out_trade_no across payments and refunds). Uniqueness comes from the
 * primary key of merchant_references: a reference is claimed by inserting it,
 * never by reading first, so two concurrent requests cannot both win.
 */
import type { Store } from './store.ts';

export interface ReferenceRepository {
  /**
   * Claims `reference` for `objectId`; false when the merchant already used
   * it in this scope. One statement: INSERT ... ON CONFLICT DO NOTHING.
   */
  claim(merchantId: string, scope: string, reference: string, objectId: string, now: number): Promise<boolean>;
  /** Points a claimed reference at the object finally created for it. */
  bind(merchantId: string, scope: string, reference: string, fromObjectId: string, toObjectId: string): Promise<void>;
  /** Gives a claim back (nothing was created for it); only while it still points at `objectId`. */
  release(merchantId: string, scope: string, reference: string, objectId: string): Promise<void>;
  /** Object ids by reference, for the references that exist. */
  find(merchantId: string, scope: string, references: string[]): Promise<Map<string, string>>;
}

export function referenceRepository(store: Store): ReferenceRepository {
  return {
    async claim(merchantId, scope, reference, objectId, now) {
      const inserted = await store.unit((db) =>
        db
          .insertInto('merchant_references')
          .values({ merchant_id: merchantId, scope, reference, object_id: objectId, created_at: now })
          .onConflict((oc) => oc.columns(['merchant_id', 'scope', 'reference']).doNothing())
          .returning('reference')
          .executeTakeFirst(),
      );
      return inserted !== undefined;
    },
    async bind(merchantId, scope, reference, fromObjectId, toObjectId) {
      await store.unit((db) =>
        db
          .updateTable('merchant_references')
          .set({ object_id: toObjectId })
          .where('merchant_id', '=', merchantId)
          .where('scope', '=', scope)
          .where('reference', '=', reference)
          .where('object_id', '=', fromObjectId)
          .execute(),
      );
    },
    async release(merchantId, scope, reference, objectId) {
      await store.unit((db) =>
        db
          .deleteFrom('merchant_references')
          .where('merchant_id', '=', merchantId)
          .where('scope', '=', scope)
          .where('reference', '=', reference)
          .where('object_id', '=', objectId)
          .execute(),
      );
    },
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

/**
 * The simulated card network's records (migration 009), in the platform's
 * database. Each write is a small unit of its own: the network plays an
 * outside party and never joins a payments transaction. An authorization
 * costs one insert (batched with others by SQLite's group commit).
 */
import type { Money } from '../core/money.ts';
import type { AuthorizationResult } from '../core/ports.ts';
import type { CardNetworkRecords, NetworkAuthorization } from '../network/sim/card-network.ts';
import { prepared } from './compiled.ts';
import type { SimCardAuthorizationTable } from './schema.ts';
import type { Store } from './store.ts';

const insertAuthorization = prepared<{ reference: string }>('sim network add', (db, p) =>
  db
    .insertInto('sim_card_authorizations')
    .values({
      reference: p('reference'),
      result: p('result'),
      answer_at: p('answer_at'),
      amount: p('amount'),
      currency: p('currency'),
      captured_amount: p('captured_amount'),
      voided: p('voided'),
      refunded_amount: p('refunded_amount'),
      refunds: p('refunds'),
      created_at: p('created_at'),
    })
    .onConflict((oc) => oc.column('reference').doNothing())
    .returning('reference'),
);

const selectAuthorization = prepared<SimCardAuthorizationTable>('sim network find', (db, p) =>
  db.selectFrom('sim_card_authorizations').selectAll().where('reference', '=', p('reference')),
);

function toRow(reference: string, a: NetworkAuthorization): SimCardAuthorizationTable {
  return {
    reference,
    result: a.result ? JSON.stringify(a.result) : null,
    answer_at: a.answerAt,
    amount: a.amount?.amount ?? null,
    currency: a.amount?.currency ?? null,
    captured_amount: a.captured,
    voided: a.voided ? 1 : 0,
    refunded_amount: a.refunded,
    refunds: Object.keys(a.refunds).length ? JSON.stringify(a.refunds) : null,
    created_at: a.createdAt,
  };
}

function toAuthorization(r: SimCardAuthorizationTable): NetworkAuthorization {
  const amount: Money | null = r.amount === null || r.currency === null ? null : { amount: Number(r.amount), currency: r.currency };
  return {
    result: r.result ? (JSON.parse(r.result) as AuthorizationResult) : null,
    answerAt: r.answer_at === null ? null : Number(r.answer_at),
    amount,
    captured: r.captured_amount === null ? null : Number(r.captured_amount),
    voided: Number(r.voided) === 1,
    refunded: Number(r.refunded_amount),
    refunds: r.refunds ? (JSON.parse(r.refunds) as Record<string, number>) : {},
    createdAt: Number(r.created_at),
  };
}

export function simCardNetworkRecords(store: Store): CardNetworkRecords {
  return {
    add(reference, auth) {
      return store.unit(async (db) => {
        const row = toRow(reference, auth);
        const [inserted] = await insertAuthorization.execute(db, row as unknown as Record<string, unknown>);
        if (inserted) return auth;
        const [existing] = await selectAuthorization.execute(db, { reference });
        return toAuthorization(existing!);
      });
    },

    async find(reference) {
      const [row] = await selectAuthorization.execute(store.read, { reference });
      return row ? toAuthorization(row) : null;
    },

    change(reference, change) {
      return store.unit(async (db) => {
        let q = db.selectFrom('sim_card_authorizations').selectAll().where('reference', '=', reference);
        if (store.rowLocks) q = q.forUpdate();
        const row = await q.executeTakeFirst();
        if (!row) return false;
        const next = change(toAuthorization(row));
        if (next) {
          const { reference: _r, created_at: _c, ...values } = toRow(reference, next);
          await db.updateTable('sim_card_authorizations').set(values).where('reference', '=', reference).execute();
        }
        return true;
      });
    },

    async purge(before, limit) {
      const r = await store.unit((db) =>
        db
          .deleteFrom('sim_card_authorizations')
          .where('reference', 'in', db.selectFrom('sim_card_authorizations').select('reference').where('created_at', '<', before).limit(limit))
          .executeTakeFirst(),
      );
      return Number(r.numDeletedRows);
    },
  };
}

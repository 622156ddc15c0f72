/**
 * The records that guard a merchant's request, written inside whichever unit
 * of work the caller is in: idempotency keys (UQPAY x-idempotency-key) and
 * provider references that must be unique per merchant (QFPay out_trade_no
 * across payments and refunds). Both are claimed by inserting, never by
 * reading first: the primary key decides which of two concurrent requests
 * wins.
 */
import type { IdempotencyKey, KeyClaim } from '../core/payments/command.ts';
import { prepared } from './compiled.ts';
import type { Db } from './store.ts';

const insertKey = prepared<{ key: string }>('idempotency claim', (db, p) =>
  db
    .insertInto('idempotency_keys')
    .values({
      merchant_id: p('merchant_id'),
      scope: p('scope'),
      key: p('key'),
      request_hash: p('request_hash'),
      state: 'processing',
      response_status: null,
      response_body: null,
      created_at: p('created_at'),
      expires_at: p('expires_at'),
      subject_id: p('subject_id'),
    })
    .onConflict((oc) => oc.columns(['merchant_id', 'scope', 'key']).doNothing())
    .returning('key'),
);

const selectKey = prepared<{
  request_hash: string;
  state: string;
  response_status: number | null;
  response_body: string | null;
  created_at: number;
  expires_at: number;
  subject_id: string | null;
}>('idempotency find', (db, p) =>
    db
      .selectFrom('idempotency_keys')
      .select(['request_hash', 'state', 'response_status', 'response_body', 'created_at', 'expires_at', 'subject_id'])
      .where('merchant_id', '=', p('merchant_id'))
      .where('scope', '=', p('scope'))
      .where('key', '=', p('key')),
);

const renewKey = prepared('idempotency renew', (db, p) =>
  db
    .updateTable('idempotency_keys')
    .set({ request_hash: p('request_hash'), state: 'processing', response_status: null, response_body: null, created_at: p('created_at'), expires_at: p('expires_at'), subject_id: p('subject_id') })
    .where('merchant_id', '=', p('merchant_id'))
    .where('scope', '=', p('scope'))
    .where('key', '=', p('key')),
);

const storeResponse = prepared('idempotency complete', (db, p) =>
  db
    .updateTable('idempotency_keys')
    .set({ state: 'done', response_status: p('status'), response_body: p('body') })
    .where('merchant_id', '=', p('merchant_id'))
    .where('scope', '=', p('scope'))
    .where('key', '=', p('key'))
    .where('state', '=', 'processing'),
);

const keyColumns = (k: IdempotencyKey) => ({ merchant_id: k.merchantId, scope: k.scope, key: k.key, request_hash: k.requestHash });

/**
 * Claims the key for this request (state processing) on behalf of the object
 * it works on, or says why not: its stored response, another body, or still
 * running.
 */
export async function claimKey(db: Db, k: IdempotencyKey, now: number, subjectId: string | null): Promise<KeyClaim> {
  const values = { ...keyColumns(k), created_at: now, expires_at: k.expiresAt, subject_id: subjectId };
  const [inserted] = await insertKey.execute(db, values);
  if (inserted) return { kind: 'new' };
  const [row] = await selectKey.execute(db, values);
  if (!row || Number(row.expires_at) <= now) {
    // Expired keys are purged in the background; until then one is as good as new.
    await renewKey.run(db, values);
    return { kind: 'new' };
  }
  if (row.request_hash !== k.requestHash) return { kind: 'mismatch' };
  if (row.state !== 'done') return { kind: 'processing', subjectId: row.subject_id, claimedAt: Number(row.created_at) };
  return { kind: 'replay', status: Number(row.response_status), body: row.response_body ?? '' };
}

/**
 * Stores the response a key still processing answers with from now on: the
 * key this request claimed, or one whose request died mid-way. False when the
 * key is no longer processing (another request settled it first).
 */
export async function completeKey(db: Db, k: IdempotencyKey, status: number, body: string): Promise<boolean> {
  return (await storeResponse.run(db, { ...keyColumns(k), status, body })) > 0;
}

/** completeKey sent without waiting where the unit can (see compiled.ts): then true without knowing. */
export async function sendCompleteKey(db: Db, k: IdempotencyKey, status: number, body: string): Promise<boolean> {
  const changed = await storeResponse.send(db, { ...keyColumns(k), status, body });
  return changed === null || changed > 0;
}

const insertReference = prepared<{ reference: string }>('reference reserve', (db, p) =>
  db
    .insertInto('merchant_references')
    .values({ merchant_id: p('merchant_id'), scope: p('scope'), reference: p('reference'), object_id: p('object_id'), created_at: p('created_at') })
    .onConflict((oc) => oc.columns(['merchant_id', 'scope', 'reference']).doNothing())
    .returning('reference'),
);

/** Reserves `reference` for `objectId`; false when this merchant already used it in this scope. */
export async function reserveReference(db: Db, merchantId: string, scope: string, reference: string, objectId: string, now: number): Promise<boolean> {
  const rows = await insertReference.execute(db, { merchant_id: merchantId, scope, reference, object_id: objectId, created_at: now });
  return rows.length > 0;
}

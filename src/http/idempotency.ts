/**
 * Idempotency at the edge: the first request with a key claims it; a repeat
 * with the same body gets the stored response, a repeat with another body is
 * refused, and a repeat while the first is still running is told so.
 */
import { createHash } from 'node:crypto';
import type { Clock } from '../core/clock.ts';
import { prepared } from '../store/compiled.ts';
import type { Store } from '../store/store.ts';

export const IDEMPOTENCY_TTL_MS = 24 * 60 * 60 * 1000;

export type Claim =
  | { kind: 'new' }
  | { kind: 'replay'; status: number; body: string }
  | { kind: 'mismatch' }
  | { kind: 'processing' };

export const requestHash = (method: string, url: string, body: string): string =>
  createHash('sha256').update(method).update('\n').update(url).update('\n').update(body).digest('hex');

// The two statements every idempotent request runs, compiled once (see store/compiled.ts).
const insertClaim = prepared<{ key: string }>('idempotency claim', (db, p) =>
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
    })
    .onConflict((oc) => oc.columns(['merchant_id', 'scope', 'key']).doNothing())
    .returning('key'),
);

const storeResponse = prepared('idempotency complete', (db, p) =>
  db
    .updateTable('idempotency_keys')
    .set({ state: 'done', response_status: p('status'), response_body: p('body') })
    .where('merchant_id', '=', p('merchant_id'))
    .where('scope', '=', p('scope'))
    .where('key', '=', p('key')),
);

export class IdempotencyKeys {
  constructor(private readonly store: Store, private readonly clock: Clock) {}

  claim(merchantId: string, scope: string, key: string, hash: string): Promise<Claim> {
    const now = this.clock.now();
    return this.store.unit(async (db) => {
      const [inserted] = await insertClaim.execute(db, { merchant_id: merchantId, scope, key, request_hash: hash, created_at: now, expires_at: now + IDEMPOTENCY_TTL_MS });
      if (inserted) return { kind: 'new' };
      const row = await db
        .selectFrom('idempotency_keys')
        .selectAll()
        .where('merchant_id', '=', merchantId)
        .where('scope', '=', scope)
        .where('key', '=', key)
        .executeTakeFirstOrThrow();
      if (Number(row.expires_at) <= now) {
        await db
          .updateTable('idempotency_keys')
          .set({ request_hash: hash, state: 'processing', response_status: null, response_body: null, created_at: now, expires_at: now + IDEMPOTENCY_TTL_MS })
          .where('merchant_id', '=', merchantId)
          .where('scope', '=', scope)
          .where('key', '=', key)
          .execute();
        return { kind: 'new' };
      }
      if (row.request_hash !== hash) return { kind: 'mismatch' };
      if (row.state !== 'done') return { kind: 'processing' };
      return { kind: 'replay', status: Number(row.response_status), body: row.response_body ?? '' };
    });
  }

  async complete(merchantId: string, scope: string, key: string, status: number, body: string): Promise<void> {
    await this.store.unit((db) => storeResponse.run(db, { status, body, merchant_id: merchantId, scope, key }));
  }

  /** The first request failed in a way worth retrying (a server error): free the key. */
  async release(merchantId: string, scope: string, key: string): Promise<void> {
    await this.store.unit((db) =>
      db.deleteFrom('idempotency_keys').where('merchant_id', '=', merchantId).where('scope', '=', scope).where('key', '=', key).where('state', '=', 'processing').execute(),
    );
  }

  async purgeExpired(): Promise<number> {
    const now = this.clock.now();
    const r = await this.store.unit((db) => db.deleteFrom('idempotency_keys').where('expires_at', '<=', now).executeTakeFirst());
    return Number(r.numDeletedRows);
  }
}

/**
 * Idempotency at the edge, for APIs that take an idempotency key: the first
 * request with a key claims it; a repeat with the same body gets the stored
 * response, a repeat with another body is refused, and a repeat while the
 * first is still running is told so.
 *
 * The claim and the stored response are written inside the command's own
 * units of work (see core/payments/command.ts): the claim with the first
 * thing the command records, the response with its outcome. A request that
 * fails before or outside those units settles its key in one unit of its own.
 */
import { createHmac, hash } from 'node:crypto';
import type { Clock } from '../core/clock.ts';
import type { CommandHooks, IdempotencyKey, KeyClaim } from '../core/payments/command.ts';
import { IN_FLIGHT_GRACE_MS } from '../core/payments/maintenance.ts';
import type { PaymentsTx } from '../core/payments/repository.ts';
import type { Db, Store } from '../store/store.ts';
import { claimKey, completeKey } from '../store/request-guards.ts';

export const IDEMPOTENCY_TTL_MS = 24 * 60 * 60 * 1000;
/**
 * A key still processing this long after its request began, whose object
 * has settled, belongs to a request that died mid-way (or lost a race with
 * recovery, and can no longer store an answer): recovery settles work in
 * flight for longer than IN_FLIGHT_GRACE_MS, at start, every few seconds and
 * when the sandbox clock is advanced. The wait covers the moment between a
 * command's units (a refused cancel records its refusal, then its error).
 */
export const ABANDONED_AFTER_MS = IN_FLIGHT_GRACE_MS;

/** Why a key cannot be used for this request: its stored response, another body, or a request still running. */
export type KeyTakenClaim = Exclude<KeyClaim, { kind: 'new' }>;

/** Thrown inside the command's first unit when its key is taken: the unit rolls back, nothing is recorded. */
export class KeyTaken extends Error {
  constructor(readonly claim: KeyTakenClaim) {
    super(`idempotency key ${claim.kind}`);
  }
}

/** The request's digest: what tells a repeat from another request under the same key. */
const requestDigest = (method: string, url: string, body: string): string => hash('sha256', `${method}\n${url}\n${body}`, 'hex');

/**
 * What is stored to recognise a request: its digest sealed with a server key.
 * A plain digest of a body that carries a card number and CVC could be
 * brute-forced back to them from the database (a CVC takes a thousand
 * guesses); without the key it cannot.
 */
const SEALED = 'v2:';
const seal = (key: Buffer, digest: string): string => SEALED + createHmac('sha256', key).update(digest).digest('hex');

/** One request under an idempotency key: the hooks its command runs, and how its key is settled afterwards. */
export class IdempotentRequest<O> implements CommandHooks<O> {
  private claimed = false;
  private text = '';
  private stored: string | null = null;

  constructor(
    private readonly store: Store,
    private readonly clock: Clock,
    private readonly key: IdempotencyKey,
    private readonly render: (outcome: O) => unknown,
  ) {}

  async begin(tx: PaymentsTx, subjectId: string): Promise<void> {
    const claim = await tx.claimKey(this.key, this.clock.now(), subjectId);
    if (claim.kind !== 'new') throw new KeyTaken(claim);
  }

  begun(): void {
    this.claimed = true;
  }

  async end(tx: PaymentsTx, outcome: O): Promise<void> {
    this.text = JSON.stringify(this.render(outcome));
    await tx.completeKey(this.key, 200, this.text);
  }

  ended(): void {
    this.stored = this.text;
  }

  /** The response body for the command's outcome, stored under the key (by the command's last unit, or now). */
  async succeeded(outcome: O): Promise<string> {
    if (this.stored !== null) return this.stored;
    const text = JSON.stringify(this.render(outcome));
    await this.storeResponse(200, text);
    return text;
  }

  /**
   * The answer for a key that another request left processing: when that
   * request died mid-way (see ABANDONED_AFTER_MS) and the object it worked on
   * has settled (`settled` returns it, or null while it is still in flight),
   * the object's state, stored under the key from now on. Null otherwise.
   */
  async recoverAbandoned(claim: KeyTakenClaim, settled: (subjectId: string) => Promise<O | null>): Promise<string | null> {
    if (claim.kind !== 'processing' || !claim.subjectId) return null;
    if (this.clock.now() - claim.claimedAt < ABANDONED_AFTER_MS) return null;
    const outcome = await settled(claim.subjectId);
    if (outcome === null) return null;
    const text = JSON.stringify(this.render(outcome));
    const stored = await this.store.unit((db) => completeKey(db, this.key, 200, text));
    return stored ? text : null;
  }

  /**
   * The command failed. After an error worth retrying (5xx: the database
   * away, a bug) nothing is stored: a key never claimed stays free, and a
   * key claimed with the command's first unit stays processing on behalf of
   * what that unit recorded. Freeing it would let a retry start a second
   * payment while the first (its authorization perhaps approved, its result
   * not recorded) is settled by recovery; so a retry is told the request is
   * processing until then, and gets the settled object after (see
   * recoverAbandoned). Any other error is stored as the key's response.
   * Returns the key's claim when the key turns out to belong to another
   * request.
   */
  async failed(status: number, body: string): Promise<KeyTakenClaim | null> {
    if (status >= 500) return null;
    return this.storeResponse(status, body);
  }

  /** Stores a response under the key in a unit of its own, claiming the key first unless this request holds it; the claim when another request does. */
  private storeResponse(status: number, body: string): Promise<KeyTakenClaim | null> {
    return this.store.unit(async (db) => {
      if (!this.claimed) {
        const claim = await claimKey(db, this.key, this.clock.now(), null);
        if (claim.kind !== 'new') return claim;
      }
      await completeKey(db, this.key, status, body);
      return null;
    });
  }
}

export class IdempotencyKeys {
  constructor(
    private readonly store: Store,
    private readonly clock: Clock,
    /** Seals request digests (see `seal`). */
    private readonly hashKey: Buffer,
  ) {}

  /** What is stored for a request to tell a repeat of it from another request. */
  requestHash(method: string, url: string, body: string): string {
    return seal(this.hashKey, requestDigest(method, url, body));
  }

  /**
   * Seals the plain digests earlier versions stored, so none is left to
   * brute-force and a repeat of such a request still matches. Runs at start.
   */
  async sealStoredDigests(): Promise<number> {
    let sealed = 0;
    for (;;) {
      const rows = await this.store.read
        .selectFrom('idempotency_keys')
        .select(['merchant_id', 'scope', 'key', 'request_hash'])
        .where('request_hash', 'not like', `${SEALED}%`)
        .limit(1000)
        .execute();
      if (rows.length === 0) return sealed;
      await this.store.unit(async (db: Db) => {
        for (const r of rows) {
          await db
            .updateTable('idempotency_keys')
            .set({ request_hash: seal(this.hashKey, r.request_hash) })
            .where('merchant_id', '=', r.merchant_id)
            .where('scope', '=', r.scope)
            .where('key', '=', r.key)
            .where('request_hash', '=', r.request_hash)
            .execute();
        }
      });
      sealed += rows.length;
    }
  }

  request<O>(merchantId: string, scope: string, key: string, hash: string, render: (outcome: O) => unknown): IdempotentRequest<O> {
    const expiresAt = this.clock.now() + IDEMPOTENCY_TTL_MS;
    return new IdempotentRequest(this.store, this.clock, { merchantId, scope, key, requestHash: hash, expiresAt }, render);
  }

  async purgeExpired(): Promise<number> {
    const now = this.clock.now();
    const r = await this.store.unit((db: Db) => db.deleteFrom('idempotency_keys').where('expires_at', '<=', now).executeTakeFirst());
    return Number(r.numDeletedRows);
  }
}

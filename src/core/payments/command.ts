/**
 * What a caller adds to a payments command's own units of work.
 *
 * A request guarded by an idempotency key or a provider order number must
 * claim it atomically with the first thing the command records, and an
 * idempotent request must store its response atomically with the command's
 * outcome. Doing that in separate transactions costs two extra commits per
 * request and leaves windows where a crash strands a claim. So the caller
 * hands the command hooks, and the command runs them inside its units:
 * `begin` first thing in its first unit, `end` in the unit that settles it.
 */
import type { PaymentsStore, PaymentsTx } from './repository.ts';

export interface CommandHooks<O> {
  /**
   * First thing in the command's first unit, with the id of the object the
   * command creates or changes. Throwing refuses the command: the unit rolls
   * back and nothing of the command is recorded.
   */
  begin?(tx: PaymentsTx, subjectId: string): Promise<void>;
  /** The unit `begin` ran in has committed. */
  begun?(): void;
  /** Last thing in the unit that settles the command, with its outcome. */
  end?(tx: PaymentsTx, outcome: O): Promise<void>;
  /** The unit `end` ran in has committed. */
  ended?(): void;
}

/** A merchant's idempotency key for one request: who, which API, the key, and the request it was first used with. */
export interface IdempotencyKey {
  merchantId: string;
  scope: string;
  key: string;
  requestHash: string;
  expiresAt: number;
}

export type KeyClaim =
  | { kind: 'new' }
  | { kind: 'replay'; status: number; body: string }
  | { kind: 'mismatch' }
  /** Still running, or died mid-way: `subjectId` is what it was working on, `claimedAt` when it began. */
  | { kind: 'processing'; subjectId: string | null; claimedAt: number };

/** The units of one command: hooks.begin joins its first unit that commits, hooks.end the unit that settles it. */
export class CommandUnits<O> {
  private begun = false;
  private ended = false;

  constructor(
    private readonly store: PaymentsStore,
    private readonly subjectId: string,
    private readonly hooks: CommandHooks<O> | undefined,
  ) {}

  /** A unit that records a step of the command. */
  async unit<T>(fn: (tx: PaymentsTx) => Promise<T>): Promise<T> {
    const begin = this.begun ? undefined : this.hooks?.begin;
    if (!begin) return this.store.unit(fn);
    const value = await this.store.unit(async (tx) => {
      await begin.call(this.hooks, tx, this.subjectId);
      return fn(tx);
    });
    this.begun = true;
    this.hooks?.begun?.();
    return value;
  }

  /**
   * The unit that settles the command; `outcome` picks the command's outcome
   * out of its result, or null when the command was refused (the unit commits
   * what it recorded of the refusal, and the caller settles the key with its
   * error).
   */
  async settle<T extends O>(fn: (tx: PaymentsTx) => Promise<T>): Promise<T>;
  async settle<T>(fn: (tx: PaymentsTx) => Promise<T>, outcome: (result: T) => O | null): Promise<T>;
  async settle<T>(fn: (tx: PaymentsTx) => Promise<T>, outcome: (result: T) => O | null = (r) => r as unknown as O): Promise<T> {
    const end = this.ended ? undefined : this.hooks?.end;
    if (!end) return this.unit(fn);
    let settled = false;
    const value = await this.unit(async (tx) => {
      const result = await fn(tx);
      const o = outcome(result);
      if (o !== null) {
        await end.call(this.hooks, tx, o);
        settled = true;
      }
      return result;
    });
    if (settled) {
      this.ended = true;
      this.hooks?.ended?.();
    }
    return value;
  }
}

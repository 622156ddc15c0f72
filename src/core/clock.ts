/** Time comes from an injected clock; nothing in the core calls Date.now(). */

/**
 * The providers' business time zone, UTC+08:00 (Singapore, Hong Kong): wire
 * times are written in it and a merchant's day runs from its midnight.
 */
export const BUSINESS_UTC_OFFSET_MS = 8 * 60 * 60 * 1000;

/** Same calendar day at UTC+08:00, the providers' business day. */
export function sameBusinessDay(a: number, b: number): boolean {
  const day = (ms: number) => Math.floor((ms + BUSINESS_UTC_OFFSET_MS) / 86_400_000);
  return day(a) === day(b);
}
export interface Clock {
  /** Milliseconds since the Unix epoch. */
  now(): number;
}

export const systemClock: Clock = { now: () => Date.now() };

/** Where the sandbox clock keeps its offset, so platform time survives restarts and is shared by the nodes of one database. */
export interface ClockOffsets {
  /** The stored offset in ms (0 when the clock was never moved). */
  load(): Promise<number>;
  /** Adds ms to the stored offset, durably, and answers the new offset. */
  add(ms: number): Promise<number>;
}

/**
 * Sandbox clock: real time plus an offset that only grows. Advancing it moves
 * every time-driven process (expiry, webhook retries) forward. With a store
 * for the offset, a restart carries on from the same platform time and
 * `sync` picks up what another node sharing the database advanced.
 */
export class AdjustableClock implements Clock {
  private offsetMs = 0;
  private readonly listeners: Array<() => Promise<void>> = [];

  constructor(
    private readonly base: Clock = systemClock,
    private readonly offsets?: ClockOffsets,
  ) {}

  now(): number {
    return this.base.now() + this.offsetMs;
  }

  get offsetSeconds(): number {
    return this.offsetMs / 1000;
  }

  /** Takes up the stored offset when it is ahead of this clock's (at start, and from other nodes). */
  async sync(): Promise<void> {
    if (!this.offsets) return;
    // Read the stored offset first, then compare with this clock's as it is now: an advance may have run meanwhile.
    const stored = await this.offsets.load();
    this.offsetMs = Math.max(this.offsetMs, stored);
  }

  /** Runs the listeners (expiry sweep, webhook relay) after the jump, so callers see the effects. */
  async advance(seconds: number): Promise<void> {
    if (!Number.isFinite(seconds) || seconds <= 0) throw new RangeError('seconds must be positive');
    const ms = Math.round(seconds * 1000);
    if (this.offsets) {
      const stored = await this.offsets.add(ms);
      this.offsetMs = Math.max(this.offsetMs, stored);
    } else {
      this.offsetMs += ms;
    }
    for (const listener of this.listeners) await listener();
  }

  onAdvance(listener: () => Promise<void>): void {
    this.listeners.push(listener);
  }
}

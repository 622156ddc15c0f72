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

/**
 * Sandbox clock: real time plus an offset that only grows. Advancing it moves
 * every time-driven process (expiry, webhook retries) forward.
 */
export class AdjustableClock implements Clock {
  private offsetMs = 0;
  private readonly listeners: Array<() => Promise<void>> = [];

  constructor(private readonly base: Clock = systemClock) {}

  now(): number {
    return this.base.now() + this.offsetMs;
  }

  get offsetSeconds(): number {
    return this.offsetMs / 1000;
  }

  /** Runs the listeners (expiry sweep, webhook relay) after the jump, so callers see the effects. */
  async advance(seconds: number): Promise<void> {
    if (!Number.isFinite(seconds) || seconds <= 0) throw new RangeError('seconds must be positive');
    this.offsetMs += Math.round(seconds * 1000);
    for (const listener of this.listeners) await listener();
  }

  onAdvance(listener: () => Promise<void>): void {
    this.listeners.push(listener);
  }
}

/** The sandbox clock only moves forward, also when another node's offset is read while this node advances. */
import { describe, expect, it } from 'vitest';
import { AdjustableClock, type ClockOffsets } from '../../src/core/clock.ts';

/** A stored offset whose reads answer late, with what was stored when they were asked. */
function slowOffsets(): ClockOffsets & { stored: number; releaseLoads(): void } {
  const pending: Array<() => void> = [];
  const offsets = {
    stored: 0,
    load() {
      const seen = offsets.stored;
      return new Promise<number>((resolve) => pending.push(() => resolve(seen)));
    },
    async add(ms: number) {
      offsets.stored += ms;
      return offsets.stored;
    },
    releaseLoads() {
      for (const release of pending.splice(0)) release();
    },
  };
  return offsets;
}

describe('AdjustableClock', () => {
  it('a sync that read the offset before an advance does not take the clock back', async () => {
    const base = { now: () => 1_000_000 };
    const offsets = slowOffsets();
    const clock = new AdjustableClock(base, offsets);
    const sync = clock.sync(); // reads the stored offset (0) and waits
    await clock.advance(5); // meanwhile this node moves on 5 s
    expect(clock.now()).toBe(1_005_000);
    offsets.releaseLoads();
    await sync;
    expect(clock.now()).toBe(1_005_000);
  });

  it('takes up a larger offset another node stored', async () => {
    const offsets = slowOffsets();
    const clock = new AdjustableClock({ now: () => 0 }, offsets);
    offsets.stored = 60_000;
    const sync = clock.sync();
    offsets.releaseLoads();
    await sync;
    expect(clock.now()).toBe(60_000);
  });
});

import { randomInt, randomUUID } from 'node:crypto';

/**
 * Snowflake ids in the providers' layout: 41 bits of milliseconds since
 * 2010-11-04T01:42:54.657Z, 10 bits of node, 12 bits of sequence, written as
 * a decimal after a prefix ("PI1933438751883661312"). Ids sort by creation
 * time and never collide between processes that drew different node numbers.
 */
const EPOCH = 1288834974657n;

export class IdGenerator {
  private readonly node: bigint;
  private lastMs = 0;
  private sequence = 0;

  constructor(node = randomInt(1024), private readonly now: () => number = Date.now) {
    this.node = BigInt(node & 0x3ff);
  }

  next(prefix: string): string {
    let ms = Math.max(this.now(), this.lastMs);
    if (ms === this.lastMs) {
      this.sequence = (this.sequence + 1) & 0xfff;
      if (this.sequence === 0) ms += 1; // borrow the next millisecond rather than spin
    } else {
      this.sequence = 0;
    }
    this.lastMs = ms;
    const id = ((BigInt(ms) - EPOCH) << 22n) | (this.node << 12n) | BigInt(this.sequence);
    return prefix + id.toString();
  }
}

export const uuid = (): string => randomUUID();

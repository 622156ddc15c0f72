import { randomFillSync, randomInt } from 'node:crypto';

/**
 * Snowflake ids in the providers' layout: 41 bits of milliseconds since
 * 2010-11-04T01:42:54.657Z, 10 bits of node, 12 bits of sequence, written as
 * a decimal after a prefix ("PI1933438751883661312"). Ids sort by creation
 * time and never collide between processes with different node numbers (the
 * platform takes its node number from the database, store/platform-counters.ts).
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

/**
 * A UUID version 7 (RFC 9562): 48 bits of Unix milliseconds, then random
 * bits. Event, journal and delivery ids made now sort after those made
 * before, so their rows and index entries are appended instead of scattered
 * over the whole index (fewer pages written per commit).
 */
export function uuid(): string {
  const b = secureRandomBytes(16);
  const ms = Date.now();
  b.writeUIntBE(ms, 0, 6);
  b[6] = 0x70 | (b[6]! & 0x0f);
  b[8] = 0x80 | (b[8]! & 0x3f);
  const h = b.toString('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

/**
 * Random bytes for tokens and secrets, from a pool the CSPRNG refills 8 KB at
 * a time (as Node does for randomUUID): one system call per few hundred
 * tokens instead of one per token. Bytes handed out are never handed out again.
 */
const POOL_SIZE = 8192;
const pool = Buffer.alloc(POOL_SIZE);
let poolOffset = POOL_SIZE;

export function secureRandomBytes(length: number): Buffer {
  if (length > POOL_SIZE) return randomFillSync(Buffer.alloc(length));
  if (poolOffset + length > POOL_SIZE) {
    randomFillSync(pool);
    poolOffset = 0;
  }
  const out = Buffer.from(pool.subarray(poolOffset, poolOffset + length));
  pool.fill(0, poolOffset, poolOffset + length);
  poolOffset += length;
  return out;
}

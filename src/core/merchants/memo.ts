/**
 * What a node remembers of each merchant (is it active, its webhook secret,
 * its keys): trusted for ACTIVE_CHECK_TTL_MS, forgotten at once when this
 * node changes the merchant, so other nodes sharing the database follow a
 * change (disable, credential rotation, webhook URL) within that time.
 */

/**
 * How long a node trusts what it last read of a merchant. The node that
 * changes a merchant forgets it at once; other nodes notice within this time.
 */
export const ACTIVE_CHECK_TTL_MS = 1000;

const MAX_REMEMBERED = 10_000;

export class MerchantMemo<T> {
  private readonly entries = new Map<string, { value: T; until: number }>();
  /** Bumped by every forget: a load that began before it does not keep what it read. */
  private forgets = 0;

  /** `load`: how to read a merchant's value; without it, each get says how (inside a unit of work, say). */
  constructor(
    private readonly load?: (merchantId: string) => Promise<T>,
    private readonly ttlMs = ACTIVE_CHECK_TTL_MS,
  ) {}

  async get(merchantId: string, load = this.load): Promise<T> {
    if (!load) throw new Error('this memo reads only with a load given');
    const now = performance.now();
    const cached = this.entries.get(merchantId);
    if (cached && cached.until > now) return cached.value;
    const forgets = this.forgets;
    const value = await load(merchantId);
    if (forgets !== this.forgets) return value;
    if (this.entries.size >= MAX_REMEMBERED) this.entries.clear();
    this.entries.set(merchantId, { value, until: now + this.ttlMs });
    return value;
  }

  forget(merchantIds: Iterable<string>): void {
    this.forgets++;
    for (const id of merchantIds) this.entries.delete(id);
  }
}

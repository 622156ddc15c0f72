/** What a node remembers of a merchant: kept for its TTL, forgotten at once on forget, and never a read that raced a forget. */
import { expect, it } from 'vitest';
import { MerchantMemo } from '../../src/core/merchants/memo.ts';

it('keeps a value for its TTL and reads again after it', async () => {
  let reads = 0;
  const memo = new MerchantMemo(async () => ++reads, 40);
  expect(await memo.get('M1')).toBe(1);
  expect(await memo.get('M1')).toBe(1);
  await new Promise((r) => setTimeout(r, 60));
  expect(await memo.get('M1')).toBe(2);
});

it('forgets a merchant at once, and does not keep a read that began before the forget', async () => {
  let value = 'old';
  let release: () => void = () => {};
  const memo = new MerchantMemo(async () => {
    const seen = value;
    await new Promise<void>((r) => (release = r));
    return seen;
  }, 60_000);
  const racing = memo.get('M1');
  value = 'new';
  memo.forget(['M1']); // the change commits while the read of the old row is under way
  release();
  expect(await racing).toBe('old');
  const fresh = memo.get('M1');
  release();
  expect(await fresh).toBe('new');
});

it('reads with the load given to get when the memo has none of its own', async () => {
  const memo = new MerchantMemo<string>();
  await expect(memo.get('M1')).rejects.toThrow();
  expect(await memo.get('M1', async (id) => `url of ${id}`)).toBe('url of M1');
  expect(await memo.get('M1', async () => 'not read again')).toBe('url of M1');
});

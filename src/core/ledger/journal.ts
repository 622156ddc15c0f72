import type { LedgerEntry } from '../payments/types.ts';

/**
 * Double-entry postings. Balances are sums of entries; every journal sums to
 * zero per currency, so money is never created or lost by a posting.
 */
export interface Journal {
  id: string;
  merchantId: string;
  sourceId: string;
  entries: LedgerEntry[];
}

export function assertBalanced(entries: LedgerEntry[]): void {
  const sums = new Map<string, number>();
  for (const e of entries) {
    if (!Number.isSafeInteger(e.amount)) throw new Error('ledger amounts are integer minor units');
    sums.set(e.currency, (sums.get(e.currency) ?? 0) + e.amount);
  }
  for (const [currency, sum] of sums) {
    if (sum !== 0) throw new Error(`journal does not balance in ${currency}: ${sum}`);
  }
}

/** Captured funds: the scheme owes them, the merchant has them pending settlement. */
export function captureEntries(amount: number, currency: string): LedgerEntry[] {
  return balanced([
    { account: 'scheme_receivable', amount, currency },
    { account: 'merchant_pending', amount: -amount, currency },
  ]);
}

/** A refund gives money back out of the merchant's pending funds. */
export function refundEntries(amount: number, currency: string): LedgerEntry[] {
  return balanced([
    { account: 'merchant_pending', amount, currency },
    { account: 'scheme_receivable', amount: -amount, currency },
  ]);
}

function balanced(entries: LedgerEntry[]): LedgerEntry[] {
  assertBalanced(entries);
  return entries;
}

/**
 * Merchant-facing balance: ledger entries are stored from the platform's side
 * (credit to the merchant is negative), so the merchant sees the negation.
 */
export function merchantBalance(sumOfEntries: number): number {
  return sumOfEntries === 0 ? 0 : -sumOfEntries;
}

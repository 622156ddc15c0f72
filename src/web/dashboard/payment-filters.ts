/**
 * The payments list's filters as the page's query string carries them, and
 * back: parsed at the edge into the core's filter (amounts from decimals in
 * the currency's units to minor units, days to times), each mistake a
 * message for the form.
 */
import { isDomainError } from '../../core/errors.ts';
import { assertCurrency, parseDecimal } from '../../core/money.ts';
import type { ListCursor, PaymentListFilter } from '../../core/payments/console.ts';
import { INTENT_STATUSES, type IntentStatus } from '../../core/payments/types.ts';
import { WALLET_KINDS } from '../../core/ports.ts';
import { searchTerms } from './payment-ids.ts';

export const DIALECTS = ['uqpay', 'qfpay', 'alphapay'] as const;
export const CARD_NETWORKS = ['visa', 'mastercard', 'amex', 'unionpay', 'jcb', 'discover', 'diners'] as const;
const METHODS = new Set<string>(['card', 'wallet', ...CARD_NETWORKS.map((n) => `card:${n}`), ...WALLET_KINDS.map((k) => `wallet:${k}`)]);
const DAY_MS = 86_400_000;

/** The form's fields, as typed (what the form shows again). */
export interface FilterFields {
  status: string;
  dialect: string;
  method: string;
  currency: string;
  from: string;
  to: string;
  min: string;
  max: string;
  q: string;
}

export const FILTER_NAMES: ReadonlyArray<keyof FilterFields> = ['status', 'dialect', 'method', 'currency', 'from', 'to', 'min', 'max', 'q'];

export interface ParsedFilters {
  fields: FilterFields;
  filter: PaymentListFilter;
  after: ListCursor | null;
  errors: string[];
}

const text = (query: Record<string, unknown>, name: string): string => {
  const v = query[name];
  return typeof v === 'string' ? v.trim().slice(0, 200) : '';
};

/** A day (YYYY-MM-DD, UTC: the times the pages show) as the time it starts. */
function dayStart(value: string, label: string, errors: string[]): number | undefined {
  if (!value) return undefined;
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(value);
  const ms = m ? Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3])) : NaN;
  if (!m || Number.isNaN(ms) || new Date(ms).toISOString().slice(0, 10) !== value) {
    errors.push(`${label} must be a date like 2026-12-04`);
    return undefined;
  }
  return ms;
}

function amount(value: string, label: string, currency: string | undefined, errors: string[]): number | undefined {
  if (!value) return undefined;
  if (!currency) {
    errors.push(`Choose a currency to filter by ${label.toLowerCase()}: amounts are in its units`);
    return undefined;
  }
  try {
    return parseDecimal(value, currency, label);
  } catch (e) {
    if (!isDomainError(e)) throw e;
    errors.push(e.message);
    return undefined;
  }
}

/** "<created_at>.<id>": where the next page starts. */
export const cursorText = (c: ListCursor): string => `${c.createdAt}.${c.id}`;

function cursorOf(value: string, errors: string[]): ListCursor | null {
  if (!value) return null;
  const m = /^(\d{1,15})\.([A-Za-z0-9_-]{1,64})$/.exec(value);
  if (!m) {
    errors.push('The page link is not valid: start again from the first page');
    return null;
  }
  return { createdAt: Number(m[1]), id: m[2]! };
}

export function parseFilters(query: Record<string, unknown>, merchantIds: string[]): ParsedFilters {
  const fields = Object.fromEntries(FILTER_NAMES.map((n) => [n, text(query, n)])) as unknown as FilterFields;
  fields.currency = fields.currency.toUpperCase();
  const errors: string[] = [];
  const filter: PaymentListFilter = { merchantIds };
  if (fields.status) {
    if ((INTENT_STATUSES as readonly string[]).includes(fields.status)) filter.status = fields.status as IntentStatus;
    else errors.push(`Status ${fields.status} is not one a payment has`);
  }
  if (fields.dialect) {
    if ((DIALECTS as readonly string[]).includes(fields.dialect)) filter.origin = fields.dialect;
    else errors.push(`Dialect ${fields.dialect} is not one polypay speaks`);
  }
  if (fields.method) {
    if (METHODS.has(fields.method)) filter.method = fields.method;
    else errors.push(`Method ${fields.method} is not known`);
  }
  let currency: string | undefined;
  if (fields.currency) {
    try {
      currency = assertCurrency(fields.currency, 'Currency');
      filter.currency = currency;
    } catch (e) {
      if (!isDomainError(e)) throw e;
      errors.push(e.message);
    }
  }
  const from = dayStart(fields.from, 'From', errors);
  const to = dayStart(fields.to, 'To', errors);
  if (from !== undefined) filter.createdFrom = from;
  // "To" is a whole day: payments made during it are in.
  if (to !== undefined) filter.createdBefore = to + DAY_MS;
  if (from !== undefined && to !== undefined && to < from) errors.push('From must not be after To');
  const min = amount(fields.min, 'Minimum amount', currency, errors);
  const max = amount(fields.max, 'Maximum amount', currency, errors);
  if (min !== undefined) filter.amountMin = min;
  if (max !== undefined) filter.amountMax = max;
  if (min !== undefined && max !== undefined && max < min) errors.push('Minimum amount must not be more than Maximum amount');
  const terms = searchTerms(fields.q);
  if (terms.length) filter.search = terms;
  const after = cursorOf(text(query, 'after'), errors);
  return { fields, filter, after, errors };
}

/** The query string of these filters (only those set), with a page cursor when given. */
export function filterQuery(fields: FilterFields, after?: ListCursor | null): string {
  const params = new URLSearchParams();
  for (const n of FILTER_NAMES) if (fields[n]) params.set(n, fields[n]);
  if (after) params.set('after', cursorText(after));
  const s = params.toString();
  return s ? `?${s}` : '';
}

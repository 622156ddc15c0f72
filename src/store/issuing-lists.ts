/**
 * The dashboard's issuing lists: cardholders, cards and card transactions of
 * a set of merchants (a merchant and its sub-merchants), newest first, a
 * keyset page at a time. Only what a list shows: never a card number.
 */
import { after, pageOf, type Cursor, type KeysetPage } from './keyset.ts';
import type { Store } from './store.ts';

export interface CardholderRow {
  id: string;
  merchantId: string;
  name: string;
  email: string;
  phoneNumber: string;
  countryCode: string;
  status: string;
  cards: number;
  createdAt: number;
}

export interface CardRow {
  id: string;
  merchantId: string;
  cardholderId: string;
  cardholderName: string;
  last4: string;
  expiry: string;
  currency: string;
  status: string;
  available: number;
  limit: number;
  createdAt: number;
}

export interface CardTransactionRow {
  id: string;
  merchantId: string;
  cardId: string;
  last4: string;
  type: string;
  status: string;
  amount: number;
  currency: string;
  merchantName: string;
  failureReason: string | null;
  createdAt: number;
}

export interface ListQuery {
  merchantIds: string[];
  after?: Cursor;
  limit: number;
  /** Cards: one cardholder's; transactions: one card's. */
  parentId?: string;
}

const key = (r: { createdAt: number; id: string }): Cursor => ({ createdAt: r.createdAt, id: r.id });

export class IssuingLists {
  constructor(private readonly store: Store) {}

  async cardholders(q: ListQuery): Promise<KeysetPage<CardholderRow>> {
    if (!q.merchantIds.length) return { rows: [], next: null };
    let s = this.store.read
      .selectFrom('issuing_cardholders as h')
      .select(['h.id', 'h.merchant_id', 'h.first_name', 'h.last_name', 'h.email', 'h.phone_number', 'h.country_code', 'h.status', 'h.created_at'])
      .select((eb) => eb.selectFrom('issuing_cards as c').select((e) => e.fn.countAll<number>().as('n')).whereRef('c.cardholder_id', '=', 'h.id').as('cards'))
      .where('h.merchant_id', 'in', q.merchantIds);
    if (q.after) s = s.where(after('h.created_at', 'h.id', q.after));
    const rows = await s.orderBy('h.created_at', 'desc').orderBy('h.id', 'desc').limit(q.limit + 1).execute();
    const mapped = rows.map((r) => ({
      id: r.id,
      merchantId: r.merchant_id,
      name: `${r.first_name} ${r.last_name}`,
      email: r.email,
      phoneNumber: r.phone_number,
      countryCode: r.country_code,
      status: r.status,
      cards: Number(r.cards ?? 0),
      createdAt: Number(r.created_at),
    }));
    return pageOf(mapped, q.limit, key);
  }

  async cards(q: ListQuery): Promise<KeysetPage<CardRow>> {
    if (!q.merchantIds.length) return { rows: [], next: null };
    let s = this.store.read
      .selectFrom('issuing_cards as c')
      .innerJoin('issuing_cardholders as h', 'h.id', 'c.cardholder_id')
      .select(['c.id', 'c.merchant_id', 'c.cardholder_id', 'h.first_name', 'h.last_name', 'c.last4', 'c.expiry_month', 'c.expiry_year', 'c.currency', 'c.status', 'c.available', 'c.card_limit', 'c.created_at'])
      .where('c.merchant_id', 'in', q.merchantIds);
    if (q.parentId) s = s.where('c.cardholder_id', '=', q.parentId);
    if (q.after) s = s.where(after('c.created_at', 'c.id', q.after));
    const rows = await s.orderBy('c.created_at', 'desc').orderBy('c.id', 'desc').limit(q.limit + 1).execute();
    const mapped = rows.map((r) => ({
      id: r.id,
      merchantId: r.merchant_id,
      cardholderId: r.cardholder_id,
      cardholderName: `${r.first_name} ${r.last_name}`,
      last4: r.last4,
      expiry: `${String(r.expiry_month).padStart(2, '0')}/${String(r.expiry_year).slice(-2)}`,
      currency: r.currency,
      status: r.status,
      available: Number(r.available),
      limit: Number(r.card_limit),
      createdAt: Number(r.created_at),
    }));
    return pageOf(mapped, q.limit, key);
  }

  async transactions(q: ListQuery): Promise<KeysetPage<CardTransactionRow>> {
    if (!q.merchantIds.length) return { rows: [], next: null };
    let s = this.store.read
      .selectFrom('issuing_transactions as t')
      .innerJoin('issuing_cards as c', 'c.id', 't.card_id')
      .select(['t.id', 't.merchant_id', 't.card_id', 'c.last4', 't.transaction_type', 't.status', 't.amount', 't.currency', 't.merchant_name', 't.failure_reason', 't.created_at'])
      .where('t.merchant_id', 'in', q.merchantIds);
    if (q.parentId) s = s.where('t.card_id', '=', q.parentId);
    if (q.after) s = s.where(after('t.created_at', 't.id', q.after));
    const rows = await s.orderBy('t.created_at', 'desc').orderBy('t.id', 'desc').limit(q.limit + 1).execute();
    const mapped = rows.map((r) => ({
      id: r.id,
      merchantId: r.merchant_id,
      cardId: r.card_id,
      last4: r.last4,
      type: r.transaction_type,
      status: r.status,
      amount: Number(r.amount),
      currency: r.currency,
      merchantName: r.merchant_name,
      failureReason: r.failure_reason,
      createdAt: Number(r.created_at),
    }));
    return pageOf(mapped, q.limit, key);
  }
}

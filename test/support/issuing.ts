/** Helpers for the issuing tests: cardholders and active cards over HTTP, and the ledger check run after each test. */
import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import { expect } from 'vitest';
import { advanceClock, type TestPlatform, type UqpayClient } from './platform.ts';

export const VISA_SHARE_PRODUCT = '467e993f-317a-49fc-9ea0-bf49de7d1f76';
export const MASTERCARD_SINGLE_PRODUCT = '9b1f6c52-52a4-4b43-8f0e-2d7c3a6e8e11';

let seq = 0;

export function cardholderBody(overrides: Record<string, unknown> = {}) {
  seq++;
  return {
    email: `alex.${seq}.${randomUUID().slice(0, 8)}@example.com`,
    first_name: 'Alex',
    last_name: 'Chen',
    country_code: 'SG',
    phone_number: `+65${String(80000000 + Math.floor(Math.random() * 9999999))}`,
    ...overrides,
  };
}

export async function newCardholder(client: UqpayClient, overrides: Record<string, unknown> = {}): Promise<string> {
  const r = await client.post('/v1/issuing/cardholders', cardholderBody(overrides));
  expect(r.status, r.text).toBe(200);
  return r.body.cardholder_id;
}

/** Creates a card and moves the clock until it is ACTIVE; the card as GET shows it. */
export async function activeCard(tp: TestPlatform, client: UqpayClient, body: Record<string, unknown> = {}): Promise<any> {
  const cardholderId = (body.cardholder_id as string | undefined) ?? (await newCardholder(client));
  const r = await client.post('/v1/issuing/cards', { cardholder_id: cardholderId, card_product_id: VISA_SHARE_PRODUCT, card_currency: 'USD', ...body });
  expect(r.status, r.text).toBe(200);
  await advanceClock(tp, 5);
  const card = await client.get(`/v1/issuing/cards/${r.body.card_id}`);
  expect(card.body.card_status).toBe('ACTIVE');
  return card.body;
}

export async function deposit(client: UqpayClient, currency: string, amount: string): Promise<void> {
  const r = await client.post('/v1/simulation/issuing/deposit', { currency, amount });
  expect(r.status, r.text).toBe(200);
}

/**
 * Every journal sums to zero, so the whole ledger does, per currency; and
 * each issuing balance row is what the ledger says it is.
 */
export async function expectLedgerBalanced(tp: TestPlatform): Promise<void> {
  const db = tp.platform.store.read;
  const sums = await db.selectFrom('ledger_entries').select(['currency', sql<string>`sum(amount)`.as('total')]).groupBy('currency').execute();
  for (const s of sums) expect(Number(s.total), `ledger sum in ${s.currency}`).toBe(0);
  const journals = await db
    .selectFrom('ledger_entries')
    .select(['journal_id', 'currency', sql<string>`sum(amount)`.as('total')])
    .groupBy(['journal_id', 'currency'])
    .having(sql`sum(amount)`, '!=', 0)
    .execute();
  expect(journals).toEqual([]);
  const balances = await db.selectFrom('issuing_balances').selectAll().execute();
  for (const b of balances) {
    const r = await db
      .selectFrom('ledger_entries')
      .select(sql<string>`coalesce(sum(amount), 0)`.as('total'))
      .where('merchant_id', '=', b.merchant_id)
      .where('currency', '=', b.currency)
      .where('account', '=', 'issuing_balance')
      .executeTakeFirstOrThrow();
    expect(0 - Number(r.total), `issuing balance ${b.merchant_id} ${b.currency}`).toBe(Number(b.available));
  }
}

/** Kysely implementation of the issuing repository, shared by SQLite and PostgreSQL. */
import { sql, type Selectable } from 'kysely';
import { merchantBalance } from '../core/ledger/journal.ts';
import { productById } from '../core/issuing/products.ts';
import { appendToOutbox, noHandoff, Outbox, type EventRow, type Handoff } from './outbox.ts';
import type { IssuingReads, IssuingStore, IssuingTx, Page, PageRequest, RequestKey } from '../core/issuing/repository.ts';
import type { Card, Cardholder, CardOrder, IssuingBalance, IssuingEvent, IssuingTransaction, Transfer } from '../core/issuing/types.ts';
import { claimKey, completeKey } from './request-guards.ts';
import type {
  Database,
  IssuingBalanceTable,
  IssuingCardholderTable,
  IssuingCardTable,
  IssuingTransactionTable,
  IssuingTransferTable,
} from './schema.ts';
import type { Db, Store } from './store.ts';

const num = (v: unknown): number => Number(v);
const numOrNull = (v: unknown): number | null => (v === null || v === undefined ? null : Number(v));

function cardholderRow(c: Cardholder): IssuingCardholderTable {
  return {
    id: c.id,
    merchant_id: c.merchantId,
    email: c.email,
    phone_number: c.phoneNumber,
    first_name: c.firstName,
    last_name: c.lastName,
    country_code: c.countryCode,
    status: c.status,
    details: JSON.stringify(c.details),
    created_at: c.createdAt,
    updated_at: c.updatedAt,
  };
}

function toCardholder(r: Selectable<IssuingCardholderTable>): Cardholder {
  return {
    id: r.id,
    merchantId: r.merchant_id,
    email: r.email,
    phoneNumber: r.phone_number,
    firstName: r.first_name,
    lastName: r.last_name,
    countryCode: r.country_code,
    status: r.status as Cardholder['status'],
    details: JSON.parse(r.details),
    createdAt: num(r.created_at),
    updatedAt: num(r.updated_at),
  };
}

function cardRow(c: Card): IssuingCardTable {
  return {
    id: c.id,
    merchant_id: c.merchantId,
    cardholder_id: c.cardholderId,
    product_id: c.productId,
    currency: c.currency,
    pan_sealed: c.panSealed,
    pan_fingerprint: c.panFingerprint,
    last4: c.last4,
    expiry_month: c.expiryMonth,
    expiry_year: c.expiryYear,
    status: c.status,
    card_limit: c.cardLimit,
    available: c.available,
    consumed: c.consumed,
    controls: JSON.stringify(c.controls),
    metadata: JSON.stringify(c.metadata),
    step_due_at: c.stepDueAt,
    created_at: c.createdAt,
    updated_at: c.updatedAt,
  };
}

/** The BIN is the product's: kept with the product, not in the row. */
function toCard(r: Selectable<IssuingCardTable>): Card {
  return {
    id: r.id,
    merchantId: r.merchant_id,
    cardholderId: r.cardholder_id,
    productId: r.product_id,
    currency: r.currency,
    panSealed: r.pan_sealed,
    panFingerprint: r.pan_fingerprint,
    bin: productById(r.product_id)?.bin ?? '',
    last4: r.last4,
    expiryMonth: num(r.expiry_month),
    expiryYear: num(r.expiry_year),
    status: r.status as Card['status'],
    cardLimit: num(r.card_limit),
    available: num(r.available),
    consumed: num(r.consumed),
    controls: JSON.parse(r.controls),
    metadata: JSON.parse(r.metadata),
    stepDueAt: numOrNull(r.step_due_at),
    createdAt: num(r.created_at),
    updatedAt: num(r.updated_at),
  };
}

function transactionRow(t: IssuingTransaction): IssuingTransactionTable {
  return {
    id: t.id,
    merchant_id: t.merchantId,
    card_id: t.cardId,
    cardholder_id: t.cardholderId,
    transaction_type: t.type,
    status: t.status,
    amount: t.amount,
    currency: t.currency,
    merchant_name: t.merchantName,
    merchant_category_code: t.merchantCategoryCode,
    failure_reason: t.failureReason,
    authorization_code: t.authorizationCode,
    network_reference: t.networkReference,
    original_transaction_id: t.originalTransactionId,
    card_available_balance: t.cardAvailableBalance,
    captured_amount: t.capturedAmount,
    reversed_amount: t.reversedAmount,
    created_at: t.createdAt,
    posted_at: t.postedAt,
  };
}

function toTransaction(r: Selectable<IssuingTransactionTable>): IssuingTransaction {
  return {
    id: r.id,
    merchantId: r.merchant_id,
    cardId: r.card_id,
    cardholderId: r.cardholder_id,
    type: r.transaction_type as IssuingTransaction['type'],
    status: r.status as IssuingTransaction['status'],
    amount: num(r.amount),
    currency: r.currency,
    merchantName: r.merchant_name,
    merchantCategoryCode: r.merchant_category_code,
    failureReason: r.failure_reason,
    authorizationCode: r.authorization_code,
    networkReference: r.network_reference,
    originalTransactionId: r.original_transaction_id,
    cardAvailableBalance: num(r.card_available_balance),
    capturedAmount: num(r.captured_amount),
    reversedAmount: num(r.reversed_amount),
    createdAt: num(r.created_at),
    postedAt: numOrNull(r.posted_at),
  };
}

function toBalance(r: Selectable<IssuingBalanceTable>): IssuingBalance {
  return { id: r.id, merchantId: r.merchant_id, currency: r.currency, available: num(r.available), createdAt: num(r.created_at), updatedAt: num(r.updated_at) };
}

function toTransfer(r: Selectable<IssuingTransferTable>): Transfer {
  return {
    id: r.id,
    merchantId: r.merchant_id,
    sourceAccountId: r.source_account_id,
    destinationAccountId: r.destination_account_id,
    currency: r.currency,
    amount: num(r.amount),
    status: r.status as Transfer['status'],
    createdAt: num(r.created_at),
  };
}

class Tx implements IssuingTx {
  constructor(
    private readonly db: Db,
    private readonly rowLocks: boolean,
    /** This unit's hand-off of new deliveries to the process's relay. */
    private readonly handoff: Handoff = noHandoff,
  ) {}

  async cardholder(merchantId: string, id: string) {
    const r = await this.db.selectFrom('issuing_cardholders').selectAll().where('id', '=', id).where('merchant_id', '=', merchantId).executeTakeFirst();
    return r ? toCardholder(r) : null;
  }

  async cardholderWithContact(merchantId: string, email: string, phoneNumber: string, exceptId?: string) {
    let q = this.db
      .selectFrom('issuing_cardholders')
      .selectAll()
      .where('merchant_id', '=', merchantId)
      .where((eb) => eb.or([eb('email', '=', email), eb('phone_number', '=', phoneNumber)]));
    if (exceptId) q = q.where('id', '!=', exceptId);
    const r = await q.executeTakeFirst();
    return r ? toCardholder(r) : null;
  }

  async insertCardholder(c: Cardholder) {
    await this.db.insertInto('issuing_cardholders').values(cardholderRow(c)).execute();
  }

  async updateCardholder(c: Cardholder) {
    const { id: _id, merchant_id: _m, created_at: _c, ...set } = cardholderRow(c);
    await this.db.updateTable('issuing_cardholders').set(set).where('id', '=', c.id).execute();
  }

  async card(merchantId: string, id: string, lock = false) {
    let q = this.db.selectFrom('issuing_cards').selectAll().where('id', '=', id).where('merchant_id', '=', merchantId);
    if (lock && this.rowLocks) q = q.forUpdate();
    const r = await q.executeTakeFirst();
    return r ? toCard(r) : null;
  }

  async cardByFingerprint(fingerprint: string, lock = false) {
    let q = this.db.selectFrom('issuing_cards').selectAll().where('pan_fingerprint', '=', fingerprint);
    if (lock && this.rowLocks) q = q.forUpdate();
    const r = await q.executeTakeFirst();
    return r ? toCard(r) : null;
  }

  async insertCard(card: Card) {
    await this.db.insertInto('issuing_cards').values(cardRow(card)).execute();
  }

  async updateCard(card: Card) {
    const { id: _id, merchant_id: _m, created_at: _c, pan_sealed: _p, pan_fingerprint: _f, ...set } = cardRow(card);
    await this.db.updateTable('issuing_cards').set(set).where('id', '=', card.id).execute();
  }

  async insertOrder(o: CardOrder) {
    await this.db
      .insertInto('issuing_card_orders')
      .values({ id: o.id, merchant_id: o.merchantId, card_id: o.cardId, order_type: o.type, order_status: o.status, amount: o.amount, currency: o.currency, created_at: o.createdAt, updated_at: o.updatedAt })
      .execute();
  }

  async completeOrder(cardId: string, type: CardOrder['type'], now: number) {
    const r = await this.db
      .selectFrom('issuing_card_orders')
      .select('id')
      .where('card_id', '=', cardId)
      .where('order_type', '=', type)
      .where('order_status', '=', 'PROCESSING')
      .orderBy('created_at', 'desc')
      .executeTakeFirst();
    if (!r) return null;
    await this.db.updateTable('issuing_card_orders').set({ order_status: 'SUCCESS', updated_at: now }).where('id', '=', r.id).execute();
    return r.id;
  }

  async balance(merchantId: string, currency: string, lock = false) {
    let q = this.db.selectFrom('issuing_balances').selectAll().where('merchant_id', '=', merchantId).where('currency', '=', currency);
    if (lock && this.rowLocks) q = q.forUpdate();
    const r = await q.executeTakeFirst();
    return r ? toBalance(r) : null;
  }

  async saveBalance(b: IssuingBalance, isNew: boolean) {
    if (isNew) {
      // Two units may create the same balance at once: the second keeps the first's row.
      await this.db
        .insertInto('issuing_balances')
        .values({ merchant_id: b.merchantId, currency: b.currency, id: b.id, available: b.available, created_at: b.createdAt, updated_at: b.updatedAt })
        .onConflict((oc) => oc.columns(['merchant_id', 'currency']).doNothing())
        .execute();
      return;
    }
    await this.db
      .updateTable('issuing_balances')
      .set({ available: b.available, updated_at: b.updatedAt })
      .where('merchant_id', '=', b.merchantId)
      .where('currency', '=', b.currency)
      .execute();
  }

  async transaction(merchantId: string, id: string) {
    const r = await this.db.selectFrom('issuing_transactions').selectAll().where('id', '=', id).where('merchant_id', '=', merchantId).executeTakeFirst();
    return r ? toTransaction(r) : null;
  }

  async transactionByReference(reference: string, type: IssuingTransaction['type']) {
    const r = await this.db
      .selectFrom('issuing_transactions')
      .selectAll()
      .where('network_reference', '=', reference)
      .where('transaction_type', '=', type)
      .executeTakeFirst();
    return r ? toTransaction(r) : null;
  }

  async insertTransaction(t: IssuingTransaction) {
    await this.db.insertInto('issuing_transactions').values(transactionRow(t)).execute();
  }

  async updateTransaction(t: IssuingTransaction) {
    await this.db
      .updateTable('issuing_transactions')
      .set({ captured_amount: t.capturedAmount, reversed_amount: t.reversedAmount, posted_at: t.postedAt })
      .where('id', '=', t.id)
      .execute();
  }

  async insertTransfer(t: Transfer) {
    await this.db
      .insertInto('issuing_transfers')
      .values({ id: t.id, merchant_id: t.merchantId, source_account_id: t.sourceAccountId, destination_account_id: t.destinationAccountId, currency: t.currency, amount: t.amount, status: t.status, created_at: t.createdAt })
      .execute();
  }

  async post(journal: { id: string; merchantId: string; sourceId: string; entries: Array<{ account: string; amount: number; currency: string }> }, now: number) {
    await this.db
      .insertInto('ledger_entries')
      .values(journal.entries.map((e) => ({ journal_id: journal.id, merchant_id: journal.merchantId, account: e.account, currency: e.currency, amount: e.amount, source_id: journal.sourceId, created_at: now })))
      .execute();
  }

  async appendEvents(events: IssuingEvent[]) {
    if (events.length === 0) return;
    const rows: EventRow[] = events.map((e) => ({ id: e.id, merchant_id: e.merchantId, type: e.type, source_id: e.sourceId, payload: JSON.stringify(e.payload), created_at: e.createdAt }));
    // Issuing events go to the merchant's webhook URL, in the UQPAY dialect (the issuing API is UQPAY's).
    const target = async (e: IssuingEvent) => {
      const m = await this.db.selectFrom('merchants').select('webhook_url').where('id', '=', e.merchantId).executeTakeFirst();
      return { dialect: 'uqpay', url: m?.webhook_url ?? null };
    };
    await appendToOutbox(this.db, events, rows, target, this.handoff);
  }

  async putDisplayToken(tokenHash: string, merchantId: string, cardId: string, expiresAt: number) {
    await this.db.insertInto('issuing_display_tokens').values({ token_hash: tokenHash, merchant_id: merchantId, card_id: cardId, expires_at: expiresAt, used_at: null }).execute();
  }

  async useDisplayToken(tokenHash: string, now: number) {
    // One conditional update: of two requests with the same token, only one finds it unused.
    const r = await this.db
      .updateTable('issuing_display_tokens')
      .set({ used_at: now })
      .where('token_hash', '=', tokenHash)
      .where('used_at', 'is', null)
      .where('expires_at', '>', now)
      .returning(['merchant_id', 'card_id'])
      .executeTakeFirst();
    return r ? { merchantId: r.merchant_id, cardId: r.card_id } : null;
  }

  claimKey(key: RequestKey, now: number, subjectId: string | null) {
    return claimKey(this.db, key, now, subjectId);
  }

  completeKey(key: RequestKey, status: number, body: string) {
    return completeKey(this.db, key, status, body);
  }
}

type Listed = 'issuing_cardholders' | 'issuing_cards' | 'issuing_transactions' | 'issuing_transfers';

async function newestFirst<T extends Listed, R>(db: Db, table: T, where: (q: any) => any, page: PageRequest, map: (row: Selectable<Database[T]>) => R): Promise<Page<R>> {
  const base = where((db as any).selectFrom(table));
  const [count, rows] = await Promise.all([
    base.select(sql<number>`count(*)`.as('n')).executeTakeFirstOrThrow(),
    base.selectAll().orderBy('created_at', 'desc').orderBy('id', 'desc').limit(page.pageSize).offset((page.pageNumber - 1) * page.pageSize).execute(),
  ]);
  return { total: Number(count.n), items: (rows as Selectable<Database[T]>[]).map(map) };
}

class Reads implements IssuingReads {
  private readonly rows: Tx;

  constructor(
    private readonly db: Db,
  ) {
    this.rows = new Tx(db, false);
  }

  cardholder(merchantId: string, id: string) {
    return this.rows.cardholder(merchantId, id);
  }

  card(merchantId: string, id: string) {
    return this.rows.card(merchantId, id);
  }

  transaction(merchantId: string, id: string) {
    return this.rows.transaction(merchantId, id);
  }

  async transfer(merchantId: string, id: string) {
    const r = await this.db.selectFrom('issuing_transfers').selectAll().where('id', '=', id).where('merchant_id', '=', merchantId).executeTakeFirst();
    return r ? toTransfer(r) : null;
  }

  async cardholdersByIds(merchantId: string, ids: string[]) {
    if (ids.length === 0) return [];
    const rows = await this.db.selectFrom('issuing_cardholders').selectAll().where('merchant_id', '=', merchantId).where('id', 'in', ids).execute();
    return rows.map(toCardholder);
  }

  listCardholders(merchantId: string, f: { status?: string; email?: string }, page: PageRequest) {
    return newestFirst(this.db, 'issuing_cardholders', (q) => {
      q = q.where('merchant_id', '=', merchantId);
      if (f.status) q = q.where('status', '=', f.status);
      if (f.email) q = q.where('email', '=', f.email);
      return q;
    }, page, toCardholder);
  }

  listCards(merchantId: string, f: { status?: string; cardholderId?: string; last4?: string }, page: PageRequest) {
    return newestFirst(this.db, 'issuing_cards', (q) => {
      q = q.where('merchant_id', '=', merchantId);
      if (f.status) q = q.where('status', '=', f.status);
      if (f.cardholderId) q = q.where('cardholder_id', '=', f.cardholderId);
      if (f.last4) q = q.where('last4', '=', f.last4);
      return q;
    }, page, (r) => toCard(r));
  }

  listTransactions(merchantId: string, f: { cardId?: string; createdFrom?: number; createdTo?: number }, page: PageRequest) {
    return newestFirst(this.db, 'issuing_transactions', (q) => {
      q = q.where('merchant_id', '=', merchantId);
      if (f.cardId) q = q.where('card_id', '=', f.cardId);
      if (f.createdFrom !== undefined) q = q.where('created_at', '>=', f.createdFrom);
      if (f.createdTo !== undefined) q = q.where('created_at', '<=', f.createdTo);
      return q;
    }, page, toTransaction);
  }

  listTransfers(merchantId: string, page: PageRequest) {
    return newestFirst(this.db, 'issuing_transfers', (q) => q.where('merchant_id', '=', merchantId), page, toTransfer);
  }

  async balances(merchantId: string) {
    const rows = await this.db.selectFrom('issuing_balances').selectAll().where('merchant_id', '=', merchantId).orderBy('currency').execute();
    return rows.map(toBalance);
  }

  async balanceTransactions(merchantId: string, currency: string | undefined, page: PageRequest) {
    let q = this.db.selectFrom('ledger_entries').where('merchant_id', '=', merchantId).where('account', '=', 'issuing_balance');
    if (currency) q = q.where('currency', '=', currency);
    const [count, rows] = await Promise.all([
      q.select(sql<number>`count(*)`.as('n')).executeTakeFirstOrThrow(),
      q.select(['journal_id', 'source_id', 'currency', 'amount', 'created_at']).orderBy('id', 'desc').limit(page.pageSize).offset((page.pageNumber - 1) * page.pageSize).execute(),
    ]);
    return {
      total: Number(count.n),
      items: rows.map((r) => ({ id: r.journal_id, sourceId: r.source_id, currency: r.currency, amount: merchantBalance(num(r.amount)), createdAt: num(r.created_at) })),
    };
  }

  async cardsWithStepDue(now: number, limit: number) {
    const rows = await this.db.selectFrom('issuing_cards').select(['merchant_id', 'id']).where('step_due_at', 'is not', null).where('step_due_at', '<=', now).limit(limit).execute();
    return rows.map((r) => ({ merchantId: r.merchant_id, id: r.id }));
  }

  async merchantName(merchantId: string) {
    const r = await this.db.selectFrom('merchants').select('name').where('id', '=', merchantId).executeTakeFirst();
    return r?.name ?? null;
  }
}

/** `outbox`: where units find the process's relay, to hand it their new deliveries. */
export function issuingStore(store: Store, outbox: Outbox = new Outbox()): IssuingStore {
  return {
    unit: (fn) => outbox.unit((handoff) => store.unit((db) => fn(new Tx(db, store.rowLocks, handoff)))),
    reads: new Reads(store.read),
  };
}

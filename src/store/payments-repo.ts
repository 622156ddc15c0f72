/** Kysely implementation of the payments repository, shared by SQLite and PostgreSQL. */
import { sql, type Selectable, type SelectQueryBuilder } from 'kysely';
import { merchantBalance, type Journal } from '../core/ledger/journal.ts';
import {
  StaleWrite,
  type AttemptFilter,
  type Balance,
  type IntentFilter,
  type Page,
  type PageRequest,
  type PaymentsReads,
  type PaymentsStore,
  type PaymentsTx,
  type RefundFilter,
} from '../core/payments/repository.ts';
import { MerchantMemo } from '../core/merchants/memo.ts';
import { appendToOutbox, noHandoff, Outbox, type EventRow, type Handoff } from './outbox.ts';
import type { IdempotencyKey } from '../core/payments/command.ts';
import { paymentMethodName } from '../core/payments/stats.ts';
import type { DomainEvent, PaymentAttempt, PaymentIntent, Refund } from '../core/payments/types.ts';
import { insertRow, insertRows, prepared, selectRow, sendUpdate, updateOneRow } from './compiled.ts';
import { claimKey, reserveReference, sendCompleteKey } from './request-guards.ts';
import type { Database, PaymentAttemptTable, PaymentIntentTable, RefundTable } from './schema.ts';
import type { Db, Store } from './store.ts';
import { attemptInFlight, refundInFlight, unpaidIntent } from './sweep-conditions.ts';

const merchantWebhookUrl = prepared<{ webhook_url: string | null }>('merchant webhook url', (db, p) =>
  db.selectFrom('merchants').select('webhook_url').where('id', '=', p('id')),
);

const json = (v: unknown): string | null => (v === null || v === undefined ? null : JSON.stringify(v));
const parse = <T>(v: string | null): T | null => (v === null ? null : (JSON.parse(v) as T));

export function intentRow(i: PaymentIntent): PaymentIntentTable {
  return {
    id: i.id,
    merchant_id: i.merchantId,
    amount: i.amount,
    currency: i.currency,
    status: i.status,
    captured_amount: i.capturedAmount,
    description: i.description,
    merchant_order_id: i.merchantOrderId,
    metadata: json(i.metadata),
    return_url: i.returnUrl,
    customer: json(i.customer),
    client_secret: i.clientSecret,
    latest_attempt_id: i.latestAttemptId,
    next_action: json(i.nextAction),
    origin: i.origin,
    notify_url: i.notifyUrl,
    cancellation_reason: i.cancellationReason,
    cancel_time: i.cancelTime,
    complete_time: i.completeTime,
    expires_at: i.expiresAt,
    created_at: i.createdAt,
    updated_at: i.updatedAt,
    version: i.version,
  };
}

export function toIntent(r: Selectable<PaymentIntentTable>): PaymentIntent {
  return {
    id: r.id,
    merchantId: r.merchant_id,
    amount: Number(r.amount),
    currency: r.currency,
    status: r.status as PaymentIntent['status'],
    capturedAmount: Number(r.captured_amount),
    description: r.description,
    merchantOrderId: r.merchant_order_id,
    metadata: parse(r.metadata),
    returnUrl: r.return_url,
    customer: parse(r.customer),
    clientSecret: r.client_secret,
    latestAttemptId: r.latest_attempt_id,
    nextAction: parse(r.next_action),
    origin: r.origin,
    notifyUrl: r.notify_url,
    cancellationReason: r.cancellation_reason as PaymentIntent['cancellationReason'],
    cancelTime: r.cancel_time === null ? null : Number(r.cancel_time),
    completeTime: r.complete_time === null ? null : Number(r.complete_time),
    expiresAt: Number(r.expires_at),
    createdAt: Number(r.created_at),
    updatedAt: Number(r.updated_at),
    version: Number(r.version),
  };
}

export function attemptRow(a: PaymentAttempt): PaymentAttemptTable {
  return {
    id: a.id,
    intent_id: a.intentId,
    merchant_id: a.merchantId,
    amount: a.amount,
    currency: a.currency,
    status: a.status,
    captured_amount: a.capturedAmount,
    refunded_amount: a.refundedAmount,
    auto_capture: a.autoCapture ? 1 : 0,
    payment_method: JSON.stringify(a.paymentMethod),
    method: paymentMethodName(a.paymentMethod),
    failure_code: a.failureCode,
    auth_code: a.authCode,
    rrn: a.rrn,
    arn: a.arn,
    advice_code: a.adviceCode,
    authentication_data: json(a.authentication),
    three_ds_challenge_id: a.threeDSChallengeId,
    wallet_token: a.walletToken,
    wallet_data: json(a.wallet),
    cancellation_reason: a.cancellationReason,
    complete_time: a.completeTime,
    created_at: a.createdAt,
    updated_at: a.updatedAt,
  };
}

export function toAttempt(r: Selectable<PaymentAttemptTable>): PaymentAttempt {
  return {
    id: r.id,
    intentId: r.intent_id,
    merchantId: r.merchant_id,
    amount: Number(r.amount),
    currency: r.currency,
    status: r.status as PaymentAttempt['status'],
    capturedAmount: Number(r.captured_amount),
    refundedAmount: Number(r.refunded_amount),
    autoCapture: Number(r.auto_capture) === 1,
    paymentMethod: JSON.parse(r.payment_method),
    failureCode: r.failure_code,
    authCode: r.auth_code,
    rrn: r.rrn,
    arn: r.arn,
    adviceCode: r.advice_code,
    authentication: parse(r.authentication_data),
    threeDSChallengeId: r.three_ds_challenge_id,
    walletToken: r.wallet_token,
    wallet: parse(r.wallet_data),
    cancellationReason: r.cancellation_reason as PaymentAttempt['cancellationReason'],
    completeTime: r.complete_time === null ? null : Number(r.complete_time),
    createdAt: Number(r.created_at),
    updatedAt: Number(r.updated_at),
  };
}

export function refundRow(f: Refund): RefundTable {
  return {
    id: f.id,
    merchant_id: f.merchantId,
    intent_id: f.intentId,
    attempt_id: f.attemptId,
    amount: f.amount,
    currency: f.currency,
    status: f.status,
    reason: f.reason,
    metadata: json(f.metadata),
    failure_code: f.failureCode,
    shopper_amount: f.shopperAmount ?? null,
    created_at: f.createdAt,
    updated_at: f.updatedAt,
    notify_url: f.notifyUrl ?? null,
  };
}

export function toRefund(r: Selectable<RefundTable>): Refund {
  return {
    id: r.id,
    merchantId: r.merchant_id,
    intentId: r.intent_id,
    attemptId: r.attempt_id,
    amount: Number(r.amount),
    currency: r.currency,
    status: r.status as Refund['status'],
    reason: r.reason,
    metadata: parse(r.metadata),
    failureCode: r.failure_code,
    shopperAmount: r.shopper_amount === null ? null : Number(r.shopper_amount),
    createdAt: Number(r.created_at),
    updatedAt: Number(r.updated_at),
    ...(r.notify_url ? { notifyUrl: r.notify_url } : {}),
  };
}

/**
 * Merchants' webhook URLs, remembered per merchant for ACTIVE_CHECK_TTL_MS:
 * the merchant service forgets one whose URL it changes, other processes
 * sharing the database follow within that time.
 */
class WebhookUrls {
  constructor(private readonly memo: MerchantMemo<string | null>) {}

  of(db: Db, merchantId: string): Promise<string | null> {
    return this.memo.get(merchantId, async (id) => (await merchantWebhookUrl.execute(db, { id }))[0]?.webhook_url ?? null);
  }
}

/**
 * The intent and attempt rows a unit has read or written, as the database
 * holds them now, so that an update writes only the columns it changes: the
 * fewer columns an UPDATE sets, the fewer values it binds and the fewer of
 * the table's indexes it rewrites (SQLite rewrites every index on a column
 * the statement sets, changed or not).
 */
class KnownRows {
  private readonly rows = new Map<string, Row>();

  remember(table: string, id: string, row: object): void {
    this.rows.set(`${table}\u0000${id}`, row as Row);
  }

  get(table: string, id: string): Row | undefined {
    return this.rows.get(`${table}\u0000${id}`);
  }
}

/** The columns of `next` other than `keys` whose values differ from the known row (all of them when the row is not known). */
function changedColumns(rows: KnownRows | null, table: string, id: string, next: Row, keys: ReadonlySet<string>): Row {
  const known = rows?.get(table, id);
  const out: Row = {};
  for (const k in next) {
    if (keys.has(k)) continue;
    // Numbers from SQLite and PostgreSQL's bigint strings compare as the same value.
    if (known && k in known && String(known[k]) === String(next[k]) && (known[k] === null) === (next[k] === null)) continue;
    out[k] = next[k];
  }
  return out;
}

type Row = Record<string, unknown>;

/** Columns an update never sets: the row's identity. */
const INTENT_KEYS: ReadonlySet<string> = new Set(['id', 'merchant_id', 'created_at']);
const ATTEMPT_KEYS: ReadonlySet<string> = new Set(['id', 'merchant_id', 'intent_id', 'created_at']);

class Tx implements PaymentsTx {
  /** `known` is the unit's own record of rows (null for reads outside a unit, which write nothing and must not accumulate rows). */
  constructor(
    private readonly db: Db,
    private readonly rowLocks: boolean,
    private readonly webhookUrls: WebhookUrls,
    private readonly known: KnownRows | null,
    /** This unit's hand-off of new deliveries to the process's relay. */
    private readonly handoff: Handoff = noHandoff,
  ) {}

  // The statements of the payment path go through compiled.ts: built and compiled once, not per call.

  async intent(merchantId: string, id: string, lock = false) {
    const r = await selectRow<Selectable<PaymentIntentTable>>(this.db, 'payment_intents', { id, merchant_id: merchantId }, lock && this.rowLocks);
    if (!r) return null;
    this.known?.remember('payment_intents', id, r);
    return toIntent(r);
  }

  async attempt(merchantId: string, id: string) {
    const r = await selectRow<Selectable<PaymentAttemptTable>>(this.db, 'payment_attempts', { id, merchant_id: merchantId });
    if (!r) return null;
    this.known?.remember('payment_attempts', id, r);
    return toAttempt(r);
  }

  async attemptByChallenge(challengeId: string) {
    const r = await this.db.selectFrom('payment_attempts').selectAll().where('three_ds_challenge_id', '=', challengeId).executeTakeFirst();
    return r ? toAttempt(r) : null;
  }

  async attemptByWalletToken(token: string) {
    const r = await this.db.selectFrom('payment_attempts').selectAll().where('wallet_token', '=', token).executeTakeFirst();
    return r ? toAttempt(r) : null;
  }

  async refund(merchantId: string, id: string) {
    const r = await this.db.selectFrom('refunds').selectAll().where('id', '=', id).where('merchant_id', '=', merchantId).executeTakeFirst();
    return r ? toRefund(r) : null;
  }

  async insertIntent(intent: PaymentIntent) {
    const row = intentRow(intent);
    await insertRow(this.db, 'payment_intents', row);
    this.known?.remember('payment_intents', intent.id, row);
  }

  async updateIntent(intent: PaymentIntent) {
    const stored = { ...intent, version: intent.version + 1 };
    const row = intentRow(stored);
    const set = changedColumns(this.known, 'payment_intents', intent.id, row as unknown as Row, INTENT_KEYS);
    // Checked before the unit commits: a stale version fails the unit with StaleWrite (see compiled.ts).
    await updateOneRow(this.db, 'payment_intents', set, { id: intent.id, version: intent.version }, () => new StaleWrite('payment_intent', intent.id));
    this.known?.remember('payment_intents', intent.id, row);
    return stored;
  }

  basedOn(intent: PaymentIntent, attempt: PaymentAttempt) {
    this.known?.remember('payment_intents', intent.id, intentRow(intent));
    this.known?.remember('payment_attempts', attempt.id, attemptRow(attempt));
  }

  async insertAttempt(attempt: PaymentAttempt) {
    const row = attemptRow(attempt);
    await insertRow(this.db, 'payment_attempts', row);
    this.known?.remember('payment_attempts', attempt.id, row);
  }

  async updateAttempt(attempt: PaymentAttempt) {
    const row = attemptRow(attempt);
    const set = changedColumns(this.known, 'payment_attempts', attempt.id, row as unknown as Row, ATTEMPT_KEYS);
    if (hasAny(set)) await sendUpdate(this.db, 'payment_attempts', set, { id: attempt.id });
    this.known?.remember('payment_attempts', attempt.id, row);
  }

  async insertRefund(refund: Refund) {
    await this.db.insertInto('refunds').values(refundRow(refund)).execute();
  }

  async updateRefund(refund: Refund) {
    await this.db
      .updateTable('refunds')
      .set({ status: refund.status, failure_code: refund.failureCode, updated_at: refund.updatedAt })
      .where('id', '=', refund.id)
      .execute();
  }

  async post(journal: Journal, now: number) {
    await insertRows(
      this.db,
      'ledger_entries',
      journal.entries.map((e) => ({
        journal_id: journal.id,
        merchant_id: journal.merchantId,
        account: e.account,
        currency: e.currency,
        amount: e.amount,
        source_id: journal.sourceId,
        created_at: now,
      })),
    );
  }

  async appendEvents(events: DomainEvent[]) {
    if (events.length === 0) return;
    // The events of one transition share their snapshot: serialized once.
    const payloads = new Map<object, string>();
    const payloadOf = (p: object) => payloads.get(p) ?? payloads.set(p, JSON.stringify(p)).get(p)!;
    const rows: EventRow[] = events.map((e) => ({
      id: e.id,
      merchant_id: e.merchantId,
      type: e.type,
      source_id: e.sourceId,
      payload: payloadOf(e.payload),
      created_at: e.createdAt,
    }));
    // Each event goes, in the dialect its intent came through, to the
    // intent's notify URL or else the merchant's webhook URL.
    const target = async (e: DomainEvent) => ({ dialect: e.notify.dialect, url: e.notify.url || (await this.webhookUrls.of(this.db, e.merchantId)) });
    await appendToOutbox(this.db, events, rows, target, this.handoff);
  }

  async vaultPut(token: string, ciphertext: string, expiresAt: number) {
    await this.db.insertInto('card_vault').values({ token, ciphertext, expires_at: expiresAt }).execute();
  }

  async vaultTake(token: string) {
    const r = await this.db.deleteFrom('card_vault').where('token', '=', token).returning('ciphertext').executeTakeFirst();
    return r?.ciphertext ?? null;
  }

  claimKey(key: IdempotencyKey, now: number, subjectId: string | null) {
    return claimKey(this.db, key, now, subjectId);
  }

  completeKey(key: IdempotencyKey, status: number, body: string) {
    return sendCompleteKey(this.db, key, status, body);
  }

  reserveReference(merchantId: string, scope: string, reference: string, objectId: string, now: number) {
    return reserveReference(this.db, merchantId, scope, reference, objectId, now);
  }
}

function hasAny(row: Row): boolean {
  for (const _ in row) return true;
  return false;
}

type Listed = 'payment_intents' | 'payment_attempts' | 'refunds';

/** One page of a merchant's filtered rows of `table`, newest first, with the count of all that match. */
async function newestFirst<T extends Listed, R>(
  q: SelectQueryBuilder<Database, T, object>,
  table: T,
  page: PageRequest,
  map: (row: Selectable<Database[T]>) => R,
): Promise<Page<R>> {
  const col = (name: string) => sql.ref(`${table}.${name}`);
  const [count, rows] = await Promise.all([
    q.select(sql<number>`count(*)`.as('n')).executeTakeFirstOrThrow(),
    q
      .selectAll(table)
      .orderBy(col('created_at'), 'desc')
      .orderBy(col('id'), 'desc')
      .limit(page.pageSize)
      .offset((page.pageNumber - 1) * page.pageSize)
      .execute(),
  ]);
  return { total: Number((count as { n: number }).n), items: (rows as unknown as Selectable<Database[T]>[]).map(map) };
}

class Reads implements PaymentsReads {
  /** Single-row lookups outside any unit: the unit's queries, without row locks. */
  private readonly rows: Tx;

  constructor(
    private readonly db: Db,
    webhookUrls: WebhookUrls,
  ) {
    this.rows = new Tx(db, false, webhookUrls, null);
  }

  async intent(merchantId: string, id: string) {
    return this.rows.intent(merchantId, id);
  }

  async attempt(merchantId: string, id: string) {
    return this.rows.attempt(merchantId, id);
  }

  async attemptByChallenge(challengeId: string) {
    return this.rows.attemptByChallenge(challengeId);
  }

  async attemptByWalletToken(token: string) {
    return this.rows.attemptByWalletToken(token);
  }

  async attemptsByIds(merchantId: string, ids: string[]) {
    if (ids.length === 0) return [];
    const rows = await this.db.selectFrom('payment_attempts').selectAll().where('merchant_id', '=', merchantId).where('id', 'in', ids).execute();
    return rows.map(toAttempt);
  }

  async refund(merchantId: string, id: string) {
    return this.rows.refund(merchantId, id);
  }

  async listIntents(merchantId: string, f: IntentFilter, page: PageRequest): Promise<Page<PaymentIntent>> {
    let q = this.db.selectFrom('payment_intents').where('merchant_id', '=', merchantId);
    if (f.status) q = q.where('status', '=', f.status);
    if (f.createdFrom !== undefined) q = q.where('created_at', '>=', f.createdFrom);
    if (f.createdTo !== undefined) q = q.where('created_at', '<=', f.createdTo);
    if (f.merchantOrderId) q = q.where('merchant_order_id', '=', f.merchantOrderId);
    return newestFirst(q, 'payment_intents', page, toIntent);
  }

  async listAttempts(merchantId: string, f: AttemptFilter, page: PageRequest): Promise<Page<PaymentAttempt>> {
    let q = this.db.selectFrom('payment_attempts').where('merchant_id', '=', merchantId);
    if (f.intentId) q = q.where('intent_id', '=', f.intentId);
    if (f.status) q = q.where('status', '=', f.status);
    return newestFirst(q, 'payment_attempts', page, toAttempt);
  }

  async listRefunds(merchantId: string, f: RefundFilter, page: PageRequest): Promise<Page<Refund>> {
    let q = this.db.selectFrom('refunds').where('refunds.merchant_id', '=', merchantId);
    if (f.intentId) q = q.where('refunds.intent_id', '=', f.intentId);
    if (f.createdFrom !== undefined) q = q.where('refunds.created_at', '>=', f.createdFrom);
    if (f.createdTo !== undefined) q = q.where('refunds.created_at', '<=', f.createdTo);
    if (f.merchantOrderId) {
      const orderId = f.merchantOrderId;
      q = q.where('refunds.intent_id', 'in', (eb) =>
        eb.selectFrom('payment_intents').select('id').where('merchant_id', '=', merchantId).where('merchant_order_id', '=', orderId),
      );
    }
    return newestFirst(q, 'refunds', page, toRefund);
  }

  async balances(merchantId: string): Promise<Balance[]> {
    const rows = await this.db
      .selectFrom('ledger_entries')
      .select(['currency', 'account', (eb) => eb.fn.sum<number>('amount').as('total')])
      .where('merchant_id', '=', merchantId)
      .where('account', 'in', ['merchant_pending', 'merchant_available'])
      .groupBy(['currency', 'account'])
      .execute();
    const byCurrency = new Map<string, Balance>();
    for (const r of rows) {
      const b = byCurrency.get(r.currency) ?? { currency: r.currency, available: 0, pending: 0 };
      const value = merchantBalance(Number(r.total));
      if (r.account === 'merchant_pending') b.pending = value;
      else b.available = value;
      byCurrency.set(r.currency, b);
    }
    return [...byCurrency.values()].sort((a, b) => a.currency.localeCompare(b.currency));
  }

  async expiredIntents(now: number, limit: number) {
    const rows = await this.db
      .selectFrom('payment_intents')
      .select(['merchant_id', 'id'])
      .where(unpaidIntent)
      .where('expires_at', '<=', now)
      .limit(limit)
      .execute();
    return rows.map((r) => ({ merchantId: r.merchant_id, id: r.id }));
  }

  async attemptsInFlight(olderThan: number, limit: number) {
    const rows = await this.db
      .selectFrom('payment_attempts')
      .selectAll()
      .where(attemptInFlight)
      .where('updated_at', '<=', olderThan)
      .limit(limit)
      .execute();
    return rows.map(toAttempt);
  }

  async refundsInFlight(olderThan: number, limit: number) {
    const rows = await this.db.selectFrom('refunds').selectAll().where(refundInFlight).where('updated_at', '<=', olderThan).limit(limit).execute();
    return rows.map(toRefund);
  }
}

/**
 * `urls`: a memo of the merchant service's, which forgets a webhook URL it
 * changes (default: one nobody forgets, true within its TTL). `outbox`: where
 * units find the process's relay, to hand it their new deliveries.
 */
export function paymentsStore(store: Store, urls: MerchantMemo<string | null> = new MerchantMemo(), outbox: Outbox = new Outbox()): PaymentsStore {
  const webhookUrls = new WebhookUrls(urls);
  return {
    unit: (fn) => outbox.unit((handoff) => store.unit((db) => fn(new Tx(db, store.rowLocks, webhookUrls, new KnownRows(), handoff)))),
    reads: new Reads(store.read, webhookUrls),
  };
}

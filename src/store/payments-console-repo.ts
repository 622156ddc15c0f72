/**
 * The merchant console's reads of payments (core/payments/console.ts), on
 * the indexes of migration 015 (which says which index serves which filter).
 *
 * The list is keyset-paginated on (created_at, id), newest first: a page
 * after a cursor is an index range from that cursor, as cheap deep in the
 * list as at its top. A user sees their merchant and its sub-merchants;
 * each merchant's page is read along its own index range and the pages are
 * merged, since one query over `merchant_id in (...)` cannot walk a single
 * index in created_at order and would sort every matching row instead.
 */
import type {
  DeliveryRecord,
  EventRecord,
  ListCursor,
  PaymentConsoleReads,
  PaymentListFilter,
  PaymentListPage,
  PaymentRecord,
} from '../core/payments/console.ts';
import type { PaymentAttempt } from '../core/payments/types.ts';
import { toAttempt, toIntent, toRefund } from './payments-repo.ts';
import type { Db, Store } from './store.ts';

/** A card's last 4 digits, as a search term may be. */
const LAST4 = /^\d{4}$/;

export interface ConsoleReadsOptions {
  /**
   * The merchant_references scopes a search looks in (the dialects' order
   * and refund numbers): named, so each lookup is a primary-key probe of
   * (merchant_id, scope, reference).
   */
  referenceScopes: string[];
  /** Card last 4 digits matching more payments than this are matched by walking the list (see SearchMatch); default 1000. */
  listedLast4Max?: number;
}

/**
 * What a search matched: the intents its terms name by an id or reference
 * (a few, found by index probes), and the card last 4 digits to match when
 * they are too common to list (then the page walks the list's index and
 * probes each payment's attempts by intent id: common means the page fills
 * after a few hundred probes).
 */
export interface SearchMatch {
  intentIds: string[];
  commonLast4: string[];
}

async function searchMatch(db: Db, opts: ConsoleReadsOptions, merchantIds: string[], terms: string[]): Promise<SearchMatch> {
  const listedLast4Max = opts.listedLast4Max ?? 1000;
  const refs = db
    .selectFrom('merchant_references')
    .select('object_id')
    .where('merchant_id', 'in', merchantIds)
    .where('scope', 'in', opts.referenceScopes.length ? opts.referenceScopes : [''])
    .where('reference', 'in', terms);
  // A reference names an order (its intent) or a refund (whose intent is looked up). Those objects are the
  // merchants' own already: asking for their merchant again would lead the planner to walk a merchant index.
  const named = await db
    .selectFrom('payment_intents')
    .select('id as intent_id')
    .where('id', 'in', terms)
    .where('merchant_id', 'in', merchantIds)
    .unionAll(db.selectFrom('payment_intents').select('id as intent_id').where('merchant_id', 'in', merchantIds).where('merchant_order_id', 'in', terms))
    .unionAll(db.selectFrom('payment_attempts').select('intent_id').where('id', 'in', terms).where('merchant_id', 'in', merchantIds))
    .unionAll(db.selectFrom('refunds').select('intent_id').where('id', 'in', terms).where('merchant_id', 'in', merchantIds))
    .unionAll(db.selectFrom('payment_intents').select('id as intent_id').where('id', 'in', refs))
    .unionAll(db.selectFrom('refunds').select('intent_id').where('id', 'in', refs))
    .execute();
  const intentIds = new Set(named.map((r) => r.intent_id));
  const last4 = terms.filter((t) => LAST4.test(t));
  const commonLast4: string[] = [];
  if (last4.length) {
    const cards = await db
      .selectFrom('payment_attempts')
      .select('intent_id')
      .where('merchant_id', 'in', merchantIds)
      .where('card_last4', 'in', last4)
      .limit(listedLast4Max + 1)
      .execute();
    if (cards.length > listedLast4Max) commonLast4.push(...last4);
    else for (const c of cards) intentIds.add(c.intent_id);
  }
  return { intentIds: [...intentIds], commonLast4 };
}

/** One merchant's page of the list: its rows after the cursor, newest first (exported so tests can ask for its plan). */
export function merchantPageQuery(db: Db, merchantId: string, f: PaymentListFilter, search: SearchMatch | null, after: ListCursor | null, limit: number) {
  let q = db.selectFrom('payment_intents as i').selectAll('i').where('i.merchant_id', '=', merchantId);
  if (f.method) {
    const [kind, name] = f.method.split(':');
    q = q.innerJoin('payment_attempts as a', 'a.id', 'i.latest_attempt_id').where('a.method_name', name ? '=' : 'like', name ? f.method : `${kind}:%`);
  }
  if (f.status) q = q.where('i.status', '=', f.status);
  if (f.origin) q = q.where('i.origin', '=', f.origin);
  if (f.currency) q = q.where('i.currency', '=', f.currency);
  if (f.createdFrom !== undefined) q = q.where('i.created_at', '>=', f.createdFrom);
  if (f.createdBefore !== undefined) q = q.where('i.created_at', '<', f.createdBefore);
  if (f.amountMin !== undefined) q = q.where('i.amount', '>=', f.amountMin);
  if (f.amountMax !== undefined) q = q.where('i.amount', '<=', f.amountMax);
  if (search) {
    const { intentIds, commonLast4 } = search;
    q = q.where((eb) => {
      const named = eb('i.id', 'in', intentIds.length ? intentIds : ['']);
      if (!commonLast4.length) return named;
      const card = eb.selectFrom('payment_attempts as c').select('c.id').whereRef('c.intent_id', '=', 'i.id').where('c.card_last4', 'in', commonLast4);
      return eb.or([named, eb.exists(card)]);
    });
  }
  if (after) q = q.where((eb) => eb(eb.refTuple('i.created_at', 'i.id'), '<', eb.tuple(after.createdAt, after.id)));
  return q.orderBy('i.created_at', 'desc').orderBy('i.id', 'desc').limit(limit);
}

export function paymentConsoleReads(store: Store, opts: ConsoleReadsOptions): PaymentConsoleReads {
  const db = store.read;
  const merchantPage = async (merchantId: string, f: PaymentListFilter, search: SearchMatch | null, after: ListCursor | null, limit: number) =>
    (await merchantPageQuery(db, merchantId, f, search, after, limit).execute()).map(toIntent);

  async function attemptsByIds(ids: string[]): Promise<Map<string, PaymentAttempt>> {
    if (!ids.length) return new Map();
    const rows = await db.selectFrom('payment_attempts').selectAll().where('id', 'in', ids).execute();
    return new Map(rows.map((r) => [r.id, toAttempt(r)]));
  }

  return {
    async list(f, after, limit) {
      if (!f.merchantIds.length) return { items: [], next: null };
      const terms = f.search?.map((t) => t.trim()).filter((t) => t !== '') ?? [];
      const search = terms.length ? await searchMatch(db, opts, f.merchantIds, terms) : null;
      if (search && !search.intentIds.length && !search.commonLast4.length) return { items: [], next: null };
      const pages = await Promise.all(f.merchantIds.map((m) => merchantPage(m, f, search, after, limit + 1)));
      const merged = pages
        .flat()
        .sort((x, y) => y.createdAt - x.createdAt || (y.id < x.id ? -1 : y.id > x.id ? 1 : 0))
        .slice(0, limit + 1);
      const intents = merged.slice(0, limit);
      const attempts = await attemptsByIds(intents.map((i) => i.latestAttemptId).filter((id): id is string => !!id));
      const last = intents[intents.length - 1];
      const page: PaymentListPage = {
        items: intents.map((intent) => ({ intent, attempt: intent.latestAttemptId ? attempts.get(intent.latestAttemptId) ?? null : null })),
        next: merged.length > limit && last ? { createdAt: last.createdAt, id: last.id } : null,
      };
      return page;
    },

    async record(merchantIds, intentId) {
      if (!merchantIds.length) return null;
      const row = await db.selectFrom('payment_intents').selectAll().where('id', '=', intentId).where('merchant_id', 'in', merchantIds).executeTakeFirst();
      if (!row) return null;
      const intent = toIntent(row);
      const [attemptRows, refundRows] = await Promise.all([
        db.selectFrom('payment_attempts').selectAll().where('intent_id', '=', intent.id).orderBy('created_at').orderBy('id').execute(),
        db.selectFrom('refunds').selectAll().where('intent_id', '=', intent.id).orderBy('created_at').orderBy('id').execute(),
      ]);
      const sources = [intent.id, ...attemptRows.map((a) => a.id), ...refundRows.map((r) => r.id)];
      const [events, ledger] = await Promise.all([eventsOf(db, sources), ledgerOf(db, sources)]);
      const record: PaymentRecord = { intent, attempts: attemptRows.map(toAttempt), refunds: refundRows.map(toRefund), events, ledger };
      return record;
    },
  };
}

/** The events about these objects, each with its deliveries and their tries. */
async function eventsOf(db: Db, sources: string[]): Promise<EventRecord[]> {
  const events = await db
    .selectFrom('events')
    .select(['id', 'type', 'source_id', 'created_at'])
    .where('source_id', 'in', sources)
    .orderBy('created_at')
    .orderBy('id')
    .execute();
  if (!events.length) return [];
  const deliveries = await db
    .selectFrom('deliveries')
    .select(['id', 'event_id', 'dialect', 'url', 'status', 'next_attempt_at'])
    .where('event_id', 'in', events.map((e) => e.id))
    .orderBy('created_at')
    .execute();
  const tries = deliveries.length
    ? await db
        .selectFrom('delivery_attempts')
        .select(['delivery_id', 'attempt', 'status_code', 'error', 'duration_ms', 'attempted_at', 'response_body'])
        .where('delivery_id', 'in', deliveries.map((d) => d.id))
        .orderBy('attempt')
        .orderBy('id')
        .execute()
    : [];
  const byEvent = new Map<string, DeliveryRecord[]>();
  for (const d of deliveries) {
    const list = byEvent.get(d.event_id) ?? [];
    list.push({
      id: d.id,
      dialect: d.dialect,
      url: d.url,
      status: d.status,
      nextAttemptAt: Number(d.next_attempt_at),
      tries: tries
        .filter((t) => t.delivery_id === d.id)
        .map((t) => ({ attempt: t.attempt, statusCode: t.status_code, error: t.error, durationMs: t.duration_ms, attemptedAt: Number(t.attempted_at), responseBody: t.response_body })),
    });
    byEvent.set(d.event_id, list);
  }
  return events.map((e) => ({ id: e.id, type: e.type, sourceId: e.source_id, createdAt: Number(e.created_at), deliveries: byEvent.get(e.id) ?? [] }));
}

async function ledgerOf(db: Db, sources: string[]) {
  const rows = await db
    .selectFrom('ledger_entries')
    .select(['journal_id', 'account', 'currency', 'amount', 'source_id', 'created_at'])
    .where('source_id', 'in', sources)
    .orderBy('id')
    .execute();
  return rows.map((r) => ({ journalId: r.journal_id, account: r.account, currency: r.currency, amount: Number(r.amount), sourceId: r.source_id, createdAt: Number(r.created_at) }));
}

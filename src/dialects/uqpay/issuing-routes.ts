/**
 * UQPAY Card Issuance v1 routes (seed 001, spec section 4), under /api with
 * the acquiring routes' token auth, idempotency keys and error envelope. The
 * issuing API's own error types (card_error, cardholder_error,
 * conflict_error) are chosen here, in one place.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { DomainError, isDomainError } from '../../core/errors.ts';
import { DISPLAY_TOKEN_TTL_MS, type CreateCardInput, type IssuingHooks, type IssuingService, type UpdateCardInput } from '../../core/issuing/service.ts';
import type { Cardholder, IssuingTransaction, RiskControls as CoreRiskControls, SpendingControl } from '../../core/issuing/types.ts';
import type { MerchantService } from '../../core/merchants/merchants.ts';
import { assertCurrency, parseAmountInput } from '../../core/money.ts';
import { KeyTaken, type IdempotencyKeys } from '../../http/idempotency.ts';
import { toUqpayError, UqpayHttpError } from './errors.ts';
import {
  BalanceBody,
  BalanceTransactionsQuery,
  CardAmountBody,
  CardStatusBody,
  CreateCardBody,
  CreateCardholderBody,
  ListCardholdersQuery,
  ListCardsQuery,
  ListTransactionsQuery,
  SimulateAuthorizationBody,
  SimulateDepositBody,
  SimulateReversalBody,
  TransferBody,
  UpdateCardBody,
  UpdateCardholderBody,
  type RiskControls,
  type SpendingControls,
} from './issuing-schemas.ts';
import * as wire from './issuing-serializers.ts';
import { IdParams, PageQuery } from './schemas.ts';
import { page } from './serializers.ts';
import { parseWireTime } from './wire-format.ts';

export interface IssuingDeps {
  issuing: IssuingService;
  idempotency: IdempotencyKeys;
  merchants: MerchantService;
  /** The sandbox's simulation endpoints are mounted. */
  simulation: boolean;
}

const METADATA_MAX_BYTES = 3200;

/** Domain errors in the issuing API's types: state and amount rules are card (or cardholder) errors, a taken email or phone a conflict. */
export function toIssuingError(e: unknown): UqpayHttpError {
  if (isDomainError(e)) {
    const type = e.code.startsWith('cardholder') ? 'cardholder_error' : 'card_error';
    switch (e.kind) {
      case 'invalid_state':
      case 'amount':
        return new UqpayHttpError(400, { type, code: e.code, message: e.message });
      case 'duplicate':
        return new UqpayHttpError(409, { type: 'conflict_error', code: e.code, message: e.message });
    }
  }
  return toUqpayError(e);
}

type Req<B = unknown, Q = unknown> = FastifyRequest<{ Body: B; Params: IdParams; Querystring: Q }>;

function metadata(value: Record<string, unknown> | undefined): Record<string, unknown> | undefined {
  if (value !== undefined && Buffer.byteLength(JSON.stringify(value)) > METADATA_MAX_BYTES) {
    throw DomainError.validation(`metadata must be at most ${METADATA_MAX_BYTES} bytes`, 'metadata');
  }
  return value;
}

const flag = (v: 'Y' | 'N' | boolean | undefined): boolean | undefined => (v === undefined ? undefined : v === true || v === 'Y');

function riskControls(r: RiskControls | undefined): Partial<CoreRiskControls> | undefined {
  if (!r) return undefined;
  const out: Partial<CoreRiskControls> = {};
  const enable = flag(r.enable_3ds);
  const allow = flag(r.allow_3ds_transactions);
  if (enable !== undefined) out.enable3ds = enable;
  if (allow !== undefined) out.allow3dsTransactions = allow;
  if (r.allowed_mcc) out.allowedMcc = [...new Set(r.allowed_mcc)];
  if (r.blocked_mcc) out.blockedMcc = [...new Set(r.blocked_mcc)];
  return out;
}

function spendingControls(s: SpendingControls | undefined, currency: string): SpendingControl[] | undefined {
  return s?.map((c, i) => ({ amount: positive(c.amount, currency, `spending_controls[${i}].amount`), interval: c.interval }));
}

/** An amount of at least one minor unit. */
function positive(value: unknown, currency: string, field: string): number {
  const amount = parseAmountInput(value, currency, field);
  if (amount <= 0) throw DomainError.validation(`${field} must be greater than 0`, field);
  return amount;
}

function timeFilter(text: string | undefined, field: string, end = false): number | undefined {
  if (!text) return undefined;
  const ms = parseWireTime(text);
  if (ms === null) throw DomainError.validation(`${field} must be an ISO-8601 time`, field);
  return end && !/\.\d/.test(text) ? ms + 999 : ms;
}

const pageOf = (q: PageQuery) => ({ pageSize: q.page_size ?? 10, pageNumber: q.page_number ?? 1 });

export async function issuingRoutes(app: FastifyInstance, deps: IssuingDeps): Promise<void> {
  const { issuing, idempotency } = deps;

  app.setErrorHandler((error, req, reply) => {
    const e = toIssuingError(error);
    if (e.status >= 500) req.log.error({ err: error }, 'uqpay issuing request failed');
    void reply.code(e.status).send(e.body);
  });

  /** Runs a command under the request's x-idempotency-key: claimed and answered in the command's own unit. */
  async function idempotent<O>(req: FastifyRequest, reply: FastifyReply, run: (hooks?: IssuingHooks<O>) => Promise<O>, render: (o: O) => unknown) {
    const key = req.headers['x-idempotency-key'];
    if (typeof key !== 'string' || key === '') return reply.send(render(await run()));
    if (key.length > 128) throw DomainError.validation('x-idempotency-key is too long', 'x-idempotency-key');
    const request = idempotency.request(req.merchantId, 'uqpay', key, idempotency.requestHash(req.method, req.url, req.rawBody ?? ''), render);
    let taken;
    try {
      return reply.type('application/json').send(await request.succeeded(await run(request)));
    } catch (error) {
      if (error instanceof KeyTaken) taken = error.claim;
      else {
        const e = toIssuingError(error);
        taken = await request.failed(e.status, JSON.stringify(e.body));
        if (!taken) throw error;
      }
    }
    if (taken.kind === 'mismatch') throw new DomainError('idempotency_mismatch', 'idempotency_key_reused', 'idempotency key was already used with a different request');
    if (taken.kind === 'processing') throw new DomainError('request_processing', 'request_processing', 'request is processing');
    return reply.code(taken.status).header('x-idempotent-replayed', 'true').type('application/json').send(taken.body);
  }

  // --- products ---
  app.get('/v1/issuing/products', { schema: { querystring: PageQuery } }, async (req: Req<unknown, PageQuery>) => {
    const { pageSize, pageNumber } = pageOf(req.query);
    const all = issuing.products();
    return page(all.slice((pageNumber - 1) * pageSize, pageNumber * pageSize).map(wire.product), all.length, pageSize);
  });

  // --- cardholders ---
  app.post('/v1/issuing/cardholders', { schema: { body: CreateCardholderBody } }, (req: Req<CreateCardholderBody>, reply) =>
    idempotent<Cardholder>(req, reply, (hooks) => {
      const b = req.body;
      return issuing.createCardholder(req.merchantId, {
        email: b.email.toLowerCase(),
        phoneNumber: b.phone_number,
        firstName: b.first_name,
        lastName: b.last_name,
        countryCode: b.country_code.toUpperCase(),
        details: cardholderDetails(b),
      }, hooks);
    }, (c) => ({ cardholder_id: c.id, cardholder_status: c.status })),
  );

  app.get('/v1/issuing/cardholders', { schema: { querystring: ListCardholdersQuery } }, async (req: Req<unknown, ListCardholdersQuery>) => {
    const q = req.query;
    const p = pageOf(q);
    const found = await issuing.listCardholders(req.merchantId, { ...(q.cardholder_status && { status: q.cardholder_status }), ...(q.email && { email: q.email.toLowerCase() }) }, p);
    return page(found.items.map(wire.cardholder), found.total, p.pageSize);
  });

  app.get('/v1/issuing/cardholders/:id', { schema: { params: IdParams } }, async (req: Req) => wire.cardholder(await issuing.getCardholder(req.merchantId, req.params.id)));

  app.post('/v1/issuing/cardholders/:id', { schema: { params: IdParams, body: UpdateCardholderBody } }, (req: Req<UpdateCardholderBody>, reply) =>
    idempotent(req, reply, (hooks) => {
      const b = req.body;
      return issuing.updateCardholder(req.merchantId, req.params.id, {
        ...(b.email !== undefined && { email: b.email.toLowerCase() }),
        ...(b.phone_number !== undefined && { phoneNumber: b.phone_number }),
        ...(b.first_name !== undefined && { firstName: b.first_name }),
        ...(b.last_name !== undefined && { lastName: b.last_name }),
        ...(b.country_code !== undefined && { countryCode: b.country_code.toUpperCase() }),
        details: cardholderDetails(b),
      }, hooks);
    }, wire.cardholder),
  );

  // --- cards ---
  app.post('/v1/issuing/cards', { schema: { body: CreateCardBody } }, (req: Req<CreateCardBody>, reply) =>
    idempotent(req, reply, (hooks) => {
      const b = req.body;
      const currency = assertCurrency(b.card_currency, 'card_currency');
      const input: CreateCardInput = { cardholderId: b.cardholder_id, productId: b.card_product_id, currency };
      if (b.card_limit !== undefined) input.cardLimit = parseAmountInput(b.card_limit, currency, 'card_limit');
      const spending = spendingControls(b.spending_controls, currency);
      if (spending) input.spending = spending;
      const risk = riskControls(b.risk_controls);
      if (risk) input.risk = risk;
      const meta = metadata(b.metadata);
      if (meta) input.metadata = meta;
      if (b.usage_type) input.usageType = b.usage_type;
      if (b.auto_cancel_trigger) input.autoCancelTrigger = b.auto_cancel_trigger;
      return issuing.createCard(req.merchantId, input, hooks);
    }, wire.createdCard),
  );

  app.get('/v1/issuing/cards', { schema: { querystring: ListCardsQuery } }, async (req: Req<unknown, ListCardsQuery>) => {
    const q = req.query;
    const p = pageOf(q);
    const found = await issuing.listCards(
      req.merchantId,
      { ...(q.card_status && { status: q.card_status }), ...(q.cardholder_id && { cardholderId: q.cardholder_id }), ...(q.card_number && { last4: q.card_number.slice(-4) }) },
      p,
    );
    return page(found.items.map(wire.card), found.total, p.pageSize);
  });

  app.get('/v1/issuing/cards/:id', { schema: { params: IdParams } }, async (req: Req) => wire.card(await issuing.getCard(req.merchantId, req.params.id)));

  app.post('/v1/issuing/cards/:id', { schema: { params: IdParams, body: UpdateCardBody } }, (req: Req<UpdateCardBody>, reply) =>
    idempotent(req, reply, async (hooks) => {
      const b = req.body;
      const { currency } = await issuing.getCard(req.merchantId, req.params.id);
      const input: UpdateCardInput = {};
      if (b.card_limit !== undefined) input.cardLimit = parseAmountInput(b.card_limit, currency, 'card_limit');
      const spending = spendingControls(b.spending_controls, currency);
      if (spending) input.spending = spending;
      const risk = riskControls(b.risk_controls);
      if (risk) input.risk = risk;
      const meta = metadata(b.metadata);
      if (meta) input.metadata = meta;
      return issuing.updateCard(req.merchantId, req.params.id, input, hooks);
    }, wire.cardOrder),
  );

  app.post('/v1/issuing/cards/:id/status', { schema: { params: IdParams, body: CardStatusBody } }, (req: Req<CardStatusBody>, reply) =>
    idempotent(req, reply, (hooks) => issuing.changeCardStatus(req.merchantId, req.params.id, req.body.card_status, hooks), wire.cardOrder),
  );

  for (const direction of ['recharge', 'withdraw'] as const) {
    app.post(`/v1/issuing/cards/:id/${direction}`, { schema: { params: IdParams, body: CardAmountBody } }, (req: Req<CardAmountBody>, reply) =>
      idempotent(req, reply, async (hooks) => {
        const { currency } = await issuing.getCard(req.merchantId, req.params.id);
        return issuing.rechargeOrWithdraw(req.merchantId, req.params.id, positive(req.body.amount, currency, 'amount'), direction, hooks);
      }, wire.cardOrder),
    );
  }

  app.get('/v1/issuing/cards/:id/secure', { schema: { params: IdParams } }, async (req: Req, reply) => {
    void reply.header('cache-control', 'no-store');
    return wire.secure(await issuing.secure(req.merchantId, req.params.id));
  });

  app.post('/v1/issuing/cards/:id/token', { schema: { params: IdParams } }, async (req: Req, reply) => {
    const { token, expiresAt } = await issuing.displayToken(req.merchantId, req.params.id);
    void reply.header('cache-control', 'no-store');
    return { token, expires_in: DISPLAY_TOKEN_TTL_MS / 1000, expires_at: Math.floor(expiresAt / 1000) };
  });

  // --- balances and transfers ---
  app.get('/v1/issuing/balances', { schema: { querystring: PageQuery } }, async (req: Req<unknown, PageQuery>) => {
    const p = pageOf(req.query);
    const all = await issuing.balances(req.merchantId);
    return page(all.slice((p.pageNumber - 1) * p.pageSize, p.pageNumber * p.pageSize).map(wire.balance), all.length, p.pageSize);
  });

  app.post('/v1/issuing/balances', { schema: { body: BalanceBody } }, async (req: Req<BalanceBody>) => {
    const currency = assertCurrency(req.body.currency);
    const found = (await issuing.balances(req.merchantId)).find((b) => b.currency === currency);
    if (!found) throw DomainError.notFound('issuing balance', currency);
    return wire.balance(found);
  });

  app.get('/v1/issuing/balances/transactions', { schema: { querystring: BalanceTransactionsQuery } }, async (req: Req<unknown, BalanceTransactionsQuery>) => {
    const p = pageOf(req.query);
    const currency = req.query.currency ? assertCurrency(req.query.currency) : undefined;
    const found = await issuing.balanceTransactions(req.merchantId, currency, p);
    return page(found.items.map(wire.balanceTransaction), found.total, p.pageSize);
  });

  app.post('/v1/issuing/transfers', { schema: { body: TransferBody } }, (req: Req<TransferBody>, reply) =>
    idempotent(req, reply, (hooks) => {
      const b = req.body;
      const currency = assertCurrency(b.currency);
      const canUse = async (account: string) => account === req.merchantId || (await deps.merchants.byId(account))?.parentId === req.merchantId;
      return issuing.transfer(req.merchantId, { from: b.source_account_id, to: b.destination_account_id, currency, amount: positive(b.amount, currency, 'amount') }, canUse, hooks);
    }, wire.transfer),
  );

  app.get('/v1/issuing/transfers', { schema: { querystring: PageQuery } }, async (req: Req<unknown, PageQuery>) => {
    const p = pageOf(req.query);
    const found = await issuing.listTransfers(req.merchantId, p);
    return page(found.items.map(wire.transfer), found.total, p.pageSize);
  });

  app.get('/v1/issuing/transfers/:id', { schema: { params: IdParams } }, async (req: Req) => wire.transfer(await issuing.getTransfer(req.merchantId, req.params.id)));

  // --- transactions ---
  app.get('/v1/issuing/transactions', { schema: { querystring: ListTransactionsQuery } }, async (req: Req<unknown, ListTransactionsQuery>) => {
    const q = req.query;
    const p = pageOf(q);
    const from = timeFilter(q.start_time, 'start_time');
    const to = timeFilter(q.end_time, 'end_time', true);
    const found = await issuing.listTransactions(
      req.merchantId,
      { ...(q.card_id && { cardId: q.card_id }), ...(from !== undefined && { createdFrom: from }), ...(to !== undefined && { createdTo: to }) },
      p,
    );
    const cards = new Map<string, { bin: string; last4: string }>();
    for (const t of found.items) if (!cards.has(t.cardId)) cards.set(t.cardId, await issuing.getCard(req.merchantId, t.cardId));
    return page(found.items.map((t) => wire.transaction(t, cards.get(t.cardId)!)), found.total, p.pageSize);
  });

  app.get('/v1/issuing/transactions/:id', { schema: { params: IdParams } }, async (req: Req) => {
    const t = await issuing.getTransaction(req.merchantId, req.params.id);
    return wire.transaction(t, await issuing.getCard(req.merchantId, t.cardId));
  });

  if (!deps.simulation) return;

  // --- sandbox simulation ---
  app.post('/v1/simulation/issuing/authorization', { schema: { body: SimulateAuthorizationBody } }, (req: Req<SimulateAuthorizationBody>, reply) => {
    let card: { bin: string; last4: string } | undefined;
    return idempotent<IssuingTransaction>(req, reply, async (hooks) => {
      const b = req.body;
      const currency = assertCurrency(b.transaction_currency, 'transaction_currency');
      const amount = positive(b.transaction_amount, currency, 'transaction_amount');
      card = await issuing.getCard(req.merchantId, b.card_id);
      return issuing.simulateAuthorization(req.merchantId, {
        cardId: b.card_id,
        amount,
        currency,
        merchantName: b.merchant_name ?? 'Sandbox Merchant',
        merchantCategoryCode: b.merchant_category_code ?? '5999',
      }, hooks);
    }, (t) => wire.transaction(t, card!));
  });

  app.post('/v1/simulation/issuing/reversal', { schema: { body: SimulateReversalBody } }, (req: Req<SimulateReversalBody>, reply) => {
    let card: { bin: string; last4: string } | undefined;
    return idempotent<IssuingTransaction>(req, reply, async (hooks) => {
      const original = await issuing.getTransaction(req.merchantId, req.body.transaction_id);
      card = await issuing.getCard(req.merchantId, original.cardId);
      return issuing.simulateReversal(req.merchantId, original.id, hooks);
    }, (t) => wire.transaction(t, card!));
  });

  /** polypay's sandbox addition: money arrives on the issuing balance, as a bank deposit would. */
  app.post('/v1/simulation/issuing/deposit', { schema: { body: SimulateDepositBody } }, (req: Req<SimulateDepositBody>, reply) =>
    idempotent(req, reply, (hooks) => {
      const currency = assertCurrency(req.body.currency);
      return issuing.deposit(req.merchantId, currency, positive(req.body.amount, currency, 'amount'), hooks);
    }, wire.balance),
  );
}

function cardholderDetails(b: UpdateCardholderBody) {
  const a = b.residential_address;
  return {
    ...(b.date_of_birth !== undefined && { dateOfBirth: b.date_of_birth }),
    ...(b.gender !== undefined && { gender: b.gender }),
    ...(b.nationality !== undefined && { nationality: b.nationality.toUpperCase() }),
    ...(a !== undefined && { residentialAddress: { line1: a.line1, line2: a.line2, city: a.city, state: a.state, postalCode: a.postal_code, country: a.country } }),
    ...(b.identity !== undefined && { identity: { type: b.identity.type, number: b.identity.number } }),
  };
}

/** UQPAY Payment Intents v2 routes: wire request -> core command -> wire response. */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { DomainError, isDomainError } from '../../core/errors.ts';
import { assertCurrency, parseAmountInput } from '../../core/money.ts';
import type { CommandHooks } from '../../core/payments/command.ts';
import type { CardInput, CreateIntentInput, IntentView, PaymentMethodInput, PaymentsService } from '../../core/payments/service.ts';
import type { CancellationReason, Refund } from '../../core/payments/types.ts';
import type { WalletFlow, WalletKind } from '../../core/ports.ts';
import { KeyTaken, type IdempotencyKeys, type IdempotentRequest, type KeyTakenClaim } from '../../http/idempotency.ts';
import { toUqpayError } from './errors.ts';
import {
  CancelIntentBody,
  UQPAY_WALLET_TYPES,
  CaptureIntentBody,
  ConfirmIntentBody,
  CreateIntentBody,
  CreateRefundBody,
  CurrencyParams,
  IdParams,
  ListAttemptsQuery,
  ListIntentsQuery,
  ListRefundsQuery,
  PageQuery,
  UpdateIntentBody,
  type WalletPaymentMethod,
} from './schemas.ts';
import * as wire from './serializers.ts';
import { parseWireTime } from './wire-format.ts';

export interface AcquiringDeps {
  payments: PaymentsService;
  idempotency: IdempotencyKeys;
}

declare module 'fastify' {
  interface FastifyRequest {
    merchantId: string;
    rawBody?: string;
  }
}

type Body<T> = FastifyRequest<{ Body: T; Params: IdParams }>;

const METADATA_MAX_BYTES = 512;

function metadata(value: Record<string, unknown> | undefined): Record<string, unknown> | undefined {
  if (value === undefined) return undefined;
  if (Buffer.byteLength(JSON.stringify(value)) > METADATA_MAX_BYTES) {
    throw DomainError.validation(`metadata must be at most ${METADATA_MAX_BYTES} bytes`, 'metadata');
  }
  return value;
}

function positiveAmount(value: unknown, currency: string, field: string): number {
  const amount = parseAmountInput(value, currency, field);
  if (amount <= 0) throw DomainError.validation(`${field} must be greater than 0`, field);
  return amount;
}

/** A card number or payment code sent as a JSON number: only exact if it is a safe integer (payment codes, 18 digits, never are). */
function digitsOf(value: string | number, field: string): string {
  if (typeof value === 'string') return value;
  if (!Number.isSafeInteger(value) || value < 0) {
    throw DomainError.validation(`${field} must be sent as a string: this number cannot be read exactly`, field);
  }
  return String(value);
}

type WirePaymentMethod = NonNullable<CreateIntentBody['payment_method']>;

/** UQPAY wallet flows -> the core's: a QR code to show, a hosted page, or an app hand-off. */
const WALLET_FLOWS = new Map<string, WalletFlow>([
  ['qrcode', 'qrcode'],
  ['mobile_web', 'web'],
  ['pc_web', 'web'],
  ['web', 'web'],
  ['h5', 'web'],
  ['mobile_app', 'sdk'],
  ['in_app', 'sdk'],
  ['app', 'sdk'],
  ['jsapi', 'sdk'],
  ['mini_program', 'sdk'],
]);

function walletMethod(kind: WalletKind, w: WalletPaymentMethod | undefined): PaymentMethodInput {
  if (!w) throw DomainError.validation(`payment_method.${kind} is required when type is ${kind}`, `payment_method.${kind}`);
  if (w.is_present) {
    // Customer-presented: the merchant scanned the shopper's payment code (seed 000).
    if (w.payment_code === undefined || w.payment_code === '') {
      throw DomainError.validation(`payment_method.${kind}.payment_code is required when is_present is true`, 'payment_code');
    }
    const paymentCode = digitsOf(w.payment_code, 'payment_code');
    return { type: 'wallet', wallet: { kind, flow: 'payment_code', paymentCode, ...(w.os_type ? { osType: w.os_type } : {}) } };
  }
  const flow = WALLET_FLOWS.get(w.flow ?? 'qrcode');
  if (!flow) throw DomainError.validation(`payment_method.${kind}.flow ${w.flow} is not supported`, 'flow');
  return { type: 'wallet', wallet: { kind, flow, ...(w.os_type ? { osType: w.os_type } : {}) } };
}

function paymentMethod(pm: WirePaymentMethod, ctx: { ip_address?: string; browser_info?: unknown }): PaymentMethodInput {
  if ((UQPAY_WALLET_TYPES as readonly string[]).includes(pm.type)) {
    const kind = pm.type as WalletKind;
    return walletMethod(kind, (pm as Record<string, unknown>)[kind] as WalletPaymentMethod | undefined);
  }
  if (pm.type !== 'card') {
    throw DomainError.validation(`payment_method.type ${pm.type} is not supported`, 'payment_method.type');
  }
  const c = pm.card;
  if (!c) throw DomainError.validation('payment_method.card is required when type is card', 'payment_method.card');
  const threeDsAction = c.three_ds_action ?? 'skip_3ds';
  if (threeDsAction === 'enforce_3ds' && (!ctx.ip_address || !ctx.browser_info)) {
    throw DomainError.validation('ip_address and browser_info are required with enforce_3ds', 'browser_info');
  }
  const card: CardInput = {
    number: digitsOf(c.card_number, 'card_number'),
    expiryMonth: c.expiry_month,
    expiryYear: c.expiry_year,
    autoCapture: c.auto_capture ?? true,
    threeDsAction,
  };
  if (c.cvc !== undefined) card.cvc = c.cvc;
  if (c.card_name !== undefined) card.cardName = c.card_name;
  if (c.authorization_type !== undefined) card.authorizationType = c.authorization_type;
  if (c.billing) {
    const b = c.billing;
    card.billing = {
      firstName: b.first_name,
      lastName: b.last_name,
      email: b.email,
      phoneNumber: b.phone_number,
      address: b.address
        ? { countryCode: b.address.country_code, state: b.address.state, city: b.address.city, street: b.address.street, postcode: b.address.postcode }
        : undefined,
    };
  }
  return { type: 'card', card };
}

/**
 * A list filter's time. Wire times are whole seconds, so an end time without
 * a fraction covers its whole second: filtering by a time the API showed
 * finds what was created in it.
 */
function timeFilter(text: string | undefined, field: string, end = false): number | undefined {
  if (!text) return undefined;
  const ms = parseWireTime(text);
  if (ms === null) throw DomainError.validation(`${field} must be an ISO-8601 time`, field);
  return end && !/\.\d/.test(text) ? ms + 999 : ms;
}

export function acquiringRoutes(app: FastifyInstance, deps: AcquiringDeps): void {
  const { payments, idempotency } = deps;

  /** The object, or null when there is none (any other failure stands). */
  const orNull = <T>(p: Promise<T>): Promise<T | null> => p.catch((e) => (isDomainError(e) && e.kind === 'not_found' ? null : Promise.reject(e)));

  /** An intent that is not waiting on the outside world, or null. */
  async function settledIntent(merchantId: string, id: string): Promise<IntentView | null> {
    const view = id.startsWith('PI') ? await orNull(payments.getIntent(merchantId, id)) : null;
    return view && view.intent.status !== 'PENDING' ? view : null;
  }

  /** A refund the network has answered, or null. */
  async function settledRefund(merchantId: string, id: string): Promise<Refund | null> {
    const refund = id.startsWith('RF') ? await orNull(payments.getRefund(merchantId, id)) : null;
    return refund && (refund.status === 'SUCCEEDED' || refund.status === 'FAILED') ? refund : null;
  }

  /** The answer to a request whose idempotency key belongs to another request. */
  async function keyTaken<O>(reply: FastifyReply, request: IdempotentRequest<O>, claim: KeyTakenClaim, settled: (id: string) => Promise<O | null>) {
    const recovered = await request.recoverAbandoned(claim, settled);
    if (recovered !== null) return reply.header('x-idempotent-replayed', 'true').type('application/json').send(recovered);
    if (claim.kind === 'mismatch') {
      throw new DomainError('idempotency_mismatch', 'idempotency_key_reused', 'idempotency key was already used with a different request');
    }
    if (claim.kind === 'processing') throw new DomainError('request_processing', 'request_processing', 'request is processing');
    return reply.code(claim.status).header('x-idempotent-replayed', 'true').type('application/json').send(claim.body);
  }

  /**
   * Runs a state-changing command under the request's x-idempotency-key: the
   * key is claimed in the command's first unit of work and its response (or
   * business error) stored with its outcome, kept for 24 hours.
   */
  async function idempotent<O>(
    req: FastifyRequest,
    reply: FastifyReply,
    run: (hooks?: CommandHooks<O>) => Promise<O>,
    render: (outcome: O) => unknown,
    /** The command's object by id once it has settled (null while in flight): the answer for a retry after a crash. */
    settled: (merchantId: string, id: string) => Promise<O | null>,
  ) {
    const key = req.headers['x-idempotency-key'];
    if (typeof key !== 'string' || key === '') return reply.send(render(await run()));
    if (key.length > 128) throw DomainError.validation('x-idempotency-key is too long', 'x-idempotency-key');
    const request = idempotency.request(req.merchantId, 'uqpay', key, idempotency.requestHash(req.method, req.url, req.rawBody ?? ''), render);
    let text: string;
    try {
      text = await request.succeeded(await run(request));
    } catch (error) {
      const settledSubject = (id: string) => settled(req.merchantId, id);
      if (error instanceof KeyTaken) return keyTaken(reply, request, error.claim, settledSubject);
      const e = toUqpayError(error);
      const taken = await request.failed(e.status, JSON.stringify(e.body));
      if (taken) return keyTaken(reply, request, taken, settledSubject);
      throw error;
    }
    return reply.type('application/json').send(text);
  }

  app.post('/v2/payment_intents/create', { schema: { body: CreateIntentBody } }, (req: Body<CreateIntentBody>, reply) =>
    idempotent<IntentView>(req, reply, async (hooks) => {
      const b = req.body;
      const currency = assertCurrency(b.currency);
      const input: CreateIntentInput = {
        amount: positiveAmount(b.amount, currency, 'amount'),
        currency,
        description: b.description ?? null,
        merchantOrderId: b.merchant_order_id ?? null,
        metadata: metadata(b.metadata) ?? null,
        returnUrl: b.return_url ?? null,
        customer: b.customer ?? (b.customer_id ? { customer_id: b.customer_id } : null),
      };
      if (b.payment_method) input.paymentMethod = paymentMethod(b.payment_method, b);
      return payments.createIntent(req.merchantId, input, hooks);
    }, wire.intent, settledIntent),
  );

  app.get('/v2/payment_intents', { schema: { querystring: ListIntentsQuery } }, async (req: FastifyRequest<{ Querystring: ListIntentsQuery }>) => {
    const q = req.query;
    const pageSize = q.page_size ?? 10;
    const status = q.intent_status ?? q.payment_intent_status;
    const from = timeFilter(q.create_start_time ?? q.start_time, 'create_start_time');
    const to = timeFilter(q.create_end_time ?? q.end_time, 'create_end_time', true);
    const page = await payments.listIntents(
      req.merchantId,
      {
        ...(status ? { status } : {}),
        ...(from !== undefined ? { createdFrom: from } : {}),
        ...(to !== undefined ? { createdTo: to } : {}),
        ...(q.merchant_order_id ? { merchantOrderId: q.merchant_order_id } : {}),
      },
      { pageSize, pageNumber: q.page_number ?? 1 },
    );
    return wire.page(page.items.map(wire.intent), page.total, pageSize);
  });

  app.get('/v2/payment_intents/:id', { schema: { params: IdParams } }, async (req: FastifyRequest<{ Params: IdParams }>) =>
    wire.intent(await payments.getIntent(req.merchantId, req.params.id)),
  );

  app.post('/v2/payment_intents/:id', { schema: { params: IdParams, body: UpdateIntentBody } }, (req: Body<UpdateIntentBody>, reply) => {
    let current: IntentView | undefined;
    return idempotent<IntentView>(req, reply, async (hooks) => {
      const b = req.body ?? {};
      current = await payments.getIntent(req.merchantId, req.params.id);
      const currency = b.currency !== undefined ? assertCurrency(b.currency) : current.intent.currency;
      const amount = b.amount !== undefined ? positiveAmount(b.amount, currency, 'amount') : undefined;
      if (amount === undefined && b.currency !== undefined && currency !== current.intent.currency) {
        // A new currency re-reads the stored amount in that currency's exponent.
        throw DomainError.validation('amount is required when currency changes', 'amount');
      }
      return payments.updateIntent(req.merchantId, req.params.id, {
        amount,
        currency: b.currency !== undefined ? currency : undefined,
        description: b.description,
        merchantOrderId: b.merchant_order_id,
        metadata: metadata(b.metadata),
        returnUrl: b.return_url,
        customer: b.customer ?? (b.customer_id ? { customer_id: b.customer_id } : undefined),
      }, hooks);
    }, (view) => wire.intent({ intent: view.intent, attempt: current?.attempt ?? null }), settledIntent);
  });

  // A body the schema refuses is reported only once the intent is known to exist: confirming an unknown intent says so first.
  app.post('/v2/payment_intents/:id/confirm', { schema: { params: IdParams, body: ConfirmIntentBody }, attachValidation: true }, async (req: Body<ConfirmIntentBody>, reply) => {
    if (req.validationError) {
      await payments.getIntent(req.merchantId, req.params.id);
      throw req.validationError;
    }
    return idempotent<IntentView>(req, reply, async (hooks) => {
      const b = req.body;
      return payments.confirmIntent(req.merchantId, req.params.id, { paymentMethod: paymentMethod(b.payment_method, b), returnUrl: b.return_url ?? null }, hooks);
    }, wire.intent, settledIntent);
  });

  app.post('/v2/payment_intents/:id/capture', { schema: { params: IdParams, body: CaptureIntentBody } }, (req: Body<CaptureIntentBody>, reply) =>
    idempotent<IntentView>(req, reply, async (hooks) => {
      const b = req.body ?? {};
      let amount: number | undefined;
      if (b.amount_to_capture !== undefined) {
        const current = await payments.getIntent(req.merchantId, req.params.id);
        amount = positiveAmount(b.amount_to_capture, current.intent.currency, 'amount_to_capture');
      }
      return payments.capture(req.merchantId, req.params.id, amount, hooks);
    }, wire.intent, settledIntent),
  );

  app.post('/v2/payment_intents/:id/cancel', { schema: { params: IdParams, body: CancelIntentBody } }, (req: Body<CancelIntentBody>, reply) =>
    idempotent<IntentView>(req, reply, async (hooks) => {
      const reason: CancellationReason = req.body?.cancellation_reason ?? 'requested_by_customer';
      return payments.cancel(req.merchantId, req.params.id, reason, hooks);
    }, wire.intent, settledIntent),
  );

  app.get('/v2/payment/payment_attempts', { schema: { querystring: ListAttemptsQuery } }, async (req: FastifyRequest<{ Querystring: ListAttemptsQuery }>) => {
    const q = req.query;
    const pageSize = q.page_size ?? 10;
    const page = await payments.listAttempts(
      req.merchantId,
      { ...(q.payment_intent_id ? { intentId: q.payment_intent_id } : {}), ...(q.attempt_status ? { status: q.attempt_status } : {}) },
      { pageSize, pageNumber: q.page_number ?? 1 },
    );
    return wire.page(page.items.map(wire.attempt), page.total, pageSize);
  });

  app.get('/v2/payment/payment_attempts/:id', { schema: { params: IdParams } }, async (req: FastifyRequest<{ Params: IdParams }>) =>
    wire.attempt(await payments.getAttempt(req.merchantId, req.params.id)),
  );

  app.post('/v2/payment/refunds', { schema: { body: CreateRefundBody } }, (req: FastifyRequest<{ Body: CreateRefundBody }>, reply) =>
    idempotent<Refund>(req, reply, async (hooks) => {
      const b = req.body;
      const current = await payments.getIntent(req.merchantId, b.payment_intent_id);
      return payments.createRefund(req.merchantId, {
        intentId: b.payment_intent_id,
        amount: positiveAmount(b.amount, current.intent.currency, 'amount'),
        reason: b.reason,
        metadata: metadata(b.metadata) ?? null,
        ...(b.payment_attempt_id ? { attemptId: b.payment_attempt_id } : {}),
      }, hooks);
    }, wire.refund, settledRefund),
  );

  app.get('/v2/payment/refunds', { schema: { querystring: ListRefundsQuery } }, async (req: FastifyRequest<{ Querystring: ListRefundsQuery }>) => {
    const q = req.query;
    const pageSize = q.page_size ?? 10;
    const from = timeFilter(q.start_time, 'start_time');
    const to = timeFilter(q.end_time, 'end_time', true);
    const page = await payments.listRefunds(
      req.merchantId,
      {
        ...(q.payment_intent_id ? { intentId: q.payment_intent_id } : {}),
        ...(q.merchant_order_id ? { merchantOrderId: q.merchant_order_id } : {}),
        ...(from !== undefined ? { createdFrom: from } : {}),
        ...(to !== undefined ? { createdTo: to } : {}),
      },
      { pageSize, pageNumber: q.page_number ?? 1 },
    );
    return wire.page(page.items.map(wire.refund), page.total, pageSize);
  });

  app.get('/v2/payment/refunds/:id', { schema: { params: IdParams } }, async (req: FastifyRequest<{ Params: IdParams }>) =>
    wire.refund(await payments.getRefund(req.merchantId, req.params.id)),
  );

  app.get('/v2/payment/balances', { schema: { querystring: PageQuery } }, async (req: FastifyRequest<{ Querystring: PageQuery }>) => {
    const pageSize = req.query.page_size ?? 10;
    const pageNumber = req.query.page_number ?? 1;
    const all = await payments.balances(req.merchantId);
    const items = all.slice((pageNumber - 1) * pageSize, pageNumber * pageSize);
    return wire.page(items.map(wire.balance), all.length, pageSize);
  });

  app.get('/v2/payment/balances/:currency', { schema: { params: CurrencyParams } }, async (req: FastifyRequest<{ Params: CurrencyParams }>) => {
    const currency = assertCurrency(req.params.currency);
    const found = (await payments.balances(req.merchantId)).find((b) => b.currency === currency);
    return wire.balance(found ?? { currency, available: 0, pending: 0 });
  });
}

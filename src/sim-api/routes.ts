/**
 * /sim/v1: the sandbox's control panel for tests and demos. Only mounted in
 * sandbox mode.
 */
import type { FastifyInstance } from 'fastify';
import type { AdjustableClock } from '../core/clock.ts';
import { isDomainError } from '../core/errors.ts';
import type { MerchantService } from '../core/merchants/merchants.ts';
import type { PaymentsService } from '../core/payments/service.ts';
import type { DeliveryRecord, DeliveryRelay } from '../delivery/relay.ts';
import { CHALLENGE_PATH } from '../web/three-ds-challenge.ts';
import { walletTokenOf } from '../web/wallet-pay.ts';

function simError(code: string, message: string) {
  return { error: { code, message } };
}

export interface SimDeps {
  clock: AdjustableClock;
  payments: PaymentsService;
  merchants: MerchantService;
  relay: DeliveryRelay;
}

const iso = (ms: number | string | null) => (ms === null ? null : new Date(Number(ms)).toISOString());

/** A delivery as the log shows it: what was sent where, and every try. */
function deliveryView(d: DeliveryRecord) {
  return {
    delivery_id: d.id,
    event_id: d.event_id,
    event_type: d.event_type,
    dialect: d.dialect,
    url: d.url,
    status: d.status,
    attempts: Number(d.attempts),
    next_attempt_at: d.status === 'pending' ? iso(d.next_attempt_at) : null,
    last_status_code: d.last_status_code,
    last_error: d.last_error,
    created_at: iso(d.created_at),
    updated_at: iso(d.updated_at),
    attempt_log: d.attempt_log.map((a) => ({ attempt: a.attempt, status_code: a.status_code, error: a.error, duration_ms: a.duration_ms, attempted_at: iso(a.attempted_at) })),
  };
}

export async function simRoutes(app: FastifyInstance, deps: SimDeps): Promise<void> {
  app.setErrorHandler((error, _req, reply) => {
    if (isDomainError(error)) {
      return reply.code(error.kind === 'not_found' ? 404 : error.kind === 'validation' ? 400 : 409).send(simError(error.code, error.message));
    }
    const e = error as { statusCode?: number; message: string; validation?: unknown };
    if (e.validation || (e.statusCode && e.statusCode < 500)) {
      return reply.code(e.statusCode ?? 400).send(simError('invalid_request', e.message));
    }
    throw error; // a fault (the database away, a bug): the app answers it in this API's shape
  });

  app.get('/clock', async () => ({ now: new Date(deps.clock.now()).toISOString(), offset_seconds: deps.clock.offsetSeconds }));

  app.post<{ Body: { seconds: number } }>(
    '/clock/advance',
    { schema: { body: { type: 'object', required: ['seconds'], properties: { seconds: { type: 'number', exclusiveMinimum: 0, maximum: 31_536_000 } } } } },
    async (req) => {
      await deps.clock.advance(req.body.seconds);
      return { now: new Date(deps.clock.now()).toISOString(), offset_seconds: deps.clock.offsetSeconds };
    },
  );

  app.post<{ Body: { url: string; result: 'success' | 'failure' } }>(
    '/3ds/complete',
    {
      schema: {
        body: {
          type: 'object',
          required: ['url', 'result'],
          properties: { url: { type: 'string', minLength: 1, maxLength: 2048 }, result: { enum: ['success', 'failure'] } },
        },
      },
    },
    async (req, reply) => {
      const m = new RegExp(`${CHALLENGE_PATH}/([A-Za-z0-9_-]+)`).exec(req.body.url);
      if (!m) return reply.code(400).send(simError('invalid_request', 'url is not a 3DS challenge URL of this platform'));
      const view = await deps.payments.completeChallenge(m[1]!, req.body.result === 'success');
      return {
        payment_intent_id: view.intent.id,
        intent_status: view.intent.status,
        attempt_status: view.attempt?.status ?? null,
        return_url: view.intent.returnUrl,
      };
    },
  );

  /** The shopper's wallet app scans a QR code (or opens a pay URL) and pays or declines. */
  app.post<{ Body: { code: string; action: 'pay' | 'decline' } }>(
    '/wallet/scan',
    {
      schema: {
        body: {
          type: 'object',
          required: ['code', 'action'],
          properties: { code: { type: 'string', minLength: 1, maxLength: 2048 }, action: { enum: ['pay', 'decline'] } },
        },
      },
    },
    async (req, reply) => {
      const token = walletTokenOf(req.body.code);
      if (!token) return reply.code(400).send(simError('invalid_request', 'code is not a QR code or pay URL of this platform'));
      const view = await deps.payments.completeWalletPayment(token, req.body.action);
      return {
        payment_intent_id: view.intent.id,
        intent_status: view.intent.status,
        attempt_status: view.attempt?.status ?? null,
        return_url: view.intent.returnUrl,
      };
    },
  );

  /** A merchant's webhook delivery log (UQPAY webhooks and QFPay notifications), newest `limit` oldest first. */
  app.get<{ Params: { merchantId: string }; Querystring: { event_id?: string; limit: number } }>(
    '/merchants/:merchantId/deliveries',
    {
      schema: {
        querystring: {
          type: 'object',
          properties: { event_id: { type: 'string', maxLength: 64 }, limit: { type: 'integer', minimum: 1, maximum: 1000, default: 100 } },
        },
      },
    },
    async (req, reply) => {
      if (!(await deps.merchants.byId(req.params.merchantId))) {
        return reply.code(404).send(simError('not_found', `merchant ${req.params.merchantId} not found`));
      }
      const log = await deps.relay.deliveryLog(req.params.merchantId, req.query.event_id, req.query.limit);
      return { data: log.map(deliveryView) };
    },
  );

  /** Registers a merchant's own RSA public key (PEM or base64 DER) for AlphaPay requests, in place of the generated pair's. */
  app.post<{ Params: { merchantId: string }; Body: { public_key: string } }>(
    '/merchants/:merchantId/alphapay-key',
    { schema: { body: { type: 'object', required: ['public_key'], properties: { public_key: { type: 'string', minLength: 1, maxLength: 8192 } } } } },
    async (req, reply) => {
      if (!(await deps.merchants.byId(req.params.merchantId))) {
        return reply.code(404).send(simError('not_found', `merchant ${req.params.merchantId} not found`));
      }
      try {
        const key = await deps.merchants.registerAlphapayPublicKey(req.params.merchantId, req.body.public_key);
        return { merchant_id: req.params.merchantId, alphapay_public_key: key };
      } catch (e) {
        return reply.code(400).send(simError('invalid_request', (e as Error).message));
      }
    },
  );

  /** Parses a JSON body and answers without storage: the baseline route for benchmarks. */
  app.post('/echo', async (req) => ({ received: true, fields: Object.keys((req.body as object) ?? {}).length, body: req.body }));
}

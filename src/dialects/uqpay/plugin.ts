/**
 * The UQPAY dialect, mounted at /api: JSON parsing that accepts the SDKs'
 * empty bodies, token auth, sub-accounts, and UQPAY's error envelope for
 * everything that goes wrong under this prefix (HTTP-level faults through
 * the app's fault formats, with uqpayFault).
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { DomainError } from '../../core/errors.ts';
import type { MerchantService } from '../../core/merchants/merchants.ts';
import { acquiringRoutes, type AcquiringDeps } from './acquiring-routes.ts';
import { issuingRoutes, type IssuingDeps } from './issuing-routes.ts';
import type { UqpayAuth } from './auth.ts';
import { ownUqpayError } from './errors.ts';

export interface UqpayDeps extends AcquiringDeps, IssuingDeps {
  auth: UqpayAuth;
  merchants: MerchantService;
}

const BODY_LIMIT = 64 * 1024;

function parseJson(req: FastifyRequest, body: string, done: (err: Error | null, value?: unknown) => void) {
  req.rawBody = body;
  // The official Node SDK sends Content-Type: application/json with no body at all.
  if (body.trim() === '') return done(null, undefined);
  try {
    done(null, JSON.parse(body));
  } catch {
    const err = new Error('request body is not valid JSON') as Error & { code: string; statusCode: number };
    err.code = 'FST_ERR_CTP_INVALID_JSON_BODY';
    err.statusCode = 400;
    done(err);
  }
}

/** Deeper than this, a request body is refused: no UQPAY request nests more than a few levels. */
const MAX_BODY_DEPTH = 32;

/**
 * A POST's body as the routes' schemas see it. No body at all (the SDKs
 * send bodyless captures and cancels) is an empty object, and a null field
 * is a field not sent, as clients that write unset fields as null mean it.
 * A body nested absurdly deep is refused here, before anything walks it.
 */
function requestBody(body: unknown): unknown {
  if (body === undefined) return {};
  dropNulls(body, 0);
  return body;
}

function dropNulls(value: unknown, depth: number): void {
  if (typeof value !== 'object' || value === null) return;
  if (depth >= MAX_BODY_DEPTH) throw DomainError.validation(`the request body is nested more than ${MAX_BODY_DEPTH} levels deep`, 'body');
  if (Array.isArray(value)) {
    for (const item of value) dropNulls(item, depth + 1);
    return;
  }
  const record = value as Record<string, unknown>;
  for (const key in record) {
    if (record[key] === null) delete record[key];
    else dropNulls(record[key], depth + 1);
  }
}

export async function uqpayPlugin(app: FastifyInstance, deps: UqpayDeps): Promise<void> {
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('application/json', { parseAs: 'string', bodyLimit: BODY_LIMIT }, parseJson);
  // Lenient: a JSON body sent without (or with another) Content-Type is still JSON.
  app.addContentTypeParser('*', { parseAs: 'string', bodyLimit: BODY_LIMIT }, parseJson);

  // HTTP-level faults (no route, the database away, overload) go on to the app's handler, which answers them with uqpayFault.
  app.setErrorHandler((error, _req, reply) => {
    const e = ownUqpayError(error);
    if (!e) throw error;
    void reply.code(e.status).send(e.body);
  });

  app.post('/v1/connect/token', async (req) => {
    const clientId = req.headers['x-client-id'];
    const apiKey = req.headers['x-api-key'];
    return deps.auth.issue(typeof clientId === 'string' ? clientId : undefined, typeof apiKey === 'string' ? apiKey : undefined);
  });

  // Everything else needs a token. Checked on request, before the body is read.
  await app.register(async (authed) => {
    authed.decorateRequest('merchantId', '');
    authed.addHook('onRequest', async (req) => {
      const header = req.headers['x-auth-token'];
      const claims = await deps.auth.verify(typeof header === 'string' ? header : undefined);
      const clientId = req.headers['x-client-id'];
      if (typeof clientId === 'string' && clientId !== '' && clientId !== claims.client_id) {
        throw new DomainError('unauthorized', 'client_id_mismatch', 'x-client-id does not match the auth token');
      }
      req.merchantId = claims.entity_id;
      const onBehalfOf = req.headers['x-on-behalf-of'];
      if (typeof onBehalfOf === 'string' && onBehalfOf.trim() !== '') {
        const sub = await deps.merchants.byId(onBehalfOf.trim());
        if (!sub || sub.parentId !== claims.entity_id) {
          throw new DomainError('sub_account_not_found', 'sub_account_not_found', `sub account ${onBehalfOf.trim()} not found`);
        }
        if (sub.disabledAt !== null) throw new DomainError('unauthorized', 'merchant_disabled', `sub account ${sub.id} is disabled`);
        req.merchantId = sub.id;
      }
    });
    authed.addHook('preValidation', async (req) => {
      if (req.method === 'POST') req.body = requestBody(req.body);
    });
    acquiringRoutes(authed, deps);
    const { issuing, idempotency, merchants, simulation } = deps;
    await authed.register(issuingRoutes, { issuing, idempotency, merchants, simulation });
  });
}

/**
 * The AlphaPay dialect: the v2 Open API under /api/v2.0/payments (RSA-signed
 * JSON, `{result}` answers) and the v1 API under /api/v1.0 (query-string
 * SHA256 sign, `{return_code}` answers). Each has its own encapsulated scope
 * with its own body parsing, validation, and error and not-found handlers,
 * so every answer under those prefixes is in AlphaPay's format.
 */
import { TypeCompiler } from '@sinclair/typebox/compiler';
import type { TSchema } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import type { Clock } from '../../core/clock.ts';
import type { MerchantService } from '../../core/merchants/merchants.ts';
import type { NonceLedger } from '../../store/alphapay-nonces.ts';
import { paymentsRoutes, type AlphapayDeps } from './payments-routes.ts';
import { AlphapayError, renderAlphapayError, result } from './results.ts';
import { signedTransport } from './transport.ts';
import { v1Scope } from './v1/plugin.ts';

export interface AlphapayPluginDeps extends AlphapayDeps {
  merchants: MerchantService;
  nonces: NonceLedger;
  /** Platform time (orders, expiry). */
  clock: Clock;
  /** Real time (request freshness, signatures). */
  realClock: Clock;
}

/** Strict validation from the TypeBox schemas: no type coercion, so a number where a string belongs is refused. */
export function strictValidator({ schema }: { schema: unknown }) {
  const check = TypeCompiler.Compile(schema as TSchema);
  return (data: unknown) => {
    if (check.Check(data)) return { value: data };
    const first = check.Errors(data).First();
    const where = first?.path ? first.path.slice(1).replace(/\//g, '.') : 'body';
    return { error: new AlphapayError('PARAM_INVALID', `${where || 'body'}: ${first?.message ?? 'invalid'}`) };
  };
}

async function v2Scope(app: FastifyInstance, deps: AlphapayPluginDeps): Promise<void> {
  signedTransport(app, deps);
  app.setValidatorCompiler(strictValidator);
  app.setErrorHandler((error, req, reply) => {
    const rendered = renderAlphapayError(error);
    // Not one of AlphaPay's own (the database away, a bug): the app's fault formats answer it (alphapayFault).
    if (rendered.unexpected) throw error;
    void reply.code(rendered.status).send(rendered.body);
  });
  paymentsRoutes(app, deps, () => deps.clock.now());
}

export async function alphapayPlugin(app: FastifyInstance, deps: AlphapayPluginDeps): Promise<void> {
  await app.register((scope) => v2Scope(scope, deps), { prefix: '/api/v2.0/payments' });
  await app.register((scope) => v1Scope(scope, deps), { prefix: '/api/v1.0' });
}

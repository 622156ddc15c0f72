/**
 * UQPAY's error envelope, {"type","code","message"}, and the one place where
 * domain errors and HTTP-level failures become it.
 */
import type { FastifyError } from 'fastify';
import { isDomainError, type DomainError } from '../../core/errors.ts';
import { faultOf, type FaultKind, type FaultRenderer } from '../../http/faults.ts';

export interface UqpayErrorBody {
  type: string;
  code: string;
  message: string;
}

export class UqpayHttpError extends Error {
  constructor(readonly status: number, readonly body: UqpayErrorBody) {
    super(body.message);
  }
}

export const unauthorized = (message: string, code = 'unauthorized') =>
  new UqpayHttpError(401, { type: 'unauthorized_error', code, message });

export const invalidRequest = (message: string, code = 'invalid_parameter') =>
  new UqpayHttpError(400, { type: 'invalid_request_error', code, message });

function fromDomain(e: DomainError): UqpayHttpError {
  switch (e.kind) {
    case 'validation':
      return new UqpayHttpError(400, { type: 'invalid_request_error', code: e.code, message: e.message });
    case 'not_found':
      return new UqpayHttpError(400, { type: 'not_found', code: e.code, message: e.message });
    case 'invalid_state':
      return new UqpayHttpError(400, { type: 'payment_error', code: e.code, message: e.message });
    case 'amount':
      return new UqpayHttpError(400, {
        type: e.code.startsWith('refund') ? 'refund_error' : 'payment_error',
        code: e.code,
        message: e.message,
      });
    case 'idempotency_mismatch':
      return new UqpayHttpError(400, { type: 'idempotency_error', code: e.code, message: e.message });
    case 'request_processing':
      return new UqpayHttpError(409, { type: 'idempotency_error', code: e.code, message: e.message });
    case 'unauthorized':
      return unauthorized(e.message);
    case 'sub_account_not_found':
      return new UqpayHttpError(400, { type: 'account_error', code: 'sub_account_not_found', message: e.message });
    case 'duplicate':
      return new UqpayHttpError(400, { type: 'invalid_request_error', code: e.code, message: e.message });
  }
}

/** Fastify's own failures this API words its own way (bad JSON, schema validation); null for the rest. */
function fromFastify(e: FastifyError): UqpayHttpError | null {
  if (e.validation) {
    const first = e.validation[0];
    const where = e.validationContext ?? 'body';
    const params = first?.params as { missingProperty?: string; allowedValues?: unknown[] } | undefined;
    const path = first?.instancePath?.replace(/^\//, '').replace(/\//g, '.') ?? '';
    if (params?.missingProperty) return invalidRequest(`${path ? `${path}.` : ''}${params.missingProperty} is required`);
    if (first?.keyword === 'enum' && params?.allowedValues) return invalidRequest(`${path || where} must be one of: ${params.allowedValues.join(', ')}`);
    return invalidRequest(`${path || where} ${first?.message ?? 'is invalid'}`);
  }
  switch (e.code) {
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return invalidRequest('request body is not valid JSON', 'invalid_json');
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return invalidRequest('Content-Length does not match the body', 'invalid_content_length');
  }
  return null;
}

/** How UQPAY answers each kind of HTTP-level fault (api_error for what is not the client's doing). */
const FAULTS: Record<FaultKind, { status: number; type: string; code: string }> = {
  not_found: { status: 404, type: 'not_found', code: 'route_not_found' },
  bad_request: { status: 400, type: 'invalid_request_error', code: 'invalid_parameter' },
  body_too_large: { status: 413, type: 'invalid_request_error', code: 'request_too_large' },
  unsupported_media: { status: 415, type: 'invalid_request_error', code: 'unsupported_media_type' },
  unavailable: { status: 503, type: 'api_error', code: 'service_unavailable' },
  overloaded: { status: 503, type: 'api_error', code: 'server_busy' },
  rate_limited: { status: 429, type: 'api_error', code: 'velocity_limit_exceeded' },
  internal: { status: 500, type: 'api_error', code: 'internal_error' },
};

export const uqpayFault: FaultRenderer = (fault) => {
  const f = FAULTS[fault.kind];
  return { status: f.status, body: { type: f.type, code: f.code, message: fault.message } };
};

/** The error as this API words it when it is one of its own (domain, validation, JSON); null for HTTP-level faults. */
export function ownUqpayError(e: unknown): UqpayHttpError | null {
  if (e instanceof UqpayHttpError) return e;
  if (isDomainError(e)) return fromDomain(e);
  return fromFastify(e as FastifyError);
}

/** Any error as UQPAY answers it; a fault (the database away, overload, a bug) as its api_error, with no detail that could leak data. */
export function toUqpayError(e: unknown): UqpayHttpError {
  const own = ownUqpayError(e);
  if (own) return own;
  const answer = uqpayFault(faultOf(e), { method: '', path: '' });
  return new UqpayHttpError(answer.status, answer.body as UqpayErrorBody);
}

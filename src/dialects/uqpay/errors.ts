/**
 * UQPAY's error envelope, {"type","code","message"}, and the one place where
 * domain errors and HTTP-level failures become it.
 */
import type { FastifyError } from 'fastify';
import { isDomainError, type DomainError } from '../../core/errors.ts';

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

/** Fastify's own failures (bad JSON, body too large, schema validation) in UQPAY's shape. */
function fromFastify(e: FastifyError): UqpayHttpError | null {
  if (e.validation) {
    const first = e.validation[0];
    const where = e.validationContext ?? 'body';
    const missing = (first?.params as { missingProperty?: string } | undefined)?.missingProperty;
    const path = first?.instancePath?.replace(/^\//, '').replace(/\//g, '.') ?? '';
    if (missing) return invalidRequest(`${path ? `${path}.` : ''}${missing} is required`);
    return invalidRequest(`${path || where} ${first?.message ?? 'is invalid'}`);
  }
  switch (e.code) {
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return invalidRequest('request body is not valid JSON', 'invalid_json');
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return new UqpayHttpError(413, { type: 'invalid_request_error', code: 'request_too_large', message: 'request body is too large' });
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return new UqpayHttpError(415, { type: 'invalid_request_error', code: 'unsupported_media_type', message: 'Content-Type must be application/json' });
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return invalidRequest('Content-Length does not match the body', 'invalid_content_length');
  }
  if (e.statusCode && e.statusCode >= 400 && e.statusCode < 500) return invalidRequest(e.message);
  return null;
}

/** Anything else is our fault: a generic api_error, with no detail that could leak data. */
export function toUqpayError(e: unknown): UqpayHttpError {
  if (e instanceof UqpayHttpError) return e;
  if (isDomainError(e)) return fromDomain(e);
  const fromHttp = fromFastify(e as FastifyError);
  if (fromHttp) return fromHttp;
  return new UqpayHttpError(500, { type: 'api_error', code: 'internal_error', message: 'internal server error' });
}

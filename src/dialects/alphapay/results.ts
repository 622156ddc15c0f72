/**
 * AlphaPay v2 business results: every answer carries
 * `result{resultCode, resultMessage, resultStatus}` (S success, F failed,
 * U in process). Business errors answer HTTP 200 with status F, as the
 * provider's SDK expects (it treats any other status as a transport failure).
 * This table is the one place a code's meaning lives; docs/alphapay.md lists it.
 */
import { isDomainError } from '../../core/errors.ts';
import type { FaultKind, FaultRenderer } from '../../http/faults.ts';

export type ResultStatus = 'S' | 'F' | 'U';

export const RESULT_CODES = {
  SUCCESS: { status: 'S', meaning: 'the call succeeded' },
  PAYMENT_IN_PROCESS: { status: 'U', meaning: 'the payment is waiting for the shopper or the wallet: query it later' },
  REFUND_IN_PROCESS: { status: 'U', meaning: 'the refund is being processed: query it later' },
  SIGNATURE_INVALID: { status: 'F', meaning: 'the Signature header is missing, malformed, or does not verify with the merchant\'s registered public key' },
  MERCHANT_NOT_FOUND: { status: 'F', meaning: 'the Merchant-Code header is missing or names no merchant' },
  REQUEST_TIME_INVALID: { status: 'F', meaning: 'Request-Time is missing, not ISO-8601, or more than 5 minutes from the platform\'s time' },
  NONCE_REUSED: { status: 'F', meaning: 'the Nonce was already used by this merchant within the time window' },
  PARAM_INVALID: { status: 'F', meaning: 'the body is not valid JSON, or a field is missing, of the wrong type or out of range' },
  REQUEST_TOO_LARGE: { status: 'F', meaning: 'the body is larger than 64 KiB' },
  DUPLICATE_REQUEST_ID: { status: 'F', meaning: 'paymentRequestId or refundRequestId was already used by this merchant' },
  ORDER_NOT_EXIST: { status: 'F', meaning: 'no payment with this paymentId (or paymentRequestId) for this merchant' },
  ORDER_PAID: { status: 'F', meaning: 'the payment is paid: it cannot be cancelled (refund it instead)' },
  ORDER_CLOSED: { status: 'F', meaning: 'the payment is cancelled, expired or failed' },
  ORDER_NOT_PAID: { status: 'F', meaning: 'the payment is not paid: there is nothing to refund' },
  REFUND_AMOUNT_EXCEED: { status: 'F', meaning: 'the refund is more than what is still refundable on the payment' },
  CURRENCY_MISMATCH: { status: 'F', meaning: 'the refund currency is not the payment\'s currency' },
  REFUND_NOT_EXIST: { status: 'F', meaning: 'no refund with this refundId (or refundRequestId) for this merchant' },
  AMOUNT_INVALID: { status: 'F', meaning: 'the amount is not payable (a CNY order worth under 0.01 CAD)' },
  PAYMENT_FAILED: { status: 'F', meaning: 'the wallet or card declined the payment' },
  REFUND_FAILED: { status: 'F', meaning: 'the wallet or card network refused the refund' },
  NOT_FOUND: { status: 'F', meaning: 'no AlphaPay endpoint at this method and path' },
  SYSTEM_ERROR: { status: 'F', meaning: 'the platform failed; nothing was changed by this request' },
  SYSTEM_BUSY: { status: 'F', meaning: 'refused before anything was done: the node is overloaded (HTTP 503) or the merchant is over its rate limit (HTTP 429); retry after Retry-After seconds' },
  SERVICE_UNAVAILABLE: { status: 'U', meaning: 'the platform\'s database is unavailable (HTTP 503): the request may not have completed; query before retrying, after Retry-After seconds' },
} as const satisfies Record<string, { status: ResultStatus; meaning: string }>;

export type ResultCode = keyof typeof RESULT_CODES;

export interface Result {
  resultCode: ResultCode;
  resultMessage: string;
  resultStatus: ResultStatus;
}

export function result(code: ResultCode, message: string = code === 'SUCCESS' ? 'success' : RESULT_CODES[code].meaning): Result {
  return { resultCode: code, resultMessage: message, resultStatus: RESULT_CODES[code].status };
}

/** A refusal the dialect decided on, rendered as `{result}` with HTTP 200 (404 for an unknown endpoint). */
export class AlphapayError extends Error {
  constructor(
    readonly code: ResultCode,
    message: string,
    readonly httpStatus = 200,
  ) {
    super(message);
    this.name = 'AlphapayError';
  }
}

export const paramInvalid = (message: string) => new AlphapayError('PARAM_INVALID', message);

/** Any error thrown under /api/v2.0/payments as the status and `{result}` body AlphaPay answers with. */
export function renderAlphapayError(error: unknown): { status: number; body: { result: Result }; unexpected: boolean } {
  if (error instanceof AlphapayError) return { status: error.httpStatus, body: { result: result(error.code, error.message) }, unexpected: false };
  if (isDomainError(error)) {
    const code: ResultCode =
      error.kind === 'not_found' ? 'ORDER_NOT_EXIST'
      : error.kind === 'amount' ? 'REFUND_AMOUNT_EXCEED'
      : error.kind === 'duplicate' ? 'DUPLICATE_REQUEST_ID'
      : error.kind === 'invalid_state' ? 'ORDER_CLOSED'
      : 'PARAM_INVALID';
    return { status: 200, body: { result: result(code, error.message) }, unexpected: false };
  }
  const e = error as { code?: string; statusCode?: number; message?: string; validation?: unknown };
  if (e.code === 'FST_ERR_CTP_BODY_TOO_LARGE') return { status: 200, body: { result: result('REQUEST_TOO_LARGE') }, unexpected: false };
  if (e.validation || (e.statusCode !== undefined && e.statusCode >= 400 && e.statusCode < 500)) {
    return { status: 200, body: { result: result('PARAM_INVALID', e.message ?? 'the request is invalid') }, unexpected: false };
  }
  return { status: 500, body: { result: result('SYSTEM_ERROR') }, unexpected: true };
}

/** HTTP-level faults (no route, unreadable body, the database away, overload, rate limits) as AlphaPay v2 results. */
const FAULT_RESULTS: Record<FaultKind, { status: number; code: ResultCode }> = {
  not_found: { status: 404, code: 'NOT_FOUND' },
  bad_request: { status: 200, code: 'PARAM_INVALID' },
  body_too_large: { status: 200, code: 'REQUEST_TOO_LARGE' },
  unsupported_media: { status: 200, code: 'PARAM_INVALID' },
  unavailable: { status: 503, code: 'SERVICE_UNAVAILABLE' },
  overloaded: { status: 503, code: 'SYSTEM_BUSY' },
  rate_limited: { status: 429, code: 'SYSTEM_BUSY' },
  internal: { status: 500, code: 'SYSTEM_ERROR' },
};

export const alphapayFault: FaultRenderer = (fault) => {
  const f = FAULT_RESULTS[fault.kind];
  return { status: f.status, body: { result: result(f.code, fault.message) } };
};

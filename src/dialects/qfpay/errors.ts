/**
 * QFPay's answer to everything that goes wrong: HTTP 200 with a JSON body
 * {respcd, resperr, respmsg} (QFPay's own clients read the body of every
 * answer; only the rate limit answers with another status, 429). Domain
 * errors and HTTP-level failures become it here, in one place.
 */
import type { FastifyError } from 'fastify';
import { isDomainError, type DomainError } from '../../core/errors.ts';

/** QFPay's respcd values this dialect answers with, and what each means. */
export const RESPCD = {
  '0000': 'Transaction successful',
  '1102': 'Duplicate request',
  '1103': 'Request format error',
  '1104': 'Request parameter error',
  '1108': 'Signature error',
  '1125': 'Transaction has been refunded already',
  '1136': 'The transaction does not exist or is not operational',
  '1142': 'Order already closed',
  '1143': 'The order has not been paid for, the password is currently being entered',
  '1145': 'Please wait while processing',
  '1150': 'This transaction does not support cancellation',
  '1155': 'Refund request denied',
  '1181': 'Order expired',
  '1201': 'Insufficient balance, please use a different payment method',
  '1202': 'Incorrect or expired payment code',
  '1205': 'The transaction failed. Please try again later',
  '1250': 'The transaction is forbidden. For more information please contact QFPay Customer Service Team',
  '1260': 'The order has already been paid for',
  '1261': 'The order has not been paid for',
  '1262': 'The order has been refunded',
  '1263': 'The order has been cancelled',
  '1264': 'The order has been closed',
  '1266': 'The transaction amount is wrong',
  '1267': 'Order information mismatch',
  '1268': 'The order does not exist',
  '1272': 'The refund amount is greater than the maximum amount that can be refunded',
  '2005': 'The customer payment code is incorrect or has expired',
  '2011': 'Transaction serial number repeats',
} as const;
export type Respcd = keyof typeof RESPCD;

export interface QfErrorBody {
  respcd: string;
  resperr: string;
  respmsg: string;
}

export class QfError extends Error {
  constructor(
    readonly respcd: Respcd,
    /** What went wrong, for the developer reading the answer. */
    readonly detail: string,
    readonly status = 200,
  ) {
    super(detail);
  }

  get body(): QfErrorBody {
    return { respcd: this.respcd, resperr: this.detail, respmsg: RESPCD[this.respcd] };
  }
}

export const paramError = (detail: string) => new QfError('1104', detail);
export const signatureError = (detail: string) => new QfError('1108', detail);

function fromDomain(e: DomainError): QfError {
  switch (e.kind) {
    case 'validation':
      return paramError(e.message);
    case 'not_found':
      return new QfError('1136', e.message);
    case 'duplicate':
      return new QfError('2011', e.message);
    case 'amount':
      return new QfError('1266', e.message);
    case 'unauthorized':
    case 'sub_account_not_found':
      return signatureError(e.message);
    default:
      return new QfError('1205', e.message);
  }
}

function fromFastify(e: FastifyError): QfError | null {
  if (e.validation) {
    const first = e.validation[0];
    const field =
      (first?.params as { missingProperty?: string } | undefined)?.missingProperty ??
      first?.instancePath?.replace(/^\//, '').replace(/\//g, '.') ??
      '';
    if ((first?.params as { missingProperty?: string } | undefined)?.missingProperty) return paramError(`${field} is required`);
    return paramError(field ? `${field} ${first?.message ?? 'is invalid'}` : (first?.message ?? 'request parameters are invalid'));
  }
  switch (e.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return new QfError('1103', 'request body is too large');
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
      return new QfError('1103', e.message);
  }
  if (e.statusCode && e.statusCode >= 400 && e.statusCode < 500) return new QfError('1103', e.message);
  return null;
}

/** Anything else is our fault: HTTP 500 with a generic body that leaks nothing. */
export function toQfError(e: unknown): QfError {
  if (e instanceof QfError) return e;
  if (isDomainError(e)) return fromDomain(e);
  const http = fromFastify(e as FastifyError);
  if (http) return http;
  return new QfError('1205', 'internal error, please query the transaction before retrying', 500);
}

/**
 * QFPay's answer to everything that goes wrong: HTTP 200 with a JSON body
 * {respcd, resperr, respmsg} (QFPay's own clients read the body of every
 * answer). Only an unknown path (404), the rate limit (429), a database
 * outage or overload (503) and an internal failure (500) answer with another
 * status, with the same body. Domain errors and HTTP-level faults become it
 * here, in one place.
 */
import type { FastifyError } from 'fastify';
import { isDomainError, type DomainError } from '../../core/errors.ts';
import { faultOf, type FaultKind, type FaultRenderer } from '../../http/faults.ts';

/** QFPay's respcd values this dialect answers with, and what each means. */
export const RESPCD = {
  '0000': 'Transaction successful',
  '1100': 'System under maintenance, please try again later',
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

/** Fastify's own failures this API words its own way (schema validation, unreadable bodies); null for the rest. */
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
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
      return new QfError('1103', e.message);
  }
  return null;
}

/** How QFPay answers each kind of HTTP-level fault. */
const FAULTS: Record<FaultKind, { status: number; respcd: Respcd }> = {
  not_found: { status: 404, respcd: '1104' },
  bad_request: { status: 200, respcd: '1103' },
  body_too_large: { status: 200, respcd: '1103' },
  unsupported_media: { status: 200, respcd: '1103' },
  unavailable: { status: 503, respcd: '1100' },
  overloaded: { status: 503, respcd: '1205' },
  rate_limited: { status: 429, respcd: '1205' },
  internal: { status: 500, respcd: '1205' },
};

export const qfpayFault: FaultRenderer = (fault, req) => {
  const f = FAULTS[fault.kind];
  const detail = fault.kind === 'not_found' ? `no QFPay endpoint ${req.method} ${req.path}` : fault.kind === 'internal' ? 'internal error, please query the transaction before retrying' : fault.message;
  return { status: f.status, body: new QfError(f.respcd, detail, f.status).body };
};

/** The error as QFPay words it when it is one of its own (domain, validation, unreadable body); null for HTTP-level faults. */
export function ownQfError(e: unknown): QfError | null {
  if (e instanceof QfError) return e;
  if (isDomainError(e)) return fromDomain(e);
  return fromFastify(e as FastifyError);
}

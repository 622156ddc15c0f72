/**
 * Typed domain errors. The core raises them; each dialect maps them, in one
 * place, to its provider's error envelope and HTTP status.
 */
export type DomainErrorKind =
  | 'validation' // the request is malformed or breaks a field rule
  | 'not_found' // the object does not exist for this merchant
  | 'invalid_state' // the object exists but the operation is not allowed in its state
  | 'amount' // an amount rule: over the capturable / refundable amount
  | 'idempotency_mismatch' // same idempotency key, other request
  | 'request_processing' // same idempotency key, first request still running
  | 'unauthorized'
  | 'duplicate' // a provider-level unique reference was used before
  | 'sub_account_not_found';

export class DomainError extends Error {
  readonly kind: DomainErrorKind;
  /** A stable machine-readable code, e.g. "invalid_parameter", "resource_not_found". */
  readonly code: string;
  readonly field?: string;

  constructor(kind: DomainErrorKind, code: string, message: string, field?: string) {
    super(message);
    this.name = 'DomainError';
    this.kind = kind;
    this.code = code;
    if (field !== undefined) this.field = field;
  }

  static validation(message: string, field?: string): DomainError {
    return new DomainError('validation', 'invalid_parameter', message, field);
  }

  static notFound(resource: string, id: string): DomainError {
    return new DomainError('not_found', 'resource_not_found', `${resource} ${id} not found`);
  }

  static invalidState(message: string, code = 'invalid_status_for_operation'): DomainError {
    return new DomainError('invalid_state', code, message);
  }

  static amount(message: string, code = 'invalid_amount'): DomainError {
    return new DomainError('amount', code, message);
  }
}

export function isDomainError(e: unknown): e is DomainError {
  return e instanceof DomainError;
}

/**
 * What goes wrong at the HTTP level, whichever API was asked (no route, a
 * URL or body that cannot be read, the database away, too much load, a
 * merchant over its rate limit), and the one place that answers it in the
 * format of the API the URL belongs to. Each API registers its URL prefixes
 * and how it words each kind of fault; the app's not-found and error
 * handlers, and fastify's own framework errors, answer through it, so no
 * fastify default body reaches a client.
 *
 * A dialect's own errors (its domain and validation errors) stay in the
 * dialect's error handler; what that handler does not know it rethrows, and
 * it arrives here.
 */
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { isStoreUnavailable } from '../store/faults.ts';

export type FaultKind = 'not_found' | 'bad_request' | 'body_too_large' | 'unsupported_media' | 'unavailable' | 'overloaded' | 'rate_limited' | 'internal';

/** The HTTP status of each kind, unless an API words it otherwise. */
export const FAULT_STATUS: Record<FaultKind, number> = {
  not_found: 404,
  bad_request: 400,
  body_too_large: 413,
  unsupported_media: 415,
  unavailable: 503,
  overloaded: 503,
  rate_limited: 429,
  internal: 500,
};

export interface Fault {
  kind: FaultKind;
  /** What went wrong, fit for the client: never data from the request or the database. */
  message: string;
  /** Seconds to wait before trying again (Retry-After). */
  retryAfter?: number;
}

/** A fault raised on purpose (load shedding, rate limits). */
export class HttpFault extends Error implements Fault {
  constructor(
    readonly kind: FaultKind,
    message: string,
    readonly retryAfter?: number,
  ) {
    super(message);
    this.name = 'HttpFault';
  }
}

/** Seconds a client is asked to wait while the database is away: the pool reconnects on its next use. */
export const DATABASE_RETRY_AFTER_S = 2;

/** The kind of fault an error is; anything unknown is internal. */
export function faultOf(error: unknown): Fault {
  if (error instanceof HttpFault) return error;
  if (isStoreUnavailable(error)) {
    return { kind: 'unavailable', message: 'the database is unavailable, try again shortly', retryAfter: DATABASE_RETRY_AFTER_S };
  }
  const e = (error ?? {}) as Partial<FastifyError>;
  switch (e.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return { kind: 'body_too_large', message: 'request body is too large' };
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return { kind: 'unsupported_media', message: 'unsupported Content-Type' };
    case 'FST_ERR_BAD_URL':
    case 'FST_ERR_MAX_PARAM_LENGTH':
      return { kind: 'bad_request', message: 'the URL cannot be read' };
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return { kind: 'bad_request', message: 'request body is not valid JSON' };
  }
  if (e.validation) return { kind: 'bad_request', message: e.message ?? 'the request is not valid' };
  if (typeof e.statusCode === 'number' && e.statusCode >= 400 && e.statusCode < 500) {
    return { kind: 'bad_request', message: e.message ?? 'bad request' };
  }
  return { kind: 'internal', message: 'internal server error' };
}

/** A fault as one API answers it: a JSON body (an object) or an HTML page (a string). */
export interface FaultAnswer {
  status: number;
  body: object | string;
}

export interface FaultRequest {
  method: string;
  /** The URL's path, without the query string. */
  path: string;
}

export type FaultRenderer = (fault: Fault, req: FaultRequest) => FaultAnswer;

const SANDBOX_CODES: Record<FaultKind, string> = {
  not_found: 'route_not_found',
  bad_request: 'invalid_request',
  body_too_large: 'request_too_large',
  unsupported_media: 'unsupported_media_type',
  unavailable: 'service_unavailable',
  overloaded: 'overloaded',
  rate_limited: 'rate_limited',
  internal: 'internal_error',
};

/** The sandbox API's shape, {"error": {"code", "message"}}: /sim and anything no API claims (/healthz, /openapi.json, /). */
export const sandboxFault: FaultRenderer = (fault) => ({
  status: FAULT_STATUS[fault.kind],
  body: { error: { code: SANDBOX_CODES[fault.kind], message: fault.message } },
});

const pathOf = (url: string): string => {
  const q = url.indexOf('?');
  return q < 0 ? url : url.slice(0, q);
};

const notFound = (req: FastifyRequest): Fault => ({ kind: 'not_found', message: `no route for ${req.method} ${pathOf(req.url)}` });

export class FaultFormats {
  private formats: Array<{ prefix: string; render: FaultRenderer }> = [];

  constructor(private readonly fallback: FaultRenderer = sandboxFault) {}

  /**
   * An API's URL prefixes and how it words a fault. The longest matching
   * prefix wins, so an API mounted inside another's prefix (AlphaPay's
   * /api/v2.0/payments inside UQPAY's /api) registers its own.
   */
  register(prefixes: readonly string[], render: FaultRenderer): void {
    for (const prefix of prefixes) this.formats.push({ prefix: prefix.replace(/\/+$/, ''), render });
    this.formats.sort((a, b) => b.prefix.length - a.prefix.length);
  }

  rendererFor(path: string): FaultRenderer {
    for (const f of this.formats) {
      if (path === f.prefix || path.startsWith(`${f.prefix}/`)) return f.render;
    }
    return this.fallback;
  }

  /** Answers `fault` in the format of the API `req`'s URL belongs to. */
  send(req: FastifyRequest, reply: FastifyReply, fault: Fault): FastifyReply {
    const path = pathOf(req.url);
    const answer = this.rendererFor(path)(fault, { method: req.method, path });
    if (fault.retryAfter !== undefined) void reply.header('retry-after', String(Math.max(1, Math.ceil(fault.retryAfter))));
    void reply.code(answer.status);
    if (typeof answer.body === 'string') void reply.type('text/html; charset=utf-8').header('cache-control', 'no-store');
    else void reply.type('application/json; charset=utf-8');
    return reply.send(answer.body);
  }

  /** Fastify's `frameworkErrors` option: a URL it cannot decode, before any route is found. */
  readonly frameworkErrors = (error: FastifyError, req: FastifyRequest, reply: FastifyReply): void => {
    void this.send(req, reply, faultOf(error));
  };

  /** Makes the app's not-found and error handlers answer through these formats. */
  install(app: FastifyInstance): void {
    app.setNotFoundHandler((req, reply) => {
      void this.send(req, reply, notFound(req));
    });
    app.setErrorHandler((error, req, reply) => {
      let fault = faultOf(error);
      // A path with no route is that, whatever its body: the body was read (and refused) on the way to the not-found handler.
      if (req.is404 && FAULT_STATUS[fault.kind] < 500 && fault.kind !== 'rate_limited') fault = notFound(req);
      if (fault.kind === 'internal') req.log.error({ err: error }, 'request failed');
      else if (fault.kind === 'unavailable') req.log.warn({ err: error }, 'database unavailable');
      void this.send(req, reply, fault);
    });
  }
}

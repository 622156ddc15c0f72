/**
 * AlphaPay v2 transport: the raw body kept for the signature, the request
 * headers checked (Merchant-Code, Request-Time within 5 minutes, a Nonce used
 * once, the RSA Signature over exactly what was sent), and every answer to a
 * known merchant signed with that merchant's platform key.
 */
import { randomBytes } from 'node:crypto';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Clock } from '../../core/clock.ts';
import type { Merchant, MerchantService } from '../../core/merchants/merchants.ts';
import type { NonceLedger } from '../../store/alphapay-nonces.ts';
import { AlphapayError, paramInvalid } from './results.ts';
import { contentToSign, formatSignatureHeader, parseSignatureHeader, signContent, verifyContent } from './signature.ts';

/** How far Request-Time may be from the platform's (real) time, either way. */
export const REQUEST_TIME_WINDOW_MS = 5 * 60_000;
export const BODY_LIMIT = 64 * 1024;

declare module 'fastify' {
  interface FastifyRequest {
    /** AlphaPay: the merchant the request was verified for (set once the signature checks out). */
    alphapayMerchant: Merchant | null;
  }
}

/** What the body parser hands on: the raw text (signed as sent) and the JSON it holds, or why it holds none. */
class RawBody {
  constructor(
    readonly raw: string,
    readonly parsed: unknown,
    readonly malformed: boolean,
  ) {}
}

function header(req: FastifyRequest, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v[0] : v;
}

const ISO_8601 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})?$/;

/** Request-Time as epoch ms, or null when it is not ISO-8601 date and time. No offset means UTC. */
export function parseRequestTime(text: string): number | null {
  if (!ISO_8601.test(text)) return null;
  const hasOffset = /(Z|[+-]\d{2}:?\d{2})$/.test(text.slice(10));
  const ms = Date.parse(hasOffset ? text : `${text}Z`);
  return Number.isNaN(ms) ? null : ms;
}

/** ISO-8601 in UTC to the second, as AlphaPay writes times. */
export const isoTime = (ms: number): string => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');

export const newNonce = (): string => randomBytes(16).toString('hex');

/** The headers that sign `body` sent for `method path` to or from `merchant`. */
export function signedHeaders(merchant: Merchant, method: string, path: string, body: string, now: number): Record<string, string> {
  const time = isoTime(now);
  const nonce = newNonce();
  const content = contentToSign({ method, path, merchantCode: merchant.alphapay.merchantCode, time, nonce, body });
  return {
    'Merchant-Code': merchant.alphapay.merchantCode,
    'Response-Time': time,
    Nonce: nonce,
    Signature: formatSignatureHeader(signContent(content, merchant.alphapay.platformPrivateKey)),
  };
}

export interface TransportDeps {
  merchants: MerchantService;
  nonces: NonceLedger;
  /** Real time: signatures are about transport, not the sandbox's business time. */
  realClock: Clock;
}

/** Installs raw-body parsing, request verification and response signing on an encapsulated scope. */
export function signedTransport(app: FastifyInstance, deps: TransportDeps): void {
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'string', bodyLimit: BODY_LIMIT }, (_req, body, done) => {
    const raw = body as string;
    try {
      done(null, new RawBody(raw, JSON.parse(raw), false));
    } catch {
      done(null, new RawBody(raw, undefined, true));
    }
  });
  app.decorateRequest('alphapayMerchant', null);
  let sincePurge = 0;

  app.addHook('preValidation', async (req) => {
    if (req.is404) return; // no such endpoint: the not-found answer, whoever asks
    const body = req.body instanceof RawBody ? req.body : new RawBody('', undefined, true);
    const code = header(req, 'merchant-code')?.trim();
    if (!code) throw new AlphapayError('MERCHANT_NOT_FOUND', 'the Merchant-Code header is missing');
    const merchant = await deps.merchants.byAlphapayMerchantCode(code);
    if (!merchant) throw new AlphapayError('MERCHANT_NOT_FOUND', `no merchant with Merchant-Code ${code}`);
    if (merchant.disabledAt !== null) throw new AlphapayError('MERCHANT_NOT_FOUND', `the merchant with Merchant-Code ${code} is disabled`);
    const signatureHeader = header(req, 'signature');
    if (!signatureHeader) throw new AlphapayError('SIGNATURE_INVALID', 'the Signature header is missing');
    const parsed = parseSignatureHeader(signatureHeader);
    if (!parsed || parsed.algorithm !== 'RS256') throw new AlphapayError('SIGNATURE_INVALID', 'the Signature header must read algorithm=RS256,keyVersion=1,signature=<url-encoded base64>');
    const time = header(req, 'request-time');
    if (!time) throw new AlphapayError('REQUEST_TIME_INVALID', 'the Request-Time header is missing');
    const nonce = header(req, 'nonce');
    if (!nonce || nonce.length > 64) throw paramInvalid('the Nonce header must be 1-64 characters');
    const path = req.url.split('?')[0]!;
    const content = contentToSign({ method: req.method, path, merchantCode: code, time, nonce, body: body.raw });
    if (!verifyContent(content, parsed.signature, merchant.alphapay.merchantPublicKey)) {
      throw new AlphapayError('SIGNATURE_INVALID', 'the signature does not verify with the merchant\'s registered public key');
    }
    // From here the merchant is known: answers are signed for it.
    req.alphapayMerchant = merchant;
    const sentAt = parseRequestTime(time);
    const now = deps.realClock.now();
    if (sentAt === null) throw new AlphapayError('REQUEST_TIME_INVALID', 'Request-Time must be an ISO-8601 date and time');
    if (Math.abs(now - sentAt) > REQUEST_TIME_WINDOW_MS) throw new AlphapayError('REQUEST_TIME_INVALID', 'Request-Time is more than 5 minutes from the platform\'s time');
    // Kept until a request bearing it could no longer be fresh.
    if (!(await deps.nonces.claim(merchant.id, nonce, Math.max(sentAt, now) + REQUEST_TIME_WINDOW_MS, now))) {
      throw new AlphapayError('NONCE_REUSED', 'this Nonce was already used by this merchant');
    }
    if (++sincePurge >= 1000) {
      sincePurge = 0;
      void deps.nonces.purgeExpired(now).catch((err) => req.log.warn({ err }, 'nonce purge failed'));
    }
    if (body.malformed) throw paramInvalid('the body must be a JSON object');
    req.body = body.parsed;
  });

  app.addHook('onSend', async (req, reply, payload) => {
    const merchant = req.alphapayMerchant;
    if (!merchant || typeof payload !== 'string') return payload;
    const headers = signedHeaders(merchant, req.method, req.url.split('?')[0]!, payload, deps.realClock.now());
    for (const [name, value] of Object.entries(headers)) void reply.header(name, value);
    return payload;
  });
}

/**
 * Structured logs that never carry card numbers, CVCs, keys or tokens:
 * known secret fields are censored by path, secret query parameters and
 * hosted-page tokens in request URLs are censored, and any digit run that
 * looks like a card number is masked in messages and stacks.
 */
import type { FastifyServerOptions } from 'fastify';

const PAN = /\b(\d{6})\d{3,9}(\d{4})\b/g;

export const scrub = (text: string): string => text.replace(PAN, '$1******$2');

export const REDACT_PATHS = [
  'req.headers["x-auth-token"]',
  'req.headers["x-api-key"]',
  'req.headers.authorization',
  'req.headers["x-qf-sign"]',
  'req.headers.signature',
  'req.headers.cookie',
  '*.password',
  '*._csrf',
  '*.card_number',
  '*.cvc',
  '*.cvv',
  '*.api_key',
  '*.client_key',
  '*.webhook_secret',
  '*.merchant_private_key',
  '*.auth_token',
  '*.payment_code',
  '*.auth_code',
];

/** Query parameters whose values are secrets or card data (QFPay clients may send any parameter in the query string). */
const SECRET_PARAMS = new Set(['auth_code', 'payment_code', 'sign', 'card_number', 'cvc', 'cvv', 'api_key', 'client_key', 'key', 'token', 'auth_token', 'webhook_secret']);

/**
 * A request URL fit for a log: secret query values and the tokens of
 * hosted pages (whoever holds one can pay or complete that page) censored,
 * card-number-like digit runs masked.
 */
export function loggableUrl(url: string, tokenPaths: readonly string[] = []): string {
  const q = url.indexOf('?');
  let path = q < 0 ? url : url.slice(0, q);
  for (const prefix of tokenPaths) {
    if (path.startsWith(`${prefix}/`)) path = `${prefix}/[REDACTED]`;
  }
  if (q < 0) return scrub(path);
  const query = url
    .slice(q + 1)
    .split('&')
    .map((pair) => {
      const eq = pair.indexOf('=');
      let name = eq < 0 ? pair : pair.slice(0, eq);
      try {
        name = decodeURIComponent(name.replace(/\+/g, ' '));
      } catch {
        // keep the raw name
      }
      return eq >= 0 && SECRET_PARAMS.has(name.trim().toLowerCase()) ? `${pair.slice(0, eq)}=[REDACTED]` : pair;
    })
    .join('&');
  return scrub(`${path}?${query}`);
}

/** Logger options; `tokenPaths` are the path prefixes of hosted pages whose next segment is a secret token. */
export function loggerOptions(level: string, tokenPaths: readonly string[] = []): FastifyServerOptions['logger'] {
  return {
    level,
    redact: { paths: REDACT_PATHS, censor: '[REDACTED]' },
    serializers: {
      err(err: Error & { code?: string }) {
        return {
          type: err.name,
          message: scrub(String(err.message)),
          ...(err.code ? { code: err.code } : {}),
          stack: err.stack ? scrub(err.stack) : '',
        };
      },
      req(req: { method: string; url: string; id: string }) {
        return { method: req.method, url: typeof req.url === 'string' ? loggableUrl(req.url, tokenPaths) : undefined, id: req.id };
      },
    },
  };
}

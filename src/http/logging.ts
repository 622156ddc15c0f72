/**
 * Structured logs that never carry card numbers, CVCs, keys or tokens:
 * known secret fields are censored by path, and any digit run that looks like
 * a card number is masked in messages and stacks.
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

export function loggerOptions(level: string): FastifyServerOptions['logger'] {
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
        return { method: req.method, url: typeof req.url === 'string' ? scrub(req.url) : undefined, id: req.id };
      },
    },
  };
}

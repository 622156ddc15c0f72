/**
 * What no request may carry into the platform, whichever dialect it speaks:
 * numbers that are not finite (a query string's "Infinity", "1e400" or 309
 * nines, which the schema coercion turns into Infinity and then lets past its
 * range checks), NUL characters (PostgreSQL text cannot hold them, SQLite
 * can: the two databases would answer differently) and lone UTF-16
 * surrogates (no UTF-8 text holds them; each driver would replace them its
 * own way). Checked once per request on the validated (coerced) parameters,
 * before any handler runs; each dialect's error handler words the refusal.
 */
import type { FastifyRequest } from 'fastify';
import { DomainError } from '../core/errors.ts';

/** Request bodies are nested a few levels at most; the dialects refuse deeper ones themselves. */
const MAX_DEPTH = 64;

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** Why a text value cannot be taken, or null when it can. */
export function textProblem(text: string): string | null {
  if (text.includes('\u0000')) return 'must not contain NUL characters';
  if (LONE_SURROGATE.test(text)) return 'must be valid Unicode text (it holds an unpaired surrogate)';
  return null;
}

/** The first value in a parsed request part that cannot be taken, with where it is ("a.b.0"), or null. */
export function unsafeValue(value: unknown, where = '', depth = 0): { field: string; problem: string } | null {
  if (typeof value === 'string') {
    const problem = textProblem(value);
    return problem ? { field: where, problem } : null;
  }
  if (typeof value === 'number') return Number.isFinite(value) ? null : { field: where, problem: 'must be a finite number' };
  if (typeof value !== 'object' || value === null || depth >= MAX_DEPTH) return null;
  for (const [key, item] of Object.entries(value)) {
    const field = where ? `${where}.${key}` : key;
    const keyProblem = textProblem(key);
    if (keyProblem) return { field, problem: `has a name that ${keyProblem}` };
    const found = unsafeValue(item, field, depth + 1);
    if (found) return found;
  }
  return null;
}

/** Throws the validation error naming the first value that cannot be taken (for hooks that look before validation). */
export function assertSafeInput(value: unknown, part: string): void {
  const found = unsafeValue(value);
  if (!found) return;
  const error = DomainError.validation(`${found.field || part} ${found.problem}`, found.field || part);
  // Routes outside the dialects (hosted pages) answer it with Fastify's own 400.
  throw Object.assign(error, { statusCode: 400 });
}

/** A preHandler hook for every route: the parameters as validated and coerced, then the handler. */
export async function refuseUnsafeInput(req: FastifyRequest): Promise<void> {
  assertSafeInput(req.params, 'path');
  assertSafeInput(req.query, 'query');
  assertSafeInput(req.body, 'body');
}

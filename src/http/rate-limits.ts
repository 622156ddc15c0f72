/**
 * Per-merchant rate limits: each window (say 100 requests a second and 400
 * a minute, QFPay's documented limits) counts a merchant's authenticated
 * requests on this node; a request over any of them is refused with 429 and
 * Retry-After (the seconds left in the window), in its API's format, before
 * its handler runs. Requests no merchant is authenticated for (token
 * requests, hosted pages, the sandbox API) are not counted here; load
 * shedding covers them.
 */
import rateLimit from '@fastify/rate-limit';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { HttpFault } from './faults.ts';

export interface RateLimit {
  max: number;
  windowMs: number;
}

const UNITS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000 };

/** "100/1s,400/1m" (requests per window, windows in s, m or h); "off" or "" for none. */
export function parseRateLimits(text: string): RateLimit[] {
  const t = text.trim().toLowerCase();
  if (t === '' || t === 'off' || t === '0') return [];
  return t.split(',').map((part) => {
    const m = /^\s*(\d{1,9})\s*\/\s*(\d{0,6})\s*([smh])\s*$/.exec(part);
    if (!m || Number(m[1]) < 1) throw new Error(`rate limit "${part.trim()}" must look like 100/1s or 400/1m`);
    const windowMs = Number(m[2] || '1') * UNITS[m[3]!]!;
    if (windowMs < 1) throw new Error(`rate limit "${part.trim()}" needs a window of at least 1${m[3]}`);
    return { max: Number(m[1]), windowMs };
  });
}

const describeWindow = (ms: number): string =>
  ms % 3_600_000 === 0 ? `${ms / 3_600_000} h` : ms % 60_000 === 0 ? `${ms / 60_000} min` : `${ms / 1000} s`;

/**
 * Counts each authenticated request against its merchant's windows.
 * `merchantOf` names the merchant a request was authenticated for (null when
 * none): the dialects set it while authenticating, so the check runs as a
 * preHandler, after them.
 */
export async function limitMerchantRates(
  app: FastifyInstance,
  limits: readonly RateLimit[],
  merchantOf: (req: FastifyRequest) => string | null | undefined,
): Promise<void> {
  if (limits.length === 0) return;
  await app.register(rateLimit, { global: false });
  const windows = limits.map((l) => ({
    ...l,
    check: app.createRateLimit({ max: l.max, timeWindow: l.windowMs, keyGenerator: (req) => merchantOf(req) ?? '' }),
  }));
  app.addHook('preHandler', async (req) => {
    if (!merchantOf(req)) return;
    for (const w of windows) {
      const r = await w.check(req);
      if (!r.isAllowed && r.isExceeded) {
        throw new HttpFault('rate_limited', `rate limit exceeded: at most ${w.max} requests per ${describeWindow(w.windowMs)} for this merchant`, r.ttlInSeconds);
      }
    }
  });
}

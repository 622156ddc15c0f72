/**
 * Load shedding: at most `maxInFlight` requests are served at once; one
 * more is refused at once with 503 and Retry-After (in its API's format,
 * through the app's fault formats) instead of joining a queue that would
 * make every request slow and hold memory for each. What is served keeps a
 * bounded latency (about maxInFlight divided by the throughput), and a
 * client told to come back loses a moment, not a timeout.
 *
 * Health endpoints are never shed: an orchestrator must see the process
 * alive under load.
 */
import type { FastifyInstance } from 'fastify';
import { HttpFault } from './faults.ts';

export interface LoadSheddingOptions {
  /** Requests served at once at most (0: no limit). */
  maxInFlight: number;
  /** Paths never shed. */
  exempt: readonly string[];
}

/** Seconds a shed client is asked to wait. */
const RETRY_AFTER_S = 1;

export function shedLoad(app: FastifyInstance, opts: LoadSheddingOptions): void {
  if (opts.maxInFlight <= 0) return;
  let inFlight = 0;
  const exempt = new Set(opts.exempt);
  app.addHook('onRequest', (req, reply, done) => {
    const q = req.url.indexOf('?');
    if (exempt.has(q < 0 ? req.url : req.url.slice(0, q))) return done();
    if (inFlight >= opts.maxInFlight) return done(new HttpFault('overloaded', 'the server is busy, try again shortly', RETRY_AFTER_S));
    inFlight++;
    // 'close' comes once per response, sent or abandoned by the client.
    reply.raw.once('close', () => inFlight--);
    done();
  });
}

/**
 * One webhook POST over undici's pooled HTTP/1.1 client: no redirect is ever
 * followed (a 3xx is just an answer), the whole exchange is bounded by a
 * timeout, only the first 64 KiB of the answer are read, and in live mode
 * each address the host resolves to must pass the address rule when the
 * connection is made.
 */
import { lookup as dnsLookup, type LookupAddress, type LookupAllOptions } from 'node:dns';
import { isIP, type LookupFunction } from 'node:net';
import { Agent } from 'undici';
import { blockedAddress } from './address-rule.ts';

export interface WebhookRequest {
  url: string;
  headers: Record<string, string>;
  body: string;
  timeoutMs: number;
}

export interface WebhookAnswer {
  status: number;
  body: string;
}

/** Sends a rendered webhook; resolves with the receiver's answer, rejects with a coded error (see failureReason). */
export type WebhookPoster = (req: WebhookRequest) => Promise<WebhookAnswer>;

const MAX_ANSWER_BYTES = 64 * 1024;

/** Refused by the address rule: code EADDRBLOCKED, the message names the address and why. */
export class BlockedAddressError extends Error {
  readonly code = 'EADDRBLOCKED';
  constructor(address: string, why: string) {
    super(`address not allowed in live mode: ${address} (${why})`);
  }
}

type Resolve = (hostname: string, options: LookupAllOptions, callback: (err: NodeJS.ErrnoException | null, addresses: LookupAddress[]) => void) => void;

/** A lookup that fails when any address of the host is blocked, so the connection is never made. */
const guarded = (resolve: Resolve): LookupFunction => (hostname, options, callback) => {
  resolve(hostname, { ...(options as object), all: true } as LookupAllOptions, (err, addresses) => {
    if (err) return callback(err, '', 0);
    for (const a of addresses) {
      const why = blockedAddress(a.address);
      if (why) return callback(new BlockedAddressError(a.address, why), '', 0);
    }
    if ((options as { all?: boolean }).all) return (callback as unknown as (e: null, a: LookupAddress[]) => void)(null, addresses);
    callback(null, addresses[0]!.address, addresses[0]!.family);
  });
};

class TimeoutError extends Error {
  override readonly name = 'TimeoutError';
}

/**
 * Connections kept open to one receiver (its origin), at most: as many as
 * the relay's largest window for an endpoint, so each send it starts goes
 * out at once on a connection of its own instead of queueing behind another.
 */
export const CONNECTIONS_PER_ORIGIN = 64;

/** `resolve`: how host names are looked up (default: the system's resolver, as for any connection). */
export function webhookPoster(opts: { live: boolean; resolve?: Resolve }): WebhookPoster {
  const lookup = guarded(opts.resolve ?? (dnsLookup as Resolve));
  // One pool per receiver origin, its connections kept open between webhooks
  // (a new TCP, and for https TLS, handshake per webhook costs more than the
  // webhook). Live mode checks the address when a connection is made, so a
  // kept one was checked already.
  const agent = new Agent({
    connections: CONNECTIONS_PER_ORIGIN,
    // Pipelining 4 cost the same CPU per send: one request per connection
    // keeps a slow answer from holding up (and, cut off, resending) others.
    pipelining: 1,
    connect: opts.live ? { lookup } : {},
  });
  return (req) => {
    let url: URL;
    try {
      url = new URL(req.url);
    } catch {
      return Promise.reject(Object.assign(new Error('invalid URL'), { code: 'EINVALIDURL' }));
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') return Promise.reject(Object.assign(new Error('not an http(s) URL'), { code: 'EINVALIDURL' }));
    if (opts.live) {
      const host = url.hostname.replace(/^\[|\]$/g, '');
      // An address literal is connected to without a lookup: check it here.
      const why = isIP(host) ? blockedAddress(host) : host.toLowerCase() === 'localhost' || host.toLowerCase().endsWith('.localhost') ? 'loopback' : null;
      if (why) return Promise.reject(new BlockedAddressError(host, why));
    }
    return new Promise<WebhookAnswer>((resolve, reject) => {
      // The handler API rather than request(): no stream per answer, a
      // webhook's answer is a few bytes. `abort` is undici's once the request
      // is on a connection; one still connecting is answered as timed out at
      // once and cut off when it starts.
      let abort: ((reason: Error) => void) | null = null;
      let timedOut = false;
      const timer = setTimeout(() => {
        timedOut = true;
        if (abort) abort(new TimeoutError('timeout'));
        else settle(new TimeoutError('timeout'));
      }, req.timeoutMs);
      let status = 0;
      const chunks: Buffer[] = [];
      let size = 0;
      const settle = (err: Error | null) => {
        clearTimeout(timer);
        if (err) reject(err);
        else resolve({ status, body: Buffer.concat(chunks).subarray(0, MAX_ANSWER_BYTES).toString('utf8') });
      };
      agent.dispatch(
        {
          origin: url.origin,
          path: url.pathname + url.search,
          method: 'POST',
          headers: req.headers,
          body: req.body,
        },
        {
          onRequestStart(controller) {
            abort = (reason) => controller.abort(reason);
            if (timedOut) abort(new TimeoutError('timeout'));
          },
          onResponseStart(_controller, statusCode) {
            status = statusCode;
          },
          onResponseData(controller, chunk) {
            if (size >= MAX_ANSWER_BYTES) return;
            chunks.push(chunk);
            size += chunk.length;
            // Enough to judge the answer; the rest is not read.
            if (size >= MAX_ANSWER_BYTES) {
              settle(null);
              controller.abort(new Error('answer read'));
            }
          },
          onResponseEnd() {
            settle(null);
          },
          onResponseError(_controller, err) {
            settle(err);
          },
        },
      );
    });
  };
}

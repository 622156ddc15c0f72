/**
 * One webhook POST over node's own HTTP client: no redirect is ever followed
 * (a 3xx is just an answer), the whole exchange is bounded by a timeout, only
 * the first 64 KiB of the answer are read, and in live mode each address the
 * host resolves to must pass the address rule when the connection is made.
 */
import { lookup as dnsLookup, type LookupAddress, type LookupAllOptions } from 'node:dns';
import http from 'node:http';
import https from 'node:https';
import { isIP, type LookupFunction } from 'node:net';
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

/** `resolve`: how host names are looked up (default: the system's resolver, as for any connection). */
export function webhookPoster(opts: { live: boolean; resolve?: Resolve }): WebhookPoster {
  const lookup = guarded(opts.resolve ?? (dnsLookup as Resolve));
  // Connections to each receiver are kept open between webhooks (a new TCP,
  // and for https TLS, handshake per webhook costs more than the webhook);
  // the relay's per-endpoint slots bound how many. Live mode checks the
  // address when a connection is made, so a kept one was checked already.
  const agents = { 'http:': new http.Agent({ keepAlive: true, scheduling: 'lifo' }), 'https:': new https.Agent({ keepAlive: true, scheduling: 'lifo' }) };
  return (req) =>
    new Promise<WebhookAnswer>((resolve, reject) => {
      let url: URL;
      try {
        url = new URL(req.url);
      } catch {
        return reject(Object.assign(new Error('invalid URL'), { code: 'EINVALIDURL' }));
      }
      if (url.protocol !== 'http:' && url.protocol !== 'https:') return reject(Object.assign(new Error('not an http(s) URL'), { code: 'EINVALIDURL' }));
      if (opts.live) {
        const host = url.hostname.replace(/^\[|\]$/g, '');
        // An address literal is connected to without a lookup: check it here.
        const why = isIP(host) ? blockedAddress(host) : host.toLowerCase() === 'localhost' || host.toLowerCase().endsWith('.localhost') ? 'loopback' : null;
        if (why) return reject(new BlockedAddressError(host, why));
      }
      const body = Buffer.from(req.body, 'utf8');
      const client = url.protocol === 'https:' ? https : http;
      const request = client.request(url, {
        agent: agents[url.protocol],
        method: 'POST',
        headers: { ...req.headers, 'content-length': String(body.length) },
        ...(opts.live ? { lookup } : {}),
      });
      const timer = setTimeout(() => request.destroy(new TimeoutError('timeout')), req.timeoutMs);
      const fail = (err: Error) => {
        clearTimeout(timer);
        reject(err);
      };
      request.on('error', fail);
      request.on('response', (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (chunk: Buffer) => {
          if (size >= MAX_ANSWER_BYTES) return;
          chunks.push(chunk);
          size += chunk.length;
          if (size >= MAX_ANSWER_BYTES) {
            // Enough to judge the answer; the rest is not read.
            clearTimeout(timer);
            resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).subarray(0, MAX_ANSWER_BYTES).toString('utf8') });
            request.destroy();
          }
        });
        res.on('end', () => {
          clearTimeout(timer);
          resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') });
        });
        res.on('error', fail);
        res.on('aborted', () => fail(Object.assign(new Error('answer cut off'), { code: 'ECONNRESET' })));
      });
      request.end(body);
    });
}

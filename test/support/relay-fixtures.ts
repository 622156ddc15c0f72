/** What the relay's tests share: a receiver on 127.0.0.1, a renderer, a merchant row. */
import { randomUUID } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { WebhookRenderer } from '../../src/delivery/relay.ts';
import { UQPAY_RETRY_DELAYS_MS } from '../../src/delivery/schedules.ts';
import type { Store } from '../../src/store/store.ts';

// --- a receiver on 127.0.0.1 --------------------------------------------------

export interface Hit {
  headers: http.IncomingHttpHeaders;
  body: string;
}

export type Reply = (hit: Hit, res: http.ServerResponse) => void;

export async function startReceiver(reply: Reply = (_h, res) => res.end('ok')) {
  const hits: Hit[] = [];
  const server = http.createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (c: string) => (body += c));
    req.on('end', () => {
      const hit = { headers: req.headers, body };
      hits.push(hit);
      reply(hit, res);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks`;
  const close = () =>
    new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
  return { url, hits, close };
}

/** A URL nobody listens on: a port that was just in use and is now closed. */
export async function closedPortUrl(): Promise<string> {
  const r = await startReceiver();
  await r.close();
  return r.url;
}

// --- fixtures -------------------------------------------------------------------

export const renderer: WebhookRenderer = {
  async render({ event, delivery }) {
    if (event.type === 'internal.only') return null;
    return {
      body: JSON.stringify({ event_id: event.id, event_type: event.type, data: JSON.parse(event.payload) }),
      headers: { 'x-test-signature': `sig-${event.id}`, 'x-test-attempt': String(delivery.attempts + 1) },
    };
  },
  isAcknowledged: (status) => status >= 200 && status < 300,
  retryDelaysMs: UQPAY_RETRY_DELAYS_MS,
};

export async function addMerchant(store: Store, now: number): Promise<string> {
  const id = `M${randomUUID()}`;
  await store.unit((tx) =>
    tx
      .insertInto('merchants')
      .values({
        id,
        name: 'Test merchant',
        parent_id: null,
        webhook_url: null,
        uqpay_client_id: `client-${id}`,
        uqpay_api_key_hash: 'x',
        uqpay_webhook_secret: 'x',
        alphapay_merchant_code: `code-${id}`,
        alphapay_merchant_public_key: 'x',
        alphapay_platform_private_key: 'x',
        alphapay_platform_public_key: 'x',
        qfpay_app_code: `app-${id}`,
        qfpay_client_key: 'x',
        created_at: now,
      })
      .execute(),
  );
  return id;
}

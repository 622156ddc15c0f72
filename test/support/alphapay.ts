/**
 * An AlphaPay v2 client written from the provider's documented rules (not
 * from the server's code): JSON bodies signed SHA256withRSA over
 * "<METHOD> <PATH>\n<Merchant-Code>.<Request-Time>.<Nonce>.<body>", answers
 * and notifications verified with the platform public key.
 */
import { createPrivateKey, createPublicKey, randomUUID, sign, verify } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { RecordingEndpoint } from './receiver.ts';

export interface AlphapayCredentials {
  merchant_code: string;
  merchant_private_key: string;
  platform_public_key: string;
}

export interface ApReply {
  status: number;
  text: string;
  body: any;
  headers: Headers;
  /** The answer's Signature verified with the platform public key (false when unsigned or wrong). */
  signed: boolean;
}

const rsaSign = (content: string, pkcs8B64: string) =>
  sign('sha256', Buffer.from(content, 'utf8'), createPrivateKey({ key: Buffer.from(pkcs8B64, 'base64'), format: 'der', type: 'pkcs8' })).toString('base64');

/** Verifies a `Signature: algorithm=RS256,keyVersion=1,signature=<url-encoded base64>` over content with a base64 SPKI key. */
export function verifySignature(content: string, header: string | null | undefined, spkiB64: string): boolean {
  if (!header) return false;
  const m = /signature=([^,\s]+)/.exec(header);
  if (!m) return false;
  const key = createPublicKey({ key: Buffer.from(spkiB64, 'base64'), format: 'der', type: 'spki' });
  return verify('sha256', Buffer.from(content, 'utf8'), key, Buffer.from(decodeURIComponent(m[1]!), 'base64'));
}

export interface SendOptions {
  /** Override the signed parts or headers to build bad requests. */
  time?: string;
  nonce?: string;
  merchantCode?: string;
  privateKey?: string;
  signature?: string | null;
  /** Sign this body but send `sentBody`. */
  sentBody?: string;
  spaces?: boolean;
}

export class AlphapayClient {
  constructor(
    readonly baseUrl: string,
    readonly creds: AlphapayCredentials,
  ) {}

  async send(endpoint: string, body: unknown, opts: SendOptions = {}): Promise<ApReply> {
    const path = `/api/v2.0/payments/${endpoint}`;
    const raw = typeof body === 'string' ? body : JSON.stringify(body);
    const time = opts.time ?? new Date().toISOString();
    const nonce = opts.nonce ?? randomUUID().replace(/-/g, '');
    const code = opts.merchantCode ?? this.creds.merchant_code;
    const content = `POST ${path}\n${code}.${time}.${nonce}.${raw}`;
    const sig = encodeURIComponent(rsaSign(content, opts.privateKey ?? this.creds.merchant_private_key));
    const headers: Record<string, string> = {
      'Content-Type': 'application/json; charset=UTF-8',
      'Merchant-Code': code,
      'Request-Time': time,
      Nonce: nonce,
    };
    if (opts.signature !== null) headers.Signature = opts.signature ?? (opts.spaces ? `algorithm=RS256, keyVersion=1, signature=${sig}` : `algorithm=RS256,keyVersion=1,signature=${sig}`);
    const r = await fetch(`${this.baseUrl}${path}`, { method: 'POST', headers, body: opts.sentBody ?? raw });
    const text = await r.text();
    let parsed: any = text;
    try {
      parsed = JSON.parse(text);
    } catch {
      /* not JSON */
    }
    const rt = r.headers.get('response-time');
    const rn = r.headers.get('nonce');
    const signed = !!rt && !!rn && verifySignature(`POST ${path}\n${code}.${rt}.${rn}.${text}`, r.headers.get('signature'), this.creds.platform_public_key);
    return { status: r.status, text, body: parsed, headers: r.headers, signed };
  }

  pay(body: unknown, opts?: SendOptions) {
    return this.send('pay', body, opts);
  }
}

export function payBody(over: { scenarioCode?: string; paymentRequestId?: string; value?: string; currency?: string; type?: string; description?: string; notifyUrl?: string; redirectUrl?: string; [k: string]: unknown } = {}) {
  const { scenarioCode, paymentRequestId, value, currency, type, description, notifyUrl, redirectUrl, ...rest } = over;
  return {
    scenarioCode: scenarioCode ?? 'ONLINE_QRCODE',
    paymentRequestId: paymentRequestId ?? `order-${randomUUID()}`,
    order: {
      orderAmount: { value: value ?? '100', currency: currency ?? 'CAD' },
      description: description ?? 'Test order',
      ...(notifyUrl ? { notifyUrl } : {}),
      ...(redirectUrl ? { redirectUrl } : {}),
    },
    paymentMethod: { paymentMethodType: type ?? 'Alipay' },
    ...rest,
  };
}

export interface ReceivedNotice {
  headers: IncomingHttpHeaders;
  raw: string;
  body: any;
}

/** A merchant's notifyUrl: records what arrives, answers as told (200 once the answers run out). */
export class AlphapayNotifyReceiver extends RecordingEndpoint {
  answers: number[] = [];

  constructor() {
    super('/alphapay/notify', 'notifications', (n) => `${n.body?.paymentStatus ?? n.body?.refundStatus}:${n.body?.paymentId}`);
  }

  protected override nextAnswer(): [number, string] {
    return [this.answers.shift() ?? 200, JSON.stringify({ result: { resultCode: 'SUCCESS', resultStatus: 'S', resultMessage: 'success' } })];
  }

  /** The notification's signature checks out with the platform public key. */
  verified(n: ReceivedNotice, creds: AlphapayCredentials): boolean {
    const h = (k: string) => String(n.headers[k] ?? '');
    return verifySignature(`POST /alphapay/notify\n${h('merchant-code')}.${h('response-time')}.${h('nonce')}.${n.raw}`, h('signature'), creds.platform_public_key);
  }
}

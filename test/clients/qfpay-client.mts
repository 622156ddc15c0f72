/**
 * A minimal QFPay client as a merchant would write one from QFPay's docs:
 * form-encoded parameters, X-QF-APPCODE and an MD5 (or SHA256) X-QF-SIGN
 * over the sorted parameters plus the client key.
 */
import { createHash } from 'node:crypto';

export interface QfReply {
  status: number;
  body: any;
  text: string;
  headers: Headers;
}

export interface QfCredentials {
  app_code: string;
  client_key: string;
}

export function qfSign(params: Record<string, string>, key: string, type: 'MD5' | 'SHA256' = 'MD5'): string {
  const text =
    Object.keys(params)
      .filter((k) => params[k] !== '')
      .sort()
      .map((k) => `${k}=${params[k]}`)
      .join('&') + key;
  return createHash(type === 'SHA256' ? 'sha256' : 'md5').update(text, 'utf8').digest('hex').toUpperCase();
}

/** Now as QFPay's txdtm: "YYYY-MM-DD hh:mm:ss". */
export function txdtm(ms = Date.now()): string {
  return new Date(ms + 8 * 3600_000).toISOString().slice(0, 19).replace('T', ' ');
}

export class QfpayClient {
  constructor(
    readonly baseUrl: string,
    readonly credentials: QfCredentials,
    /** Sent as mchid on every request when set (a sub-merchant). */
    readonly mchid?: string,
  ) {}

  async send(
    method: 'GET' | 'POST',
    pathname: string,
    params: Record<string, string>,
    opts: { signType?: 'MD5' | 'SHA256'; sign?: string; headers?: Record<string, string> } = {},
  ): Promise<QfReply> {
    const all = { ...(this.mchid ? { mchid: this.mchid } : {}), ...params };
    const sign = opts.sign ?? qfSign(all, this.credentials.client_key, opts.signType);
    const form = new URLSearchParams(all).toString();
    const url = method === 'GET' ? `${this.baseUrl}${pathname}?${form}` : `${this.baseUrl}${pathname}`;
    const r = await fetch(url, {
      method,
      headers: {
        'X-QF-APPCODE': this.credentials.app_code,
        'X-QF-SIGN': sign,
        ...(opts.signType ? { 'X-QF-SIGNTYPE': opts.signType } : {}),
        ...(method === 'POST' ? { 'Content-Type': 'application/x-www-form-urlencoded' } : {}),
        ...opts.headers,
      },
      ...(method === 'POST' ? { body: form } : {}),
    });
    const buf = Buffer.from(await r.arrayBuffer());
    const text = buf.toString('utf8');
    let body: any = buf;
    if ((r.headers.get('content-type') ?? '').includes('json')) body = JSON.parse(text);
    return { status: r.status, body, text, headers: r.headers };
  }

  post(pathname: string, params: Record<string, string>, opts?: Parameters<QfpayClient['send']>[3]) {
    return this.send('POST', pathname, params, opts);
  }

  get(pathname: string, params: Record<string, string>, opts?: Parameters<QfpayClient['send']>[3]) {
    return this.send('GET', pathname, params, opts);
  }

  /** POST /trade/v1/payment with the usual fields filled in. */
  pay(fields: Record<string, string>) {
    return this.post('/trade/v1/payment', {
      txamt: '300',
      txcurrcd: 'HKD',
      out_trade_no: `ORDER-${Math.random().toString(36).slice(2, 12)}`,
      txdtm: txdtm(),
      ...fields,
    });
  }

  query(fields: Record<string, string>) {
    return this.post('/trade/v1/query', fields);
  }

  refund(fields: Record<string, string>) {
    return this.post('/trade/v1/refund', { txdtm: txdtm(), out_trade_no: `REFUND-${Math.random().toString(36).slice(2, 12)}`, ...fields });
  }
}

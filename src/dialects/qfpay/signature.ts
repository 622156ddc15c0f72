// QFPay request and notification signatures.
import { createHash, timingSafeEqual } from 'node:crypto';

export type QfSignType = 'MD5' | 'SHA256';

/**
 * Provider rule: take every parameter sent, drop empty ones and `sign`/`sign_type`,
 * sort by name (ASCII), join raw (not URL-encoded) `k=v` pairs with `&`, then append
 * the client key with no separator.
 */
export function stringToSign(params: Record<string, string | undefined>, clientKey: string, opts: { keepEmpty?: boolean } = {}): string {
  const names = Object.keys(params)
    .filter((k) => k !== 'sign' && k !== 'sign_type' && params[k] !== undefined && (opts.keepEmpty || params[k] !== ''))
    .sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  return names.map((k) => `${k}=${params[k]}`).join('&') + clientKey;
}

/** Upper-case hex MD5 or SHA256 of a string to sign. */
export function hashUpper(type: QfSignType, data: string): string {
  return createHash(type === 'SHA256' ? 'sha256' : 'md5').update(data, 'utf8').digest('hex').toUpperCase();
}

/** `X-QF-SIGN` for a request: upper-case hex MD5 (default) or SHA256 of stringToSign. */
export function signRequest(
  params: Record<string, string | undefined>,
  clientKey: string,
  type: QfSignType = 'MD5',
): string {
  return hashUpper(type, stringToSign(params, clientKey));
}

/** Provider samples send upper case, other clients lower case: compare case-insensitively. */
export function verifyRequest(
  params: Record<string, string | undefined>,
  clientKey: string,
  signature: string,
  type: QfSignType = 'MD5',
): boolean {
  const expected = Buffer.from(signRequest(params, clientKey, type), 'utf8');
  const given = Buffer.from(signature.toUpperCase(), 'utf8');
  return given.length === expected.length && timingSafeEqual(given, expected);
}

/** Notification `X-QF-SIGN`: upper-case hex MD5(raw body bytes + client key). */
export function signNotification(rawBody: string, clientKey: string): string {
  return hashUpper('MD5', rawBody + clientKey);
}

export type PyJson = string | number | boolean | null | PyJson[] | { [key: string]: PyJson };

// Python's json encoder (ensure_ascii=True) escapes exactly these short forms...
const SHORT_ESCAPES: Record<string, string> = {
  '"': '\\"',
  '\\': '\\\\',
  '\n': '\\n',
  '\r': '\\r',
  '\t': '\\t',
  '\b': '\\b',
  '\f': '\\f',
};

// ...and every other character outside printable ASCII (0x20-0x7e) as lower-case \uXXXX.
// JS strings are UTF-16, so astral characters already come out as surrogate pairs, as in Python.
function pyString(s: string): string {
  return (
    '"' +
    s.replace(/["\\]|[^\x20-\x7e]/g, (c) => SHORT_ESCAPES[c] ?? '\\u' + c.charCodeAt(0).toString(16).padStart(4, '0')) +
    '"'
  );
}

function pyNumber(n: number): string {
  // Python writes non-finite floats as NaN / Infinity / -Infinity (allow_nan=True).
  if (Number.isNaN(n)) return 'NaN';
  if (!Number.isFinite(n)) return n > 0 ? 'Infinity' : '-Infinity';
  // Integers match. Floats can differ from Python's repr (e.g. 1e-07 vs 1e-7); not needed here.
  return String(n);
}

/**
 * Serializes like Python's `json.dumps(obj)` with default settings: ", " and ": "
 * separators, insertion order, ensure_ascii escaping. QFPay verifiers rebuild this
 * layout before checking a notification's signature, so the bytes must match.
 */
export function pythonJsonDumps(obj: PyJson): string {
  if (obj === null) return 'null';
  if (typeof obj === 'string') return pyString(obj);
  if (typeof obj === 'number') return pyNumber(obj);
  if (typeof obj === 'boolean') return obj ? 'true' : 'false';
  if (Array.isArray(obj)) return '[' + obj.map(pythonJsonDumps).join(', ') + ']';
  return '{' + Object.entries(obj).map(([k, v]) => `${pyString(k)}: ${pythonJsonDumps(v)}`).join(', ') + '}';
}

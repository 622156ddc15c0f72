/**
 * How QFPay requests arrive: form-encoded bodies (JSON accepted leniently),
 * parameters in the query string too (GET reversal / close, and clients that
 * POST with `params=`), and a signature over exactly the parameters sent,
 * each of them once: a name repeated in the body, or in both the query
 * string and the body, leaves no single meaning to sign or act on.
 *
 * Clients disagree on what they sign: most sign the decoded values, the PHP
 * samples sign values they URL-encoded themselves (so the signed text is what
 * travels), the Java sample sends values unencoded, and Python's sample signs
 * empty values too. A signature is accepted when it matches the parameters
 * as decoded or as they appear on the wire, with empty ones dropped (the rule)
 * or kept; every variant needs the client key, so none weakens the check.
 */
import { timingSafeEqual } from 'node:crypto';
import { hashUpper, stringToSign, type QfSignType } from './signature.ts';

export interface WireParams {
  /** Decoded values: what the request means. */
  decoded: Record<string, string>;
  /** Values exactly as they appear on the wire (not percent-decoded). */
  raw: Record<string, string>;
  /** Names sent more than once: such a request is refused, whichever value it meant. */
  repeated: Set<string>;
}

export const emptyParams = (): WireParams => ({ decoded: Object.create(null), raw: Object.create(null), repeated: new Set() });

function put(into: WireParams, name: string, decoded: string, raw: string): void {
  if (name in into.decoded) into.repeated.add(name);
  into.decoded[name] = decoded;
  into.raw[name] = raw;
}

function decode(text: string): string {
  const spaced = text.replace(/\+/g, ' ');
  try {
    return decodeURIComponent(spaced);
  } catch {
    return spaced; // a stray "%" is kept as sent
  }
}

/** Parses `a=1&b=x%20y` into decoded and raw values; a repeated name is recorded as such. */
export function parseForm(text: string, into: WireParams = emptyParams()): WireParams {
  for (const pair of text.split('&')) {
    if (pair === '') continue;
    const eq = pair.indexOf('=');
    const rawName = eq < 0 ? pair : pair.slice(0, eq);
    const rawValue = eq < 0 ? '' : pair.slice(eq + 1);
    const name = decode(rawName).trim();
    if (name === '' || name === '__proto__') continue;
    put(into, name, decode(rawValue), rawValue);
  }
  return into;
}

/** A JSON object body: strings as they are, numbers and booleans as text, objects as JSON text. */
export function parseJsonObject(text: string, into: WireParams = emptyParams()): WireParams {
  const value: unknown = JSON.parse(text);
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new SyntaxError('the JSON body must be an object');
  for (const [name, v] of Object.entries(value as Record<string, unknown>)) {
    if (v === null || v === undefined || name === '__proto__') continue;
    const s = typeof v === 'string' ? v : typeof v === 'object' ? JSON.stringify(v) : String(v);
    put(into, name, s, s);
  }
  return into;
}

/** The body's parameters added to the query string's: a name in both is repeated. */
export function joinParams(into: WireParams, more: WireParams): WireParams {
  for (const name of Object.keys(more.decoded)) put(into, name, more.decoded[name]!, more.raw[name]!);
  for (const name of more.repeated) into.repeated.add(name);
  return into;
}

/** The body by its look when its Content-Type says nothing useful. */
export function parseBody(text: string, contentType: string | undefined, into: WireParams = emptyParams()): WireParams {
  const json = /json/i.test(contentType ?? '') || text.trimStart().startsWith('{');
  if (json && text.trim() !== '') return parseJsonObject(text, into);
  return parseForm(text.trim(), into);
}

/** Whether X-QF-SIGN matches the parameters sent (see the header comment for the variants). Case-insensitive, constant time per variant. */
export function signatureMatches(params: WireParams, clientKey: string, signature: string, type: QfSignType): boolean {
  const given = Buffer.from(signature.trim().toUpperCase(), 'utf8');
  const texts = new Set([
    stringToSign(params.decoded, clientKey),
    stringToSign(params.raw, clientKey),
    stringToSign(params.decoded, clientKey, { keepEmpty: true }),
    stringToSign(params.raw, clientKey, { keepEmpty: true }),
  ]);
  let ok = false;
  for (const text of texts) {
    const expected = Buffer.from(hashUpper(type, text), 'utf8');
    if (expected.length === given.length && timingSafeEqual(expected, given)) ok = true;
  }
  return ok;
}

/** X-QF-SIGNTYPE: SHA256, or MD5 when absent; null for anything else. */
export function signTypeOf(header: string | undefined): QfSignType | null {
  if (header === undefined || header.trim() === '') return 'MD5';
  const t = header.trim().toUpperCase();
  return t === 'MD5' || t === 'SHA256' ? t : null;
}

// AlphaPay signatures: v2 Open API (RSA) and v1 query-string sign (SHA256).
import {
  createHash,
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  sign as cryptoSign,
  verify as cryptoVerify,
  type KeyObject,
} from 'node:crypto';

export interface ContentParts {
  method: string;
  path: string;
  merchantCode: string;
  /** Raw `Request-Time` / `Response-Time` header string, signed as sent. */
  time: string;
  nonce: string;
  body: string;
}

/** Provider rule: `"<METHOD> <PATH>\n<Merchant-Code>.<time>.<Nonce>.<raw body>"`. */
export function contentToSign({ method, path, merchantCode, time, nonce, body }: ContentParts): string {
  return `${method} ${path}\n${merchantCode}.${time}.${nonce}.${body}`;
}

// Parsed keys are cached by their base64 text because signing/verifying runs per request.
const MAX_CACHED_KEYS = 1000;
const privateKeys = new Map<string, KeyObject>();
const publicKeys = new Map<string, KeyObject>();

function cached(cache: Map<string, KeyObject>, b64: string, parse: (der: Buffer) => KeyObject): KeyObject {
  let key = cache.get(b64);
  if (!key) {
    key = parse(Buffer.from(b64, 'base64'));
    if (cache.size >= MAX_CACHED_KEYS) cache.clear();
    cache.set(b64, key);
  }
  return key;
}

function privateKey(pkcs8Base64: string): KeyObject {
  return cached(privateKeys, pkcs8Base64, (der) => createPrivateKey({ key: der, format: 'der', type: 'pkcs8' }));
}

function publicKey(spkiBase64: string): KeyObject {
  return cached(publicKeys, spkiBase64, (der) => createPublicKey({ key: der, format: 'der', type: 'spki' }));
}

/** SHA256withRSA (PKCS#1 v1.5), base64. Deterministic for a given key and content. */
export function signContent(content: string, privateKeyPkcs8Base64: string): string {
  return cryptoSign('sha256', Buffer.from(content, 'utf8'), privateKey(privateKeyPkcs8Base64)).toString('base64');
}

/** True only for a valid signature; malformed keys or signatures give false, never throw. */
export function verifyContent(content: string, signatureBase64: string, publicKeySpkiBase64: string): boolean {
  try {
    const sig = Buffer.from(signatureBase64, 'base64');
    if (sig.length === 0) return false;
    return cryptoVerify('sha256', Buffer.from(content, 'utf8'), publicKey(publicKeySpkiBase64), sig);
  } catch {
    return false;
  }
}

export interface SignatureHeader {
  algorithm: string;
  keyVersion: number;
  signature: string;
}

/** `Signature` header value: base64 signature URL-encoded, as the provider's SDK sends it. */
export function formatSignatureHeader(signatureBase64: string, keyVersion = 1): string {
  return `algorithm=RS256,keyVersion=${keyVersion},signature=${encodeURIComponent(signatureBase64)}`;
}

/**
 * Parses `algorithm=RS256,keyVersion=1,signature=<sig>` (SDKs send it with or without
 * spaces after commas). Returns the URL-decoded signature, or null when malformed.
 * A missing keyVersion defaults to 1.
 */
export function parseSignatureHeader(header: string): SignatureHeader | null {
  const fields = new Map<string, string>();
  for (const part of header.split(',')) {
    const eq = part.indexOf('=');
    if (eq <= 0) return null;
    // Split at the first '=' only: an un-encoded base64 signature may end in '='.
    fields.set(part.slice(0, eq).trim(), part.slice(eq + 1).trim());
  }
  const algorithm = fields.get('algorithm');
  const rawSignature = fields.get('signature');
  const rawVersion = fields.get('keyVersion') ?? '1';
  if (!algorithm || !rawSignature || !/^\d+$/.test(rawVersion)) return null;
  let signature: string;
  try {
    signature = decodeURIComponent(rawSignature);
  } catch {
    return null;
  }
  return { algorithm, keyVersion: Number(rawVersion), signature };
}

/** v1 API: `sign` = lower-case hex SHA256("partner_code&time&nonce_str&credential_code"). */
export function v1QuerySign(partnerCode: string, time: string, nonceStr: string, credentialCode: string): string {
  return createHash('sha256').update(`${partnerCode}&${time}&${nonceStr}&${credentialCode}`, 'utf8').digest('hex');
}

/** New RSA-2048 key pair as base64 DER (PKCS#8 private, SPKI public). */
export function generateRsaKeyPair(): { privateKeyPkcs8Base64: string; publicKeySpkiBase64: string } {
  const { privateKey: priv, publicKey: pub } = generateKeyPairSync('rsa', {
    modulusLength: 2048,
    privateKeyEncoding: { format: 'der', type: 'pkcs8' },
    publicKeyEncoding: { format: 'der', type: 'spki' },
  });
  return { privateKeyPkcs8Base64: priv.toString('base64'), publicKeySpkiBase64: pub.toString('base64') };
}

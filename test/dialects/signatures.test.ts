// Reproduces the independent signature vectors in ../shared/vectors/signatures.json.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { signWebhook, verifyWebhook } from '../../src/dialects/uqpay/webhook-signature.ts';
import {
  pythonJsonDumps,
  signNotification,
  signRequest,
  stringToSign,
  verifyRequest,
} from '../../src/dialects/qfpay/signature.ts';
import {
  contentToSign,
  formatSignatureHeader,
  generateRsaKeyPair,
  parseSignatureHeader,
  signContent,
  v1QuerySign,
  verifyContent,
} from '../../src/dialects/alphapay/signature.ts';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const vectors = JSON.parse(
  readFileSync(path.resolve(repoRoot, '..', 'shared', 'vectors', 'signatures.json'), 'utf8'),
);

describe('uqpay webhook signature', () => {
  const v = vectors.uqpay.webhook;
  const now = Number(v.timestamp);

  it('reproduces x-wk-signature', () => {
    expect(signWebhook(v.secret, v.raw_body, v.timestamp)).toBe(v['x-wk-signature']);
  });

  it('verifies within tolerance', () => {
    expect(verifyWebhook(v.secret, v.raw_body, v.timestamp, v['x-wk-signature'], now)).toBe(true);
    expect(verifyWebhook(v.secret, v.raw_body, v.timestamp, v['x-wk-signature'], now + 300)).toBe(true);
    expect(verifyWebhook(v.secret, v.raw_body, v.timestamp, v['x-wk-signature'], now - 300)).toBe(true);
  });

  it('rejects wrong secret, tampered body, bad signature and stale timestamp', () => {
    const sig = v['x-wk-signature'];
    expect(verifyWebhook('whsec_wrong', v.raw_body, v.timestamp, sig, now)).toBe(false);
    expect(verifyWebhook(v.secret, v.raw_body.replace('8.98', '8.99'), v.timestamp, sig, now)).toBe(false);
    expect(verifyWebhook(v.secret, v.raw_body, v.timestamp, sig.slice(0, -2), now)).toBe(false);
    expect(verifyWebhook(v.secret, v.raw_body, v.timestamp, '', now)).toBe(false);
    expect(verifyWebhook(v.secret, v.raw_body, v.timestamp, sig, now + 301)).toBe(false);
    expect(verifyWebhook(v.secret, v.raw_body, v.timestamp, sig, now - 301)).toBe(false);
    expect(verifyWebhook(v.secret, v.raw_body, v.timestamp, sig, now + 100, 60)).toBe(false);
    expect(verifyWebhook(v.secret, v.raw_body, 'abc', sig, now)).toBe(false);
  });
});

describe('qfpay request signature', () => {
  const v = vectors.qfpay.request;

  it('builds the string to sign', () => {
    expect(stringToSign(v.params, v.client_key)).toBe(v.string_to_sign);
  });

  it('ignores empty values, sign and sign_type, and input order', () => {
    const shuffled = Object.fromEntries(Object.entries(v.params as Record<string, string>).reverse());
    const noisy = { ...shuffled, sign: 'X', sign_type: 'MD5', mchntcd: '', extra: undefined };
    expect(stringToSign(noisy, v.client_key)).toBe(v.string_to_sign);
  });

  it('reproduces MD5 and SHA256 signatures', () => {
    expect(signRequest(v.params, v.client_key)).toBe(v.md5_upper);
    expect(signRequest(v.params, v.client_key, 'MD5')).toBe(v.md5_upper);
    expect(signRequest(v.params, v.client_key, 'SHA256')).toBe(v.sha256_upper);
  });

  it('verifies case-insensitively', () => {
    expect(verifyRequest(v.params, v.client_key, v.md5_upper, 'MD5')).toBe(true);
    expect(verifyRequest(v.params, v.client_key, v.md5_upper.toLowerCase(), 'MD5')).toBe(true);
    expect(verifyRequest(v.params, v.client_key, v.sha256_upper.toLowerCase(), 'SHA256')).toBe(true);
  });

  it('rejects wrong key, tampered params, wrong type and bad signatures', () => {
    expect(verifyRequest(v.params, 'wrongkey', v.md5_upper, 'MD5')).toBe(false);
    expect(verifyRequest({ ...v.params, txamt: '11' }, v.client_key, v.md5_upper, 'MD5')).toBe(false);
    expect(verifyRequest(v.params, v.client_key, v.md5_upper, 'SHA256')).toBe(false);
    expect(verifyRequest(v.params, v.client_key, v.sha256_upper, 'MD5')).toBe(false);
    expect(verifyRequest(v.params, v.client_key, '', 'MD5')).toBe(false);
  });
});

describe('qfpay notification signature', () => {
  const v = vectors.qfpay.notification;

  it('reproduces x-qf-sign', () => {
    expect(signNotification(v.raw_body, v.client_key)).toBe(v['x-qf-sign']);
    expect(signNotification(v.raw_body, 'wrongkey')).not.toBe(v['x-qf-sign']);
    expect(signNotification(v.raw_body.replace('300', '301'), v.client_key)).not.toBe(v['x-qf-sign']);
  });

  it('pythonJsonDumps reproduces the body byte for byte', () => {
    const dumped = pythonJsonDumps(JSON.parse(v.raw_body));
    expect(Buffer.from(dumped, 'utf8').equals(Buffer.from(v.raw_body, 'utf8'))).toBe(true);
    expect(dumped).toBe(v.raw_body);
  });

  it('pythonJsonDumps escapes like Python', () => {
    // Expected values are what Python 3 json.dumps prints for the same input.
    expect(pythonJsonDumps({})).toBe('{}');
    expect(pythonJsonDumps({ a: 'q"b\\s/', b: '\n\r\t\b\f\x00\x1f\x7f' })).toBe(
      '{"a": "q\\"b\\\\s/", "b": "\\n\\r\\t\\b\\f\\u0000\\u001f\\u007f"}',
    );
    expect(pythonJsonDumps({ e: 'é€😀' })).toBe('{"e": "\\u00e9\\u20ac\\ud83d\\ude00"}');
    expect(pythonJsonDumps({ n: 1, f: 1.5, t: true, z: null, l: [1, 'x', []], o: { k: 'v' } })).toBe(
      '{"n": 1, "f": 1.5, "t": true, "z": null, "l": [1, "x", []], "o": {"k": "v"}}',
    );
  });
});

describe('alphapay v2 signature', () => {
  const v = vectors.alphapay_v2.request;
  const parts = {
    method: v.method,
    path: v.path,
    merchantCode: v.merchant_code,
    time: v.request_time,
    nonce: v.nonce,
    body: v.raw_body,
  };

  it('builds the content to sign', () => {
    expect(contentToSign(parts)).toBe(v.content_to_sign);
  });

  it('reproduces the RSA signature exactly', () => {
    expect(signContent(v.content_to_sign, v.merchant_private_key_pkcs8_b64)).toBe(v.signature_b64);
    // second call goes through the key cache
    expect(signContent(v.content_to_sign, v.merchant_private_key_pkcs8_b64)).toBe(v.signature_b64);
  });

  it('formats and parses the Signature header', () => {
    expect(formatSignatureHeader(v.signature_b64)).toBe(v.signature_header);
    expect(formatSignatureHeader(v.signature_b64, 1)).toBe(v.signature_header);
    const expected = { algorithm: 'RS256', keyVersion: 1, signature: v.signature_b64 };
    expect(parseSignatureHeader(v.signature_header)).toEqual(expected);
    expect(parseSignatureHeader(v.signature_header.replace(/,/g, ', '))).toEqual(expected);
    // not URL-encoded: '=' padding and '+' survive
    expect(parseSignatureHeader(`algorithm=RS256, keyVersion=2, signature=${v.signature_b64}`)).toEqual({
      ...expected,
      keyVersion: 2,
    });
    expect(parseSignatureHeader('')).toBeNull();
    expect(parseSignatureHeader('algorithm=RS256,keyVersion=1')).toBeNull();
    expect(parseSignatureHeader('algorithm=RS256,keyVersion=x,signature=abc')).toBeNull();
    expect(parseSignatureHeader('algorithm=RS256,keyVersion=1,signature=%E0%A4%A')).toBeNull();
  });

  it('verifies with the public key and fails after flipping one body byte', () => {
    const pub = v.merchant_public_key_spki_b64;
    expect(verifyContent(v.content_to_sign, v.signature_b64, pub)).toBe(true);
    const tampered = contentToSign({ ...parts, body: v.raw_body.replace('"100"', '"101"') });
    expect(tampered).not.toBe(v.content_to_sign);
    expect(verifyContent(tampered, v.signature_b64, pub)).toBe(false);
  });

  it('fails with a wrong key and garbage input, without throwing', () => {
    const other = generateRsaKeyPair();
    expect(verifyContent(v.content_to_sign, v.signature_b64, other.publicKeySpkiBase64)).toBe(false);
    expect(verifyContent(v.content_to_sign, signContent(v.content_to_sign, other.privateKeyPkcs8Base64), v.merchant_public_key_spki_b64)).toBe(false);
    expect(verifyContent(v.content_to_sign, 'not a signature!!', v.merchant_public_key_spki_b64)).toBe(false);
    expect(verifyContent(v.content_to_sign, '', v.merchant_public_key_spki_b64)).toBe(false);
    expect(verifyContent(v.content_to_sign, 'AAAA', v.merchant_public_key_spki_b64)).toBe(false);
    expect(verifyContent(v.content_to_sign, v.signature_b64, 'garbage-key')).toBe(false);
  });

  it('generates working RSA-2048 key pairs', () => {
    const kp = generateRsaKeyPair();
    const sig = signContent('hello', kp.privateKeyPkcs8Base64);
    expect(Buffer.from(sig, 'base64').length).toBe(256);
    expect(verifyContent('hello', sig, kp.publicKeySpkiBase64)).toBe(true);
  });
});

describe('alphapay v1 query sign', () => {
  const v = vectors.alphapay_v1.query_sign;

  it('reproduces the sign', () => {
    expect(v1QuerySign(v.partner_code, v.time, v.nonce_str, v.credential_code)).toBe(v.sign);
  });

  it('changes with the credential', () => {
    expect(v1QuerySign(v.partner_code, v.time, v.nonce_str, 'wrong')).not.toBe(v.sign);
  });
});

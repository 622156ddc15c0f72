// Creates an AlphaPay ONLINE_QRCODE order on polypay, signed as AlphaPay's v2 API requires,
// and checks the answer's signature with the platform public key.
// Usage: node docs/examples/alphapay-pay.mjs [credentials.json] [base URL]
// (defaults: data/demo-merchant.json, written by `npm start`, and http://127.0.0.1:8080)
import { createPrivateKey, createPublicKey, randomUUID, sign, verify } from 'node:crypto';
import { readFileSync } from 'node:fs';

const creds = JSON.parse(readFileSync(process.argv[2] ?? 'data/demo-merchant.json', 'utf8')).alphapay;
const baseUrl = process.argv[3] ?? 'http://127.0.0.1:8080';

const path = '/api/v2.0/payments/pay';
const body = JSON.stringify({
  scenarioCode: 'ONLINE_QRCODE',
  paymentRequestId: `order-${Date.now()}`,
  order: { orderAmount: { value: '1234', currency: 'CAD' }, description: 'Two bubble teas' },
  paymentMethod: { paymentMethodType: 'Alipay' },
});
const time = new Date().toISOString();
const nonce = randomUUID().replace(/-/g, '');
// "<METHOD> <PATH>\n<Merchant-Code>.<Request-Time>.<Nonce>.<raw body>", SHA256withRSA, base64, URL-encoded.
const content = `POST ${path}\n${creds.merchant_code}.${time}.${nonce}.${body}`;
const privateKey = createPrivateKey({ key: Buffer.from(creds.merchant_private_key, 'base64'), format: 'der', type: 'pkcs8' });
const signature = encodeURIComponent(sign('sha256', Buffer.from(content), privateKey).toString('base64'));

const res = await fetch(baseUrl + path, {
  method: 'POST',
  headers: {
    'Content-Type': 'application/json; charset=UTF-8',
    'Merchant-Code': creds.merchant_code,
    'Request-Time': time,
    Nonce: nonce,
    Signature: `algorithm=RS256,keyVersion=1,signature=${signature}`,
  },
  body,
});
const text = await res.text();

// The answer is signed the same way with the platform key, over the request's method and path.
const answered = `POST ${path}\n${creds.merchant_code}.${res.headers.get('response-time')}.${res.headers.get('nonce')}.${text}`;
const sig = decodeURIComponent(/signature=([^,\s]+)/.exec(res.headers.get('signature') ?? '')?.[1] ?? '');
const platformKey = createPublicKey({ key: Buffer.from(creds.platform_public_key, 'base64'), format: 'der', type: 'spki' });
const valid = verify('sha256', Buffer.from(answered), platformKey, Buffer.from(sig, 'base64'));

const answer = JSON.parse(text);
console.log('HTTP', res.status, answer.result.resultCode, answer.result.resultStatus, 'signature valid:', valid);
console.log('paymentId: ', answer.paymentId);
console.log('paymentUrl:', answer.paymentInfo?.paymentUrl);
console.log('payUrl:    ', answer.paymentInfo?.payUrl);
if (!valid || answer.result.resultStatus !== 'S') process.exitCode = 1;

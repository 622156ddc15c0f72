/**
 * `npx tsx bench/alphapay-crypto.ts [N]`: what the AlphaPay pay route spends
 * on cryptography and its QR image per request, without the server: RSA-2048
 * verify of the request (merchant key), RSA-2048 sign of the answer
 * (platform key), and the paymentQRImage PNG. Prints the median and p90 of N
 * runs each (default 3000), in microseconds.
 */
import QRCode from 'qrcode';
import { QR_IMAGE } from '../src/dialects/alphapay/payments-routes.ts';
import { contentToSign, generateRsaKeyPair, signContent, verifyContent } from '../src/dialects/alphapay/signature.ts';

const N = Math.max(100, Number(process.argv[2] ?? 3000));
const merchant = generateRsaKeyPair();
const platform = generateRsaKeyPair();
const body = JSON.stringify({
  scenarioCode: 'ONLINE_QRCODE',
  paymentRequestId: 'bench-000001',
  order: { orderAmount: { value: '898', currency: 'CAD' }, description: 'bench' },
  paymentMethod: { paymentMethodType: 'Alipay' },
});
const request = contentToSign({ method: 'POST', path: '/api/v2.0/payments/pay', merchantCode: 'BENCHX', time: new Date().toISOString(), nonce: 'a'.repeat(32), body });
const signature = signContent(request, merchant.privateKeyPkcs8Base64);
const answer = request + '{"paymentInfo":{"paymentUrl":"http://127.0.0.1:8080/wallet/pay/abcdefghijklmnopqrstuvwx"}}'.repeat(20);
const url = 'http://127.0.0.1:8080/wallet/pay/abcdefghijklmnopqrstuvwx';

async function time(name: string, fn: () => unknown): Promise<number> {
  for (let i = 0; i < 50; i++) await fn(); // warm-up (key parsing, JIT)
  const samples: number[] = [];
  for (let i = 0; i < N; i++) {
    const t = process.hrtime.bigint();
    await fn();
    samples.push(Number(process.hrtime.bigint() - t) / 1000);
  }
  samples.sort((a, b) => a - b);
  const median = samples[Math.floor(N / 2)]!;
  console.log(`${name.padEnd(34)} median ${median.toFixed(0).padStart(6)} us   p90 ${samples[Math.floor(N * 0.9)]!.toFixed(0).padStart(6)} us`);
  return median;
}

const verify = await time('verify request (RSA-2048, SHA-256)', () => {
  if (!verifyContent(request, signature, merchant.publicKeySpkiBase64)) throw new Error('verify failed');
});
const sign = await time('sign answer (RSA-2048, SHA-256)', () => signContent(answer, platform.privateKeyPkcs8Base64));
const qr = await time('paymentQRImage (PNG data URL)', () => QRCode.toDataURL(url, QR_IMAGE));
console.log(`per pay request: ${(verify + sign).toFixed(0)} us of RSA, ${qr.toFixed(0)} us of QR image (${N} runs each)`);

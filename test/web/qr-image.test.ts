/** The QR images polypay draws decode, with a QR reader, to exactly the text they were drawn from. */
import { describe, expect, it } from 'vitest';
import { qrDataUrl, qrPng } from '../../src/web/qr-image.ts';
import { readQrDataUrl, readQrPng as decode } from '../support/qr.ts';

describe('QR images', () => {
  it('decode to their text, short and long, at every scale', () => {
    const texts = ['x', 'http://127.0.0.1:8080/wallet/pay/AbCdEf0123456789', `https://pay.example/${'q'.repeat(300)}?a=1&b=%20`];
    for (const text of texts) {
      for (const scale of [2, 4, 6]) {
        const { text: read, width } = decode(qrPng(text, { scale, margin: 2 }));
        expect(read, `${text.length} characters at scale ${scale}`).toBe(text);
        expect(width % scale).toBe(0);
      }
    }
  });

  it('is a 1-bit grayscale PNG, and its data URL an img src', () => {
    const png = qrPng('polypay');
    expect(png.subarray(1, 4).toString('ascii')).toBe('PNG');
    expect(png[24]).toBe(1); // bit depth
    expect(png[25]).toBe(0); // grayscale
    const url = qrDataUrl('polypay');
    expect(url.startsWith('data:image/png;base64,')).toBe(true);
    expect(readQrDataUrl(url)).toBe('polypay');
  });
});

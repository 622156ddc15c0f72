/** Reads QR codes back as a shopper's phone would: PNG images decoded with a QR reader (jsQR). */
import jsQRModule from 'jsqr';
import { PNG } from 'pngjs';

// jsqr ships CommonJS with a default export that TypeScript and Node's ESM loader see differently.
const jsQR = ((jsQRModule as unknown as { default?: unknown }).default ?? jsQRModule) as unknown as (data: Uint8ClampedArray, w: number, h: number) => { data: string } | null;

/** The text a PNG's QR code holds, and the image's width; text null when no code is found. */
export function readQrPng(png: Buffer): { text: string | null; width: number } {
  const img = PNG.sync.read(png);
  return { text: jsQR(new Uint8ClampedArray(img.data), img.width, img.height)?.data ?? null, width: img.width };
}

/** The text of a `data:image/png;base64,...` QR image, or null when it is not one. */
export function readQrDataUrl(dataUrl: string): string | null {
  if (!dataUrl.startsWith('data:image/png;base64,')) return null;
  return readQrPng(Buffer.from(dataUrl.slice(dataUrl.indexOf(',') + 1), 'base64')).text;
}

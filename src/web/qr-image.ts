/**
 * QR codes as PNG images, cheaply enough to draw one per API answer
 * (AlphaPay's paymentQRImage). The qrcode library lays out the symbol; the
 * PNG is written here as a 1-bit grayscale image, which is all a QR code
 * needs. The library's own PNG path (through pngjs, 8-bit RGBA) and its
 * search for the best of the eight mask patterns took about 2 ms per image;
 * any mask pattern gives a valid symbol that every reader decodes, so one
 * fixed pattern is used.
 */
import { crc32, deflateSync } from 'node:zlib';
import QRCode from 'qrcode';

const SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

function chunk(type: string, data: Buffer): Buffer {
  const out = Buffer.alloc(12 + data.length);
  out.writeUInt32BE(data.length, 0);
  out.write(type, 4, 'ascii');
  data.copy(out, 8);
  out.writeUInt32BE(crc32(out.subarray(4, 8 + data.length)), 8 + data.length);
  return out;
}

export interface QrImageOptions {
  /** Pixels per module (default 4). */
  scale?: number;
  /** Quiet zone around the symbol, in modules (default 1). */
  margin?: number;
}

/** A PNG of the QR code of `text`: black modules on white, `scale` pixels each. */
export function qrPng(text: string, { scale = 4, margin = 1 }: QrImageOptions = {}): Buffer {
  const { size, data } = QRCode.create(text, { errorCorrectionLevel: 'M', maskPattern: 0 } as QRCode.QRCodeOptions).modules;
  const px = (size + 2 * margin) * scale;
  const stride = Math.ceil(px / 8) + 1; // a filter byte (0: none) before each row
  const raw = Buffer.alloc(stride * px);
  // One row of pixels per row of modules (white is 1), copied `scale` times.
  const line = Buffer.alloc(stride);
  for (let my = -margin; my < size + margin; my++) {
    line.fill(0);
    for (let x = 0; x < px; x++) {
      const mx = Math.floor(x / scale) - margin;
      const dark = my >= 0 && my < size && mx >= 0 && mx < size && data[my * size + mx] === 1;
      if (!dark) line[1 + (x >> 3)]! |= 0x80 >> (x & 7);
    }
    for (let k = 0; k < scale; k++) line.copy(raw, ((my + margin) * scale + k) * stride);
  }
  const header = Buffer.alloc(13);
  header.writeUInt32BE(px, 0);
  header.writeUInt32BE(px, 4);
  header[8] = 1; // bit depth; color type 0 (grayscale), deflate, adaptive filtering, no interlace
  return Buffer.concat([SIGNATURE, chunk('IHDR', header), chunk('IDAT', deflateSync(raw)), chunk('IEND', Buffer.alloc(0))]);
}

/** The same as a data: URL, usable as an img src. */
export const qrDataUrl = (text: string, options?: QrImageOptions): string => `data:image/png;base64,${qrPng(text, options).toString('base64')}`;

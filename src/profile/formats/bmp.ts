import type { ByteSource } from '../byte-source.ts';
import {
  HeaderError,
  checkDimensions,
  expectLength,
  startsWith,
  view,
  type ImageHeader,
} from '../image-header.ts';
import { expectSize } from './tail.ts';

const BI_RGB = 0;
const BI_BITFIELDS = 3;
const BI_ALPHABITFIELDS = 6;

export const isBmp = (head: Uint8Array): boolean => startsWith(head, [0x42, 0x4d]);

export async function readBmpHeader(source: ByteSource): Promise<ImageHeader> {
  const head = source.head;
  expectLength(head, 26, 'BMP header');
  const dv = view(head);
  const pixelOffset = dv.getUint32(10, true);
  const dibSize = dv.getUint32(14, true);
  let width: number, height: number, bitCount: number, compression: number;
  let hasAlpha = false;
  if (dibSize === 12) {
    // OS/2 BITMAPCOREHEADER: 16-bit dimensions, no compression.
    width = dv.getUint16(18, true);
    height = dv.getUint16(20, true);
    bitCount = dv.getUint16(24, true);
    compression = BI_RGB;
  } else if (dibSize >= 40) {
    expectLength(head, 14 + 40, 'BMP info header');
    width = dv.getInt32(18, true);
    // Negative height marks a top-down bitmap.
    height = Math.abs(dv.getInt32(22, true));
    bitCount = dv.getUint16(28, true);
    compression = dv.getUint32(30, true);
    if (dibSize >= 56) {
      expectLength(head, 14 + 56, 'BMP info header');
      hasAlpha = dv.getUint32(14 + 52, true) !== 0;
    }
    if (compression === BI_ALPHABITFIELDS) hasAlpha = true;
  } else {
    throw new HeaderError(`corrupt BMP: DIB header size ${dibSize}`);
  }
  checkDimensions(width, height);
  if (![1, 2, 4, 8, 16, 24, 32].includes(bitCount)) {
    throw new HeaderError(`corrupt BMP: ${bitCount} bits per pixel`);
  }
  if (compression === BI_RGB || compression === BI_BITFIELDS) {
    const rowBytes = Math.floor((bitCount * width + 31) / 32) * 4;
    await expectSize(source, pixelOffset + rowBytes * height, 'BMP pixel array');
  }
  let channels = bitCount === 32 && hasAlpha ? 4 : 3;
  if (bitCount <= 8 && isGrayPalette(head, dibSize, bitCount)) channels = 1;
  return { format: 'bmp', width, height, channels };
}

/** Indexed bitmaps whose palette entries all have R = G = B are grayscale images. */
function isGrayPalette(head: Uint8Array, dibSize: number, bitCount: number): boolean {
  const entrySize = dibSize === 12 ? 3 : 4;
  const declared = dibSize >= 40 ? view(head).getUint32(46, true) : 0;
  const entries = declared || 2 ** bitCount;
  const start = 14 + dibSize;
  expectLength(head, start + entries * entrySize, 'BMP palette');
  for (let i = 0; i < entries; i++) {
    const at = start + i * entrySize;
    if (head[at] !== head[at + 1] || head[at + 1] !== head[at + 2]) return false;
  }
  return true;
}

import type { ByteSource } from '../byte-source.ts';
import {
  HeaderError,
  ascii,
  checkDimensions,
  expectLength,
  startsWith,
  view,
  type ImageHeader,
} from '../image-header.ts';
import { expectSize } from './tail.ts';

const VP8X_ALPHA = 0x10;

export const isWebp = (head: Uint8Array): boolean =>
  startsWith(head, [0x52, 0x49, 0x46, 0x46]) && head.length >= 12 && ascii(head, 8, 4) === 'WEBP';

/** Reads the first chunk: lossy VP8 frame header, lossless VP8L header or extended VP8X. */
export async function readWebpHeader(source: ByteSource): Promise<ImageHeader> {
  const head = source.head;
  expectLength(head, 30, 'WebP header');
  const dv = view(head);
  const chunk = ascii(head, 12, 4);
  const data = 20;
  let width: number, height: number, channels: number;
  if (chunk === 'VP8 ') {
    if (!startsWith(head, [0x9d, 0x01, 0x2a], data + 3)) {
      throw new HeaderError('corrupt WebP: no VP8 start code');
    }
    width = dv.getUint16(data + 6, true) & 0x3fff;
    height = dv.getUint16(data + 8, true) & 0x3fff;
    channels = 3;
  } else if (chunk === 'VP8L') {
    if (head[data] !== 0x2f) throw new HeaderError('corrupt WebP: no VP8L signature');
    const bits = dv.getUint32(data + 1, true);
    width = (bits & 0x3fff) + 1;
    height = ((bits >>> 14) & 0x3fff) + 1;
    channels = (bits >>> 28) & 1 ? 4 : 3;
  } else if (chunk === 'VP8X') {
    width = uint24(head, data + 4) + 1;
    height = uint24(head, data + 7) + 1;
    channels = head[data] & VP8X_ALPHA ? 4 : 3;
  } else {
    throw new HeaderError(`corrupt WebP: unknown first chunk "${chunk}"`);
  }
  checkDimensions(width, height);
  await expectSize(source, 8 + dv.getUint32(4, true), 'WebP RIFF container');
  return { format: 'webp', width, height, channels };
}

const uint24 = (b: Uint8Array, at: number): number => b[at] | (b[at + 1] << 8) | (b[at + 2] << 16);

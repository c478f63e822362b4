import { crc32 } from 'node:zlib';
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
import { expectEndMarker } from './tail.ts';

const SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
const IEND_CHUNK = [0, 0, 0, 0, 0x49, 0x45, 0x4e, 0x44, 0xae, 0x42, 0x60, 0x82];
/** Channels per PNG colour type (palette images are colour). */
const CHANNELS: Record<number, number> = { 0: 1, 2: 3, 3: 3, 4: 2, 6: 4 };

export const isPng = (head: Uint8Array): boolean => startsWith(head, SIGNATURE);

export async function readPngHeader(source: ByteSource): Promise<ImageHeader> {
  const head = source.head;
  expectLength(head, 33, 'IHDR chunk');
  const dv = view(head);
  if (dv.getUint32(8) !== 13 || ascii(head, 12, 4) !== 'IHDR') {
    throw new HeaderError('corrupt PNG: first chunk is not a 13-byte IHDR');
  }
  if (crc32(head.subarray(12, 29)) !== dv.getUint32(29)) {
    throw new HeaderError('corrupt PNG: IHDR checksum mismatch');
  }
  const width = dv.getUint32(16);
  const height = dv.getUint32(20);
  checkDimensions(width, height);
  const channels = CHANNELS[head[25]];
  if (channels === undefined) throw new HeaderError(`corrupt PNG: colour type ${head[25]}`);
  await expectEndMarker(source, IEND_CHUNK, 'PNG IEND chunk');
  return { format: 'png', width, height, channels };
}

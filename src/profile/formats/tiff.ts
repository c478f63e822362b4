import type { ByteSource } from '../byte-source.ts';
import {
  HeaderError,
  checkDimensions,
  expectLength,
  startsWith,
  view,
  type ImageHeader,
} from '../image-header.ts';

const IMAGE_WIDTH = 256;
const IMAGE_LENGTH = 257;
const PHOTOMETRIC = 262;
const SAMPLES_PER_PIXEL = 277;
const PHOTOMETRIC_PALETTE = 3;
const SHORT = 3;
const LONG = 4;

export const isTiff = (head: Uint8Array): boolean =>
  startsWith(head, [0x49, 0x49, 0x2a, 0x00]) || startsWith(head, [0x4d, 0x4d, 0x00, 0x2a]);

/** Reads the first image file directory (IFD), wherever in the file it sits. */
export async function readTiffHeader(source: ByteSource): Promise<ImageHeader> {
  expectLength(source.head, 8, 'TIFF header');
  const little = source.head[0] === 0x49;
  const ifdOffset = view(source.head).getUint32(4, little);
  const countBytes = await source.read(ifdOffset, 2);
  expectLength(countBytes, 2, 'TIFF image file directory');
  const count = view(countBytes).getUint16(0, little);
  const entries = await source.read(ifdOffset + 2, count * 12);
  expectLength(entries, count * 12, 'TIFF image file directory');
  const dv = view(entries);
  const tags = new Map<number, number>();
  for (let i = 0; i < count; i++) {
    const at = i * 12;
    const tag = dv.getUint16(at, little);
    const type = dv.getUint16(at + 2, little);
    // Single SHORT and LONG values sit left-justified in the entry's 4-byte value field.
    if (type === SHORT) tags.set(tag, dv.getUint16(at + 8, little));
    else if (type === LONG) tags.set(tag, dv.getUint32(at + 8, little));
  }
  const width = tags.get(IMAGE_WIDTH);
  const height = tags.get(IMAGE_LENGTH);
  if (width === undefined || height === undefined) {
    throw new HeaderError('corrupt TIFF: no ImageWidth/ImageLength tags (256/257)');
  }
  checkDimensions(width, height);
  const samples = tags.get(SAMPLES_PER_PIXEL) ?? 1;
  const channels = tags.get(PHOTOMETRIC) === PHOTOMETRIC_PALETTE ? 3 : samples;
  if (channels < 1 || channels > 4) {
    throw new HeaderError(`unsupported TIFF: ${samples} samples per pixel`);
  }
  return { format: 'tiff', width, height, channels };
}

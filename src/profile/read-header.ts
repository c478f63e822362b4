import { bufferSource, withFileSource, type ByteSource } from './byte-source.ts';
import { HeaderError, type ImageHeader } from './image-header.ts';
import { isBmp, readBmpHeader } from './formats/bmp.ts';
import { isDicom, readDicomHeader } from './formats/dicom.ts';
import { isJpeg, readJpegHeader } from './formats/jpeg.ts';
import { isPng, readPngHeader } from './formats/png.ts';
import { isTiff, readTiffHeader } from './formats/tiff.ts';
import { isWebp, readWebpHeader } from './formats/webp.ts';

const READERS: [(head: Uint8Array) => boolean, (source: ByteSource) => Promise<ImageHeader>][] = [
  [isPng, readPngHeader],
  [isJpeg, readJpegHeader],
  [isDicom, readDicomHeader],
  [isWebp, readWebpHeader],
  [isTiff, readTiffHeader],
  [isBmp, readBmpHeader],
];

/**
 * Reads an image header, recognising the format by its content (not its file extension).
 * Throws HeaderError when the bytes are not a readable image of a supported format.
 */
export async function readImageHeader(source: ByteSource): Promise<ImageHeader> {
  if (source.head.length === 0) throw new HeaderError('empty file');
  for (const [matches, read] of READERS) if (matches(source.head)) return read(source);
  throw new HeaderError('not a supported image (PNG, JPEG, BMP, TIFF, WebP or DICOM)');
}

export const readImageHeaderFromFile = (file: string): Promise<ImageHeader> =>
  withFileSource(file, readImageHeader);

export const readImageHeaderFromBytes = (bytes: Uint8Array): Promise<ImageHeader> =>
  readImageHeader(bufferSource(bytes));

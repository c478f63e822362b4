export const IMAGE_FORMATS = ['png', 'jpeg', 'bmp', 'tiff', 'webp', 'dicom'] as const;
export type ImageFormat = (typeof IMAGE_FORMATS)[number];

/** What a file's header says about the image, without decoding a pixel. */
export interface ImageHeader {
  format: ImageFormat;
  width: number;
  height: number;
  /** 1 grayscale, 2 grayscale + alpha, 3 colour (palette images count as colour), 4 with alpha or CMYK. */
  channels: number;
  /** DICOM Modality (0008,0060) as written, e.g. "CR". */
  dicomModality?: string;
}

/**
 * Why a file cannot be profiled (truncated, corrupt, not an image). Caught per file and
 * reported in the skipped list, so one bad file never stops a run.
 */
export class HeaderError extends Error {
  override readonly name = 'HeaderError';
}

/** Throws a truncation error unless `bytes` holds at least `length` bytes. */
export function expectLength(bytes: Uint8Array, length: number, what: string): void {
  if (bytes.length < length) {
    throw new HeaderError(`truncated: file ends inside the ${what}`);
  }
}

export function checkDimensions(width: number, height: number): void {
  if (!(width > 0 && height > 0)) {
    throw new HeaderError(`invalid dimensions ${width}x${height}`);
  }
}

export function startsWith(bytes: Uint8Array, prefix: readonly number[], at = 0): boolean {
  if (bytes.length < at + prefix.length) return false;
  return prefix.every((b, i) => bytes[at + i] === b);
}

export function ascii(bytes: Uint8Array, from: number, length: number): string {
  let s = '';
  for (const b of bytes.subarray(from, from + length)) s += String.fromCharCode(b);
  return s;
}

export function view(bytes: Uint8Array): DataView {
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

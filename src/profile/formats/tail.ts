import type { ByteSource } from '../byte-source.ts';
import { HeaderError } from '../image-header.ts';

/** How far from the end an end marker may sit: writers and tools sometimes append a few bytes. */
const TAIL_WINDOW = 1024;

/**
 * Detects files cut short (interrupted copies or downloads) by looking for the format's end
 * marker near the end of the file: one small read instead of a decode.
 */
export async function expectEndMarker(
  source: ByteSource,
  marker: readonly number[],
  what: string,
): Promise<void> {
  const size = await source.size();
  const start = Math.max(0, size - TAIL_WINDOW);
  const tail = await source.read(start, size - start);
  if (indexOf(tail, marker) < 0) {
    throw new HeaderError(`truncated: no ${what} at the end of the file`);
  }
}

/** Throws unless the file holds `expected` bytes, the length its header declares. */
export async function expectSize(
  source: ByteSource,
  expected: number,
  what: string,
): Promise<void> {
  const size = await source.size();
  if (size < expected) {
    throw new HeaderError(`truncated: ${what} needs ${expected} bytes, file has ${size}`);
  }
}

function indexOf(haystack: Uint8Array, needle: readonly number[]): number {
  outer: for (let i = haystack.length - needle.length; i >= 0; i--) {
    for (let j = 0; j < needle.length; j++) if (haystack[i + j] !== needle[j]) continue outer;
    return i;
  }
  return -1;
}

import { readUtf8File } from './files.ts';

/**
 * Reads a UTF-8 file; when it cannot be read (missing, not a regular file, not UTF-8), throws a
 * MetallmixError naming the file and what it was meant to be (`what`, e.g. "model file"), so
 * every input file fails the same way.
 */
export function readTextFile(file: string, what: string, maxBytes?: number): string {
  return readUtf8File(file, what, maxBytes);
}

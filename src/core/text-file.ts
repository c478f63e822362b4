import { readFileSync } from 'node:fs';
import { MetallmixError } from './errors.ts';

/**
 * Reads a UTF-8 file; when it cannot be read, throws a MetallmixError naming the file and what
 * it was meant to be (`what`, e.g. "model file"), so every input file fails the same way.
 */
export function readTextFile(file: string, what: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (err) {
    throw new MetallmixError(`cannot read ${what}: ${(err as Error).message}`, {
      location: { file },
      cause: err,
    });
  }
}

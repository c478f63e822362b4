// A DatasetProfile from a JSON file: what `metallmix profile --output` writes, or the whole
// `metallmix profile --json` result. Errors name the file and the failing field.
import { readFileSync } from 'node:fs';
import { completeProfile, DatasetProfile, MetallmixError, parseWith } from '../core/index.ts';

export function readProfileFile(file: string): DatasetProfile {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new MetallmixError(
      `cannot read the profile: ${(err as NodeJS.ErrnoException).code ?? String(err)}`,
      { location: { file } },
    );
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new MetallmixError(`not valid JSON: ${(err as Error).message}`, { location: { file } });
  }
  return parseProfile(json, file);
}

/** A profile as given in JSON (a file's content, a request body); the profile command's whole result is accepted too. */
export function parseProfile(json: unknown, file?: string): DatasetProfile {
  const isProfileResult =
    typeof json === 'object' && json !== null && 'profile' in json && 'counts' in json;
  const stated = isProfileResult ? (json as { profile: unknown }).profile : json;
  return completeProfile(parseWith(DatasetProfile, stated, { file, what: 'dataset profile' }));
}

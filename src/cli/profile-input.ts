// The dataset a command is about: a profile file, an image folder or a manifest, whichever was given.
import { readFileSync } from 'node:fs';
import {
  completeProfile,
  DatasetProfile,
  MetallmixError,
  parseWith,
  type Modality,
} from '../core/index.ts';
import { profileImageFolder, profileManifest } from '../profile/index.ts';
import { createProgress } from './progress.ts';

export interface ProfileSource {
  profile?: string;
  dataset?: string;
  manifest?: string;
  modality?: Modality;
  name?: string;
}

/** Reads and validates a DatasetProfile JSON file; errors name the file and the failing field. */
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
  // `metallmix profile --json` prints {profile, skipped, counts}: accept that file as it is.
  const isProfileResult =
    typeof json === 'object' && json !== null && 'profile' in json && 'counts' in json;
  const stated = isProfileResult ? (json as { profile: unknown }).profile : json;
  return completeProfile(parseWith(DatasetProfile, stated, { file, what: 'dataset profile' }));
}

export async function resolveProfile(
  source: ProfileSource,
  quiet = false,
): Promise<{ profile: DatasetProfile; ms: number }> {
  const given = [source.profile, source.dataset, source.manifest].filter((x) => x !== undefined);
  if (given.some((x) => x!.trim() === ''))
    throw new MetallmixError(
      '--profile, --dataset and --manifest need a path, not an empty string',
    );
  if (given.length !== 1)
    throw new MetallmixError(
      'give exactly one of --profile FILE, --dataset DIR or --manifest FILE',
    );
  const t0 = performance.now();
  if (source.profile) {
    const profile = readProfileFile(source.profile);
    return {
      profile: source.modality ? { ...profile, modality: source.modality } : profile,
      ms: performance.now() - t0,
    };
  }
  let bar: ReturnType<typeof createProgress> | undefined;
  const options = {
    modality: source.modality,
    name: source.name,
    onProgress: quiet
      ? undefined
      : (done: number, total: number) => {
          bar ??= createProgress('profiling', total);
          bar.tick(done);
        },
  };
  const result = source.dataset
    ? await profileImageFolder(source.dataset, options)
    : await profileManifest(source.manifest!, options);
  bar?.finish();
  if (result.skipped.length && !quiet)
    process.stderr.write(
      `metallmix: skipped ${result.skipped.length} unreadable file(s) while profiling (see metallmix profile)\n`,
    );
  return { profile: result.profile, ms: performance.now() - t0 };
}

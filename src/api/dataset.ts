// The dataset a request is about: a profile (object or JSON file), an image folder or a
// manifest, whichever was given; and `profile` itself for the faces that profile a dataset.
import {
  MetallmixError,
  silentProgressFactory,
  type DatasetProfile,
  type Env,
  type Modality,
  type ProgressFactory,
  type Task,
} from '../core/index.ts';
import { checkOutputFile, writeOutputFile } from '../core/files.ts';
import { writeLocator } from '../store/index.ts';
import { withKnowledgeBase } from './knowledge-base.ts';
import {
  parseProfile,
  profileImageFolder,
  profileManifest,
  readProfileFile,
  type ManifestOptions,
  type ProfileResult,
} from '../profile/index.ts';

export interface DatasetInput {
  /** A DatasetProfile (checked), or the path of a profile JSON file. */
  profile?: unknown;
  profileFile?: string;
  /** An ImageFolder root, profiled on the fly (image headers only). */
  imageFolder?: string;
  /** A CSV manifest path,label[,split], profiled on the fly. */
  manifest?: string;
  /** Overrides the modality of the profile. */
  modality?: Modality;
  name?: string;
}

export interface ResolvedDataset {
  profile: DatasetProfile;
  ms: number;
  /** Unreadable files skipped while profiling, said once. */
  notices: string[];
}

/** Below this many files profiling is quick enough that progress is only noise. */
const PROGRESS_MIN_FILES = 1000;

function progressCallback(progress: ProgressFactory, label: string) {
  let bar: ReturnType<ProgressFactory> | undefined;
  return {
    onProgress: (done: number, total: number) => {
      if (total < PROGRESS_MIN_FILES) return;
      bar ??= progress(label, total);
      bar.tick(done);
    },
    finish: (note?: string) => bar?.finish(note),
  };
}

export async function resolveDataset(
  input: DatasetInput,
  progress: ProgressFactory = silentProgressFactory,
): Promise<ResolvedDataset> {
  const given = (['profile', 'profileFile', 'imageFolder', 'manifest'] as const).filter(
    (k) => input[k] !== undefined,
  );
  for (const k of given)
    if (typeof input[k] === 'string' && (input[k] as string).trim() === '')
      throw new MetallmixError(`${k} needs a path, not an empty string`, {
        location: { field: k },
      });
  if (given.length !== 1)
    throw new MetallmixError(
      'give exactly one dataset: a profile (file), an image folder or a manifest',
      { location: { field: given.length ? given.join(', ') : 'dataset' } },
    );
  const t0 = performance.now();
  if (input.profile !== undefined || input.profileFile !== undefined) {
    const profile =
      input.profileFile !== undefined
        ? readProfileFile(input.profileFile)
        : parseProfile(input.profile);
    return {
      profile: input.modality ? { ...profile, modality: input.modality } : profile,
      ms: performance.now() - t0,
      notices: [],
    };
  }
  const bar = progressCallback(progress, 'profiling');
  const options = { modality: input.modality, name: input.name, onProgress: bar.onProgress };
  const result = input.imageFolder
    ? await profileImageFolder(input.imageFolder, options)
    : await profileManifest(input.manifest!, options);
  bar.finish();
  return {
    profile: result.profile,
    ms: performance.now() - t0,
    notices: [
      ...result.notices,
      ...(result.skipped.length
        ? [
            `${result.skipped.length} unreadable file(s) were skipped while profiling (metallmix profile lists them).`,
          ]
        : []),
    ],
  };
}

export interface ProfileInput {
  imageFolder?: string;
  manifest?: string;
  /** With a manifest: profile only the rows of this split. */
  split?: string;
  modality?: Modality;
  name?: string;
  task?: Task;
  /** Also write the DatasetProfile as JSON to this file. */
  output?: string;
  progress?: ProgressFactory;
}

/** `metallmix profile`: meta-features of a folder or manifest, with the files it skipped. */
export async function profileDataset(input: ProfileInput): Promise<ProfileResult> {
  if ((input.imageFolder === undefined) === (input.manifest === undefined))
    throw new MetallmixError('give either a folder or a manifest (exactly one)', {
      location: { field: 'dir' },
    });
  if (input.split !== undefined && input.manifest === undefined)
    throw new MetallmixError('--split needs --manifest', { location: { field: 'split' } });
  if (input.output !== undefined) checkOutputFile(input.output, 'the profile');
  const bar = progressCallback(input.progress ?? silentProgressFactory, 'profile');
  const options: ManifestOptions = {
    ...(input.name !== undefined ? { name: input.name } : {}),
    ...(input.task !== undefined ? { task: input.task } : {}),
    ...(input.modality !== undefined ? { modality: input.modality } : {}),
    ...(input.split !== undefined ? { split: input.split } : {}),
    onProgress: bar.onProgress,
  };
  const result =
    input.manifest !== undefined
      ? await profileManifest(input.manifest, options)
      : await profileImageFolder(input.imageFolder!, options);
  bar.finish(`${result.counts.skipped} skipped`);
  if (input.output) await writeProfile(input.output, result.profile);
  return result;
}

async function writeProfile(file: string, profile: DatasetProfile): Promise<void> {
  writeOutputFile(file, `${JSON.stringify(profile, null, 2)}\n`, 'the profile');
}

/** Where `metallmix profile --save` stored a profile, and what that changed. */
export interface SavedProfile {
  knowledgeBase: string;
  /** No --kb or METALLMIX_KB was given: the user's own knowledge base. */
  defaultedKnowledgeBase: boolean;
  profile: 'added' | 'updated' | 'unchanged';
  version: string;
}

/**
 * Stores a profile in a knowledge base (the user's own unless one is named), as `run` and
 * `record` store the profiles of their datasets: the runs of that dataset imported or recorded
 * later then inform recommendations without a profiles file.
 */
export async function saveProfile(
  profile: DatasetProfile,
  input: { kb?: string; env?: Env } = {},
): Promise<SavedProfile> {
  const { locator, defaulted } = writeLocator(input.kb, input.env);
  return withKnowledgeBase(locator, 'write', input.env, async (kb) => {
    const { profiles } = await kb.importBatch({ records: [], profiles: [profile] });
    return {
      knowledgeBase: kb.label,
      defaultedKnowledgeBase: defaulted,
      profile: profiles.added ? 'added' : profiles.updated ? 'updated' : 'unchanged',
      version: await kb.version(),
    };
  });
}

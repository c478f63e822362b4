// A DatasetProfile from a JSON file: what `metallmix profile --output` writes, or the whole
// `metallmix profile --json` result. Errors name the file and the failing field; a profile that
// contradicts itself (class counts that do not add up, one class) is refused as `profile` would.
import {
  completeProfile,
  DatasetProfile,
  MetallmixError,
  parseWith,
  type ErrorLocation,
} from '../core/index.ts';
import { parseJsonText } from '../core/json-text.ts';
import { readTextFile } from '../core/text-file.ts';

/** Profiles are small; a larger file is not one. */
const MAX_PROFILE_BYTES = 16 * 1024 * 1024;

export function readProfileFile(file: string): DatasetProfile {
  const text = readTextFile(file, 'the profile', MAX_PROFILE_BYTES);
  return parseProfile(parseJsonText(text, { file, what: 'the profile' }), file);
}

/** A profile as given in JSON (a file's content, a request body); the profile command's whole result is accepted too. */
export function parseProfile(json: unknown, file?: string): DatasetProfile {
  const isProfileResult =
    typeof json === 'object' && json !== null && 'profile' in json && 'counts' in json;
  const stated = isProfileResult ? (json as { profile: unknown }).profile : json;
  const profile = parseWith(DatasetProfile, stated, { file, what: 'dataset profile' });
  checkProfileConsistency(profile, { file, field: isProfileResult ? 'profile' : undefined });
  return completeProfile(profile);
}

/**
 * What the schema cannot say about a profile: at least two classes (two for a binary task),
 * class counts that name every class and add up to the instances (multilabel: none above them),
 * no empty class, and resolution and class-size figures in order.
 */
export function checkProfileConsistency(p: DatasetProfile, where: ErrorLocation = {}): void {
  const fail = (field: string, reason: string): never => {
    throw new MetallmixError(`dataset profile "${p.name}": ${reason}`, {
      location: { ...where, field: where.field ? `${where.field}.${field}` : field },
    });
  };
  if (p.numClasses < 2)
    fail('numClasses', `${p.numClasses} class: a classification dataset needs at least two`);
  if (p.task === 'binary' && p.numClasses !== 2)
    fail('numClasses', `task binary needs exactly 2 classes, not ${p.numClasses}`);
  if (p.task !== 'multilabel' && p.numInstances < p.numClasses)
    fail('numInstances', `${p.numInstances} images cannot hold ${p.numClasses} classes`);
  if (p.classCounts) {
    const entries = Object.entries(p.classCounts);
    if (entries.length !== p.numClasses)
      fail('classCounts', `names ${entries.length} classes, numClasses says ${p.numClasses}`);
    const empty = entries.find(([, n]) => n === 0);
    if (empty) fail(`classCounts.${empty[0]}`, `class "${empty[0]}" has no images`);
    const sum = entries.reduce((s, [, n]) => s + n, 0);
    if (p.task === 'multilabel') {
      const over = entries.find(([, n]) => n > p.numInstances);
      if (over)
        fail(
          `classCounts.${over[0]}`,
          `${over[1]} images of "${over[0]}" but ${p.numInstances} in all`,
        );
    } else if (sum !== p.numInstances)
      fail('classCounts', `the class counts add up to ${sum}, numInstances says ${p.numInstances}`);
  }
  const r = p.resolution;
  if (r) {
    if (!(r.minWidth <= r.medianWidth && r.medianWidth <= r.maxWidth))
      fail('resolution', 'widths must satisfy minWidth <= medianWidth <= maxWidth');
    if (!(r.minHeight <= r.medianHeight && r.medianHeight <= r.maxHeight))
      fail('resolution', 'heights must satisfy minHeight <= medianHeight <= maxHeight');
  }
  const { classSizeMin: lo, classSizeMean: mean, classSizeMax: hi } = p;
  if (
    (lo !== undefined && mean !== undefined && lo > mean) ||
    (mean !== undefined && hi !== undefined && mean > hi) ||
    (lo !== undefined && hi !== undefined && lo > hi)
  )
    fail('classSizeMean', 'class sizes must satisfy classSizeMin <= classSizeMean <= classSizeMax');
}

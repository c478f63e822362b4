import { MetallmixError } from '../core/errors.ts';
import { fsReason } from '../core/files.ts';
import { DatasetProfile, deriveClassStatistics, type Modality } from '../core/profile.ts';
import { parseWith } from '../core/validate.ts';
import { modalityFromDicom } from './dicom-modality.ts';
import { HeaderError, type ImageHeader } from './image-header.ts';
import { mapBounded } from './pool.ts';
import { readImageHeaderFromFile } from './read-header.ts';
import type { LabeledFile, ProfileOptions, ProfileResult, SkippedFile } from './types.ts';

const DEFAULT_CONCURRENCY = 48;

export interface FileSet {
  /** The folder or manifest profiled, for error messages. */
  origin: string;
  defaultName: string;
  /** Every class, including those whose files all turn out unreadable. */
  classes: string[];
  files: LabeledFile[];
  /** Files rejected before reading (e.g. outside any class folder). */
  skipped: SkippedFile[];
}

/** Reads the header of every file (bounded parallelism) and aggregates a DatasetProfile. */
export async function profileFiles(set: FileSet, options: ProfileOptions): Promise<ProfileResult> {
  const total = set.files.length;
  const headers = await mapBounded(
    set.files,
    options.concurrency ?? DEFAULT_CONCURRENCY,
    (f) => readOrReason(f.path),
    (done) => options.onProgress?.(done, total),
  );
  const skipped = [...set.skipped];
  const images: { label: string; header: ImageHeader }[] = [];
  headers.forEach((h, i) => {
    const f = set.files[i];
    if (typeof h === 'string') {
      skipped.push({
        file: f.display,
        reason: h,
        ...(f.line !== undefined ? { line: f.line } : {}),
      });
    } else images.push({ label: f.label, header: h });
  });
  const notices: string[] = [];
  const profile = aggregate(set, images, options, skipped, notices);
  const counts = {
    files: total + set.skipped.length,
    images: images.length,
    skipped: skipped.length,
  };
  return { profile, skipped, counts, notices };
}

async function readOrReason(file: string): Promise<ImageHeader | string> {
  try {
    return await readImageHeaderFromFile(file);
  } catch (err) {
    return skipReason(err);
  }
}

function skipReason(err: unknown): string {
  if (err instanceof HeaderError) return err.message;
  const code = (err as NodeJS.ErrnoException).code;
  if (code === 'ENOENT') return 'file not found';
  if (code) return fsReason(err);
  // A parser tripping over malformed bytes is still one bad file, not a failed run.
  return `unreadable: ${err instanceof Error ? err.message : String(err)}`;
}

/**
 * The modality the DICOM files state, when one holds a strict majority of them; files that
 * disagree are said in a notice, and a tie (one CT and one MR) is an error asking for --modality.
 */
function dicomModality(
  counts: Map<Modality, number>,
  origin: string,
  notices: string[],
): Modality | undefined {
  const total = [...counts.values()].reduce((s, n) => s + n, 0);
  if (total === 0) return undefined;
  const best = mostCommon(counts)!;
  const listed = [...counts]
    .sort(([a, x], [b, y]) => y - x || (a < b ? -1 : 1))
    .map(([m, n]) => `${m} ${n}`)
    .join(', ');
  if (counts.size === 1) return best;
  if (counts.get(best)! * 2 <= total)
    throw new MetallmixError(
      `the DICOM files disagree on the modality (${listed}): say which one the dataset is with --modality`,
      { location: { file: origin, field: 'modality' } },
    );
  notices.push(
    `The DICOM files disagree on the modality (${listed}); the profile says ${best}. Pass --modality to choose otherwise.`,
  );
  return best;
}

function aggregate(
  set: FileSet,
  images: { label: string; header: ImageHeader }[],
  options: ProfileOptions,
  skipped: SkippedFile[],
  notices: string[],
): DatasetProfile {
  const classCounts = new Map(set.classes.map((c) => [c, 0]));
  const formats = new Map<string, number>();
  const channels = new Map<number, number>();
  const dicomModalities = new Map<Modality, number>();
  const widths = new Float64Array(images.length);
  const heights = new Float64Array(images.length);
  images.forEach(({ label, header }, i) => {
    classCounts.set(label, (classCounts.get(label) ?? 0) + 1);
    increment(formats, header.format);
    increment(channels, header.channels);
    if (header.dicomModality !== undefined) {
      const m = modalityFromDicom(header.dicomModality);
      if (m !== 'unknown') increment(dicomModalities, m);
    }
    widths[i] = header.width;
    heights[i] = header.height;
  });
  checkClasses(set, classCounts, images.length, skipped);

  const names = [...classCounts.keys()].sort();
  const counts = names.map((n) => classCounts.get(n) ?? 0);
  const numClasses = names.length;
  const task = options.task ?? (numClasses === 2 ? 'binary' : 'multiclass');
  if (task === 'binary' && numClasses !== 2) {
    throw new MetallmixError(
      `task binary needs exactly 2 classes, ${set.origin} has ${numClasses}`,
      {
        location: { field: 'task' },
      },
    );
  }
  widths.sort();
  heights.sort();
  return parseWith(
    DatasetProfile,
    {
      name: options.name ?? set.defaultName,
      task,
      modality:
        options.modality ?? dicomModality(dicomModalities, set.origin, notices) ?? 'unknown',
      numInstances: images.length,
      numClasses,
      classCounts: Object.fromEntries(names.map((n, i) => [n, counts[i]])),
      ...deriveClassStatistics(counts),
      resolution: {
        medianWidth: median(widths),
        medianHeight: median(heights),
        minWidth: widths[0],
        minHeight: heights[0],
        maxWidth: widths[widths.length - 1],
        maxHeight: heights[heights.length - 1],
      },
      channels: mostCommon(channels),
      fileFormats: Object.fromEntries([...formats].sort(([a], [b]) => (a < b ? -1 : 1))),
    },
    { file: set.origin, what: 'dataset profile' },
  );
}

/** The layout errors a user must fix: nothing readable, empty classes, a single class. */
function checkClasses(
  set: FileSet,
  classCounts: Map<string, number>,
  imageCount: number,
  skipped: SkippedFile[],
): void {
  const location = { file: set.origin };
  const skippedNote = skipped.length
    ? ` (${skipped.length} file(s) skipped, e.g. ${skipped[0].file}: ${skipped[0].reason})`
    : '';
  if (imageCount === 0) {
    throw new MetallmixError(`no readable images${skippedNote}`, { location });
  }
  const empty = [...classCounts].filter(([, n]) => n === 0).map(([c]) => `"${c}"`);
  if (empty.length) {
    throw new MetallmixError(
      `class${empty.length > 1 ? 'es' : ''} ${empty.join(', ')} ha${empty.length > 1 ? 've' : 's'} no readable images${skippedNote}`,
      { location },
    );
  }
  if (classCounts.size === 1) {
    const [only] = classCounts.keys();
    throw new MetallmixError(
      `only one class ("${only}"): a classification dataset needs at least two`,
      { location },
    );
  }
}

function increment<K>(map: Map<K, number>, key: K): void {
  map.set(key, (map.get(key) ?? 0) + 1);
}

/** The most frequent key; ties go to the larger key so the result never depends on file order. */
function mostCommon<K extends string | number>(map: Map<K, number>): K | undefined {
  let best: K | undefined;
  let bestCount = 0;
  for (const [k, n] of map) {
    if (n > bestCount || (n === bestCount && best !== undefined && k > best)) {
      best = k;
      bestCount = n;
    }
  }
  return best;
}

function median(sorted: Float64Array): number {
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

import { readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { MetallmixError } from '../core/errors.ts';
import { profileFiles } from './profile-files.ts';
import type { LabeledFile, ProfileOptions, ProfileResult, SkippedFile } from './types.ts';

/** Operating-system litter that is never part of a dataset. */
const IGNORED_NAMES = new Set(['Thumbs.db', 'desktop.ini', '__MACOSX']);
const SPLIT_NAMES = new Set(['train', 'training', 'test', 'testing', 'val', 'valid', 'validation']);
const MAX_DEPTH = 32;

const isIgnored = (name: string): boolean => name.startsWith('.') || IGNORED_NAMES.has(name);

/**
 * Profiles an ImageFolder layout: one sub-folder per class; files nested deeper inside a
 * class folder count for that class. Reads image headers only.
 */
export async function profileImageFolder(
  dir: string,
  options: ProfileOptions = {},
): Promise<ProfileResult> {
  const root = path.resolve(dir);
  await expectDirectory(dir);
  const entries = (await readdir(root, { withFileTypes: true })).filter((e) => !isIgnored(e.name));
  const classes: string[] = [];
  const skipped: SkippedFile[] = [];
  for (const e of entries) {
    if (await isDirectory(path.join(root, e.name), e)) classes.push(e.name);
    else skipped.push({ file: e.name, reason: 'not inside a class folder' });
  }
  if (classes.length === 0) {
    throw new MetallmixError(
      'no class folders: expected one sub-folder of images per class (or use --manifest)',
      { location: { file: dir } },
    );
  }
  if (classes.every((c) => SPLIT_NAMES.has(c.toLowerCase()))) {
    throw new MetallmixError(
      `the sub-folders (${classes.join(', ')}) look like dataset splits, not classes: profile one split, e.g. ${path.join(dir, classes[0])}`,
      { location: { file: dir } },
    );
  }
  classes.sort();
  const perClass = await Promise.all(
    classes.map((label) => listFiles(path.join(root, label), label, label, 0, [])),
  );
  return profileFiles(
    { origin: dir, defaultName: path.basename(root), classes, files: perClass.flat(), skipped },
    options,
  );
}

async function expectDirectory(dir: string): Promise<void> {
  let isDir: boolean;
  try {
    isDir = (await stat(dir)).isDirectory();
  } catch {
    throw new MetallmixError('no such folder', { location: { file: dir } });
  }
  if (!isDir) {
    throw new MetallmixError('not a folder (for a CSV of path,label use --manifest)', {
      location: { file: dir },
    });
  }
}

/** Appends the files under `dir` to `out`; `display` is `dir` relative to the root, '/'-separated. */
async function listFiles(
  dir: string,
  display: string,
  label: string,
  depth: number,
  out: LabeledFile[],
): Promise<LabeledFile[]> {
  if (depth > MAX_DEPTH) {
    throw new MetallmixError(`folders nested more than ${MAX_DEPTH} deep (a symlink loop?)`, {
      location: { file: dir },
    });
  }
  for (const e of await readdir(dir, { withFileTypes: true })) {
    if (isIgnored(e.name)) continue;
    // Plain concatenation: path.join per file costs more than the header read on small images.
    const full = `${dir}${path.sep}${e.name}`;
    const shown = `${display}/${e.name}`;
    if (await isDirectory(full, e)) await listFiles(full, shown, label, depth + 1, out);
    else out.push({ path: full, display: shown, label });
  }
  return out;
}

/** Follows symbolic links, which readdir reports as links rather than as what they point to. */
async function isDirectory(
  full: string,
  entry: { isDirectory(): boolean; isSymbolicLink(): boolean },
): Promise<boolean> {
  if (!entry.isSymbolicLink()) return entry.isDirectory();
  return stat(full).then(
    (s) => s.isDirectory(),
    () => false,
  );
}

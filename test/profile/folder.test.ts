import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { MetallmixError } from '../../src/core/errors.ts';
import { profileImageFolder } from '../../src/profile/index.ts';
import * as img from './images.ts';

const root = mkdtempSync(path.join(tmpdir(), 'metallmix-folder-'));
after(() => rmSync(root, { recursive: true, force: true }));

/** Writes `files` (relative path -> bytes) under a fresh folder and returns its path. */
function layout(name: string, files: Record<string, Uint8Array | string>): string {
  const dir = path.join(root, name);
  mkdirSync(dir, { recursive: true });
  for (const [rel, bytes] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(dir, rel)), { recursive: true });
    writeFileSync(path.join(dir, rel), bytes);
  }
  return dir;
}

const close = (actual: number | undefined, expected: number): void =>
  assert.ok(Math.abs((actual ?? NaN) - expected) < 1e-6, `${actual} != ${expected}`);

test('ImageFolder of every format: counts, class statistics, resolution, channels, formats, DICOM modality', async () => {
  const dir = layout('mixed', {
    'alpha/a.png': img.png(10, 20, 2),
    'alpha/b.png': img.png(30, 40, 0),
    'alpha/deeper/nested/c.jpg': img.jpeg(50, 10, 3),
    'alpha/d.tif': img.tiff(20, 20, 3, false),
    'alpha/cut.png': img.png(12, 12).subarray(0, 40),
    'alpha/random.jpg': Buffer.from('no JPEG here, only text pretending to be one'),
    'alpha/empty.bmp': Buffer.alloc(0),
    'alpha/.DS_Store': 'hidden',
    'beta/a.bmp': img.bmp(40, 30, 'rgb'),
    'beta/b.webp': img.webpLossless(60, 60, true),
    'gamma/scan.dcm': img.dicom({ rows: 16, columns: 16, modality: 'US' }),
    'gamma/e.webp': img.webpExtended(70, 5, false),
    '.hidden/x.png': img.png(1, 1),
    'notes.txt': 'not in a class',
  });
  const { profile, skipped, counts } = await profileImageFolder(dir);
  assert.equal(profile.name, 'mixed');
  assert.equal(profile.task, 'multiclass');
  assert.equal(profile.modality, 'ultrasound'); // from the one DICOM file
  assert.equal(profile.numInstances, 8);
  assert.equal(profile.numClasses, 3);
  assert.deepEqual(profile.classCounts, { alpha: 4, beta: 2, gamma: 2 });
  // counts 4, 2, 2: p = .5, .25, .25 -> H = 1.5 bits; mean 8/3; population variance 8/9.
  assert.equal(profile.imbalanceRatio, 2);
  close(profile.classEntropy, 1.5);
  close(profile.normalizedEntropy, 1.5 / Math.log2(3));
  close(profile.classSizeMean, 8 / 3);
  close(profile.classSizeStd, Math.sqrt(8 / 9));
  assert.equal(profile.classSizeMin, 2);
  assert.equal(profile.classSizeMax, 4);
  // widths 10 16 20 30 | 40 50 60 70 -> median 35; heights 5 10 16 20 | 20 30 40 60 -> 20.
  assert.deepEqual(profile.resolution, {
    medianWidth: 35,
    medianHeight: 20,
    minWidth: 10,
    minHeight: 5,
    maxWidth: 70,
    maxHeight: 60,
  });
  assert.equal(profile.channels, 3); // 3 x5, 1 x2, 4 x1
  assert.deepEqual(profile.fileFormats, { bmp: 1, dicom: 1, jpeg: 1, png: 2, tiff: 1, webp: 2 });
  assert.deepEqual(counts, { files: 12, images: 8, skipped: 4 });
  assert.deepEqual(skipped.map((s) => [s.file, s.reason.replace(/:.*/, '')]).sort(), [
    ['alpha/cut.png', 'truncated'],
    ['alpha/empty.bmp', 'empty file'],
    ['alpha/random.jpg', 'not a supported image (PNG, JPEG, BMP, TIFF, WebP or DICOM)'],
    ['notes.txt', 'not inside a class folder'],
  ]);
});

test('options: name, task and modality override; binary by default for two classes; majority DICOM modality', async () => {
  const dir = layout('xrays', {
    'normal/1.dcm': img.dicom({ rows: 8, columns: 8, modality: 'CR' }),
    'normal/2.dcm': img.dicom({ rows: 8, columns: 8, modality: 'DX', implicit: true }),
    'pneumonia/3.dcm': img.dicom({ rows: 8, columns: 8, modality: 'CT' }),
    'pneumonia/4.dcm': img.dicom({ rows: 8, columns: 8 }),
  });
  const plain = await profileImageFolder(dir);
  assert.equal(plain.profile.task, 'binary');
  assert.equal(plain.profile.modality, 'xray'); // CR + DX outnumber CT
  const named = await profileImageFolder(dir, {
    name: 'chest',
    task: 'multiclass',
    modality: 'other',
  });
  assert.deepEqual(
    [named.profile.name, named.profile.task, named.profile.modality],
    ['chest', 'multiclass', 'other'],
  );
  const noDicom = await profileImageFolder(
    layout('plain', { 'a/1.png': img.png(2, 2), 'b/1.png': img.png(2, 2) }),
  );
  assert.equal(noDicom.profile.modality, 'unknown');
});

test('progress is reported up to the total, with bounded parallelism', async () => {
  const files: Record<string, Uint8Array> = {};
  for (let i = 0; i < 30; i++) files[`${i % 3}/${i}.png`] = img.png(4 + i, 4);
  const seen: [number, number][] = [];
  const { counts } = await profileImageFolder(layout('progress', files), {
    concurrency: 4,
    onProgress: (done, total) => seen.push([done, total]),
  });
  assert.equal(counts.images, 30);
  assert.deepEqual(seen.at(-1), [30, 30]);
  assert.equal(seen.length, 30);
});

async function rejectsWith(run: Promise<unknown>, message: RegExp): Promise<void> {
  await assert.rejects(run, (err: unknown) => {
    assert.ok(err instanceof MetallmixError, String(err));
    assert.match(err.message, message);
    return true;
  });
}

test('layout errors: empty class, single class, empty folder, split folders, not a folder, binary with 3 classes', async () => {
  const emptyClass = layout('empty-class', {
    'cat/1.png': img.png(3, 3),
    'dog/broken.png': img.png(3, 3).subarray(0, 10),
    'dog/.DS_Store': 'x',
  });
  await rejectsWith(
    profileImageFolder(emptyClass),
    /empty-class: class "dog" has no readable images \(1 file\(s\) skipped, e\.g\. dog\/broken\.png: truncated/,
  );
  mkdirSync(path.join(root, 'empty-class', 'bird'));
  await rejectsWith(
    profileImageFolder(emptyClass),
    /classes "bird", "dog" have no readable images/,
  );
  await rejectsWith(
    profileImageFolder(layout('single', { 'only/1.png': img.png(3, 3) })),
    /single: only one class \("only"\)/,
  );
  await rejectsWith(
    profileImageFolder(layout('empty', { '.DS_Store': 'x' })),
    /empty: no class folders/,
  );
  await rejectsWith(
    profileImageFolder(layout('no-images', { 'a/x.txt': 'x', 'b/y.txt': 'y' })),
    /no-images: no readable images/,
  );
  await rejectsWith(
    profileImageFolder(
      layout('splits', { 'train/a/1.png': img.png(3, 3), 'test/a/1.png': img.png(3, 3) }),
    ),
    /look like dataset splits, not classes: profile one split, e\.g\. .*test/,
  );
  await rejectsWith(profileImageFolder(path.join(root, 'missing')), /missing: no such folder/);
  const file = path.join(root, 'labels.csv');
  writeFileSync(file, 'path,label\n');
  await rejectsWith(
    profileImageFolder(file),
    /labels\.csv: not a folder \(for a CSV of path,label use --manifest\)/,
  );
  const three = layout('three', {
    'a/1.png': img.png(2, 2),
    'b/1.png': img.png(2, 2),
    'c/1.png': img.png(2, 2),
  });
  await rejectsWith(
    profileImageFolder(three, { task: 'binary' }),
    /field "task": task binary needs exactly 2 classes, .*three has 3/,
  );
});

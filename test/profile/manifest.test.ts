import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { MetallmixError } from '../../src/core/errors.ts';
import { profileManifest } from '../../src/profile/index.ts';
import * as img from './images.ts';

const root = mkdtempSync(path.join(tmpdir(), 'metallmix-manifest-'));
after(() => rmSync(root, { recursive: true, force: true }));
mkdirSync(path.join(root, 'images', 'x'), { recursive: true });
const images: Record<string, Uint8Array> = {
  'images/1.png': img.png(100, 80, 2),
  'images/2.png': img.png(120, 80, 2),
  'images/3.jpg': img.jpeg(140, 90, 3),
  'images/x/4.dcm': img.dicom({ rows: 90, columns: 160, modality: 'OP' }),
  'images/5.bmp': img.bmp(180, 100, 'rgb'),
};
for (const [rel, bytes] of Object.entries(images)) writeFileSync(path.join(root, rel), bytes);

function manifest(name: string, text: string): string {
  const file = path.join(root, name);
  writeFileSync(file, text);
  return file;
}

async function rejectsWith(run: Promise<unknown>, message: RegExp): Promise<void> {
  await assert.rejects(run, (err: unknown) => {
    assert.ok(err instanceof MetallmixError, String(err));
    assert.match(err.message, message);
    return true;
  });
}

const GOOD = [
  'Path,Label,split,notes',
  'images/1.png,healthy,train,',
  'images/2.png,healthy,train,"quoted, with comma"',
  'images/3.jpg,glaucoma,train,',
  '',
  'images/x/4.dcm,glaucoma,test,',
  'images/missing.png,glaucoma,train,',
  'images/5.bmp,cataract,train,',
].join('\n');

test('manifest: paths relative to the manifest, labels, DICOM modality, missing file skipped with its line', async () => {
  const { profile, skipped, counts } = await profileManifest(manifest('eyes.csv', GOOD));
  assert.equal(profile.name, 'eyes');
  assert.equal(profile.modality, 'fundus');
  assert.deepEqual(profile.classCounts, { cataract: 1, glaucoma: 2, healthy: 2 });
  assert.equal(profile.imbalanceRatio, 2);
  // widths 100 120 140 160 180, heights 80 80 90 90 100
  assert.deepEqual(profile.resolution, {
    medianWidth: 140,
    medianHeight: 90,
    minWidth: 100,
    minHeight: 80,
    maxWidth: 180,
    maxHeight: 100,
  });
  assert.deepEqual(skipped, [{ file: 'images/missing.png', reason: 'file not found', line: 7 }]);
  assert.deepEqual(counts, { files: 6, images: 5, skipped: 1 });
});

test('manifest: --split keeps only that split', async () => {
  const { profile } = await profileManifest(manifest('eyes-train.csv', GOOD), { split: 'train' });
  assert.deepEqual(profile.classCounts, { cataract: 1, glaucoma: 1, healthy: 2 });
  assert.equal(profile.modality, 'unknown');
  await rejectsWith(
    profileManifest(manifest('eyes-val.csv', GOOD), { split: 'val' }),
    /eyes-val\.csv: no rows with split "val" after the header/,
  );
});

test('manifest errors: header, malformed rows with line numbers, missing manifest, split without column', async () => {
  await rejectsWith(
    profileManifest(manifest('bad-header.csv', 'file,class\nimages/1.png,a\n')),
    /bad-header\.csv:1 column "path": header must name the columns path and label \(optionally split\), found "file,class"/,
  );
  await rejectsWith(
    profileManifest(manifest('no-label.csv', 'path,split\nimages/1.png,train\n')),
    /no-label\.csv:1 column "label": header must name/,
  );
  await rejectsWith(
    profileManifest(
      manifest(
        'bad-rows.csv',
        'path,label\nimages/1.png,a\nimages/2.png,\nimages/3.jpg,b,extra\n,c\n',
      ),
    ),
    /bad-rows\.csv:3 column "label": empty label; 3 invalid rows in all: line 4: 3 fields, the header has 2; line 5 column "path": empty path/,
  );
  await rejectsWith(
    profileManifest(manifest('quote.csv', 'path,label\n"images/1.png,a\n')),
    /quote\.csv(:\d+)?: invalid CSV: /,
  );
  await rejectsWith(
    profileManifest(manifest('header-only.csv', 'path,label\n')),
    /header-only\.csv: no rows after the header/,
  );
  await rejectsWith(profileManifest(manifest('empty.csv', '')), /empty\.csv: empty manifest/);
  await rejectsWith(profileManifest(path.join(root, 'nope.csv')), /nope\.csv: .*no such file/);
  await rejectsWith(
    profileManifest(manifest('nosplit.csv', 'path,label\nimages/1.png,a\n'), { split: 'train' }),
    /nosplit\.csv:1: split "train" requested but there is no split column/,
  );
  await rejectsWith(
    profileManifest(manifest('one-class.csv', 'path,label\nimages/1.png,a\nimages/2.png,a\n')),
    /one-class\.csv: only one class \("a"\)/,
  );
  await rejectsWith(
    profileManifest(manifest('gone.csv', 'path,label\nimages/1.png,a\nimages/gone.png,b\n')),
    /gone\.csv: class "b" has no readable images \(1 file\(s\) skipped, e\.g\. images\/gone\.png: file not found\)/,
  );
});

import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { DatasetProfile } from '../../src/core/profile.ts';
import { profileImageFolder } from '../../src/profile/index.ts';
import * as img from './images.ts';
import { runCli, runCliWith } from '../support/cli.ts';
import { openKnowledgeBase } from '../../src/store/index.ts';

const root = mkdtempSync(path.join(tmpdir(), 'metallmix-cli-profile-'));
after(() => rmSync(root, { recursive: true, force: true }));
const dataset = path.join(root, 'skin');
const files: Record<string, Uint8Array> = {
  'benign/1.png': img.png(64, 48),
  'benign/2.jpg': img.jpeg(64, 48),
  'benign/3.webp': img.webpLossless(64, 48),
  'malignant/1.png': img.png(32, 32),
  'malignant/bad.png': Buffer.from('broken'),
};
for (const [rel, bytes] of Object.entries(files)) {
  mkdirSync(path.dirname(path.join(dataset, rel)), { recursive: true });
  writeFileSync(path.join(dataset, rel), bytes);
}

test('profile --json prints the library result: DatasetProfile, skipped files, counts', async () => {
  const { code, out, err } = await runCli('profile', dataset, '--json', '--modality', 'dermoscopy');
  assert.equal(code, 0, err);
  const printed = JSON.parse(out);
  assert.deepEqual(printed, await profileImageFolder(dataset, { modality: 'dermoscopy' }));
  assert.ok(DatasetProfile.safeParse(printed.profile).success);
  assert.equal(printed.profile.task, 'binary');
  assert.deepEqual(printed.profile.classCounts, { benign: 3, malignant: 1 });
  assert.deepEqual(printed.skipped, [
    {
      file: 'malignant/bad.png',
      reason: 'not a supported image (PNG, JPEG, BMP, TIFF, WebP or DICOM)',
    },
  ]);
  assert.equal(err, '', 'no progress output for a small folder');
});

test('profile prints a readable table; --output writes the profile; --manifest, --name and --task', async () => {
  const output = path.join(root, 'skin.profile.json');
  const table = await runCli('profile', dataset, '--output', output);
  assert.equal(table.code, 0, table.err);
  assert.match(table.out, /^dataset +skin$/m);
  assert.match(table.out, /^images +4 \(1 of 5 files skipped\)$/m);
  assert.match(table.out, /^imbalance ratio +3\.00$/m);
  assert.match(table.out, /^resolution +median 64x48, min 32x32, max 64x48$/m);
  assert.match(table.out, /^benign +3 +75\.0%$/m);
  assert.match(table.out, /^ {2}malignant\/bad\.png: not a supported image/m);
  assert.equal(JSON.parse(readFileSync(output, 'utf8')).numInstances, 4);

  const csv = path.join(dataset, 'labels.csv');
  writeFileSync(csv, 'path,label\nbenign/1.png,a\nmalignant/1.png,b\nbenign/2.jpg,c\nnope.png,c\n');
  const fromManifest = await runCli(
    'profile',
    '--manifest',
    csv,
    '--name',
    'skin-3',
    '--task',
    'multiclass',
    '--json',
  );
  assert.equal(fromManifest.code, 0, fromManifest.err);
  const result = JSON.parse(fromManifest.out);
  assert.equal(result.profile.name, 'skin-3');
  assert.equal(result.profile.numClasses, 3);
  assert.deepEqual(result.skipped, [{ file: 'nope.png', reason: 'file not found', line: 5 }]);
});

test('profile usage and input errors exit with code 2 and a message naming the problem', async () => {
  const neither = await runCli('profile');
  assert.equal(neither.code, 2);
  assert.match(neither.err, /give either a folder or a manifest \(exactly one\)/);
  const both = await runCli('profile', dataset, '--manifest', 'x.csv');
  assert.equal(both.code, 2);
  const badModality = await runCli('profile', dataset, '--modality', 'photo');
  assert.equal(badModality.code, 2);
  assert.match(badModality.err, /Allowed choices are xray, ct/);
  const single = await runCli('profile', path.join(dataset, 'benign'));
  assert.equal(single.code, 2);
  assert.match(single.err, /^metallmix: .*benign: no class folders/);
  const help = await runCli('profile', '--help');
  assert.equal(help.code, 0);
  assert.match(help.out, /Examples:\n {2}\$ metallmix profile/);
});

test('profile --save stores the profile in your knowledge base (or --kb), so a run recorded later has it', async () => {
  const kb = path.join(root, 'kb.sqlite');
  const { METALLMIX_KB: _named, ...inherited } = process.env;
  const env = { ...inherited, METALLMIX_DATA: path.join(root, 'data') };
  const first = await runCliWith(
    { env },
    'profile',
    dataset,
    '--name',
    'skin-lab',
    '--save',
    '--kb',
    kb,
    '--json',
  );
  assert.equal(first.code, 0, first.err);
  const printed = JSON.parse(first.out);
  assert.equal(printed.saved.profile, 'added');
  assert.equal(printed.saved.knowledgeBase, kb);
  const again = await runCliWith(
    { env },
    'profile',
    dataset,
    '--name',
    'skin-lab',
    '--save',
    '--kb',
    kb,
  );
  assert.equal(again.code, 0, again.err);
  assert.match(again.out, /profile skin-lab unchanged in /);
  const stored = await openKnowledgeBase(kb, { mode: 'read' });
  try {
    const { profiles } = await stored.snapshot();
    assert.deepEqual(
      profiles.map((p) => p.name),
      ['skin-lab'],
    );
    assert.deepEqual(profiles[0], { ...printed.profile, name: 'skin-lab' });
  } finally {
    await stored.close();
  }
  // A run of that dataset recorded later needs no profile of its own.
  const rec = await runCliWith(
    { env },
    'record',
    '--dataset-name',
    'skin-lab',
    '--model',
    'resnet18',
    '--metric',
    'accuracy=0.9',
    '--kb',
    kb,
    '--json',
  );
  assert.equal(rec.code, 0, rec.err);
  assert.deepEqual(JSON.parse(rec.out).datasetsWithoutProfile, []);

  // Without --kb: the user's own knowledge base, and the command says where.
  const own = await runCliWith({ env }, 'profile', dataset, '--save');
  assert.equal(own.code, 0, own.err);
  assert.match(own.err, /no --kb or METALLMIX_KB given; stored the profile in .*kb\.sqlite/);
  assert.match(own.out, /profile skin added in /);
  const bad = await runCliWith({ env }, 'profile', dataset, '--kb', kb);
  assert.equal(bad.code, 2);
  assert.match(bad.err, /--kb names where --save stores the profile: add --save/);
});

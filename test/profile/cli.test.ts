import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { main } from '../../src/cli/main.ts';
import { DatasetProfile } from '../../src/core/profile.ts';
import { profileImageFolder } from '../../src/profile/index.ts';
import * as img from './images.ts';

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

/** Writes made by the CLI (our code or commander), as opposed to the test runner's own report. */
const fromCli = (): boolean => /[/\\](src[/\\]cli|commander)[/\\]/.test(new Error().stack ?? '');

/** Runs the CLI in-process and captures what it writes to stdout and stderr. */
async function run(...args: string[]): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const stdout = process.stdout.write;
  const stderr = process.stderr.write;
  // The test runner reports through the same stdout, so only the CLI's writes are diverted.
  const divert = (sink: string[], original: typeof stdout) =>
    function (this: NodeJS.WriteStream, chunk: unknown, ...rest: unknown[]): boolean {
      if (!fromCli()) return (original as (...a: unknown[]) => boolean).call(this, chunk, ...rest);
      sink.push(String(chunk));
      return true;
    } as typeof stdout;
  process.stdout.write = divert(out, stdout);
  process.stderr.write = divert(err, stderr);
  try {
    const code = await main(['node', 'metallmix', 'profile', ...args]);
    return { code, out: out.join(''), err: err.join('') };
  } finally {
    process.stdout.write = stdout;
    process.stderr.write = stderr;
  }
}

test('profile --json prints the library result: DatasetProfile, skipped files, counts', async () => {
  const { code, out, err } = await run(dataset, '--json', '--modality', 'dermoscopy');
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
  const table = await run(dataset, '--output', output);
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
  const fromManifest = await run(
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
  const neither = await run();
  assert.equal(neither.code, 2);
  assert.match(neither.err, /give either a folder or --manifest FILE/);
  const both = await run(dataset, '--manifest', 'x.csv');
  assert.equal(both.code, 2);
  const badModality = await run(dataset, '--modality', 'photo');
  assert.equal(badModality.code, 2);
  assert.match(badModality.err, /Allowed choices are xray, ct/);
  const single = await run(path.join(dataset, 'benign'));
  assert.equal(single.code, 2);
  assert.match(single.err, /^metallmix: .*benign: no class folders/);
  const help = await run('--help');
  assert.equal(help.code, 0);
  assert.match(help.out, /Examples:\n {2}\$ metallmix profile/);
});

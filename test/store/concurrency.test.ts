import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { openKnowledgeBase } from '../../src/store/index.ts';
import { SMALL_MAPPING, smallSource, tempDir, write } from './helpers.ts';

const WORKER = fileURLToPath(new URL('./fixtures/import-worker.ts', import.meta.url));
const FILES_PER_WORKER = 12;
const ROWS_PER_FILE = 25;

function runWorker(args: string[]): Promise<{ added: number; start: number; end: number }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', WORKER, ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    child.on('close', (code) =>
      code === 0 ? resolve(JSON.parse(out)) : reject(new Error(`worker exited ${code}: ${err}`)),
    );
  });
}

function csvFile(dir: string, worker: string, index: number): string {
  const rows = Array.from(
    { length: ROWS_PER_FILE },
    (_, i) => `${worker}-${index}-${i},derma,resnet18,0.001,lp,0,${50 + (i % 40)},1,${index}`,
  );
  return write(
    dir,
    `${worker}-${index}.csv`,
    ['run,ds,model,lr,strategy,depth,acc,minutes,seed', ...rows, ''].join('\n'),
  );
}

test('two processes importing into one new knowledge base at once lose nothing', async (t) => {
  const dir = tempDir(t);
  const { mapping } = smallSource(dir, undefined, SMALL_MAPPING);
  const kbPath = path.join(dir, 'shared.sqlite');
  const shared = csvFile(dir, 'both', 0);
  const filesA = [
    shared,
    ...Array.from({ length: FILES_PER_WORKER }, (_, i) => csvFile(dir, 'a', i)),
  ];
  const filesB = [
    ...Array.from({ length: FILES_PER_WORKER }, (_, i) => csvFile(dir, 'b', i)),
    shared,
  ];
  const barrier = path.join(dir, 'barrier');
  mkdirSync(barrier);
  const [a, b] = await Promise.all([
    runWorker([barrier, '2', 'a', kbPath, mapping, ...filesA]),
    runWorker([barrier, '2', 'b', kbPath, mapping, ...filesB]),
  ]);
  assert.ok(
    Math.max(a.start, b.start) < Math.min(a.end, b.end),
    'the two imports overlapped in time',
  );
  const unique = (2 * FILES_PER_WORKER + 1) * ROWS_PER_FILE;
  assert.equal(a.added + b.added, unique, 'the shared file counts once');
  const kb = openKnowledgeBase(kbPath, { readonly: true });
  t.after(() => kb.close());
  assert.equal(kb.records().length, unique);
  assert.equal(new Set(kb.records().map((r) => r.provenance.runId)).size, unique);
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { openKnowledgeBase } from '../../src/store/index.ts';
import { SMALL_MAPPING, runImportWorker, smallSource, tempDir, write } from './helpers.ts';

const FILES_PER_WORKER = 12;
const ROWS_PER_FILE = 25;

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
    runImportWorker([barrier, '2', 'a', kbPath, 'files', mapping, ...filesA]),
    runImportWorker([barrier, '2', 'b', kbPath, 'files', mapping, ...filesB]),
  ]);
  assert.ok(
    Math.max(a.start, b.start) < Math.min(a.end, b.end),
    'the two imports overlapped in time',
  );
  const unique = (2 * FILES_PER_WORKER + 1) * ROWS_PER_FILE;
  assert.equal(a.added + b.added, unique, 'the shared file counts once');
  const kb = await openKnowledgeBase(kbPath, { mode: 'read' });
  t.after(() => kb.close());
  const records = await kb.records();
  assert.equal(records.length, unique);
  assert.equal(new Set(records.map((r) => r.provenance.runId)).size, unique);
});

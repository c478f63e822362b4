// Progress lines say how long the rest will take at the pace so far.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createProgress } from '../../src/cli/progress.ts';

test('progress lines carry an ETA while work remains, and none when it is done', async () => {
  const lines: string[] = [];
  const stream = { isTTY: false, write: (s: string) => (lines.push(s), true) };
  const p = createProgress('held-out datasets', 4, stream as never, 0);
  await new Promise((r) => setTimeout(r, 30));
  p.tick(1, 'a');
  p.tick(3, 'c');
  p.finish('done');
  assert.equal(lines.length, 3);
  assert.match(lines[0], /^held-out datasets 1\/4 \(25%\) \d+\.\ds, ETA \d+s a\n$/);
  assert.match(lines[1], /3\/4 \(75%\) .*, ETA \d+s c\n$/);
  assert.doesNotMatch(lines[2], /ETA/);
  assert.match(lines[2], /4\/4 \(100%\)/);
});

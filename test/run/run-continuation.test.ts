// `metallmix run` on the digits example for real: trial 1 is the zero-shot pick, trials 2..5 and
// the suggestion after the budget continue the trials recorded so far in this study (the
// few-shot continuation), so the sixth suggestion is not simply the zero-shot list's next entry.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { candidateKey } from '../../src/recommend/kb-view.ts';
import { DIGITS_COMMAND, digitsUser, skipDigits } from './digits.ts';

const skip = skipDigits;
const COMMAND = DIGITS_COMMAND;

interface Trial {
  trial: number;
  model: string;
  config: Record<string, unknown>;
  status: string;
  continues?: number;
  metrics: { accuracy?: number };
}

test(
  'run: five recorded trials, then a sixth suggestion that continues them',
  { skip, timeout: 600_000 },
  async (t) => {
    const { cli, folder, runDir } = await digitsUser(t, 'digits');
    const r = await cli(
      'run',
      '--dataset',
      folder,
      '--no-builtin',
      '--trials',
      '5',
      '--run-dir',
      runDir,
      '--command',
      COMMAND,
      '--json',
    );
    assert.equal(r.code, 0, r.err);
    const report = JSON.parse(r.out);
    const trials: Trial[] = report.trials;
    assert.deepEqual(
      trials.map((x) => [x.trial, x.status, x.continues]),
      [
        [1, 'finished', undefined],
        [2, 'finished', 1],
        [3, 'finished', 2],
        [4, 'finished', 3],
        [5, 'finished', 4],
      ],
    );
    const tried = new Set(trials.map((x) => candidateKey(x.model, x.config as never)));
    assert.equal(tried.size, 5);
    assert.equal(report.next.continues, 5, 'the sixth suggestion continues the five');
    assert.ok(!tried.has(candidateKey(report.next.model, report.next.config)));
    const state = JSON.parse(readFileSync(path.join(runDir, 'study.json'), 'utf8'));
    assert.deepEqual(
      state.trials.map((x: { continues?: number }) => x.continues),
      [undefined, 1, 2, 3, 4],
      'kept in the study state',
    );

    // The zero-shot answer over the same knowledge base, minus what was tried, starts elsewhere.
    const zero = await cli(
      'recommend',
      '--dataset',
      folder,
      '--no-builtin',
      '--no-continuation',
      '--top-k',
      '10',
      '--json',
    );
    assert.equal(zero.code, 0, zero.err);
    const zeroNext = JSON.parse(zero.out).topK.find(
      (e: Trial) => !tried.has(candidateKey(e.model, e.config as never)),
    );
    assert.notDeepEqual(
      [report.next.model, report.next.config],
      [zeroNext.model, zeroNext.config],
      "not the zero-shot list's next entry",
    );
    const acc = trials.map((x) => x.metrics.accuracy!);
    t.diagnostic(
      `trial accuracies ${acc.map((a) => a.toFixed(4)).join(' ')}; next predicted ${report.next.predictedMetric.mean.toFixed(4)} [${report.next.predictedMetric.low.toFixed(4)}, ${report.next.predictedMetric.high.toFixed(4)}]`,
    );
  },
);

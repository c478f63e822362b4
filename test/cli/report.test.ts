// The terminal report: a summary read in ten seconds, one unit per quantity (points for scores,
// minutes for time), tables within COLUMNS (else the stream's width, else 100), only the
// hyperparameters that differ between rows, the next step, the full justification behind --verbose.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Recommendation } from '../../src/core/index.ts';
import { main } from '../../src/cli/main.ts';
import { renderRecommendation } from '../../src/cli/render-recommendation.ts';
import { runCliWith } from '../support/cli.ts';
import { EXAMPLE } from '../recommend/example.ts';
import { qtRecommendation } from '../recommend/export-fixture.ts';

let env: Record<string, string | undefined>;
before(() => {
  const dir = mkdtempSync(path.join(tmpdir(), 'metallmix-report-'));
  env = { ...process.env, METALLMIX_CACHE: path.join(dir, 'cache'), METALLMIX_KB: undefined };
  after(() => rmSync(dir, { recursive: true, force: true }));
});

/** Lines longer than `width`, except a suggested command printed whole to copy and paste. */
function tooWide(text: string, width: number): string[] {
  const lines = text.split('\n');
  return lines.filter((l, i) => l.length > width && lines[i - 1] !== 'Next:');
}

test('the report on the built-in knowledge base fits 80 and 120 columns and keeps one unit', async () => {
  const json = await runCliWith({ env }, 'recommend', '--profile', EXAMPLE, '--json');
  assert.equal(json.code, 0, json.err);
  const rec = Recommendation.parse(JSON.parse(json.out));
  const points = (x: number) => (x * 100).toFixed(1);
  for (const columns of ['80', '120']) {
    const r = await runCliWith(
      { env: { ...env, COLUMNS: columns } },
      'recommend',
      '--profile',
      EXAMPLE,
    );
    assert.equal(r.code, 0, r.err);
    assert.deepEqual(tooWide(r.out, Number(columns)), [], `COLUMNS=${columns}`);
    const m = rec.pick.predictedMetric;
    assert.ok(
      r.out.includes(`Predicted  accuracy ${points(m.mean)} [${points(m.low)}, ${points(m.high)}]`),
      r.out,
    );
    assert.match(r.out, new RegExp(`^Pick {7}${rec.pick.model}$`, 'm'));
    assert.match(r.out, /^Tied\? {6}(yes|partly|no)\b/m);
    assert.match(r.out, /^Why {8}\S+ = \S+ (raises|lowers) it [\d.]+ points/m);
    assert.match(r.out, /^Evidence {3}\[dataset:\w+\] +0\.\d\d {2}best \d+\.\d of \d+ runs/m);
    assert.match(r.out, /^Units: accuracy in points/m);
    assert.match(
      r.out,
      /^Next:[ \n]metallmix recommend --profile \S+chest-xray-small\.json --export optuna --out tune\.py$/m,
    );
    // No fraction of the metric anywhere in the plain report (0.859 beside 85.9 was the bug).
    assert.doesNotMatch(
      r.out,
      new RegExp(`\\b${m.mean.toFixed(3)}|\\b0\\.${points(m.mean).replace('.', '')}`),
    );
    assert.doesNotMatch(r.out, /Justification:/, 'the full justification is behind --verbose');
  }
  // The table keeps only the hyperparameters that differ between its rows, as columns at 120.
  const wide = await runCliWith(
    { env: { ...env, COLUMNS: '120' } },
    'recommend',
    '--profile',
    EXAMPLE,
  );
  const header = wide.out.split('\n').find((l) => l.startsWith('#  model'))!;
  assert.match(header, /^#  model +direction +strategy +unfreeze_pct +accuracy +min +front$/);
});

test('--verbose adds the justification in points, the evidence texts and the timings', async () => {
  const r = await runCliWith(
    { env: { ...env, COLUMNS: '100' } },
    'recommend',
    '--profile',
    EXAMPLE,
    '--verbose',
  );
  assert.equal(r.code, 0, r.err);
  assert.deepEqual(tooWide(r.out, 100), []);
  const justification = r.out.split('\nJustification:\n')[1].split('\n\n')[0].replace(/\s+/g, ' ');
  assert.match(
    justification,
    /predicting accuracy \d+\.\d points \(80% interval \d+\.\d to \d+\.\d\)/,
  );
  assert.match(justification, /raises the predicted accuracy by [\d.]+ points/);
  assert.doesNotMatch(justification, /accuracy 0\.\d/);
  assert.match(r.out, /^Evidence texts \(figures as stored: fractions for scores\):$/m);
  assert.match(r.out, /Timings \(ms\): profile \d+/);
});

test('without COLUMNS the stream width is used, else 100', async () => {
  const run = async (columns: number | undefined) => {
    const out: string[] = [];
    const code = await main(['node', 'metallmix', 'recommend', '--profile', EXAMPLE], {
      stdout: { write: (s: string) => out.push(s) > 0, ...(columns ? { columns } : {}) },
      stderr: { write: () => true },
      env: { ...env, COLUMNS: undefined },
    });
    assert.equal(code, 0);
    return out.join('');
  };
  const narrow = await run(72);
  assert.deepEqual(tooWide(narrow, 72), []);
  assert.ok(narrow.split('\n').some((l) => l.length > 60));
  const piped = await run(undefined);
  assert.deepEqual(tooWide(piped, 100), []);
  assert.ok(
    piped.split('\n').some((l) => l.length > 80),
    'laid out for 100 columns',
  );
});

test('30-odd hyperparameters: rows wrap their differing values, shared ones are listed once', () => {
  const rec = qtRecommendation();
  for (const width of [80, 120]) {
    const text = renderRecommendation(rec, { width });
    assert.deepEqual(tooWide(text, width), [], `width ${width}`);
    assert.doesNotMatch(text, /0\.826|0\.78\b/, 'points, not fractions');
    assert.match(text, /^Predicted  accuracy 82\.6 \[78\.0, 87\.0\]; training 43 \[39, 47\] min$/m);
    assert.match(text, /^Evidence {3}\[dataset:FLW\] 0\.81 {2}best 97\.1 of 33 runs, 14 min$/m);
    assert.match(
      text,
      /^ {11}\[run:abc123\] {2}0\.66 {2}on PLT_NET: 83\.1 \(rank 1\), 40 min, the same model$/m,
    );
  }
  const text = renderRecommendation(rec, { width: 80 });
  assert.match(text, /^ {5}\(the configuration of the pick above\)$/m);
  assert.match(
    text,
    /^ {5}amp=false batch_size=64 clip_grad=10 drop=0\.1 lr=5e-4 momentum=0\.9 opt=sgd/m,
  );
  assert.match(
    renderRecommendation(rec, { width: 120 }),
    /^Why {8}model = swinv2_base_window12to24_192to384_22kft1k raises it 24\.1 points; drop = 0 raises it 8\.6 points$/m,
  );
});

test('tied or not: the runners-up whose 80% interval holds the pick mean', () => {
  const tied = (intervals: [number, number][]) =>
    renderRecommendation(qtRecommendation(intervals), { width: 120 })
      .split('\n')
      .find((l) => l.startsWith('Tied?'))!;
  assert.match(
    tied([
      [0.8, 0.85],
      [0.7, 0.9],
      [0.6, 0.85],
    ]),
    /^Tied\? {6}yes: #2, #3 are not told apart from it \(the pick's 82\.6 lies inside their 80% intervals\)$/,
  );
  assert.match(
    tied([
      [0.8, 0.85],
      [0.7, 0.9],
      [0.5, 0.7],
    ]),
    /^Tied\? {6}partly: #2 is not told apart from it .*; ahead of #3$/,
  );
  assert.match(
    tied([
      [0.8, 0.85],
      [0.7, 0.82],
      [0.5, 0.7],
    ]),
    /^Tied\? {6}no: the pick's 82\.6 lies outside the 80% interval of every runner-up$/,
  );
});

test('only the hyperparameters that differ become columns', () => {
  const rec = qtRecommendation();
  const two = {
    ...rec,
    topK: rec.topK
      .slice(0, 2)
      .map((c, i) => ({ ...c, config: { lr: i ? 1e-3 : 1e-4, batch_size: 32 } })),
  };
  const text = renderRecommendation({ ...two, pick: two.topK[0] }, { width: 120 });
  const header = text.split('\n').find((l) => l.startsWith('#  model'))!;
  assert.match(header, /^#  model +lr +accuracy +min +front$/);
  assert.match(text, /^Same in every row: batch_size=32$/m);
});

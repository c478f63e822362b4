// Quality experiments of issue 9 (src/quality), scored by the benchmark's own leave-one-dataset-out
// code (src/bench/lodo.ts runLodo), beside the existing methods in the same run:
//   quality            the self-validated default: inner validation on each fold's training
//                      knowledge base (nested: the held-out dataset is never seen), blend of
//                      meta-learner / fair portfolio / nearest datasets chosen from that evidence;
//   quality-balanced   `balanced` through the calibrated tie rule;
//   quality@K          zero-shot pick, then K-1 continuations (GP or dataset mixture, as chosen by
//                      the inner validation), scored by the best of the K looked-up results;
//   fair-single-best   the additive-model single best with its greedy portfolio;
//   neighbors          the nearest-datasets scorer alone;   metalearner-q  the meta-learner alone
//                      with the quality features;
//   and any method `metallmix bench` knows (single-best, knn, metalearner, tpe@K, ...).
// Also prints 80% interval coverage and width of `quality`, the tie margin `balanced` exploits,
// the evidence line of one fold, wall time, and, on the whole knowledge base, the cost of the
// validation (once per knowledge-base version) and the per-request response time with it cached.
//
// Run: node --import tsx bench/quality-experiments.ts [--kb FILE] [--features none|res|res+sim]
//        [--methods LIST] [--k 1,2,3,5,10] [--seeds 10] [--groups N] [--json FILE]
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { benchMethod } from '../src/bench/methods.ts';
import { runLodo, type BenchMethod, type Fold, type MethodRun } from '../src/bench/lodo.ts';
import { median } from '../src/bench/metrics.ts';
import { viewOf, type KbView } from '../src/recommend/kb-view.ts';
import { openKnowledgeBase, readLocator } from '../src/store/index.ts';
import { combineFeatures, resolutionFeature, similarRunsFeature } from '../src/quality/features.ts';
import { LEARNER_DEFAULTS, type LearnerSettings } from '../src/quality/learner.ts';
import { answer, validateKnowledgeBase, type QualityModel } from '../src/quality/model.ts';
import { greedyPortfolio } from '../src/quality/portfolio.ts';
import { predict, trainScorers, type TrainedScorers } from '../src/quality/scorers.ts';
import type { Observation } from '../src/quality/fewshot.ts';

const { values: args } = parseArgs({
  options: {
    kb: { type: 'string' },
    features: { type: 'string', default: 'res' },
    methods: {
      type: 'string',
      default:
        'quality,quality-balanced,fair-single-best,neighbors,metalearner-q,single-best,knn,metalearner,random-search@10,tpe@10',
    },
    k: { type: 'string', default: '1,2,3,4,5,6,7,8,9,10' },
    seeds: { type: 'string', default: '10' },
    groups: { type: 'string' },
    json: { type: 'string' },
  },
});

const FEATURES: Record<string, LearnerSettings> = {
  none: LEARNER_DEFAULTS,
  res: { ...LEARNER_DEFAULTS, features: resolutionFeature },
  'res+sim': {
    ...LEARNER_DEFAULTS,
    features: combineFeatures(resolutionFeature, similarRunsFeature),
  },
};
const settings = FEATURES[args.features!];
if (!settings) throw new Error(`--features: one of ${Object.keys(FEATURES).join(', ')}`);
const METRIC = 'accuracy';
const groups = args.groups ? Number(args.groups) : undefined;

/** Per held-out dataset: scorers on the fold's training view and its validated quality model. */
interface FoldState {
  scorers: TrainedScorers;
  model: QualityModel;
  fitMs: number;
  validateMs: number;
}
const states = new Map<string, FoldState>();
function state(fold: Fold): FoldState {
  let s = states.get(fold.dataset);
  if (!s) {
    const t0 = performance.now();
    const scorers = trainScorers(fold.train, METRIC, settings);
    const t1 = performance.now();
    const model = validateKnowledgeBase(fold.train, METRIC, { groups, settings });
    s = { scorers, model, fitMs: t1 - t0, validateMs: performance.now() - t1 };
    states.set(fold.dataset, s);
  }
  return s;
}

function ranked(order: number[], extra?: Record<string, unknown>, responseMs = 0): MethodRun {
  return { order, pick: order[0], responseMs, fullRanking: true, extra };
}

function qualityMethod(objective: 'best' | 'balanced'): BenchMethod {
  return {
    name: objective === 'best' ? 'quality' : 'quality-balanced',
    stochastic: false,
    async run(fold) {
      const s = state(fold);
      const t0 = performance.now();
      const a = answer(s.model, s.scorers, fold.profile, fold.candidates, { objective });
      const ms = performance.now() - t0;
      const inside = fold.values.filter(
        (v, i) => v >= a.intervals[i].low && v <= a.intervals[i].high,
      ).length;
      return ranked(
        a.order,
        {
          coverage80: inside / fold.values.length,
          width80: a.intervals[0].high - a.intervals[0].low,
          tie: s.model.calibration.tie,
          weights: s.model.blend.weights,
          fewshot: s.model.fewshot.method,
          evidence: s.model.evidence,
          validateMs: s.validateMs,
          fitMs: s.fitMs,
        },
        ms,
      );
    },
  };
}

function fewShotMethod(k: number): BenchMethod {
  return {
    name: `quality@${k}`,
    stochastic: false,
    async run(fold) {
      const s = state(fold);
      const observed: Observation[] = [];
      let next: number | undefined = answer(s.model, s.scorers, fold.profile, fold.candidates, {
        objective: 'best',
      }).order[0];
      for (let t = 0; t < Math.min(k, fold.candidates.length); t++) {
        observed.push({ index: next!, value: fold.values[next!] });
        if (t + 1 < Math.min(k, fold.candidates.length))
          next = answer(s.model, s.scorers, fold.profile, fold.candidates, {
            objective: 'best',
            observed,
          }).next;
      }
      const order = observed.map((o) => o.index).sort((a, b) => fold.values[b] - fold.values[a]);
      const times = observed.map((o) => fold.timesSec[o.index]);
      return {
        order,
        pick: order[0],
        responseMs: 0,
        fullRanking: false,
        spentSec: times.every((t) => t !== undefined)
          ? times.reduce((x, t) => x + t!, 0)
          : undefined,
      };
    },
  };
}

function scorerMethod(name: 'fair-single-best' | 'neighbors' | 'metalearner-q'): BenchMethod {
  return {
    name,
    stochastic: false,
    async run(fold) {
      const s = state(fold).scorers;
      if (name === 'fair-single-best')
        return ranked(greedyPortfolio(s.table, s.additive, fold.candidates));
      const p = predict(s, fold.profile, fold.candidates);
      const score = name === 'neighbors' ? p.scores.neighbors : p.scores.metalearner;
      return ranked(score.map((_, i) => i).sort((a, b) => score[b] - score[a] || a - b));
    },
  };
}

function method(name: string): BenchMethod {
  if (name === 'quality') return qualityMethod('best');
  if (name === 'quality-balanced') return qualityMethod('balanced');
  if (name === 'fair-single-best' || name === 'neighbors' || name === 'metalearner-q')
    return scorerMethod(name);
  return benchMethod(name);
}

const kb = await openKnowledgeBase(readLocator(args.kb), { mode: 'read' });
const view: KbView = viewOf(await kb.snapshot(), kb.label);
await kb.close();
const ks = args.k!.split(',').map(Number);
const names = args.methods!.split(',');
const methods = [
  ...names.map(method),
  ...ks.map(fewShotMethod),
  ...(names.some((n) => n.startsWith('tpe@') || n.startsWith('random-search@'))
    ? ks
        .filter((k) => k !== 10)
        .flatMap((k) => [benchMethod(`random-search@${k}`), benchMethod(`tpe@${k}`)])
    : []),
];
const t0 = performance.now();
const report = await runLodo(view, {
  metric: METRIC,
  objective: 'best',
  methods,
  seeds: Number(args.seeds),
});
const wallS = (performance.now() - t0) / 1000;

const byName = new Map(report.methods.map((m) => [m.name, m]));
const line = (n: string) => {
  const m = byName.get(n);
  return m
    ? `${n.padEnd(18)} ${m.meanRegret.toFixed(2).padStart(7)} ${m.hitAt1.toFixed(2).padStart(6)} ${(m.ndcgAt5 ?? NaN).toFixed(2).padStart(7)}`
    : '';
};
console.log(
  `${args.kb ?? 'built-in'}: ${report.datasets} datasets, features ${args.features}, wall ${wallS.toFixed(0)} s`,
);
console.log(
  `${'method'.padEnd(18)} ${'regret'.padStart(7)} ${'hit@1'.padStart(6)} ${'NDCG@5'.padStart(7)}`,
);
for (const n of names) console.log(line(n));
const q = byName.get('quality');
if (q) {
  const ex = q.perDataset.map((r) => r.extra as Record<string, number & unknown>);
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
  console.log(
    `coverage80 ${mean(ex.map((e) => e.coverage80 as number)).toFixed(2)}, mean width ${mean(ex.map((e) => e.width80 as number)).toFixed(1)} points, ` +
      `tie margin ${mean(ex.map((e) => e.tie as number)).toFixed(2)}; few-shot ${[...new Set(ex.map((e) => e.fewshot))].join('/')}`,
  );
  console.log(
    `validation per fold: median ${(median(ex.map((e) => e.validateMs as number)) / 1000).toFixed(1)} s (fit ${(median(ex.map((e) => e.fitMs as number)) / 1000).toFixed(1)} s)`,
  );
  console.log(`evidence (fold ${q.perDataset[0].dataset}): ${ex[0].evidence}`);
  const bal = byName.get('quality-balanced');
  if (bal)
    console.log(`balanced - best regret: ${(bal.meanRegret - q.meanRegret).toFixed(2)} points`);
}
const at = (prefix: string) =>
  ks
    .map((k) => byName.get(`${prefix}@${k}`)?.meanRegret.toFixed(2).padStart(6) ?? '     -')
    .join('');
console.log(`K                 ${ks.map((k) => String(k).padStart(6)).join('')}`);
for (const p of ['quality', 'random-search', 'tpe'])
  console.log(`${(p + '@K').padEnd(18)}${at(p)}`);
if (args.json) writeFileSync(args.json, JSON.stringify({ wallS, report }, null, 1));

// Cost on the whole knowledge base: validation once per version; requests with it cached.
if (q) {
  const t1 = performance.now();
  const scorers = trainScorers(view, METRIC, settings);
  const t2 = performance.now();
  const model: QualityModel = JSON.parse(
    JSON.stringify(validateKnowledgeBase(view, METRIC, { groups, settings })),
  );
  const t3 = performance.now();
  const profile = [...view.profiles.values()][0];
  const folds = report.methods[0].perDataset;
  const cands = folds.length
    ? view.records
        .filter((r) => r.dataset === folds[0].dataset)
        .map((r) => ({ model: r.model, config: r.config }))
    : [];
  const times: number[] = [];
  for (let i = 0; i < 20; i++) {
    const s = performance.now();
    answer(model, scorers, profile, cands, { objective: 'balanced' });
    times.push(performance.now() - s);
  }
  console.log(
    `whole KB: fit ${((t2 - t1) / 1000).toFixed(1)} s, validation ${((t3 - t2) / 1000).toFixed(1)} s (cached: ${JSON.stringify(model).length} bytes of JSON), ` +
      `answer median ${median(times).toFixed(1)} ms for ${cands.length} candidates`,
  );
  console.log(`evidence: ${model.evidence}`);
}

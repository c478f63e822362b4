// Baselines a user would otherwise reach for, behind the same Recommender interface:
// random pick, the single best configuration across past datasets (ordered as a greedy
// portfolio, as Auto-sklearn 2.0 builds one), and the configurations of the nearest past
// datasets by meta-features (as ZAP's algorithm selection).
import { Rng, type Candidate, type DatasetProfile, type Interval } from '../../core/index.ts';
import { assembleRecommendation } from '../assemble.ts';
import {
  fitFeatureScaling,
  profileDistance,
  profileFeatures,
} from '../../retrieve/profile-features.ts';
import { candidatesForRequest } from '../candidates.ts';
import {
  byDataset,
  candidateKey,
  metricScale,
  metricSign,
  runsOf,
  type KbView,
} from '../kb-view.ts';
import { additiveEffect, fitAdditive, greedyPortfolio } from '../quality/portfolio.ts';
import { fromPoints, runTable } from '../quality/table.ts';
import type { Scored } from '../select.ts';
import type { RecommendOptions, Recommender } from '../types.ts';

/** Past performance relative to each dataset's average run, by configuration and by model. */
interface History {
  datasets: string[];
  /** dataset -> candidate key -> oriented points above the dataset's mean. */
  byKey: Map<string, Map<string, number>>;
  /** dataset -> model -> mean oriented points above the dataset's mean. */
  byModel: Map<string, Map<string, number>>;
  /** dataset -> mean metric (stored scale). */
  mean: Map<string, number>;
}

function history(view: KbView, metric: string): History {
  const sign = metricSign(metric);
  const scale = metricScale(metric);
  const runs = runsOf(view, metric);
  const h: History = { datasets: [], byKey: new Map(), byModel: new Map(), mean: new Map() };
  for (const [d, list] of byDataset(runs)) {
    const mean = list.reduce((s, r) => s + r.value, 0) / list.length;
    h.datasets.push(d);
    h.mean.set(d, mean);
    const keys = new Map<string, number>();
    const models = new Map<string, number[]>();
    for (const r of list) {
      const rel = sign * (r.value - mean) * scale;
      keys.set(r.key, rel);
      models.get(r.model)?.push(rel) ?? models.set(r.model, [rel]);
    }
    h.byKey.set(d, keys);
    h.byModel.set(
      d,
      new Map([...models].map(([m, v]) => [m, v.reduce((s, x) => s + x, 0) / v.length])),
    );
  }
  h.datasets.sort();
  return h;
}

/**
 * Weighted mean of a candidate's past relative performance over `weights` (dataset -> weight):
 * the exact configuration where it was run, else the model's average, else undefined.
 */
function pastScore(h: History, c: Candidate, weights: Map<string, number>): number | undefined {
  const key = candidateKey(c.model, c.config);
  for (const table of [
    (d: string) => h.byKey.get(d)?.get(key),
    (d: string) => h.byModel.get(d)?.get(c.model),
  ]) {
    let s = 0;
    let w = 0;
    for (const [d, wd] of weights) {
      const v = table(d);
      if (v !== undefined) {
        s += wd * v;
        w += wd;
      }
    }
    if (w > 0) return s / w;
  }
  return undefined;
}

interface BaselineScoring {
  scores: number[];
  /** Predicted metric on the stored scale for candidate i. */
  expected: (i: number) => Interval;
  justification: string;
}

function baseline(
  name: string,
  view: KbView,
  score: (profile: DatasetProfile, cands: Candidate[], opts: RecommendOptions) => BaselineScoring,
): Recommender {
  return {
    name,
    async recommend(profile, options) {
      const t0 = performance.now();
      const rng = new Rng(options.seed).fork(name);
      const candidates = candidatesForRequest(view, options.candidates, rng);
      const t1 = performance.now();
      const s = score(profile, candidates, options);
      const scored: Scored[] = s.scores.map((v, index) => ({
        index,
        score: { mean: v, low: v, high: v },
      }));
      return assembleRecommendation({
        strategy: name,
        profile,
        options,
        candidates,
        scored,
        metricOf: s.expected,
        space: view.space,
        kb: view,
        justification: () => s.justification,
        notices: [],
        timingsMs: { candidates: t1 - t0, score: performance.now() - t1 },
      });
    },
  };
}

const point = (v: number): Interval => ({ mean: v, low: v, high: v });

function expectedFrom(
  h: History,
  metric: string,
  weights: Map<string, number>,
  rel: (number | undefined)[],
): (i: number) => Interval {
  let wSum = 0;
  let level = 0;
  for (const [d, w] of weights) {
    level += w * (h.mean.get(d) ?? 0);
    wSum += w;
  }
  level = wSum > 0 ? level / wSum : 0;
  const k = metricSign(metric) / metricScale(metric);
  return (i) => point(level + (rel[i] ?? 0) * k);
}

export function randomRecommender(view: KbView): Recommender {
  return baseline('random', view, (_p, cands, opts) => {
    const rng = new Rng(opts.seed).fork('random-scores');
    const h = history(view, opts.metric);
    const all = new Map(h.datasets.map((d) => [d, 1]));
    return {
      scores: cands.map(() => rng.next()),
      expected: expectedFrom(h, opts.metric, all, []),
      justification: 'Uniform random choice among the candidates (baseline).',
    };
  });
}

/**
 * Single best: the candidate with the best expected effect under an additive model of every past
 * run (dataset + model + configuration effects, fitted jointly, quality/portfolio.ts), so that an
 * incomplete grid cannot make a configuration look good by where it was (not) run; the following
 * ranks form a greedy portfolio (each next candidate is the one that most improves the
 * per-dataset best of the picks so far, a cell never run imputed from the model).
 */
export function singleBestRecommender(view: KbView): Recommender {
  return baseline('single-best', view, (_p, cands, opts) => {
    const table = runTable(view, opts.metric);
    const fit = fitAdditive(table);
    const order = greedyPortfolio(table, fit, cands);
    const scores = cands.map(() => 0);
    order.forEach((i, r) => (scores[i] = cands.length - r));
    const level = [...fit.dataset.values()].reduce((s, x) => s + x, 0) / (fit.dataset.size || 1);
    return {
      scores,
      expected: (i) => point(fromPoints(opts.metric, level + additiveEffect(fit, cands[i]))),
      justification: `The configuration with the best expected result over ${table.datasets.length} past datasets, every run compared with the same dataset effects (greedy portfolio order after it).`,
    };
  });
}

/** Nearest past datasets by meta-features, weighted by 1 / (1 + distance); k = 3 by default. */
export function knnRecommender(view: KbView, k = 3): Recommender {
  return baseline('knn', view, (profile, cands, opts) => {
    const h = history(view, opts.metric);
    const profiles = h.datasets
      .map((d) => view.profiles.get(d))
      .filter((p): p is DatasetProfile => p !== undefined);
    const scaling = fitFeatureScaling(profiles.map(profileFeatures));
    const near = profiles
      .map((p) => ({ name: p.name, dist: profileDistance(profile, p, scaling) }))
      .sort((a, b) => a.dist - b.dist || (a.name < b.name ? -1 : 1))
      .slice(0, k);
    const weights = new Map(near.map((n) => [n.name, 1 / (1 + n.dist)]));
    const rel = cands.map((c) => pastScore(h, c, weights));
    return {
      scores: rel.map((v) => v ?? -Infinity),
      expected: expectedFrom(h, opts.metric, weights, rel),
      justification: `Best configuration on the ${near.length} most similar past datasets by meta-features: ${near.map((n) => `${n.name} (distance ${n.dist.toFixed(2)})`).join(', ')}.`,
    };
  });
}

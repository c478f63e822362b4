// The few-shot continuation as the product uses it (`recommend` with observed trials, `bench`
// metalearner@K, `run` trials 2..N): given the results already observed on the new dataset, the
// candidates best-first for the next trial, with the prediction that ranks them and one line
// saying why the first one.
//
// The prior is the self-validated zero-shot prediction (model.ts, fitted on the knowledge base
// without the dataset); the continuation is the one the inner validation chose for this
// knowledge base (fewshot.ts: a Gaussian process on the prior's residuals ordered by expected
// improvement, or the mixture over past datasets ordered by its mean). Everything works in the
// oriented points of table.ts; predictions leave in the metric's stored scale.
import type { Candidate, Config, DatasetProfile, Interval } from '../core/index.ts';
import { metricScale, type KbView } from '../recommend/kb-view.ts';
import { absolute } from '../recommend/quality/calibrate.ts';
import { expectedImprovement, posterior } from './continuation.ts';
import {
  chooseFewShot,
  mixtureScores,
  pastResults,
  type FewShotChoice,
  type FewShotMethod,
  type Observation,
} from './fewshot.ts';
import { innerCases } from '../recommend/quality/inner.ts';
import { answer, modelFromCases, type QualityModel } from '../recommend/quality/model.ts';
import { trainScorers, type TrainedScorers } from '../recommend/quality/scorers.ts';
import { fromPoints, keyOf, toPoints } from '../recommend/quality/table.ts';
import { minOf } from '../core/arrays.ts';

/** The scorers and the validated model of a knowledge base (without the dataset continued). */
export interface ContinuationFit {
  scorers: TrainedScorers;
  model: QualityModel;
  /** The continuation the inner validation chose for this knowledge base. */
  fewshot: FewShotChoice;
  /** Wall time of fitting and validating. */
  ms: number;
}

// One fit per training view and metric for the life of the process: a `run` asks again after
// every trial, and only the continued dataset's records change between those requests, which
// the training view leaves out. The key is the records themselves (ids) because a fold's
// version string names its parent's version, which every new trial changes.
const fits = new Map<string, ContinuationFit>();
const MAX_FITS = 8;

function fitKey(view: KbView, metric: string): string {
  let h = 0;
  for (const r of view.records)
    for (let i = 0; i < r.id.length; i++) h = (Math.imul(h, 31) + r.id.charCodeAt(i)) | 0;
  return `${metric}\n${view.records.length}\n${h}\n${[...view.profiles.keys()].sort().join(',')}`;
}

export function fitContinuation(view: KbView, metric: string): ContinuationFit {
  const key = fitKey(view, metric);
  const hit = fits.get(key);
  if (hit) return hit;
  const t0 = performance.now();
  const scorers = trainScorers(view, metric);
  // One inner validation serves both choices: the blend and calibration, and the continuation.
  const cases = innerCases(view, metric);
  const model = modelFromCases(view, metric, cases);
  const fewshot = chooseFewShot(view, metric, cases, model.blend.weights, model.calibration.level);
  const fit = { scorers, model, fewshot, ms: performance.now() - t0 };
  if (fits.size >= MAX_FITS) fits.delete(fits.keys().next().value!);
  fits.set(key, fit);
  return fit;
}

/** A result already observed on the dataset: the metric in its stored scale. */
export interface ObservedRun {
  model: string;
  config: Config;
  value: number;
}

export interface Continuation {
  /** The candidates given, then the observed configurations that were not among them. */
  candidates: Candidate[];
  /** Indices into `candidates` of the configurations not yet observed, best next trial first. */
  order: number[];
  /** Per candidate: the prediction given the observations (stored scale, 80% interval). */
  predicted: Interval[];
  method: FewShotMethod;
  observed: number;
  best: ObservedRun;
  /** Why `order[0]`, in one sentence (points for scores). */
  reason: string;
}

/** z of the two-sided 80% normal interval (the coverage every interval here has). */
const Z80 = 1.2816;

/** A prediction in the stored scale; scores (fractions) are kept inside [0, 1]. */
function stored(metric: string, mean: number, a: number, b: number): Interval {
  const [x, y] = [fromPoints(metric, a), fromPoints(metric, b)];
  const clip = (v: number) => (metricScale(metric) === 100 ? Math.min(1, Math.max(0, v)) : v);
  return {
    mean: clip(fromPoints(metric, mean)),
    low: clip(Math.min(x, y)),
    high: clip(Math.max(x, y)),
  };
}

/**
 * The next trials on a dataset given what was observed there. `observed` must not be empty;
 * repeated runs of one configuration are averaged (the continuation sees one value each).
 */
export function continueFrom(
  fit: ContinuationFit,
  profile: DatasetProfile,
  candidates: readonly Candidate[],
  observed: readonly ObservedRun[],
): Continuation {
  if (observed.length === 0) throw new Error('continueFrom needs at least one observed result');
  const { scorers, model, fewshot } = fit;
  const metric = scorers.metric;
  const all: Candidate[] = candidates.map((c) => ({ model: c.model, config: c.config }));
  const index = new Map(all.map((c, i) => [keyOf(c), i]));
  const sums = new Map<number, { s: number; n: number }>();
  for (const o of observed) {
    const key = keyOf(o);
    let i = index.get(key);
    if (i === undefined) {
      i = all.push({ model: o.model, config: o.config }) - 1;
      index.set(key, i);
    }
    const acc = sums.get(i) ?? { s: 0, n: 0 };
    acc.s += toPoints(metric, o.value);
    acc.n += 1;
    sums.set(i, acc);
  }
  const obs: Observation[] = [...sums].map(([i, a]) => ({ index: i, value: a.s / a.n }));
  const zero = answer(model, scorers, profile, all, { objective: 'best' });
  const w = model.blend.weights;
  const prior = absolute(zero.prediction, w, model.calibration.level);
  const seen = new Set(obs.map((o) => o.index));
  const open = all.map((_, i) => i).filter((i) => !seen.has(i));
  const bestObs = obs.reduce((a, b) => (b.value > a.value ? b : a));
  const best: ObservedRun = {
    model: all[bestObs.index].model,
    config: all[bestObs.index].config,
    value: fromPoints(metric, bestObs.value),
  };
  const points = (x: number) => (metricScale(metric) === 100 ? x.toFixed(1) : x.toPrecision(3));
  const n = obs.length;
  let order: number[];
  let predicted: Interval[];
  let reason: string;
  if (fewshot.method === 'gp') {
    const post = posterior(prior, all, obs, fewshot.kernel, scorers.view.space, scorers.view.cards);
    const ei = post.mean.map((mu, i) => expectedImprovement(mu, post.sd[i], bestObs.value));
    order = open.sort((a, b) => ei[b] - ei[a] || post.mean[b] - post.mean[a] || a - b);
    predicted = post.mean.map((mu, i) =>
      stored(metric, mu, mu - Z80 * post.sd[i], mu + Z80 * post.sd[i]),
    );
    const top = order[0];
    const iv = top === undefined ? undefined : predicted[top];
    const inPoints = (x: Interval) => {
      const [l, h] = [toPoints(metric, x.low), toPoints(metric, x.high)];
      return `${points(toPoints(metric, x.mean))} [${points(Math.min(l, h))}, ${points(Math.max(l, h))}]`;
    };
    reason =
      top === undefined
        ? 'every candidate has been run'
        : `Given the ${n} observed trial${n > 1 ? 's' : ''}, the Gaussian process on the zero-shot prediction's residuals predicts ${inPoints(iv!)} for it (zero-shot ${points(prior[top])}): the largest expected improvement, ${points(ei[top])}, over the best so far, ${points(bestObs.value)}.`;
  } else {
    const past = pastResults(scorers.view, metric, all);
    const s = mixtureScores(prior, past, obs);
    order = open.sort((a, b) => s[b] - s[a] || a - b);
    // The zero-shot interval's half-widths, around the mixture's mean.
    predicted = s.map((mu, i) => {
      const iv = zero.intervals[i];
      return stored(metric, mu, mu - (iv.mean - iv.low), mu + (iv.high - iv.mean));
    });
    const misfit = past.map((row) =>
      obs.reduce((acc, o) => acc + (o.value - row[o.index]) ** 2, 0),
    );
    const closest = misfit.length
      ? scorers.table.datasets[misfit.indexOf(minOf(misfit))]
      : undefined;
    const top = order[0];
    reason =
      top === undefined
        ? 'every candidate has been run'
        : `Given the ${n} observed trial${n > 1 ? 's' : ''}, past datasets weighted by how well their results match them${closest ? ` (closest: ${closest})` : ''} predict ${points(s[top])} for it (zero-shot ${points(prior[top])}), the highest not yet run; best so far ${points(bestObs.value)}.`;
  }
  return {
    candidates: all,
    order,
    predicted,
    method: fewshot.method,
    observed: n,
    best,
    reason,
  };
}

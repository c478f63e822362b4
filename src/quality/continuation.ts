// Few-shot continuation: after some configurations have been run on the new dataset, which one
// next? The zero-shot prediction is the prior mean; what the observations change is modelled as
// a Gaussian process on the residuals (observed minus predicted), with the covariance
//     k(i, j) = offset + family [same model family] + model [same model]
//               + config exp(-d(i, j)^2 / (2 length^2)) + noise [i = j]
// offset:  the whole dataset is easier or harder than predicted (one shared shift);
// family:  a model family (the model card's) suits this dataset better or worse than predicted;
// model:   so does a model, beyond its family;
// config:  nearby hyperparameters (the lookup HPO's normalized distance, src/hpo/lookup.ts) err alike.
// The five variances and the length are not guessed: they maximize the Gaussian likelihood of the
// inner-validation residuals of the configurations the prior ranks in the upper half (those the
// continuation chooses among), every inner dataset being one independent draw (type-II maximum
// likelihood, by a pattern search in log space). The next configuration maximizes expected
// improvement over the best observed.
import type { Candidate, ModelCard, SearchSpace } from '../core/index.ts';
import { encodeForDistance, numericMask, snapDistance } from '../hpo/lookup.ts';
import type { InnerCase } from '../recommend/quality/inner.ts';
import { absolute } from '../recommend/quality/calibrate.ts';
import type { LevelSource, Weights } from '../recommend/quality/scorers.ts';
import { mean } from '../recommend/quality/table.ts';
import { maxOf } from '../core/arrays.ts';

export interface ResidualKernel {
  offset: number;
  family: number;
  model: number;
  config: number;
  noise: number;
  length: number;
}

/** Observations used to fit the kernel per inner dataset (Cholesky cost grows as n^3). */
export const MAX_FIT_POINTS = 60;

interface Geometry {
  models: string[];
  families: string[];
  dist: Float64Array;
  n: number;
}

type Cards = ReadonlyMap<string, ModelCard>;

function geometry(space: SearchSpace, cards: Cards, candidates: readonly Candidate[]): Geometry {
  const mask = numericMask(space);
  const enc = candidates.map((c) => encodeForDistance(space, c.config));
  const n = candidates.length;
  const dist = new Float64Array(n * n);
  for (let i = 0; i < n; i++)
    for (let j = i + 1; j < n; j++) {
      const d = snapDistance(mask, enc[i], enc[j]);
      dist[i * n + j] = d;
      dist[j * n + i] = d;
    }
  return {
    models: candidates.map((c) => c.model),
    // A model without a card is its own family: no similarity is invented for it.
    families: candidates.map((c) => cards.get(c.model)?.family ?? `model:${c.model}`),
    dist,
    n,
  };
}

/** Covariance of residuals; noise is added only on the diagonal of observations with themselves. */
function covariance(
  g: Geometry,
  k: ResidualKernel,
  rows: readonly number[],
  cols: readonly number[],
  noisy: boolean,
): Float64Array {
  const out = new Float64Array(rows.length * cols.length);
  const inv = 1 / (2 * k.length * k.length);
  rows.forEach((i, a) =>
    cols.forEach((j, b) => {
      const d = g.dist[i * g.n + j];
      out[a * cols.length + b] =
        k.offset +
        (g.families[i] === g.families[j] ? k.family : 0) +
        (g.models[i] === g.models[j] ? k.model : 0) +
        k.config * Math.exp(-d * d * inv) +
        (noisy && a === b ? k.noise : 0);
    }),
  );
  return out;
}

/** In-place Cholesky of an n x n symmetric positive-definite matrix; false if it is not. */
function cholesky(A: Float64Array, n: number): boolean {
  for (let j = 0; j < n; j++) {
    let s = A[j * n + j];
    for (let k = 0; k < j; k++) s -= A[j * n + k] ** 2;
    if (s <= 1e-12) return false;
    const l = Math.sqrt(s);
    A[j * n + j] = l;
    for (let i = j + 1; i < n; i++) {
      let t = A[i * n + j];
      for (let k = 0; k < j; k++) t -= A[i * n + k] * A[j * n + k];
      A[i * n + j] = t / l;
    }
  }
  return true;
}

/** Solves L L^T x = b with the Cholesky factor in the lower triangle of L. */
function cholSolve(L: Float64Array, n: number, b: readonly number[]): number[] {
  const y = b.slice();
  for (let i = 0; i < n; i++) {
    for (let k = 0; k < i; k++) y[i] -= L[i * n + k] * y[k];
    y[i] /= L[i * n + i];
  }
  for (let i = n - 1; i >= 0; i--) {
    for (let k = i + 1; k < n; k++) y[i] -= L[k * n + i] * y[k];
    y[i] /= L[i * n + i];
  }
  return y;
}

function logLikelihood(g: Geometry, k: ResidualKernel, r: readonly number[]): number {
  const idx = r.map((_, i) => i);
  const K = covariance(g, k, idx, idx, true);
  if (!cholesky(K, r.length)) return -Infinity;
  const alpha = cholSolve(K, r.length, r);
  let logDet = 0;
  for (let i = 0; i < r.length; i++) logDet += Math.log(K[i * r.length + i]);
  return (
    -0.5 * r.reduce((s, x, i) => s + x * alpha[i], 0) -
    logDet -
    0.5 * r.length * Math.log(2 * Math.PI)
  );
}

/**
 * Indices (ascending) of the upper half of candidates by predicted value: the ones the
 * continuation chooses among. The residuals of the lower half (configurations that diverge,
 * train too briefly, ...) are the largest the prior makes and would set the kernel's variances,
 * so that every candidate looked tens of points uncertain and expected improvement explored
 * far from what was observed instead of near the best of it.
 */
function upperHalf(predicted: readonly number[]): number[] {
  const byValue = predicted.map((_, i) => i).sort((a, b) => predicted[b] - predicted[a] || a - b);
  return byValue.slice(0, Math.max(2, Math.ceil(byValue.length / 2))).sort((a, b) => a - b);
}

const KERNEL_KEYS = ['offset', 'family', 'model', 'config', 'noise', 'length'] as const;

/**
 * Kernel maximizing the summed likelihood of the inner residuals of the absolute prediction
 * (blend `w`, level `level`) of the upper half of each case's candidates by that prediction
 * (upperHalf). Pattern search: each parameter in turn is multiplied or divided by
 * a factor while the likelihood improves; the factor halves (in log) when none does. Variances
 * start at an even split of the residuals' mean square, the length at the median distance.
 * Each inner dataset contributes at most MAX_FIT_POINTS configurations (evenly spaced among those).
 */
export function fitResidualKernel(
  cases: readonly InnerCase[],
  w: Weights,
  level: LevelSource,
  space: SearchSpace,
  cards: Cards,
): ResidualKernel {
  const data = cases.map((c) => {
    const abs = absolute(c.prediction, w, level);
    const upper = upperHalf(abs);
    const step = Math.max(1, Math.ceil(upper.length / MAX_FIT_POINTS));
    const idx = upper.filter((_, j) => j % step === 0);
    return {
      g: geometry(
        space,
        cards,
        idx.map((i) => c.candidates[i]),
      ),
      r: idx.map((i) => c.truth[i] - abs[i]),
    };
  });
  const total = Math.max(1e-6, mean(data.flatMap((d) => d.r.map((x) => x * x))));
  const dists = data
    .flatMap((d) => Array.from(d.g.dist).filter((x) => x > 0))
    .sort((a, b) => a - b);
  const floor = { variance: 1e-4 * total, length: 1e-3 };
  let k: ResidualKernel = {
    offset: total / 5,
    family: total / 5,
    model: total / 5,
    config: total / 5,
    noise: total / 5,
    length: dists.length ? dists[Math.floor(dists.length / 2)] : 1,
  };
  const score = (q: ResidualKernel) => data.reduce((s, d) => s + logLikelihood(d.g, q, d.r), 0);
  let best = score(k);
  for (let factor = 4; factor > 1.05; factor = Math.sqrt(factor)) {
    for (let improved = true, rounds = 0; improved && rounds < 20; rounds++) {
      improved = false;
      for (const key of KERNEL_KEYS)
        for (const f of [factor, 1 / factor]) {
          const min = key === 'length' ? floor.length : floor.variance;
          const trial = { ...k, [key]: Math.max(min, k[key] * f) };
          const ll = score(trial);
          if (ll > best + 1e-9) {
            best = ll;
            k = trial;
            improved = true;
          }
        }
    }
  }
  return k;
}

export interface Posterior {
  mean: number[];
  sd: number[];
}

/** Posterior of every candidate's value given observed (index, value) pairs. */
export function posterior(
  prior: readonly number[],
  candidates: readonly Candidate[],
  observed: readonly { index: number; value: number }[],
  kernel: ResidualKernel,
  space: SearchSpace,
  cards: Cards,
): Posterior {
  const g = geometry(space, cards, candidates);
  const all = candidates.map((_, i) => i);
  const prior0 = kernel.offset + kernel.family + kernel.model + kernel.config;
  if (observed.length === 0) return { mean: prior.slice(), sd: all.map(() => Math.sqrt(prior0)) };
  const obs = observed.map((o) => o.index);
  const m = obs.length;
  const K = covariance(g, kernel, obs, obs, true);
  if (!cholesky(K, m)) throw new Error('residual kernel is not positive definite');
  const alpha = cholSolve(
    K,
    m,
    observed.map((o) => o.value - prior[o.index]),
  );
  const Ks = covariance(g, kernel, all, obs, false);
  const meanOut = all.map(
    (i) => prior[i] + obs.reduce((s, _, j) => s + Ks[i * m + j] * alpha[j], 0),
  );
  const sdOut = all.map((i) => {
    const v = cholSolve(
      K,
      m,
      obs.map((_, j) => Ks[i * m + j]),
    );
    const q = obs.reduce((s, _, j) => s + Ks[i * m + j] * v[j], 0);
    return Math.sqrt(Math.max(0, prior0 - q));
  });
  return { mean: meanOut, sd: sdOut };
}

function normalPdf(z: number): number {
  return Math.exp(-0.5 * z * z) / Math.sqrt(2 * Math.PI);
}

/** Standard normal CDF (Abramowitz and Stegun 7.1.26 erf; absolute error below 1.5e-7). */
function normalCdf(z: number): number {
  const x = Math.abs(z) / Math.SQRT2;
  const t = 1 / (1 + 0.3275911 * x);
  const erf =
    1 -
    ((((1.061405429 * t - 1.453152027) * t + 1.421413741) * t - 0.284496736) * t + 0.254829592) *
      t *
      Math.exp(-x * x);
  return z >= 0 ? 0.5 * (1 + erf) : 0.5 * (1 - erf);
}

export function expectedImprovement(mu: number, sd: number, best: number): number {
  if (sd <= 1e-12) return Math.max(0, mu - best);
  const z = (mu - best) / sd;
  return (mu - best) * normalCdf(z) + sd * normalPdf(z);
}

/** The candidate not yet observed with the largest expected improvement over the best observed. */
export function nextCandidate(
  prior: readonly number[],
  candidates: readonly Candidate[],
  observed: readonly { index: number; value: number }[],
  kernel: ResidualKernel,
  space: SearchSpace,
  cards: Cards,
): number {
  const post = posterior(prior, candidates, observed, kernel, space, cards);
  const seen = new Set(observed.map((o) => o.index));
  const incumbent = maxOf(observed.map((o) => o.value));
  let pick = -1;
  let bestEi = -Infinity;
  post.mean.forEach((mu, i) => {
    if (seen.has(i)) return;
    const ei = expectedImprovement(mu, post.sd[i], incumbent);
    if (ei > bestEi || (ei === bestEi && mu > post.mean[pick])) {
      bestEi = ei;
      pick = i;
    }
  });
  return pick;
}

// Few-shot continuation, the two ways and the choice between them.
//   gp:      a Gaussian process on the residuals of the zero-shot prediction (continuation.ts);
//            learns from observations through configuration similarity, so it works where every
//            configuration is new (random search spaces).
//   mixture: each past dataset is a hypothesis "the new dataset behaves like this one": its
//            results for the candidates (as run, or imputed by the additive model) weighted by
//            the Gaussian likelihood of what has been observed so far; the zero-shot prediction
//            is one more hypothesis. Works where configurations recur across datasets (grids),
//            where it can say "datasets on which this configuration did that preferred those".
// Which one a knowledge base gets is decided like the blend: a prior from the knowledge base's
// structure (the mixture when most configurations of a dataset were also run on other datasets,
// else the GP), replaced by the other only when replaying both on the inner-validation cases shows
// a paired advantage over SWITCH_Z standard errors in the best result after 2..FEWSHOT_HORIZON
// trials. (Choosing by the plain inner means, tried first, chased differences of a few hundredths
// of a point and did worse than either method on its own.)
import type { Candidate, ModelCard, SearchSpace } from '../core/index.ts';
import type { KbView } from '../recommend/kb-view.ts';
import { absolute } from '../recommend/quality/calibrate.ts';
import { fitResidualKernel, nextCandidate, type ResidualKernel } from './continuation.ts';
import type { InnerCase } from '../recommend/quality/inner.ts';
import { additiveEffect, fitAdditive } from '../recommend/quality/portfolio.ts';
import { blendOrder, type LevelSource, type Weights } from '../recommend/quality/scorers.ts';
import { keyOf, mean, runTable } from '../recommend/quality/table.ts';
import { SWITCH_Z } from '../recommend/quality/blend.ts';
import { maxOf } from '../core/arrays.ts';

export type FewShotMethod = 'gp' | 'mixture';

export interface Observation {
  index: number;
  /** Oriented points. */
  value: number;
}

/** Absolute points (oriented) of every candidate on every past dataset of `view` but `exclude`. */
export function pastResults(
  view: KbView,
  metric: string,
  candidates: readonly Candidate[],
  exclude: readonly string[] = [],
): number[][] {
  const skip = new Set(exclude);
  const train: KbView = { ...view, records: view.records.filter((r) => !skip.has(r.dataset)) };
  const table = runTable(train, metric);
  const fit = fitAdditive(table);
  const keys = candidates.map(keyOf);
  return table.datasets.map((d) => {
    const seen = new Map(table.byDataset.get(d)!.map((r) => [r.key, r.y]));
    const mu = fit.dataset.get(d)!;
    return candidates.map((c, i) => seen.get(keys[i]) ?? mu + additiveEffect(fit, c));
  });
}

/**
 * The mixture's scores: hypotheses weighted by exp(-misfit / (2 s^2)), misfit = squared error at
 * the observed candidates, s^2 the median misfit per observation (scale-free: the closest
 * hypotheses dominate only as much as the spread of misfits says).
 */
export function mixtureScores(
  prior: readonly number[],
  past: readonly (readonly number[])[],
  observed: readonly Observation[],
): number[] {
  const members = [prior, ...past];
  if (observed.length === 0) return prior.slice();
  const misfit = members.map((m) => observed.reduce((s, o) => s + (o.value - m[o.index]) ** 2, 0));
  const sorted = misfit.slice().sort((a, b) => a - b);
  const s2 = Math.max(1e-9, sorted[Math.floor(sorted.length / 2)] / observed.length);
  const w = misfit.map((e) => Math.exp(-(e - sorted[0]) / (2 * s2)));
  const total = w.reduce((s, x) => s + x, 0);
  return prior.map((_, i) => members.reduce((s, m, k) => s + w[k] * m[i], 0) / total);
}

export interface FewShotContext {
  /** Zero-shot absolute prediction (oriented points) per candidate. */
  prior: number[];
  /** The zero-shot pick: the first trial. */
  first: number;
  candidates: readonly Candidate[];
  past: number[][];
  kernel: ResidualKernel;
  space: SearchSpace;
  cards: ReadonlyMap<string, ModelCard>;
}

/** The next candidate to run, given what was observed (the zero-shot pick when nothing was). */
export function nextTrial(
  method: FewShotMethod,
  ctx: FewShotContext,
  observed: readonly Observation[],
): number {
  if (observed.length === 0) return ctx.first;
  if (method === 'gp')
    return nextCandidate(ctx.prior, ctx.candidates, observed, ctx.kernel, ctx.space, ctx.cards);
  const s = mixtureScores(ctx.prior, ctx.past, observed);
  const seen = new Set(observed.map((o) => o.index));
  let pick = -1;
  s.forEach((x, i) => {
    if (!seen.has(i) && (pick < 0 || x > s[pick])) pick = i;
  });
  return pick;
}

/** Regret of the best of the first k trials, for k = 1..horizon, on a case with known values. */
export function replay(
  method: FewShotMethod,
  ctx: FewShotContext,
  truth: readonly number[],
  horizon: number,
): number[] {
  const observed: Observation[] = [];
  const best = maxOf(truth);
  const out: number[] = [];
  for (let k = 0; k < horizon; k++) {
    if (observed.length < truth.length) {
      const i = nextTrial(method, ctx, observed);
      observed.push({ index: i, value: truth[i] });
    }
    out.push(best - maxOf(observed.map((o) => o.value)));
  }
  return out;
}

/** Trials (beyond the zero-shot one) over which the two continuations are compared. */
export const FEWSHOT_HORIZON = 5;

export interface FewShotChoice {
  method: FewShotMethod;
  kernel: ResidualKernel;
  /** Mean inner regret of the best of 2..FEWSHOT_HORIZON trials, per method. */
  regret: Record<FewShotMethod, number>;
  /** Fraction of the inner cases' configurations also run on another dataset. */
  recurrence: number;
}

/** Fits the residual kernel and picks the continuation that did better on the inner cases. */
export function chooseFewShot(
  view: KbView,
  metric: string,
  cases: readonly InnerCase[],
  w: Weights,
  level: LevelSource,
): FewShotChoice {
  const kernel = fitResidualKernel(cases, w, level, view.space, view.cards);
  const regret: Record<FewShotMethod, number> = { gp: 0, mixture: 0 };
  const scores: Record<FewShotMethod, number[]> = { gp: [], mixture: [] };
  for (const c of cases) {
    const ctx: FewShotContext = {
      prior: absolute(c.prediction, w, level),
      first: blendOrder(c.prediction, w)[0],
      candidates: c.candidates,
      past: pastResults(view, metric, c.candidates, c.heldOut),
      kernel,
      space: view.space,
      cards: view.cards,
    };
    for (const m of ['gp', 'mixture'] as const)
      scores[m].push(mean(replay(m, ctx, c.truth, FEWSHOT_HORIZON).slice(1)));
  }
  for (const m of ['gp', 'mixture'] as const) regret[m] = mean(scores[m]);
  const seenIn = new Map<string, Set<string>>();
  for (const r of runTable(view, metric).runs) {
    const s = seenIn.get(r.key) ?? new Set<string>();
    s.add(r.dataset);
    seenIn.set(r.key, s);
  }
  const flags = cases.flatMap((c) =>
    c.candidates.map((cand) => ((seenIn.get(keyOf(cand))?.size ?? 0) > 1 ? 1 : 0)),
  );
  const recurrence = flags.length ? mean(flags) : 0;
  const prior: FewShotMethod = recurrence >= 0.5 ? 'mixture' : 'gp';
  const other: FewShotMethod = prior === 'gp' ? 'mixture' : 'gp';
  const d = scores[other].map((x, i) => x - scores[prior][i]);
  const dm = mean(d);
  const se =
    d.length > 1
      ? Math.sqrt(d.reduce((a, x) => a + (x - dm) ** 2, 0) / (d.length - 1) / d.length)
      : 0;
  return { method: -dm > SWITCH_Z * se ? other : prior, kernel, regret, recurrence };
}

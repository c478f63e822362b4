// `metalearner@K`: the product's zero-shot pick (the `metalearner` strategy through the same
// pipeline as `recommend`), then K-1 few-shot continuations (src/quality/continue.ts, as
// `recommend` and `run` continue a dataset's trials), each looking up the held-out result of the
// configuration it asks for. Scored by the best of the K results, beside `random-search@K` and
// `tpe@K`; the cost is the training time of all K trials.
import { recommendOnView } from '../recommend/pipeline.ts';
import { continueFrom, fitContinuation, type ObservedRun } from '../quality/continue.ts';
import { fromPoints } from '../recommend/quality/table.ts';
import { rankingOnFold, type BenchMethod, type Fold } from './lodo.ts';
import { maxOf } from '../core/arrays.ts';

/** Trials asked so far per fold and objective: metalearner@3 is the start of metalearner@10. */
interface Sequence {
  trials: number[];
  stepMs: number[];
}
const sequences = new WeakMap<Fold, Map<string, Sequence>>();

export function continuedMethod(k: number): BenchMethod {
  return {
    name: `metalearner@${k}`,
    stochastic: false,
    async run(fold, seed, metric, objective, shared) {
      const byObjective = sequences.get(fold) ?? new Map<string, Sequence>();
      sequences.set(fold, byObjective);
      let seq: Sequence | undefined = byObjective.get(objective);
      if (!seq) {
        shared.metaLearners.learnerFor(metric);
        const t0 = performance.now();
        const rec = await recommendOnView(
          fold.train,
          fold.profile,
          {
            strategy: 'metalearner',
            metric,
            objective,
            seed,
            topK: 1,
            candidates: fold.candidates,
            explainTop: 0,
          },
          { metaLearners: shared.metaLearners },
        );
        seq = {
          trials: rankingOnFold(fold, rec.topK).slice(0, 1),
          stepMs: [performance.now() - t0],
        };
        byObjective.set(objective, seq);
      }
      const budget = Math.min(k, fold.candidates.length);
      if (seq.trials.length < budget) {
        // Fitting and validating is once per knowledge base, as `recommend` caches it.
        const fit = fitContinuation(fold.train, metric);
        while (seq.trials.length < budget) {
          const t0 = performance.now();
          const observed: ObservedRun[] = seq.trials.map((i) => ({
            ...fold.candidates[i],
            value: fromPoints(metric, fold.values[i]),
          }));
          seq.trials.push(continueFrom(fit, fold.profile, fold.candidates, observed).order[0]);
          seq.stepMs.push(performance.now() - t0);
        }
      }
      const trials = seq.trials.slice(0, budget);
      const order = trials.slice().sort((a, b) => fold.values[b] - fold.values[a] || a - b);
      const times = trials.map((i) => fold.timesSec[i]);
      return {
        order,
        pick: order[0],
        // The answer to one request: the slowest step of the K (the zero-shot one or a continuation).
        responseMs: maxOf(seq.stepMs.slice(0, budget)),
        fullRanking: false,
        spentSec: times.every((t) => t !== undefined)
          ? times.reduce((x, t) => x + t!, 0)
          : undefined,
        extra: { trials },
      };
    },
  };
}

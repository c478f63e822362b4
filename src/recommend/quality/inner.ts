// Inner validation on a training knowledge base: its datasets are split into groups, each group
// is held out in turn, the scorers are fitted on the rest and asked about the held-out datasets'
// configurations. The result (one InnerCase per dataset) is the evidence every later choice is
// made from: which scorers to trust and how much (blend.ts), how wide an interval must be
// (calibrate.ts), and how observations on a new dataset should move the prediction
// (continuation.ts). With as many groups as datasets it is a leave-one-dataset-out; fewer groups
// trade fidelity for fitting cost on large knowledge bases.
import { Rng, type Candidate } from '../../core/index.ts';
import type { KbView } from '../kb-view.ts';
import type { LearnerSettings } from './learner.ts';
import { predict, trainScorers, type Prediction } from './scorers.ts';
import { runTable } from './table.ts';

export interface InnerCase {
  dataset: string;
  /** The datasets held out with it (its group): the scorers were fitted without all of them. */
  heldOut: string[];
  candidates: Candidate[];
  /** Oriented points of each configuration run on the dataset. */
  truth: number[];
  prediction: Prediction;
}

export interface InnerOptions {
  /** Number of dataset groups (default: one per dataset, at most 10). */
  groups?: number;
  seed?: number;
  /** Default INNER_MAX_RECORDS. */
  maxRecords?: number;
  /** Default INNER_MAX_QUESTIONS. */
  maxQuestions?: number;
  settings?: LearnerSettings;
}

/** The largest number of inner groups by default: ten fits per validation. */
export const MAX_GROUPS = 10;

/**
 * Records all inner fits together train on at most (each group's fit gets its share, drawn by a
 * seeded sample). The inner folds only compare scorers and measure residuals, which a sample
 * shows as well as the whole; without a bound the ten inner fits of a 1M-run knowledge base
 * (sampled to 200,000 for the real fit) cost ten times the real fit. Knowledge bases below the
 * bound (every real one seen so far) are validated on all their records.
 */
export const INNER_MAX_RECORDS = 100_000;

/**
 * Configurations all held-out datasets are asked about together (each dataset gets an equal
 * share, at least two, drawn by a seeded sample). Each is predicted by every member of every
 * scorer: at 1M runs (200,000 in the view, 400 per dataset) the questions cost more than the
 * fits. A regret measured among a sample of a dataset's configurations still compares the
 * scorers fairly, since all are asked the same ones. Real knowledge bases seen so far stay below it.
 */
export const INNER_MAX_QUESTIONS = 20_000;

/** Datasets of `view` split into `k` groups by a seeded shuffle (sizes differ by at most one). */
export function datasetGroups(datasets: readonly string[], k: number, seed: number): string[][] {
  const shuffled = new Rng(seed).fork('inner-groups').shuffle(datasets.slice().sort());
  const groups: string[][] = Array.from({ length: Math.min(k, shuffled.length) }, () => []);
  shuffled.forEach((d, i) => groups[i % groups.length].push(d));
  return groups;
}

/** Every profiled dataset with at least two configurations, predicted from the other groups. */
export function innerCases(view: KbView, metric: string, options: InnerOptions = {}): InnerCase[] {
  const table = runTable(view, metric);
  const eligible = table.datasets.filter(
    (d) => table.byDataset.get(d)!.length >= 2 && view.profiles.get(d)!.task !== 'multilabel',
  );
  if (table.datasets.length < 3) return [];
  const k = options.groups ?? Math.min(MAX_GROUPS, table.datasets.length);
  const groups = datasetGroups(table.datasets, k, options.seed ?? 0);
  const perGroup = Math.floor((options.maxRecords ?? INNER_MAX_RECORDS) / groups.length);
  const rng = new Rng(options.seed ?? 0).fork('inner-sample');
  const asked = new Rng(options.seed ?? 0).fork('inner-questions');
  const perDataset = Math.max(
    2,
    Math.floor((options.maxQuestions ?? INNER_MAX_QUESTIONS) / Math.max(1, eligible.length)),
  );
  const out: InnerCase[] = [];
  for (const group of groups) {
    const held = group.filter((d) => eligible.includes(d));
    if (held.length === 0) continue;
    const keep = new Set(group);
    const profiles = new Map([...view.profiles].filter(([d]) => !keep.has(d)));
    // The summary stays the whole view's: no scorer reads it.
    const rest = view.records.filter((r) => !keep.has(r.dataset));
    const train: KbView = {
      ...view,
      version: `${view.version}:inner:${group.join(',')}`,
      records:
        rest.length > perGroup
          ? rng.sampleIndices(rest.length, perGroup).map((i) => rest[i])
          : rest,
      profiles,
      cards: view.cards,
      space: view.space,
    };
    const scorers = trainScorers(train, metric, options.settings);
    for (const d of held) {
      const all = table.byDataset.get(d)!;
      const runs =
        all.length > perDataset
          ? asked.sampleIndices(all.length, perDataset).map((i) => all[i])
          : all;
      const candidates = runs.map((r) => ({ model: r.model, config: r.run.config }));
      out.push({
        dataset: d,
        heldOut: group,
        candidates,
        truth: runs.map((r) => r.y),
        prediction: predict(scorers, view.profiles.get(d)!, candidates),
      });
    }
  }
  return out.sort((a, b) => (a.dataset < b.dataset ? -1 : 1));
}

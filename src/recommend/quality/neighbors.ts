// The neighbour-based scores (ZAP-style algorithm selection): a candidate scores as it did on
// the past datasets most similar by meta-features. Distance: standardized differences of the
// encoded dataset meta-features (log scales as the meta-learner encodes them), a categorical
// mismatch (modality, task) counting as one standard deviation; features missing on either side
// are skipped.
import type { Candidate, DatasetProfile } from '../../core/index.ts';
import { encodeRows, fitEncoder, type EncoderSpec } from '../../learn/encode.ts';
import type { KbView } from '../kb-view.ts';
import { keyOf, mean, type RunTable } from './table.ts';
import type { AdditiveFit } from './portfolio.ts';

export interface DatasetSpace {
  encoder: EncoderSpec;
  /** Standard deviation of each numeric feature over the training datasets (1 when constant). */
  scale: number[];
  /** Encoded features of each training dataset. */
  rows: Map<string, number[]>;
}

export function datasetSpace(view: KbView, datasets: readonly string[]): DatasetSpace {
  const profiles = datasets.map((d) => view.profiles.get(d)!);
  const encoder = fitEncoder(
    profiles.map((profile) => ({ profile, model: '', config: {} })),
    { parameters: [] },
  );
  encoder.features = encoder.features.filter((f) => f.source === 'dataset');
  const rows = new Map(datasets.map((d, i) => [d, encodeDataset(encoder, profiles[i])]));
  const scale = encoder.features.map((f, j) => {
    if (f.kind === 'categorical') return 1;
    const xs = [...rows.values()].map((r) => r[j]).filter((x) => !Number.isNaN(x));
    const m = mean(xs);
    const sd = Math.sqrt(mean(xs.map((x) => (x - m) ** 2)));
    return sd > 0 ? sd : 1;
  });
  return { encoder, scale, rows };
}

function encodeDataset(encoder: EncoderSpec, profile: DatasetProfile): number[] {
  return Array.from(encodeRows(encoder, [{ profile, model: '', config: {} }]));
}

export function datasetDistance(
  space: DatasetSpace,
  profile: DatasetProfile,
  dataset: string,
): number {
  const a = encodeDataset(space.encoder, profile);
  const b = space.rows.get(dataset)!;
  let s = 0;
  space.encoder.features.forEach((f, j) => {
    if (Number.isNaN(a[j]) && Number.isNaN(b[j])) return;
    if (f.kind === 'categorical') s += a[j] === b[j] ? 0 : 1;
    else if (!Number.isNaN(a[j]) && !Number.isNaN(b[j])) s += ((a[j] - b[j]) / space.scale[j]) ** 2;
  });
  return Math.sqrt(s);
}

export interface Neighbor {
  dataset: string;
  distance: number;
  weight: number;
}

/** The k nearest training datasets, weighted 1 / (1 + distance). */
export function nearestDatasets(
  space: DatasetSpace,
  profile: DatasetProfile,
  k: number,
): Neighbor[] {
  return [...space.rows.keys()]
    .map((dataset) => ({ dataset, distance: datasetDistance(space, profile, dataset) }))
    .sort((x, y) => x.distance - y.distance || (x.dataset < y.dataset ? -1 : 1))
    .slice(0, k)
    .map((n) => ({ ...n, weight: 1 / (1 + n.distance) }));
}

/** What the neighbour scores read of a run table: one dataset's runs (a RunTable's, or kept ones). */
export interface NeighborRuns {
  runsOf(dataset: string): readonly Pick<RunTable['runs'][number], 'key' | 'model' | 'y'>[];
}

/**
 * Weighted mean over the neighbours of a candidate's result above the dataset effect: the exact
 * configuration where it was run, else its model's mean there; undefined when neither was run.
 */
export function neighborScores(
  table: NeighborRuns,
  fit: AdditiveFit,
  neighbors: readonly Neighbor[],
  candidates: readonly Candidate[],
): (number | undefined)[] {
  const exact = new Map<string, Map<string, number>>();
  const byModel = new Map<string, Map<string, number>>();
  for (const n of neighbors) {
    const mu = fit.dataset.get(n.dataset)!;
    const list = table.runsOf(n.dataset);
    exact.set(n.dataset, new Map(list.map((r) => [r.key, r.y - mu])));
    const models = new Map<string, number[]>();
    for (const r of list) models.get(r.model)?.push(r.y - mu) ?? models.set(r.model, [r.y - mu]);
    byModel.set(n.dataset, new Map([...models].map(([m, v]) => [m, mean(v)])));
  }
  return candidates.map((c) => {
    const key = keyOf(c);
    for (const lookup of [exact, byModel]) {
      let s = 0;
      let w = 0;
      for (const n of neighbors) {
        const v = lookup.get(n.dataset)!.get(lookup === exact ? key : c.model);
        if (v !== undefined) {
          s += n.weight * v;
          w += n.weight;
        }
      }
      if (w > 0) return s / w;
    }
    return undefined;
  });
}

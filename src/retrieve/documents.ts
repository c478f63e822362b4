import {
  MetallmixError,
  completeProfile,
  isLowerBetter,
  type Config,
  type DatasetProfile,
  type ExperimentRecord,
  type Modality,
} from '../core/index.ts';
import { profileMeta, type DocumentMeta } from './profile-features.ts';

export type EvidenceKind = 'dataset' | 'run' | 'insight';

/** Outcome figures on the caller's metric (fractions in [0, 1] for scores). */
export interface Outcome {
  metric: string;
  /** A run's value, or for a dataset: best, median and worst over its finished runs. */
  value?: number;
  /** A run's rank among its dataset's finished runs (1 = best). */
  rank?: number;
  best?: number;
  median?: number;
  worst?: number;
  runs?: number;
  /** A run's training time, or a dataset's median training time. */
  trainingTimeSec?: number;
}

/** One citable piece of evidence: `dataset:<name>`, `run:<record id>` or `insight:<id>`. */
export interface EvidenceDocument {
  id: string;
  kind: EvidenceKind;
  dataset?: string;
  text: string;
  meta: DocumentMeta;
  outcome?: Outcome;
  /** For runs: what was trained, so a caller can map evidence to candidates. */
  model?: string;
  config?: Config;
}

export type StoredRecord = ExperimentRecord & { id: string };

export interface Insight {
  id: string;
  text: string;
}

export interface DocumentOptions {
  /** Best runs kept per dataset (default 3). */
  topRuns?: number;
  /** Worst runs kept per dataset (default 1). */
  bottomRuns?: number;
  /** Models listed under "best configurations" of a dataset (default 3). */
  bestModels?: number;
}

/**
 * Builds the evidence documents of a knowledge base: one per dataset, a bounded number of
 * notable runs per dataset (top, bottom, fastest good one; at most topRuns + bottomRuns + 1,
 * whatever the number of runs), and one per insight. The same input gives the same documents
 * in the same order.
 */
export function buildDocuments(input: {
  profiles: readonly DatasetProfile[];
  records: readonly StoredRecord[];
  insights?: readonly Insight[];
  metric: string;
  options?: DocumentOptions;
}): EvidenceDocument[] {
  const { metric } = input;
  const options = { topRuns: 3, bottomRuns: 1, bestModels: 3, ...input.options };
  checkUniqueIds(input.records, 'records');
  checkUniqueIds(input.insights ?? [], 'insights');

  const profiles = new Map<string, DatasetProfile>();
  for (const p of input.profiles) if (!profiles.has(p.name)) profiles.set(p.name, p);
  const byDataset = new Map<string, StoredRecord[]>();
  for (const r of input.records) {
    const list = byDataset.get(r.dataset) ?? [];
    list.push(r);
    byDataset.set(r.dataset, list);
  }

  const docs: EvidenceDocument[] = [];
  const names = [...new Set([...profiles.keys(), ...byDataset.keys()])].sort();
  for (const name of names) {
    const profile = profiles.get(name);
    const all = byDataset.get(name) ?? [];
    const ranked = rankRuns(all, metric);
    const meta = profile ? profileMeta(profile) : {};
    docs.push(
      datasetDocument(
        name,
        profile,
        meta,
        ranked,
        all.length - ranked.length,
        metric,
        options.bestModels,
      ),
    );
    for (const { run, roles } of notableRuns(ranked, options)) {
      const rank = ranked.indexOf(run) + 1;
      docs.push(runDocument(run, roles, rank, ranked.length, profile, meta, metric));
    }
  }
  for (const insight of input.insights ?? []) {
    docs.push({ id: `insight:${insight.id}`, kind: 'insight', text: insight.text, meta: {} });
  }
  return docs;
}

/** How a profile reads in documents and queries, without the dataset's name. */
export function describeProfile(profile: DatasetProfile): string {
  const p = completeProfile(profile);
  const parts = [
    `${p.task} ${MODALITY_WORDS[p.modality]} image classification`,
    `${p.numInstances} images (${sizeWord(p.numInstances)})`,
    `${p.numClasses} classes`,
  ];
  if (p.imbalanceRatio !== undefined && Number.isFinite(p.imbalanceRatio))
    parts.push(`imbalance ratio ${fmt(p.imbalanceRatio)}`);
  if (p.normalizedEntropy !== undefined)
    parts.push(`normalized class entropy ${fmt(p.normalizedEntropy)}`);
  if (p.resolution)
    parts.push(`median resolution ${p.resolution.medianWidth}x${p.resolution.medianHeight} px`);
  if (p.channels !== undefined) parts.push(CHANNELS[p.channels]);
  return parts.join(', ');
}

const MODALITY_WORDS: Record<Modality, string> = {
  xray: 'X-ray',
  ct: 'CT',
  mri: 'MRI',
  ultrasound: 'ultrasound',
  dermoscopy: 'dermoscopy',
  histopathology: 'histopathology',
  fundus: 'fundus',
  microscopy: 'microscopy',
  oct: 'OCT',
  'blood-smear': 'blood smear',
  natural: 'natural',
  other: 'other',
  unknown: 'unknown-modality',
};

// Words as well as figures, so that text embedders can match prose such as "small grayscale
// datasets" in insights and questions.
const CHANNELS: Record<number, string> = {
  1: 'grayscale (1 channel)',
  2: 'grayscale with alpha (2 channels)',
  3: 'color (3 channels)',
  4: 'color with alpha (4 channels)',
};

function sizeWord(n: number): string {
  return n < 10_000 ? 'small' : n < 100_000 ? 'medium-sized' : 'large';
}

/** Finished runs that report `metric`, best first; ties broken by id so order is stable. */
function rankRuns(runs: readonly StoredRecord[], metric: string): StoredRecord[] {
  const sign = isLowerBetter(metric) ? 1 : -1;
  return runs
    .filter((r) => r.status === 'finished' && Number.isFinite(r.metrics[metric]))
    .sort(
      (a, b) =>
        sign * (a.metrics[metric] - b.metrics[metric]) || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0),
    );
}

function notableRuns(
  ranked: readonly StoredRecord[],
  options: Required<DocumentOptions>,
): { run: StoredRecord; roles: string[] }[] {
  const roles = new Map<StoredRecord, string[]>();
  const mark = (run: StoredRecord, role: string) =>
    roles.set(run, [...(roles.get(run) ?? []), role]);
  ranked
    .slice(0, options.topRuns)
    .forEach((r, i) => mark(r, i === 0 ? 'best run' : `top-${i + 1} run`));
  const bottomStart = Math.max(options.topRuns, ranked.length - options.bottomRuns);
  ranked
    .slice(bottomStart)
    .forEach((r, i, arr) => mark(r, i === arr.length - 1 ? 'worst run' : 'bottom run'));
  // "Good" = within the top quartile; among those, the cheapest to train is worth citing.
  const good = ranked.slice(0, Math.max(1, Math.ceil(ranked.length / 4)));
  let fastest: StoredRecord | undefined;
  for (const r of good) {
    const t = r.cost?.trainingTimeSec;
    if (t !== undefined && (fastest === undefined || t < fastest.cost.trainingTimeSec!))
      fastest = r;
  }
  if (fastest) mark(fastest, 'fastest of the top quartile');
  return ranked.filter((r) => roles.has(r)).map((run) => ({ run, roles: roles.get(run)! }));
}

function datasetDocument(
  name: string,
  profile: DatasetProfile | undefined,
  meta: DocumentMeta,
  ranked: readonly StoredRecord[],
  unfinished: number,
  metric: string,
  bestModels: number,
): EvidenceDocument {
  const sentences = [
    `Dataset ${name}: ${profile ? describeProfile(profile) : 'no profile recorded'}.`,
  ];
  const doc: EvidenceDocument = {
    id: `dataset:${name}`,
    kind: 'dataset',
    dataset: name,
    text: '',
    meta,
  };
  if (ranked.length === 0) {
    sentences.push(`No finished runs report ${metric}.`);
  } else {
    const values = ranked.map((r) => r.metrics[metric]);
    const times = ranked
      .map((r) => r.cost?.trainingTimeSec)
      .filter((t): t is number => t !== undefined)
      .sort((a, b) => a - b);
    const outcome: Outcome = {
      metric,
      best: values[0],
      median: median(values),
      worst: values[values.length - 1],
      runs: ranked.length,
    };
    if (times.length) outcome.trainingTimeSec = median(times);
    doc.outcome = outcome;
    sentences.push(
      `${ranked.length} runs on ${metric}: best ${fmt(outcome.best!)}, median ${fmt(outcome.median!)}, worst ${fmt(outcome.worst!)}` +
        (times.length ? `; typical training time ${fmtTime(outcome.trainingTimeSec!)}` : '') +
        '.',
    );
    const bestPerModel = new Map<string, StoredRecord>();
    for (const r of ranked) if (!bestPerModel.has(r.model)) bestPerModel.set(r.model, r);
    const tops = [...bestPerModel.values()].slice(0, bestModels);
    sentences.push(
      `Best configurations: ${tops.map((r) => `${describeRunConfig(r)} ${fmt(r.metrics[metric])}`).join('; ')}.`,
    );
  }
  if (unfinished > 0) sentences.push(`${unfinished} runs failed, stopped or lack ${metric}.`);
  doc.text = sentences.join(' ');
  return doc;
}

function runDocument(
  run: StoredRecord,
  roles: readonly string[],
  rank: number,
  total: number,
  profile: DatasetProfile | undefined,
  meta: DocumentMeta,
  metric: string,
): EvidenceDocument {
  const value = run.metrics[metric];
  const where = profile ? ` (${MODALITY_WORDS[profile.modality]}, ${profile.task})` : '';
  const aggregated = run.count && run.count > 1 ? `, mean of ${run.count} runs` : '';
  const spread = run.std?.[metric] !== undefined ? ` ± ${fmt(run.std[metric])}` : '';
  const cost: string[] = [];
  if (run.cost?.trainingTimeSec !== undefined)
    cost.push(`training time ${fmtTime(run.cost.trainingTimeSec)}`);
  if (run.cost?.epochs !== undefined) cost.push(`${fmt(run.cost.epochs)} epochs`);
  if (run.cost?.hardware) cost.push(`on ${run.cost.hardware}`);
  const outcome: Outcome = { metric, value, rank };
  if (run.cost?.trainingTimeSec !== undefined) outcome.trainingTimeSec = run.cost.trainingTimeSec;
  return {
    id: `run:${run.id}`,
    kind: 'run',
    dataset: run.dataset,
    text:
      `Run on ${run.dataset}${where}: ${describeRunConfig(run)}; ${metric} ${fmt(value)}${spread}` +
      ` (rank ${rank} of ${total}, ${roles.join(', ')}${aggregated})` +
      (cost.length ? `; ${cost.join(', ')}` : '') +
      '.',
    meta,
    outcome,
    model: run.model,
    config: run.config,
  };
}

function describeRunConfig(r: StoredRecord): string {
  const params = Object.keys(r.config)
    .sort()
    .map(
      (k) =>
        `${k}=${typeof r.config[k] === 'number' ? fmt(r.config[k] as number) : String(r.config[k])}`,
    );
  return params.length ? `${r.model} (${params.join(', ')})` : r.model;
}

function checkUniqueIds(items: readonly { id: string }[], what: string): void {
  const seen = new Set<string>();
  items.forEach((item, i) => {
    if (typeof item.id !== 'string' || item.id.length === 0)
      throw new MetallmixError('an evidence id must be a non-empty string', {
        location: { field: `${what}[${i}].id` },
      });
    if (seen.has(item.id))
      throw new MetallmixError(`duplicate id "${item.id}": evidence ids must be unique`, {
        location: { field: `${what}[${i}].id` },
      });
    seen.add(item.id);
  });
}

function median(sorted: readonly number[]): number {
  const n = sorted.length;
  return n % 2 ? sorted[(n - 1) / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
}

/** Three significant digits, no trailing zeros: 0.962, 5856, 2.37e-5 (learning rates read better so). */
function fmt(x: number): string {
  if (Number.isInteger(x)) return String(x);
  const rounded = Number(x.toPrecision(3));
  return Math.abs(rounded) < 1e-3 ? rounded.toExponential() : String(rounded);
}

function fmtTime(sec: number): string {
  if (sec < 120) return `${fmt(sec)} s`;
  if (sec < 7200) return `${fmt(sec / 60)} min`;
  return `${fmt(sec / 3600)} h`;
}

// Turns (dataset profile, model card, hyperparameters) into a numeric feature row for the
// meta-learner, keeping readable names so SHAP values say "lr", not "f17". Log-scale quantities
// are encoded as log10; categoricals as integer codes (GBDT categorical splits, no one-hot);
// inactive conditional hyperparameters and unknown values are NaN (missing).
import type { Config, DatasetProfile, ModelCard, SearchSpace } from '../core/index.ts';

export interface FeatureSpec {
  /** Display name, unique among features (prefixed with the source on a clash). */
  name: string;
  /** The dataset/model feature or hyperparameter this column reads. */
  key: string;
  source: 'dataset' | 'model' | 'hyperparameter';
  kind: 'numeric' | 'categorical';
  /** Encoded as log10 of the raw value (decode with 10 ** x for display). */
  log: boolean;
  /** Category labels; the code of a label is its index. */
  categories?: string[];
}

export interface EncoderSpec {
  features: FeatureSpec[];
}

export interface EncodedRow {
  profile: DatasetProfile;
  card?: ModelCard;
  model: string;
  config: Config;
}

type Extract = (row: EncodedRow) => number | string | boolean | undefined;

const log = (v: number | undefined) => (v !== undefined && v > 0 ? v : undefined);

/** Meta-features of the dataset; each may be missing in a profile. */
const DATASET_FEATURES: [name: string, kind: 'numeric' | 'categorical', isLog: boolean, Extract][] =
  [
    ['n_instances', 'numeric', true, (r) => log(r.profile.numInstances)],
    ['n_classes', 'numeric', true, (r) => log(r.profile.numClasses)],
    [
      'instances_per_class',
      'numeric',
      true,
      (r) => log(r.profile.numInstances / r.profile.numClasses),
    ],
    [
      'imbalance_ratio',
      'numeric',
      true,
      (r) =>
        Number.isFinite(r.profile.imbalanceRatio) ? log(r.profile.imbalanceRatio) : undefined,
    ],
    ['normalized_entropy', 'numeric', false, (r) => r.profile.normalizedEntropy],
    [
      'image_side',
      'numeric',
      true,
      (r) =>
        r.profile.resolution
          ? log(Math.sqrt(r.profile.resolution.medianWidth * r.profile.resolution.medianHeight))
          : undefined,
    ],
    ['channels', 'numeric', false, (r) => r.profile.channels],
    ['task', 'categorical', false, (r) => r.profile.task],
    ['modality', 'categorical', false, (r) => r.profile.modality],
  ];

/**
 * Every dataset meta-feature of a profile by its encoder name, raw (not log-scaled), whether or
 * not an encoder keeps it: a feature constant over a knowledge base is dropped from the encoder
 * but a new dataset can still lie outside its single value.
 */
export function datasetFeatureValues(profile: DatasetProfile): Map<string, number | string> {
  const row: EncodedRow = { profile, model: '', config: {} };
  const out = new Map<string, number | string>();
  for (const [name, , , get] of DATASET_FEATURES) {
    const v = get(row);
    if (typeof v === 'number' || typeof v === 'string') out.set(name, v);
  }
  return out;
}

const MODEL_FEATURES: [name: string, kind: 'numeric' | 'categorical', isLog: boolean, Extract][] = [
  ['model', 'categorical', false, (r) => r.model],
  ['model_family', 'categorical', false, (r) => r.card?.family],
  ['model_architecture', 'categorical', false, (r) => r.card?.architecture],
  ['model_params', 'numeric', true, (r) => log(r.card?.params)],
  ['model_input_resolution', 'numeric', false, (r) => r.card?.inputResolution],
];

/**
 * Builds the encoder from the training rows: category vocabularies are those seen in training,
 * so codes stay stable for a saved model; a feature that never varies is dropped.
 */
export function fitEncoder(rows: readonly EncodedRow[], space: SearchSpace): EncoderSpec {
  const features: FeatureSpec[] = [];
  const taken = new Set<string>();
  const consider = (
    name: string,
    source: FeatureSpec['source'],
    kind: FeatureSpec['kind'],
    isLog: boolean,
    get: Extract,
  ) => {
    const values = rows.map(get).filter((v) => v !== undefined);
    if (values.length === 0) return;
    const distinct = new Set(values.map(String));
    if (distinct.size < 2) return;
    const unique = taken.has(name) ? `${source}_${name}` : name;
    taken.add(unique);
    const base = { name: unique, key: name, source, kind };
    features.push(
      kind === 'categorical'
        ? { ...base, log: false, categories: [...distinct].sort() }
        : { ...base, log: isLog },
    );
  };
  for (const [name, kind, isLog, get] of DATASET_FEATURES)
    consider(name, 'dataset', kind, isLog, get);
  for (const [name, kind, isLog, get] of MODEL_FEATURES) consider(name, 'model', kind, isLog, get);
  for (const p of space.parameters) {
    const kind = p.type === 'categorical' ? 'categorical' : 'numeric';
    const isLog = (p.type === 'float' || p.type === 'int') && p.log;
    consider(p.name, 'hyperparameter', kind, isLog, (r) => r.config[p.name]);
  }
  return { features };
}

function extractorFor(spec: FeatureSpec): Extract {
  if (spec.source === 'hyperparameter') return (r) => r.config[spec.key];
  const entry = (spec.source === 'dataset' ? DATASET_FEATURES : MODEL_FEATURES).find(
    (t) => t[0] === spec.key,
  );
  if (!entry) throw new Error(`unknown ${spec.source} feature ${spec.key}`);
  return entry[3];
}

/** Encodes a single value of a feature as a number (NaN = missing or unknown category). */
function encodeValue(spec: FeatureSpec, raw: number | string | boolean | undefined): number {
  if (raw === undefined) return Number.NaN;
  if (spec.kind === 'categorical') {
    const code = spec.categories!.indexOf(String(raw));
    return code >= 0 ? code : Number.NaN;
  }
  const num =
    typeof raw === 'boolean' ? (raw ? 1 : 0) : typeof raw === 'number' ? raw : Number(raw);
  if (!Number.isFinite(num)) return Number.NaN;
  if (spec.log) return num > 0 ? Math.log10(num) : Number.NaN;
  return num;
}

/** Row-major feature matrix for `rows`. */
export function encodeRows(spec: EncoderSpec, rows: readonly EncodedRow[]): Float64Array {
  const f = spec.features.length;
  const X = new Float64Array(rows.length * f);
  const extractors = spec.features.map(extractorFor);
  for (let i = 0; i < rows.length; i++) {
    for (let j = 0; j < f; j++)
      X[i * f + j] = encodeValue(spec.features[j], extractors[j](rows[i]));
  }
  return X;
}

/** Human-readable value of an encoded feature (inverse of encodeValue). */
export function decodeValue(spec: FeatureSpec, x: number): number | string | null {
  if (Number.isNaN(x)) return null;
  if (spec.kind === 'categorical') return spec.categories![x] ?? null;
  return spec.log ? 10 ** x : x;
}

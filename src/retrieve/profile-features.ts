import {
  MODALITIES,
  TASKS,
  completeProfile,
  type DatasetProfile,
  type Modality,
  type Task,
} from '../core/index.ts';

/**
 * The numeric meta-features retrieval compares datasets on, on scales where a unit step means
 * about the same everywhere (logs for counts and sizes). Null when the profile does not state it.
 */
export interface ProfileFeatures {
  logInstances: number;
  logClasses: number;
  logImbalance: number | null;
  normalizedEntropy: number | null;
  logResolution: number | null;
  channels: number | null;
}

export const PROFILE_FEATURE_NAMES = [
  'logInstances',
  'logClasses',
  'logImbalance',
  'normalizedEntropy',
  'logResolution',
  'channels',
] as const satisfies readonly (keyof ProfileFeatures)[];

/** What filters and the meta-feature part of an embedding read from a document or query. */
export interface DocumentMeta {
  task?: Task;
  modality?: Modality;
  features?: ProfileFeatures;
}

export function profileFeatures(stated: DatasetProfile): ProfileFeatures {
  const profile = completeProfile(stated);
  const r = profile.resolution;
  return {
    logInstances: Math.log10(profile.numInstances),
    logClasses: Math.log2(Math.max(1, profile.numClasses)),
    logImbalance:
      profile.imbalanceRatio !== undefined && Number.isFinite(profile.imbalanceRatio)
        ? Math.log2(profile.imbalanceRatio)
        : null,
    normalizedEntropy: profile.normalizedEntropy ?? null,
    // Geometric mean of the median sides: one number for "how many pixels a side".
    logResolution: r ? Math.log2(Math.sqrt(r.medianWidth * r.medianHeight)) : null,
    channels: profile.channels ?? null,
  };
}

export function profileMeta(profile: DatasetProfile): DocumentMeta {
  return { task: profile.task, modality: profile.modality, features: profileFeatures(profile) };
}

/** Mean and standard deviation of each meta-feature over the knowledge base's datasets. */
export interface FeatureScaling {
  mean: number[];
  std: number[];
}

/**
 * Fits standardization on the knowledge base's profiles, ignoring missing values. A feature that
 * does not vary (or is never stated) gets std 1 so it contributes nothing rather than NaN.
 */
export function fitFeatureScaling(features: readonly ProfileFeatures[]): FeatureScaling {
  const mean: number[] = [];
  const std: number[] = [];
  for (const name of PROFILE_FEATURE_NAMES) {
    const values = features.map((f) => f[name]).filter((v): v is number => v !== null);
    const m = values.length ? values.reduce((s, v) => s + v, 0) / values.length : 0;
    const variance = values.length
      ? values.reduce((s, v) => s + (v - m) ** 2, 0) / values.length
      : 0;
    mean.push(m);
    std.push(variance > 1e-12 ? Math.sqrt(variance) : 1);
  }
  return { mean, std };
}

/** Length of the meta-feature part: z-scores, one-hot task, one-hot modality, constant. */
export const META_PART_DIM = PROFILE_FEATURE_NAMES.length + TASKS.length + MODALITIES.length + 1;

/**
 * Writes the meta-feature part of an embedding into `out` at `offset` (unnormalized). Missing
 * features are imputed with the mean (z = 0). The trailing constant makes cosine behave like a
 * distance near the centre too: two average datasets point the same way instead of anywhere.
 * Returns false when the meta has no features (e.g. an insight), leaving `out` untouched.
 */
export function writeMetaPart(
  meta: DocumentMeta | undefined,
  scaling: FeatureScaling,
  out: Float32Array,
  offset: number,
): boolean {
  if (!meta?.features && !meta?.task && !meta?.modality) return false;
  let i = offset;
  PROFILE_FEATURE_NAMES.forEach((name, j) => {
    const v = meta.features?.[name] ?? null;
    out[i++] = v === null ? 0 : (v - scaling.mean[j]) / scaling.std[j];
  });
  for (const t of TASKS) out[i++] = meta.task === t ? 1 : 0;
  for (const m of MODALITIES) out[i++] = meta.modality === m ? 1 : 0;
  out[i] = 1;
  return true;
}

/**
 * Euclidean distance between two datasets on standardized meta-features (features one of them
 * does not state are skipped), plus 1 for a different task and 1 for a different modality.
 */
export function profileDistance(
  a: DatasetProfile,
  b: DatasetProfile,
  scaling: FeatureScaling,
): number {
  const fa = profileFeatures(a);
  const fb = profileFeatures(b);
  let d = 0;
  PROFILE_FEATURE_NAMES.forEach((name, j) => {
    const va = fa[name];
    const vb = fb[name];
    if (va !== null && vb !== null) d += ((va - vb) / scaling.std[j]) ** 2;
  });
  if (a.task !== b.task) d += 1;
  if (a.modality !== b.modality) d += 1;
  return Math.sqrt(d);
}

import type { DatasetProfile } from '../core/index.ts';
import { l2normalize, type Embedder } from './embedder.ts';
import {
  META_PART_DIM,
  fitFeatureScaling,
  profileFeatures,
  writeMetaPart,
  type DocumentMeta,
  type FeatureScaling,
} from './profile-features.ts';
import { fitBucketIdf, hash32, writeTextPart } from './text-hashing.ts';

export interface DefaultEmbedderOptions {
  /** Buckets of the hashed TF-IDF part (default 512). */
  textDim?: number;
  /** Weight of the unit meta-feature part (default 0.8). */
  metaWeight?: number;
  /** Weight of the unit text part (default 0.6); 0.8² + 0.6² = 1 keeps full vectors unit. */
  textWeight?: number;
}

/**
 * The dependency-free embedder: standardized meta-features of the dataset a document speaks
 * about, concatenated with hashed TF-IDF of its text. Two documents about similar datasets score
 * high even when worded differently; insights (no dataset) are compared on their text alone.
 */
export class MetaTextEmbedder implements Embedder {
  readonly id: string;
  readonly dim: number;

  private constructor(
    private readonly scaling: FeatureScaling,
    private readonly idf: Float32Array,
    private readonly metaWeight: number,
    private readonly textWeight: number,
  ) {
    this.dim = META_PART_DIM + idf.length;
    const state = JSON.stringify([scaling, Array.from(idf, (x) => x.toFixed(5))]);
    const fingerprint = hash32(state).toString(16).padStart(8, '0');
    this.id = `metatext-v1/t${idf.length}/w${metaWeight}:${textWeight}/${fingerprint}`;
  }

  /**
   * Fits standardization on the knowledge base's profiles and the IDF on its document texts.
   * Both come from the knowledge base, so the id changes exactly when retrieval would.
   */
  static fit(
    input: { profiles: readonly DatasetProfile[]; texts: readonly string[] },
    options: DefaultEmbedderOptions = {},
  ): MetaTextEmbedder {
    const textDim = options.textDim ?? 512;
    if (!Number.isInteger(textDim) || textDim < 1)
      throw new RangeError(`textDim must be a positive integer, got ${textDim}`);
    return new MetaTextEmbedder(
      fitFeatureScaling(input.profiles.map(profileFeatures)),
      fitBucketIdf(input.texts, textDim),
      options.metaWeight ?? 0.8,
      options.textWeight ?? 0.6,
    );
  }

  async embed(
    texts: readonly string[],
    items?: readonly (DocumentMeta | undefined)[],
  ): Promise<Float32Array[]> {
    return texts.map((text, i) => this.embedOne(text, items?.[i]));
  }

  private embedOne(text: string, meta: DocumentMeta | undefined): Float32Array {
    const v = new Float32Array(this.dim);
    if (writeMetaPart(meta, this.scaling, v, 0)) scalePart(v, 0, META_PART_DIM, this.metaWeight);
    if (writeTextPart(text, this.idf, v, META_PART_DIM))
      scalePart(v, META_PART_DIM, this.dim, this.textWeight);
    return l2normalize(v);
  }
}

/** Scales v[from, to) to length `weight`. */
function scalePart(v: Float32Array, from: number, to: number, weight: number): void {
  let sum = 0;
  for (let i = from; i < to; i++) sum += v[i] * v[i];
  if (sum === 0) return;
  const f = weight / Math.sqrt(sum);
  for (let i = from; i < to; i++) v[i] *= f;
}

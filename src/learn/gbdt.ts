// Histogram-based gradient boosting with second-order gradients, as XGBoost's `hist` tree
// method with depth-wise growth: features are quantized once, each node's gradient histogram
// is built over its rows (the smaller child only; the larger one is parent minus smaller), and
// rows live in one index array partitioned in place, so the hot loops touch typed arrays only.

import { Rng } from '../core/rng.ts';
import { MetallmixError } from '../core/errors.ts';
import type { Matrix } from './matrix.ts';
import { resolveParams, type GBDTParams } from './params.ts';
import { NODES_PER_BATCH, RowStore, segmentGroups, type Segments } from './row-store.ts';
import { CHUNK_ROWS, RECORD_HEADER, TASK } from './kernels.ts';
import { SplitFinder, nodeWeight, type Split } from './split.ts';
import {
  METRIC_NAME,
  computeGradients,
  groupsFromIds,
  metricValue,
  validationLoss,
} from './objective.ts';
import { addTreeToMargin, toFloat32 } from './predict.ts';
import { baseMargin, type FeatureType, type Tree, type TreeEnsemble } from './tree-model.ts';

export type { GBDTParams };

export interface TrainingData {
  X: Matrix;
  y: Float64Array;
  featureNames?: string[];
  featureTypes?: FeatureType[];
  /** Query group id of each row (rank:pairwise ranks rows within a group). */
  groups?: ArrayLike<number>;
  /** Row weights (regression and classification). */
  weights?: Float64Array;
}

export interface ValidationData {
  X: Matrix;
  y: Float64Array;
  groups?: ArrayLike<number>;
}

export interface ValidationScore {
  metric: string;
  value: number;
}

export interface TrainOptions {
  /** Watched after every round; with `early_stopping_rounds` the model keeps its best round. */
  valid?: ValidationData;
  /** After each round, with the validation metric (rmse, logloss or ndcg) when watched. */
  onRound?: (round: number, valid: ValidationScore | undefined) => void;
}

/** Trains a tree ensemble with XGBoost-named parameters (see params.ts for defaults). */
export function trainGBDT(
  data: TrainingData,
  params: Record<string, unknown> = {},
  options: TrainOptions = {},
): TreeEnsemble {
  const p = resolveParams(params);
  const { X, y } = data;
  const n = X.numRows;
  const F = X.numFeatures;
  if (y.length !== n) throw new MetallmixError(`${y.length} targets for ${n} rows`);
  if (n === 0) throw new MetallmixError('no training rows');
  const featureNames = data.featureNames ?? Array.from({ length: F }, (_, i) => `f${i}`);
  const featureTypes = data.featureTypes ?? featureNames.map((): FeatureType => 'q');
  if (featureNames.length !== F || featureTypes.length !== F)
    throw new MetallmixError(`feature names/types do not match the ${F} columns`);
  checkTargets(p, y, data.groups);
  if (p.early_stopping_rounds !== undefined && !options.valid)
    throw new MetallmixError('early_stopping_rounds needs a validation set', {
      location: { field: 'early_stopping_rounds' },
    });
  if (options.valid) {
    if (options.valid.X.numFeatures !== F)
      throw new MetallmixError(
        `validation data has ${options.valid.X.numFeatures} features, training data ${F}`,
      );
    checkTargets(p, options.valid.y, undefined, 'validation ');
  }
  const groups = p.objective === 'rank:pairwise' ? groupsFromIds(data.groups!) : undefined;
  const validGroups =
    options.valid && p.objective === 'rank:pairwise'
      ? groupsFromIds(options.valid.groups ?? new Int32Array(options.valid.y.length))
      : undefined;

  const store = new RowStore(X, featureTypes, featureNames, p.max_bin, p.nthread);
  const grower = new TreeGrower(store, p);
  const model: TreeEnsemble = {
    objective: p.objective,
    baseScore: p.base_score,
    featureNames,
    featureTypes,
    trees: [],
  };
  const base = Math.fround(baseMargin(model));
  store.margin().fill(base);
  const validMargin = options.valid
    ? new Float64Array(options.valid.X.numRows).fill(base)
    : undefined;
  const validX32 = options.valid ? toFloat32(options.valid.X) : undefined;
  const rng = new Rng(p.seed);
  const pairRng = rng.fork('pairs');
  const sampleRng = rng.fork('subsample');
  const columnRng = rng.fork('colsample');
  const allFeatures = Int32Array.from({ length: F }, (_, i) => i);
  let bestLoss = Infinity;
  let bestRound = -1;

  try {
    for (let round = 0; round < p.n_estimators; round++) {
      // Views into the store's memory, which may have grown (and moved) during the last tree.
      const [margin, grad, hess] = [store.margin(), store.grad(), store.hess()];
      computeGradients(p.objective, margin, y, data.weights, groups, pairRng, grad, hess);
      const features =
        p.colsample_bytree < 1
          ? Int32Array.from(
              columnRng
                .shuffle(Array.from(allFeatures))
                .slice(0, Math.max(1, Math.floor(p.colsample_bytree * F)))
                .sort((a, b) => a - b),
            )
          : allFeatures;
      const tree = grower.grow(features, p.subsample < 1 ? sampleRng : undefined);
      model.trees.push(tree);
      let loss: number | undefined;
      if (options.valid && validMargin) {
        addTreeToMargin(tree, validX32!, F, validMargin);
        loss = validationLoss(p.objective, validMargin, options.valid.y, validGroups);
        if (loss < bestLoss) {
          bestLoss = loss;
          bestRound = round;
        }
      }
      options.onRound?.(
        round,
        loss === undefined
          ? undefined
          : { metric: METRIC_NAME[p.objective], value: metricValue(p.objective, loss) },
      );
      if (
        p.early_stopping_rounds !== undefined &&
        bestRound >= 0 &&
        round - bestRound >= p.early_stopping_rounds
      )
        break;
    }
  } finally {
    store.close();
  }
  if (p.early_stopping_rounds !== undefined && bestRound >= 0) model.trees.length = bestRound + 1;
  return model;
}

function checkTargets(
  p: GBDTParams,
  y: Float64Array,
  groups: ArrayLike<number> | undefined,
  which = '',
): void {
  for (let i = 0; i < y.length; i++) {
    if (!Number.isFinite(y[i]))
      throw new MetallmixError(`${which}target of row ${i + 1} is missing or not finite`);
    if (p.objective === 'binary:logistic' && !(y[i] >= 0 && y[i] <= 1))
      throw new MetallmixError(
        `binary:logistic needs ${which}targets in [0, 1]; row ${i + 1} has ${y[i]}`,
      );
  }
  if (which === '' && p.objective === 'rank:pairwise' && (!groups || groups.length !== y.length))
    throw new MetallmixError('rank:pairwise needs a query group id for every row');
}

interface OpenNode {
  id: number;
  /** The node's rows: record index ranges, one per chunk at most (see kernels.ts). */
  segs: Segments;
  rows: number;
  G: number;
  H: number;
  /** Address of the node's histogram in the store, while it has one. */
  hist: number;
}

/** A split being applied: the node, its children's ids and its partition's result slots. */
interface Applied {
  node: OpenNode;
  split: Split;
  leftId: number;
  rightId: number;
  firstResult: number;
}

/** Grows one tree depth-wise over the store's records, a level at a time. */
class TreeGrower {
  private readonly finder: SplitFinder;
  // node fields of the tree being grown
  private left: number[] = [];
  private right: number[] = [];
  private feature: number[] = [];
  private threshold: number[] = [];
  private defaultLeft: number[] = [];
  private value: number[] = [];
  private cover: number[] = [];
  private gain: number[] = [];
  private categories = new Map<number, Set<number>>();
  /** Per internal node: code -> 1 when the row goes right (for rows outside the sample). */
  private tables = new Map<number, Uint8Array>();

  constructor(
    private readonly store: RowStore,
    private readonly p: GBDTParams,
  ) {
    this.finder = new SplitFinder(store.cuts, p);
  }

  grow(features: Int32Array, sampler: Rng | undefined): Tree {
    const { store } = this;
    const n = store.numRows;
    this.left = [];
    this.right = [];
    this.feature = [];
    this.threshold = [];
    this.defaultLeft = [];
    this.value = [];
    this.cover = [];
    this.gain = [];
    this.categories = new Map();
    this.tables = new Map();
    const grad = store.grad();
    const hess = store.hess();
    let G = 0;
    let H = 0;
    const chunks: number[] = [];
    for (let b = 0; b < n; b += CHUNK_ROWS) chunks.push(b, Math.min(n, b + CHUNK_ROWS));
    let segs: Segments = Int32Array.from(chunks);
    let outside: Segments | undefined;
    if (sampler) {
      // Drawn in row order, so a seed picks the same rows whatever order the records are in.
      const flags = store.sampleFlags();
      for (let r = 0; r < n; r++) {
        const inSample = sampler.next() < this.p.subsample;
        flags[r] = inSample ? 1 : 0;
        if (!inSample) continue;
        G += grad[r];
        H += hess[r];
      }
      const first = this.pushOverGroups(segs, TASK.partitionSample, [store.flagsPtr], true);
      store.run();
      [segs, outside] = this.splitSegments(segs, first);
      store.resetResults();
    } else
      for (let r = 0; r < n; r++) {
        G += grad[r];
        H += hess[r];
      }
    this.pushOverGroups(segs, TASK.gather, [store.gradPtr, store.hessPtr]);
    store.run();
    const root: OpenNode = { id: this.newNode(G, H), segs, rows: count(segs), G, H, hist: -1 };
    root.hist = store.takeHist();
    const parts = this.pushHist(root.hist, segs, store.partials);
    store.run();
    store.push(TASK.finish, [root.hist, store.partials, parts, 0]);
    store.run();
    let level = [root];
    for (let depth = 0; level.length > 0; depth++) {
      const next: OpenNode[] = [];
      for (let g = 0; g < level.length; g += NODES_PER_BATCH)
        next.push(...this.growNodes(level.slice(g, g + NODES_PER_BATCH), depth, features));
      level = next;
    }
    if (outside) this.routeOutOfSample(outside);
    return {
      left: Int32Array.from(this.left),
      right: Int32Array.from(this.right),
      feature: Int32Array.from(this.feature),
      threshold: Float32Array.from(this.threshold),
      defaultLeft: Uint8Array.from(this.defaultLeft),
      value: Float32Array.from(this.value),
      cover: Float32Array.from(this.cover),
      gain: Float32Array.from(this.gain),
      categories: this.categories,
    };
  }

  /**
   * Queues one task of `type` per group of segments, with `args` after the list; partitions
   * also get result slots (one per segment), and the first slot is returned.
   */
  private pushOverGroups(
    segs: Segments,
    type: number,
    args: number[],
    withResults = false,
    floats: number[] = [],
  ): number {
    const { store } = this;
    const first = withResults ? store.resultSlots(segs.length / 2) : 0;
    for (const [from, to] of segmentGroups(segs)) {
      const list = [store.list(segs, from, to), to - from];
      const extra = withResults ? [store.resultAddr(first + from)] : [];
      store.push(type, [...list, ...args, ...extra], floats);
    }
    return first;
  }

  /** Queues a histogram over segs: the first group into `hist`, the others into partials. */
  private pushHist(hist: number, segs: Segments, partials: number): number {
    const { store } = this;
    const groups = segmentGroups(segs);
    groups.forEach(([from, to], g) =>
      store.push(TASK.hist, [
        g === 0 ? hist : partials + (g - 1) * store.histBytes,
        store.list(segs, from, to),
        to - from,
      ]),
    );
    return groups.length - 1;
  }

  /** Each segment cut where its partition result says: the left parts and the right parts. */
  private splitSegments(segs: Segments, firstResult: number): [Segments, Segments] {
    const left: number[] = [];
    const right: number[] = [];
    for (let i = 0; i < segs.length / 2; i++) {
      const b = segs[2 * i];
      const e = segs[2 * i + 1];
      const mid = this.store.resultRecord(firstResult + i);
      if (mid > b) left.push(b, mid);
      if (e > mid) right.push(mid, e);
    }
    return [Int32Array.from(left), Int32Array.from(right)];
  }

  /**
   * Splits the nodes of one level (at most NODES_PER_BATCH): finds each split, applies them all
   * (margins for leaves, partitions otherwise), then builds the children's histograms; returns
   * the children that may split further.
   */
  private growNodes(nodes: OpenNode[], depth: number, features: Int32Array): OpenNode[] {
    const { store } = this;
    const childrenAreLeaves = depth + 1 >= this.p.max_depth;
    const codeBytes = store.layout.codeBytes;
    const applied: Applied[] = [];
    nodes.forEach((node, slot) => {
      const split = this.finder.find(store.histView(node.hist), node.G, node.H, features);
      if (!split || childrenAreLeaves) store.releaseHist(node.hist);
      if (!split) {
        const leaf = this.leafValue(node.id);
        this.pushOverGroups(node.segs, TASK.leafMargin, [store.marginPtr], false, [leaf]);
        return;
      }
      const { leftId, rightId, goesRight } = this.recordSplit(node, split);
      const table = store.table(goesRight, slot);
      const key = RECORD_HEADER + split.feature * codeBytes;
      if (childrenAreLeaves) {
        const values = [this.leafValue(leftId), this.leafValue(rightId)];
        const args = [store.marginPtr, 0, 0, key, table];
        this.pushOverGroups(node.segs, TASK.splitMargin, args, false, values);
        return;
      }
      const firstResult = this.pushOverGroups(node.segs, TASK.partition, [key, table], true);
      applied.push({ node, split, leftId, rightId, firstResult });
    });
    store.run();

    const children: OpenNode[] = [];
    const finishing: number[][] = [];
    let partials = store.partials;
    for (const { node, split, leftId, rightId, firstResult } of applied) {
      const [ls, rs] = this.splitSegments(node.segs, firstResult);
      const l = this.child(leftId, ls, split.leftGrad, split.leftHess);
      const r = this.child(rightId, rs, node.G - split.leftGrad, node.H - split.leftHess);
      // The larger child's histogram is the parent's minus the smaller one's.
      const [small, large] = l.rows <= r.rows ? [l, r] : [r, l];
      small.hist = store.takeHist();
      const parts = this.pushHist(small.hist, small.segs, partials);
      finishing.push([small.hist, partials, parts, node.hist]);
      partials += parts * store.histBytes;
      large.hist = node.hist;
      children.push(l, r);
    }
    store.resetResults();
    store.run();
    for (const args of finishing) store.push(TASK.finish, args);
    store.run();
    return children;
  }

  private child(id: number, segs: Segments, G: number, H: number): OpenNode {
    return { id, segs, rows: count(segs), G, H, hist: -1 };
  }

  private newNode(G: number, H: number): number {
    const id = this.left.length;
    this.left.push(-1);
    this.right.push(-1);
    this.feature.push(0);
    this.threshold.push(0);
    this.defaultLeft.push(0);
    this.value.push(nodeWeight(this.p, G, H));
    this.cover.push(H);
    this.gain.push(0);
    return id;
  }

  /** Turns node `id` into a leaf: its weight times eta, in float32. */
  private leafValue(id: number): number {
    const leaf = Math.fround(this.value[id] * this.p.eta);
    this.value[id] = leaf;
    return leaf;
  }

  /** Records the split in the tree; returns the children and the code -> goes-right table. */
  private recordSplit(
    node: OpenNode,
    s: Split,
  ): { leftId: number; rightId: number; goesRight: Uint8Array } {
    const { cuts } = this.store;
    const f = s.feature;
    const nb = cuts.numBins[f];
    const cats = s.rightCategories;
    const goesRight = new Uint8Array(nb + 1);
    goesRight[nb] = s.defaultLeft ? 0 : 1;
    if (cats) for (const c of cats) goesRight[c] = 1;
    else for (let b = s.bin + 1; b < nb; b++) goesRight[b] = 1;
    const id = node.id;
    const leftId = this.newNode(s.leftGrad, s.leftHess);
    const rightId = this.newNode(node.G - s.leftGrad, node.H - s.leftHess);
    this.left[id] = leftId;
    this.right[id] = rightId;
    this.feature[id] = f;
    this.defaultLeft[id] = s.defaultLeft ? 1 : 0;
    this.gain[id] = s.gain;
    this.tables.set(id, goesRight);
    if (cats) this.categories.set(id, new Set(cats));
    else this.threshold[id] = s.bin >= 0 ? cuts.cut[cuts.offset[f] + s.bin] : cuts.minValue[f];
    return { leftId, rightId, goesRight };
  }

  /** Rows outside the sample got no leaf during growth: route their codes through the tree. */
  private routeOutOfSample(outside: Segments): void {
    const { store } = this;
    const margin = store.margin();
    const bytes = store.bytes();
    const ids = new Int32Array(bytes.buffer, bytes.byteOffset, bytes.length / 4);
    const { stride } = store;
    const two = store.layout.codeBytes === 2;
    for (let s = 0; s < outside.length; s += 2)
      for (let i = outside[s]; i < outside[s + 1]; i++) {
        let node = 0;
        while (this.left[node] !== -1) {
          const at = i * stride + RECORD_HEADER + this.feature[node] * (two ? 2 : 1);
          const code = two ? bytes[at] | (bytes[at + 1] << 8) : bytes[at];
          node = this.tables.get(node)![code] ? this.right[node] : this.left[node];
        }
        const r = ids[(i * stride) / 4 + 2];
        margin[r] = Math.fround(margin[r] + this.value[node]);
      }
  }
}

/** Rows in a list of segments. */
function count(segs: Segments): number {
  let rows = 0;
  for (let i = 0; i < segs.length; i += 2) rows += segs[i + 1] - segs[i];
  return rows;
}

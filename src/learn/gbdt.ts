// Histogram-based gradient boosting with second-order gradients, as XGBoost's `hist` tree
// method with depth-wise growth: features are quantized once, each node's gradient histogram
// is built over its rows (the smaller child only; the larger one is parent minus smaller), and
// rows live in one index array partitioned in place, so the hot loops touch typed arrays only.

import { Rng } from '../core/rng.ts';
import { MetallmixError } from '../core/errors.ts';
import type { Matrix } from './matrix.ts';
import { resolveParams, type GBDTParams } from './params.ts';
import { binColumns, binMatrix, computeCuts, type Cuts } from './quantize.ts';
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

  const cuts = computeCuts(X, featureTypes, featureNames, p.max_bin);
  const bins = binMatrix(X, cuts);
  const grower = new TreeGrower(bins, binColumns(bins, n, cuts), n, F, cuts, p);
  const model: TreeEnsemble = {
    objective: p.objective,
    baseScore: p.base_score,
    featureNames,
    featureTypes,
    trees: [],
  };
  const base = Math.fround(baseMargin(model));
  const margin = new Float64Array(n).fill(base);
  const validMargin = options.valid
    ? new Float64Array(options.valid.X.numRows).fill(base)
    : undefined;
  const x32 = p.subsample < 1 ? toFloat32(X) : new Float32Array(0);
  const validX32 = options.valid ? toFloat32(options.valid.X) : undefined;
  const grad = new Float32Array(n);
  const hess = new Float32Array(n);
  const rng = new Rng(p.seed);
  const pairRng = rng.fork('pairs');
  const sampleRng = rng.fork('subsample');
  const columnRng = rng.fork('colsample');
  const allFeatures = Int32Array.from({ length: F }, (_, i) => i);
  let bestLoss = Infinity;
  let bestRound = -1;

  for (let round = 0; round < p.n_estimators; round++) {
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
    const tree = grower.grow(grad, hess, features, p.subsample < 1 ? sampleRng : undefined, margin);
    model.trees.push(tree);
    // Rows outside the sample got no leaf during growth; route them through the tree.
    if (p.subsample < 1) addTreeToMargin(tree, x32, F, margin, grower.inSample);
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
  begin: number;
  end: number;
  G: number;
  H: number;
  hist: Float64Array | undefined;
}

/** Grows one tree depth-wise over quantized rows. */
class TreeGrower {
  private readonly rows: Int32Array;
  private readonly scratch: Int32Array;
  private readonly finder: SplitFinder;
  private readonly pool: Float64Array[] = [];
  /** 1 for rows in the current tree's sample. */
  readonly inSample: Uint8Array;
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
  private grad: Float32Array = new Float32Array(0);
  private hess: Float32Array = new Float32Array(0);

  constructor(
    private readonly bins: Uint16Array,
    private readonly columns: Uint16Array,
    private readonly n: number,
    private readonly F: number,
    private readonly cuts: Cuts,
    private readonly p: GBDTParams,
  ) {
    this.rows = new Int32Array(n);
    this.scratch = new Int32Array(n);
    this.finder = new SplitFinder(cuts, p);
    this.inSample = new Uint8Array(n);
  }

  grow(
    grad: Float32Array,
    hess: Float32Array,
    features: Int32Array,
    sampler: Rng | undefined,
    margin: Float64Array,
  ): Tree {
    this.grad = grad;
    this.hess = hess;
    this.left = [];
    this.right = [];
    this.feature = [];
    this.threshold = [];
    this.defaultLeft = [];
    this.value = [];
    this.cover = [];
    this.gain = [];
    this.categories = new Map();
    let count = 0;
    let G = 0;
    let H = 0;
    for (let r = 0; r < this.n; r++) {
      const inSample = sampler === undefined || sampler.next() < this.p.subsample;
      this.inSample[r] = inSample ? 1 : 0;
      if (!inSample) continue;
      this.rows[count++] = r;
      G += grad[r];
      H += hess[r];
    }
    const root: OpenNode = { id: this.newNode(G, H), begin: 0, end: count, G, H, hist: undefined };
    if (this.p.max_depth > 0) {
      root.hist = this.takeHist();
      this.buildHist(root.hist, root.begin, root.end);
    }
    let level = [root];
    for (let depth = 0; level.length > 0; depth++) {
      const next: OpenNode[] = [];
      const childrenNeedHist = depth + 1 < this.p.max_depth;
      for (const node of level) {
        const split =
          depth < this.p.max_depth
            ? this.finder.find(node.hist!, node.G, node.H, features)
            : undefined;
        if (!split) {
          this.makeLeaf(node, margin);
          continue;
        }
        const [l, r] = this.applySplit(node, split);
        if (childrenNeedHist) {
          const [small, large] = l.end - l.begin <= r.end - r.begin ? [l, r] : [r, l];
          small.hist = this.takeHist();
          this.buildHist(small.hist, small.begin, small.end);
          const parent = node.hist!;
          for (let i = 0; i < parent.length; i++) parent[i] -= small.hist[i];
          large.hist = parent;
        } else this.pool.push(node.hist!);
        node.hist = undefined;
        next.push(l, r);
      }
      level = next;
    }
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

  private makeLeaf(node: OpenNode, margin: Float64Array): void {
    const leaf = Math.fround(this.value[node.id] * this.p.eta);
    this.value[node.id] = leaf;
    for (let i = node.begin; i < node.end; i++) {
      const r = this.rows[i];
      margin[r] = Math.fround(margin[r] + leaf);
    }
    if (node.hist) this.pool.push(node.hist);
    node.hist = undefined;
  }

  /** Records the split and partitions the node's rows: left ones first, stably. */
  private applySplit(node: OpenNode, s: Split): [OpenNode, OpenNode] {
    const { rows, scratch, n } = this;
    const f = s.feature;
    const begin = this.cuts.offset[f];
    const nb = this.cuts.numBins[f];
    const cats = s.rightCategories;
    const goesRight = new Uint8Array(nb + 1);
    goesRight[nb] = s.defaultLeft ? 0 : 1;
    if (cats) for (const c of cats) goesRight[c] = 1;
    else for (let b = s.bin + 1; b < nb; b++) goesRight[b] = 1;
    let nl = node.begin;
    let nr = 0;
    const column = this.columns.subarray(f * n, (f + 1) * n);
    for (let i = node.begin; i < node.end; i++) {
      const r = rows[i];
      if (goesRight[column[r]]) scratch[nr++] = r;
      else rows[nl++] = r;
    }
    rows.set(scratch.subarray(0, nr), nl);

    const id = node.id;
    const leftId = this.newNode(s.leftGrad, s.leftHess);
    const rightId = this.newNode(node.G - s.leftGrad, node.H - s.leftHess);
    this.left[id] = leftId;
    this.right[id] = rightId;
    this.feature[id] = f;
    this.defaultLeft[id] = s.defaultLeft ? 1 : 0;
    this.gain[id] = s.gain;
    if (cats) this.categories.set(id, new Set(cats));
    else this.threshold[id] = s.bin >= 0 ? this.cuts.cut[begin + s.bin] : this.cuts.minValue[f];
    return [
      { id: leftId, begin: node.begin, end: nl, G: s.leftGrad, H: s.leftHess, hist: undefined },
      {
        id: rightId,
        begin: nl,
        end: node.end,
        G: node.G - s.leftGrad,
        H: node.H - s.leftHess,
        hist: undefined,
      },
    ];
  }

  private takeHist(): Float64Array {
    return this.pool.pop() ?? new Float64Array(2 * this.cuts.totalSlots);
  }

  private buildHist(hist: Float64Array, begin: number, end: number): void {
    hist.fill(0);
    const { rows, bins, grad, hess, F } = this;
    for (let i = begin; i < end; i++) {
      const r = rows[i];
      const g = grad[r];
      const h = hess[r];
      const off = r * F;
      // Unrolled by four: the loads of one row's slots are independent.
      let f = 0;
      for (; f + 4 <= F; f += 4) {
        const s0 = bins[off + f] << 1;
        const s1 = bins[off + f + 1] << 1;
        const s2 = bins[off + f + 2] << 1;
        const s3 = bins[off + f + 3] << 1;
        hist[s0] += g;
        hist[s0 + 1] += h;
        hist[s1] += g;
        hist[s1 + 1] += h;
        hist[s2] += g;
        hist[s2 + 1] += h;
        hist[s3] += g;
        hist[s3 + 1] += h;
      }
      for (; f < F; f++) {
        const s = bins[off + f] << 1;
        hist[s] += g;
        hist[s + 1] += h;
      }
    }
  }
}

// In-memory tree ensemble, laid out like XGBoost's JSON model (one typed array per node field),
// shared by the GBDT learner (learn/), the XGBoost JSON reader/writer and TreeSHAP (explain/).

export type FeatureType = 'q' | 'c'; // quantitative or categorical (XGBoost's "q"/"float" and "c")

export interface Tree {
  /** Child node ids; -1 marks a leaf. Node 0 is the root. */
  left: Int32Array;
  right: Int32Array;
  /** Split feature index (unused for leaves). */
  feature: Int32Array;
  /** Numerical split: go left when x < threshold (float32 compare, as XGBoost). */
  threshold: Float32Array;
  /** Where a missing value (NaN) goes. */
  defaultLeft: Uint8Array;
  /** Leaf value for leaves (already scaled by eta); base weight for internal nodes. */
  value: Float32Array;
  /** Sum of hessians of the training rows that reached the node (SHAP's cover). */
  cover: Float32Array;
  /** Split gain (loss change) for internal nodes; 0 for leaves. */
  gain: Float32Array;
  /**
   * For categorical splits: the category codes that go RIGHT (checked against XGBoost 1.7:
   * listed codes take the right child; other, negative or non-listed codes go left);
   * absent for numerical splits.
   */
  categories: Map<number, Set<number>>;
}

export type Objective = 'reg:squarederror' | 'binary:logistic' | 'rank:pairwise';

export interface TreeEnsemble {
  objective: Objective;
  /** base_score as XGBoost stores it (probability for binary:logistic). */
  baseScore: number;
  featureNames: string[];
  featureTypes: FeatureType[];
  trees: Tree[];
}

/** Index of the child that row value `x` of the node's split feature goes to. */
export function nextNode(tree: Tree, node: number, x: number): number {
  if (Number.isNaN(x)) return tree.defaultLeft[node] ? tree.left[node] : tree.right[node];
  const cats = tree.categories.get(node);
  // XGBoost truncates the value to an integer code; negative codes are invalid and go left.
  if (cats) return x >= 0 && cats.has(Math.trunc(x)) ? tree.right[node] : tree.left[node];
  return Math.fround(x) < tree.threshold[node] ? tree.left[node] : tree.right[node];
}

/** Margin (untransformed) base score: logit for binary:logistic, as XGBoost does internally. */
export function baseMargin(model: TreeEnsemble): number {
  if (model.objective === 'binary:logistic')
    return Math.log(model.baseScore / (1 - model.baseScore));
  return model.baseScore;
}

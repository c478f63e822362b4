// Reads and writes XGBoost's JSON model format (as written by XGBoost 1.7 `save_model('m.json')`),
// so a model trained in Python loads here and ours loads there.

import { z } from 'zod';
import { MetallmixError } from '../core/errors.ts';
import { writeOutputFile } from '../core/files.ts';
import { MAX_JSON_DEPTH, jsonNestsDeeper, jsonSyntaxReason } from '../core/json-text.ts';
import { readTextFile } from '../core/text-file.ts';
import { parseWith } from '../core/validate.ts';
import type { FeatureType, Tree, TreeEnsemble } from './tree-model.ts';
import { pushAll } from '../core/arrays.ts';

const ROOT_PARENT = 2147483647; // XGBoost's "no parent" marker for the root
const OBJECTIVES = ['reg:squarederror', 'binary:logistic', 'rank:pairwise'] as const;

// XGBoost writes NaN as the threshold of categorical splits.
const nums = z.array(z.union([z.number(), z.nan()]));
const TreeJson = z.object({
  base_weights: nums,
  categories: nums.optional(),
  categories_nodes: nums.optional(),
  categories_segments: nums.optional(),
  categories_sizes: nums.optional(),
  default_left: nums,
  left_children: nums,
  right_children: nums,
  loss_changes: nums,
  split_conditions: nums,
  split_indices: nums,
  split_type: nums.optional(),
  sum_hessian: nums,
});

const ModelJson = z.object({
  learner: z.object({
    feature_names: z.array(z.string()).optional(),
    feature_types: z.array(z.string()).optional(),
    gradient_booster: z.object({
      name: z.literal('gbtree', { message: 'only gbtree boosters are supported' }),
      model: z.object({
        gbtree_model_param: z.object({ num_trees: z.string() }).optional(),
        trees: z.array(TreeJson),
        tree_info: nums.optional(),
      }),
    }),
    learner_model_param: z.object({
      base_score: z.string(),
      num_feature: z.string(),
      num_class: z.string().optional(),
    }),
    objective: z.object({
      name: z.enum(OBJECTIVES, {
        message: `unsupported objective; supported: ${OBJECTIVES.join(', ')}`,
      }),
    }),
  }),
});

/** Builds a TreeEnsemble from a parsed XGBoost JSON model, naming the field of any problem. */
export function parseXGBoostJson(json: unknown, file?: string): TreeEnsemble {
  const m = parseWith(ModelJson, json, { file, what: 'XGBoost JSON model' }).learner;
  const fail = (field: string, reason: string): never => {
    throw new MetallmixError(reason, { location: { file, field } });
  };
  const numClass = Number(m.learner_model_param.num_class ?? '0');
  if (numClass > 1)
    fail('learner.learner_model_param.num_class', 'multi-class models are not supported');
  const numFeature = Number(m.learner_model_param.num_feature);
  if (!Number.isInteger(numFeature) || numFeature < 0)
    fail('learner.learner_model_param.num_feature', 'must be a non-negative integer');
  // XGBoost 1.7 writes "5E-1"; 2.x writes "[5E-1]" (a vector); both mean the same here.
  const baseScore = Number(m.learner_model_param.base_score.replace(/^\[(.*)\]$/, '$1'));
  if (!Number.isFinite(baseScore))
    fail(
      'learner.learner_model_param.base_score',
      `not a number: "${m.learner_model_param.base_score}"`,
    );
  const featureNames = m.feature_names?.length
    ? m.feature_names
    : Array.from({ length: numFeature }, (_, i) => `f${i}`);
  if (featureNames.length !== numFeature)
    fail('learner.feature_names', `${featureNames.length} names for ${numFeature} features`);
  // Rows are read by column name: a repeated name would feed one column to two features.
  const repeated = featureNames.find((f, i) => featureNames.indexOf(f) !== i);
  if (repeated !== undefined)
    fail('learner.feature_names', `the feature name "${repeated}" is given twice`);
  const { gbtree_model_param: param, trees: treesJson } = m.gradient_booster.model;
  if (param && Number(param.num_trees) !== treesJson.length)
    fail(
      'learner.gradient_booster.model.gbtree_model_param.num_trees',
      `says ${param.num_trees} trees, the model has ${treesJson.length}`,
    );
  const featureTypes: FeatureType[] = featureNames.map((_, i) =>
    m.feature_types?.[i] === 'c' ? 'c' : 'q',
  );
  const trees = treesJson.map((t, i) =>
    treeFromJson(t, numFeature, (field, reason) =>
      fail(`learner.gradient_booster.model.trees.${i}.${field}`, reason),
    ),
  );
  return { objective: m.objective.name, baseScore, featureNames, featureTypes, trees };
}

function treeFromJson(
  t: z.infer<typeof TreeJson>,
  numFeature: number,
  fail: (field: string, reason: string) => never,
): Tree {
  const n = t.left_children.length;
  if (n === 0) fail('left_children', 'a tree needs at least one node');
  for (const key of [
    'right_children',
    'split_indices',
    'split_conditions',
    'default_left',
    'base_weights',
    'sum_hessian',
    'loss_changes',
  ] as const)
    if (t[key].length !== n) fail(key, `has ${t[key].length} entries, expected ${n}`);
  const tree: Tree = {
    left: Int32Array.from(t.left_children),
    right: Int32Array.from(t.right_children),
    feature: Int32Array.from(t.split_indices),
    threshold: new Float32Array(n),
    defaultLeft: Uint8Array.from(t.default_left),
    value: Float32Array.from(t.base_weights),
    cover: Float32Array.from(t.sum_hessian),
    gain: Float32Array.from(t.loss_changes),
    categories: new Map(),
  };
  for (let i = 0; i < n; i++) {
    const l = tree.left[i];
    if (l === -1) {
      // XGBoost keeps a leaf's (eta-scaled) value in split_conditions.
      tree.value[i] = t.split_conditions[i];
      continue;
    }
    if (l <= i || l >= n || tree.right[i] <= i || tree.right[i] >= n)
      fail(`left_children.${i}`, 'child ids must point forward to existing nodes');
    if (tree.feature[i] < 0 || tree.feature[i] >= numFeature)
      fail(`split_indices.${i}`, `feature ${tree.feature[i]} outside 0..${numFeature - 1}`);
    tree.threshold[i] = t.split_conditions[i];
  }
  const nodes = t.categories_nodes ?? [];
  const segments = t.categories_segments ?? [];
  const sizes = t.categories_sizes ?? [];
  const cats = t.categories ?? [];
  nodes.forEach((node, k) => {
    if (!(node >= 0 && node < n && tree.left[node] !== -1))
      fail(`categories_nodes.${k}`, `node ${node} is not a split node`);
    const start = segments[k];
    const size = sizes[k];
    if (start === undefined || size === undefined || start + size > cats.length)
      fail(`categories_segments.${k}`, 'segment outside the categories array');
    tree.categories.set(node, new Set(cats.slice(start, start + size)));
  });
  t.split_type?.forEach((type, i) => {
    if (type === 1 && !tree.categories.has(i))
      fail(`split_type.${i}`, 'categorical split without categories');
  });
  return tree;
}

/** The XGBoost 1.7 JSON document for `model` (load it in Python with `Booster.load_model`). */
export function toXGBoostJson(model: TreeEnsemble): object {
  const numFeature = model.featureNames.length;
  const objective =
    model.objective === 'rank:pairwise'
      ? { name: model.objective, lambda_rank_param: { num_pairsample: '1', fix_list_weight: '0' } }
      : { name: model.objective, reg_loss_param: { scale_pos_weight: '1' } };
  return {
    learner: {
      attributes: {},
      feature_names: model.featureNames,
      feature_types: model.featureTypes.map((t) => (t === 'c' ? 'c' : 'float')),
      gradient_booster: {
        model: {
          gbtree_model_param: {
            num_parallel_tree: '1',
            num_trees: String(model.trees.length),
            size_leaf_vector: '0',
          },
          tree_info: model.trees.map(() => 0),
          trees: model.trees.map((t, id) => treeToJson(t, id, numFeature)),
        },
        name: 'gbtree',
      },
      learner_model_param: {
        base_score: String(model.baseScore),
        boost_from_average: '1',
        num_class: '0',
        num_feature: String(numFeature),
        num_target: '1',
      },
      objective,
    },
    version: [1, 7, 4],
  };
}

function treeToJson(t: Tree, id: number, numFeature: number): object {
  const n = t.left.length;
  const parents = new Array<number>(n).fill(ROOT_PARENT);
  const splitConditions = new Array<number>(n);
  const splitType = new Array<number>(n).fill(0);
  for (let i = 0; i < n; i++) {
    const leaf = t.left[i] === -1;
    if (!leaf) parents[t.left[i]] = parents[t.right[i]] = i;
    // Categorical nodes carry no threshold; 0 keeps the file plain JSON (XGBoost writes NaN).
    splitConditions[i] = leaf ? t.value[i] : t.categories.has(i) ? 0 : t.threshold[i];
  }
  const catNodes = [...t.categories.keys()].sort((a, b) => a - b);
  const categories: number[] = [];
  const segments: number[] = [];
  const sizes: number[] = [];
  for (const node of catNodes) {
    const set = [...t.categories.get(node)!].sort((a, b) => a - b);
    splitType[node] = 1;
    segments.push(categories.length);
    sizes.push(set.length);
    pushAll(categories, set);
  }
  const isLeaf = (i: number) => t.left[i] === -1;
  return {
    base_weights: Array.from(t.value),
    categories,
    categories_nodes: catNodes,
    categories_segments: segments,
    categories_sizes: sizes,
    default_left: Array.from(t.defaultLeft, (d, i) => (isLeaf(i) ? 0 : d)),
    id,
    left_children: Array.from(t.left),
    loss_changes: Array.from(t.gain, (g, i) => (isLeaf(i) ? 0 : g)),
    parents,
    right_children: Array.from(t.right),
    split_conditions: splitConditions,
    split_indices: Array.from(t.feature, (f, i) => (isLeaf(i) ? 0 : f)),
    split_type: splitType,
    sum_hessian: Array.from(t.cover),
    tree_param: {
      num_deleted: '0',
      num_feature: String(numFeature),
      num_nodes: String(n),
      size_leaf_vector: '0',
    },
  };
}

/** JSON.parse that also accepts the bare NaN / Infinity tokens XGBoost writes. */
export function parseLenientJson(text: string, file?: string): unknown {
  const patched = text.replace(
    /("(?:[^"\\]|\\.)*")|(-?)\b(NaN|Infinity)\b/g,
    (match, str: string | undefined, sign: string, word: string) =>
      str !== undefined ? match : word === 'NaN' ? 'null' : sign ? '-1e999' : '1e999',
  );
  // Every walk after parsing (the reviver, JSON.stringify in a message) recurses: bound it first.
  if (jsonNestsDeeper(patched))
    throw new MetallmixError(`the JSON nests deeper than ${MAX_JSON_DEPTH} levels`, {
      location: { file },
    });
  try {
    return JSON.parse(patched, (_key, v) => (v === null ? Number.NaN : v));
  } catch (err) {
    throw new MetallmixError(`not valid JSON: ${jsonSyntaxReason(err).reason}`, {
      location: { file },
      cause: err,
    });
  }
}

export function loadModelFile(path: string): TreeEnsemble {
  return parseXGBoostJson(parseLenientJson(readTextFile(path, 'model file'), path), path);
}

const FLOAT_FIELDS = new Set(['base_weights', 'loss_changes', 'split_conditions', 'sum_hessian']);
const FLOAT_MARK = '\u0001f';

/**
 * The model as XGBoost-loadable JSON text. XGBoost's parser types `1` as an integer and
 * refuses it where a float is due, so float fields are always written with a fraction.
 */
export function stringifyXGBoostJson(model: TreeEnsemble): string {
  const text = JSON.stringify(toXGBoostJson(model), (key, value: unknown) =>
    FLOAT_FIELDS.has(key) && Array.isArray(value)
      ? value.map((v: number) => FLOAT_MARK + (Number.isInteger(v) ? `${v}.0` : String(v)))
      : value,
  );
  return text.replace(/"\\u0001f([^"]*)"/g, '$1');
}

export function saveModelFile(path: string, model: TreeEnsemble): void {
  writeOutputFile(path, stringifyXGBoostJson(model), 'the model file');
}

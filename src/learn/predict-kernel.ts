// Batch prediction as WebAssembly. A depth-6 walk is a chain of dependent loads and
// compares; written branch-free (a row's next node is child + (x >= threshold)) it costs no
// mispredictions, and walking four rows at once lets the processor overlap their chains.
// Leaves point at themselves, so every walk of a tree takes the tree's depth in steps.
//
// A tree is packed once into 16-byte node records, position-independent so that trees of any
// models can be laid out side by side: [feature | missing-goes-right << 31 | categorical << 30,
// threshold f32 (NaN for leaves: never >=), byte offset to the left child (the right one
// follows it; 0 for leaves), leaf value f32 for leaves or, for categorical splits, the byte
// offset from the record to its category map (a length word, then one byte per code)].

import { i32, f32, v128, Code, moduleBytes } from './wasm.ts';
import type { Tree } from './tree-model.ts';

export interface PackedTree {
  /** Node records, then category maps. */
  words: Int32Array;
  depth: number;
  categorical: boolean;
}

const packed = new WeakMap<Tree, PackedTree>();

/** The tree's records (cached: trees are not changed once built). */
export function packTree(tree: Tree): PackedTree {
  const cached = packed.get(tree);
  if (cached) return cached;
  // Breadth-first numbering puts each node's children next to each other.
  const order: number[] = [0];
  const depthOf = new Int32Array(tree.left.length);
  const index = new Int32Array(tree.left.length).fill(-1);
  index[0] = 0;
  let depth = 0;
  for (let i = 0; i < order.length; i++) {
    const node = order[i];
    if (tree.left[node] === -1) continue;
    for (const child of [tree.left[node], tree.right[node]]) {
      index[child] = order.length;
      order.push(child);
      depthOf[child] = depthOf[node] + 1;
      depth = Math.max(depth, depthOf[child]);
    }
  }
  const maps: number[] = [];
  const nodes = order.length;
  const words = new Int32Array(4 * nodes);
  const floats = new Float32Array(words.buffer);
  let categorical = false;
  const mapWords: number[][] = [];
  order.forEach((node, i) => {
    const w = 4 * i;
    const left = tree.left[node];
    if (left === -1) {
      floats[w + 1] = NaN;
      floats[w + 3] = tree.value[node];
      return;
    }
    const cats = tree.categories.get(node);
    words[w] = tree.feature[node] | (tree.defaultLeft[node] ? 0 : 1 << 31) | (cats ? 1 << 30 : 0);
    floats[w + 1] = tree.threshold[node];
    words[w + 2] = (index[left] - i) * 16;
    if (cats) {
      categorical = true;
      const len = Math.max(0, ...cats) + 1;
      const bytes = new Uint8Array(4 * Math.ceil(len / 4));
      for (const c of cats) if (c >= 0) bytes[c] = 1;
      const at = maps.length;
      maps.push(len, ...new Int32Array(bytes.buffer));
      mapWords.push([i, at]);
    }
  });
  const all = new Int32Array(4 * nodes + maps.length);
  all.set(words);
  all.set(maps, 4 * nodes);
  for (const [i, at] of mapWords) all[4 * i + 3] = (4 * nodes + at - 4 * i) * 4;
  const result = { words: all, depth, categorical };
  packed.set(tree, result);
  return result;
}

/**
 * predict(x, rowBytes, rows, trees, numTrees, out): for every row (rows a multiple of four,
 * float32 features every rowBytes from x) and every tree in the table at `trees` (16 bytes
 * each: root record address, depth, byte offset of its model's outputs from `out`), adds the
 * leaf value to out[row] in float32, trees in table order.
 */
function predictFunc(categorical: boolean): Code {
  const c = new Code([i32, i32, i32, i32, i32, i32]);
  const [x, rowBytes, rows, trees, numTrees, out] = [0, 1, 2, 3, 4, 5];
  const block = c.local(i32);
  const blockEnd = c.local(i32);
  const t = c.local(i32);
  const treesEnd = c.local(i32);
  const root = c.local(i32);
  const depth = c.local(i32);
  const o = c.local(i32);
  const r = c.local(i32);
  const d = c.local(i32);
  const w = c.local(v128);
  const f = c.local(i32);
  const v = c.local(f32);
  const code = c.local(i32);
  const map = c.local(i32);
  const node = [0, 1, 2, 3].map(() => c.local(i32));
  const row = [0, 1, 2, 3].map(() => c.local(i32));
  const BLOCK = 64; // rows whose features stay in cache while every tree runs over them
  c.get(trees).get(numTrees).i32Const(4).i32Shl().i32Add().set(treesEnd);
  c.i32Const(0).set(block);
  c.block().loop();
  c.get(block).get(rows).i32GeU().brIf(1);
  c.get(block).i32Const(BLOCK).i32Add().tee(blockEnd);
  c.get(rows).get(blockEnd).get(rows).i32LtU().select().set(blockEnd);
  c.get(trees).set(t);
  c.block().loop();
  c.get(t).get(treesEnd).i32GeU().brIf(1);
  c.get(t).i32Load(0).set(root);
  c.get(t).i32Load(4).set(depth);
  c.get(out).get(t).i32Load(8).i32Add().set(o);
  c.get(block).set(r);
  c.block().loop();
  c.get(r).get(blockEnd).i32GeU().brIf(1);
  for (let k = 0; k < 4; k++) {
    c.get(root).set(node[k]);
    c.get(r).i32Const(k).i32Add().get(rowBytes).i32Mul().get(x).i32Add().set(row[k]);
  }
  c.get(depth).set(d);
  c.block().loop();
  c.get(d).i32Eqz().brIf(1);
  for (let k = 0; k < 4; k++) {
    c.get(node[k]).v128Load().set(w);
    c.get(w).i32x4ExtractLane(0).set(f);
    c.get(row[k]).get(f).i32Const(0x3fffffff).i32And().i32Const(2).i32Shl().i32Add();
    c.f32Load().set(v);
    // next = node + left offset + 16 * (goes right)
    c.get(node[k]).get(w).i32x4ExtractLane(2).i32Add();
    if (categorical) {
      // Category codes truncate toward zero; negative, unlisted or missing ones go left.
      c.get(v).i32TruncSatF32S().set(code);
      // Records that are not categorical splits read the empty map at address 0 instead.
      c.get(node[k]).get(w).i32x4ExtractLane(3).i32Add().i32Const(0);
      c.get(f).i32Const(30).i32ShrU().i32Const(1).i32And().select().set(map);
      c.get(map).get(code).i32Const(0).get(code).get(map).i32Load().i32LtU().select();
      c.i32Add().i32Load8U(4);
      c.get(code).get(map).i32Load().i32LtU().i32And();
      c.get(v).get(v).f32Eq().i32And();
      c.get(v).get(w).f32x4ExtractLane(1).f32Ge();
      c.get(f).i32Const(30).i32ShrU().i32Const(1).i32And().select();
    } else c.get(v).get(w).f32x4ExtractLane(1).f32Ge();
    c.get(v).get(v).f32Ne().get(f).i32Const(31).i32ShrU().i32And().i32Or();
    c.i32Const(4).i32Shl().i32Add().set(node[k]);
  }
  c.get(d).i32Const(1).i32Sub().set(d);
  c.br(0).end().end();
  for (let k = 0; k < 4; k++) {
    c.get(o).get(r).i32Const(k).i32Add().i32Const(2).i32Shl().i32Add();
    c.get(o).get(r).i32Const(k).i32Add().i32Const(2).i32Shl().i32Add().f32Load();
    c.get(node[k]).f32Load(12).f32Add().f32Store();
  }
  c.get(r).i32Const(4).i32Add().set(r);
  c.br(0).end().end();
  c.get(t).i32Const(16).i32Add().set(t);
  c.br(0).end().end();
  c.get(block).i32Const(BLOCK).i32Add().set(block);
  c.br(0).end().end();
  return c;
}

export interface PredictExports {
  predictNumerical(
    x: number,
    rowBytes: number,
    rows: number,
    trees: number,
    n: number,
    out: number,
  ): void;
  predictCategorical(
    x: number,
    rowBytes: number,
    rows: number,
    trees: number,
    n: number,
    out: number,
  ): void;
}

let compiled: WebAssembly.Module | undefined;

/** The prediction module (compiled once); address 0 of its memory must hold an empty map (0). */
export function predictModule(): WebAssembly.Module {
  compiled ??= new WebAssembly.Module(
    moduleBytes(
      [
        { name: 'predictNumerical', code: predictFunc(false), results: [] },
        { name: 'predictCategorical', code: predictFunc(true), results: [] },
      ],
      { shared: false, initial: 1, maximum: 65536 },
    ),
  );
  return compiled;
}

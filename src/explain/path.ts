// The "unique path" of TreeSHAP (Lundberg et al. 2018, Algorithm 2): the features met from the
// root, each with the share of training cover that follows the path (zero fraction) and whether
// the row follows it (one fraction), plus the permutation weights of every subset size. Parallel
// typed arrays; a caller works on a segment starting at `offset` of length depth + 1.

export class ShapPath {
  readonly feature: Int32Array;
  readonly zero: Float64Array;
  readonly one: Float64Array;
  readonly weight: Float64Array;
  /** 1 / k, to multiply instead of divide in the inner loops; a path is shorter than `size`. */
  private readonly inverse: Float64Array;

  constructor(size: number) {
    this.inverse = Float64Array.from({ length: size + 2 }, (_, k) => 1 / k);
    this.feature = new Int32Array(size);
    this.zero = new Float64Array(size);
    this.one = new Float64Array(size);
    this.weight = new Float64Array(size);
  }

  /** Copies `length` elements from offset `from` to offset `to`. */
  copy(from: number, to: number, length: number): void {
    for (let i = 0; i < length; i++) {
      this.feature[to + i] = this.feature[from + i];
      this.zero[to + i] = this.zero[from + i];
      this.one[to + i] = this.one[from + i];
      this.weight[to + i] = this.weight[from + i];
    }
  }

  /** Appends element `depth` with the given fractions and updates the subset weights. */
  extend(offset: number, depth: number, zero: number, one: number, feature: number): void {
    const pw = this.weight;
    this.feature[offset + depth] = feature;
    this.zero[offset + depth] = zero;
    this.one[offset + depth] = one;
    pw[offset + depth] = depth === 0 ? 1 : 0;
    const inv = this.inverse[depth + 1];
    for (let i = depth - 1; i >= 0; i--) {
      pw[offset + i + 1] += one * pw[offset + i] * (i + 1) * inv;
      pw[offset + i] = zero * pw[offset + i] * (depth - i) * inv;
    }
  }

  /** Removes element k, the inverse of extend. */
  unwind(offset: number, depth: number, k: number): void {
    const pw = this.weight;
    const one = this.one[offset + k];
    const zero = this.zero[offset + k];
    const d1 = depth + 1;
    let nextOne = pw[offset + depth];
    for (let i = depth - 1; i >= 0; i--) {
      if (one !== 0) {
        const tmp = pw[offset + i];
        pw[offset + i] = (nextOne * d1) / ((i + 1) * one);
        nextOne = tmp - pw[offset + i] * zero * (depth - i) * this.inverse[d1];
      } else {
        pw[offset + i] = (pw[offset + i] * d1) / (zero * (depth - i));
      }
    }
    for (let i = k; i < depth; i++) {
      this.feature[offset + i] = this.feature[offset + i + 1];
      this.zero[offset + i] = this.zero[offset + i + 1];
      this.one[offset + i] = this.one[offset + i + 1];
    }
  }

  /** Total subset weight if element k were unwound, without changing the path. */
  unwoundSum(offset: number, depth: number, k: number): number {
    const pw = this.weight;
    const one = this.one[offset + k];
    const zero = this.zero[offset + k];
    const d1 = depth + 1;
    let total = 0;
    if (one !== 0) {
      const a = d1 / one;
      const b = zero / d1;
      let nextOne = pw[offset + depth];
      for (let i = depth - 1; i >= 0; i--) {
        const tmp = nextOne * a * this.inverse[i + 1];
        total += tmp;
        nextOne = pw[offset + i] - tmp * b * (depth - i);
      }
    } else if (zero !== 0) {
      const a = d1 / zero;
      for (let i = depth - 1; i >= 0; i--) total += pw[offset + i] * a * this.inverse[depth - i];
    }
    return total;
  }
}

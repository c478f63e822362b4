// One-dimensional Parzen estimators of TPE (Bergstra et al. 2011), with Optuna's default
// settings: a prior kernel (centre of the range, width of the range, weight 1), bandwidths from
// the distances to neighbouring observations clipped by the "magic clip" (at least
// range / min(100, kernels + 1)), kernels truncated at the bounds, integers scored by the mass
// of their unit cell, categoricals by prior-smoothed counts.
import type { Rng } from '../core/rng.ts';
import {
  logGaussMass,
  logNormalPdf,
  logSumExp,
  sampleTruncatedStandardNormal,
} from './gaussian.ts';

const PRIOR_WEIGHT = 1;

/**
 * Weights of observations in chronological order, as Optuna's default: equal up to 25, then
 * older observations ramp down linearly so the newest 25 keep full weight.
 */
export function observationWeights(n: number): number[] {
  if (n < 25) return Array.from({ length: n }, () => 1);
  const rampLength = n - 25;
  const ramp = Array.from({ length: rampLength }, (_, i) =>
    rampLength === 1 ? 1 / n : 1 / n + ((1 - 1 / n) * i) / (rampLength - 1),
  );
  return [...ramp, ...Array.from({ length: 25 }, () => 1)];
}

/** Mixture weights: observation weights plus the prior's, normalized to sum 1. */
function mixtureWeights(nObservations: number): number[] {
  const w = [...observationWeights(nObservations), PRIOR_WEIGHT];
  const total = w.reduce((s, x) => s + x, 0);
  return w.map((x) => x / total);
}

function drawIndex(weights: readonly number[], rng: Rng): number {
  const u = rng.next();
  let cumulative = 0;
  for (let i = 0; i < weights.length; i++) {
    cumulative += weights[i];
    if (u < cumulative) return i;
  }
  return weights.length - 1;
}

/** Mixture of truncated Gaussians over [low, high] in the internal (possibly log) space. */
export class NumericParzen {
  readonly mus: number[];
  readonly sigmas: number[];
  readonly weights: number[];
  private readonly logWeights: number[];
  private readonly logAccept: number[];

  /**
   * @param observations values in the internal space, chronological
   * @param cell width of the unit cell for integer parameters (scored by mass, not density)
   */
  constructor(
    observations: readonly number[],
    readonly low: number,
    readonly high: number,
    readonly cell?: number,
  ) {
    const range = high - low;
    const mus = [...observations, 0.5 * (low + high)];
    const order = mus.map((_, i) => i).sort((i, j) => mus[i] - mus[j]);
    const sorted = order.map((i) => mus[i]);
    const withEnds = [low, ...sorted, high];
    const sortedSigmas = sorted.map((_, k) =>
      Math.max(withEnds[k + 1] - withEnds[k], withEnds[k + 2] - withEnds[k + 1]),
    );
    // Without "endpoints", the outermost kernels look only inward, not at the bounds.
    if (sorted.length >= 2) {
      sortedSigmas[0] = sorted[1] - sorted[0];
      sortedSigmas[sorted.length - 1] = sorted[sorted.length - 1] - sorted[sorted.length - 2];
    }
    const minSigma = range / Math.min(100, 1 + mus.length);
    const sigmas = new Array<number>(mus.length);
    order.forEach((i, k) => {
      sigmas[i] = Math.min(range, Math.max(minSigma, sortedSigmas[k]));
    });
    sigmas[mus.length - 1] = range;
    this.mus = mus;
    this.sigmas = sigmas;
    this.weights = mixtureWeights(observations.length);
    this.logWeights = this.weights.map(Math.log);
    this.logAccept = mus.map((mu, i) =>
      logGaussMass((low - mu) / sigmas[i], (high - mu) / sigmas[i]),
    );
  }

  sample(rng: Rng): number {
    const k = drawIndex(this.weights, rng);
    const mu = this.mus[k];
    const sigma = this.sigmas[k];
    const z = sampleTruncatedStandardNormal((this.low - mu) / sigma, (this.high - mu) / sigma, rng);
    return Math.min(this.high, Math.max(this.low, mu + sigma * z));
  }

  logPdf(x: number): number {
    const terms = this.mus.map((mu, i) => {
      const sigma = this.sigmas[i];
      let logP: number;
      if (this.cell !== undefined) {
        const lo = Math.max(this.low, x - this.cell / 2);
        const hi = Math.min(this.high, x + this.cell / 2);
        logP = logGaussMass((lo - mu) / sigma, (hi - mu) / sigma);
      } else {
        logP = logNormalPdf((x - mu) / sigma) - Math.log(sigma);
      }
      return this.logWeights[i] + logP - this.logAccept[i];
    });
    return logSumExp(terms);
  }
}

/** Mixture of smoothed one-hot kernels over choice indices, plus a uniform prior kernel. */
export class CategoricalParzen {
  /** Probability of each choice under the whole mixture. */
  readonly probabilities: number[];

  constructor(observations: readonly number[], nChoices: number) {
    const weights = mixtureWeights(observations.length);
    const nKernels = observations.length + 1;
    const smoothing = PRIOR_WEIGHT / nKernels;
    const probabilities = new Array<number>(nChoices).fill(0);
    for (let k = 0; k < nKernels; k++) {
      const observed = k < observations.length ? observations[k] : -1;
      const rowTotal = smoothing * nChoices + (observed >= 0 ? 1 : 0);
      for (let c = 0; c < nChoices; c++) {
        probabilities[c] += (weights[k] * (smoothing + (c === observed ? 1 : 0))) / rowTotal;
      }
    }
    this.probabilities = probabilities;
  }

  sample(rng: Rng): number {
    return drawIndex(this.probabilities, rng);
  }

  logPdf(index: number): number {
    return Math.log(this.probabilities[index]);
  }
}

// Standard-normal tails and truncated normals for the Parzen estimators. Everything that can
// underflow is computed in log form: Parzen kernels far from a sample give densities far below
// the smallest double, yet their logs still decide the TPE ratio.
import type { Rng } from '../core/rng.ts';

const LOG_SQRT_2PI = 0.5 * Math.log(2 * Math.PI);

/**
 * log(erfc(z)) for z >= 0, using the Chebyshev fit of Numerical Recipes' erfcc (relative
 * error below 1.2e-7). The fit has the form t * exp(poly), so its log never underflows.
 */
function logErfcNonNegative(z: number): number {
  const t = 1 / (1 + 0.5 * z);
  const poly =
    -1.26551223 +
    t *
      (1.00002368 +
        t *
          (0.37409196 +
            t *
              (0.09678418 +
                t *
                  (-0.18628806 +
                    t *
                      (0.27886807 +
                        t *
                          (-1.13520398 +
                            t * (1.48851587 + t * (-0.82215223 + t * 0.17087277))))))));
  return Math.log(t) - z * z + poly;
}

/** log P(Z > x) for x >= 0. */
function logUpperTail(x: number): number {
  return Math.log(0.5) + logErfcNonNegative(x / Math.SQRT2);
}

/** P(Z <= x). */
export function normalCdf(x: number): number {
  return x >= 0 ? 1 - Math.exp(logUpperTail(x)) : Math.exp(logUpperTail(-x));
}

export function logNormalPdf(z: number): number {
  return -0.5 * z * z - LOG_SQRT_2PI;
}

/** log P(a <= Z <= b) for a standard normal Z and a < b. */
export function logGaussMass(a: number, b: number): number {
  if (!(b > a)) return -Infinity;
  // Narrow interval where the log density barely changes: Simpson's rule in log form is
  // exact to ~1e-9 there and avoids cancelling two nearly equal tail probabilities.
  if ((b - a) * (1 + Math.max(Math.abs(a), Math.abs(b))) < 0.1) {
    const m = 0.5 * (a + b);
    const lm = logNormalPdf(m);
    const rest = Math.exp(logNormalPdf(a) - lm) + 4 + Math.exp(logNormalPdf(b) - lm);
    return lm + Math.log(((b - a) / 6) * rest);
  }
  if (b <= 0) return logGaussMass(-b, -a);
  if (a >= 0) {
    const la = logUpperTail(a);
    return la + Math.log1p(-Math.exp(logUpperTail(b) - la));
  }
  return Math.log1p(-(Math.exp(logUpperTail(-a)) + Math.exp(logUpperTail(b))));
}

/**
 * Inverse of the standard normal CDF (Acklam's rational approximation, relative error
 * below 1.2e-9 on (0, 1)).
 */
export function normalQuantile(p: number): number {
  if (p <= 0) return -Infinity;
  if (p >= 1) return Infinity;
  const pLow = 0.02425;
  if (p < pLow) return lowerTailQuantile(p);
  if (p > 1 - pLow) return -lowerTailQuantile(1 - p);
  const q = p - 0.5;
  const r = q * q;
  return (
    ((((((-3.969683028665376e1 * r + 2.209460984245205e2) * r - 2.759285104469687e2) * r +
      1.38357751867269e2) *
      r -
      3.066479806614716e1) *
      r +
      2.506628277459239) *
      q) /
    (((((-5.447609879822406e1 * r + 1.615858368580409e2) * r - 1.556989798598866e2) * r +
      6.680131188771972e1) *
      r -
      1.328068155288572e1) *
      r +
      1)
  );
}

function lowerTailQuantile(p: number): number {
  const q = Math.sqrt(-2 * Math.log(p));
  return (
    (((((-7.784894002430293e-3 * q - 3.223964580411365e-1) * q - 2.400758277161838) * q -
      2.549732539343734) *
      q +
      4.374664141464968) *
      q +
      2.938163982698783) /
    ((((7.784695709041462e-3 * q + 3.224671290700398e-1) * q + 2.445134137142996) * q +
      3.754408661907416) *
      q +
      1)
  );
}

/** A draw of a standard normal truncated to [a, b], by inverting the CDF. */
export function sampleTruncatedStandardNormal(a: number, b: number, rng: Rng): number {
  // Invert on the side where the probabilities are not close to 1, so tails keep precision.
  if (a >= 0) return -sampleTruncatedStandardNormal(-b, -a, rng);
  const pa = normalCdf(a);
  const pb = normalCdf(b);
  const x = normalQuantile(pa + rng.next() * (pb - pa));
  return Math.min(b, Math.max(a, x));
}

/** log(sum(exp(values))) without overflow. */
export function logSumExp(values: readonly number[]): number {
  let max = -Infinity;
  for (const v of values) if (v > max) max = v;
  if (max === -Infinity) return -Infinity;
  let sum = 0;
  for (const v of values) sum += Math.exp(v - max);
  return max + Math.log(sum);
}

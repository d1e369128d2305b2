/**
 * Live-monitoring statistics of a model version, as pure functions (the Worker's hourly job, the
 * dashboard and the tests run the same code; tests/unit/monitoring.test.ts checks them against
 * values computed with scipy/statsmodels formulas).
 *
 * - Correction rate: corrections / scored comments with a Wilson score interval (it stays inside
 *   [0, 1] and behaves at rates near 0, where the normal approximation says nonsense).
 * - Candidate against stable: a one-sided two-proportion z-test (pooled variance).
 * - Per-class precision, recall and F1 *estimated* from corrections. A correction says "predicted
 *   X, truly Y"; a comment nobody corrected is counted as correct. Users correct only some errors,
 *   so these are optimistic (upper) estimates: useful to compare versions and to watch a trend,
 *   not as absolute numbers.
 * - Latency quantiles from the aggregates' fixed log-spaced histogram (core/wire.ts).
 */
import { LABELS } from './labels.js';
import { evaluateConfusion, type Evaluation } from './metrics.js';
import { LATENCY_BINS, LATENCY_BOUNDS_MS } from './wire.js';

/** z of a two-sided 95 % interval. */
export const Z95 = 1.959963984540054;

export interface Interval {
  /** k / n */
  value: number;
  lower: number;
  upper: number;
  k: number;
  n: number;
}

/** Wilson score interval of k successes in n trials at `z` (default 95 %); null for n = 0. */
export function wilson(k: number, n: number, z = Z95): Interval | null {
  if (!(n > 0) || k < 0 || k > n) return null;
  const p = k / n;
  const z2 = z * z;
  const denom = 1 + z2 / n;
  const centre = (p + z2 / (2 * n)) / denom;
  const half = (z * Math.sqrt((p * (1 - p)) / n + z2 / (4 * n * n))) / denom;
  // Exact at the ends: k = 0 gives lower 0, k = n upper 1 (rounding could leave 1e-17).
  return { value: p, lower: k === 0 ? 0 : Math.max(0, centre - half), upper: k === n ? 1 : Math.min(1, centre + half), k, n };
}

/** Complementary error function (Numerical Recipes' erfcc: fractional error below 1.2e-7). */
export function erfc(x: number): number {
  const z = Math.abs(x);
  const t = 1 / (1 + 0.5 * z);
  const r =
    t *
    Math.exp(
      -z * z - 1.26551223 + t * (1.00002368 + t * (0.37409196 + t * (0.09678418 + t * (-0.18628806 + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277)))))))),
    );
  return x >= 0 ? r : 2 - r;
}

/** P(Z > z) for a standard normal Z. */
export function normalSf(z: number): number {
  return 0.5 * erfc(z / Math.SQRT2);
}

export interface ProportionTest {
  /** Rates of the two groups and their difference (a − b). */
  rate_a: number;
  rate_b: number;
  diff: number;
  /** Pooled two-proportion z statistic of a − b (0 when both rates are 0 or 1). */
  z: number;
  /** One-sided p-value of "a is higher than b". */
  p_value: number;
}

/**
 * One-sided two-proportion z-test that group a's rate (k_a / n_a) is higher than group b's, with
 * the pooled variance under the null of equal rates. Null when either group is empty.
 */
export function twoProportionTest(ka: number, na: number, kb: number, nb: number): ProportionTest | null {
  if (!(na > 0) || !(nb > 0)) return null;
  const ra = ka / na;
  const rb = kb / nb;
  const pooled = (ka + kb) / (na + nb);
  const se = Math.sqrt(pooled * (1 - pooled) * (1 / na + 1 / nb));
  const z = se > 0 ? (ra - rb) / se : 0;
  return { rate_a: ra, rate_b: rb, diff: ra - rb, z, p_value: normalSf(z) };
}

/**
 * `corrections[predicted][corrected]` (LABELS order; the diagonal, a "correction" to the label the
 * model gave, is ignored) and the comments predicted per label → the estimated confusion matrix
 * `confusion[true][predicted]`: corrected comments move to their true row, every other predicted
 * comment stays on the diagonal. A class with more corrections than predictions (possible when
 * corrections and predictions are counted over different installs or hours) keeps 0 on its diagonal.
 */
export function estimatedConfusion(predicted: readonly number[], corrections: readonly (readonly number[])[]): number[][] {
  const K = LABELS.length;
  const confusion = Array.from({ length: K }, () => new Array<number>(K).fill(0));
  for (let x = 0; x < K; x++) {
    let away = 0;
    for (let y = 0; y < K; y++) {
      if (y === x) continue;
      const c = corrections[x]?.[y] ?? 0;
      confusion[y]![x]! += c;
      away += c;
    }
    confusion[x]![x]! += Math.max(0, (predicted[x] ?? 0) - away);
  }
  return confusion;
}

/** Per-class precision, recall and F1 (and macro-F1) estimated from corrections; see the module comment. */
export function estimatedQuality(predicted: readonly number[], corrections: readonly (readonly number[])[]): Evaluation {
  return evaluateConfusion(estimatedConfusion(predicted, corrections));
}

/** Corrections that change the label (off the diagonal of `corrections[predicted][corrected]`). */
export function offDiagonal(corrections: readonly (readonly number[])[]): number {
  let k = 0;
  corrections.forEach((row, x) => row.forEach((c, y) => (k += x === y ? 0 : c)));
  return k;
}

/**
 * The q-quantile (0 < q < 1) of a latency histogram on LATENCY_BOUNDS_MS, in ms: the bin holding
 * it, interpolated geometrically inside the bin (the bins double, so this is linear on the log
 * scale they are spaced on; bin 0 linearly from 0). A quantile in the overflow bin reads as its
 * lower bound (the histogram says no more). Null for an empty histogram.
 */
export function latencyQuantile(counts: readonly number[], q: number): number | null {
  if (counts.length !== LATENCY_BINS) return null;
  const total = counts.reduce((a, b) => a + b, 0);
  if (total <= 0) return null;
  const rank = q * total;
  let below = 0;
  for (let i = 0; i < counts.length; i++) {
    const c = counts[i]!;
    if (c > 0 && below + c >= rank) {
      const f = Math.min(1, Math.max(0, (rank - below) / c));
      if (i === LATENCY_BOUNDS_MS.length) return LATENCY_BOUNDS_MS[i - 1]!;
      const hi = LATENCY_BOUNDS_MS[i]!;
      if (i === 0) return f * hi;
      const lo = LATENCY_BOUNDS_MS[i - 1]!;
      return lo * (hi / lo) ** f;
    }
    below += c;
  }
  return LATENCY_BOUNDS_MS[LATENCY_BOUNDS_MS.length - 1]!;
}

/** p50, p95 and p99 of a latency histogram, and the calls counted. */
export function latencySummary(counts: readonly number[]): { p50: number | null; p95: number | null; p99: number | null; calls: number } {
  return { p50: latencyQuantile(counts, 0.5), p95: latencyQuantile(counts, 0.95), p99: latencyQuantile(counts, 0.99), calls: counts.reduce((a, b) => a + b, 0) };
}

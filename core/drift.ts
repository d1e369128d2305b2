/**
 * Drift statistics as pure functions over histograms.
 *
 * Live traffic arrives as hourly summaries (counts, never raw samples), so every statistic here works
 * on binned data. Definitions follow Evidently's defaults (and scipy, which Evidently calls):
 * - Jensen-Shannon distance: sqrt of the JS divergence with natural logarithms, as
 *   `scipy.spatial.distance.jensenshannon(p, q)` (range [0, sqrt(ln 2)]); drift at ≥ 0.1.
 * - PSI: Σ (c − r)·ln(c / r) over bin shares, empty shares replaced by 0.0001 as Evidently does;
 *   warn at ≥ 0.1, drift at ≥ 0.25. Computed on at most 10 bins (50 confidence bins are merged five
 *   by five): with 50 bins, sampling noise alone put 200 undrifted samples over 0.1 almost every
 *   time. Live traffic arrives as on-device aggregates with 10 confidence bins (core/wire.ts), and
 *   the reference's 50 bins are merged onto those edges ({@link rebin}) before any comparison.
 * - Normalized Wasserstein: W1(reference, current) / std(reference), as Evidently's
 *   `wasserstein_distance_norm`, computed from histograms with mass at bin centres; drift at ≥ 0.1.
 * - Two-sample Kolmogorov-Smirnov on binned data: D = max |F_r − F_c| over bin edges, p-value from
 *   the asymptotic Kolmogorov distribution (Numerical Recipes' probks with the Stephens correction).
 *   KS is extremely sensitive at large n, so p < 0.05 raises a warning, not a drift verdict.
 */

/** Confidence (max probability) bins: 50 equal bins on [0, 1]. */
export const CONFIDENCE_EDGES: readonly number[] = Array.from({ length: 51 }, (_, i) => i / 50);

export const DEFAULT_THRESHOLDS = {
  js_distance: 0.1,
  wasserstein_norm: 0.1,
  psi_warn: 0.1,
  psi_drift: 0.25,
  ks_p_value: 0.05,
  /** Below this many samples in the window the verdict is `insufficient_data`. */
  min_samples: 200,
} as const;
export type DriftThresholds = { -readonly [K in keyof typeof DEFAULT_THRESHOLDS]: number };

/** Index of the bin holding `x` (right-closed last bin), or -1 outside [edges[0], edges[last]]. */
export function binIndex(x: number, edges: readonly number[]): number {
  const last = edges.length - 1;
  if (!(x >= edges[0]!) || !(x <= edges[last]!)) return -1;
  let lo = 0;
  let hi = last;
  while (hi - lo > 1) {
    const mid = (lo + hi) >>> 1;
    if (x >= edges[mid]!) lo = mid;
    else hi = mid;
  }
  return lo;
}

export function histogram(values: Iterable<number>, edges: readonly number[]): number[] {
  const counts = new Array<number>(edges.length - 1).fill(0);
  for (const v of values) {
    const i = binIndex(v, edges);
    if (i >= 0) counts[i]!++;
  }
  return counts;
}

/** Counts → shares summing to 1 (all zeros stay zeros). */
export function normalizeCounts(counts: readonly number[]): number[] {
  const total = counts.reduce((a, b) => a + b, 0);
  return total > 0 ? counts.map((c) => c / total) : counts.map(() => 0);
}

function assertSameLength(p: readonly number[], q: readonly number[]): void {
  if (p.length !== q.length) throw new Error(`distributions differ in length: ${p.length} vs ${q.length}`);
}

/** Jensen-Shannon distance (natural log) between two count or share vectors. */
export function jensenShannonDistance(p: readonly number[], q: readonly number[]): number {
  assertSameLength(p, q);
  const a = normalizeCounts(p);
  const b = normalizeCounts(q);
  let div = 0;
  for (let i = 0; i < a.length; i++) {
    const m = (a[i]! + b[i]!) / 2;
    if (a[i]! > 0) div += 0.5 * a[i]! * Math.log(a[i]! / m);
    if (b[i]! > 0) div += 0.5 * b[i]! * Math.log(b[i]! / m);
  }
  return Math.sqrt(Math.max(0, div));
}

/** Population stability index of `current` against `reference` (count or share vectors). */
export function psi(reference: readonly number[], current: readonly number[]): number {
  assertSameLength(reference, current);
  const r = normalizeCounts(reference).map((x) => (x === 0 ? 0.0001 : x));
  const c = normalizeCounts(current).map((x) => (x === 0 ? 0.0001 : x));
  let total = 0;
  for (let i = 0; i < r.length; i++) total += (c[i]! - r[i]!) * Math.log(c[i]! / r[i]!);
  return total;
}

/** W1 distance between two histograms on the same edges, mass at bin centres. */
export function wasserstein(reference: readonly number[], current: readonly number[], edges: readonly number[]): number {
  assertSameLength(reference, current);
  const r = normalizeCounts(reference);
  const c = normalizeCounts(current);
  // Between consecutive bin centres the CDFs are constant: W1 = Σ |F_r − F_c| · Δcentre.
  let fr = 0;
  let fc = 0;
  let total = 0;
  for (let i = 0; i < r.length - 1; i++) {
    fr += r[i]!;
    fc += c[i]!;
    const gap = (edges[i + 2]! - edges[i]!) / 2;
    total += Math.abs(fr - fc) * gap;
  }
  return total;
}

/** Standard deviation (population) of a histogram with mass at bin centres. */
export function histogramStd(counts: readonly number[], edges: readonly number[]): number {
  const w = normalizeCounts(counts);
  let mean = 0;
  for (let i = 0; i < w.length; i++) mean += w[i]! * ((edges[i]! + edges[i + 1]!) / 2);
  let variance = 0;
  for (let i = 0; i < w.length; i++) variance += w[i]! * ((edges[i]! + edges[i + 1]!) / 2 - mean) ** 2;
  return Math.sqrt(variance);
}

/** Evidently's normalized Wasserstein: W1 / std(reference). */
export function wassersteinNormalized(reference: readonly number[], current: readonly number[], edges: readonly number[]): number {
  const std = histogramStd(reference, edges);
  const w = wasserstein(reference, current, edges);
  return std > 0 ? w / std : w === 0 ? 0 : Infinity;
}

/** Kolmogorov's Q_KS(λ) = 2 Σ_{j≥1} (−1)^{j−1} e^{−2 j² λ²}. */
export function kolmogorovQ(lambda: number): number {
  if (lambda < 1e-3) return 1;
  let sum = 0;
  let prev = 0;
  for (let j = 1; j <= 100; j++) {
    const term = 2 * (j % 2 === 1 ? 1 : -1) * Math.exp(-2 * j * j * lambda * lambda);
    sum += term;
    if (Math.abs(term) <= 1e-10 * Math.abs(prev) || Math.abs(term) < 1e-16) return Math.min(1, Math.max(0, sum));
    prev = term;
  }
  return 1; // the series did not converge: only for tiny λ, where Q → 1
}

/** Two-sample KS on histograms with the same edges. */
export function ksTest(reference: readonly number[], current: readonly number[]): { statistic: number; p_value: number } {
  assertSameLength(reference, current);
  const n = reference.reduce((a, b) => a + b, 0);
  const m = current.reduce((a, b) => a + b, 0);
  if (n === 0 || m === 0) return { statistic: 0, p_value: 1 };
  let fr = 0;
  let fc = 0;
  let d = 0;
  for (let i = 0; i < reference.length; i++) {
    fr += reference[i]! / n;
    fc += current[i]! / m;
    d = Math.max(d, Math.abs(fr - fc));
  }
  const en = Math.sqrt((n * m) / (n + m));
  return { statistic: d, p_value: kolmogorovQ((en + 0.12 + 0.11 / en) * d) };
}

export type Verdict = 'ok' | 'warn' | 'drift';
export type OverallVerdict = Verdict | 'insufficient_data';

/** Distributions compared: reference (training) against current (live window). */
export interface DriftInput {
  labels: { reference: readonly number[]; current: readonly number[] };
  confidence: { reference: readonly number[]; current: readonly number[]; edges: readonly number[] };
  tokens: { reference: readonly number[]; current: readonly number[] };
}

export interface DriftResult {
  verdict: OverallVerdict;
  n_current: number;
  tests: {
    labels_js: { value: number; threshold: number; verdict: Verdict };
    tokens_js: { value: number; threshold: number; verdict: Verdict };
    confidence_psi: { value: number; warn: number; threshold: number; verdict: Verdict };
    confidence_wasserstein: { value: number; threshold: number; verdict: Verdict };
    confidence_ks: { statistic: number; p_value: number; threshold: number; verdict: Verdict };
  };
}

/** Merges every `factor` consecutive bins (the last group may be shorter). */
export function coarsen(counts: readonly number[], factor: number): number[] {
  const out: number[] = [];
  for (let i = 0; i < counts.length; i += factor) out.push(counts.slice(i, i + factor).reduce((a, b) => a + b, 0));
  return out;
}

/** PSI runs on at most this many bins. */
export const PSI_BINS = 10;

/** Bins merged per PSI bin: 50 confidence bins → 10 (factor 5); 10 bins stay as they are. */
export function psiBinFactor(bins: number): number {
  return Math.max(1, Math.floor(bins / PSI_BINS));
}

/**
 * Counts on `fromEdges` re-binned onto the coarser `toEdges` by summing whole bins, or null when
 * some edge of `toEdges` is not an edge of `fromEdges` (the bins cannot be merged exactly) or the
 * ranges differ. 50 bins of 0.02 → 10 bins of 0.1 is exact: i/50 and 5i/50 are the same doubles.
 */
export function rebin(counts: readonly number[], fromEdges: readonly number[], toEdges: readonly number[]): number[] | null {
  if (counts.length !== fromEdges.length - 1 || toEdges.length < 2) return null;
  const same = (a: number, b: number) => Math.abs(a - b) <= 1e-12;
  if (!same(fromEdges[0]!, toEdges[0]!) || !same(fromEdges[fromEdges.length - 1]!, toEdges[toEdges.length - 1]!)) return null;
  const out = new Array<number>(toEdges.length - 1).fill(0);
  let j = 0;
  for (let i = 0; i < counts.length; i++) {
    // Move to the target bin that starts at or before this source bin's start.
    while (j < out.length - 1 && fromEdges[i]! >= toEdges[j + 1]! - 1e-12) j++;
    if (!same(fromEdges[i]!, toEdges[j]!) && fromEdges[i]! < toEdges[j]!) return null;
    // A source bin must not straddle a target edge.
    if (fromEdges[i + 1]! > toEdges[j + 1]! + 1e-12) return null;
    out[j]! += counts[i]!;
  }
  // Every target edge must coincide with a source edge.
  for (const e of toEdges) if (!fromEdges.some((f) => same(f, e))) return null;
  return out;
}

/** Runs every test and combines them: any drift → drift, else any warning → warn. */
export function compareDistributions(input: DriftInput, thresholds: DriftThresholds = { ...DEFAULT_THRESHOLDS }): DriftResult {
  const n = input.labels.current.reduce((a, b) => a + b, 0);
  const over = (v: number, t: number): Verdict => (v >= t ? 'drift' : 'ok');
  const labelsJs = jensenShannonDistance(input.labels.reference, input.labels.current);
  const tokensJs = jensenShannonDistance(input.tokens.reference, input.tokens.current);
  const factor = psiBinFactor(input.confidence.reference.length);
  const psiValue = psi(coarsen(input.confidence.reference, factor), coarsen(input.confidence.current, factor));
  const wNorm = wassersteinNormalized(input.confidence.reference, input.confidence.current, input.confidence.edges);
  const ks = ksTest(input.confidence.reference, input.confidence.current);
  const tests: DriftResult['tests'] = {
    labels_js: { value: labelsJs, threshold: thresholds.js_distance, verdict: over(labelsJs, thresholds.js_distance) },
    tokens_js: { value: tokensJs, threshold: thresholds.js_distance, verdict: over(tokensJs, thresholds.js_distance) },
    confidence_psi: {
      value: psiValue,
      warn: thresholds.psi_warn,
      threshold: thresholds.psi_drift,
      verdict: psiValue >= thresholds.psi_drift ? 'drift' : psiValue >= thresholds.psi_warn ? 'warn' : 'ok',
    },
    confidence_wasserstein: {
      value: wNorm,
      threshold: thresholds.wasserstein_norm,
      verdict: over(wNorm, thresholds.wasserstein_norm),
    },
    confidence_ks: {
      ...ks,
      threshold: thresholds.ks_p_value,
      verdict: ks.p_value < thresholds.ks_p_value ? 'warn' : 'ok',
    },
  };
  const verdicts = Object.values(tests).map((t) => t.verdict);
  const verdict: OverallVerdict = n < thresholds.min_samples ? 'insufficient_data' : verdicts.includes('drift') ? 'drift' : verdicts.includes('warn') ? 'warn' : 'ok';
  return { verdict, n_current: n, tests };
}

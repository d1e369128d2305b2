/**
 * Pure drift aggregation: NDJSON samples → hourly summaries → window totals → drift report.
 *
 * No Workers or Node APIs: the worker, the tests and bench/backend.ts all run this same code.
 * Summaries hold counts only, so the cost of a report grows with the number of hourly summaries
 * in the window (each a fixed ~300 numbers), never with the number of samples behind them.
 */
import {
  CONFIDENCE_EDGES,
  DEFAULT_THRESHOLDS,
  binIndex,
  compareDistributions,
  normalizeCounts,
  type DriftResult,
  type DriftThresholds,
  type OverallVerdict,
} from '../../core/drift.js';
import { LABELS, labelIndex } from '../../core/labels.js';
import type { Reference } from '../../core/manifest.js';
import { TOKEN_BUCKETS } from '../../core/token-buckets.js';

/** Distinct languages kept per summary; the rest are counted as "other" (bounded object size). */
export const MAX_LANGUAGES = 64;

export interface HourSummary {
  schema: 1;
  model_version: string;
  /** `YYYY-MM-DDTHH` (UTC) of the samples' arrival. */
  hour: string;
  n: number;
  label_counts: number[];
  confidence: { edges: number[]; counts: number[] };
  /** Per bucket: how many samples contained a token in it; `n` = samples that carried tokens. */
  tokens: { buckets: number; counts: number[]; n: number };
  languages: Record<string, number>;
  consent: { stats: number; text: number };
  /** Lines that could not be read (never expected: the worker wrote them). */
  invalid_lines: number;
  /** What was folded: number of batch objects and a digest of their keys and etags. */
  source: { objects: number; digest: string };
  folded_at: string;
}

/** Histogram edges a version's summaries use: its reference's edges, else the core default. */
export function edgesFor(reference: Reference | undefined): number[] {
  return reference ? [...reference.confidence_hist.edges] : [...CONFIDENCE_EDGES];
}

export function emptySummary(modelVersion: string, hour: string, edges: readonly number[]): HourSummary {
  return {
    schema: 1,
    model_version: modelVersion,
    hour,
    n: 0,
    label_counts: LABELS.map(() => 0),
    confidence: { edges: [...edges], counts: new Array<number>(edges.length - 1).fill(0) },
    tokens: { buckets: TOKEN_BUCKETS, counts: new Array<number>(TOKEN_BUCKETS).fill(0), n: 0 },
    languages: {},
    consent: { stats: 0, text: 0 },
    invalid_lines: 0,
    source: { objects: 0, digest: '' },
    folded_at: '',
  };
}

interface SampleLine {
  label?: unknown;
  score?: unknown;
  lang?: unknown;
  tokens?: unknown;
  consent?: unknown;
}

/** Adds every sample line of one NDJSON object to `summary` (mutates it). */
export function foldNdjson(summary: HourSummary, ndjson: string): void {
  let start = 0;
  while (start < ndjson.length) {
    let end = ndjson.indexOf('\n', start);
    if (end < 0) end = ndjson.length;
    const line = ndjson.slice(start, end);
    start = end + 1;
    if (line.trim() === '') continue;
    let s: SampleLine;
    try {
      s = JSON.parse(line) as SampleLine;
    } catch {
      summary.invalid_lines++;
      continue;
    }
    const li = typeof s.label === 'string' ? labelIndex(s.label) : -1;
    if (li < 0 || typeof s.score !== 'number') {
      summary.invalid_lines++;
      continue;
    }
    summary.n++;
    summary.label_counts[li]!++;
    const bin = binIndex(s.score, summary.confidence.edges);
    if (bin >= 0) summary.confidence.counts[bin]!++;
    if (Array.isArray(s.tokens) && s.tokens.length > 0) {
      summary.tokens.n++;
      for (const t of s.tokens) {
        if (typeof t === 'number' && Number.isInteger(t) && t >= 0 && t < summary.tokens.buckets) summary.tokens.counts[t]!++;
      }
    }
    const lang = typeof s.lang === 'string' ? s.lang : 'und';
    if (lang in summary.languages || Object.keys(summary.languages).length < MAX_LANGUAGES) summary.languages[lang] = (summary.languages[lang] ?? 0) + 1;
    else summary.languages.other = (summary.languages.other ?? 0) + 1;
    if (s.consent === 'text') summary.consent.text++;
    else summary.consent.stats++;
  }
}

export interface WindowTotals {
  n: number;
  hours_with_data: number;
  /** Summaries left out because their confidence edges differ from the reference's. */
  skipped_summaries: number;
  label_counts: number[];
  confidence_counts: number[];
  token_counts: number[];
  token_n: number;
  languages: Record<string, number>;
}

/** Sums summaries whose confidence edges equal `edges`. */
export function sumSummaries(summaries: readonly HourSummary[], edges: readonly number[]): WindowTotals {
  const totals: WindowTotals = {
    n: 0,
    hours_with_data: 0,
    skipped_summaries: 0,
    label_counts: LABELS.map(() => 0),
    confidence_counts: new Array<number>(edges.length - 1).fill(0),
    token_counts: new Array<number>(TOKEN_BUCKETS).fill(0),
    token_n: 0,
    languages: {},
  };
  for (const s of summaries) {
    const sameEdges = s.confidence.edges.length === edges.length && s.confidence.edges.every((e, i) => e === edges[i]);
    if (!sameEdges || s.tokens.counts.length !== TOKEN_BUCKETS) {
      totals.skipped_summaries++;
      continue;
    }
    totals.n += s.n;
    if (s.n > 0) totals.hours_with_data++;
    for (let i = 0; i < totals.label_counts.length; i++) totals.label_counts[i]! += s.label_counts[i] ?? 0;
    for (let i = 0; i < totals.confidence_counts.length; i++) totals.confidence_counts[i]! += s.confidence.counts[i] ?? 0;
    for (let i = 0; i < TOKEN_BUCKETS; i++) totals.token_counts[i]! += s.tokens.counts[i] ?? 0;
    totals.token_n += s.tokens.n;
    for (const [lang, c] of Object.entries(s.languages)) totals.languages[lang] = (totals.languages[lang] ?? 0) + c;
  }
  return totals;
}

export type ReportVerdict = OverallVerdict | 'no_reference';

export interface DriftReport {
  schema: 1;
  model_version: string;
  generated_at: string;
  window: { hours: number; from: string; to: string };
  verdict: ReportVerdict;
  n: number;
  hours_with_data: number;
  thresholds: DriftThresholds;
  /** Null without a reference or without samples to compare. */
  tests: DriftResult['tests'] | null;
  /** Tests that could not run on this window, and why (their value is then 0 and verdict ok). */
  skipped: Array<{ test: string; reason: string }>;
  current: {
    label_counts: number[];
    label_shares: number[];
    confidence_counts: number[];
    mean_confidence: number | null;
    token_samples: number;
    languages: Record<string, number>;
  };
  reference: { source: string; n: number; label_shares: number[] } | null;
}

export interface ReportInput {
  modelVersion: string;
  summaries: readonly HourSummary[];
  reference: Reference | undefined;
  thresholds?: Partial<DriftThresholds>;
  window: { hours: number; fromMs: number; toMs: number };
  generatedAt: number;
}

function meanConfidence(counts: readonly number[], edges: readonly number[]): number | null {
  const total = counts.reduce((a, b) => a + b, 0);
  if (total === 0) return null;
  let sum = 0;
  for (let i = 0; i < counts.length; i++) sum += counts[i]! * ((edges[i]! + edges[i + 1]!) / 2);
  return sum / total;
}

/** The drift report of a window of summaries against the manifest's reference. */
export function buildReport(input: ReportInput): DriftReport {
  const thresholds: DriftThresholds = { ...DEFAULT_THRESHOLDS, ...input.thresholds };
  const ref = input.reference;
  const edges = edgesFor(ref);
  const totals = sumSummaries(input.summaries, edges);
  const skipped: DriftReport['skipped'] = [];
  if (totals.skipped_summaries > 0) {
    skipped.push({ test: 'summaries', reason: `${totals.skipped_summaries} hourly summaries use other histogram edges and were left out` });
  }
  const base = {
    schema: 1 as const,
    model_version: input.modelVersion,
    generated_at: new Date(input.generatedAt).toISOString(),
    window: { hours: input.window.hours, from: new Date(input.window.fromMs).toISOString(), to: new Date(input.window.toMs).toISOString() },
    n: totals.n,
    hours_with_data: totals.hours_with_data,
    thresholds,
    current: {
      label_counts: totals.label_counts,
      label_shares: normalizeCounts(totals.label_counts),
      confidence_counts: totals.confidence_counts,
      mean_confidence: meanConfidence(totals.confidence_counts, edges),
      token_samples: totals.token_n,
      languages: totals.languages,
    },
  };
  if (!ref) return { ...base, verdict: 'no_reference', tests: null, skipped, reference: null };
  const referenceView = { source: ref.source, n: ref.n, label_shares: [...ref.label_shares] };
  // Nothing to compare: distances against an empty histogram would be numbers without meaning.
  if (totals.n === 0) return { ...base, verdict: 'insufficient_data', tests: null, skipped, reference: referenceView };

  // Hashed tokens are optional on the wire: with none in the window, or a reference on another
  // bucket count, the token test has nothing to compare. Comparing the reference with itself keeps
  // core's combination rule unchanged while the test contributes "ok"; `skipped` says so.
  let tokenCurrent: readonly number[] = totals.token_counts;
  let tokenReference: readonly number[] = ref.token_hist.counts;
  if (ref.token_hist.counts.length !== TOKEN_BUCKETS) {
    skipped.push({ test: 'tokens_js', reason: `reference has ${ref.token_hist.counts.length} token buckets, samples use ${TOKEN_BUCKETS}` });
    tokenReference = tokenCurrent = new Array<number>(TOKEN_BUCKETS).fill(1);
  } else if (totals.token_n === 0) {
    skipped.push({ test: 'tokens_js', reason: 'no samples in the window carried hashed tokens' });
    tokenCurrent = tokenReference;
  }
  const result = compareDistributions(
    {
      labels: { reference: ref.label_shares, current: totals.label_counts },
      confidence: { reference: ref.confidence_hist.counts, current: totals.confidence_counts, edges },
      tokens: { reference: tokenReference, current: tokenCurrent },
    },
    thresholds,
  );
  return {
    ...base,
    verdict: result.verdict,
    tests: result.tests,
    skipped,
    reference: referenceView,
  };
}

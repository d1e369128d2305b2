/**
 * Pure drift aggregation: stored on-device aggregates → hourly summaries → window totals → drift
 * report.
 *
 * No Workers or Node APIs: the worker, the tests and bench/backend.ts all run this same code.
 * Drift reads only what consent "stats" sends: hourly aggregates (core/wire.ts), each already a set
 * of counts over at least ten comments. A summary is their sum for the hour they arrived in, so
 * the cost of a report grows with the number of hourly summaries in the window (each a fixed
 * ~300 numbers), never with the number of comments or clients behind them.
 */
import { DEFAULT_THRESHOLDS, compareDistributions, normalizeCounts, rebin, type DriftResult, type DriftThresholds, type OverallVerdict } from '../../core/drift.js';
import { LABELS } from '../../core/labels.js';
import type { Reference } from '../../core/manifest.js';
import { TOKEN_BUCKETS } from '../../core/token-buckets.js';
import { z } from 'zod';
import { AGGREGATE_CONFIDENCE_EDGES, AggregateItemSchema, LATENCY_BINS } from '../../core/wire.js';
import { jsonNumber } from '../lib/stored.js';

/** Distinct languages kept per summary; the rest are counted as "other" (bounded object size). */
export const MAX_LANGUAGES = 64;

/** Version 2: summaries of aggregates (10 confidence bins); version 1 summed per-comment samples. */
export const SUMMARY_SCHEMA = 2;

export interface HourSummary {
  /** Version 1 summaries may still be stored: read back, then left out of reports (other edges). */
  schema: typeof SUMMARY_SCHEMA | 1;
  model_version: string;
  /** `YYYY-MM-DDTHH` (UTC) the aggregates arrived in. */
  hour: string;
  /** Comments counted by the aggregates. */
  n: number;
  /** Aggregates summed (each from one install, over ≥ 10 comments). */
  aggregates: number;
  label_counts: number[];
  confidence: { edges: number[]; counts: number[] };
  /** Per bucket: how many comments contained a token in it; `n` = comments that carried tokens. */
  tokens: { buckets: number; counts: number[]; n: number };
  languages: Record<string, number>;
  /**
   * Scoring health from aggregates that report it (absent in summaries folded before it existed):
   * model calls per latency bin (core/wire.ts LATENCY_BOUNDS_MS), failed calls, and how many
   * aggregates reported them.
   */
  scoring?: ScoringTotals;
  /** Lines that could not be read (never expected: the worker validated and wrote them). */
  invalid_lines: number;
  /** What was folded: number of batch objects and a digest of their keys and etags. */
  source: { objects: number; digest: string };
  folded_at: string;
}

export interface ScoringTotals {
  latency_counts: number[];
  errors: number;
  /** Aggregates that carried latency or errors. */
  aggregates: number;
}

/**
 * Stored documents, read back with these (worker/lib/stored.ts). Loose objects: fields a newer
 * Worker added are carried through instead of dropped.
 */
const ScoringTotalsSchema = z.looseObject({ latency_counts: z.array(z.number()), errors: z.number(), aggregates: z.number() });

export const HourSummarySchema: z.ZodType<HourSummary> = z.looseObject({
  schema: z.union([z.literal(SUMMARY_SCHEMA), z.literal(1)]),
  model_version: z.string(),
  hour: z.string(),
  n: z.number(),
  // Absent in version 1 (which summed per-comment samples, not aggregates).
  aggregates: z.number().default(0),
  label_counts: z.array(z.number()),
  confidence: z.looseObject({ edges: z.array(z.number()), counts: z.array(z.number()) }),
  tokens: z.looseObject({ buckets: z.number(), counts: z.array(z.number()), n: z.number() }),
  languages: z.record(z.string(), z.number()),
  scoring: ScoringTotalsSchema.optional(),
  invalid_lines: z.number(),
  source: z.looseObject({ objects: z.number(), digest: z.string() }),
  folded_at: z.string(),
});

export function emptyScoring(): ScoringTotals {
  return { latency_counts: new Array<number>(LATENCY_BINS).fill(0), errors: 0, aggregates: 0 };
}

/** Adds `b` into `a` (mutates it); an absent `b` (an older summary) adds nothing. */
export function addScoring(a: ScoringTotals, b: ScoringTotals | undefined): void {
  if (!b || b.latency_counts.length !== LATENCY_BINS) return;
  for (let i = 0; i < LATENCY_BINS; i++) a.latency_counts[i]! += b.latency_counts[i] ?? 0;
  a.errors += b.errors;
  a.aggregates += b.aggregates;
}

/** Histogram edges of every summary: the aggregates' (the reference is re-binned onto them). */
export function summaryEdges(): number[] {
  return [...AGGREGATE_CONFIDENCE_EDGES];
}

export function emptySummary(modelVersion: string, hour: string, edges: readonly number[] = AGGREGATE_CONFIDENCE_EDGES): HourSummary {
  return {
    schema: SUMMARY_SCHEMA,
    model_version: modelVersion,
    hour,
    n: 0,
    aggregates: 0,
    label_counts: LABELS.map(() => 0),
    confidence: { edges: [...edges], counts: new Array<number>(edges.length - 1).fill(0) },
    tokens: { buckets: TOKEN_BUCKETS, counts: new Array<number>(TOKEN_BUCKETS).fill(0), n: 0 },
    languages: {},
    scoring: emptyScoring(),
    invalid_lines: 0,
    source: { objects: 0, digest: '' },
    folded_at: '',
  };
}

/** The aggregate fields of a stored line (the line also names its batch and versions). */
const AggregateLineSchema = AggregateItemSchema;
const AGGREGATE_FIELDS = ['hour_from', 'hour_to', 'n', 'label_counts', 'confidence_counts', 'languages', 'token_n', 'token_counts', 'latency_counts', 'errors'] as const;

/** Adds every aggregate line of one stored NDJSON object to `summary` (mutates it). */
export function foldAggregates(summary: HourSummary, ndjson: string): void {
  let start = 0;
  while (start < ndjson.length) {
    let end = ndjson.indexOf('\n', start);
    if (end < 0) end = ndjson.length;
    const line = ndjson.slice(start, end);
    start = end + 1;
    if (line.trim() === '') continue;
    let raw: Record<string, unknown>;
    try {
      raw = JSON.parse(line) as Record<string, unknown>;
    } catch {
      summary.invalid_lines++;
      continue;
    }
    // Stored JSON is re-validated, not cast: a line that would not pass the wire schema is
    // counted as invalid instead of skewing the sums.
    const parsed = AggregateLineSchema.safeParse(typeof raw === 'object' && raw !== null ? Object.fromEntries(AGGREGATE_FIELDS.map((k) => [k, raw[k]])) : raw);
    if (!parsed.success || parsed.data.confidence_counts.length !== summary.confidence.counts.length) {
      summary.invalid_lines++;
      continue;
    }
    const a = parsed.data;
    summary.n += a.n;
    summary.aggregates++;
    a.label_counts.forEach((c, i) => (summary.label_counts[i]! += c));
    a.confidence_counts.forEach((c, i) => (summary.confidence.counts[i]! += c));
    a.token_counts.forEach((c, i) => (summary.tokens.counts[i]! += c));
    summary.tokens.n += a.token_n;
    if (a.latency_counts !== undefined || a.errors !== undefined) {
      const scoring = (summary.scoring ??= emptyScoring());
      a.latency_counts?.forEach((c, i) => (scoring.latency_counts[i]! += c));
      scoring.errors += a.errors ?? 0;
      scoring.aggregates++;
    }
    for (const [lang, c] of Object.entries(a.languages)) {
      const key = Object.hasOwn(summary.languages, lang) || Object.keys(summary.languages).length < MAX_LANGUAGES ? lang : 'other';
      summary.languages[key] = (summary.languages[key] ?? 0) + c;
    }
  }
}

/**
 * Adds the summary `b` of the same hour (another ingest lane's) into `a` (mutates it). Languages
 * beyond MAX_LANGUAGES go to "other", as in {@link foldAggregates}.
 */
export function addSummary(a: HourSummary, b: HourSummary): void {
  if (b.confidence.counts.length !== a.confidence.counts.length || b.tokens.counts.length !== a.tokens.counts.length) {
    a.invalid_lines += b.aggregates;
    return;
  }
  a.n += b.n;
  a.aggregates += b.aggregates;
  a.invalid_lines += b.invalid_lines;
  b.label_counts.forEach((c, i) => (a.label_counts[i]! += c));
  b.confidence.counts.forEach((c, i) => (a.confidence.counts[i]! += c));
  b.tokens.counts.forEach((c, i) => (a.tokens.counts[i]! += c));
  a.tokens.n += b.tokens.n;
  if (b.scoring) addScoring((a.scoring ??= emptyScoring()), b.scoring);
  for (const [lang, c] of Object.entries(b.languages)) {
    const key = Object.hasOwn(a.languages, lang) || Object.keys(a.languages).length < MAX_LANGUAGES ? lang : 'other';
    a.languages[key] = (a.languages[key] ?? 0) + c;
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
    // Version-1 summaries (per-comment samples, 50 bins) fall out here, like any other mismatch.
    if (s.schema !== SUMMARY_SCHEMA || !sameEdges || s.tokens.counts.length !== TOKEN_BUCKETS) {
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
  /** 2: computed from on-device aggregates (10 confidence bins); 1 was per-comment samples. */
  schema: 2;
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
    /** On the aggregates' edges (`confidence_edges`). */
    confidence_counts: number[];
    confidence_edges: number[];
    mean_confidence: number | null;
    /** Comments in the window that carried hashed tokens. */
    token_samples: number;
    languages: Record<string, number>;
  };
  reference: { source: string; n: number; label_shares: number[] } | null;
}

const Verdict = z.enum(['ok', 'warn', 'drift']);
const ValueTest = z.looseObject({ value: jsonNumber, threshold: z.number(), verdict: Verdict });
const WindowSchema = z.looseObject({ hours: z.number(), from: z.string(), to: z.string() });
export const ReportVerdictSchema = z.enum(['ok', 'warn', 'drift', 'insufficient_data', 'no_reference']);

export const DriftReportSchema: z.ZodType<DriftReport> = z.looseObject({
  schema: z.literal(2),
  model_version: z.string(),
  generated_at: z.string(),
  window: WindowSchema,
  verdict: ReportVerdictSchema,
  n: z.number(),
  hours_with_data: z.number(),
  thresholds: z.looseObject({
    js_distance: z.number(),
    wasserstein_norm: z.number(),
    psi_warn: z.number(),
    psi_drift: z.number(),
    ks_p_value: z.number(),
    min_samples: z.number(),
  }),
  tests: z
    .looseObject({
      labels_js: ValueTest,
      tokens_js: ValueTest,
      confidence_psi: z.looseObject({ value: jsonNumber, warn: z.number(), threshold: z.number(), verdict: Verdict }),
      confidence_wasserstein: ValueTest,
      confidence_ks: z.looseObject({ statistic: jsonNumber, p_value: jsonNumber, threshold: z.number(), verdict: Verdict }),
    })
    .nullable(),
  skipped: z.array(z.looseObject({ test: z.string(), reason: z.string() })),
  current: z.looseObject({
    label_counts: z.array(z.number()),
    label_shares: z.array(jsonNumber),
    confidence_counts: z.array(z.number()),
    confidence_edges: z.array(z.number()),
    mean_confidence: z.number().nullable(),
    token_samples: z.number(),
    languages: z.record(z.string(), z.number()),
  }),
  reference: z.looseObject({ source: z.string(), n: z.number(), label_shares: z.array(jsonNumber) }).nullable(),
});

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
  const edges = summaryEdges();
  const totals = sumSummaries(input.summaries, edges);
  const skipped: DriftReport['skipped'] = [];
  if (totals.skipped_summaries > 0) {
    skipped.push({ test: 'summaries', reason: `${totals.skipped_summaries} hourly summaries use other histogram edges and were left out` });
  }
  const base = {
    schema: 2 as const,
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
      confidence_edges: edges,
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
    skipped.push({ test: 'tokens_js', reason: `reference has ${ref.token_hist.counts.length} token buckets, aggregates use ${TOKEN_BUCKETS}` });
    tokenReference = tokenCurrent = new Array<number>(TOKEN_BUCKETS).fill(1);
  } else if (totals.token_n === 0) {
    skipped.push({ test: 'tokens_js', reason: 'no comments in the window carried hashed tokens' });
    tokenCurrent = tokenReference;
  }
  // The reference histogram (50 bins at training time) is merged onto the aggregates' 10 bins.
  // Edges that cannot be merged exactly leave the confidence tests nothing to compare, as above.
  let confidenceReference: readonly number[] | null = rebin(ref.confidence_hist.counts, ref.confidence_hist.edges, edges);
  if (confidenceReference === null) {
    for (const test of ['confidence_psi', 'confidence_wasserstein', 'confidence_ks']) {
      skipped.push({ test, reason: `the reference's confidence edges cannot be merged onto the aggregates' ${edges.length - 1} bins` });
    }
    confidenceReference = totals.confidence_counts;
  }
  const result = compareDistributions(
    {
      labels: { reference: ref.label_shares, current: totals.label_counts },
      confidence: { reference: confidenceReference, current: totals.confidence_counts, edges },
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

/**
 * The live-monitoring report of one model version over a window: correction rate with its Wilson
 * interval, per-class precision/recall/F1 estimated from corrections, the drift verdict and
 * distances of its predictions against the training reference (drift/aggregate.ts), scoring
 * latency p50/p95/p99 and the scoring error rate from the on-device aggregates.
 *
 * {@link buildMonitorReport} is pure (summaries in, report out); the job stores one per version and
 * hour as `monitor/<version>/latest.json` and `monitor/<version>/history/<hour>.json`.
 */
import { z } from 'zod';
import { LABELS, type Label } from '../../core/labels.js';
import { estimatedConfusion, estimatedQuality, latencySummary, offDiagonal, wilson, type Interval } from '../../core/monitoring.js';
import { addScoring, emptyScoring, ReportVerdictSchema, type DriftReport, type HourSummary } from '../drift/aggregate.js';
import { HOUR_MS, hourKey, keys, listAll, mapLimit } from '../lib/keys.js';
import { getStored, jsonNumber } from '../lib/stored.js';
import { sumQuality, type QualitySummary } from './quality.js';

export const MONITOR_SCHEMA = 1;

export interface ClassEstimate {
  precision: number;
  recall: number;
  f1: number;
  /** Comments the model gave this label (sample rows). */
  predicted: number;
  /** Of those, corrected to another label. */
  corrected_away: number;
  /** Comments of other labels corrected to this one. */
  corrected_to: number;
}

export interface MonitorReport {
  schema: typeof MONITOR_SCHEMA;
  model_version: string;
  generated_at: string;
  window: { hours: number; from: string; to: string };
  /** Comments scored by text-consent installs (sample rows): the correction rate's denominator. */
  samples: number;
  /** Corrections that changed the label. */
  corrections: number;
  /** Every feedback row (a "correction" to the same label included). */
  feedback: number;
  /** corrections / samples, 95 % Wilson interval; null without samples. */
  correction_rate: Interval | null;
  /** 1 − correction rate (the same interval, mirrored): what the retraining floor applies to. */
  quality: { value: number; lower: number; upper: number } | null;
  /** Estimated from corrections (uncorrected comments counted as correct): optimistic; null without samples. */
  estimated: { macro_f1: number; accuracy: number; per_class: Record<Label, ClassEstimate>; confusion: number[][] } | null;
  /** The version's drift report of the same run (same window). */
  drift: { verdict: DriftReport['verdict']; n: number; tests: Record<string, number> | null } | null;
  /** Model-call latency from the aggregates (ms); null when no aggregate reported latency. */
  latency_ms: { p50: number | null; p95: number | null; p99: number | null; calls: number; histogram: number[] } | null;
  /** Failed model calls / all model calls, 95 % Wilson interval; null without calls. */
  error_rate: Interval | null;
  /** Comments in the window's aggregates, and how many aggregates reported scoring health. */
  aggregates: { comments: number; reporting_scoring: number };
}

const IntervalSchema = z.looseObject({ value: jsonNumber, lower: jsonNumber, upper: jsonNumber, k: z.number(), n: z.number() });
const ClassEstimateSchema = z.looseObject({
  precision: jsonNumber,
  recall: jsonNumber,
  f1: jsonNumber,
  predicted: z.number(),
  corrected_away: z.number(),
  corrected_to: z.number(),
});

/** A stored report, read back with this (worker/lib/stored.ts). */
export const MonitorReportSchema: z.ZodType<MonitorReport> = z.looseObject({
  schema: z.literal(MONITOR_SCHEMA),
  model_version: z.string(),
  generated_at: z.string(),
  window: z.looseObject({ hours: z.number(), from: z.string(), to: z.string() }),
  samples: z.number(),
  corrections: z.number(),
  feedback: z.number(),
  correction_rate: IntervalSchema.nullable(),
  quality: z.looseObject({ value: jsonNumber, lower: jsonNumber, upper: jsonNumber }).nullable(),
  estimated: z
    .looseObject({
      macro_f1: jsonNumber,
      accuracy: jsonNumber,
      per_class: z.looseObject({ negative: ClassEstimateSchema, neutral: ClassEstimateSchema, positive: ClassEstimateSchema }),
      confusion: z.array(z.array(z.number())),
    })
    .nullable(),
  drift: z.looseObject({ verdict: ReportVerdictSchema, n: z.number(), tests: z.record(z.string(), jsonNumber).nullable() }).nullable(),
  latency_ms: z.looseObject({ p50: z.number().nullable(), p95: z.number().nullable(), p99: z.number().nullable(), calls: z.number(), histogram: z.array(z.number()) }).nullable(),
  error_rate: IntervalSchema.nullable(),
  aggregates: z.looseObject({ comments: z.number(), reporting_scoring: z.number() }),
});

export interface MonitorInput {
  modelVersion: string;
  window: { hours: number; fromMs: number; toMs: number };
  summaries: readonly HourSummary[];
  quality: readonly QualitySummary[];
  drift: DriftReport | null;
  generatedAt: number;
}

/** Drift test values by name (KS: its p-value), as in /metrics. */
export function driftValues(report: DriftReport): Record<string, number> | null {
  if (!report.tests) return null;
  return Object.fromEntries(Object.entries(report.tests).map(([name, t]) => [name, 'value' in t ? t.value : t.p_value]));
}

export function buildMonitorReport(input: MonitorInput): MonitorReport {
  const q = sumQuality(input.quality);
  const corrections = offDiagonal(q.corrections);
  const rate = wilson(Math.min(corrections, q.samples), q.samples);
  let estimated: MonitorReport['estimated'] = null;
  if (q.samples > 0) {
    const quality = estimatedQuality(q.predicted, q.corrections);
    const perClass = {} as Record<Label, ClassEstimate>;
    LABELS.forEach((label, k) => {
      const m = quality.per_class[label];
      perClass[label] = {
        precision: m.precision,
        recall: m.recall,
        f1: m.f1,
        predicted: q.predicted[k]!,
        corrected_away: q.corrections[k]!.reduce((a, c, y) => a + (y === k ? 0 : c), 0),
        corrected_to: q.corrections.reduce((a, row, x) => a + (x === k ? 0 : row[k]!), 0),
      };
    });
    estimated = { macro_f1: quality.macro_f1, accuracy: quality.accuracy, per_class: perClass, confusion: estimatedConfusion(q.predicted, q.corrections) };
  }
  const scoring = emptyScoring();
  let comments = 0;
  for (const s of input.summaries) {
    addScoring(scoring, s.scoring);
    comments += s.n;
  }
  const latency = latencySummary(scoring.latency_counts);
  const calls = latency.calls + scoring.errors;
  return {
    schema: MONITOR_SCHEMA,
    model_version: input.modelVersion,
    generated_at: new Date(input.generatedAt).toISOString(),
    window: { hours: input.window.hours, from: new Date(input.window.fromMs).toISOString(), to: new Date(input.window.toMs).toISOString() },
    samples: q.samples,
    corrections,
    feedback: q.feedback,
    correction_rate: rate,
    quality: rate ? { value: 1 - rate.value, lower: 1 - rate.upper, upper: 1 - rate.lower } : null,
    estimated,
    drift: input.drift ? { verdict: input.drift.verdict, n: input.drift.n, tests: driftValues(input.drift) } : null,
    latency_ms: latency.calls > 0 ? { p50: latency.p50, p95: latency.p95, p99: latency.p99, calls: latency.calls, histogram: scoring.latency_counts } : null,
    error_rate: wilson(scoring.errors, calls),
    aggregates: { comments, reporting_scoring: scoring.aggregates },
  };
}

/** Stores a report as latest and as the history entry of its window's last hour (a re-run overwrites). */
export async function storeMonitorReport(bucket: R2Bucket, report: MonitorReport): Promise<void> {
  const hour = hourKey(Date.parse(report.window.to) - HOUR_MS);
  const body = JSON.stringify(report);
  const meta = { httpMetadata: { contentType: 'application/json' } };
  await bucket.put(keys.monitorHistory(report.model_version, hour), body, meta);
  await bucket.put(keys.monitorLatest(report.model_version), body, meta);
}

export async function latestMonitorReport(bucket: R2Bucket, version: string): Promise<MonitorReport | null> {
  return getStored(bucket, keys.monitorLatest(version), MonitorReportSchema);
}

/** Stored reports of `version`, newest first. */
export async function monitorHistory(bucket: R2Bucket, version: string, limit: number): Promise<MonitorReport[]> {
  const listed = (await listAll(bucket, keys.monitorHistoryPrefix(version)))
    .map((o) => o.key)
    .sort()
    .slice(-limit)
    .reverse();
  const bodies = await mapLimit(listed, 16, (k) => getStored(bucket, k, MonitorReportSchema));
  return bodies.filter((r): r is MonitorReport => r !== null);
}

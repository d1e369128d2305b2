/**
 * Hourly quality summaries: per model version and hour, how many comments installs under consent
 * "text" scored (one sample row each, per predicted label) and how many of them they corrected
 * (feedback rows, per predicted and corrected label). Counts only: the texts are not read into
 * anything that is kept.
 *
 * Why samples and not the aggregates as the denominator: corrections come only from installs with
 * the text consent, and those installs send a sample row for every comment they score. Dividing by
 * the aggregates (every install with either consent) would mix two populations and understate the
 * rate by the share of statistics-only installs.
 *
 * Folded like the drift summaries (drift/pipeline.ts): keyed by (version, hour the rows arrived
 * in), summed from the counts the ingest lanes keep (telemetry/lanes.ts) with a digest of the lane
 * states' etags, so an unchanged hour is skipped and a late batch re-folds its hour from scratch:
 * never counted twice, never missed.
 */
import { z } from 'zod';
import { LABELS, labelIndex } from '../../core/labels.js';
import { LabelSchema } from '../../core/wire.js';
import { sha256Hex } from '../lib/hash.js';
import { HOUR_MS, hourKey, hourStart, hoursBetween, keys, listAll, mapLimit, type HourKey } from '../lib/keys.js';
import { statesFingerprint, type HourStates, type QualityCounts } from '../telemetry/lanes.js';
import { FOLD_GRACE_MS } from '../drift/summaries.js';

export const QUALITY_SCHEMA = 1;

export interface QualitySummary extends QualityCounts {
  schema: typeof QUALITY_SCHEMA;
  model_version: string;
  hour: HourKey;
  /** Lane states the hour was summed from, and their fingerprint (re-folded when it changes). */
  source: { objects: number; digest: string };
  folded_at: string;
}

export function emptyQuality(version: string, hour: HourKey): QualitySummary {
  return {
    schema: QUALITY_SCHEMA,
    model_version: version,
    hour,
    samples: 0,
    predicted: LABELS.map(() => 0),
    feedback: 0,
    corrections: LABELS.map(() => LABELS.map(() => 0)),
    invalid_lines: 0,
    source: { objects: 0, digest: '' },
    folded_at: '',
  };
}

/** The fields read from stored rows (re-validated, not cast: a broken line counts as invalid). */
const SampleLine = z.object({ label: LabelSchema });
const FeedbackLine = z.object({ predicted: LabelSchema, corrected: LabelSchema });

function lines(ndjson: string): string[] {
  return ndjson.split('\n').filter((l) => l.trim() !== '');
}

/** Adds the rows of one stored samples object to `q` (mutates it). */
export function foldSamples(q: QualityCounts, ndjson: string): void {
  for (const line of lines(ndjson)) {
    const parsed = SampleLine.safeParse(safeJson(line));
    if (!parsed.success) {
      q.invalid_lines++;
      continue;
    }
    q.samples++;
    q.predicted[labelIndex(parsed.data.label)]!++;
  }
}

/** Adds the rows of one stored feedback object to `q` (mutates it). */
export function foldFeedback(q: QualityCounts, ndjson: string): void {
  for (const line of lines(ndjson)) {
    const parsed = FeedbackLine.safeParse(safeJson(line));
    if (!parsed.success) {
      q.invalid_lines++;
      continue;
    }
    q.feedback++;
    q.corrections[labelIndex(parsed.data.predicted)]![labelIndex(parsed.data.corrected)]!++;
  }
}

function safeJson(line: string): unknown {
  try {
    return JSON.parse(line);
  } catch {
    return null;
  }
}

/**
 * Sums, for every hour of [fromMs, toMs) whose lane states changed since its summary (completed
 * hours only, unless `includeCurrent`), the lanes' quality counts of `version` into that hour's
 * summary. The consumers count rows as they store them (telemetry/consumer.ts): no stored row is
 * read here. Returns the hours (re)folded.
 */
export async function foldQualityHours(bucket: R2Bucket, states: HourStates, version: string, fromMs: number, toMs: number, now: number, includeCurrent = false): Promise<HourKey[]> {
  const hours = hoursBetween(fromMs, toMs).filter((h) => includeCurrent || hourStart(h) + HOUR_MS + FOLD_GRACE_MS <= now);
  if (hours.length === 0) return [];
  const existing = new Map<string, string>();
  const listed = await listAll(bucket, keys.qualityPrefix(version), { startAfter: keys.quality(version, hourKey(hourStart(hours[0]!) - HOUR_MS)), include: ['customMetadata'] });
  for (const o of listed) existing.set(o.key, o.customMetadata?.digest ?? '');

  const folded: HourKey[] = [];
  for (const hour of hours) {
    const heads = (await states.heads(hour)).filter((h) => h.quality === null || h.quality.includes(version));
    if (heads.length === 0) continue;
    const digest = await sha256Hex(statesFingerprint(heads));
    if (existing.get(keys.quality(version, hour)) === digest) continue;
    const lanes = (await states.get(hour)).filter((s) => heads.some((h) => h.lane === s.lane) && Object.hasOwn(s.state.quality, version));
    if (lanes.length === 0) continue;
    const q = emptyQuality(version, hour);
    for (const { state } of lanes) addQualityCounts(q, state.quality[version]!);
    q.source = { objects: lanes.length, digest };
    q.folded_at = new Date(now).toISOString();
    await bucket.put(keys.quality(version, hour), JSON.stringify(q), { httpMetadata: { contentType: 'application/json' }, customMetadata: { digest } });
    folded.push(hour);
  }
  return folded;
}

/** Adds `b` into `a` (mutates it). */
export function addQualityCounts(a: QualityCounts, b: QualityCounts): void {
  a.samples += b.samples;
  a.feedback += b.feedback;
  a.invalid_lines += b.invalid_lines;
  b.predicted.forEach((c, i) => (a.predicted[i]! += c));
  b.corrections.forEach((row, x) => row.forEach((c, y) => (a.corrections[x]![y]! += c)));
}

const QualitySummarySchema = z.object({
  schema: z.literal(QUALITY_SCHEMA),
  model_version: z.string(),
  hour: z.string(),
  samples: z.number().int().min(0),
  predicted: z.array(z.number().int().min(0)).length(LABELS.length),
  feedback: z.number().int().min(0),
  corrections: z.array(z.array(z.number().int().min(0)).length(LABELS.length)).length(LABELS.length),
  invalid_lines: z.number(),
  source: z.object({ objects: z.number(), digest: z.string() }),
  folded_at: z.string(),
});

/** Quality summaries of `version` in [fromMs, toMs), oldest first (a summary that does not parse is left out). */
export async function loadQuality(bucket: R2Bucket, version: string, fromMs: number, toMs: number): Promise<QualitySummary[]> {
  const fromKey = keys.quality(version, hourKey(fromMs));
  const toKey = keys.quality(version, hourKey(toMs));
  const listed = (await listAll(bucket, keys.qualityPrefix(version), { startAfter: keys.quality(version, hourKey(fromMs - HOUR_MS)) })).filter((o) => o.key >= fromKey && o.key < toKey);
  const bodies = await mapLimit(listed, 16, async (o) => {
    const parsed = QualitySummarySchema.safeParse(await (await bucket.get(o.key))?.json());
    return parsed.success ? (parsed.data as QualitySummary) : null;
  });
  return bodies.filter((b): b is QualitySummary => b !== null);
}

export interface QualityTotals {
  samples: number;
  predicted: number[];
  feedback: number;
  corrections: number[][];
  hours_with_data: number;
}

/** Sums quality summaries. */
export function sumQuality(summaries: readonly QualitySummary[]): QualityTotals {
  const t: QualityTotals = { samples: 0, predicted: LABELS.map(() => 0), feedback: 0, corrections: LABELS.map(() => LABELS.map(() => 0)), hours_with_data: 0 };
  for (const q of summaries) {
    t.samples += q.samples;
    t.feedback += q.feedback;
    if (q.samples + q.feedback > 0) t.hours_with_data++;
    q.predicted.forEach((c, i) => (t.predicted[i]! += c));
    q.corrections.forEach((row, x) => row.forEach((c, y) => (t.corrections[x]![y]! += c)));
  }
  return t;
}

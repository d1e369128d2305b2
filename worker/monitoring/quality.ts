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
 * in), with a digest of the two partitions' keys and etags, so an unchanged hour is skipped and a
 * late batch re-folds its hour from scratch: never counted twice, never missed.
 */
import { z } from 'zod';
import { LABELS, labelIndex } from '../../core/labels.js';
import { LabelSchema } from '../../core/wire.js';
import { sha256Hex } from '../lib/hash.js';
import { HOUR_MS, hourKey, hourStart, hoursBetween, keys, listAll, mapLimit, type HourKey } from '../lib/keys.js';
import { FOLD_GRACE_MS } from '../drift/summaries.js';

export const QUALITY_SCHEMA = 1;

export interface QualitySummary {
  schema: typeof QUALITY_SCHEMA;
  model_version: string;
  hour: HourKey;
  /** Sample rows: comments scored by text-consent installs. */
  samples: number;
  /** Sample rows per predicted label (LABELS order). */
  predicted: number[];
  /** Feedback rows (corrections, including any that kept the label). */
  feedback: number;
  /** corrections[predicted][corrected] (LABELS order). */
  corrections: number[][];
  invalid_lines: number;
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
export function foldSamples(q: QualitySummary, ndjson: string): void {
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
export function foldFeedback(q: QualitySummary, ndjson: string): void {
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
 * Folds every hour of [fromMs, toMs) whose samples or feedback partitions changed since their
 * summary (completed hours only, unless `includeCurrent`). Returns the hours (re)folded.
 */
export async function foldQualityHours(bucket: R2Bucket, version: string, fromMs: number, toMs: number, now: number, includeCurrent = false): Promise<HourKey[]> {
  const hours = hoursBetween(fromMs, toMs).filter((h) => includeCurrent || hourStart(h) + HOUR_MS + FOLD_GRACE_MS <= now);
  if (hours.length === 0) return [];
  const existing = new Map<string, string>();
  const listed = await listAll(bucket, keys.qualityPrefix(version), { startAfter: keys.quality(version, hourKey(hourStart(hours[0]!) - HOUR_MS)), include: ['customMetadata'] });
  for (const o of listed) existing.set(o.key, o.customMetadata?.digest ?? '');

  const folded: HourKey[] = [];
  for (const hour of hours) {
    const [samples, feedback] = await Promise.all([listAll(bucket, keys.partitionPrefix('samples', version, hour)), listAll(bucket, keys.partitionPrefix('feedback', version, hour))]);
    if (samples.length === 0 && feedback.length === 0) continue;
    const digest = await sha256Hex(
      [...samples, ...feedback]
        .map((o) => `${o.key} ${o.etag}`)
        .sort()
        .join('\n'),
    );
    if (existing.get(keys.quality(version, hour)) === digest) continue;
    const q = emptyQuality(version, hour);
    const read = (o: R2Object) => bucket.get(o.key).then((b) => b?.text() ?? null);
    for (const t of await mapLimit(samples, 8, read)) if (t !== null) foldSamples(q, t);
    for (const t of await mapLimit(feedback, 8, read)) if (t !== null) foldFeedback(q, t);
    q.source = { objects: samples.length + feedback.length, digest };
    q.folded_at = new Date(now).toISOString();
    await bucket.put(keys.quality(version, hour), JSON.stringify(q), { httpMetadata: { contentType: 'application/json' }, customMetadata: { digest } });
    folded.push(hour);
  }
  return folded;
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

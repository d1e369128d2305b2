/**
 * Hourly summaries on R2 and the report window: what the drift job writes and what every reader
 * of the summaries (drift reports, live monitoring, the dashboard) reads. Apart from
 * drift/pipeline.ts so that readers do not import the job (which runs them).
 */
import { HOUR_MS, hourKey, keys, listAll, mapLimit } from '../lib/keys.js';
import { getStored } from '../lib/stored.js';
import { HourSummarySchema, type HourSummary } from './aggregate.js';

/** An hour is folded once it ended at least this long ago (in-flight writes land first). */
export const FOLD_GRACE_MS = 2 * 60_000;

/**
 * The report window: the `hours` hours that end with the last completed hour before `now` (or, with
 * `includeCurrent`, with the hour in progress; re-folding keeps that exact as the hour fills up).
 */
export function reportWindow(now: number, hours: number, includeCurrent = false): { hours: number; fromMs: number; toMs: number } {
  const toMs = includeCurrent ? Math.floor(now / HOUR_MS) * HOUR_MS + HOUR_MS : Math.floor((now - FOLD_GRACE_MS) / HOUR_MS) * HOUR_MS;
  return { hours, fromMs: toMs - hours * HOUR_MS, toMs };
}

/** Summaries of `version` in [fromMs, toMs) that exist, oldest first (one list + one GET each). */
export async function loadSummaries(bucket: R2Bucket, version: string, fromMs: number, toMs: number): Promise<HourSummary[]> {
  const prefix = keys.summaryPrefix(version);
  const fromKey = keys.summary(version, hourKey(fromMs));
  const toKey = keys.summary(version, hourKey(toMs));
  const listed = (await listAll(bucket, prefix, { startAfter: keys.summary(version, hourKey(fromMs - HOUR_MS)) })).filter((o) => o.key >= fromKey && o.key < toKey);
  const bodies = await mapLimit(listed, 16, (o) => getStored(bucket, o.key, HourSummarySchema));
  return bodies.filter((b): b is HourSummary => b !== null);
}

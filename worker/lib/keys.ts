/**
 * The R2 key layout, in one place (documented in docs/API.md "Storage layout").
 *
 * MODELS bucket:
 *   blobs/sha256/<hex>                 file contents, content-addressed (verified on upload)
 *   staging/<uuid>                     an upload being verified (deleted right after)
 *   pending/<version>/manifest.json    manifest of an upload in progress (never served)
 *   models/<version>/manifest.json     published manifest: its existence is what publishes a version
 *   models/<version>/manifest.sig      its release signature (written by publish-model; the Worker holds no key)
 *   channels/<channel>.json            current version, rollback stack, history
 *   apikeys/<sha256 of the key>.json   an API key of POST /v1/predict: {id, name, created_at, revoked_at}
 *
 * TELEMETRY bucket:
 *   ingest/state/<YYYY-MM-DDTHH>/lane-<n>.json                      a lane's hour: batch ids, segments, summaries (telemetry/lanes.ts)
 *   ingest/<kind>/<YYYY-MM-DDTHH>/lane-<n>/<seq>-<tag>.ndjson       one delivery's batches of one kind (kind = aggregates | samples | feedback;
 *                                                                   first in the key so each kind can have its own R2 lifecycle rule)
 *   dead/<YYYY-MM-DDTHH>/<id>.ndjson                                messages that exhausted their retries (dead-letter queue)
 *   summaries/<model_version>/<YYYY-MM-DDTHH>.json                  hourly fold of aggregates
 *   drift/<model_version>/latest.json | history/<hour>.json | alerts/<hour>.json
 *   metrics/totals.json, metrics/deltas/<ms>-<rand>.json            persisted counters
 *   votes/<text_hash>/<voter>.json                                  one client's correction of one text
 *   quality/<model_version>/<YYYY-MM-DDTHH>.json                    hourly fold of samples and corrections (counts only)
 *   monitor/<model_version>/latest.json | history/<hour>.json       live-monitoring reports
 *   canary/<channel>/<candidate>/<YYYY-MM-DDTHH>.json               one canary comparison window (keyed by its end hour)
 *   events/<YYYY-MM-DDTHH>-<type>-<subject>.json                    retrain recommendations, automatic rollbacks
 */

import type { TelemetryKind } from '../../core/wire.js';
export type { TelemetryKind } from '../../core/wire.js';

export const keys = {
  blob: (sha256: string) => `blobs/sha256/${sha256}`,
  staging: (id: string) => `staging/${id}`,
  pendingManifest: (version: string) => `pending/${version}/manifest.json`,
  manifest: (version: string) => `models/${version}/manifest.json`,
  manifestSignature: (version: string) => `models/${version}/manifest.sig`,
  manifestPrefix: 'models/',
  channel: (channel: string) => `channels/${channel}.json`,
  channelPrefix: 'channels/',
  apiKey: (sha256: string) => `apikeys/${sha256}.json`,
  apiKeyPrefix: 'apikeys/',

  ingestState: (hour: HourKey, lane: number) => `ingest/state/${hour}/lane-${lane}.json`,
  // Sequence numbers zero-padded so a lane's segments sort in the order they were written; the tag
  // (random) keeps two writers that read the same state from ever writing the same key.
  ingestSegment: (hour: HourKey, lane: number, seq: number, kind: TelemetryKind, tag: string) => `ingest/${kind}/${hour}/lane-${lane}/${String(seq).padStart(6, '0')}-${tag}.ndjson`,
  deadLetter: (hour: HourKey, id: string) => `dead/${hour}/${id}.ndjson`,
  deadLetterPrefix: (hour: HourKey) => `dead/${hour}/`,

  summary: (version: string, hour: HourKey) => `summaries/${version}/${hour}.json`,
  summaryPrefix: (version: string) => `summaries/${version}/`,
  driftLatest: (version: string) => `drift/${version}/latest.json`,
  driftHistory: (version: string, hour: HourKey) => `drift/${version}/history/${hour}.json`,
  driftHistoryPrefix: (version: string) => `drift/${version}/history/`,
  driftAlert: (version: string, hour: HourKey) => `drift/${version}/alerts/${hour}.json`,
  driftAlertPrefix: (version: string) => `drift/${version}/alerts/`,
  driftPrefix: 'drift/',

  quality: (version: string, hour: HourKey) => `quality/${version}/${hour}.json`,
  qualityPrefix: (version: string) => `quality/${version}/`,
  monitorLatest: (version: string) => `monitor/${version}/latest.json`,
  monitorHistory: (version: string, hour: HourKey) => `monitor/${version}/history/${hour}.json`,
  monitorHistoryPrefix: (version: string) => `monitor/${version}/history/`,
  monitorPrefix: 'monitor/',
  canaryWindow: (channel: string, candidate: string, endHour: HourKey) => `canary/${channel}/${candidate}/${endHour}.json`,
  canaryWindowPrefix: (channel: string, candidate: string) => `canary/${channel}/${candidate}/`,
  event: (id: string) => `events/${id}.json`,
  eventPrefix: 'events/',

  vote: (textHash: string, voter: string) => `votes/${textHash}/${voter}.json`,
  votePrefix: 'votes/',

  metricsTotals: 'metrics/totals.json',
  metricsDeltaPrefix: 'metrics/deltas/',
} as const;

/** An hour in UTC as `YYYY-MM-DDTHH`: sorts chronologically as a string. */
export type HourKey = string;

export const HOUR_MS = 3_600_000;

export function hourKey(ms: number): HourKey {
  return new Date(ms).toISOString().slice(0, 13);
}

/** Start of the hour `key` in ms since the epoch. */
export function hourStart(key: HourKey): number {
  return Date.parse(`${key}:00:00.000Z`);
}

export function isHourKey(s: string): boolean {
  // "2026-03-01T25" matches the pattern but is no time at all: check before formatting it.
  return /^\d{4}-\d{2}-\d{2}T\d{2}$/.test(s) && Number.isFinite(hourStart(s)) && hourKey(hourStart(s)) === s;
}

/** Hour keys of [fromMs, toMs), oldest first. */
export function hoursBetween(fromMs: number, toMs: number): HourKey[] {
  const out: HourKey[] = [];
  for (let t = Math.floor(fromMs / HOUR_MS) * HOUR_MS; t < toMs; t += HOUR_MS) out.push(hourKey(t));
  return out;
}

/** Every key under `prefix` (all pages), optionally with custom metadata. */
export async function listAll(bucket: R2Bucket, prefix: string, options: { startAfter?: string; include?: ('customMetadata' | 'httpMetadata')[] } = {}): Promise<R2Object[]> {
  const out: R2Object[] = [];
  let cursor: string | undefined;
  for (;;) {
    const page = await bucket.list({
      prefix,
      cursor,
      ...(cursor === undefined && options.startAfter !== undefined ? { startAfter: options.startAfter } : {}),
      ...(options.include ? { include: options.include } : {}),
    });
    out.push(...page.objects);
    if (!page.truncated) return out;
    cursor = page.cursor;
  }
}

/** The delimited "folders" directly under `prefix` (e.g. model versions under `samples/`). */
export async function listPrefixes(bucket: R2Bucket, prefix: string): Promise<string[]> {
  const out: string[] = [];
  let cursor: string | undefined;
  for (;;) {
    const page = await bucket.list({ prefix, delimiter: '/', cursor });
    out.push(...page.delimitedPrefixes.map((p) => p.slice(prefix.length, -1)));
    if (!page.truncated) return out;
    cursor = page.cursor;
  }
}

/** Runs `fn` over `items` with at most `limit` in flight; results in input order. */
export async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const workers = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await fn(items[i]!, i);
    }
  });
  await Promise.all(workers);
  return results;
}

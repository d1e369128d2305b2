/**
 * Telemetry ingest: validation beyond the schema (sizes as 413, timestamps, known model version),
 * server-side scrubbing, NDJSON encoding and exactly-once storage per batch_id.
 *
 * Three kinds: `aggregates` (consent "stats": on-device hourly counts over ≥ 10 comments, the only
 * thing drift reads), `samples` and `feedback` (consent "text": scrubbed per-comment rows for
 * retraining). No stored time is finer than an hour: item times arrive hour-aligned (the schema
 * refuses anything else) and the receive time is kept as its hour only (docs/PRIVACY.md).
 *
 * Exactly once, also under concurrent duplicates and retries that arrive hours later:
 * 1. A claim `claims/<kind>/<batch_id>.json` is created with a create-only conditional put. It
 *    fixes the batch's partition key (the hour the batch was first received) and the sha256 of its
 *    NDJSON.
 * 2. The NDJSON is written to that key, also create-only.
 * Whoever loses either race reads the claim: same content → duplicate (200); different content
 * under the same batch_id → 409. If the first writer died between 1 and 2, the next retry finds
 * the claim without data and writes the data itself, to the claimed key, create-only: a batch can
 * only ever exist at one key, once.
 */
import { z } from 'zod';
import { emptyScrubCounts, scrub, type ScrubKind } from '../../core/scrub.js';
import {
  AggregatesBatchSchema,
  FeedbackBatchSchema,
  KIND_MAX_ITEMS,
  LIMITS,
  SamplesBatchSchema,
  TELEMETRY_KINDS,
  hourFloor,
  issuesOf,
  textTooLong,
  type AggregatesBatch,
  type FeedbackBatch,
  type IngestResponse,
  type SamplesBatch,
} from '../../core/wire.js';
import type { Config } from '../env.js';
import { ApiError, type ErrorDetail } from '../lib/errors.js';
import { sha256Hex } from '../lib/hash.js';
import { parseObject } from '../lib/stored.js';
import { hourKey, keys, type HourKey, type TelemetryKind } from '../lib/keys.js';

export type AnyBatch = SamplesBatch | FeedbackBatch | AggregatesBatch;

export interface Claim {
  batch_id: string;
  kind: TelemetryKind;
  key: string;
  sha256: string;
  items: number;
  received_at: string;
}

/** A stored claim, read back with this (worker/lib/stored.ts). */
const ClaimSchema: z.ZodType<Claim> = z.looseObject({
  batch_id: z.string(),
  kind: z.enum(TELEMETRY_KINDS),
  key: z.string(),
  sha256: z.string(),
  items: z.number(),
  received_at: z.string(),
});

/** 413s for what the schema would only call invalid: too many items, a text over 2 KB. */
export function checkSizeLimits(value: unknown, kind: TelemetryKind = 'samples'): void {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return;
  const items = (value as { items?: unknown }).items;
  if (!Array.isArray(items)) return;
  const max = KIND_MAX_ITEMS[kind];
  if (items.length > max) {
    throw new ApiError(413, 'too_many_items', `a batch holds at most ${max} items, got ${items.length}`, [{ path: 'items', message: `at most ${max} items` }]);
  }
  const details: ErrorDetail[] = [];
  items.forEach((item: unknown, i) => {
    const text = typeof item === 'object' && item !== null ? (item as { text?: unknown }).text : undefined;
    if (typeof text === 'string' && textTooLong(text)) details.push({ path: `items.${i}.text`, message: `longer than ${LIMITS.text_bytes} UTF-8 bytes` });
  });
  if (details.length > 0) throw new ApiError(413, 'text_too_long', `text is limited to ${LIMITS.text_bytes} UTF-8 bytes per item`, details);
}

const SCHEMAS = { samples: SamplesBatchSchema, feedback: FeedbackBatchSchema, aggregates: AggregatesBatchSchema } as const;

export function parseBatch(kind: 'samples', value: unknown): SamplesBatch;
export function parseBatch(kind: 'feedback', value: unknown): FeedbackBatch;
export function parseBatch(kind: 'aggregates', value: unknown): AggregatesBatch;
export function parseBatch(kind: TelemetryKind, value: unknown): AnyBatch;
export function parseBatch(kind: TelemetryKind, value: unknown): AnyBatch {
  const result = SCHEMAS[kind].safeParse(value);
  if (!result.success) throw new ApiError(400, 'validation_failed', 'the batch does not match the schema', issuesOf(result.error));
  return result.data;
}

/**
 * Item times must be recent (within the configured age) and not from the future (clock skew
 * allowed). An aggregate's whole range counts: it must start within the age and have ended (its
 * comments are all in the past, so a range still in progress is refused).
 */
export function checkTimestamps(kind: TelemetryKind, batch: AnyBatch, now: number, config: Config): void {
  const details: ErrorDetail[] = [];
  const oldest = now - config.sampleMaxAgeMs;
  const newest = now + config.sampleMaxFutureMs;
  const hours = config.sampleMaxAgeMs / 3_600_000;
  if (kind === 'aggregates') {
    (batch as AggregatesBatch).items.forEach((item, i) => {
      if (item.hour_from < oldest) details.push({ path: `items.${i}.hour_from`, message: `older than ${hours} hours` });
      if (item.hour_to > newest) details.push({ path: `items.${i}.hour_to`, message: 'the range has not ended yet' });
    });
  } else {
    (batch as SamplesBatch | FeedbackBatch).items.forEach((item, i) => {
      if (item.ts < oldest) details.push({ path: `items.${i}.ts`, message: `older than ${hours} hours` });
      else if (item.ts > newest) details.push({ path: `items.${i}.ts`, message: 'in the future' });
    });
  }
  if (details.length > 0) throw new ApiError(400, 'invalid_timestamp', 'item timestamps are outside the accepted window', details);
}

export interface Encoded {
  ndjson: string;
  items: number;
  scrubbed: Record<ScrubKind, number>;
}

const SCRUB_ZERO = emptyScrubCounts;

function scrubInto(text: string, counts: Record<ScrubKind, number>): string {
  const r = scrub(text);
  for (const k of Object.keys(counts) as ScrubKind[]) counts[k] += r.counts[k];
  return r.text;
}

/**
 * One NDJSON line per item, fields in a fixed order (so a retried batch encodes to the same bytes).
 * Never stored: client_id (only used for rate limiting) and anything the schema did not accept.
 * The receive time is kept to the hour (`received_at`, samples and feedback; an aggregate's
 * partition is that hour).
 */
export function encodeBatch(kind: TelemetryKind, batch: AnyBatch, receivedAt: number): Encoded {
  const scrubbed = SCRUB_ZERO();
  const received_at = new Date(hourFloor(receivedAt)).toISOString();
  const extension_version = batch.extension_version === undefined ? undefined : scrubInto(batch.extension_version, scrubbed);
  const lines: string[] = [];
  if (kind === 'aggregates') {
    for (const item of (batch as AggregatesBatch).items) {
      lines.push(
        JSON.stringify({
          batch_id: batch.batch_id,
          model_version: batch.model_version,
          extension_version,
          consent: 'stats',
          hour_from: item.hour_from,
          hour_to: item.hour_to,
          n: item.n,
          label_counts: item.label_counts,
          confidence_counts: item.confidence_counts,
          // Sorted, so the same counts always encode to the same bytes.
          languages: Object.fromEntries(Object.entries(item.languages).sort(([a], [b]) => (a < b ? -1 : 1))),
          token_n: item.token_n,
          token_counts: item.token_counts,
        }),
      );
    }
  } else if (kind === 'samples') {
    for (const item of (batch as SamplesBatch).items) {
      lines.push(
        JSON.stringify({
          batch_id: batch.batch_id,
          model_version: batch.model_version,
          extension_version,
          consent: (batch as SamplesBatch).consent,
          received_at,
          label: item.label,
          score: item.score,
          probs: item.probs,
          lang: item.lang,
          ts: item.ts,
          text: scrubInto(item.text, scrubbed),
          video_id: item.video_id,
        }),
      );
    }
  } else {
    for (const item of (batch as FeedbackBatch).items) {
      lines.push(
        JSON.stringify({
          batch_id: batch.batch_id,
          model_version: batch.model_version,
          extension_version,
          consent: 'text',
          received_at,
          text: scrubInto(item.text, scrubbed),
          predicted: item.predicted,
          corrected: item.corrected,
          score: item.score,
          ts: item.ts,
          video_id: item.video_id,
        }),
      );
    }
  }
  return { ndjson: lines.join('\n') + '\n', items: lines.length, scrubbed };
}

/**
 * The partition-key time of a batch is NOT part of its content hash: a retry an hour later encodes
 * to different `received_at` values, so the hash covers everything else.
 */
async function contentHash(kind: TelemetryKind, batch: AnyBatch): Promise<string> {
  return sha256Hex(encodeBatch(kind, batch, 0).ndjson);
}

export interface StoreResult extends IngestResponse {
  key: string;
}

/** Exactly-once storage; see the module comment. */
export async function storeBatch(bucket: R2Bucket, kind: TelemetryKind, batch: AnyBatch, encoded: Encoded, now: number): Promise<StoreResult> {
  const hour: HourKey = hourKey(now);
  const sha256 = await contentHash(kind, batch);
  const claimKey = keys.claim(kind, batch.batch_id);
  const claim: Claim = {
    batch_id: batch.batch_id,
    kind,
    key: keys.batch(kind, batch.model_version, hour, batch.batch_id),
    sha256,
    items: encoded.items,
    received_at: new Date(hourFloor(now)).toISOString(),
  };
  const claimed = await bucket.put(claimKey, JSON.stringify(claim), {
    onlyIf: { etagDoesNotMatch: '*' },
    httpMetadata: { contentType: 'application/json' },
  });
  let target = claim;
  if (claimed === null) {
    const existing = await bucket.get(claimKey);
    if (!existing) throw new ApiError(503, 'claim_unavailable', 'batch claim is being written concurrently, retry', undefined, { 'Retry-After': '1' });
    target = await parseObject(existing, ClaimSchema);
    if (target.sha256 !== sha256) {
      throw new ApiError(409, 'batch_conflict', `batch_id ${batch.batch_id} was already used for a different batch`, [
        { path: 'batch_id', message: 'reused with different content; generate a new batch_id per batch' },
      ]);
    }
    if (await bucket.head(target.key)) return { batch_id: batch.batch_id, accepted: target.items, duplicate: true, key: target.key };
    // Claimed but no data: the first request is still writing, or died. Write it ourselves, at the
    // claimed key (create-only, so at most one copy is ever stored).
  }
  const written = await bucket.put(target.key, encoded.ndjson, {
    onlyIf: { etagDoesNotMatch: '*' },
    httpMetadata: { contentType: 'application/x-ndjson' },
    customMetadata: { items: String(encoded.items), sha256 },
  });
  // Exactly one request per batch_id gets its create-only data put through: that one reports
  // duplicate:false, every other (concurrent or later) copy duplicate:true.
  return { batch_id: batch.batch_id, accepted: target.items, duplicate: written === null, key: target.key };
}

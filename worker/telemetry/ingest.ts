/**
 * Telemetry ingest, the Worker's half: validation beyond the schema (sizes as 413, timestamps,
 * known model version), server-side scrubbing, NDJSON encoding, and the queue message that carries
 * the result to a consumer (telemetry/consumer.ts stores it, exactly once per batch_id).
 *
 * Three kinds: `aggregates` (consent "stats": on-device hourly counts over ≥ 10 comments, the only
 * thing drift reads), `samples` and `feedback` (consent "text": scrubbed per-comment rows for
 * retraining). No stored time is finer than an hour: item times arrive hour-aligned (the schema
 * refuses anything else) and the receive time is kept as its hour only (docs/PRIVACY.md).
 */
import { z } from 'zod';
import { emptyScrubCounts, scrub, type ScrubKind } from '../../core/scrub.js';
import {
  AggregatesBatchSchema,
  BatchIdSchema,
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
  type SamplesBatch,
} from '../../core/wire.js';
import type { Config } from '../env.js';
import { ApiError, type ErrorDetail } from '../lib/errors.js';
import { sha256Hex } from '../lib/hash.js';
import { hourKey, isHourKey, type HourKey, type TelemetryKind } from '../lib/keys.js';
import type { PreparedVote } from './votes.js';

export type AnyBatch = SamplesBatch | FeedbackBatch | AggregatesBatch;

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
 * The content hash of a batch leaves out its receive hour: a copy sent an hour later encodes to
 * other `received_at` values, and must still be recognised as the same batch.
 */
export async function contentHash(kind: TelemetryKind, batch: AnyBatch): Promise<string> {
  return sha256Hex(encodeBatch(kind, batch, 0).ndjson);
}

export const INGEST_MESSAGE_SCHEMA = 1;

/**
 * What a Worker enqueues for one accepted batch (Queue message, structured-clone encoded): the
 * scrubbed NDJSON exactly as it will be stored, nothing else of the request. No client id; a
 * feedback batch's votes carry only HMACs of it (telemetry/votes.ts).
 */
export interface IngestMessage {
  schema: typeof INGEST_MESSAGE_SCHEMA;
  kind: TelemetryKind;
  batch_id: string;
  model_version: string;
  /** The hour the Worker received the batch: the partition it is stored and summed in. */
  hour: HourKey;
  /** sha256 of the content without the receive hour ({@link contentHash}). */
  sha256: string;
  items: number;
  ndjson: string;
  /** Feedback only: one prepared vote per line, in line order. */
  votes?: PreparedVote[];
}

export const IngestMessageSchema: z.ZodType<IngestMessage> = z
  .strictObject({
    schema: z.literal(INGEST_MESSAGE_SCHEMA),
    kind: z.enum(TELEMETRY_KINDS),
    batch_id: BatchIdSchema,
    model_version: z.string().min(1).max(64),
    hour: z.string().refine(isHourKey, 'an hour key YYYY-MM-DDTHH'),
    sha256: z.string().regex(/^[0-9a-f]{64}$/),
    items: z.number().int().min(1).max(LIMITS.items_per_batch),
    ndjson: z.string().min(1),
    votes: z.array(z.strictObject({ h: z.string().regex(/^[0-9a-f]{64}$/), voter: z.string().regex(/^[0-9a-f]{64}$/), net: z.string().regex(/^[0-9a-f]{16}$/) })).optional(),
  })
  .refine((m) => m.ndjson.endsWith('\n') && m.ndjson.split('\n').length - 1 === m.items, 'ndjson must hold exactly `items` lines')
  .refine((m) => (m.kind === 'feedback' ? m.votes?.length === m.items : m.votes === undefined), 'feedback carries one vote per line, other kinds none');

/**
 * Queues take messages up to 128 KB. A batch within the body limit (64 KB) encodes well below that;
 * this bound, on the structured-clone size's main terms, turns a surprise into a clear 413.
 */
export const MAX_MESSAGE_BYTES = 120 * 1024;

const utf8 = new TextEncoder();

export function messageBytes(m: IngestMessage): number {
  return utf8.encode(m.ndjson).byteLength + (m.votes ? m.votes.length * 160 : 0) + 512;
}

export function toMessage(kind: TelemetryKind, batch: AnyBatch, encoded: Encoded, sha256: string, receivedAt: number, votes?: PreparedVote[]): IngestMessage {
  const message: IngestMessage = {
    schema: INGEST_MESSAGE_SCHEMA,
    kind,
    batch_id: batch.batch_id,
    model_version: batch.model_version,
    hour: hourKey(receivedAt),
    sha256,
    items: encoded.items,
    ndjson: encoded.ndjson,
    ...(votes ? { votes } : {}),
  };
  if (messageBytes(message) > MAX_MESSAGE_BYTES) {
    throw new ApiError(413, 'batch_too_large', `the batch encodes to more than ${MAX_MESSAGE_BYTES} bytes; send fewer items per batch`, [{ path: 'items', message: 'too much text for one batch' }]);
  }
  return message;
}

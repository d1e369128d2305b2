/**
 * Ingest lanes: what the queue consumers (telemetry/consumer.ts) write and what the hourly job, the
 * exports and the status route read (docs/SCALE.md).
 *
 * A batch belongs to lane `fnv1a(batch_id) mod INGEST_LANES`, so every copy of it (a client retry,
 * a redelivered message) reaches the same lane. Per lane and hour the consumer keeps one state
 * object, `ingest/state/<hour>/lane-<n>.json`:
 * - the batch ids it stored (with the first 16 hex digits of their content hash), to drop copies;
 * - the NDJSON segments it wrote (one per kind and delivery), the only place their keys are kept;
 * - the hour's aggregates summed per model version (the drift summary of this lane) and the
 *   quality counts of samples and feedback, updated with every delivery.
 * Readers therefore read `INGEST_LANES` states per hour at keys they can compute: no listing of raw
 * objects, and no raw object read at all to fold an hour.
 *
 * No `Date.now()` here: callers pass times in.
 */
import { z } from 'zod';
import { LABELS } from '../../core/labels.js';
import { TELEMETRY_KINDS, type TelemetryKind } from '../../core/wire.js';
import { HourSummarySchema, type HourSummary } from '../drift/aggregate.js';
import { keys, mapLimit, type HourKey } from '../lib/keys.js';
import { parseObject } from '../lib/stored.js';

export const LANE_STATE_SCHEMA = 1;

/** Sample and feedback counts of one model version (monitoring/quality.ts folds them per hour). */
export interface QualityCounts {
  /** Sample rows: comments scored by text-consent installs. */
  samples: number;
  /** Sample rows per predicted label (LABELS order). */
  predicted: number[];
  /** Feedback rows (corrections, including any that kept the label). */
  feedback: number;
  /** corrections[predicted][corrected] (LABELS order). */
  corrections: number[][];
  invalid_lines: number;
}

export function emptyQualityCounts(): QualityCounts {
  return { samples: 0, predicted: LABELS.map(() => 0), feedback: 0, corrections: LABELS.map(() => LABELS.map(() => 0)), invalid_lines: 0 };
}

const count = z.number().int().min(0);
export const QualityCountsSchema: z.ZodType<QualityCounts> = z.looseObject({
  samples: count,
  predicted: z.array(count).length(LABELS.length),
  feedback: count,
  corrections: z.array(z.array(count).length(LABELS.length)).length(LABELS.length),
  invalid_lines: count,
});

export interface Segment {
  key: string;
  kind: TelemetryKind;
  /** NDJSON lines in the object. */
  items: number;
  /** Batches whose lines it holds. */
  batches: number;
  /** Lines per model version (exports read only the segments that hold their version). */
  versions: Record<string, number>;
}

export interface LaneState {
  schema: typeof LANE_STATE_SCHEMA;
  hour: HourKey;
  lane: number;
  /** Segments written so far; the next one is numbered seq + 1. */
  seq: number;
  /** batch_id → first 16 hex digits of the sha256 of its content (tells a copy from a reused id). */
  batches: Record<string, string>;
  segments: Segment[];
  /** The hour's aggregates per model version, summed as they arrive. */
  aggregates: Record<string, HourSummary>;
  quality: Record<string, QualityCounts>;
  /** Copies dropped (same id, same content) and batches refused (same id, other content). */
  duplicates: number;
  conflicts: number;
}

export const LaneStateSchema: z.ZodType<LaneState> = z.looseObject({
  schema: z.literal(LANE_STATE_SCHEMA),
  hour: z.string(),
  lane: z.number().int().min(0),
  seq: count,
  batches: z.record(z.string(), z.string()),
  segments: z.array(
    z.looseObject({
      key: z.string(),
      kind: z.enum(TELEMETRY_KINDS),
      items: count,
      batches: count,
      versions: z.record(z.string(), count),
    }),
  ),
  aggregates: z.record(z.string(), HourSummarySchema),
  quality: z.record(z.string(), QualityCountsSchema),
  duplicates: count,
  conflicts: count,
});

export function emptyLaneState(hour: HourKey, lane: number): LaneState {
  return { schema: LANE_STATE_SCHEMA, hour, lane, seq: 0, batches: {}, segments: [], aggregates: {}, quality: {}, duplicates: 0, conflicts: 0 };
}

/** FNV-1a (32 bit) of the id's UTF-16 code units: stable across isolates, runtimes and restarts. */
export function laneOf(batchId: string, lanes: number): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < batchId.length; i++) {
    h ^= batchId.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return (h >>> 0) % lanes;
}

/** The lane a consumer serves, from its queue's name (`ytsent-ingest-<n>`); null for other queues. */
export function laneOfQueue(queue: string): number | null {
  const m = /^ytsent-ingest-(\d{1,3})$/.exec(queue);
  return m ? Number(m[1]) : null;
}

export const DEAD_LETTER_QUEUE = 'ytsent-ingest-dlq';

export interface StoredLaneState {
  lane: number;
  etag: string;
  state: LaneState;
}

/** One lane's state of `hour` with its etag, or null if that lane stored nothing in that hour. */
export async function getLaneState(bucket: R2Bucket, hour: HourKey, lane: number): Promise<StoredLaneState | null> {
  const object = await bucket.get(keys.ingestState(hour, lane));
  if (!object) return null;
  return { lane, etag: object.etag, state: await parseObject(object, LaneStateSchema) };
}

/** Every lane's state of `hour` that exists, lane order. */
export async function getHourStates(bucket: R2Bucket, hour: HourKey, lanes: number): Promise<StoredLaneState[]> {
  const states = await mapLimit(
    Array.from({ length: lanes }, (_, lane) => lane),
    8,
    (lane) => getLaneState(bucket, hour, lane),
  );
  return states.filter((s): s is StoredLaneState => s !== null);
}

/** What a lane state's custom metadata says without its body: enough to find changes and versions. */
export interface LaneHead {
  lane: number;
  etag: string;
  /** Model versions with aggregates / with quality counts in the state; null: not recorded, read the state. */
  aggregates: string[] | null;
  quality: string[] | null;
}

/** Longest version list kept in custom metadata (R2 allows 2 KB for all of it). */
const MAX_VERSION_LIST = 900;

/** Custom metadata of a lane state: the versions it holds (see {@link LaneHead}). */
export function laneStateMetadata(state: LaneState): Record<string, string> {
  const list = (versions: string[]) => {
    const joined = versions.sort().join(',');
    return joined.length <= MAX_VERSION_LIST ? joined : '*';
  };
  return {
    batches: String(Object.keys(state.batches).length),
    segments: String(state.segments.length),
    aggregates_versions: list(Object.keys(state.aggregates)),
    quality_versions: list(Object.keys(state.quality)),
  };
}

function versionList(value: string | undefined): string[] | null {
  if (value === undefined || value === '*') return null;
  return value === '' ? [] : value.split(',');
}

/**
 * Each hour's lane states, read once per run and shared by the drift fold, the quality fold and
 * version discovery. Heads first (metadata only): a state's body, which holds every batch id of
 * its lane and hour, is read only for an hour that is folded again.
 */
export class HourStates {
  private readonly headCache = new Map<HourKey, Promise<LaneHead[]>>();
  private readonly fullCache = new Map<HourKey, Promise<StoredLaneState[]>>();
  constructor(
    private readonly bucket: R2Bucket,
    readonly lanes: number,
  ) {}

  heads(hour: HourKey): Promise<LaneHead[]> {
    return memo(this.headCache, hour, async () => {
      const heads = await mapLimit(
        Array.from({ length: this.lanes }, (_, lane) => lane),
        8,
        async (lane): Promise<LaneHead | null> => {
          const o = await this.bucket.head(keys.ingestState(hour, lane));
          return o ? { lane, etag: o.etag, aggregates: versionList(o.customMetadata?.aggregates_versions), quality: versionList(o.customMetadata?.quality_versions) } : null;
        },
      );
      return heads.filter((h): h is LaneHead => h !== null);
    });
  }

  get(hour: HourKey): Promise<StoredLaneState[]> {
    return memo(this.fullCache, hour, () => getHourStates(this.bucket, hour, this.lanes));
  }
}

function memo<T>(cache: Map<HourKey, Promise<T>>, hour: HourKey, load: () => Promise<T>): Promise<T> {
  let hit = cache.get(hour);
  if (!hit) {
    hit = load();
    // A failed read is not cached: the next caller tries again.
    hit.catch(() => cache.delete(hour));
    cache.set(hour, hit);
  }
  return hit;
}

/** Digest input of an hour: which lanes had state and which version of each (changes whenever a lane writes). */
export function statesFingerprint(states: ReadonlyArray<{ lane: number; etag: string }>): string {
  return states.map((s) => `${s.lane} ${s.etag}`).join('\n');
}

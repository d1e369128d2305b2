/**
 * The extension's IndexedDB (Dexie), shared by the service worker and the offscreen document:
 * - results: scores keyed by model version + normalized text, evicted least-recently-used;
 * - models: downloaded model bundles (bytes) and their state;
 * - queue: telemetry waiting for upload (only ever written under consent);
 * - aggregates: the open on-device hourly aggregate per model version (consent "stats"), counted
 *   until its hours end and it holds enough comments to be queued;
 * - meta: small key/value state (active model, counters, client id, backoff).
 */
import Dexie, { type Table } from 'dexie';
import type { OpenAggregate } from '../../core/aggregates.js';
import { HOUR_MS, type AggregateItem, type Consent, type FeedbackItem, type SampleItem, type TelemetryKind } from '../../core/wire.js';
import type { ModelManifest } from '../../core/manifest.js';
import type { Label } from '../../core/labels.js';
import { COUNTER_PREFIX, DB_NAME, META_KEYS, TABLES, type MetaKey, type MetaValues } from './storage-keys.js';

export interface ResultRow {
  /** `${model_version}|${text hash}` */
  key: string;
  model_version: string;
  label: Label;
  probs: [number, number, number];
  /** Language guess (ISO 639-1 or "und") and whether the model supports it (schema version 2). */
  lang: string;
  supported: boolean;
  /** The normalized text (kept locally only: previews and the popup's examples use it). */
  text: string;
  last_used: number;
}

export type ModelState = 'pending' | 'active' | 'previous' | 'rejected';

export interface ModelRow {
  version: string;
  manifest: ModelManifest;
  /** Bundle files by path; emptied for rejected versions. */
  files: Record<string, ArrayBuffer>;
  state: ModelState;
  added_at: number;
  reason?: string;
}

export interface QueueRow {
  id?: number;
  /** Which route the row goes to (`/v1/<kind>`). */
  kind: TelemetryKind;
  /** The consent the row was queued under: it is deleted, unsent, once that consent is withdrawn. */
  consent: Consent;
  model_version: string;
  item: SampleItem | FeedbackItem | AggregateItem;
  created_at: number;
  /** Assigned when the row is first put in a batch; a retry re-sends the same batch id. */
  batch_id?: string;
  /** When its batch (under this id) was first sent; batches first sent by an earlier build lack it. */
  first_sent_at?: number;
  /** Failed sends of its batch (server errors, batch id conflicts); the batch is dropped at the limit. */
  attempts?: number;
  /** Its batch is not retried before this time (ms since the epoch). */
  retry_at?: number;
}

/** The aggregate being counted for one model version (see core/aggregates.ts). */
export interface AggregateRow {
  model_version: string;
  aggregate: OpenAggregate;
}

export interface MetaRow {
  key: string;
  value: unknown;
}

export class YtsentDb extends Dexie {
  results!: Table<ResultRow, string>;
  models!: Table<ModelRow, string>;
  queue!: Table<QueueRow, number>;
  aggregates!: Table<AggregateRow, string>;
  meta!: Table<MetaRow, string>;

  constructor(name = DB_NAME) {
    super(name);
    this.version(1).stores({
      [TABLES.results]: 'key, last_used, model_version',
      [TABLES.models]: 'version, state',
      [TABLES.queue]: '++id, kind, batch_id, created_at',
      [TABLES.meta]: 'key',
    });
    // 2: results carry the comment's language and whether it is supported. Rows written before
    // lack both; they are dropped rather than served without them.
    this.version(2)
      .stores({ [TABLES.results]: 'key, last_used, model_version' })
      .upgrade((tx) => tx.table(TABLES.results).clear());
    // 3: consent "stats" sends hourly aggregates, never rows. Per-comment rows queued under it by
    // an earlier version are deleted unsent; text rows keep only the hour of their time (and are
    // re-batched, since their content changed).
    this.version(3)
      .stores({ [TABLES.aggregates]: 'model_version' })
      .upgrade(async (tx) => {
        const queue = tx.table<QueueRow, number>(TABLES.queue);
        await queue.filter((r) => r.kind === 'samples' && r.consent === 'stats').delete();
        await queue.toCollection().modify((r) => {
          const item = r.item as { ts?: number; tokens?: unknown };
          if (typeof item.ts === 'number') item.ts = Math.floor(item.ts / HOUR_MS) * HOUR_MS;
          delete item.tokens;
          delete r.batch_id;
        });
      });
  }
}

let instance: YtsentDb | null = null;
export function db(): YtsentDb {
  instance ??= new YtsentDb();
  return instance;
}

/** The value under a meta key (storage-keys.ts MetaValues). */
export async function getMeta<K extends MetaKey>(key: K): Promise<MetaValues[K] | undefined> {
  // The one cast: meta rows are written only through setMeta, whose signature checks the type.
  return (await db().meta.get(key))?.value as MetaValues[K] | undefined;
}

export async function setMeta<K extends MetaKey>(key: K, value: MetaValues[K]): Promise<void> {
  await db().meta.put({ key, value });
}

/** Atomically add to numeric counters stored in meta (survives service-worker restarts). */
export async function bumpCounters(deltas: Record<string, number>): Promise<void> {
  await db().transaction('rw', db().meta, async () => {
    for (const [key, delta] of Object.entries(deltas)) {
      const counter = META_KEYS.counter(key);
      const current = ((await db().meta.get(counter))?.value as MetaValues[typeof counter] | undefined) ?? 0;
      await db().meta.put({ key: counter, value: current + delta });
    }
  });
}

export async function getCounters(): Promise<Record<string, number>> {
  const rows = await db().meta.where('key').startsWith(COUNTER_PREFIX).toArray();
  return Object.fromEntries(rows.map((r) => [r.key.slice(COUNTER_PREFIX.length), r.value as number]));
}

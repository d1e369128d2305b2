/**
 * The extension's IndexedDB (Dexie), shared by the service worker and the offscreen document:
 * - results: scores keyed by model version + normalized text, evicted least-recently-used;
 * - models: downloaded model bundles (bytes) and their state;
 * - queue: telemetry waiting for upload (only ever written under consent);
 * - meta: small key/value state (active model, counters, client id, backoff).
 */
import Dexie, { type Table } from 'dexie';
import type { Consent, FeedbackItem, SampleItem } from '../../core/wire.js';
import type { ModelManifest } from '../../core/manifest.js';
import type { Label } from '../../core/labels.js';

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
  kind: 'samples' | 'feedback';
  consent: Consent;
  model_version: string;
  item: SampleItem | FeedbackItem;
  created_at: number;
  /** Assigned when the row is first put in a batch; a retry re-sends the same batch id. */
  batch_id?: string;
}

export interface MetaRow {
  key: string;
  value: unknown;
}

export class YtsentDb extends Dexie {
  results!: Table<ResultRow, string>;
  models!: Table<ModelRow, string>;
  queue!: Table<QueueRow, number>;
  meta!: Table<MetaRow, string>;

  constructor(name = 'ytsent') {
    super(name);
    this.version(1).stores({
      results: 'key, last_used, model_version',
      models: 'version, state',
      queue: '++id, kind, batch_id, created_at',
      meta: 'key',
    });
    // 2: results carry the comment's language and whether it is supported. Rows written before
    // lack both; they are dropped rather than served without them.
    this.version(2)
      .stores({ results: 'key, last_used, model_version' })
      .upgrade((tx) => tx.table('results').clear());
  }
}

let instance: YtsentDb | null = null;
export function db(): YtsentDb {
  instance ??= new YtsentDb();
  return instance;
}

export async function getMeta<T>(key: string): Promise<T | undefined> {
  return (await db().meta.get(key))?.value as T | undefined;
}

export async function setMeta(key: string, value: unknown): Promise<void> {
  await db().meta.put({ key, value });
}

/** Atomically add to numeric counters stored in meta (survives service-worker restarts). */
export async function bumpCounters(deltas: Record<string, number>): Promise<void> {
  await db().transaction('rw', db().meta, async () => {
    for (const [key, delta] of Object.entries(deltas)) {
      const current = ((await db().meta.get(`counter:${key}`))?.value as number | undefined) ?? 0;
      await db().meta.put({ key: `counter:${key}`, value: current + delta });
    }
  });
}

export async function getCounters(): Promise<Record<string, number>> {
  const rows = await db().meta.where('key').startsWith('counter:').toArray();
  return Object.fromEntries(rows.map((r) => [r.key.slice('counter:'.length), r.value as number]));
}

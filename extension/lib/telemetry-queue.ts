/**
 * The telemetry queue: what may leave the device, built and stored only under consent.
 *
 * Items are built here (and nowhere else) from what the user agreed to: consent "stats" → label,
 * confidence, probabilities, hashed-token buckets and the comment's language; consent "text" → additionally the comment
 * text, scrubbed of emails, URLs, handles and phone numbers before it is stored, and the video id.
 * Batches get a random batch_id the first time they are sent; a retry re-sends the same rows under
 * the same id, so the backend stores them once however often the network fails.
 */
import { detect } from 'tinyld/light';
import type { Label } from '../../core/labels.js';
import { scrubText } from '../../core/scrub.js';
import { tokenBuckets } from '../../core/token-buckets.js';
import { LIMITS, type Consent, type FeedbackBatch, type FeedbackItem, type SampleItem, type SamplesBatch } from '../../core/wire.js';
import type { QueueRow, YtsentDb } from './db.js';
import type { Settings } from './settings.js';

/** Oldest rows are dropped beyond this many (a backend down for weeks must not fill the disk). */
export const MAX_QUEUE_ROWS = 5000;
/** Keeps a batch comfortably under the backend's 64 KB body limit. */
const BATCH_BODY_BUDGET = LIMITS.body_bytes - 4096;

export interface ScoredComment {
  text: string;
  label: Label;
  probs: [number, number, number];
  video_id?: string;
}

export function consentOf(settings: Pick<Settings, 'consent_stats' | 'consent_text'>): Consent | null {
  return settings.consent_text ? 'text' : settings.consent_stats ? 'stats' : null;
}

/** Truncates to the backend's per-text limit in UTF-8 bytes without splitting a character. */
export function truncateUtf8(text: string, maxBytes: number = LIMITS.text_bytes): string {
  const encoder = new TextEncoder();
  if (encoder.encode(text).byteLength <= maxBytes) return text;
  let out = '';
  let bytes = 0;
  for (const ch of text) {
    const n = encoder.encode(ch).byteLength;
    if (bytes + n > maxBytes) break;
    out += ch;
    bytes += n;
  }
  return out;
}

const VIDEO_ID_RE = /^[A-Za-z0-9_-]{11}$/;

/** The sample item exactly as it would be uploaded under `consent`. */
export function buildSampleItem(comment: ScoredComment, consent: Consent, now = Date.now()): SampleItem {
  const k = ['negative', 'neutral', 'positive'].indexOf(comment.label);
  const item: SampleItem = {
    label: comment.label,
    score: round(comment.probs[k]!),
    probs: comment.probs.map(round),
    tokens: tokenBuckets(comment.text),
    // Language of the comment (not of the user), so drift reports can tell a shift in audience.
    lang: detect(comment.text) || 'und',
    ts: now,
  };
  if (consent === 'text') {
    item.text = truncateUtf8(scrubText(comment.text));
    if (comment.video_id && VIDEO_ID_RE.test(comment.video_id)) item.video_id = comment.video_id;
  }
  return item;
}

function round(x: number): number {
  return Math.round(x * 1e4) / 1e4;
}

export class TelemetryQueue {
  constructor(private readonly database: YtsentDb) {}

  /** Queues samples if (and only if) a consent allows it. Returns how many were queued. */
  async enqueueSamples(settings: Settings, modelVersion: string, comments: readonly ScoredComment[]): Promise<number> {
    const consent = consentOf(settings);
    if (!consent || comments.length === 0) return 0;
    const now = Date.now();
    await this.database.queue.bulkAdd(
      comments.map((c) => ({ kind: 'samples' as const, consent, model_version: modelVersion, item: buildSampleItem(c, consent, now), created_at: now })),
    );
    await this.trim();
    return comments.length;
  }

  /** Queues a label correction; corrections carry text, so they need the text consent. */
  async enqueueFeedback(
    settings: Settings,
    modelVersion: string,
    correction: { text: string; predicted: Label; corrected: Label; score?: number; video_id?: string },
  ): Promise<boolean> {
    if (consentOf(settings) !== 'text') return false;
    const item: FeedbackItem = {
      text: truncateUtf8(scrubText(correction.text)),
      predicted: correction.predicted,
      corrected: correction.corrected,
      ts: Date.now(),
      ...(correction.score !== undefined ? { score: round(correction.score) } : {}),
      ...(correction.video_id && VIDEO_ID_RE.test(correction.video_id) ? { video_id: correction.video_id } : {}),
    };
    await this.database.queue.add({ kind: 'feedback', consent: 'text', model_version: modelVersion, item, created_at: Date.now() });
    await this.trim();
    return true;
  }

  /**
   * Rows for the next upload, all of one kind, consent and model version. Rows already sent once
   * under a batch id are retried first and alone, so the retry is byte-for-byte the same batch.
   */
  async nextBatch(): Promise<{ rows: QueueRow[]; batch_id: string } | null> {
    const pending = await this.database.queue.where('batch_id').above('').first();
    if (pending?.batch_id) {
      const rows = await this.database.queue.where('batch_id').equals(pending.batch_id).sortBy('id');
      return { rows, batch_id: pending.batch_id };
    }
    const first = await this.database.queue.orderBy('id').first();
    if (!first) return null;
    const candidates = await this.database.queue
      .orderBy('id')
      .filter((r) => !r.batch_id && r.kind === first.kind && r.consent === first.consent && r.model_version === first.model_version)
      .limit(LIMITS.items_per_batch)
      .toArray();
    const rows: QueueRow[] = [];
    let bytes = 512;
    for (const r of candidates) {
      const size = new TextEncoder().encode(JSON.stringify(r.item)).byteLength + 1;
      if (rows.length > 0 && bytes + size > BATCH_BODY_BUDGET) break;
      rows.push(r);
      bytes += size;
    }
    const batch_id = crypto.randomUUID();
    await this.database.queue.bulkUpdate(rows.map((r) => ({ key: r.id!, changes: { batch_id } })));
    return { rows: rows.map((r) => ({ ...r, batch_id })), batch_id };
  }

  async remove(rows: readonly QueueRow[]): Promise<void> {
    await this.database.queue.bulkDelete(rows.map((r) => r.id!));
  }

  async size(): Promise<number> {
    return this.database.queue.count();
  }

  /** Opting out deletes everything not yet sent. */
  async purge(): Promise<void> {
    await this.database.queue.clear();
  }

  private async trim(): Promise<void> {
    const count = await this.database.queue.count();
    if (count <= MAX_QUEUE_ROWS) return;
    const oldest = await this.database.queue.orderBy('id').limit(count - MAX_QUEUE_ROWS).primaryKeys();
    await this.database.queue.bulkDelete(oldest);
  }
}

/** The request body for a batch of queue rows. */
export function toBatch(
  rows: readonly QueueRow[],
  batchId: string,
  clientId: string,
  extensionVersion: string | undefined,
): SamplesBatch | FeedbackBatch {
  const first = rows[0]!;
  const common = {
    batch_id: batchId,
    client_id: clientId,
    model_version: first.model_version,
    ...(extensionVersion ? { extension_version: extensionVersion } : {}),
  };
  if (first.kind === 'feedback') return { ...common, consent: 'text', items: rows.map((r) => r.item as FeedbackItem) };
  return { ...common, consent: first.consent, items: rows.map((r) => r.item as SampleItem) };
}

/**
 * The telemetry queue: what may leave the device, built and stored only under consent.
 *
 * What each consent queues (docs/PRIVACY.md):
 * - "stats": nothing per comment. Each scored comment is counted into the open hourly aggregate
 *   of its model version (label, confidence bin, language, hashed-token buckets; core/aggregates.ts).
 *   Once the aggregate's hours have ended and it holds at least ten comments it becomes one queue
 *   row; with fewer it waits for later hours, and after 24 hours it is deleted unsent.
 * - "text": additionally one row per comment with its text, scrubbed of emails, URLs, handles and
 *   phone numbers before it is stored, and the video id; and label corrections. Times are hours.
 *
 * Every consent change deletes what is queued above the new level ({@link TelemetryQueue.applyConsent}),
 * and the uploader checks each batch against the consent of the moment before sending it.
 *
 * Batches get a random batch_id the first time they are sent; a retry re-sends the same rows under
 * the same id, so the backend stores them once however often the network fails. A batch the
 * backend says it already holds with other content (409) is re-keyed; a batch that keeps failing is
 * dropped after {@link MAX_BATCH_ATTEMPTS} tries or {@link MAX_BATCH_AGE_MS}; a batch waiting for
 * its retry never holds back the others. Trimming to {@link MAX_QUEUE_ROWS} removes whole batches.
 * A batch is never resent more than {@link RESEND_WINDOW_MS} after its first send: past the backend's
 * dedupe window a resend of a batch it did store would be stored again.
 */
import { addScoringCall, addScoringError, addToAggregate, aggregateState, emptyAggregate, type AggregateComment, type OpenAggregate } from '../../core/aggregates.js';
import { labelIndex, type Label } from '../../core/labels.js';
import { scrubText } from '../../core/scrub.js';
import { tokenBuckets } from '../../core/token-buckets.js';
import {
  HOUR_MS,
  KIND_CONSENT,
  KIND_MAX_ITEMS,
  LIMITS,
  RESEND,
  consentAllows,
  hourFloor,
  type AggregateItem,
  type AggregatesBatch,
  type Consent,
  type FeedbackBatch,
  type FeedbackItem,
  type SampleItem,
  type SamplesBatch,
} from '../../core/wire.js';
import type { AggregateRow, QueueRow, YtsentDb } from './db.js';
import type { Settings } from './settings.js';

/** Oldest batches are dropped beyond this many rows (a backend down for weeks must not fill the disk). */
export const MAX_QUEUE_ROWS = 5000;
/** A batch that failed this many sends (server errors, id conflicts) is dropped. */
export const MAX_BATCH_ATTEMPTS = 8;
/**
 * A batch whose oldest row was queued longer ago than this is dropped unsent. Kept well inside the
 * backend's 7-day window (an aggregate's range starts up to a day before it is queued).
 */
export const MAX_BATCH_AGE_MS = 5 * 24 * HOUR_MS;
/**
 * A batch first sent longer ago than this is dropped, not resent. The backend recognizes a resend
 * as a copy only within INGEST_DEDUPE_HOURS (at least RESEND.min_dedupe_hours, 24) of the first
 * copy; a send whose answer was lost may have been stored, and resending it after that window
 * would store it twice (core/wire.ts, RESEND).
 */
export const RESEND_WINDOW_MS = RESEND.window_hours * HOUR_MS;
/** Keeps a batch comfortably under the backend's 64 KB body limit. */
const BATCH_BODY_BUDGET = LIMITS.body_bytes - 4096;

export interface ScoredComment {
  text: string;
  label: Label;
  probs: [number, number, number];
  /** The language the model identified ("und" when its bundle has no language identification). */
  lang?: string;
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

/** What one comment adds to an aggregate: no text, only counts-to-be. */
export function aggregateComment(comment: ScoredComment): AggregateComment {
  return {
    label: comment.label,
    confidence: comment.probs[labelIndex(comment.label)] ?? 0,
    // Language of the comment (not of the user), as the model identified it, so drift reports can
    // tell a shift in audience with the same identification the badges show.
    lang: comment.lang ?? 'und',
    tokens: tokenBuckets(comment.text),
  };
}

/** The per-comment row exactly as it would be uploaded under consent "text" (time: its hour). */
export function buildSampleItem(comment: ScoredComment, now = Date.now(), lang = comment.lang ?? 'und'): SampleItem {
  const k = labelIndex(comment.label);
  const item: SampleItem = {
    label: comment.label,
    score: round(comment.probs[k]!),
    probs: comment.probs.map(round),
    lang,
    ts: hourFloor(now),
    text: truncateUtf8(scrubText(comment.text)),
  };
  if (comment.video_id && VIDEO_ID_RE.test(comment.video_id)) item.video_id = comment.video_id;
  return item;
}

function round(x: number): number {
  return Math.round(x * 1e4) / 1e4;
}

/** The queue row of an aggregate that may be sent (consent "stats"). */
function aggregateRow(modelVersion: string, aggregate: OpenAggregate, now: number): QueueRow {
  const item: AggregateItem = aggregate;
  return { kind: 'aggregates', consent: KIND_CONSENT.aggregates, model_version: modelVersion, item, created_at: now };
}

const bytesOf = (item: unknown): number => new TextEncoder().encode(JSON.stringify(item)).byteLength + 1;

/**
 * The first batch of `candidates` (rows in queue order, none in a batch yet): rows of the first
 * row's kind, consent and model version, up to the kind's item limit and the body budget.
 */
function takeGroup(candidates: readonly QueueRow[]): QueueRow[] {
  const first = candidates[0];
  if (!first) return [];
  const rows: QueueRow[] = [];
  let bytes = 512;
  for (const r of candidates) {
    if (r.kind !== first.kind || r.consent !== first.consent || r.model_version !== first.model_version) continue;
    if (rows.length >= KIND_MAX_ITEMS[first.kind]) break;
    const size = bytesOf(r.item);
    if (rows.length > 0 && bytes + size > BATCH_BODY_BUDGET) break;
    rows.push(r);
    bytes += size;
  }
  return rows;
}

/**
 * Every batch the queue holds, in the order they would be sent: batches already sent once (by
 * their first row), then the rest grouped as {@link TelemetryQueue.nextBatch} would group them.
 */
export function planBatches(all: readonly QueueRow[]): Array<{ batch_id?: string; rows: QueueRow[] }> {
  const sorted = [...all].sort((a, b) => a.id! - b.id!);
  const pending = new Map<string, QueueRow[]>();
  for (const r of sorted) if (r.batch_id) pending.set(r.batch_id, [...(pending.get(r.batch_id) ?? []), r]);
  const out: Array<{ batch_id?: string; rows: QueueRow[] }> = [...pending].map(([batch_id, rows]) => ({ batch_id, rows }));
  let rest = sorted.filter((r) => !r.batch_id);
  while (rest.length > 0) {
    const group = takeGroup(rest);
    const taken = new Set(group);
    out.push({ rows: group });
    rest = rest.filter((r) => !taken.has(r));
  }
  return out;
}

export class TelemetryQueue {
  constructor(private readonly database: YtsentDb) {}

  /**
   * Records freshly scored comments under the consent in `settings`: counted into the open
   * aggregate of `modelVersion` (any consent), and queued one row each (consent "text" only).
   * `call` is the model call that scored them: its latency goes into the aggregate's histogram
   * (one call, whatever the number of comments). Returns how many comments were recorded.
   */
  async enqueueSamples(settings: Settings, modelVersion: string, comments: readonly ScoredComment[], now = Date.now(), call?: { ms: number }): Promise<number> {
    const consent = consentOf(settings);
    if (!consent || comments.length === 0) return 0;
    const counted = comments.map(aggregateComment);
    const rows =
      consent === 'text' ? comments.map((c, i) => ({ kind: 'samples' as const, consent, model_version: modelVersion, item: buildSampleItem(c, now, counted[i]!.lang), created_at: now })) : [];
    await this.database.transaction('rw', [this.database.aggregates, this.database.queue], async () => {
      let open = (await this.database.aggregates.get(modelVersion))?.aggregate ?? null;
      const ready: AggregateItem[] = [];
      let countedHere = 0;
      // (No await in this loop: a transaction only survives awaits of its own requests.)
      for (const c of counted) {
        // An aggregate whose hours ended is settled before this comment's hour is counted: queued
        // when it holds enough comments, deleted when it waited its 24 hours in vain.
        const state = open ? aggregateState(open, now) : 'counting';
        if (open && state === 'ready') ready.push(open);
        if (state === 'ready' || state === 'expired') {
          open = null;
          countedHere = 0;
        }
        open ??= emptyAggregate(now);
        if (addToAggregate(open, c, now)) countedHere++;
      }
      // Only a call that counted a comment here: the calls never outnumber the comments.
      if (open && call && countedHere > 0) addScoringCall(open, call.ms);
      if (ready.length > 0) await this.database.queue.bulkAdd(ready.map((a) => aggregateRow(modelVersion, a, now)));
      if (open) await this.database.aggregates.put({ model_version: modelVersion, aggregate: open });
      if (rows.length > 0) await this.database.queue.bulkAdd(rows);
    });
    await this.trim();
    return comments.length;
  }

  /**
   * Counts a model call that failed (nothing scored) into the open aggregate of `modelVersion`,
   * under either consent; like comments, it settles an aggregate whose hours have ended first.
   */
  async recordScoringError(settings: Settings, modelVersion: string, now = Date.now()): Promise<boolean> {
    if (!consentOf(settings)) return false;
    await this.database.transaction('rw', [this.database.aggregates, this.database.queue], async () => {
      let open = (await this.database.aggregates.get(modelVersion))?.aggregate ?? null;
      const state = open ? aggregateState(open, now) : 'counting';
      if (open && state === 'ready') await this.database.queue.add(aggregateRow(modelVersion, open, now));
      if (state === 'ready' || state === 'expired') open = null;
      open ??= emptyAggregate(now);
      addScoringError(open);
      await this.database.aggregates.put({ model_version: modelVersion, aggregate: open });
    });
    await this.trim();
    return true;
  }

  /** Queues a label correction; corrections carry text, so they need the text consent. */
  async enqueueFeedback(
    settings: Settings,
    modelVersion: string,
    correction: { text: string; predicted: Label; corrected: Label; score?: number; video_id?: string },
    now = Date.now(),
  ): Promise<boolean> {
    if (consentOf(settings) !== 'text') return false;
    const item: FeedbackItem = {
      text: truncateUtf8(scrubText(correction.text)),
      predicted: correction.predicted,
      corrected: correction.corrected,
      ts: hourFloor(now),
      ...(correction.score !== undefined ? { score: round(correction.score) } : {}),
      ...(correction.video_id && VIDEO_ID_RE.test(correction.video_id) ? { video_id: correction.video_id } : {}),
    };
    await this.database.queue.add({ kind: 'feedback', consent: 'text', model_version: modelVersion, item, created_at: now });
    await this.trim();
    return true;
  }

  /**
   * Queues every open aggregate whose hours have ended with enough comments, and deletes those
   * that waited 24 hours without reaching the minimum. Returns how many of each.
   */
  async sealAggregates(now = Date.now()): Promise<{ queued: number; expired: number }> {
    const result = { queued: 0, expired: 0 };
    await this.database.transaction('rw', [this.database.aggregates, this.database.queue], async () => {
      for (const row of await this.database.aggregates.toArray()) {
        const state = aggregateState(row.aggregate, now);
        if (state === 'counting' || state === 'waiting') continue;
        if (state === 'ready') await this.database.queue.add(aggregateRow(row.model_version, row.aggregate, now));
        await this.database.aggregates.delete(row.model_version);
        result[state === 'ready' ? 'queued' : 'expired']++;
      }
    });
    if (result.queued > 0) await this.trim();
    return result;
  }

  /**
   * Deletes everything queued above `consent`: with none, every row and open aggregate; with
   * "stats", every row that carries text, a video id or a correction. Returns the rows deleted.
   */
  async applyConsent(consent: Consent | null): Promise<number> {
    return this.database.transaction('rw', [this.database.aggregates, this.database.queue], async () => {
      if (consent === null) {
        const n = await this.database.queue.count();
        await Promise.all([this.database.queue.clear(), this.database.aggregates.clear()]);
        return n;
      }
      return this.database.queue.filter((r) => !consentAllows(consent, r.consent)).delete();
    });
  }

  /**
   * Rows for the next upload, all of one kind, consent and model version. A batch already sent
   * once is retried first and alone, under its id, so the retry is byte-for-byte the same batch;
   * unless it waits for its retry time or is in `skip` (tried in this pass): then the other rows go
   * first, so one stuck batch never holds back the rest.
   */
  async nextBatch(now = Date.now(), skip: ReadonlySet<string> = new Set()): Promise<{ rows: QueueRow[]; batch_id: string } | null> {
    const pending = await this.database.queue
      .where('batch_id')
      .above('')
      .filter((r) => !skip.has(r.batch_id!) && (r.retry_at ?? 0) <= now)
      .first();
    if (pending?.batch_id) {
      const rows = await this.database.queue.where('batch_id').equals(pending.batch_id).sortBy('id');
      return { rows, batch_id: pending.batch_id };
    }
    const first = await this.database.queue
      .orderBy('id')
      .filter((r) => !r.batch_id)
      .first();
    if (!first) return null;
    const candidates = await this.database.queue
      .orderBy('id')
      .filter((r) => !r.batch_id && r.kind === first.kind && r.consent === first.consent && r.model_version === first.model_version)
      .limit(KIND_MAX_ITEMS[first.kind])
      .toArray();
    const rows = takeGroup(candidates);
    const batch_id = crypto.randomUUID();
    await this.database.queue.bulkUpdate(rows.map((r) => ({ key: r.id!, changes: { batch_id, first_sent_at: now } })));
    return { rows: rows.map((r) => ({ ...r, batch_id, first_sent_at: now })), batch_id };
  }

  async remove(rows: readonly QueueRow[]): Promise<void> {
    await this.database.queue.bulkDelete(rows.map((r) => r.id!));
  }

  /** Failed attempts of a batch so far. */
  static attemptsOf(rows: readonly QueueRow[]): number {
    return rows[0]?.attempts ?? 0;
  }

  /**
   * The backend holds another batch under this id (409): the rows get a fresh id (counted as an
   * attempt) and can be sent again at once. Returns the new id.
   */
  async rekey(rows: readonly QueueRow[], now = Date.now()): Promise<string> {
    const batch_id = crypto.randomUUID();
    const attempts = TelemetryQueue.attemptsOf(rows) + 1;
    // A new id is a new batch to the backend: its dedupe window starts with its first send.
    await this.database.queue.bulkUpdate(rows.map((r) => ({ key: r.id!, changes: { batch_id, attempts, retry_at: 0, first_sent_at: now } })));
    return batch_id;
  }

  /** A failed send: the batch keeps its id and waits until `retryAt`. */
  async defer(rows: readonly QueueRow[], retryAt: number): Promise<void> {
    const attempts = TelemetryQueue.attemptsOf(rows) + 1;
    await this.database.queue.bulkUpdate(rows.map((r) => ({ key: r.id!, changes: { attempts, retry_at: retryAt } })));
  }

  /**
   * Deletes batches (whole) and unbatched rows queued before `now - MAX_BATCH_AGE_MS`, and batches
   * first sent before `now - RESEND_WINDOW_MS`. Returns the rows deleted.
   */
  async dropExpired(now = Date.now()): Promise<number> {
    return this.database.transaction('rw', this.database.queue, async () => {
      const old = [
        ...(await this.database.queue
          .where('created_at')
          .below(now - MAX_BATCH_AGE_MS)
          .toArray()),
        ...(await this.database.queue.filter((r) => r.first_sent_at !== undefined && r.first_sent_at < now - RESEND_WINDOW_MS).toArray()),
      ];
      const ids = new Set(old.map((r) => r.id!));
      for (const batchId of new Set(old.map((r) => r.batch_id).filter((b): b is string => !!b))) {
        for (const id of await this.database.queue.where('batch_id').equals(batchId).primaryKeys()) ids.add(id);
      }
      await this.database.queue.bulkDelete([...ids]);
      return ids.size;
    });
  }

  async size(): Promise<number> {
    return this.database.queue.count();
  }

  /** Queued rows by kind. */
  async counts(): Promise<Record<QueueRow['kind'], number>> {
    const out = { aggregates: 0, samples: 0, feedback: 0 };
    await this.database.queue.each((r) => void out[r.kind]++);
    return out;
  }

  async all(): Promise<QueueRow[]> {
    return this.database.queue.orderBy('id').toArray();
  }

  async openAggregates(): Promise<AggregateRow[]> {
    return this.database.aggregates.toArray();
  }

  /** Opting out deletes everything not yet sent, and everything still being counted. */
  async purge(): Promise<void> {
    await this.applyConsent(null);
  }

  /** Down to MAX_QUEUE_ROWS, oldest first, a batch always as a whole (never split). */
  private async trim(): Promise<void> {
    await this.database.transaction('rw', this.database.queue, async () => {
      const excess = (await this.database.queue.count()) - MAX_QUEUE_ROWS;
      if (excess <= 0) return;
      // The `excess` oldest rows go, and with each row in a batch, the rest of its batch.
      const doomed = new Set<number>();
      const batches = new Set<string>();
      for (const r of await this.database.queue.orderBy('id').limit(excess).toArray()) {
        doomed.add(r.id!);
        if (r.batch_id) batches.add(r.batch_id);
      }
      for (const b of batches) for (const id of await this.database.queue.where('batch_id').equals(b).primaryKeys()) doomed.add(id);
      await this.database.queue.bulkDelete([...doomed]);
    });
  }
}

/** The request body for a batch of queue rows. */
export function toBatch(rows: readonly QueueRow[], batchId: string, clientId: string, extensionVersion: string | undefined): SamplesBatch | FeedbackBatch | AggregatesBatch {
  const first = rows[0]!;
  const common = {
    batch_id: batchId,
    client_id: clientId,
    model_version: first.model_version,
    ...(extensionVersion ? { extension_version: extensionVersion } : {}),
  };
  if (first.kind === 'aggregates') return { ...common, consent: 'stats', items: rows.map((r) => r.item as AggregateItem) };
  if (first.kind === 'feedback') return { ...common, consent: 'text', items: rows.map((r) => r.item as FeedbackItem) };
  return { ...common, consent: 'text', items: rows.map((r) => r.item as SampleItem) };
}

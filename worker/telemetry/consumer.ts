/**
 * Ingest, the consumer's half: stores the batches a queue delivers, each exactly once, with a
 * handful of R2 writes per delivery instead of two per batch (docs/SCALE.md).
 *
 * One delivery (up to max_batch_size messages of one lane, wrangler.toml) is handled per hour the
 * batches were received in (almost always one):
 * 1. Read the lane's state of that hour (telemetry/lanes.ts) and the batch ids of its earlier hours
 *    within INGEST_DEDUPE_HOURS (cached per isolate, re-validated by etag).
 * 2. Drop copies: a batch id seen before with the same content hash is a duplicate (a client retry,
 *    or the queue delivering a message again); with another hash it is a conflict (a reused id),
 *    refused and counted.
 * 3. Write one NDJSON segment per kind with the new batches (random tag in the key), then their
 *    correction votes (idempotent), then the state: new ids, the segments, aggregates and quality
 *    counts folded in, written only if its etag is still the one read in 1.
 * 4. Acknowledge the messages. Lost the race in 3 (another writer changed the state): delete the
 *    segments just written and start again from 1; they are then duplicates or still new.
 *
 * A crash anywhere before the state write leaves at most an unreferenced segment (nothing reads
 * it; R2 lifecycle rules expire ingest/) and the queue delivers the messages again. A message that
 * is not an {@link IngestMessage} is retried on its own and, after max_retries, goes to the
 * dead-letter queue ({@link storeDeadLetters}) without holding up the rest of its delivery.
 */
import { emptySummary, foldAggregates } from '../drift/aggregate.js';
import type { Env } from '../env.js';
import { loadConfig } from '../env.js';
import { HOUR_MS, hourKey, hourStart, keys, mapLimit, type HourKey } from '../lib/keys.js';
import { metrics } from '../lib/metrics.js';
import { foldFeedback, foldSamples } from '../monitoring/quality.js';
import { IngestMessageSchema, type IngestMessage } from './ingest.js';
import { emptyLaneState, emptyQualityCounts, getLaneState, laneOfQueue, laneStateMetadata, LaneStateSchema, type LaneState, type StoredLaneState } from './lanes.js';
import { writeVotes, type Vote } from './votes.js';

/** What one delivery did (also the test and benchmark view of the write budget). */
export interface ConsumeResult {
  lane: number;
  messages: number;
  /** Batches stored now. */
  accepted: number;
  items: number;
  duplicates: number;
  conflicts: number;
  /** Messages that did not parse (retried, then dead-lettered). */
  invalid: number;
  /** R2 writes by purpose. */
  writes: { segments: number; states: number; votes: number; deletes: number };
  /** R2 reads: lane states of the hour (each attempt) and of earlier hours (dedupe window). */
  reads: number;
  /** Attempts lost to a concurrent writer. */
  races: number;
}

const MAX_ATTEMPTS = 5;

/** Stores one delivery of an ingest lane; see the module comment. Throws (and the queue retries every unacknowledged message) on R2 failures. */
export async function consumeIngest(batch: MessageBatch<unknown>, env: Env): Promise<ConsumeResult> {
  const lane = laneOfQueue(batch.queue);
  if (lane === null) throw new Error(`queue ${batch.queue} is not an ingest lane`);
  const config = loadConfig(env);
  const result: ConsumeResult = {
    lane,
    messages: batch.messages.length,
    accepted: 0,
    items: 0,
    duplicates: 0,
    conflicts: 0,
    invalid: 0,
    writes: { segments: 0, states: 0, votes: 0, deletes: 0 },
    reads: 0,
    races: 0,
  };
  const byHour = new Map<HourKey, Array<{ message: Message<unknown>; body: IngestMessage }>>();
  for (const message of batch.messages) {
    const parsed = IngestMessageSchema.safeParse(message.body);
    if (!parsed.success) {
      result.invalid++;
      console.error(`ingest lane ${lane}: message ${message.id} (attempt ${message.attempts}) is not an ingest message: ${parsed.error.issues[0]?.message}`);
      message.retry();
      continue;
    }
    const group = byHour.get(parsed.data.hour) ?? [];
    group.push({ message, body: parsed.data });
    byHour.set(parsed.data.hour, group);
  }
  for (const [hour, group] of byHour) {
    await storeHour(env.TELEMETRY, lane, hour, group, config.ingestDedupeHours, result);
    for (const { message } of group) message.ack();
  }
  metrics.inc('ytsent_ingest_deliveries_total', { lane: String(lane) });
  metrics.inc('ytsent_ingest_invalid_messages_total', {}, result.invalid);
  for (const [what, n] of Object.entries(result.writes)) metrics.inc('ytsent_ingest_r2_writes_total', { what }, n);
  metrics.inc('ytsent_ingest_r2_reads_total', {}, result.reads);
  metrics.inc('ytsent_ingest_races_total', {}, result.races);
  return result;
}

async function storeHour(bucket: R2Bucket, lane: number, hour: HourKey, group: ReadonlyArray<{ body: IngestMessage }>, dedupeHours: number, result: ConsumeResult): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    const current = await readOwnState(bucket, hour, lane);
    result.reads++;
    const state: LaneState = current?.state ?? emptyLaneState(hour, lane);
    const earlier = await earlierBatches(bucket, lane, hour, dedupeHours, result);
    const known = (id: string): string | undefined => (Object.hasOwn(state.batches, id) ? state.batches[id] : earlier.find((b) => Object.hasOwn(b, id))?.[id]);

    const fresh: IngestMessage[] = [];
    const outcome = { duplicates: 0, conflicts: 0 };
    const dropped: Array<{ kind: IngestMessage['kind']; outcome: 'duplicate' | 'conflict' }> = [];
    const inDelivery = new Map<string, string>();
    for (const { body } of group) {
      const hash = body.sha256.slice(0, 16);
      const seen = known(body.batch_id) ?? inDelivery.get(body.batch_id);
      if (seen !== undefined) {
        if (seen === hash) outcome.duplicates++;
        else outcome.conflicts++;
        dropped.push({ kind: body.kind, outcome: seen === hash ? 'duplicate' : 'conflict' });
        continue;
      }
      inDelivery.set(body.batch_id, hash);
      fresh.push(body);
    }
    const countDropped = () => {
      result.duplicates += outcome.duplicates;
      result.conflicts += outcome.conflicts;
      for (const d of dropped) metrics.inc('ytsent_batches_total', d);
      if (outcome.conflicts > 0) console.warn(`ingest lane ${lane} hour ${hour}: ${outcome.conflicts} batch id(s) reused for other content, refused`);
    };
    // Nothing new: no write at all (copies are counted in the metrics only; a conflict, rare and
    // worth seeing, is also counted in the state).
    if (fresh.length === 0 && outcome.conflicts === 0) {
      countDropped();
      return;
    }

    const written: string[] = [];
    const tag = crypto.randomUUID().slice(0, 8);
    for (const kind of ['aggregates', 'samples', 'feedback'] as const) {
      const ofKind = fresh.filter((m) => m.kind === kind);
      if (ofKind.length === 0) continue;
      const seq = ++state.seq;
      const key = keys.ingestSegment(hour, lane, seq, kind, tag);
      const versions: Record<string, number> = {};
      for (const m of ofKind) versions[m.model_version] = (versions[m.model_version] ?? 0) + m.items;
      const items = ofKind.reduce((n, m) => n + m.items, 0);
      await bucket.put(key, ofKind.map((m) => m.ndjson).join(''), {
        httpMetadata: { contentType: 'application/x-ndjson' },
        customMetadata: { items: String(items), batches: String(ofKind.length) },
      });
      written.push(key);
      result.writes.segments++;
      state.segments.push({ key, kind, items, batches: ofKind.length, versions });
    }
    const votes: Array<{ vote: Vote; prepared: NonNullable<IngestMessage['votes']>[number] }> = [];
    for (const m of fresh) {
      state.batches[m.batch_id] = m.sha256.slice(0, 16);
      if (m.kind === 'aggregates') {
        foldAggregates((state.aggregates[m.model_version] ??= emptySummary(m.model_version, hour)), m.ndjson);
      } else {
        const q = (state.quality[m.model_version] ??= emptyQualityCounts());
        if (m.kind === 'samples') foldSamples(q, m.ndjson);
        else {
          foldFeedback(q, m.ndjson);
          m.ndjson
            .split('\n')
            .filter(Boolean)
            .forEach((line, i) => {
              const row = JSON.parse(line) as { text: string; predicted: Vote['predicted']; corrected: Vote['corrected'] };
              votes.push({ vote: { text: row.text, predicted: row.predicted, corrected: row.corrected, model_version: m.model_version }, prepared: m.votes![i]! });
            });
        }
      }
    }
    // Before the state: a crash after the votes and before the state re-delivers the batch, which
    // writes the same votes again (same keys, same content).
    if (votes.length > 0) result.writes.votes += await writeVotes(bucket, votes, hour);
    state.duplicates += outcome.duplicates;
    state.conflicts += outcome.conflicts;

    const json = JSON.stringify(state);
    const stored = await bucket.put(keys.ingestState(hour, lane), json, {
      onlyIf: current ? { etagMatches: current.etag } : { etagDoesNotMatch: '*' },
      httpMetadata: { contentType: 'application/json' },
      customMetadata: laneStateMetadata(state),
    });
    result.writes.states++;
    if (stored !== null) {
      rememberOwnState(keys.ingestState(hour, lane), stored.etag, json);
      result.accepted += fresh.length;
      result.items += fresh.reduce((n, m) => n + m.items, 0);
      countDropped();
      for (const m of fresh) {
        metrics.inc('ytsent_batches_total', { kind: m.kind, outcome: 'accepted' });
        metrics.inc('ytsent_samples_accepted_total', { kind: m.kind }, m.items);
      }
      return;
    }
    // Another writer changed the state since it was read: its batches and ours may overlap.
    result.races++;
    await Promise.all(written.map((k) => bucket.delete(k)));
    result.writes.deletes += written.length;
    if (attempt >= MAX_ATTEMPTS) throw new Error(`ingest lane ${lane} hour ${hour}: the state changed under ${MAX_ATTEMPTS} attempts in a row`);
  }
}

/**
 * The state this isolate wrote last, per key: a lane has one consumer at a time (max_concurrency
 * 1), so the next delivery usually finds the state unchanged and a conditional GET returns no
 * body (a state holds every batch id of its lane and hour: megabytes at scale, docs/SCALE.md).
 */
const ownStates = new Map<string, { etag: string; json: string }>();

function rememberOwnState(key: string, etag: string, json: string): void {
  // Only the newest few: a lane writes one hour at a time, two around the turn of an hour.
  if (ownStates.size >= 4 && !ownStates.has(key)) ownStates.delete(ownStates.keys().next().value!);
  ownStates.set(key, { etag, json });
}

async function readOwnState(bucket: R2Bucket, hour: HourKey, lane: number): Promise<StoredLaneState | null> {
  const key = keys.ingestState(hour, lane);
  const cached = ownStates.get(key);
  if (!cached) return getLaneState(bucket, hour, lane);
  const object = await bucket.get(key, { onlyIf: { etagDoesNotMatch: cached.etag } });
  if (object === null) {
    ownStates.delete(key);
    return null;
  }
  // Unchanged since this isolate wrote it: parse the copy kept (a fresh object, safe to change).
  const json = 'body' in object ? await (object as R2ObjectBody).text() : cached.json;
  if ('body' in object) ownStates.delete(key);
  return { lane, etag: object.etag, state: LaneStateSchema.parse(JSON.parse(json)) };
}

/**
 * Batch ids of the lane's states in the `hours - 1` hours before `hour`, per isolate cached by key
 * and re-validated with a conditional GET (an earlier hour rarely changes, so that GET usually
 * returns no body).
 */
const earlierCache = new Map<string, { etag: string; batches: Record<string, string> }>();

async function earlierBatches(bucket: R2Bucket, lane: number, hour: HourKey, hours: number, result: ConsumeResult): Promise<Array<Record<string, string>>> {
  const start = hourStart(hour);
  const wanted = Array.from({ length: hours - 1 }, (_, i) => keys.ingestState(hourKey(start - (i + 1) * HOUR_MS), lane));
  const found = await mapLimit(wanted, 8, async (key): Promise<Record<string, string> | null> => {
    const cached = earlierCache.get(key);
    const object = await bucket.get(key, cached ? { onlyIf: { etagDoesNotMatch: cached.etag } } : {});
    result.reads++;
    if (object === null) {
      earlierCache.delete(key);
      return null;
    }
    if (cached && !('body' in object)) return cached.batches;
    const state = LaneStateSchema.parse(await (object as R2ObjectBody).json());
    earlierCache.set(key, { etag: object.etag, batches: state.batches });
    return state.batches;
  });
  // Keep the cache to the windows in use (lanes × hours entries at most per hour being written).
  if (earlierCache.size > 4 * 256 * 168) earlierCache.clear();
  return found.filter((b): b is Record<string, string> => b !== null);
}

/**
 * The dead-letter queue's consumer: every message that exhausted its retries is kept, one NDJSON
 * object per delivery, for inspection and replay (POST /v1/admin/ingest/replay). Nothing is dropped.
 */
export async function storeDeadLetters(batch: MessageBatch<unknown>, env: Env, now: number): Promise<string> {
  const lines = batch.messages.map((m) => {
    let body: unknown = m.body;
    try {
      JSON.stringify(body);
    } catch {
      body = String(body);
    }
    return JSON.stringify({ id: m.id, attempts: m.attempts, queue: batch.queue, body });
  });
  const key = keys.deadLetter(hourKey(now), crypto.randomUUID());
  await env.TELEMETRY.put(key, lines.join('\n') + '\n', { httpMetadata: { contentType: 'application/x-ndjson' }, customMetadata: { messages: String(lines.length) } });
  metrics.inc('ytsent_ingest_dead_letters_total', {}, lines.length);
  console.error(`ingest: ${lines.length} dead-lettered messages stored at ${key}`);
  batch.ackAll();
  return key;
}

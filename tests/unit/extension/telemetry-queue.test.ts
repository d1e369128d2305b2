/**
 * The telemetry queue on fake-indexeddb, with the clock as an argument: what each consent queues
 * (hourly aggregates only under "stats"), when an aggregate may leave (hour ended, ≥ 10 comments,
 * merged over later hours, deleted after 24 hours), consent withdrawal, batching, retries, re-keying,
 * deferral, expiry and trimming by whole batches.
 */
import { beforeEach, describe, expect, it } from 'vitest';
import { AGGREGATE, AggregatesBatchSchema, FeedbackBatchSchema, HOUR_MS, LIMITS, SamplesBatchSchema, type AggregateItem } from '../../../core/wire.js';
import { installChromeFake } from './chrome-fake.js';
installChromeFake();
const { YtsentDb } = await import('../../../extension/lib/db.js');
const { SettingsSchema } = await import('../../../extension/lib/settings.js');
const { MAX_BATCH_AGE_MS, MAX_QUEUE_ROWS, RESEND_WINDOW_MS, TelemetryQueue, planBatches, toBatch, truncateUtf8 } = await import('../../../extension/lib/telemetry-queue.js');

let db: InstanceType<typeof YtsentDb>;
let queue: InstanceType<typeof TelemetryQueue>;
let n = 0;
beforeEach(async () => {
  db = new YtsentDb(`queue-test-${n++}`);
  await db.open();
  queue = new TelemetryQueue(db);
});

const settings = (consent_stats: boolean, consent_text: boolean) => SettingsSchema.parse({ consent_stats, consent_text });
const STATS = settings(true, false);
const TEXT = settings(true, true);
// `lang` is the model's language identification, which the aggregates and rows report as is.
const comment = (text: string, label: 'negative' | 'neutral' | 'positive' = 'positive', lang = 'en') => ({
  text,
  label,
  lang,
  probs: (label === 'positive' ? [0.1, 0.2, 0.7] : label === 'neutral' ? [0.2, 0.6, 0.2] : [0.83, 0.1, 0.07]) as [number, number, number],
  video_id: 'dQw4w9WgXcQ',
});
const comments = (k: number, prefix = 'c') => Array.from({ length: k }, (_, i) => comment(`${prefix} number ${i} of a lovely video`));
const CLIENT = 'abcdefghijklmnopqrstuv';
/** 2026-03-10 14:25 UTC: mid-hour, so "the hour's end" is 35 minutes later. */
const T0 = Date.UTC(2026, 2, 10, 14, 25);
const H0 = Date.UTC(2026, 2, 10, 14);

async function drain(now: number): Promise<Array<{ kind: string; body: ReturnType<typeof toBatch> }>> {
  const out: Array<{ kind: string; body: ReturnType<typeof toBatch> }> = [];
  for (let next = await queue.nextBatch(now); next; next = await queue.nextBatch(now)) {
    out.push({ kind: next.rows[0]!.kind, body: toBatch(next.rows, next.batch_id, CLIENT, '0.1.0') });
    await queue.remove(next.rows);
  }
  return out;
}

describe('consent "stats": hourly aggregates, never a row per comment', () => {
  it('queues nothing without consent', async () => {
    expect(await queue.enqueueSamples(settings(false, false), '1.0.0', [comment('hi')], T0)).toBe(0);
    expect(await queue.enqueueFeedback(STATS, '1.0.0', { text: 'x', predicted: 'neutral', corrected: 'positive' }, T0)).toBe(false);
    expect(await queue.size()).toBe(0);
    expect(await queue.openAggregates()).toEqual([]);
  });

  it('counts comments into the hour on the device; nothing is queued while the hour runs', async () => {
    expect(await queue.enqueueSamples(STATS, '1.0.0', comments(12), T0)).toBe(12);
    expect(await queue.size()).toBe(0);
    const [open] = await queue.openAggregates();
    expect(open).toMatchObject({ model_version: '1.0.0', aggregate: { hour_from: H0, hour_to: H0 + HOUR_MS, n: 12 } });
    expect(await queue.sealAggregates(H0 + HOUR_MS - 1)).toEqual({ queued: 0, expired: 0 });
    expect(await queue.nextBatch(T0)).toBeNull();
  });

  it('sends one aggregate per ended hour of ≥ 10 comments: counts only, hour-granular, schema-valid', async () => {
    await queue.enqueueSamples(
      STATS,
      '1.0.0',
      [...comments(8), comment('this is the worst, awful', 'negative'), comment('ok', 'neutral', 'und'), comment('me encanta esta canción, muchas gracias por compartir', 'positive', 'es')],
      T0,
    );
    expect(await queue.sealAggregates(H0 + HOUR_MS)).toEqual({ queued: 1, expired: 0 });
    expect(await queue.openAggregates()).toEqual([]);
    const sent = await drain(H0 + HOUR_MS);
    expect(sent.map((s) => s.kind)).toEqual(['aggregates']);
    const batch = AggregatesBatchSchema.parse(sent[0]!.body);
    expect(batch.consent).toBe('stats');
    const agg = batch.items[0]!;
    expect(agg).toMatchObject({ hour_from: H0, hour_to: H0 + HOUR_MS, n: 11, label_counts: [1, 1, 9] });
    // Confidence in ten bins: 0.7 → bin 7, 0.6 → bin 6, 0.83 → bin 8.
    expect(agg.confidence_counts).toEqual([0, 0, 0, 0, 0, 0, 1, 9, 1, 0]);
    expect(agg.languages).toEqual({ en: 9, es: 1, und: 1 });
    expect(agg.token_n).toBe(11);
    expect(Math.max(...agg.token_counts)).toBeLessThanOrEqual(11);
    // Nothing that could identify a comment: no text, video, probabilities or finer time.
    const json = JSON.stringify(batch);
    expect(json).not.toMatch(/"(text|video_id|probs|score|ts)"/);
    expect(json).not.toContain('lovely');
    expect(json).not.toContain('dQw4w9WgXcQ');
  });

  it('keeps an hour of fewer than 10 comments waiting, merges it with later hours, and sends the merged range', async () => {
    await queue.enqueueSamples(STATS, '1.0.0', comments(4), T0);
    expect(await queue.sealAggregates(H0 + HOUR_MS + 1)).toEqual({ queued: 0, expired: 0 });
    expect(await drain(H0 + HOUR_MS + 1)).toEqual([]);
    // Three hours later, six more comments: the same aggregate, its range now four hours.
    await queue.enqueueSamples(STATS, '1.0.0', comments(6, 'd'), T0 + 3 * HOUR_MS);
    expect((await queue.openAggregates())[0]!.aggregate).toMatchObject({ hour_from: H0, hour_to: H0 + 4 * HOUR_MS, n: 10 });
    expect(await drain(H0 + 4 * HOUR_MS - 1)).toEqual([]);
    await queue.sealAggregates(H0 + 4 * HOUR_MS);
    const [sent] = await drain(H0 + 4 * HOUR_MS);
    expect(AggregatesBatchSchema.parse(sent!.body).items[0]).toMatchObject({ hour_from: H0, hour_to: H0 + 4 * HOUR_MS, n: 10 });
  });

  it('deletes an aggregate that stays under 10 comments for 24 hours, unsent', async () => {
    await queue.enqueueSamples(STATS, '1.0.0', comments(9), T0);
    expect(await queue.sealAggregates(H0 + 24 * HOUR_MS - 1)).toEqual({ queued: 0, expired: 0 });
    expect(await queue.sealAggregates(H0 + 24 * HOUR_MS)).toEqual({ queued: 0, expired: 1 });
    expect(await queue.openAggregates()).toEqual([]);
    expect(await queue.size()).toBe(0);
    // A comment a day later starts afresh rather than stretching the range past 24 hours.
    await queue.enqueueSamples(STATS, '1.0.0', comments(9), T0);
    await queue.enqueueSamples(STATS, '1.0.0', comments(5), T0 + 24 * HOUR_MS);
    expect((await queue.openAggregates())[0]!.aggregate).toMatchObject({ hour_from: H0 + 24 * HOUR_MS, n: 5 });
  });

  it('settles an ended hour before counting a later one, so busy hours go one by one', async () => {
    await queue.enqueueSamples(STATS, '1.0.0', comments(10), T0);
    await queue.enqueueSamples(STATS, '1.0.0', comments(3), T0 + HOUR_MS);
    expect(await queue.size()).toBe(1);
    expect((await queue.openAggregates())[0]!.aggregate).toMatchObject({ hour_from: H0 + HOUR_MS, n: 3 });
    const [sent] = await drain(T0 + HOUR_MS);
    expect(sent!.body.items[0] as AggregateItem).toMatchObject({ hour_from: H0, hour_to: H0 + HOUR_MS, n: 10 });
  });

  it('keeps one aggregate per model version and batches at most 24 aggregates', async () => {
    for (let h = 0; h < 30; h++) await queue.enqueueSamples(STATS, '1.0.0', comments(10), T0 + h * HOUR_MS);
    await queue.enqueueSamples(STATS, '1.1.0', comments(10), T0);
    await queue.sealAggregates(T0 + 40 * HOUR_MS);
    const sent = await drain(T0 + 40 * HOUR_MS);
    expect(sent.map((s) => `${s.body.model_version}:${s.body.items.length}`)).toEqual(['1.0.0:24', '1.0.0:6', '1.1.0:1']);
    for (const s of sent) AggregatesBatchSchema.parse(s.body);
  });
});

describe('scoring latency and errors in the aggregates', () => {
  it('counts one latency per model call and each failed call, and sends them with the hour', async () => {
    await queue.enqueueSamples(STATS, '1.0.0', comments(8), T0, { ms: 12 });
    await queue.enqueueSamples(STATS, '1.0.0', comments(4, 'd'), T0, { ms: 700 });
    // A call whose comments were all seen before counts nothing, so it adds no latency either.
    await queue.enqueueSamples(STATS, '1.0.0', [], T0, { ms: 5 });
    expect(await queue.recordScoringError(STATS, '1.0.0', T0)).toBe(true);
    expect(await queue.recordScoringError(settings(false, false), '1.0.0', T0)).toBe(false);
    const [open] = await queue.openAggregates();
    // 12 ms is in the 8-16 ms bin (4), 700 ms in 512-1024 ms (10).
    const expected = new Array<number>(16).fill(0);
    expected[4] = 1;
    expected[10] = 1;
    expect(open!.aggregate.latency_counts).toEqual(expected);
    expect(open!.aggregate.errors).toBe(1);
    await queue.sealAggregates(H0 + HOUR_MS);
    const [batch] = await drain(H0 + HOUR_MS);
    const body = AggregatesBatchSchema.parse(batch!.body);
    expect(body.items[0]).toMatchObject({ n: 12, errors: 1 });
    expect(body.items[0]!.latency_counts!.reduce((a, b) => a + b, 0)).toBe(2);
  });

  it('settles an ended hour before counting an error into the next', async () => {
    await queue.enqueueSamples(STATS, '1.0.0', comments(10), T0, { ms: 3 });
    await queue.recordScoringError(STATS, '1.0.0', H0 + HOUR_MS + 60_000);
    expect(await queue.size()).toBe(1);
    const [open] = await queue.openAggregates();
    expect(open!.aggregate).toMatchObject({ hour_from: H0 + HOUR_MS, n: 0, errors: 1 });
  });
});

describe('consent "text": scrubbed rows, hour-granular', () => {
  it('queues one row per comment with scrubbed text, the video id and the hour; plus the aggregate', async () => {
    await queue.enqueueSamples(TEXT, '1.0.0', [comment('mail jane@example.com or call 555-123-4567 @bob https://x.io/a')], T0);
    const rows = await db.queue.toArray();
    expect(rows).toHaveLength(1);
    expect(rows[0]!.item).toMatchObject({ text: 'mail [email] or call [phone] @user [url]', video_id: 'dQw4w9WgXcQ', ts: H0 });
    expect((await queue.openAggregates())[0]!.aggregate.n).toBe(1);
    await queue.enqueueFeedback(TEXT, '1.0.0', { text: 'ping me@x.org', predicted: 'neutral', corrected: 'negative', video_id: 'dQw4w9WgXcQ' }, T0);
    expect(JSON.stringify(await db.queue.toArray())).not.toContain('me@x.org');
    expect((await db.queue.toArray())[1]!.item).toMatchObject({ ts: H0 });
    const sent = await drain(T0);
    SamplesBatchSchema.parse(sent[0]!.body);
    FeedbackBatchSchema.parse(sent[1]!.body);
  });

  it('truncates texts to the 2 KB limit on a character boundary', () => {
    const long = '😀'.repeat(1000); // 4 bytes each
    const cut = truncateUtf8(long);
    expect(new TextEncoder().encode(cut).byteLength).toBeLessThanOrEqual(LIMITS.text_bytes);
    expect(cut).toBe('😀'.repeat(512));
  });

  it('batches by kind, consent and model version, at most 100 items, under 64 KB', async () => {
    await queue.enqueueSamples(TEXT, '1.0.0', comments(150), T0);
    await queue.enqueueSamples(TEXT, '1.1.0', [comment('other version')], T0);
    await queue.enqueueFeedback(TEXT, '1.0.0', { text: 'fb', predicted: 'neutral', corrected: 'positive' }, T0);
    await queue.enqueueSamples(
      TEXT,
      '1.2.0',
      Array.from({ length: 60 }, () => comment('x'.repeat(1900))),
      T0,
    );
    const seen: string[] = [];
    for (const { kind, body } of await drain(T0)) {
      expect(new TextEncoder().encode(JSON.stringify(body)).byteLength).toBeLessThanOrEqual(LIMITS.body_bytes);
      expect(body.items.length).toBeLessThanOrEqual(LIMITS.items_per_batch);
      (kind === 'feedback' ? FeedbackBatchSchema : SamplesBatchSchema).parse(body);
      seen.push(`${kind}/${body.consent}/${body.model_version}:${body.items.length}`);
    }
    expect(seen.slice(0, 3)).toEqual(['samples/text/1.0.0:100', 'samples/text/1.0.0:50', 'samples/text/1.1.0:1']);
    expect(seen[3]).toBe('feedback/text/1.0.0:1');
    // 60 texts of ~1.9 KB do not fit in one 64 KB body.
    expect(
      seen
        .slice(4)
        .map((s) => Number(s.split(':')[1]))
        .reduce((a, b) => a + b),
    ).toBe(60);
    expect(seen.length).toBeGreaterThan(5);
  });
});

describe('consent changes', () => {
  it('text off (statistics on) deletes every queued row with text, a video id or a correction; the statistics stay', async () => {
    await queue.enqueueSamples(TEXT, '1.0.0', comments(10), T0);
    await queue.enqueueFeedback(TEXT, '1.0.0', { text: 'meh', predicted: 'neutral', corrected: 'negative' }, T0);
    await queue.sealAggregates(H0 + HOUR_MS);
    await queue.enqueueSamples(TEXT, '1.0.0', comments(2, 'e'), H0 + HOUR_MS);
    expect(await queue.counts()).toEqual({ aggregates: 1, samples: 12, feedback: 1 });
    // A text batch already sent once (and failed) goes too.
    await queue.nextBatch(H0 + HOUR_MS);
    expect(await queue.applyConsent('stats')).toBe(13);
    expect(await queue.counts()).toEqual({ aggregates: 1, samples: 0, feedback: 0 });
    expect((await queue.openAggregates())[0]!.aggregate.n).toBe(2);
    expect(JSON.stringify(await db.queue.toArray())).not.toMatch(/"text"|video_id|lovely/);
  });

  it('both off deletes everything, including what is still being counted', async () => {
    await queue.enqueueSamples(TEXT, '1.0.0', comments(10), T0);
    await queue.sealAggregates(H0 + HOUR_MS);
    await queue.enqueueSamples(STATS, '1.0.0', comments(3), H0 + HOUR_MS);
    expect(await queue.applyConsent(null)).toBe(11);
    expect(await queue.size()).toBe(0);
    expect(await queue.openAggregates()).toEqual([]);
  });

  it('a change to a higher level deletes nothing', async () => {
    await queue.enqueueSamples(STATS, '1.0.0', comments(10), T0);
    await queue.sealAggregates(H0 + HOUR_MS);
    expect(await queue.applyConsent('text')).toBe(0);
    expect(await queue.applyConsent('stats')).toBe(0);
    expect(await queue.size()).toBe(1);
  });
});

describe('retries, conflicts, expiry and trimming', () => {
  it('retries a failed batch with the same id and the same rows', async () => {
    await queue.enqueueSamples(TEXT, '1.0.0', [comment('a'), comment('b')], T0);
    const first = (await queue.nextBatch(T0))!;
    // The upload failed: the rows stay. New rows arrive meanwhile.
    await queue.enqueueSamples(TEXT, '1.0.0', [comment('c')], T0);
    const retry = (await queue.nextBatch(T0))!;
    expect(retry.batch_id).toBe(first.batch_id);
    expect(retry.rows.map((r) => r.id)).toEqual(first.rows.map((r) => r.id));
    await queue.remove(retry.rows);
    const next = (await queue.nextBatch(T0))!;
    expect(next.batch_id).not.toBe(first.batch_id);
    expect(next.rows).toHaveLength(1);
  });

  it('re-keys a batch (409): the same rows under a fresh id, counted as an attempt', async () => {
    await queue.enqueueSamples(TEXT, '1.0.0', [comment('a'), comment('b')], T0);
    const first = (await queue.nextBatch(T0))!;
    const fresh = await queue.rekey(first.rows);
    expect(fresh).not.toBe(first.batch_id);
    const again = (await queue.nextBatch(T0))!;
    expect(again.batch_id).toBe(fresh);
    expect(again.rows.map((r) => r.id)).toEqual(first.rows.map((r) => r.id));
    expect(TelemetryQueue.attemptsOf(again.rows)).toBe(1);
  });

  it('a deferred batch waits for its retry time while later rows go first', async () => {
    await queue.enqueueSamples(TEXT, '1.0.0', [comment('stuck')], T0);
    const stuck = (await queue.nextBatch(T0))!;
    await queue.defer(stuck.rows, T0 + 60_000);
    await queue.enqueueSamples(TEXT, '1.0.0', [comment('later')], T0);
    const next = (await queue.nextBatch(T0))!;
    expect(next.batch_id).not.toBe(stuck.batch_id);
    expect((next.rows[0]!.item as { text: string }).text).toBe('later');
    await queue.remove(next.rows);
    expect(await queue.nextBatch(T0)).toBeNull();
    // A batch tried in this pass is skipped too.
    expect(await queue.nextBatch(T0 + 60_000, new Set([stuck.batch_id]))).toBeNull();
    const due = (await queue.nextBatch(T0 + 60_000))!;
    expect(due.batch_id).toBe(stuck.batch_id);
    expect(TelemetryQueue.attemptsOf(due.rows)).toBe(1);
  });

  it('drops batches (whole) and rows older than the maximum age', async () => {
    await queue.enqueueSamples(TEXT, '1.0.0', comments(3), T0);
    // First sent an hour before the age limit, well inside the resend window.
    const old = (await queue.nextBatch(T0 + MAX_BATCH_AGE_MS - 3_600_000))!;
    await queue.enqueueSamples(TEXT, '1.0.0', comments(2, 'f'), T0 + MAX_BATCH_AGE_MS / 2);
    expect(await queue.dropExpired(T0 + MAX_BATCH_AGE_MS)).toBe(0);
    expect(await queue.dropExpired(T0 + MAX_BATCH_AGE_MS + 1)).toBe(3);
    expect((await db.queue.toArray()).every((r) => r.batch_id !== old.batch_id)).toBe(true);
    expect(await queue.size()).toBe(2);
  });

  it('drops a batch first sent longer ago than the resend window, counting from its newest id', async () => {
    await queue.enqueueSamples(TEXT, '1.0.0', comments(2, 'a'), T0);
    const sent = (await queue.nextBatch(T0))!;
    expect(sent.rows.every((r) => r.first_sent_at === T0)).toBe(true);
    // Queued at the same time but never sent: the resend window does not apply to it.
    await queue.enqueueSamples(TEXT, '1.0.0', comments(1, 'b'), T0);
    expect(await queue.dropExpired(T0 + RESEND_WINDOW_MS)).toBe(0);
    expect(await queue.dropExpired(T0 + RESEND_WINDOW_MS + 1)).toBe(2);
    expect((await queue.all()).map((r) => (r.item as { text: string }).text)).toEqual([expect.stringContaining('b number 0')]);
    // A re-keyed batch (409) is new to the backend: its window starts at the re-key.
    const other = (await queue.nextBatch(T0 + 1000))!;
    const later = T0 + RESEND_WINDOW_MS;
    await queue.rekey(other.rows, later);
    expect(await queue.dropExpired(later + RESEND_WINDOW_MS)).toBe(0);
    expect(await queue.dropExpired(later + RESEND_WINDOW_MS + 1)).toBe(1);
  });

  it('keeps at most MAX_QUEUE_ROWS by removing the oldest batches whole, never part of one', async () => {
    await queue.enqueueSamples(TEXT, '1.0.0', comments(100, 'old'), T0);
    const batch = (await queue.nextBatch(T0))!;
    expect(batch.rows).toHaveLength(100);
    await queue.enqueueSamples(TEXT, '1.0.0', comments(MAX_QUEUE_ROWS - 100 + 5, 'new'), T0);
    // Five rows over: the five oldest belong to the batch, so the whole batch goes.
    expect(await queue.size()).toBe(MAX_QUEUE_ROWS - 95);
    expect(await db.queue.where('batch_id').equals(batch.batch_id).count()).toBe(0);
    for (const plan of planBatches(await queue.all())) if (plan.batch_id) expect(plan.rows).toHaveLength(100);
    await queue.purge();
    expect(await queue.size()).toBe(0);
  });

  it('plans every batch in send order: batches already sent once first, then new groups', async () => {
    await queue.enqueueSamples(TEXT, '1.0.0', comments(3), T0);
    await queue.enqueueSamples(STATS, '1.0.0', comments(AGGREGATE.min_comments), T0 + HOUR_MS);
    const sentOnce = (await queue.nextBatch(T0))!;
    await queue.enqueueSamples(TEXT, '1.0.0', comments(2, 'g'), T0 + 2 * HOUR_MS);
    const plans = planBatches(await queue.all());
    expect(plans.map((p) => [p.batch_id ?? null, p.rows[0]!.kind, p.rows.length])).toEqual([
      [sentOnce.batch_id, 'samples', 3],
      [null, 'aggregates', 1],
      [null, 'samples', 2],
    ]);
  });
});

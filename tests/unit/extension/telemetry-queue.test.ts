import { beforeEach, describe, expect, it } from 'vitest';
import { FeedbackBatchSchema, LIMITS, SamplesBatchSchema } from '../../../core/wire.js';
import { installChromeFake } from './chrome-fake.js';
installChromeFake();
const { YtsentDb } = await import('../../../extension/lib/db.js');
const { SettingsSchema } = await import('../../../extension/lib/settings.js');
const { MAX_QUEUE_ROWS, TelemetryQueue, toBatch, truncateUtf8 } = await import('../../../extension/lib/telemetry-queue.js');

let db: InstanceType<typeof YtsentDb>;
let queue: InstanceType<typeof TelemetryQueue>;
let n = 0;
beforeEach(async () => {
  db = new YtsentDb(`queue-test-${n++}`);
  await db.open();
  queue = new TelemetryQueue(db);
});

const settings = (consent_stats: boolean, consent_text: boolean) => SettingsSchema.parse({ consent_stats, consent_text });
const comment = (text: string) => ({ text, label: 'positive' as const, probs: [0.1, 0.2, 0.7] as [number, number, number], video_id: 'dQw4w9WgXcQ' });
const CLIENT = 'abcdefghijklmnopqrstuv';

describe('telemetry queue', () => {
  it('queues nothing without consent', async () => {
    expect(await queue.enqueueSamples(settings(false, false), '1.0.0', [comment('hi')])).toBe(0);
    expect(await queue.enqueueFeedback(settings(true, false), '1.0.0', { text: 'x', predicted: 'neutral', corrected: 'positive' })).toBe(false);
    expect(await queue.size()).toBe(0);
  });

  it('builds statistics items without text or video id', async () => {
    await queue.enqueueSamples(settings(true, false), '1.0.0', [comment('I really love this video, mail me at a@b.co')]);
    const next = (await queue.nextBatch())!;
    const batch = SamplesBatchSchema.parse(toBatch(next.rows, next.batch_id, CLIENT, '0.1.0'));
    expect(batch.consent).toBe('stats');
    expect(batch.items[0]).not.toHaveProperty('text');
    expect(batch.items[0]).not.toHaveProperty('video_id');
    expect(batch.items[0]!.tokens!.length).toBeGreaterThan(0);
    expect(batch.items[0]!.score).toBe(0.7);
    expect(batch.items[0]!.lang).toBe('en');
  });

  it("records each comment's language, 'und' when it cannot tell", async () => {
    await queue.enqueueSamples(settings(true, false), '1.0.0', [
      comment('me encanta esta canción, muchas gracias por compartir'),
      comment('Ótimo vídeo, parabéns pelo trabalho incrível'),
      comment('ok'),
    ]);
    expect((await db.queue.toArray()).map((r) => (r.item as { lang?: string }).lang)).toEqual(['es', 'pt', 'und']);
  });

  it('scrubs text before it is stored, under the text consent', async () => {
    await queue.enqueueSamples(settings(false, true), '1.0.0', [comment('mail jane@example.com or call 555-123-4567 @bob https://x.io/a')]);
    const rows = await db.queue.toArray();
    expect((rows[0]!.item as { text: string }).text).toBe('mail [email] or call [phone] @user [url]');
    expect((rows[0]!.item as { video_id: string }).video_id).toBe('dQw4w9WgXcQ');
    await queue.enqueueFeedback(settings(false, true), '1.0.0', { text: 'ping me@x.org', predicted: 'neutral', corrected: 'negative', video_id: 'dQw4w9WgXcQ' });
    expect(JSON.stringify(await db.queue.toArray())).not.toContain('me@x.org');
  });

  it('truncates texts to the 2 KB limit on a character boundary', () => {
    const long = '😀'.repeat(1000); // 4 bytes each
    const cut = truncateUtf8(long);
    expect(new TextEncoder().encode(cut).byteLength).toBeLessThanOrEqual(LIMITS.text_bytes);
    expect(cut).toBe('😀'.repeat(512));
  });

  it('batches by kind, consent and model version, at most 100 items, under 64 KB', async () => {
    await queue.enqueueSamples(settings(true, false), '1.0.0', Array.from({ length: 150 }, (_, i) => comment(`c${i}`)));
    await queue.enqueueSamples(settings(true, false), '1.1.0', [comment('other version')]);
    await queue.enqueueFeedback(settings(true, true), '1.0.0', { text: 'fb', predicted: 'neutral', corrected: 'positive' });
    await queue.enqueueSamples(settings(true, true), '1.0.0', Array.from({ length: 60 }, () => comment('x'.repeat(1900))));
    const seen: string[] = [];
    for (let next = await queue.nextBatch(); next; next = await queue.nextBatch()) {
      const batch = toBatch(next.rows, next.batch_id, CLIENT, '0.1.0');
      const body = JSON.stringify(batch);
      expect(new TextEncoder().encode(body).byteLength).toBeLessThanOrEqual(LIMITS.body_bytes);
      expect(next.rows.length).toBeLessThanOrEqual(LIMITS.items_per_batch);
      if (next.rows[0]!.kind === 'feedback') FeedbackBatchSchema.parse(batch);
      else SamplesBatchSchema.parse(batch);
      seen.push(`${next.rows[0]!.kind}/${batch.consent}/${batch.model_version}:${next.rows.length}`);
      await queue.remove(next.rows);
    }
    expect(seen.slice(0, 3)).toEqual(['samples/stats/1.0.0:100', 'samples/stats/1.0.0:50', 'samples/stats/1.1.0:1']);
    expect(seen[3]).toBe('feedback/text/1.0.0:1');
    // 60 texts of ~1.9 KB do not fit in one 64 KB body.
    expect(seen.slice(4).map((s) => Number(s.split(':')[1])).reduce((a, b) => a + b)).toBe(60);
    expect(seen.length).toBeGreaterThan(5);
  });

  it('retries a failed batch with the same id and the same rows', async () => {
    await queue.enqueueSamples(settings(true, false), '1.0.0', [comment('a'), comment('b')]);
    const first = (await queue.nextBatch())!;
    // The upload failed: the rows stay. New rows arrive meanwhile.
    await queue.enqueueSamples(settings(true, false), '1.0.0', [comment('c')]);
    const retry = (await queue.nextBatch())!;
    expect(retry.batch_id).toBe(first.batch_id);
    expect(retry.rows.map((r) => r.id)).toEqual(first.rows.map((r) => r.id));
    await queue.remove(retry.rows);
    const next = (await queue.nextBatch())!;
    expect(next.batch_id).not.toBe(first.batch_id);
    expect(next.rows).toHaveLength(1);
  });

  it('keeps at most MAX_QUEUE_ROWS, dropping the oldest, and purges on opt-out', async () => {
    await queue.enqueueSamples(settings(true, false), '1.0.0', Array.from({ length: MAX_QUEUE_ROWS + 5 }, (_, i) => comment(`c${i}`)));
    expect(await queue.size()).toBe(MAX_QUEUE_ROWS);
    await queue.purge();
    expect(await queue.size()).toBe(0);
  });
});

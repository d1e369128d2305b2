/**
 * The extension scrubs each comment's text exactly once, when its queue row is built; the backend
 * scrubs again on purpose (worker/telemetry/ingest.ts), so a second pass on the device would only
 * cost time. Counts the scrubber's calls through a spy around the real module.
 */
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { installChromeFake } from './chrome-fake.js';

const calls: string[] = [];
vi.mock('../../../core/scrub.js', async (importOriginal) => {
  const real = await importOriginal<typeof import('../../../core/scrub.js')>();
  return {
    ...real,
    scrub: (text: string) => (calls.push(text), real.scrub(text)),
    scrubText: (text: string) => (calls.push(text), real.scrubText(text)),
  };
});

installChromeFake();
const { YtsentDb } = await import('../../../extension/lib/db.js');
const { SettingsSchema } = await import('../../../extension/lib/settings.js');
const { TelemetryQueue } = await import('../../../extension/lib/telemetry-queue.js');

let queue: InstanceType<typeof TelemetryQueue>;
let n = 0;
beforeEach(async () => {
  const db = new YtsentDb(`scrub-once-${n++}`);
  await db.open();
  queue = new TelemetryQueue(db);
  calls.length = 0;
});

const comment = (text: string) => ({ text, label: 'positive' as const, probs: [0.1, 0.2, 0.7] as [number, number, number], video_id: 'dQw4w9WgXcQ' });
const T0 = Date.UTC(2026, 2, 10, 14, 25);

describe('client-side scrubbing', () => {
  it('scrubs each comment once under the text consent, and never under the statistics consent', async () => {
    const texts = ['mail a@b.co', 'call 555-123-4567', 'see mysite.xyz', 'no identifiers at all'];
    await queue.enqueueSamples(SettingsSchema.parse({ consent_stats: true, consent_text: false }), '2.0.0', texts.map(comment), T0);
    expect(calls).toEqual([]);
    await queue.enqueueSamples(SettingsSchema.parse({ consent_stats: true, consent_text: true }), '2.0.0', texts.map(comment), T0);
    expect(calls).toEqual(texts);
    const stored = (await queue.all()).filter((r) => r.kind === 'samples').map((r) => (r.item as { text: string }).text);
    expect(stored).toEqual(['mail [email]', 'call [phone]', 'see [url]', 'no identifiers at all']);
  });

  it('scrubs a correction once', async () => {
    await queue.enqueueFeedback(
      SettingsSchema.parse({ consent_stats: true, consent_text: true }),
      '2.0.0',
      { text: 'IBAN DE89 3704 0044 0532 0130 00', predicted: 'neutral', corrected: 'negative' },
      T0,
    );
    expect(calls).toEqual(['IBAN DE89 3704 0044 0532 0130 00']);
    expect((await queue.all()).map((r) => (r.item as { text: string }).text)).toEqual(['IBAN [iban]']);
  });
});

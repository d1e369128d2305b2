/**
 * The service worker's message router: validation, scoring through the cache, counters, settings
 * patches and consents, the telemetry preview, and deleting all local data.
 */
import { describe, expect, it, vi } from 'vitest';
import { SENDERS, installChromeFake } from './chrome-fake.js';
import { offscreenCalls, toOffscreenInNode } from './offscreen-node.js';

installChromeFake();
vi.mock('../../../extension/background/offscreen-client.js', () => ({
  toOffscreen: toOffscreenInNode,
  toOffscreenIfOpen: toOffscreenInNode,
  ensureOffscreen: async () => {},
  closeOffscreen: async () => {},
}));
const { onMessage } = await import('../../../extension/background/router.js');
const { DEFAULT_MODEL } = await import('./default-model.js');
const { db } = await import('../../../extension/lib/db.js');

type Reply = { ok: true; data: any } | { ok: false; error: string };
function call(message: unknown): Promise<Reply> {
  return new Promise((resolve) => {
    // As the options page sends them (page contexts: senders.test.ts).
    const async = onMessage(message, SENDERS.options, resolve);
    if (!async && (message as { target?: string })?.target !== 'background') resolve({ ok: false, error: 'ignored' });
  });
}
const bg = async (type: string, data?: unknown) => {
  const r = await call({ target: 'background', type, ...(data === undefined ? {} : { data }) });
  if (!r.ok) throw new Error(r.error);
  return r.data;
};

describe('service worker router', () => {
  it('ignores messages for other contexts and refuses malformed ones, naming the problem', async () => {
    expect(onMessage({ target: 'offscreen', type: 'score' }, {} as chrome.runtime.MessageSender, () => {})).toBe(false);
    const bad = await call({ target: 'background', type: 'score', data: { video_id: null, comments: [{ id: 1, text: 'x' }] } });
    expect(bad).toEqual({ ok: false, error: expect.stringMatching(/bad request: data.comments.0.id/) });
    expect(await call({ target: 'background', type: 'nope' })).toMatchObject({ ok: false });
    expect(await call({ target: 'background', type: 'update-settings', data: { consent_stats: 'yes' } })).toMatchObject({ ok: false });
  });

  it('scores through the cache: each distinct text inferred once per model version', async () => {
    const comments = [
      { id: 'a', text: 'I absolutely love this video' },
      { id: 'b', text: 'worst thing ever, awful' },
      { id: 'c', text: 'I absolutely  love this video ' }, // same text after normalization
    ];
    const first = await bg('score', { video_id: 'dQw4w9WgXcQ', comments });
    expect(first.model_version).toBe(DEFAULT_MODEL.version);
    expect(first.results.map((r: { id: string; label: string; cached: boolean }) => [r.id, r.label, r.cached])).toEqual([
      ['a', 'positive', false],
      ['b', 'negative', false],
      ['c', 'positive', false],
    ]);
    // The n-gram bundle is scored in the service worker: two distinct texts, no offscreen document.
    expect((await bg('get-status')).scoring).toMatchObject({ path: 'ts', last_execution: 'ts', worker: { version: DEFAULT_MODEL.version, scored_texts: 2 } });
    expect(first.execution).toBe('ts');
    const again = await bg('score', { video_id: 'dQw4w9WgXcQ', comments });
    expect(again.results.every((r: { cached: boolean }) => r.cached)).toBe(true);
    expect(again.results[0].probs).toEqual(first.results[0].probs);
    expect((await bg('get-status')).scoring.worker.scored_texts).toBe(2);
    expect(offscreenCalls.filter((c) => c.type !== 'status')).toEqual([]);
    const status = await bg('get-status');
    expect(status.counters).toMatchObject({ inferences: 2, cache_hits: 3, requests: 2 });
    expect(status.telemetry).toMatchObject({ consent: null, queued: 0 });
  });

  it("gives every result a language and support flag, and the model's low-confidence threshold", async () => {
    const r = await bg('score', {
      video_id: null,
      comments: [
        { id: '0', text: 'what a lovely tutorial' },
        { id: '1', text: '' },
      ],
    });
    expect(r.low_confidence_threshold).toBeGreaterThan(0);
    expect(r.low_confidence_threshold).toBeLessThan(1);
    for (const x of r.results) {
      expect(typeof x.lang).toBe('string');
      expect(typeof x.supported).toBe('boolean');
    }
    // Cached results keep them.
    const again = await bg('score', { video_id: null, comments: [{ id: '0', text: 'what a lovely tutorial' }] });
    expect(again.results[0]).toMatchObject({ cached: true, lang: r.results[0].lang, supported: r.results[0].supported });
  });

  it('applies settings patches without resetting other settings; the text consent implies statistics', async () => {
    await bg('update-settings', { channel: 'beta' });
    const s = await bg('update-settings', { consent_text: true });
    expect(s).toMatchObject({ channel: 'beta', consent_text: true, consent_stats: true });
    await expect(bg('update-settings', { backend_url: 'https://elsewhere.example.com' })).rejects.toThrow(/no permission for https:\/\/elsewhere.example.com/);
  });

  it('queues text rows under the text consent and purges everything when the user opts out', async () => {
    await bg('score', { video_id: 'dQw4w9WgXcQ', comments: [{ id: 'n', text: 'a new comment, mail me@x.org' }] });
    const status = await bg('get-status');
    expect(status.telemetry).toMatchObject({ queued: 1, queued_by_kind: { samples: 1, aggregates: 0, feedback: 0 }, counting: [{ n: 1 }] });
    const item = (await db().queue.toArray())[0]!.item as { text: string; video_id: string };
    expect(item).toMatchObject({ text: 'a new comment, mail [email]', video_id: 'dQw4w9WgXcQ' });
    await bg('update-settings', { consent_stats: false, consent_text: false });
    expect((await bg('get-status')).telemetry).toMatchObject({ queued: 0, counting: [] });
  });

  it('turning the text consent off (statistics on) deletes queued texts and corrections, keeps the statistics', async () => {
    await bg('update-settings', { consent_text: true });
    await bg('score', { video_id: 'dQw4w9WgXcQ', comments: [{ id: 't1', text: 'a comment only the text consent may send' }] });
    expect(await bg('feedback', { video_id: 'dQw4w9WgXcQ', text: 'a comment only the text consent may send', predicted: 'neutral', corrected: 'positive' })).toEqual({ queued: true });
    expect((await bg('get-status')).telemetry.queued_by_kind).toEqual({ aggregates: 0, samples: 1, feedback: 1 });
    const after = await bg('update-settings', { consent_text: false });
    expect(after).toMatchObject({ consent_stats: true, consent_text: false });
    const status = await bg('get-status');
    expect(status.telemetry).toMatchObject({ consent: 'stats', queued: 0, counting: [{ n: 1 }] });
    expect(JSON.stringify(await db().queue.toArray())).not.toContain('only the text consent');
    await bg('update-settings', { consent_stats: false });
  });

  it('previews exactly what the queue holds, and an example of what each consent would send', async () => {
    const off = await bg('telemetry-preview', { consent_stats: false, consent_text: false });
    expect(off).toMatchObject({ consent: null, queued: { batches: [], more: { batches: 0, items: 0 } }, counting: [], example: null });
    const stats = await bg('telemetry-preview', { consent_stats: true, consent_text: false });
    expect(stats.example.uploads.map((u: { endpoint: string }) => u.endpoint)).toEqual(['/v1/aggregates']);
    expect(JSON.stringify(stats.example)).not.toMatch(/"text"|video_id|"probs"/);
    const text = await bg('telemetry-preview', { consent_stats: true, consent_text: true });
    expect(text.example.uploads.map((u: { endpoint: string }) => u.endpoint)).toEqual(['/v1/aggregates', '/v1/samples']);
    expect(text.example.uploads[1].body.items.some((i: { text?: string }) => i.text === 'a new comment, mail [email]')).toBe(true);
    // Previewing changes nothing.
    expect((await bg('get-status')).settings).toMatchObject({ consent_stats: false, consent_text: false });

    // With something queued: the exact request bodies, in send order, and what is still counted.
    await bg('update-settings', { consent_text: true });
    await bg('score', {
      video_id: 'dQw4w9WgXcQ',
      comments: [
        { id: 'p1', text: 'queued for the preview' },
        { id: 'p2', text: 'and another one' },
      ],
    });
    const queued = await bg('telemetry-preview', { consent_stats: true, consent_text: true });
    expect(queued.consent).toBe('text');
    expect(queued.queued.batches).toHaveLength(1);
    expect(queued.queued.batches[0]).toMatchObject({ endpoint: '/v1/samples', body: { consent: 'text', batch_id: '(drawn when first sent)' } });
    expect(queued.queued.batches[0].body.items.map((i: { text: string }) => i.text)).toEqual(['queued for the preview', 'and another one']);
    expect(queued.counting).toEqual([expect.objectContaining({ state: 'counting', aggregate: expect.objectContaining({ n: 2 }) })]);
    const rows = (await db().queue.toArray()).map((r) => r.item);
    expect(queued.queued.batches[0].body.items).toEqual(rows);
    await bg('update-settings', { consent_stats: false, consent_text: false });
  });

  it('feedback is queued only under the text consent', async () => {
    expect(await bg('feedback', { video_id: null, text: 'meh', predicted: 'neutral', corrected: 'negative' })).toEqual({ queued: false });
    await bg('update-settings', { consent_text: true });
    expect(await bg('feedback', { video_id: null, text: 'meh', predicted: 'neutral', corrected: 'negative' })).toEqual({ queued: true });
  });

  it('deletes all local data', async () => {
    expect(await bg('delete-all-data')).toEqual({ deleted: true });
    const status = await bg('get-status');
    expect(status.cache.entries).toBe(0);
    expect(status.telemetry.queued).toBe(0);
    expect(status.counters).toEqual({});
    expect(status.settings).toMatchObject({ channel: 'stable', consent_text: false, consent_stats: false });
  });
});

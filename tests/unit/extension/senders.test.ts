/**
 * Who may ask what: a content script (a web page context, which a compromised YouTube renderer
 * could drive) may only score comments, warm the model up and send a correction; everything else
 * (settings and consents, data deletion, model changes, uploads, previews, status) is refused
 * unless it comes from the extension's own pages, and the offscreen document answers only those.
 * Request sizes are bounded for everyone. The Chromium test of the same: tests/e2e/page.test.ts
 * ("message senders").
 */
import { describe, expect, it, vi } from 'vitest';
import { SENDERS, installChromeFake, messageListeners } from './chrome-fake.js';
import { toOffscreenInNode } from './offscreen-node.js';

const { storage } = installChromeFake();
vi.mock('../../../extension/background/offscreen-client.js', () => ({
  toOffscreen: toOffscreenInNode,
  toOffscreenIfOpen: toOffscreenInNode,
  ensureOffscreen: async () => {},
  closeOffscreen: async () => {},
}));
// The offscreen document's entry, with its onnxruntime-web parts replaced: only its message
// handling is under test here (the real engine runs in the e2e tests).
vi.mock('../../../extension/offscreen/runtime.js', () => ({}));
vi.mock('../../../extension/offscreen/engine.js', () => ({
  Engine: class {
    async score(version: string, texts: string[]) {
      return { version, execution: 'wasm', probs: new Float32Array(texts.length * 3).fill(1 / 3), langs: texts.map(() => ({ lang: 'en', supported: true })) };
    }
    status() {
      return { version: null };
    }
  },
}));
const { onMessage } = await import('../../../extension/background/router.js');
const { MESSAGE_LIMITS, truncateUtf8 } = await import('../../../extension/lib/limits.js');
const { db } = await import('../../../extension/lib/db.js');
await import('../../../extension/offscreen/index.js');

type Reply = { ok: true; data: any } | { ok: false; error: string };

function send(sender: chrome.runtime.MessageSender, type: string, data?: unknown): Promise<Reply> {
  return new Promise((resolve) => {
    onMessage({ target: 'background', type, ...(data === undefined ? {} : { data }) }, sender, resolve);
  });
}

function toOffscreenDocument(sender: chrome.runtime.MessageSender, message: unknown): Promise<Reply | 'ignored'> {
  return new Promise((resolve) => {
    const listener = messageListeners.at(-1)!;
    const async = listener(message, sender, (r) => resolve(r as Reply));
    if (async === false && (message as { target?: string }).target !== 'offscreen') resolve('ignored');
  });
}

const PRIVILEGED: Array<[string, unknown]> = [
  ['update-settings', { consent_text: true }],
  ['update-settings', { backend_url: 'http://127.0.0.1:9999' }],
  ['delete-all-data', undefined],
  ['rollback-model', undefined],
  ['check-updates', undefined],
  ['flush-telemetry', { force: true }],
  ['telemetry-preview', { consent_stats: true, consent_text: true }],
  ['get-status', undefined],
];

describe('messages from a web page context (content script)', () => {
  it('may score comments, warm the model up and send a correction', async () => {
    const scored = await send(SENDERS.contentScript, 'score', { video_id: 'dQw4w9WgXcQ', comments: [{ id: 'a', text: 'I love this' }] });
    expect(scored).toMatchObject({ ok: true, data: { results: [{ id: 'a', label: 'positive' }] } });
    expect(await send(SENDERS.contentScript, 'warm-up')).toMatchObject({ ok: true });
    expect(await send(SENDERS.contentScript, 'feedback', { video_id: null, text: 'meh', predicted: 'neutral', corrected: 'negative' })).toEqual({ ok: true, data: { queued: false } });
  });

  it('may not change settings or consents, delete data, switch models, upload, preview or read status; nothing changes', async () => {
    await send(SENDERS.options, 'update-settings', { channel: 'beta' });
    const settingsBefore = structuredClone(storage.get('settings'));
    const queuedBefore = await db().queue.count();
    for (const [type, data] of PRIVILEGED) {
      const reply = await send(SENDERS.contentScript, type, data);
      expect(reply, type).toEqual({
        ok: false,
        error: `refused: ${type} is only accepted from the extension's own pages (web pages may only send score, warm-up, feedback)`,
      });
    }
    expect(storage.get('settings')).toEqual(settingsBefore);
    expect(storage.get('settings')).toMatchObject({ channel: 'beta', consent_text: false, consent_stats: false });
    expect(await db().queue.count()).toBe(queuedBefore);
    // Refused before parsing: a malformed privileged request gets the same answer, not a parse error.
    expect(await send(SENDERS.contentScript, 'update-settings', { consent_text: 'yes' })).toMatchObject({ ok: false, error: expect.stringMatching(/^refused: update-settings/) });
  });

  it('the same requests from the extension pages are accepted', async () => {
    expect(await send(SENDERS.popup, 'get-status')).toMatchObject({ ok: true });
    expect(await send(SENDERS.options, 'telemetry-preview', { consent_stats: true, consent_text: false })).toMatchObject({ ok: true });
    expect(await send(SENDERS.options, 'update-settings', { consent_stats: true })).toMatchObject({ ok: true, data: { consent_stats: true } });
    expect(await send(SENDERS.options, 'update-settings', { consent_stats: false })).toMatchObject({ ok: true });
  });

  it('refuses every request from anything that is not this extension', async () => {
    for (const sender of [SENDERS.otherExtension, {} as chrome.runtime.MessageSender]) {
      const reply = await send(sender, 'score', { video_id: null, comments: [{ id: 'a', text: 'hi' }] });
      expect(reply).toEqual({ ok: false, error: "refused: score is only accepted from the extension's own pages" });
    }
  });
});

describe('request sizes', () => {
  const comment = (text: string, id = '0') => ({ id, text });

  it(`refuses more than ${MESSAGE_LIMITS.comments_per_request} comments per scoring request, naming the limit`, async () => {
    const many = Array.from({ length: MESSAGE_LIMITS.comments_per_request + 1 }, (_, i) => comment(`c${i}`, String(i)));
    const reply = await send(SENDERS.contentScript, 'score', { video_id: null, comments: many });
    expect(reply).toEqual({ ok: false, error: `bad request: data.comments: at most ${MESSAGE_LIMITS.comments_per_request} comments per request` });
    expect(await send(SENDERS.options, 'score', { video_id: null, comments: many })).toMatchObject({ ok: false });
  });

  it(`refuses a text over ${MESSAGE_LIMITS.text_bytes} UTF-8 bytes (in scoring and in feedback), also when it is short in characters`, async () => {
    const limit = MESSAGE_LIMITS.text_bytes;
    const cases = ['x'.repeat(limit + 1), '😀'.repeat(limit / 4 + 1), 'é'.repeat(limit / 2 + 1), 'x'.repeat(10_000_000)];
    for (const text of cases) {
      const scored = await send(SENDERS.contentScript, 'score', { video_id: null, comments: [comment(text)] });
      expect(scored, `${text.length} characters`).toEqual({ ok: false, error: `bad request: data.comments.0.text: longer than ${limit} UTF-8 bytes` });
      const feedback = await send(SENDERS.contentScript, 'feedback', { video_id: null, text, predicted: 'neutral', corrected: 'negative' });
      expect(feedback).toMatchObject({ ok: false, error: expect.stringContaining(`data.text: longer than ${limit} UTF-8 bytes`) });
    }
    // YouTube's longest comment (10,000 characters) fits in any script.
    const cjk = '好'.repeat(10_000);
    expect(await send(SENDERS.contentScript, 'score', { video_id: null, comments: [comment(cjk)] })).toMatchObject({ ok: true });
  });

  it('the content script cuts texts to the limit, never inside a character', () => {
    for (const unit of ['x', 'é', '好', '😀', '👨‍👩‍👧']) {
      const text = unit.repeat(Math.ceil((MESSAGE_LIMITS.text_bytes * 2) / unit.length));
      const cut = truncateUtf8(text);
      const bytes = new TextEncoder().encode(cut).byteLength;
      expect(bytes, unit).toBeLessThanOrEqual(MESSAGE_LIMITS.text_bytes);
      expect(bytes, unit).toBeGreaterThan(MESSAGE_LIMITS.text_bytes - 4);
      expect(cut).not.toContain('\ufffd');
      expect(text.startsWith(cut)).toBe(true);
    }
    expect(truncateUtf8('short')).toBe('short');
  });
});

describe('the offscreen document', () => {
  const score = (texts: string[]) => ({ target: 'offscreen', type: 'score', data: { model_version: '2.0.0', texts, execution: 'wasm' } });

  it('answers the service worker', async () => {
    expect(await toOffscreenDocument(SENDERS.serviceWorker, score(['a', 'b']))).toMatchObject({ ok: true, data: { model_version: '2.0.0', probs: expect.any(Array) } });
    expect(await toOffscreenDocument(SENDERS.serviceWorker, { target: 'background', type: 'score' })).toBe('ignored');
  });

  it('refuses a content script and other extensions, whatever they ask', async () => {
    for (const sender of [SENDERS.contentScript, SENDERS.otherExtension]) {
      for (const message of [score(['a']), { target: 'offscreen', type: 'reset' }, { target: 'offscreen', type: 'status' }]) {
        expect(await toOffscreenDocument(sender, message)).toEqual({ ok: false, error: "refused: the offscreen document only answers the extension's own pages" });
      }
    }
  });

  it('bounds scoring requests even from the service worker', async () => {
    const reply = await toOffscreenDocument(SENDERS.serviceWorker, score(Array.from({ length: MESSAGE_LIMITS.comments_per_request + 1 }, (_, i) => `t${i}`)));
    expect(reply).toMatchObject({ ok: false, error: expect.stringContaining(`at most ${MESSAGE_LIMITS.comments_per_request} texts per request`) });
    const long = await toOffscreenDocument(SENDERS.serviceWorker, score(['x'.repeat(MESSAGE_LIMITS.text_bytes + 1)]));
    expect(long).toMatchObject({ ok: false, error: expect.stringContaining(`longer than ${MESSAGE_LIMITS.text_bytes} UTF-8 bytes`) });
  });
});

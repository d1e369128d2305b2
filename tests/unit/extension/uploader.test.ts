/**
 * The telemetry uploader against a real HTTP server, with an injected clock: acknowledged batches
 * leave the queue; statistics leave only as hourly aggregates; each batch is checked against the
 * consent of the moment; an unreachable or rate-limiting backend causes a backoff and no loss; a
 * server error defers that batch only, so later batches still go; a backend that never answers is
 * given up on after the request time limit; a 409 re-keys; error codes are
 * read from the JSON body; batches are dropped when refused for good, after too many attempts, or
 * when too old, or once a resend could no longer be recognized as a copy.
 */
import { createServer, type Server } from 'node:http';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { HOUR_MS } from '../../../core/wire.js';
import { installChromeFake } from './chrome-fake.js';

installChromeFake();
const { db } = await import('../../../extension/lib/db.js');
const { updateSettings, getSettings } = await import('../../../extension/lib/settings.js');
const { MAX_BATCH_AGE_MS, MAX_BATCH_ATTEMPTS, RESEND_WINDOW_MS } = await import('../../../extension/lib/telemetry-queue.js');
const { queue } = await import('../../../extension/background/scoring.js');
const { backoffMs, outcomeOf, readError, uploadQueue, uploadState } = await import('../../../extension/background/telemetry.js');

interface Received {
  path: string;
  body: { batch_id: string; consent: string; items: Array<Record<string, unknown>> };
}
type Answer = { status: number; body?: unknown; headers?: Record<string, string> };

let server: Server;
let url: string;
/** How the fake backend answers each request (default: 202). */
let respond: (r: Received) => Answer | Promise<Answer> = () => ({ status: 202 });
const received: Received[] = [];

beforeAll(async () => {
  server = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', async () => {
      const r: Received & { status?: number } = { path: req.url!, body: JSON.parse(body) };
      const a = await respond(r);
      r.status = a.status;
      received.push(r);
      res.writeHead(a.status, { 'Content-Type': 'application/json', ...a.headers }).end(a.body === undefined ? '{}' : typeof a.body === 'string' ? a.body : JSON.stringify(a.body));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  url = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
});
afterAll(() => server.close());

/** 2026-03-10 14:25 UTC. */
const T0 = Date.UTC(2026, 2, 10, 14, 25);
const H1 = Date.UTC(2026, 2, 10, 15);
let clock = T0;
const now = () => clock;
const pass = (force = true) => uploadQueue({ force, now });

beforeEach(async () => {
  await db().transaction('rw', [db().queue, db().aggregates, db().meta], async () => {
    await Promise.all([db().queue.clear(), db().aggregates.clear(), db().meta.clear()]);
  });
  await updateSettings({ backend_url: url, consent_stats: true, consent_text: true });
  received.length = 0;
  respond = () => ({ status: 202 });
  clock = T0;
});

let seq = 0;
const enqueue = async (n: number, prefix = 'c', at = clock) =>
  queue.enqueueSamples(
    await getSettings(),
    '1.0.0',
    Array.from({ length: n }, (_, i) => ({ text: `${prefix} comment ${seq++} number ${i}`, label: 'neutral' as const, probs: [0.2, 0.6, 0.2] as [number, number, number], video_id: 'dQw4w9WgXcQ' })),
    at,
  );
const error = (code: string) => ({ error: { code, message: `because ${code}` } });

describe('telemetry uploader', () => {
  it('backs off exponentially with jitter, and honours Retry-After', () => {
    const mid = () => 0.5;
    expect(backoffMs(1, undefined, mid)).toBe(22_500);
    expect(backoffMs(2, undefined, mid)).toBe(45_000);
    expect(backoffMs(20, undefined, mid)).toBe(45 * 60_000); // capped at an hour (before jitter)
    expect(backoffMs(1, 120, mid)).toBe(120_000);
  });

  it('reads what to do from the status and the JSON error code', async () => {
    expect(outcomeOf(202, undefined)).toBe('sent');
    expect(outcomeOf(409, 'batch_conflict')).toBe('rekey');
    expect(outcomeOf(400, 'unknown_model_version')).toBe('drop');
    expect(outcomeOf(400, 'validation_failed')).toBe('drop');
    expect(outcomeOf(429, 'rate_limited')).toBe('stop');
    expect(outcomeOf(503, 'claim_unavailable')).toBe('retry');
    expect(outcomeOf(500, undefined)).toBe('retry');
    expect(await readError(new Response(JSON.stringify(error('batch_conflict')), { status: 409 }))).toEqual({ code: 'batch_conflict', message: 'because batch_conflict' });
    expect(await readError(new Response('<html>bad gateway</html>', { status: 502 }))).toEqual({ message: '<html>bad gateway</html>' });
  });

  it('uploads text samples in batches and empties the queue on acknowledgement', async () => {
    await enqueue(150);
    const r = await pass();
    expect(r).toMatchObject({ sent_batches: 2, sent_items: 150, remaining: 0 });
    expect(received.map((b) => [b.path, b.body.items.length])).toEqual([
      ['/v1/samples', 100],
      ['/v1/samples', 50],
    ]);
    expect(new Set(received.map((b) => b.body.batch_id)).size).toBe(2);
  });

  it('under "stats" sends one hourly aggregate, no per-comment row, and only once the hour has ended with ≥ 10 comments', async () => {
    await updateSettings({ consent_text: false });
    await enqueue(4);
    clock = H1 + 60_000;
    expect(await pass()).toMatchObject({ sent_batches: 0, remaining: 0 });
    // Six more in the next hour: the merged aggregate has 10 once that hour ends.
    await enqueue(6);
    expect((await pass()).sent_batches).toBe(0);
    clock = H1 + HOUR_MS;
    expect(await pass()).toMatchObject({ sent_batches: 1, sent_items: 1, aggregates: { queued: 1, expired: 0 } });
    expect(received).toHaveLength(1);
    expect(received[0]!.path).toBe('/v1/aggregates');
    expect(received[0]!.body).toMatchObject({ consent: 'stats', items: [{ hour_from: H1 - HOUR_MS, hour_to: H1 + HOUR_MS, n: 10 }] });
    expect(JSON.stringify(received[0]!.body)).not.toMatch(/comment|dQw4w9WgXcQ|"text"|"probs"|"ts"/);
  });

  it('never sends a batch queued under "text" once that consent is off, even when the change races the pass', async () => {
    // An aggregate (statistics) is queued first, then text rows behind it.
    await updateSettings({ consent_text: false });
    await enqueue(10);
    await queue.sealAggregates(H1);
    await updateSettings({ consent_text: true });
    clock = H1;
    await enqueue(5, 'text');
    // The text consent goes off while the pass is under way, as the first batch is answered.
    let first = true;
    respond = async () => {
      if (first) {
        first = false;
        await updateSettings({ consent_text: false });
      }
      return { status: 202 };
    };
    const r = await pass();
    expect(received.map((b) => b.path)).toEqual(['/v1/aggregates']);
    expect(r).toMatchObject({ sent_batches: 1, withdrawn_items: 5, remaining: 0 });
  });

  it('deletes rows of a withdrawn consent before sending anything', async () => {
    await enqueue(10);
    await queue.enqueueFeedback(await getSettings(), '1.0.0', { text: 'meh', predicted: 'neutral', corrected: 'negative' }, clock);
    // Changed without going through the options page (which deletes at once).
    await updateSettings({ consent_text: false });
    clock = H1;
    const r = await pass();
    expect(r).toMatchObject({ withdrawn_items: 11, sent_batches: 1 });
    expect(received.map((b) => b.path)).toEqual(['/v1/aggregates']);
  });

  it('keeps everything while the backend is unreachable, backs off, then sends the same batch once', async () => {
    await enqueue(3);
    await updateSettings({ backend_url: 'http://127.0.0.1:9' });
    const failed = await pass();
    expect(failed.error).toMatch(/backend unreachable/);
    expect(failed.remaining).toBe(3);
    const state = await uploadState();
    expect(state.failures).toBe(1);
    expect(state.next_at).toBeGreaterThan(clock);
    // Not yet: the alarm path respects the backoff.
    expect((await pass(false)).skipped).toMatch(/backing off/);
    const pendingId = (await db().queue.toArray())[0]!.batch_id;
    await updateSettings({ backend_url: url });
    clock = state.next_at;
    expect(await pass(false)).toMatchObject({ sent_items: 3, remaining: 0 });
    expect(received.map((b) => b.body.batch_id)).toEqual([pendingId]);
    expect((await uploadState()).failures).toBe(0);
  });

  it('gives up on a backend that never answers, backs off, and later sends the same batch once under the same id', async () => {
    await enqueue(3);
    let release!: () => void;
    const held = new Promise<Answer>((r) => (release = () => r({ status: 202 })));
    respond = () => held;
    const failed = await uploadQueue({ force: true, now, timeoutMs: 200 });
    expect(failed.error).toBe('the backend did not finish answering within 200 ms');
    expect(failed.remaining).toBe(3);
    const state = await uploadState();
    expect(state).toMatchObject({ failures: 1, last_error: 'the backend did not finish answering within 200 ms' });
    expect(state.next_at).toBeGreaterThan(clock);
    const pendingId = (await db().queue.toArray())[0]!.batch_id;
    // The backend answers again: the pass is not held by the request that hung.
    respond = () => ({ status: 202 });
    clock = state.next_at;
    expect(await pass(false)).toMatchObject({ sent_items: 3, remaining: 0 });
    expect(received.map((b) => b.body.batch_id)).toEqual([pendingId]);
    // The hung request, answered late after the client hung up, carried the same id: a real backend drops it as a copy.
    release();
    await held;
    await new Promise((r) => setImmediate(r));
    expect(received.map((b) => b.body.batch_id)).toEqual([pendingId, pendingId]);
  });

  it('waits as long as a 429 asks, without counting it against the batch', async () => {
    await enqueue(1);
    respond = () => ({ status: 429, body: error('rate_limited'), headers: { 'Retry-After': '600' } });
    await pass();
    expect((await uploadState()).next_at - clock).toBeGreaterThanOrEqual(600_000);
    expect(await queue.size()).toBe(1);
    expect((await db().queue.toArray())[0]!.attempts).toBeUndefined();
    respond = () => ({ status: 200, body: { duplicate: true } });
    expect(await pass()).toMatchObject({ sent_items: 1, remaining: 0 });
  });

  it('re-keys a batch the backend holds with other content (409) and sends it under a fresh id', async () => {
    await enqueue(2);
    let conflicts = 0;
    respond = () => (conflicts++ === 0 ? { status: 409, body: error('batch_conflict') } : { status: 202 });
    const r = await pass();
    expect(r).toMatchObject({ rekeyed_batches: 1, sent_batches: 1, sent_items: 2, remaining: 0 });
    expect(received).toHaveLength(2);
    expect(received[1]!.body.batch_id).not.toBe(received[0]!.body.batch_id);
    expect(received[1]!.body.items).toEqual(received[0]!.body.items);
  });

  it('drops a batch whose model version the backend does not know (a 400 read from the JSON body)', async () => {
    await enqueue(2);
    respond = () => ({ status: 400, body: error('unknown_model_version') });
    expect(await pass()).toMatchObject({ dropped_items: 2, remaining: 0 });
    expect((await uploadState()).last_error).toMatch(/HTTP 400 unknown_model_version: because unknown_model_version/);
  });

  it('a batch that keeps failing defers only itself: later batches still go; it is dropped after MAX_BATCH_ATTEMPTS', async () => {
    await enqueue(1, 'stuck');
    // Make the stuck row its own batch (sent once), then queue more behind it.
    const stuck = (await queue.nextBatch(clock))!;
    await enqueue(3, 'fine');
    respond = (r) => (r.body.batch_id === stuck.batch_id ? { status: 500, body: error('internal') } : { status: 202 });
    const r = await pass();
    expect(r).toMatchObject({ sent_batches: 1, sent_items: 3, deferred_batches: 1, remaining: 1 });
    expect((await uploadState()).failures).toBe(0);
    // Until its own retry time it is left alone; then it fails again, each time counted.
    for (let attempt = 2; attempt <= MAX_BATCH_ATTEMPTS; attempt++) {
      expect((await pass()).deferred_batches).toBe(0);
      clock = (await db().queue.toArray())[0]!.retry_at!;
      const again = await pass();
      if (attempt < MAX_BATCH_ATTEMPTS) expect(again).toMatchObject({ deferred_batches: 1, remaining: 1 });
      else expect(again).toMatchObject({ dropped_items: 1, remaining: 0 });
    }
    expect(received.filter((b) => b.body.batch_id === stuck.batch_id)).toHaveLength(MAX_BATCH_ATTEMPTS);
  });

  it('drops batches older than the maximum age without sending them', async () => {
    await enqueue(2);
    clock = T0 + MAX_BATCH_AGE_MS + 1;
    respond = () => ({ status: 503, body: error('down') });
    expect(await pass()).toMatchObject({ dropped_items: 2, sent_batches: 0, remaining: 0 });
    expect(received.filter((b) => b.path === '/v1/samples')).toEqual([]);
  });

  it("resends a batch whose answer was lost only inside the backend's dedupe window, then drops it unsent", async () => {
    // Hours of an outage in which every answer is lost (the backend may have stored the batch).
    await enqueue(2);
    respond = () => ({ status: 502, body: '<html>bad gateway</html>' });
    expect(await pass()).toMatchObject({ deferred_batches: 1, remaining: 2 });
    const firstId = received[0]!.body.batch_id;
    // Still inside the window: the same batch under the same id, a copy the backend would drop.
    clock = T0 + RESEND_WINDOW_MS - 1;
    expect(await pass()).toMatchObject({ deferred_batches: 1, remaining: 2 });
    expect(received.map((b) => b.body.batch_id)).toEqual([firstId, firstId]);
    // Past it the backend could store the resend a second time: the batch goes, unsent.
    respond = () => ({ status: 202 });
    clock = T0 + RESEND_WINDOW_MS + 1;
    expect(await pass()).toMatchObject({ dropped_items: 2, sent_items: 0, remaining: 0 });
    expect(received).toHaveLength(2);
  });

  it('sends nothing and deletes everything when telemetry is off', async () => {
    await enqueue(2);
    await updateSettings({ consent_stats: false, consent_text: false });
    expect((await pass()).skipped).toBe('telemetry is off');
    expect(await queue.size()).toBe(0);
    expect(await queue.openAggregates()).toEqual([]);
    expect(received).toEqual([]);
  });
});

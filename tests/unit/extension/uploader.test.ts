/**
 * The telemetry uploader against a real HTTP server: acknowledged batches leave the queue; a
 * backend that is down or rate-limits causes exponential backoff and no loss; a retried batch keeps
 * its batch id; permanently refused batches are dropped so they cannot block the queue.
 */
import { createServer, type Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { installChromeFake } from './chrome-fake.js';

installChromeFake();
const { db } = await import('../../../extension/lib/db.js');
const { updateSettings, getSettings } = await import('../../../extension/lib/settings.js');
const { queue } = await import('../../../extension/background/scoring.js');
const { backoffMs, uploadQueue, uploadState } = await import('../../../extension/background/telemetry.js');

let server: Server;
let url: string;
let answer: { status: number; body: string; headers?: Record<string, string> } = { status: 202, body: '{}' };
const received: Array<{ batch_id: string; items: unknown[] }> = [];

beforeAll(async () => {
  server = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      if (answer.status < 300) received.push(JSON.parse(body));
      res.writeHead(answer.status, answer.headers).end(answer.body);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  url = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  await updateSettings({ backend_url: url, consent_stats: true });
});
afterAll(() => server.close());

const enqueue = async (n: number) =>
  queue.enqueueSamples(await getSettings(), '1.0.0', Array.from({ length: n }, (_, i) => ({ text: `c${Math.random()}${i}`, label: 'neutral' as const, probs: [0.2, 0.6, 0.2] as [number, number, number] })));

describe('telemetry uploader', () => {
  it('backs off exponentially with jitter, and honours Retry-After', () => {
    const mid = () => 0.5;
    expect(backoffMs(1, undefined, mid)).toBe(22_500);
    expect(backoffMs(2, undefined, mid)).toBe(45_000);
    expect(backoffMs(20, undefined, mid)).toBe(45 * 60_000); // capped at an hour (before jitter)
    expect(backoffMs(1, 120, mid)).toBe(120_000);
  });

  it('uploads in batches and empties the queue on acknowledgement', async () => {
    await enqueue(150);
    const r = await uploadQueue();
    expect(r).toMatchObject({ sent_batches: 2, sent_items: 150, remaining: 0 });
    expect(received.map((b) => b.items.length)).toEqual([100, 50]);
    expect(new Set(received.map((b) => b.batch_id)).size).toBe(2);
  });

  it('keeps everything while the backend is down, backs off, then sends the same batch once', async () => {
    received.length = 0;
    await enqueue(3);
    answer = { status: 503, body: '{"error":{"code":"down","message":"x"}}' };
    const failed = await uploadQueue();
    expect(failed.error).toMatch(/HTTP 503/);
    expect(failed.remaining).toBe(3);
    const state = await uploadState();
    expect(state.failures).toBe(1);
    expect(state.next_at).toBeGreaterThan(Date.now());
    // Not yet: the alarm path respects the backoff.
    expect((await uploadQueue()).skipped).toMatch(/backing off/);
    const pendingId = (await db().queue.toArray())[0]!.batch_id;
    answer = { status: 202, body: '{}' };
    expect(await uploadQueue({ force: true })).toMatchObject({ sent_items: 3, remaining: 0 });
    expect(received.map((b) => b.batch_id)).toEqual([pendingId]);
    expect((await uploadState()).failures).toBe(0);
  });

  it('waits as long as a 429 asks', async () => {
    await enqueue(1);
    answer = { status: 429, body: '{"error":{"code":"rate_limited","message":"x"}}', headers: { 'Retry-After': '600' } };
    const before = Date.now();
    await uploadQueue({ force: true });
    expect((await uploadState()).next_at - before).toBeGreaterThanOrEqual(600_000);
    expect(await queue.size()).toBe(1);
    answer = { status: 200, body: '{"duplicate":true}' };
    expect(await uploadQueue({ force: true })).toMatchObject({ sent_items: 1, remaining: 0 });
  });

  it('drops a batch the backend can never accept, so it cannot block the queue', async () => {
    await enqueue(2);
    answer = { status: 400, body: '{"error":{"code":"validation_failed","message":"x"}}' };
    expect(await uploadQueue({ force: true })).toMatchObject({ dropped_items: 2, remaining: 0 });
  });

  it('sends nothing and purges when telemetry is off', async () => {
    await enqueue(2);
    await updateSettings({ consent_stats: false });
    expect((await uploadQueue({ force: true })).skipped).toBe('telemetry is off');
    expect(await queue.size()).toBe(0);
  });
});

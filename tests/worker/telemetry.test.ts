/**
 * Opt-in telemetry in workerd: what is queued and stored, exactly-once batches, every limit, consent rules
 * (statistics only as hourly aggregates of at least ten comments, per-comment rows only with the
 * text consent), hour-granular time, server-side scrubbing, timestamps, the per-client rate limit
 * and CORS.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { AGGREGATE, HOUR_MS, LIMITS, hourFloor } from '../../core/wire.js';
import { DRAIN_MAX_BYTES } from '../../worker/lib/body.js';
import {
  ALLOWED_ORIGIN,
  aggregateOf,
  awayFromMinuteEnd,
  aggregatesBatch,
  call,
  callJson,
  clientId,
  currentHourKey,
  deliverIngest,
  held,
  makeBundle,
  postJson,
  publish,
  referencePopulation,
  samplesBatch,
  storedLines,
  testEnv,
} from './helpers.js';
import { getHourStates, laneOf } from '../../worker/telemetry/lanes.js';

type Err = { error: { code: string; message: string; details?: Array<{ path: string; message: string }> } };
type Ok = { batch_id: string; accepted: number; duplicate: boolean };

const V = '7.0.0';

function feedbackBatch(items: Array<Record<string, unknown>>, extra: Record<string, unknown> = {}) {
  const now = hourFloor(Date.now());
  return {
    batch_id: crypto.randomUUID(),
    client_id: clientId(),
    model_version: V,
    consent: 'text',
    items: items.map((i) => ({ text: 'this is wrong', predicted: 'positive', corrected: 'negative', ts: now, ...i })),
    ...extra,
  };
}

beforeAll(async () => {
  expect((await publish(await makeBundle(V), 'stable')).status).toBe(201);
});

describe('storage', () => {
  it('queues an accepted batch (202) and its lane stores it as NDJSON in a segment named by the lane state', async () => {
    const before = currentHourKey();
    const batch = samplesBatch(V, [
      { label: 'negative', score: 0.7, probs: [0.7, 0.2, 0.1], lang: 'en', text: 'not good', video_id: 'dQw4w9WgXcQ' },
      { label: 'neutral', score: 0.5 },
    ]);
    const { res, body } = await callJson<Ok>('/v1/samples', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(batch) });
    const after = currentHourKey();
    expect(res.status).toBe(202);
    expect(body).toEqual({ batch_id: batch.batch_id, accepted: 2, duplicate: false });
    // Queued, not yet stored.
    expect(await storedLines({ batchId: batch.batch_id })).toEqual([]);
    expect(held.map((m) => m.queue)).toEqual([`ytsent-ingest-${laneOf(batch.batch_id, 2)}`]);
    await deliverIngest();

    const stored = await storedLines({ batchId: batch.batch_id });
    expect(stored).toHaveLength(2);
    const lane = laneOf(batch.batch_id, 2);
    expect(stored[0]!.lane).toBe(lane);
    expect([before, after].some((h) => stored[0]!.key.startsWith(`ingest/samples/${h}/lane-${lane}/`))).toBe(true);
    expect(stored[0]!.key).toMatch(/^ingest\/samples\/\d{4}-\d{2}-\d{2}T\d{2}\/lane-[01]\/\d{6}-[0-9a-f]{8}\.ndjson$/);

    const lines = stored.map((s) => s.line);
    expect(lines[0]).toMatchObject({
      batch_id: batch.batch_id,
      model_version: V,
      consent: 'text',
      label: 'negative',
      score: 0.7,
      probs: [0.7, 0.2, 0.1],
      lang: 'en',
      text: 'not good',
      video_id: 'dQw4w9WgXcQ',
    });
    // Hour-granular time only: the item's hour, and the hour it arrived in.
    expect(lines[0]!.ts).toBe(batch.items[0]!.ts);
    expect((lines[0]!.ts as number) % HOUR_MS).toBe(0);
    expect([before, after].map((h) => `${h}:00:00.000Z`)).toContain(lines[0]!.received_at);
    // Data minimization: the rotating client id is used for rate limiting only, never stored.
    for (const line of lines) expect(line).not.toHaveProperty('client_id');
    expect(JSON.stringify(lines)).not.toContain(batch.client_id);
  });

  it('stores feedback in a feedback segment', async () => {
    const batch = feedbackBatch([{ video_id: 'dQw4w9WgXcQ' }]);
    const res = await postJson('/v1/feedback', batch);
    expect(res.status).toBe(202);
    // The message carries HMACs of the client id, never the id itself.
    expect(JSON.stringify(held)).not.toContain(batch.client_id);
    await deliverIngest();
    const stored = await storedLines({ batchId: batch.batch_id });
    expect(stored).toHaveLength(1);
    expect(stored[0]!.key).toMatch(/^ingest\/feedback\//);
    const line = stored[0]!.line;
    expect(line).toMatchObject({ predicted: 'positive', corrected: 'negative', text: 'this is wrong', video_id: 'dQw4w9WgXcQ', consent: 'text' });
    expect((line.ts as number) % HOUR_MS).toBe(0);
    expect(line.received_at).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:00:00\.000Z$/);
  });

  it('stores hourly aggregates in an aggregates segment, counts only, no receive time', async () => {
    const agg = aggregateOf(referencePopulation().slice(0, 40));
    const batch = aggregatesBatch(V, [agg]);
    const { res, body } = await callJson<Ok>('/v1/aggregates', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(batch) });
    expect(res.status).toBe(202);
    expect(body).toEqual({ batch_id: batch.batch_id, accepted: 1, duplicate: false });
    await deliverIngest();
    const stored = await storedLines({ batchId: batch.batch_id });
    expect(stored).toHaveLength(1);
    expect(stored[0]!.key).toMatch(/^ingest\/aggregates\//);
    const line = stored[0]!.line;
    expect(Object.keys(line)).toEqual([
      'batch_id',
      'model_version',
      'extension_version',
      'consent',
      'hour_from',
      'hour_to',
      'n',
      'label_counts',
      'confidence_counts',
      'languages',
      'token_n',
      'token_counts',
    ]);
    expect(line).toMatchObject({
      consent: 'stats',
      n: 40,
      hour_from: agg.hour_from,
      hour_to: agg.hour_to,
      label_counts: agg.label_counts,
      confidence_counts: agg.confidence_counts,
      languages: agg.languages,
    });
    expect(JSON.stringify(line)).not.toContain(batch.client_id);
    // A resend is queued again and stored once, like every other kind.
    const again = await callJson<Ok>('/v1/aggregates', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(batch) });
    expect(again.res.status).toBe(202);
    await deliverIngest();
    expect(await storedLines({ batchId: batch.batch_id })).toHaveLength(1);
  });
});

describe('consent "stats": hourly aggregates only', () => {
  const post = (path: string, batch: unknown) => callJson<Err>(path, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(batch) });
  const paths = (b: Err) => b.error.details!.map((d) => d.path).sort();
  const valid = () => aggregateOf(referencePopulation().slice(0, 20));

  it('refuses per-comment rows under "stats" on /v1/samples, with or without text', async () => {
    for (const items of [[{ label: 'positive', score: 0.9, ts: hourFloor(Date.now()) }], [{ label: 'positive', score: 0.9, ts: hourFloor(Date.now()), text: 'hi' }]]) {
      const { res, body } = await post('/v1/samples', { ...samplesBatch(V, []), consent: 'stats', items });
      expect(res.status).toBe(400);
      expect(body.error.code).toBe('validation_failed');
      expect(body.error.details!.find((d) => d.path === 'consent')!.message).toMatch(/aggregates/);
    }
    // A per-comment row never counts as an aggregate either.
    const { res } = await post('/v1/aggregates', aggregatesBatch(V, [{ label: 'positive', score: 0.9, ts: hourFloor(Date.now()) }]));
    expect(res.status).toBe(400);
  });

  it('refuses an aggregate of fewer than 10 comments', async () => {
    const small = aggregateOf(referencePopulation().slice(0, AGGREGATE.min_comments - 1));
    const { res, body } = await post('/v1/aggregates', aggregatesBatch(V, [valid(), small]));
    expect(res.status).toBe(400);
    expect(body.error).toMatchObject({ code: 'validation_failed', details: [{ path: 'items.1.n', message: expect.stringMatching(/at least 10 comments/) }] });
  });

  it('refuses counts that do not add up, and unknown or hostile keys', async () => {
    const cases: Array<[(a: Record<string, unknown>) => void, string]> = [
      [(a) => ((a.label_counts as number[])[0]! += 1), 'items.0.label_counts'],
      [(a) => ((a.confidence_counts as number[])[9]! += 5), 'items.0.confidence_counts'],
      [(a) => (a.languages = { en: 19 }), 'items.0.languages'],
      [(a) => (a.token_n = 21), 'items.0.token_n'],
      [(a) => ((a.token_counts as number[])[3] = 20 + 1), 'items.0.token_counts'],
      [(a) => (a.confidence_counts = [20]), 'items.0.confidence_counts'],
      [(a) => (a.languages = { EN: 20 }), 'items.0.languages'],
      [(a) => (a.probs = [0.1, 0.2, 0.7]), 'items.0'],
      [(a) => (a.text = 'a comment'), 'items.0'],
    ];
    for (const [mutate, path] of cases) {
      const agg = valid() as unknown as Record<string, unknown>;
      mutate(agg);
      const { res, body } = await post('/v1/aggregates', aggregatesBatch(V, [agg]));
      expect(res.status, path).toBe(400);
      expect(
        paths(body).some((p) => p.startsWith(path)),
        `${path}: ${JSON.stringify(body.error.details)}`,
      ).toBe(true);
    }
    const proto = JSON.stringify(aggregatesBatch(V, [valid()])).replace('"languages":{', '"languages":{"__proto__":1,');
    const { res, body } = await callJson<Err>('/v1/aggregates', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: proto });
    expect(res.status).toBe(400);
    expect(paths(body)).toEqual(['items.0.languages.__proto__']);
  });

  it('refuses time finer than an hour, ranges over 24 hours, ranges not ended and ranges too old', async () => {
    const hour = hourFloor(Date.now());
    const at = (from: number, to: number) => ({ ...valid(), hour_from: from, hour_to: to });
    const schema: Array<[Record<string, unknown>, string]> = [
      [at(hour - HOUR_MS + 1000, hour), 'items.0.hour_from'],
      [at(hour - HOUR_MS, hour - 1), 'items.0.hour_to'],
      [at(hour - 25 * HOUR_MS, hour), 'items.0.hour_to'],
      [at(hour, hour), 'items.0.hour_to'],
    ];
    for (const [agg, path] of schema) {
      const { res, body } = await post('/v1/aggregates', aggregatesBatch(V, [agg]));
      expect(res.status, path).toBe(400);
      expect(body.error.code).toBe('validation_failed');
      expect(paths(body), path).toContain(path);
    }
    const window: Array<[Record<string, unknown>, string]> = [
      // A range that has not ended (more than the 10 minutes of clock skew allowed ahead).
      [at(hour + HOUR_MS, hour + 2 * HOUR_MS), 'items.0.hour_to'],
      [at(hour - 8 * 24 * HOUR_MS, hour - 8 * 24 * HOUR_MS + HOUR_MS), 'items.0.hour_from'],
    ];
    for (const [agg, path] of window) {
      const { res, body } = await post('/v1/aggregates', aggregatesBatch(V, [agg]));
      expect(res.status, path).toBe(400);
      expect(body.error).toMatchObject({ code: 'invalid_timestamp', details: [{ path }] });
    }
    // A merged range of 24 whole hours is fine.
    expect((await post('/v1/aggregates', aggregatesBatch(V, [at(hour - 24 * HOUR_MS, hour)]))).res.status).toBe(202);
  });

  it('413 for more than 24 aggregates in one batch; nothing queued for any refusal above', async () => {
    const { res, body } = await post('/v1/aggregates', aggregatesBatch(V, Array.from({ length: AGGREGATE.per_batch + 1 }, valid)));
    expect(res.status).toBe(413);
    expect(body.error).toMatchObject({ code: 'too_many_items', details: [{ path: 'items' }] });
    // Every refusal in this describe block ran in its own test; none of them queued anything.
    expect(held).toEqual([]);
  });
});

describe('idempotency', () => {
  it('stores a resent batch once: every copy is queued (202), the lane drops the copies', async () => {
    const batch = samplesBatch(V, [
      { label: 'positive', score: 0.8 },
      { label: 'positive', score: 0.9 },
      { label: 'neutral', score: 0.4 },
    ]);
    for (let i = 0; i < 4; i++) {
      const r = await callJson<Ok>('/v1/samples', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(batch) });
      expect(r.res.status).toBe(202);
      expect(r.body).toEqual({ batch_id: batch.batch_id, accepted: 3, duplicate: false });
      // Delivered one by one, like retries that arrive after the first was stored.
      if (i % 2 === 1) await deliverIngest();
    }
    expect(await storedLines({ batchId: batch.batch_id })).toHaveLength(3);
    const lane = laneOf(batch.batch_id, 2);
    const [state] = (await getHourStates(testEnv.TELEMETRY, currentHourKey(), 2)).filter((s) => s.lane === lane);
    expect(state!.state.batches[batch.batch_id]).toMatch(/^[0-9a-f]{16}$/);
  });

  it('stores concurrent copies exactly once', async () => {
    const batch = samplesBatch(V, [{ label: 'negative', score: 0.6 }]);
    const body = JSON.stringify(batch);
    // Distinct client ids would change the content hash; the same batch is sent by one client.
    const responses = await Promise.all(Array.from({ length: 4 }, () => callJson<Ok>('/v1/samples', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body })));
    expect(responses.map((r) => r.res.status)).toEqual([202, 202, 202, 202]);
    await deliverIngest();
    expect(await storedLines({ batchId: batch.batch_id })).toHaveLength(1);
  });

  it('keeps the first content of a batch_id reused for a different batch and counts the conflict', async () => {
    const batch = samplesBatch(V, [{ label: 'negative', score: 0.6 }]);
    expect((await postJson('/v1/samples', batch)).status).toBe(202);
    await deliverIngest();
    const reused = { ...batch, items: [{ ...batch.items[0], label: 'positive' }] };
    expect((await postJson('/v1/samples', reused)).status).toBe(202);
    await deliverIngest();
    const stored = await storedLines({ batchId: batch.batch_id });
    expect(stored.map((s) => s.line.label)).toEqual(['negative']);
    const [state] = (await getHourStates(testEnv.TELEMETRY, currentHourKey(), 2)).filter((s) => s.lane === laneOf(batch.batch_id, 2));
    expect(state!.state.conflicts).toBeGreaterThanOrEqual(1);
  });
});

describe('limits', () => {
  it('413 for a body over 64 KB, declared or streamed', async () => {
    const big = samplesBatch(V, [{ label: 'positive', score: 0.9 }], { extension_version: '1', padding: 'x'.repeat(LIMITS.body_bytes) });
    const res = await postJson('/v1/samples', big);
    expect(res.status).toBe(413);
    expect(((await res.json()) as Err).error.code).toBe('body_too_large');
    // Without Content-Length the bytes are counted as they arrive. Past the limit the rest is read
    // and discarded up to DRAIN_MAX_BYTES (so HTTP clients see the 413, not a reset), then cut off.
    let pulled = 0;
    const endless = new ReadableStream<Uint8Array>({
      pull(c) {
        pulled++;
        c.enqueue(new TextEncoder().encode(pulled === 1 ? '{"pad":"' : 'x'.repeat(16 * 1024)));
      },
    });
    const streamed = await call('/v1/samples', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: endless, duplex: 'half' } as RequestInit);
    expect(streamed.status).toBe(413);
    expect(pulled * 16 * 1024).toBeLessThanOrEqual(DRAIN_MAX_BYTES + 64 * 1024);
    // Exactly at the limit is not "over" (and then fails validation instead).
    const atLimit = JSON.stringify({ pad: 'x'.repeat(LIMITS.body_bytes - 10) });
    expect(new TextEncoder().encode(atLimit).byteLength).toBe(LIMITS.body_bytes);
    expect((await postJson('/v1/samples', atLimit)).status).toBe(400);
  });

  it('413 for more than 100 items and for a text over 2 KB (UTF-8 bytes), naming the item', async () => {
    const many = samplesBatch(
      V,
      Array.from({ length: 101 }, () => ({ label: 'positive', score: 0.9 })),
    );
    const tooMany = await callJson<Err>('/v1/samples', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(many) });
    expect(tooMany.res.status).toBe(413);
    expect(tooMany.body.error).toMatchObject({ code: 'too_many_items', details: [{ path: 'items' }] });

    // 'é' is 2 bytes: 1024 of them are exactly 2048 bytes (accepted), 1025 are over.
    const okText = samplesBatch(V, [{ label: 'positive', score: 0.9, text: 'é'.repeat(1024) }], { consent: 'text' });
    expect((await postJson('/v1/samples', okText)).status).toBe(202);
    const longText = samplesBatch(
      V,
      [
        { label: 'positive', score: 0.9 },
        { label: 'positive', score: 0.9, text: 'é'.repeat(1025) },
      ],
      { consent: 'text' },
    );
    const tooLong = await callJson<Err>('/v1/samples', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(longText) });
    expect(tooLong.res.status).toBe(413);
    expect(tooLong.body.error).toMatchObject({ code: 'text_too_long', details: [{ path: 'items.1.text' }] });
    const fb = await callJson<Err>('/v1/feedback', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(feedbackBatch([{ text: 'a'.repeat(2049) }])) });
    expect(fb.res.status).toBe(413);
  });

  it('415 for a body that is not declared as JSON', async () => {
    const body = JSON.stringify(samplesBatch(V, [{ label: 'positive', score: 0.9 }]));
    for (const ct of ['text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', 'application/jsonp', null]) {
      const res = await call('/v1/samples', { method: 'POST', headers: ct ? { 'Content-Type': ct } : {}, body });
      expect(res.status, String(ct)).toBe(415);
      expect(((await res.json()) as Err).error.code).toBe('unsupported_media_type');
    }
    expect((await call('/v1/samples', { method: 'POST', headers: { 'Content-Type': 'application/json; charset=utf-8' }, body })).status).toBe(202);
  });

  it('400 for malformed JSON, invalid UTF-8 and an empty body', async () => {
    const cases: Array<[BodyInit, string]> = [
      ['{"batch_id":', 'invalid_json'],
      ['', 'invalid_json'],
      [new Uint8Array([0x7b, 0x22, 0xff, 0xfe, 0x22, 0x3a, 0x31, 0x7d]), 'invalid_utf8'],
    ];
    for (const [body, code] of cases) {
      const res = await call('/v1/samples', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body });
      expect(res.status).toBe(400);
      expect(((await res.json()) as Err).error.code).toBe(code);
    }
  });

  it('400 naming every failing field', async () => {
    const bad = { ...samplesBatch(V, [{ label: 'happy', score: 2 }]), batch_id: 'not-a-uuid', extra: true };
    const { res, body } = await callJson<Err>('/v1/samples', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(bad) });
    expect(res.status).toBe(400);
    expect(body.error.code).toBe('validation_failed');
    const paths = body.error.details!.map((d) => d.path);
    expect(paths).toEqual(expect.arrayContaining(['batch_id', 'items.0.label', 'items.0.score', '(root)']));
    for (const d of body.error.details!) expect(d.message.length).toBeGreaterThan(0);
  });

  it('rejects samples without text or without consent "text", and feedback without it', async () => {
    const noText = samplesBatch(V, [{ label: 'positive', score: 0.9, text: undefined }]);
    const { res, body } = await callJson<Err>('/v1/samples', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(noText) });
    expect(res.status).toBe(400);
    expect(body.error.details!.map((d) => d.path)).toEqual(['items.0.text']);
    const stats = await callJson<Err>('/v1/samples', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify(samplesBatch(V, [{ video_id: 'dQw4w9WgXcQ' }], { consent: 'stats' })),
    });
    expect(stats.res.status).toBe(400);
    expect(stats.body.error.details!.map((d) => d.path)).toEqual(['consent']);
    const fb = await callJson<Err>('/v1/feedback', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(feedbackBatch([{}], { consent: 'stats' })) });
    expect(fb.res.status).toBe(400);
    expect(fb.body.error.details!.map((d) => d.path)).toContain('consent');
  });

  it('400 for a time finer than an hour (never rounded, never stored)', async () => {
    const now = Date.now();
    const fine = samplesBatch(V, [{ ts: hourFloor(now) }, { ts: hourFloor(now) + 1 }, { ts: now - (now % 1000) + 1 }]);
    const { res, body } = await callJson<Err>('/v1/samples', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(fine) });
    expect(res.status).toBe(400);
    expect(body.error).toMatchObject({ code: 'validation_failed', details: [{ path: 'items.1.ts', message: expect.stringMatching(/start of an hour/) }, { path: 'items.2.ts' }] });
    const fbBatch = feedbackBatch([{ ts: hourFloor(now) + 60_000 }]);
    const fb = await callJson<Err>('/v1/feedback', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(fbBatch) });
    expect(fb.res.status).toBe(400);
    expect(fb.body.error.details!.map((d) => d.path)).toEqual(['items.0.ts']);
    expect(held).toEqual([]);
  });

  it('400 for timestamps outside the accepted window and for unpublished model versions', async () => {
    const now = hourFloor(Date.now());
    const old = samplesBatch(V, [
      { label: 'positive', score: 0.9, ts: now - 8 * 24 * 3_600_000 },
      { label: 'positive', score: 0.9, ts: now + 2 * 3_600_000 },
    ]);
    const { res, body } = await callJson<Err>('/v1/samples', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(old) });
    expect(res.status).toBe(400);
    expect(body.error.code).toBe('invalid_timestamp');
    expect(body.error.details!.map((d) => d.path)).toEqual(['items.0.ts', 'items.1.ts']);
    const unknown = await callJson<Err>('/v1/samples', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify(samplesBatch('7.9.9', [{ label: 'positive', score: 0.9 }])),
    });
    expect(unknown.res.status).toBe(400);
    expect(unknown.body.error).toMatchObject({ code: 'unknown_model_version', details: [{ path: 'model_version' }] });
    expect(held).toEqual([]);
  });

  it('429 with Retry-After once a client exceeds its rate limit; other clients are unaffected', async () => {
    // The limiter counts per wall-clock minute: seven requests across a minute's end would start
    // a fresh count halfway (a CI run failed that way).
    await awayFromMinuteEnd();
    const client = clientId();
    const statuses: number[] = [];
    let retryAfter: string | null = null;
    for (let i = 0; i < 7; i++) {
      const res = await postJson('/v1/samples', samplesBatch(V, [{ label: 'positive', score: 0.9 }], { client_id: client }));
      statuses.push(res.status);
      if (res.status === 429) {
        retryAfter = res.headers.get('Retry-After');
        expect(((await res.json()) as Err).error.code).toBe('rate_limited');
      } else await res.arrayBuffer();
    }
    // The test configuration allows 5 batches per client and minute.
    expect(statuses).toEqual([202, 202, 202, 202, 202, 429, 429]);
    expect(retryAfter).toBe('60');
    expect((await postJson('/v1/samples', samplesBatch(V, [{ label: 'positive', score: 0.9 }]))).status).toBe(202);
  });
});

describe('scrubbing', () => {
  it('scrubs emails, URLs, handles and phone numbers again on the server', async () => {
    const raw = [
      'write me at jane.doe+yt@example.org or see https://evil.example.com/x?y=1',
      'shoutout @Some_Creator.42 and call +1 (555) 123-4567 now',
      'visit www.spam.io/win and text 0176 1234 5678',
    ];
    const batch = samplesBatch(
      V,
      raw.map((text) => ({ label: 'neutral', score: 0.5, text })),
      { consent: 'text' },
    );
    expect((await postJson('/v1/samples', batch)).status).toBe(202);
    const fb = feedbackBatch([{ text: 'mail bob@mail.co.uk about https://t.co/abc @bob' }]);
    expect((await postJson('/v1/feedback', fb)).status).toBe(202);

    await deliverIngest();
    const stored = [...(await storedLines({ batchId: batch.batch_id })), ...(await storedLines({ batchId: fb.batch_id }))].map((s) => s.line.text as string);
    expect(stored).toEqual(['write me at [email] or see [url]', 'shoutout @user and call [phone] now', 'visit [url] and text [phone]', 'mail [email] about [url] @user']);
    const all = stored.join('\n');
    for (const leaked of ['jane.doe', 'example', '@Some_Creator', '555', 'spam.io', '1234', 'bob@', 't.co', '@bob']) expect(all).not.toContain(leaked);
  });
});

describe('CORS', () => {
  const body = () => JSON.stringify(samplesBatch(V, [{ label: 'positive', score: 0.9 }]));

  it('answers configured extension origins with their origin only', async () => {
    const res = await call('/v1/samples', { method: 'POST', headers: { 'Content-Type': 'application/json', Origin: ALLOWED_ORIGIN }, body: body() });
    expect(res.status).toBe(202);
    expect(res.headers.get('Access-Control-Allow-Origin')).toBe(ALLOWED_ORIGIN);
    expect(res.headers.get('Vary')).toContain('Origin');
    expect(res.headers.get('Access-Control-Expose-Headers')).toContain('Retry-After');
    // Errors too, so the extension can read the reason (and Retry-After) of a refusal.
    const bad = await call('/v1/samples', { method: 'POST', headers: { 'Content-Type': 'application/json', Origin: ALLOWED_ORIGIN }, body: '{' });
    expect(bad.status).toBe(400);
    expect(bad.headers.get('Access-Control-Allow-Origin')).toBe(ALLOWED_ORIGIN);
    await bad.arrayBuffer();
  });

  it('gives other origins no CORS headers', async () => {
    for (const origin of ['https://evil.example', 'chrome-extension://ponmlkjihgfedcbaponmlkjihgfedcba', 'null']) {
      const res = await call('/v1/samples', { method: 'POST', headers: { 'Content-Type': 'application/json', Origin: origin }, body: body() });
      expect(res.headers.get('Access-Control-Allow-Origin')).toBeNull();
      await res.arrayBuffer();
      const get = await call('/health', { headers: { Origin: origin } });
      expect(get.headers.get('Access-Control-Allow-Origin')).toBeNull();
    }
  });

  it('handles preflights: allowed origin and request → 204; anything else → 403 without CORS headers', async () => {
    const ok = await call('/v1/samples', {
      method: 'OPTIONS',
      headers: { Origin: ALLOWED_ORIGIN, 'Access-Control-Request-Method': 'POST', 'Access-Control-Request-Headers': 'content-type' },
    });
    expect(ok.status).toBe(204);
    expect(ok.headers.get('Access-Control-Allow-Origin')).toBe(ALLOWED_ORIGIN);
    expect(ok.headers.get('Access-Control-Allow-Methods')).toContain('POST');
    expect(ok.headers.get('Access-Control-Allow-Headers')).toContain('content-type');
    expect(ok.headers.get('Access-Control-Max-Age')).toBe('86400');

    const denied: Array<Record<string, string>> = [
      { Origin: 'https://evil.example', 'Access-Control-Request-Method': 'POST' },
      // Admin routes are never reachable cross-origin: no PUT, no Authorization header.
      { Origin: ALLOWED_ORIGIN, 'Access-Control-Request-Method': 'PUT' },
      { Origin: ALLOWED_ORIGIN, 'Access-Control-Request-Method': 'POST', 'Access-Control-Request-Headers': 'authorization' },
    ];
    for (const headers of denied) {
      const res = await call('/v1/samples', { method: 'OPTIONS', headers });
      expect(res.status).toBe(403);
      expect(res.headers.get('Access-Control-Allow-Origin')).toBeNull();
      expect(res.headers.get('Access-Control-Allow-Methods')).toBeNull();
      await res.arrayBuffer();
    }
  });
});

describe('errors', () => {
  it('uses {"error":{"code","message"}} for every error, including unknown routes and methods', async () => {
    for (const [path, init, status] of [
      ['/nope', {}, 404],
      ['/v1/samples', { method: 'GET' }, 404],
      ['/v1/models/x.y/manifest.json', {}, 400],
      ['/v1/drift?model_version=7.0.0&window=abc', {}, 400],
    ] as const) {
      const res = await call(path, init as RequestInit);
      expect(res.status, path).toBe(status);
      expect(res.headers.get('Content-Type')).toContain('application/json');
      const body = (await res.json()) as Err;
      expect(typeof body.error.code).toBe('string');
      expect(typeof body.error.message).toBe('string');
    }
  });
});

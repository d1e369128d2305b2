/**
 * Queued ingest in workerd (telemetry/consumer.ts): the write budget of a delivery, exactly once
 * under redelivery, client resends across hours, concurrent consumers and a crash between the
 * segment and the state, poison messages and the dead-letter queue (stored, listed, replayed), and
 * the real queue of wrangler.toml delivering to the Worker's queue handler.
 */
import { createExecutionContext, createMessageBatch, getQueueResult } from 'cloudflare:test';
import { beforeAll, describe, expect, it } from 'vitest';
import { HOUR_MS, hourFloor } from '../../core/wire.js';
import type { Env } from '../../worker/env.js';
import { ApiError } from '../../worker/lib/errors.js';
import { contentHash, encodeBatch, parseBatch, toMessage, type IngestMessage } from '../../worker/telemetry/ingest.js';
import { getHourStates, laneOf } from '../../worker/telemetry/lanes.js';
import worker from '../../worker/index.js';
import {
  aggregateOf,
  aggregatesBatch,
  call,
  callJson,
  currentHourKey,
  deliverIngest,
  held,
  listKeys,
  makeBundle,
  postJson,
  promoter,
  publish,
  reader,
  realEnv,
  referencePopulation,
  runCron,
  samplesBatch,
  storedLines,
  testEnv,
} from './helpers.js';

const V = '14.0.0';
const V2 = '14.1.0';

beforeAll(async () => {
  expect((await publish(await makeBundle(V), 'stable')).status).toBe(201);
  expect((await publish(await makeBundle(V2))).status).toBe(201);
});

/** The message the Worker would enqueue for `batch` received at `receivedAt`. */
async function messageOf(kind: 'samples' | 'aggregates', batch: unknown, receivedAt = Date.now()): Promise<IngestMessage> {
  const parsed = parseBatch(kind, batch);
  return toMessage(kind, parsed, encodeBatch(kind, parsed, receivedAt), await contentHash(kind, parsed), receivedAt);
}

/** Distinct sample batches that all belong to `lane` (of 2). */
function samplesOnLane(lane: number, n: number, version = V): Array<ReturnType<typeof samplesBatch>> {
  const out: Array<ReturnType<typeof samplesBatch>> = [];
  while (out.length < n) {
    const b = samplesBatch(version, [
      { label: 'positive', score: 0.9, text: `great ${out.length}` },
      { label: 'negative', score: 0.8, text: `awful ${out.length}` },
    ]);
    if (laneOf(b.batch_id, 2) === lane) out.push(b);
  }
  return out;
}

/** TELEMETRY wrapped to count writes by key (and to fail the writes `fail` picks). */
function countingEnv(fail: (key: string) => boolean = () => false): { env: Env; puts: string[]; deletes: string[]; gets: string[] } {
  const puts: string[] = [];
  const deletes: string[] = [];
  const gets: string[] = [];
  const inner = realEnv.TELEMETRY;
  const bucket = new Proxy(inner, {
    get(target, prop) {
      if (prop === 'put') {
        return async (key: string, ...rest: unknown[]) => {
          if (fail(key)) throw new Error(`R2 write refused (test): ${key}`);
          puts.push(key);
          return (target.put as (...a: unknown[]) => unknown)(key, ...rest);
        };
      }
      if (prop === 'get') {
        return async (key: string, ...rest: unknown[]) => {
          gets.push(key);
          return (target.get as (...a: unknown[]) => unknown)(key, ...rest);
        };
      }
      if (prop === 'delete') {
        return async (key: string) => {
          deletes.push(key);
          return target.delete(key);
        };
      }
      const value = Reflect.get(target, prop) as unknown;
      return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
  });
  return { env: { ...testEnv, TELEMETRY: bucket } as Env, puts, deletes, gets };
}

const ingestWrites = (puts: readonly string[]) => puts.filter((k) => k.startsWith('ingest/'));

describe('write budget', () => {
  it('stores 100 batches of one delivery with 2 R2 writes (one segment, one state): 0.02 per batch', async () => {
    const batches = samplesOnLane(0, 100);
    const extra = await Promise.all(batches.map(async (b) => ({ queue: 'ytsent-ingest-0', body: await messageOf('samples', b) })));
    const counted = countingEnv();
    const [delivery] = await deliverIngest({ extra, e: counted.env });
    expect(delivery!.result.ackAll || delivery!.result.explicitAcks.length === 100).toBe(true);
    expect(delivery!.result.retryMessages).toEqual([]);
    const writes = ingestWrites(counted.puts);
    expect(writes).toHaveLength(2);
    expect(writes.filter((k) => /^ingest\/samples\/[^/]+\/lane-0\/\d{6}-[0-9a-f]{8}\.ndjson$/.test(k))).toHaveLength(1);
    expect(writes.filter((k) => /^ingest\/state\/[^/]+\/lane-0\.json$/.test(k))).toHaveLength(1);
    expect(writes.length / batches.length).toBeLessThanOrEqual(0.05);
    // Stored items equal accepted items, and every line is one of these batches.
    const stored = (await storedLines({ kind: 'samples' })).filter((s) => batches.some((b) => b.batch_id === s.line.batch_id));
    expect(stored).toHaveLength(200);
  });

  it('writes nothing when a delivery holds only copies (a redelivered message, a client resend)', async () => {
    const batches = samplesOnLane(1, 30);
    const extra = await Promise.all(batches.map(async (b) => ({ queue: 'ytsent-ingest-1', body: await messageOf('samples', b) })));
    await deliverIngest({ extra });
    const counted = countingEnv();
    // The same 30 messages delivered twice more.
    await deliverIngest({ extra, e: counted.env, times: 2 });
    expect(ingestWrites(counted.puts)).toEqual([]);
    const stored = (await storedLines({ kind: 'samples' })).filter((s) => batches.some((b) => b.batch_id === s.line.batch_id));
    expect(stored).toHaveLength(60);
  });
});

describe('exactly once', () => {
  it('drops a copy received in a later hour within INGEST_DEDUPE_HOURS (24), and says where the window ends', async () => {
    const t0 = hourFloor(Date.now()) - 30 * HOUR_MS;
    const [batch] = samplesOnLane(0, 1);
    const at = (hours: number) => messageOf('samples', batch, t0 + hours * HOUR_MS);
    // The items' times must be valid when the message is built, not when it is delivered.
    await deliverIngest({ extra: [{ queue: 'ytsent-ingest-0', body: await at(0) }] });
    await deliverIngest({
      extra: [
        { queue: 'ytsent-ingest-0', body: await at(1) },
        { queue: 'ytsent-ingest-0', body: await at(23) },
      ],
    });
    const hours = (h: number[]) => h.map((x) => currentHourKey(t0 + x * HOUR_MS));
    expect(await storedLines({ batchId: batch!.batch_id }, hours([0, 1, 23, 24]))).toHaveLength(2);
    // 24 hours later the first copy is outside the window: stored again (docs/SCALE.md).
    await deliverIngest({ extra: [{ queue: 'ytsent-ingest-0', body: await at(24) }] });
    expect(await storedLines({ batchId: batch!.batch_id }, hours([0, 1, 23, 24]))).toHaveLength(4);
  });

  it('stores each batch once when two consumers of one lane race (max_concurrency broken)', async () => {
    const batches = samplesOnLane(1, 40);
    const messages = await Promise.all(batches.map((b) => messageOf('samples', b)));
    // Overlapping halves, delivered at the same time.
    const a = messages.slice(0, 30);
    const b = messages.slice(10, 40);
    const run = async (bodies: IngestMessage[]) => {
      const batch = createMessageBatch(
        'ytsent-ingest-1',
        bodies.map((body, i) => ({ id: `race-${i}-${crypto.randomUUID()}`, timestamp: new Date(0), attempts: 1, body })),
      );
      const ctx = createExecutionContext();
      await worker.queue!(batch, testEnv, ctx);
      return getQueueResult(batch, ctx);
    };
    const results = await Promise.all([run(a), run(b)]);
    for (const r of results) expect(r.retryMessages).toEqual([]);
    const stored = (await storedLines({ kind: 'samples' })).filter((s) => batches.some((x) => x.batch_id === s.line.batch_id));
    expect(stored).toHaveLength(80);
    expect(new Set(stored.map((s) => `${s.line.batch_id} ${s.line.text}`)).size).toBe(80);
    // Every segment the state names exists; a loser's segments were deleted, not referenced.
    const [state] = (await getHourStates(testEnv.TELEMETRY, currentHourKey(), 2)).filter((s) => s.lane === 1);
    for (const seg of state!.state.segments) expect(await testEnv.TELEMETRY.head(seg.key)).not.toBeNull();
  });

  it('a crash between the segment and the state loses nothing and stores nothing twice', async () => {
    const batches = samplesOnLane(0, 5);
    const extra = await Promise.all(batches.map(async (b) => ({ queue: 'ytsent-ingest-0', body: await messageOf('samples', b) })));
    const failing = countingEnv((key) => /^ingest\/state\/[^/]+\/lane-0\.json$/.test(key));
    const [first] = await deliverIngest({ extra, e: failing.env });
    // The handler threw and acknowledged nothing: the queue retries the whole delivery.
    expect(String(first!.threw)).toContain('R2 write refused (test)');
    expect(first!.result.explicitAcks).toEqual([]);
    expect(first!.result.ackAll).toBe(false);
    const orphans = failing.puts.filter((k) => k.endsWith('.ndjson'));
    expect(orphans).toHaveLength(1);
    expect(await storedLines({ kind: 'samples' }).then((l) => l.filter((s) => batches.some((b) => b.batch_id === s.line.batch_id)))).toEqual([]);

    await deliverIngest({ extra });
    const stored = (await storedLines({ kind: 'samples' })).filter((s) => batches.some((b) => b.batch_id === s.line.batch_id));
    expect(stored).toHaveLength(10);
    // The orphan of the failed attempt is not what the state names.
    expect(stored.every((s) => s.key !== orphans[0])).toBe(true);
  });
});

describe('correction votes', () => {
  it("keeps a voter's vote from a later hour when an earlier hour's batch is stored after it", async () => {
    const t0 = hourFloor(Date.now()) - 5 * HOUR_MS;
    const hex = (c: string, n: number) => c.repeat(n);
    const vote = { h: hex('a', 64), voter: hex('b', 64), net: hex('c', 16) };
    const message = (hours: number, corrected: string) => {
      const batchId = crypto.randomUUID();
      const hourMs = t0 + hours * HOUR_MS;
      const line = { batch_id: batchId, model_version: V, consent: 'text', received_at: new Date(hourMs).toISOString(), text: 'order test', predicted: 'positive', corrected, ts: hourMs };
      return {
        queue: `ytsent-ingest-${laneOf(batchId, 2)}`,
        body: { schema: 1, kind: 'feedback', batch_id: batchId, model_version: V, hour: currentHourKey(hourMs), sha256: hex('d', 64), items: 1, ndjson: `${JSON.stringify(line)}\n`, votes: [vote] },
      };
    };
    // The later hour's batch is stored first, the earlier one after it.
    await deliverIngest({ extra: [message(1, 'neutral')] });
    await deliverIngest({ extra: [message(0, 'negative')] });
    const stored = await testEnv.TELEMETRY.head(`votes/${vote.h}/${vote.voter}.json`);
    expect(stored?.customMetadata).toMatchObject({ corrected: 'neutral', hour: currentHourKey(t0 + HOUR_MS) });
    // A later one replaces it.
    await deliverIngest({ extra: [message(2, 'positive')] });
    expect((await testEnv.TELEMETRY.head(`votes/${vote.h}/${vote.voter}.json`))?.customMetadata).toMatchObject({ corrected: 'positive' });
  });
});

describe('poison messages and the dead-letter queue', () => {
  it('retries a message that is not an ingest message on its own; the rest of the delivery is stored', async () => {
    const [good] = samplesOnLane(0, 1);
    const poison = [{ hello: 'world' }, { ...(await messageOf('samples', samplesOnLane(0, 1)[0])), items: 7 }, 'not even an object'];
    const [delivery] = await deliverIngest({
      extra: [{ queue: 'ytsent-ingest-0', body: await messageOf('samples', good) }, ...poison.map((body) => ({ queue: 'ytsent-ingest-0', body }))],
    });
    expect(delivery!.result.retryMessages.map((r: { msgId: string }) => r.msgId).sort()).toEqual(delivery!.ids.slice(1).sort());
    expect(delivery!.result.explicitAcks).toEqual([delivery!.ids[0]]);
    expect(await storedLines({ batchId: good!.batch_id })).toHaveLength(2);
  });

  it('keeps dead letters, lists them per hour and replays them safely (twice: stored once)', async () => {
    // What reaches the DLQ: a valid message whose retries ran out during an R2 outage, and poison.
    const [batch] = samplesOnLane(1, 1);
    const valid = await messageOf('samples', batch);
    const dlq = createMessageBatch('ytsent-ingest-dlq', [
      { id: 'dead-1', timestamp: new Date(0), attempts: 4, body: valid },
      { id: 'dead-2', timestamp: new Date(0), attempts: 4, body: { hello: 'world' } },
    ]);
    const ctx = createExecutionContext();
    await worker.queue!(dlq, testEnv, ctx);
    expect((await getQueueResult(dlq, ctx)).ackAll).toBe(true);

    const status = await callJson<{ dead_letters: Array<{ key: string; messages: number }> }>(`/v1/admin/ingest?hour=${currentHourKey()}`, { headers: reader() });
    expect(status.res.status).toBe(200);
    const dead = status.body.dead_letters.find((d) => d.messages === 2);
    expect(dead?.key).toMatch(/^dead\/\d{4}-\d{2}-\d{2}T\d{2}\/[0-9a-f-]{36}\.ndjson$/);
    const lines = (await (await testEnv.TELEMETRY.get(dead!.key))!.text()).trim().split('\n');
    expect(lines.map((l) => JSON.parse(l) as { id: string; attempts: number }).map((l) => [l.id, l.attempts])).toEqual([
      ['dead-1', 4],
      ['dead-2', 4],
    ]);

    for (let i = 0; i < 2; i++) {
      const replay = await callJson<{ replayed: number; invalid: string[] }>('/v1/admin/ingest/replay', {
        method: 'POST',
        headers: promoter({ 'Content-Type': 'application/json' }),
        body: JSON.stringify({ key: dead!.key }),
      });
      expect(replay.res.status).toBe(200);
      expect(replay.body).toMatchObject({ replayed: 1, invalid: ['dead-2'] });
      expect(held.map((m) => m.queue)).toEqual(['ytsent-ingest-1']);
      await deliverIngest();
    }
    expect(await storedLines({ batchId: batch!.batch_id })).toHaveLength(2);
  });

  it('refuses replays without the promote token, of keys outside dead/, and of missing objects', async () => {
    const post = (body: unknown, headers: Record<string, string>) =>
      call('/v1/admin/ingest/replay', { method: 'POST', headers: { 'Content-Type': 'application/json', ...headers }, body: JSON.stringify(body) });
    expect((await post({ key: 'dead/2026-01-01T00/00000000-0000-0000-0000-000000000000.ndjson' }, reader())).status).toBe(401);
    expect((await post({ key: 'ingest/state/2026-01-01T00/lane-0.json' }, promoter())).status).toBe(400);
    expect((await post({ key: 'dead/2026-01-01T00/00000000-0000-0000-0000-000000000000.ndjson' }, promoter())).status).toBe(404);
    expect((await call('/v1/admin/ingest?hour=yesterday', { headers: reader() })).status).toBe(400);
  });
});

describe('the hourly job', () => {
  it('sums lane states it reads once; a re-run reads their heads only, no state body and no segment', async () => {
    const hourMs = hourFloor(Date.now()) - 3 * HOUR_MS;
    const hour = currentHourKey(hourMs);
    // Aggregates received three hours ago, on both lanes.
    const extra: Array<{ queue: string; body: IngestMessage }> = [];
    for (let i = 0; i < 6; i++) {
      const batch = aggregatesBatch(V2, [aggregateOf(referencePopulation().slice(i * 20, i * 20 + 20), hourMs - HOUR_MS)]);
      extra.push({ queue: `ytsent-ingest-${laneOf(batch.batch_id, 2)}`, body: await messageOf('aggregates', batch, hourMs) });
    }
    await deliverIngest({ extra });
    const first = countingEnv();
    await runCron(hourMs + HOUR_MS + 5 * 60_000, first.env);
    const summary = JSON.parse(await (await testEnv.TELEMETRY.get(`summaries/${V2}/${hour}.json`))!.text()) as { n: number; aggregates: number };
    expect(summary).toMatchObject({ n: 120, aggregates: 6 });
    expect(first.gets.filter((k) => k.startsWith('ingest/state/') && k.includes(hour)).length).toBeGreaterThan(0);
    expect(first.gets.filter((k) => /^ingest\/(aggregates|samples|feedback)\//.test(k))).toEqual([]);

    const again = countingEnv();
    await runCron(hourMs + HOUR_MS + 5 * 60_000, again.env);
    expect(again.gets.filter((k) => k.startsWith('ingest/'))).toEqual([]);
  });
});

describe('status, export and the message size bound', () => {
  it('counts per lane what was stored, and exports only the asked version from segments holding two', async () => {
    const hour = currentHourKey();
    const before = (await callJson<{ batches: number; items: number }>(`/v1/admin/ingest?hour=${hour}`, { headers: reader() })).body;
    const mine = [...samplesOnLane(0, 2, V), ...samplesOnLane(0, 2, V2)];
    for (const b of mine) expect((await postJson('/v1/samples', b)).status).toBe(202);
    const after = (await callJson<{ lanes_configured: number; batches: number; items: number; lanes: Array<{ lane: number }> }>(`/v1/admin/ingest?hour=${hour}`, { headers: reader() })).body;
    expect(after.lanes_configured).toBe(2);
    expect(after.batches - before.batches).toBe(4);
    expect(after.items - before.items).toBe(8);

    const exported = await call(`/v1/admin/export?kind=samples&model_version=${V2}&from=${hour}`, { headers: reader() });
    expect(exported.status).toBe(200);
    const rows = (await exported.text())
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { model_version: string; batch_id: string });
    expect(new Set(rows.map((r) => r.model_version))).toEqual(new Set([V2]));
    expect(rows.filter((r) => mine.slice(2).some((b) => b.batch_id === r.batch_id))).toHaveLength(4);
  });

  it('answers 413 rather than enqueue a message over the queue limit', async () => {
    const batch = parseBatch('samples', samplesBatch(V, [{ label: 'neutral', score: 0.5 }]));
    const huge = { ndjson: `${JSON.stringify({ text: 'x'.repeat(130 * 1024) })}\n`, items: 1, scrubbed: encodeBatch('samples', batch, Date.now()).scrubbed };
    let error: unknown;
    try {
      toMessage('samples', batch, huge, 'a'.repeat(64), Date.now());
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ApiError);
    expect((error as ApiError).status).toBe(413);
  });
});

describe('the real queue', () => {
  it('delivers what POST /v1/aggregates enqueues to the queue handler, which stores it', async () => {
    const batch = aggregatesBatch(V, [aggregateOf(referencePopulation().slice(0, 30))]);
    const res = await call('/v1/aggregates', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(batch) }, realEnv);
    expect(res.status).toBe(202);
    // wrangler.toml: max_batch_timeout 5 s. Polls R2 (the consumer runs on miniflare's schedule).
    const deadline = Date.now() + 25_000;
    let stored: Awaited<ReturnType<typeof storedLines>> = [];
    while (Date.now() < deadline) {
      stored = await storedLines({ batchId: batch.batch_id });
      if (stored.length > 0) break;
      await new Promise((r) => setTimeout(r, 250));
    }
    expect(stored).toHaveLength(1);
    expect(stored[0]!.line).toMatchObject({ model_version: V, n: 30 });
    expect(await listKeys(testEnv.TELEMETRY, `ingest/state/${currentHourKey()}/lane-${laneOf(batch.batch_id, 2)}.json`)).toHaveLength(1);
  });
});

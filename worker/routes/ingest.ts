/**
 * Operator routes of the ingest queue (docs/SCALE.md):
 *   GET  /v1/admin/ingest?hour=YYYY-MM-DDTHH   (read token) what each lane stored in the hour, dead letters of the hour
 *   POST /v1/admin/ingest/replay {key}          (promote token) send a dead-letter object's messages back to their lanes
 */
import { Hono } from 'hono';
import { z } from 'zod';
import type { AppEnv } from '../env.js';
import { ingestQueue, loadConfig } from '../env.js';
import { requireToken } from '../lib/auth.js';
import { ApiError, badRequest } from '../lib/errors.js';
import { hourKey, isHourKey, keys, listAll } from '../lib/keys.js';
import { readJson } from '../lib/body.js';
import { IngestMessageSchema } from '../telemetry/ingest.js';
import { getHourStates, laneOf } from '../telemetry/lanes.js';

export const ingestRoutes = new Hono<AppEnv>();

ingestRoutes.get('/v1/admin/ingest', requireToken('read'), async (c) => {
  const hour = c.req.query('hour') ?? hourKey(Date.now());
  if (!isHourKey(hour)) throw badRequest('invalid_query', 'hour must be an hour like 2026-01-31T13', [{ path: 'hour', message: 'must be YYYY-MM-DDTHH (UTC)' }]);
  const config = loadConfig(c.env);
  const states = await getHourStates(c.env.TELEMETRY, hour, config.ingestLanes);
  const lanes = states.map(({ lane, state }) => {
    const items = { aggregates: 0, samples: 0, feedback: 0 };
    for (const s of state.segments) items[s.kind] += s.items;
    return { lane, batches: Object.keys(state.batches).length, items, segments: state.segments.length, duplicates: state.duplicates, conflicts: state.conflicts };
  });
  const dead = await listAll(c.env.TELEMETRY, keys.deadLetterPrefix(hour), { include: ['customMetadata'] });
  return c.json(
    {
      hour,
      lanes_configured: config.ingestLanes,
      lanes,
      batches: lanes.reduce((n, l) => n + l.batches, 0),
      items: lanes.reduce((n, l) => n + l.items.aggregates + l.items.samples + l.items.feedback, 0),
      dead_letters: dead.map((o) => ({ key: o.key, messages: Number(o.customMetadata?.messages ?? 0) })),
    },
    200,
    { 'Cache-Control': 'no-store' },
  );
});

const ReplayRequest = z.strictObject({ key: z.string().regex(/^dead\/\d{4}-\d{2}-\d{2}T\d{2}\/[0-9a-f-]{36}\.ndjson$/, 'a dead-letter key dead/<hour>/<uuid>.ndjson') });

ingestRoutes.post('/v1/admin/ingest/replay', requireToken('promote'), async (c) => {
  const parsed = ReplayRequest.safeParse(await readJson(c.req.raw, 4096));
  if (!parsed.success)
    throw badRequest(
      'validation_failed',
      'the body must be {"key": "dead/<hour>/<uuid>.ndjson"}',
      parsed.error.issues.map((i) => ({ path: i.path.join('.') || '(root)', message: i.message })),
    );
  const object = await c.env.TELEMETRY.get(parsed.data.key);
  if (!object) throw new ApiError(404, 'not_found', `no dead-letter object ${parsed.data.key}`);
  const config = loadConfig(c.env);
  let replayed = 0;
  const invalid: string[] = [];
  for (const line of (await object.text()).split('\n')) {
    if (line === '') continue;
    let record: { id?: unknown; body?: unknown };
    try {
      record = JSON.parse(line) as typeof record;
    } catch {
      invalid.push('(a line that is not JSON)');
      continue;
    }
    const message = IngestMessageSchema.safeParse(record.body);
    if (!message.success) {
      invalid.push(String(record.id));
      continue;
    }
    // Copies are dropped by the lane's consumer, so a replay (or a second one) stores nothing twice.
    await ingestQueue(c.env, laneOf(message.data.batch_id, config.ingestLanes))!.send(message.data, { contentType: 'v8' });
    replayed++;
  }
  return c.json({ key: parsed.data.key, replayed, invalid }, 200);
});

/**
 * Opt-in telemetry: POST /v1/aggregates (consent "stats": on-device hourly aggregates, the only
 * input of drift), POST /v1/samples and POST /v1/feedback (consent "text": scrubbed per-comment rows).
 *
 * Checks in order (first failure answers): 429 per-network rate limit (before the body is read,
 * lib/rate-limit.ts) → 415 content type → 413 declared/actual body size → 400 UTF-8/JSON → 413 item
 * count / text size → 400 schema (incl. consent rules) → 429 per-client rate limit → 400 timestamps
 * → 400 unknown model version → scrub → enqueue to the batch's lane (503 if the queue refuses).
 * 202 {batch_id, accepted, duplicate:false}: the batch is queued; the lane's consumer stores it
 * once (telemetry/consumer.ts), so a client may resend a batch it got no answer for.
 */
import { Hono, type Context } from 'hono';
import { LIMITS } from '../../core/wire.js';
import type { AppEnv } from '../env.js';
import { ingestQueue, loadConfig } from '../env.js';
import { readJson } from '../lib/body.js';
import { ApiError } from '../lib/errors.js';
import type { TelemetryKind } from '../lib/keys.js';
import { metrics } from '../lib/metrics.js';
import { networkKey, networkRateLimit, rateLimited, withinLimit } from '../lib/rate-limit.js';
import { getPublished } from '../registry/store.js';
import { checkSizeLimits, checkTimestamps, contentHash, encodeBatch, parseBatch, toMessage, type AnyBatch, type IngestMessage } from '../telemetry/ingest.js';
import { laneOf } from '../telemetry/lanes.js';
import { prepareVotes } from '../telemetry/votes.js';

export const telemetryRoutes = new Hono<AppEnv>();

// Versions a batch may name: published ones. Positive answers never change (publishing is
// permanent); negative ones are re-checked after a short while.
const knownVersions = new Set<string>();
const unknownUntil = new Map<string, number>();
const NEGATIVE_TTL_MS = 15_000;

async function requirePublished(bucket: R2Bucket, version: string, now: number): Promise<void> {
  if (knownVersions.has(version)) return;
  const until = unknownUntil.get(version);
  if (until === undefined || until < now) {
    if (await getPublished(bucket, version)) {
      knownVersions.add(version);
      unknownUntil.delete(version);
      return;
    }
    if (unknownUntil.size > 1000) unknownUntil.clear();
    unknownUntil.set(version, now + NEGATIVE_TTL_MS);
  }
  throw new ApiError(400, 'unknown_model_version', `model version ${version} is not published`, [{ path: 'model_version', message: 'not a published model version' }]);
}

/** Sends the message to its lane's queue; a queue that refuses is a 503 the client retries (nothing was stored). */
async function enqueue(env: AppEnv['Bindings'], lanes: number, message: IngestMessage): Promise<void> {
  const lane = laneOf(message.batch_id, lanes);
  try {
    // loadConfig checked that every lane's binding exists.
    await ingestQueue(env, lane)!.send(message, { contentType: 'v8' });
  } catch (e) {
    console.error(`enqueue to lane ${lane} failed`, e);
    metrics.inc('ytsent_enqueue_failures_total', { lane: String(lane) });
    throw new ApiError(503, 'queue_unavailable', 'the batch could not be queued; retry later', undefined, { 'Retry-After': '5' });
  }
}

async function ingest(c: Context<AppEnv>, kind: TelemetryKind): Promise<Response> {
  const config = loadConfig(c.env);
  let items = 0;
  try {
    const value = await readJson(c.req.raw, LIMITS.body_bytes);
    const rawItems = typeof value === 'object' && value !== null ? (value as { items?: unknown }).items : undefined;
    items = Array.isArray(rawItems) ? rawItems.length : 0;
    checkSizeLimits(value, kind);
    const batch: AnyBatch = parseBatch(kind, value);

    if (!(await withinLimit(c.env.CLIENT_RATE_LIMITER, `${kind}:${batch.client_id}`))) throw rateLimited(config.rateLimitPeriodS, 'client');
    const now = Date.now();
    checkTimestamps(kind, batch, now, config);
    await requirePublished(c.env.MODELS, batch.model_version, now);

    const encoded = encodeBatch(kind, batch, now);
    // Votes are keyed by HMACs of the client id and network (telemetry/votes.ts), computed here so
    // that neither ever enters the queue.
    const votes =
      kind === 'feedback'
        ? await prepareVotes(
            config.clientIdPepper,
            { clientId: batch.client_id, network: networkKey(c.req.header('cf-connecting-ip')) },
            encoded.ndjson
              .split('\n')
              .filter(Boolean)
              .map((line) => (JSON.parse(line) as { text: string }).text),
          )
        : undefined;
    const message = toMessage(kind, batch, encoded, await contentHash(kind, batch), now, votes);
    await enqueue(c.env, config.ingestLanes, message);
    metrics.inc('ytsent_batches_total', { kind, outcome: 'queued' });
    metrics.inc('ytsent_samples_queued_total', { kind }, encoded.items);
    for (const [scrubKind, n] of Object.entries(encoded.scrubbed)) metrics.inc('ytsent_scrubbed_total', { kind, what: scrubKind }, n);
    return c.json({ batch_id: batch.batch_id, accepted: encoded.items, duplicate: false }, 202, { 'Cache-Control': 'no-store' });
  } catch (e) {
    if (e instanceof ApiError) {
      metrics.inc('ytsent_batches_rejected_total', { kind, reason: e.code });
      metrics.inc('ytsent_samples_rejected_total', { kind, reason: e.code }, items);
    } else {
      metrics.inc('ytsent_batches_rejected_total', { kind, reason: 'internal' });
    }
    throw e;
  }
}

// Every public write route takes networkRateLimit first, before anything reads the body.
telemetryRoutes.post('/v1/aggregates', networkRateLimit, (c) => ingest(c, 'aggregates'));
telemetryRoutes.post('/v1/samples', networkRateLimit, (c) => ingest(c, 'samples'));
telemetryRoutes.post('/v1/feedback', networkRateLimit, (c) => ingest(c, 'feedback'));

/**
 * Opt-in telemetry: POST /v1/aggregates (consent "stats": on-device hourly aggregates, the only
 * input of drift), POST /v1/samples and POST /v1/feedback (consent "text": scrubbed per-comment rows).
 *
 * Checks in order (first failure answers): 429 per-network rate limit (before the body is read,
 * lib/rate-limit.ts) → 415 content type → 413 declared/actual body size → 400 UTF-8/JSON → 413 item
 * count / text size → 400 schema (incl. consent rules) → 429 per-client rate limit → 400 timestamps
 * → 400 unknown model version → scrub → store exactly once (→ feedback: one vote per item, see
 * telemetry/votes.ts). 202 {accepted, duplicate:false} for a new batch; 200 {duplicate:true} for a
 * batch already stored.
 */
import { Hono, type Context } from 'hono';
import { LIMITS } from '../../core/wire.js';
import type { AppEnv } from '../env.js';
import { loadConfig } from '../env.js';
import { readJson } from '../lib/body.js';
import { ApiError } from '../lib/errors.js';
import type { TelemetryKind } from '../lib/keys.js';
import { metrics } from '../lib/metrics.js';
import { networkKey, networkRateLimit, rateLimited, withinLimit } from '../lib/rate-limit.js';
import { getPublished } from '../registry/store.js';
import { checkSizeLimits, checkTimestamps, encodeBatch, parseBatch, storeBatch, type AnyBatch } from '../telemetry/ingest.js';
import { recordVotes, type Vote } from '../telemetry/votes.js';

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
    const result = await storeBatch(c.env.TELEMETRY, kind, batch, encoded, now);
    if (result.duplicate) {
      metrics.inc('ytsent_batches_total', { kind, outcome: 'duplicate' });
    } else {
      metrics.inc('ytsent_batches_total', { kind, outcome: 'accepted' });
      metrics.inc('ytsent_samples_accepted_total', { kind }, result.accepted);
      for (const [scrubKind, n] of Object.entries(encoded.scrubbed)) metrics.inc('ytsent_scrubbed_total', { kind, what: scrubKind }, n);
      if (kind === 'feedback') {
        // The stored (scrubbed) lines, so a vote holds exactly the text the export would.
        const votes = encoded.ndjson
          .split('\n')
          .filter(Boolean)
          .map((line) => JSON.parse(line) as Vote);
        const network = networkKey(c.req.header('cf-connecting-ip'));
        metrics.inc('ytsent_correction_votes_total', {}, await recordVotes(c.env.TELEMETRY, config.clientIdPepper, { clientId: batch.client_id, network }, votes, now));
      }
    }
    return c.json({ batch_id: result.batch_id, accepted: result.accepted, duplicate: result.duplicate }, result.duplicate ? 200 : 202, {
      'Cache-Control': 'no-store',
    });
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

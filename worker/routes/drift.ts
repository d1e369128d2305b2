/**
 * Drift reports:
 *   GET /v1/drift?model_version=&window=          latest report (stored by the cron for the default
 *                                                  window; computed from hourly summaries otherwise)
 *   GET /v1/drift/history?model_version=&limit=   (read token) stored reports, newest first
 *   GET /v1/drift/alerts?model_version=&limit=    (read token) recorded drift alerts, newest first
 *
 * Each answer is kept for 60 s in the isolate (lib/response-cache.ts) and the parameters that
 * decide how many R2 objects one request reads are capped: a window or a history of at most a week.
 */
import { Hono, type Context } from 'hono';
import type { AppEnv } from '../env.js';
import { loadConfig } from '../env.js';
import { requireToken } from '../lib/auth.js';
import { ApiError } from '../lib/errors.js';
import { keys, listAll, mapLimit } from '../lib/keys.js';
import { DRIFT_CACHE_TTL_S, driftResponses } from '../lib/response-cache.js';
import type { z } from 'zod';
import { DriftReportSchema } from '../drift/aggregate.js';
import { getStored } from '../lib/stored.js';
import { AlertRecordSchema, computeReport, defaultVersion } from '../drift/pipeline.js';
import { getPublished } from '../registry/store.js';
import { intQuery, versionParam } from './params.js';

/** Upper bounds of the query parameters (hours of summaries, stored reports, alerts per request). */
export const DRIFT_LIMITS = { window_hours: 168, history: 168, alerts: 100 } as const;

const PUBLIC_CACHE = `public, max-age=${DRIFT_CACHE_TTL_S}`;
const PRIVATE_CACHE = `private, max-age=${DRIFT_CACHE_TTL_S}`;

export const driftRoutes = new Hono<AppEnv>();

async function versionQuery(c: Context<AppEnv>): Promise<string> {
  const q = c.req.query('model_version');
  if (q !== undefined && q !== '') return versionParam(q, 'model_version');
  const v = await defaultVersion(c.env);
  if (!v) throw new ApiError(404, 'no_default_version', `channel ${loadConfig(c.env).defaultChannel} has no version; pass model_version`);
  return v;
}

driftRoutes.get('/v1/drift', driftResponses.middleware(), async (c) => {
  const config = loadConfig(c.env);
  const version = await versionQuery(c);
  const window = intQuery(c.req.query('window'), 'window', config.driftWindowHours, 1, DRIFT_LIMITS.window_hours, 'h');
  if (!(await getPublished(c.env.MODELS, version))) throw new ApiError(404, 'unknown_version', `model version ${version} is not published`);
  if (window === config.driftWindowHours) {
    const stored = await getStored(c.env.TELEMETRY, keys.driftLatest(version), DriftReportSchema);
    if (stored) return c.json({ source: 'stored', ...stored }, 200, { 'Cache-Control': PUBLIC_CACHE });
  }
  const report = await computeReport(c.env, version, window, Date.now());
  if (!report) throw new ApiError(404, 'unknown_version', `model version ${version} is not published`);
  return c.json({ source: 'computed', ...report }, 200, { 'Cache-Control': PUBLIC_CACHE });
});

async function newest<S extends z.ZodType>(bucket: R2Bucket, prefix: string, limit: number, schema: S): Promise<Array<z.output<S>>> {
  const listed = (await listAll(bucket, prefix))
    .map((o) => o.key)
    .sort()
    .reverse()
    .slice(0, limit);
  const bodies = await mapLimit(listed, 16, (k) => getStored(bucket, k, schema));
  return bodies.filter((b) => b !== null);
}

driftRoutes.get('/v1/drift/history', requireToken('read'), driftResponses.middleware(), async (c) => {
  const version = await versionQuery(c);
  const limit = intQuery(c.req.query('limit'), 'limit', 48, 1, DRIFT_LIMITS.history);
  const reports = await newest(c.env.TELEMETRY, keys.driftHistoryPrefix(version), limit, DriftReportSchema);
  return c.json(
    {
      model_version: version,
      reports: reports.map((r) => ({
        generated_at: r.generated_at,
        window: r.window,
        verdict: r.verdict,
        n: r.n,
        skipped: r.skipped,
        tests: r.tests,
        label_shares: r.current.label_shares,
      })),
    },
    200,
    { 'Cache-Control': PRIVATE_CACHE },
  );
});

driftRoutes.get('/v1/drift/alerts', requireToken('read'), driftResponses.middleware(), async (c) => {
  const version = await versionQuery(c);
  const limit = intQuery(c.req.query('limit'), 'limit', 20, 1, DRIFT_LIMITS.alerts);
  return c.json({ model_version: version, alerts: await newest(c.env.TELEMETRY, keys.driftAlertPrefix(version), limit, AlertRecordSchema) }, 200, { 'Cache-Control': PRIVATE_CACHE });
});

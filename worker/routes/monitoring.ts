/**
 * Live monitoring (read token: they describe how each version does with real users):
 *   GET /v1/monitoring?model_version=                 latest report of a version (default: the default channel's)
 *   GET /v1/monitoring/history?model_version=&limit=  stored hourly reports, newest first
 *   GET /v1/channels/:channel/canary?limit=           the rollout in progress (or the last one) and its evaluated windows
 *   GET /v1/events?type=&model_version=&limit=        retraining recommendations and automatic rollbacks, newest first
 */
import { Hono, type Context } from 'hono';
import type { AppEnv } from '../env.js';
import { defaultVersion } from '../drift/pipeline.js';
import { loadConfig } from '../env.js';
import { requireToken } from '../lib/auth.js';
import { ApiError, badRequest } from '../lib/errors.js';
import { keys, listAll } from '../lib/keys.js';
import { loadWindows, type CanaryWindow } from '../monitoring/canary.js';
import { EVENT_TYPES, listEvents, type EventType } from '../monitoring/events.js';
import { latestMonitorReport, monitorHistory } from '../monitoring/report.js';
import { getChannel } from '../registry/channels.js';
import { channelParam, intQuery, versionParam } from './params.js';

export const monitoringRoutes = new Hono<AppEnv>();

const NO_STORE = { 'Cache-Control': 'no-store' };

async function versionQuery(c: Context<AppEnv>): Promise<string> {
  const q = c.req.query('model_version');
  if (q !== undefined && q !== '') return versionParam(q, 'model_version');
  const v = await defaultVersion(c.env);
  if (!v) throw new ApiError(404, 'no_default_version', `channel ${loadConfig(c.env).defaultChannel} has no version; pass model_version`);
  return v;
}

monitoringRoutes.get('/v1/monitoring', requireToken('read'), async (c) => {
  const version = await versionQuery(c);
  const report = await latestMonitorReport(c.env.TELEMETRY, version);
  if (!report) throw new ApiError(404, 'no_report', `no monitoring report for ${version} yet: the hourly job writes one for every version with aggregates or on a channel`);
  return c.json(report, 200, NO_STORE);
});

monitoringRoutes.get('/v1/monitoring/history', requireToken('read'), async (c) => {
  const version = await versionQuery(c);
  const limit = intQuery(c.req.query('limit'), 'limit', 48, 1, 168);
  return c.json({ model_version: version, reports: await monitorHistory(c.env.TELEMETRY, version, limit) }, 200, NO_STORE);
});

monitoringRoutes.get('/v1/channels/:channel/canary', requireToken('read'), async (c) => {
  const channel = channelParam(c.req.param('channel'));
  const limit = intQuery(c.req.query('limit'), 'limit', 48, 1, 168);
  const state = await getChannel(c.env.MODELS, channel);
  if (!state) throw new ApiError(404, 'unknown_channel', `channel ${channel} does not exist`);
  // The rollout in progress, else the most recent one the history knows of.
  const last = [...state.history].reverse().find((e) => e.action === 'canary');
  const candidate = state.candidate?.version ?? last?.to ?? null;
  const startedAt = state.candidate?.started_at ?? last?.at ?? null;
  let windows: CanaryWindow[] = [];
  if (candidate) {
    const listed = (await listAll(c.env.TELEMETRY, keys.canaryWindowPrefix(channel, candidate)))
      .map((o) => o.key)
      .sort()
      .reverse()
      .slice(0, limit);
    windows = (await loadWindows(c.env.TELEMETRY, listed)).filter((w) => w.started_at === startedAt);
  }
  const config = loadConfig(c.env).monitoring;
  return c.json(
    {
      channel,
      stable: state.version,
      candidate: state.candidate ?? null,
      last_rollout: candidate ? { version: candidate, started_at: startedAt } : null,
      thresholds: { window_hours: config.canaryWindowHours, bad_windows: config.canaryBadWindows, min_samples: config.canaryMinSamples, z: config.canaryZ, min_delta: config.canaryMinDelta },
      windows,
    },
    200,
    NO_STORE,
  );
});

monitoringRoutes.get('/v1/events', requireToken('read'), async (c) => {
  const type = c.req.query('type');
  if (type !== undefined && type !== '' && !(EVENT_TYPES as readonly string[]).includes(type)) {
    throw badRequest('invalid_query', `type must be one of ${EVENT_TYPES.join(', ')}`, [{ path: 'type', message: EVENT_TYPES.join(' | ') }]);
  }
  const q = c.req.query('model_version');
  const modelVersion = q !== undefined && q !== '' ? versionParam(q, 'model_version') : undefined;
  const limit = intQuery(c.req.query('limit'), 'limit', 20, 1, 100);
  const events = await listEvents(c.env.TELEMETRY, { type: type ? (type as EventType) : undefined, modelVersion, limit });
  return c.json({ events }, 200, NO_STORE);
});

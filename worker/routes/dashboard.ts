/**
 * GET /dashboard?model_version=&hours= (read token, also as a Basic password so a browser can ask
 * for it): self-contained HTML (see dashboard/render.ts).
 * Each view reads one summary and one report per hour shown, hence the token and the cap on hours.
 */
import { Hono } from 'hono';
import type { AppEnv } from '../env.js';
import { renderDashboard } from '../dashboard/render.js';
import { DriftReportSchema, type DriftReport } from '../drift/aggregate.js';
import { defaultVersion, loadSummaries } from '../drift/pipeline.js';
import { loadConfig } from '../env.js';
import { requireReadTokenOrBasic } from '../lib/auth.js';
import { loadWindows } from '../monitoring/canary.js';
import { latestMonitorReport, monitorHistory } from '../monitoring/report.js';
import { HOUR_MS, keys, listAll, mapLimit } from '../lib/keys.js';
import { listChannels } from '../registry/channels.js';
import { listPublished } from '../registry/store.js';
import { getStored } from '../lib/stored.js';
import { intQuery, versionParam } from './params.js';

export const dashboardRoutes = new Hono<AppEnv>();

/** Longest view: a week of hours. */
export const DASHBOARD_MAX_HOURS = 168;

dashboardRoutes.get('/dashboard', requireReadTokenOrBasic, async (c) => {
  const hours = intQuery(c.req.query('hours'), 'hours', 72, 1, DASHBOARD_MAX_HOURS);
  const q = c.req.query('model_version');
  const [models, channels, fallback] = await Promise.all([listPublished(c.env.MODELS), listChannels(c.env.MODELS), q ? null : defaultVersion(c.env)]);
  const version = q ? versionParam(q, 'model_version') : (fallback ?? models[0]?.version ?? null);
  const nowMs = Date.now();
  let summaries: Awaited<ReturnType<typeof loadSummaries>> = [];
  let reports: DriftReport[] = [];
  let latest: DriftReport | null = null;
  if (version) {
    const endMs = Math.floor(nowMs / HOUR_MS) * HOUR_MS + HOUR_MS;
    const historyKeys = (await listAll(c.env.TELEMETRY, keys.driftHistoryPrefix(version)))
      .map((o) => o.key)
      .sort()
      .slice(-hours);
    const [s, r, l] = await Promise.all([
      loadSummaries(c.env.TELEMETRY, version, endMs - hours * HOUR_MS, endMs),
      mapLimit(historyKeys, 16, (k) => getStored(c.env.TELEMETRY, k, DriftReportSchema)),
      getStored(c.env.TELEMETRY, keys.driftLatest(version), DriftReportSchema),
    ]);
    summaries = s;
    reports = r.filter((x): x is DriftReport => x !== null);
    latest = l;
  }
  // Live monitoring of the version, and every rollout with its latest comparison windows.
  const config = loadConfig(c.env);
  const [monitorLatest, monitorReports, rollouts] = await Promise.all([
    version ? latestMonitorReport(c.env.TELEMETRY, version) : null,
    version ? monitorHistory(c.env.TELEMETRY, version, hours) : [],
    Promise.all(
      channels
        .filter((ch) => ch.candidate)
        .map(async (ch) => {
          const cand = ch.candidate!;
          const windowKeys = (await listAll(c.env.TELEMETRY, keys.canaryWindowPrefix(ch.channel, cand.version)))
            .map((o) => o.key)
            .sort()
            .reverse()
            .slice(0, 12);
          const windows = (await loadWindows(c.env.TELEMETRY, windowKeys, 12)).filter((w) => w.started_at === cand.started_at);
          return { channel: ch.channel, stable: ch.version, candidate: cand.version, percent: cand.percent, started_at: cand.started_at, windows };
        }),
    ),
  ]);
  const page = renderDashboard({
    version,
    versions: [...new Set([...(version ? [version] : []), ...models.map((m) => m.version)])],
    channels: channels.map((ch) => ({ channel: ch.channel, version: ch.version, candidate: ch.candidate ?? null })),
    hours,
    nowMs,
    summaries,
    reports,
    latest,
    monitoring: {
      latest: monitorLatest,
      history: [...monitorReports].reverse(),
      rollouts,
      thresholds: { badWindows: config.monitoring.canaryBadWindows, qualityFloor: config.monitoring.retrainQualityFloor },
    },
  });
  return c.html(page, 200, {
    'Cache-Control': 'no-store',
    // Nothing on the page needs a script, a frame or a remote resource.
    'Content-Security-Policy': "default-src 'none'; style-src 'unsafe-inline'; img-src data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
    'X-Content-Type-Options': 'nosniff',
  });
});

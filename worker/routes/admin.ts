/**
 * Operator routes:
 *   GET  /v1/admin/export?kind=aggregates|samples|feedback&model_version=&from=&to=   (read token) stored NDJSON, streamed
 *   GET  /v1/admin/export?kind=corrections&min_clients=&from=&to=           (read token) agreed corrections, NDJSON
 *   POST /v1/admin/drift/run                                               (promote token) run the hourly job now
 */
import { Hono } from 'hono';
import type { AppEnv } from '../env.js';
import { loadConfig } from '../env.js';
import { requireToken } from '../lib/auth.js';
import { badRequest } from '../lib/errors.js';
import { HOUR_MS, hourKey, hourStart, hoursBetween, isHourKey } from '../lib/keys.js';
import { getHourStates } from '../telemetry/lanes.js';
import { runHourly } from '../drift/pipeline.js';
import { driftResponses } from '../lib/response-cache.js';
import { tallyCorrections } from '../telemetry/votes.js';
import { intQuery, versionParam } from './params.js';

export const adminRoutes = new Hono<AppEnv>();

/** Longest export range: a month of hourly partitions. */
const MAX_EXPORT_HOURS = 24 * 31;

function hourQuery(value: string | undefined, name: string, fallback: number): number {
  if (value === undefined || value === '') return fallback;
  if (!isHourKey(value)) throw badRequest('invalid_query', `${name} must be an hour like 2026-01-31T13`, [{ path: name, message: 'must be YYYY-MM-DDTHH (UTC)' }]);
  return hourStart(value);
}

adminRoutes.get('/v1/admin/export', requireToken('read'), async (c) => {
  const kind = c.req.query('kind') ?? 'samples';
  if (kind !== 'aggregates' && kind !== 'samples' && kind !== 'feedback' && kind !== 'corrections') {
    throw badRequest('invalid_query', 'kind must be aggregates, samples, feedback or corrections', [{ path: 'kind', message: 'aggregates | samples | feedback | corrections' }]);
  }
  if (kind === 'corrections') {
    // Only texts that enough distinct clients on distinct networks agree on (telemetry/votes.ts);
    // the totals travel in headers so the body stays one correction per line.
    const minClients = intQuery(c.req.query('min_clients'), 'min_clients', loadConfig(c.env).correctionMinClients, 1, 1000);
    // With from/to only the votes cast in those hours count: a range of ended hours then tallies
    // the same whenever it is exported (reproducible snapshots, training/collect.ts).
    const rawFrom = c.req.query('from');
    const rawTo = c.req.query('to');
    let range: { from: string; to: string } | null = null;
    if (rawFrom || rawTo) {
      const fromMs = hourQuery(rawFrom, 'from', 0);
      const toMs = hourQuery(rawTo, 'to', Math.floor(Date.now() / HOUR_MS) * HOUR_MS + HOUR_MS);
      if (toMs <= fromMs) throw badRequest('invalid_query', 'to must be after from', [{ path: 'to', message: 'must be after from' }]);
      range = { from: hourKey(fromMs), to: hourKey(toMs) };
    }
    const report = await tallyCorrections(c.env.TELEMETRY, minClients, range);
    const body = report.corrections.map((r) => JSON.stringify(r) + '\n').join('');
    return c.body(body, 200, {
      'Content-Type': 'application/x-ndjson; charset=utf-8',
      'Cache-Control': 'no-store',
      'Content-Disposition': `attachment; filename="corrections-min${minClients}.ndjson"`,
      'X-Corrections-Min-Clients': String(minClients),
      'X-Corrections-Texts': String(report.texts),
      'X-Corrections-Agreed': String(report.agreed),
      'X-Corrections-Conflicted': String(report.conflicted),
      'X-Corrections-Below-Threshold': String(report.below_threshold),
      ...(range ? { 'X-Corrections-From': range.from, 'X-Corrections-To': range.to } : {}),
    });
  }
  const version = versionParam(c.req.query('model_version'), 'model_version');
  const now = Date.now();
  const fromMs = hourQuery(c.req.query('from'), 'from', Math.floor(now / HOUR_MS) * HOUR_MS - 24 * HOUR_MS);
  const toMs = hourQuery(c.req.query('to'), 'to', Math.floor(now / HOUR_MS) * HOUR_MS + HOUR_MS);
  if (toMs <= fromMs) throw badRequest('invalid_query', 'to must be after from', [{ path: 'to', message: 'must be after from' }]);
  const hours = hoursBetween(fromMs, toMs);
  if (hours.length > MAX_EXPORT_HOURS) throw badRequest('invalid_query', `at most ${MAX_EXPORT_HOURS} hours per export`, [{ path: 'from', message: 'range too long' }]);

  const bucket = c.env.TELEMETRY;
  const lanes = loadConfig(c.env).ingestLanes;
  const encoder = new TextEncoder();
  const { readable, writable } = new TransformStream<Uint8Array, Uint8Array>();
  const pump = (async () => {
    const writer = writable.getWriter();
    try {
      // The lane states name every segment of the hour (telemetry/lanes.ts): no listing. A
      // segment holds every version's batches of its delivery; only this version's lines go out.
      for (const hour of hours) {
        for (const { state } of await getHourStates(bucket, hour, lanes)) {
          for (const segment of state.segments) {
            if (segment.kind !== kind || !segment.versions[version]) continue;
            const body = await bucket.get(segment.key);
            if (!body) {
              // Expired by its kind's R2 lifecycle rule (docs/DEPLOY.md) while the lane state, kept
              // longer, still names it: nothing left to export.
              console.warn(`export: segment ${segment.key} named by lane ${state.lane} of ${hour} is gone`);
              continue;
            }
            await writer.write(encoder.encode(linesOfVersion(await body.text(), version)));
          }
        }
      }
      await writer.close();
    } catch (e) {
      console.error('export failed', e);
      await writer.abort(e);
    }
  })();
  c.executionCtx.waitUntil(pump);
  return new Response(readable, {
    status: 200,
    headers: {
      'Content-Type': 'application/x-ndjson; charset=utf-8',
      'Cache-Control': 'no-store',
      'Content-Disposition': `attachment; filename="${kind}-${version}-${hourKey(fromMs)}-${hourKey(toMs)}.ndjson"`,
    },
  });
});

/** The lines of `ndjson` whose model_version is `version` (a line that does not parse is left out). */
function linesOfVersion(ndjson: string, version: string): string {
  let out = '';
  for (const line of ndjson.split('\n')) {
    if (line === '') continue;
    try {
      if ((JSON.parse(line) as { model_version?: unknown }).model_version === version) out += `${line}\n`;
    } catch {
      // Segments are written by the consumer from encoded batches; a broken line is not exported.
    }
  }
  return out;
}

adminRoutes.post('/v1/admin/drift/run', requireToken('promote'), async (c) => {
  const result = await runHourly(c.env, Date.now());
  driftResponses.clear();
  return c.json(
    {
      now: result.now,
      window: result.window,
      versions: result.versions.map((v) => ({
        model_version: v.model_version,
        folded_hours: v.folded_hours,
        verdict: v.report.verdict,
        n: v.report.n,
        alert: v.alert !== null,
      })),
      skipped: result.skipped,
      metrics_folded: result.metrics_folded,
      // Live monitoring of the same run: reports, rollout comparisons, retraining triggers.
      monitoring: result.monitoring,
    },
    200,
  );
});

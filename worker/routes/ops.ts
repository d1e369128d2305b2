/**
 * Operations: GET /health (public) and GET /metrics (read token; Prometheus text format 0.0.4).
 * /metrics reads every persisted counter and each version's drift report from R2: behind a token
 * so that nobody else can make the Worker do that on demand.
 */
import { Hono } from 'hono';
import type { AppEnv } from '../env.js';
import { DriftReportSchema } from '../drift/aggregate.js';
import { defaultVersion } from '../drift/pipeline.js';
import { requireToken } from '../lib/auth.js';
import { getStored } from '../lib/stored.js';
import { keys, listPrefixes, mapLimit } from '../lib/keys.js';
import { compareHistogramSamples, completeHistograms, familyOf, LATENCY_METRIC, LATENCY_QUANTILE_METRIC, latencyQuantiles } from '../lib/latency.js';
import { compactMetrics, metricName, metrics, readCounters, seriesKey } from '../lib/metrics.js';
import { MONITORING_HELP, monitoringGauges } from '../monitoring/metrics.js';

const startedAt = Date.now();

export const opsRoutes = new Hono<AppEnv>();

opsRoutes.get('/health', async (c) => {
  const model_version = await defaultVersion(c.env);
  return c.json({ status: 'ok', model_version, uptime_s: Math.round((Date.now() - startedAt) / 1000) }, 200, { 'Cache-Control': 'no-store' });
});

const HELP: Record<string, [type: 'counter' | 'gauge' | 'histogram', help: string]> = {
  ytsent_http_requests_total: ['counter', 'HTTP requests by route pattern, method and status.'],
  [LATENCY_METRIC]: ['histogram', 'Request latency per route pattern as the Worker measures it (its clock advances across I/O only, so CPU time reads as 0).'],
  [LATENCY_QUANTILE_METRIC]: ['gauge', 'p50, p95 and p99 request latency per route pattern, estimated from the histogram buckets counted so far.'],
  ytsent_predictions_total: ['counter', 'Comments scored by POST /v1/predict, by model version and whether the answer came from the cache (hit) or the model (miss).'],
  ytsent_batches_total: ['counter', 'Telemetry batches stored (accepted) or recognized as already stored (duplicate).'],
  ytsent_samples_accepted_total: ['counter', 'Telemetry items stored, by kind.'],
  ytsent_batches_rejected_total: ['counter', 'Telemetry batches rejected, by kind and reason (the error code).'],
  ytsent_samples_rejected_total: ['counter', 'Items in rejected telemetry batches (when the body had an items array), by kind and reason.'],
  ytsent_correction_votes_total: ['counter', 'Correction votes recorded (one per feedback item, distinct texts per batch).'],
  ytsent_scrubbed_total: ['counter', 'Identifiers replaced by the server-side scrubber, by kind of telemetry and of identifier (email, url, handle, phone, card, iban).'],
  ytsent_model_bytes_served_total: ['counter', 'Model file bytes sent (200 and 206 responses).'],
  ytsent_models_published_total: ['counter', 'Model versions published.'],
  ytsent_summaries_folded_total: ['counter', 'Hourly summaries of on-device aggregates written by the drift job.'],
  ytsent_cron_runs_total: ['counter', 'Runs of the hourly drift job.'],
  ytsent_drift_alerts_total: ['counter', 'Drift alerts recorded (one per model version and hour in drift).'],
  ytsent_drift_webhook_total: ['counter', 'Drift webhook deliveries by outcome.'],
  ytsent_drift_status: ['gauge', 'Latest drift verdict per model version (1 for the current verdict, 0 for the others).'],
  ytsent_drift_value: ['gauge', 'Latest drift test value per model version and test (KS: the p-value).'],
  ytsent_drift_threshold: ['gauge', 'Threshold of each drift test.'],
  ytsent_drift_window_samples: ['gauge', 'Comments counted by the aggregates in the latest drift report window, per model version.'],
  ytsent_drift_report_timestamp_seconds: ['gauge', 'When the latest drift report per model version was generated.'],
  ...MONITORING_HELP,
};

const VERDICTS = ['ok', 'warn', 'drift', 'insufficient_data', 'no_reference'] as const;

async function driftGauges(bucket: R2Bucket): Promise<Record<string, number>> {
  const versions = await listPrefixes(bucket, keys.driftPrefix);
  const reports = await mapLimit(versions, 8, (v) => getStored(bucket, keys.driftLatest(v), DriftReportSchema));
  const out: Record<string, number> = {};
  for (const r of reports) {
    if (!r) continue;
    const v = r.model_version;
    for (const verdict of VERDICTS) out[seriesKey('ytsent_drift_status', { model_version: v, verdict })] = r.verdict === verdict ? 1 : 0;
    out[seriesKey('ytsent_drift_window_samples', { model_version: v })] = r.n;
    out[seriesKey('ytsent_drift_report_timestamp_seconds', { model_version: v })] = Math.floor(Date.parse(r.generated_at) / 1000);
    for (const [test, t] of Object.entries(r.tests ?? {})) {
      const value = 'value' in t ? t.value : t.p_value;
      out[seriesKey('ytsent_drift_value', { model_version: v, test })] = value;
      out[seriesKey('ytsent_drift_threshold', { test })] = t.threshold;
    }
  }
  return out;
}

function formatValue(v: number): string {
  if (Number.isNaN(v)) return 'NaN';
  if (v === Infinity) return '+Inf';
  if (v === -Infinity) return '-Inf';
  return String(v);
}

const HISTOGRAMS = new Set(Object.keys(HELP).filter((name) => HELP[name]![0] === 'histogram'));

/**
 * Prometheus text exposition: series grouped by metric with HELP and TYPE lines; a histogram's
 * _bucket, _sum and _count samples under its family name, buckets in rising `le` order.
 */
export function exposition(series: Record<string, number>): string {
  const byName = new Map<string, string[]>();
  for (const key of Object.keys(series).sort()) {
    const name = familyOf(metricName(key), HISTOGRAMS);
    if (!byName.has(name)) byName.set(name, []);
    byName.get(name)!.push(key);
  }
  const lines: string[] = [];
  for (const [name, members] of byName) {
    const [type, help] = HELP[name] ?? ['untyped', name];
    if (type === 'histogram') members.sort(compareHistogramSamples);
    lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`, ...members.map((key) => `${key} ${formatValue(series[key]!)}`));
  }
  return lines.join('\n') + '\n';
}

opsRoutes.get('/metrics', requireToken('read'), async (c) => {
  const bucket = c.env.TELEMETRY;
  // This isolate's own increments become visible (persisted) before the read; other isolates'
  // arrive within METRICS_FLUSH_MS.
  await metrics.flushNow(bucket);
  const [counters, gauges, monitoring] = await Promise.all([readCounters(bucket), driftGauges(bucket), monitoringGauges(bucket, c.env.MODELS)]);
  Object.assign(gauges, monitoring);
  const series = completeHistograms(counters.series);
  Object.assign(gauges, latencyQuantiles(series));
  // Keep the number of delta objects small between hourly compactions, off the response path.
  if (counters.compactable >= 100) {
    try {
      c.executionCtx.waitUntil(compactMetrics(bucket).catch((e: unknown) => console.warn('metrics compaction failed', e)));
    } catch {
      // no execution context
    }
  }
  return c.body(exposition({ ...series, ...gauges }), 200, {
    'Content-Type': 'text/plain; version=0.0.4; charset=utf-8',
    'Cache-Control': 'no-store',
  });
});

/**
 * The hourly drift job and the R2 side of drift: fold partitions of on-device aggregates into
 * summaries, build and store reports, record alerts, call the webhook. Per-comment samples (consent
 * "text") are retraining data and never enter drift: every install that scores comments under
 * either consent sends aggregates, so counting samples too would count those comments twice.
 *
 * Idempotent by construction: a summary is keyed by (version, hour) and records a digest of the
 * lane states it summed (lanes + etags). Re-running overwrites it with the same counts; an hour
 * whose lanes changed since (a late delivery, see telemetry/consumer.ts) is re-summed from scratch,
 * so aggregates are never counted twice or missed. Reports are keyed by the hour their window ends, so a
 * re-run in the same hour overwrites its report and cannot raise a second alert.
 */
import { loadConfig, type Config, type Env } from '../env.js';
import { sha256Hex } from '../lib/hash.js';
import { HOUR_MS, hourKey, hourStart, hoursBetween, keys, listAll, type HourKey } from '../lib/keys.js';
import { HourStates, statesFingerprint } from '../telemetry/lanes.js';
import { compactMetrics, metrics } from '../lib/metrics.js';
import { WEBHOOK_SIGNATURE_HEADER, WEBHOOK_TIMEOUT_MS, signWebhookBody, webhookFailure } from '../lib/webhook.js';
import { runMonitoring, type MonitoringRun } from '../monitoring/job.js';
import { getChannel, listChannels } from '../registry/channels.js';
import { getPublished } from '../registry/store.js';
import { z } from 'zod';
import { getStored } from '../lib/stored.js';
import { WebhookOutcomeSchema } from '../monitoring/events.js';
import { addSummary, buildReport, DriftReportSchema, emptySummary, type DriftReport } from './aggregate.js';
import { FOLD_GRACE_MS, loadSummaries, reportWindow } from './summaries.js';

export { FOLD_GRACE_MS, loadSummaries, reportWindow } from './summaries.js';

export { WEBHOOK_TIMEOUT_MS };

/**
 * Folds every hour of [fromMs, toMs) whose lane states changed since its summary: completed hours
 * only, unless `includeCurrent`. The ingest consumers keep each lane's hourly sum of the
 * aggregates (telemetry/lanes.ts), so an hour costs one read per lane whatever its traffic, and
 * no raw object is listed or read. Returns the hours (re)folded.
 */
export async function foldHours(bucket: R2Bucket, states: HourStates, version: string, fromMs: number, toMs: number, now: number, includeCurrent = false): Promise<HourKey[]> {
  const hours = hoursBetween(fromMs, toMs).filter((h) => includeCurrent || hourStart(h) + HOUR_MS + FOLD_GRACE_MS <= now);
  if (hours.length === 0) return [];
  const existing = new Map<string, string>();
  const listed = await listAll(bucket, keys.summaryPrefix(version), {
    startAfter: keys.summary(version, hourKey(hourStart(hours[0]!) - HOUR_MS)),
    include: ['customMetadata'],
  });
  for (const o of listed) existing.set(o.key, o.customMetadata?.digest ?? '');

  const folded: HourKey[] = [];
  for (const hour of hours) {
    // Heads decide (metadata only); bodies are read only for an hour summed again.
    const heads = (await states.heads(hour)).filter((h) => h.aggregates === null || h.aggregates.includes(version));
    if (heads.length === 0) continue;
    const digest = await sha256Hex(statesFingerprint(heads));
    if (existing.get(keys.summary(version, hour)) === digest) continue;
    const lanes = (await states.get(hour)).filter((s) => heads.some((h) => h.lane === s.lane) && Object.hasOwn(s.state.aggregates, version));
    if (lanes.length === 0) continue;
    const summary = emptySummary(version, hour);
    for (const { state } of lanes) addSummary(summary, state.aggregates[version]!);
    summary.source = { objects: lanes.length, digest };
    summary.folded_at = new Date(now).toISOString();
    await bucket.put(keys.summary(version, hour), JSON.stringify(summary), {
      httpMetadata: { contentType: 'application/json' },
      customMetadata: { digest, n: String(summary.n) },
    });
    folded.push(hour);
  }
  return folded;
}

/** Model versions with aggregates in any lane of the hours of [fromMs, toMs). */
async function versionsWithAggregates(states: HourStates, fromMs: number, toMs: number): Promise<string[]> {
  const found = new Set<string>();
  for (const hour of hoursBetween(fromMs, toMs)) {
    const heads = await states.heads(hour);
    for (const h of heads) for (const v of h.aggregates ?? []) found.add(v);
    // A state whose version list did not fit its metadata is read.
    if (heads.some((h) => h.aggregates === null)) for (const s of await states.get(hour)) for (const v of Object.keys(s.state.aggregates)) found.add(v);
  }
  return [...found];
}

/** A report computed from the stored summaries (nothing written). */
export async function computeReport(env: Env, version: string, windowHours: number, now: number): Promise<DriftReport | null> {
  const published = await getPublished(env.MODELS, version);
  if (!published) return null;
  const config = loadConfig(env);
  const window = reportWindow(now, windowHours, config.driftIncludeCurrentHour);
  const summaries = await loadSummaries(env.TELEMETRY, version, window.fromMs, window.toMs);
  return buildReport({
    modelVersion: version,
    summaries,
    reference: published.manifest.reference,
    thresholds: { min_samples: config.driftMinSamples },
    window,
    generatedAt: now,
  });
}

export interface AlertRecord {
  model_version: string;
  hour: HourKey;
  recorded_at: string;
  verdict: 'drift';
  n: number;
  failing: string[];
  /** `error` is a category (timeout | network), never exception text. */
  webhook: { attempted: boolean; ok?: boolean; status?: number; error?: 'timeout' | 'network' };
}

/** A stored alert, read back with this (worker/lib/stored.ts). */
export const AlertRecordSchema: z.ZodType<AlertRecord> = z.looseObject({
  model_version: z.string(),
  hour: z.string(),
  recorded_at: z.string(),
  verdict: z.literal('drift'),
  n: z.number(),
  failing: z.array(z.string()),
  webhook: WebhookOutcomeSchema,
});

function failingTests(report: DriftReport): string[] {
  return report.tests
    ? Object.entries(report.tests)
        .filter(([, t]) => t.verdict === 'drift')
        .map(([name]) => name)
    : [];
}

async function callWebhook(url: string, secret: string, report: DriftReport, failing: string[]): Promise<AlertRecord['webhook']> {
  // Signed over these exact bytes (lib/webhook.ts): a receiver can tell our alerts from forgeries.
  const body = JSON.stringify({
    event: 'model_drift',
    model_version: report.model_version,
    verdict: report.verdict,
    generated_at: report.generated_at,
    window: report.window,
    n: report.n,
    failing,
    tests: report.tests,
    report: `/v1/drift?model_version=${encodeURIComponent(report.model_version)}`,
  });
  try {
    const res = await fetch(url, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', 'User-Agent': 'ytsent-drift/1', [WEBHOOK_SIGNATURE_HEADER]: await signWebhookBody(secret, body) },
      body,
      signal: AbortSignal.timeout(WEBHOOK_TIMEOUT_MS),
    });
    // Drain the body so the connection is released.
    await res.arrayBuffer().catch(() => undefined);
    if (!res.ok) console.warn(`drift webhook answered ${res.status}`);
    return { attempted: true, ok: res.ok, status: res.status };
  } catch (e) {
    // The exception's text goes to the log only: alerts are served to API clients.
    console.warn('drift webhook failed (not fatal)', e);
    return { attempted: true, ok: false, error: webhookFailure(e) };
  }
}

export interface VersionRun {
  model_version: string;
  folded_hours: HourKey[];
  report: DriftReport;
  alert: AlertRecord | null;
}

/** Stores a report as latest + history; on drift records the hour's alert and maybe calls the webhook. */
export async function storeReport(bucket: R2Bucket, config: Config, report: DriftReport): Promise<AlertRecord | null> {
  const version = report.model_version;
  const hour = hourKey(Date.parse(report.window.to) - HOUR_MS);
  // A broken previous report stops the run here: it is not overwritten before someone looks.
  const previousVerdict = (await getStored(bucket, keys.driftLatest(version), DriftReportSchema))?.verdict ?? null;
  const body = JSON.stringify(report);
  const meta = { httpMetadata: { contentType: 'application/json' }, customMetadata: { verdict: report.verdict, n: String(report.n) } };
  await bucket.put(keys.driftHistory(version, hour), body, meta);
  await bucket.put(keys.driftLatest(version), body, meta);
  if (report.verdict !== 'drift') return null;

  const failing = failingTests(report);
  const alert: AlertRecord = {
    model_version: version,
    hour,
    recorded_at: report.generated_at,
    verdict: 'drift',
    n: report.n,
    failing,
    webhook: { attempted: false },
  };
  const created = await bucket.put(keys.driftAlert(version, hour), JSON.stringify(alert), {
    onlyIf: { etagDoesNotMatch: '*' },
    httpMetadata: { contentType: 'application/json' },
  });
  if (created === null) return null; // this hour's alert exists: a re-run raises nothing new
  metrics.inc('ytsent_drift_alerts_total', { model_version: version });
  // Notify on entering drift, not every hour it persists (the alert history keeps every hour).
  if (config.webhookUrl && previousVerdict !== 'drift') {
    alert.webhook = await callWebhook(config.webhookUrl, config.webhookSecret!, report, failing);
    metrics.inc('ytsent_drift_webhook_total', { outcome: alert.webhook.ok ? 'ok' : 'failed' });
    await bucket.put(keys.driftAlert(version, hour), JSON.stringify(alert), { httpMetadata: { contentType: 'application/json' } });
  }
  return alert;
}

export interface CronResult {
  now: string;
  window: { from: string; to: string };
  versions: VersionRun[];
  skipped: Array<{ model_version: string; reason: string }>;
  metrics_folded: number;
  /** Live monitoring, canary comparisons and retraining triggers of this run (monitoring/job.ts); null if it failed. */
  monitoring: MonitoringRun | null;
}

/** The hourly job: fold, report, alert for every version with aggregates or on a channel; compact metrics. */
export async function runHourly(env: Env, now: number): Promise<CronResult> {
  const config = loadConfig(env);
  const window = reportWindow(now, config.driftWindowHours, config.driftIncludeCurrentHour);
  // Every lane state of the window is read once per run, shared by the drift and quality folds.
  const states = new HourStates(env.TELEMETRY, config.ingestLanes);
  const [aggregateVersions, channels] = await Promise.all([versionsWithAggregates(states, window.fromMs, window.toMs), listChannels(env.MODELS)]);
  // A rollout's candidate is served too: it gets summaries and reports like a stable version.
  const onChannel = new Set(channels.flatMap((c) => [c.version, ...(c.candidate ? [c.candidate.version] : [])]));
  const versions = [...new Set([...aggregateVersions, ...onChannel])].sort();
  const result: CronResult = {
    now: new Date(now).toISOString(),
    window: { from: new Date(window.fromMs).toISOString(), to: new Date(window.toMs).toISOString() },
    versions: [],
    skipped: [],
    metrics_folded: 0,
    monitoring: null,
  };
  for (const version of versions) {
    try {
      const published = await getPublished(env.MODELS, version);
      if (!published) {
        result.skipped.push({ model_version: version, reason: 'not a published version' });
        continue;
      }
      const folded = await foldHours(env.TELEMETRY, states, version, window.fromMs, window.toMs, now, config.driftIncludeCurrentHour);
      metrics.inc('ytsent_summaries_folded_total', {}, folded.length);
      const summaries = await loadSummaries(env.TELEMETRY, version, window.fromMs, window.toMs);
      if (summaries.length === 0 && !onChannel.has(version)) {
        result.skipped.push({ model_version: version, reason: 'no aggregates in the window and not on a channel' });
        continue;
      }
      const report = buildReport({
        modelVersion: version,
        summaries,
        reference: published.manifest.reference,
        thresholds: { min_samples: config.driftMinSamples },
        window,
        generatedAt: now,
      });
      const alert = await storeReport(env.TELEMETRY, config, report);
      result.versions.push({ model_version: version, folded_hours: folded, report, alert });
    } catch (e) {
      // One broken version must not stop the others' reports.
      console.error(`drift run failed for ${version}`, e);
      // The cause is logged above; the result is returned to API clients.
      result.skipped.push({ model_version: version, reason: 'error (see the Worker log)' });
    }
  }
  try {
    result.monitoring = await runMonitoring(env, config, now, window, new Map(result.versions.map((v) => [v.model_version, v.report])), states);
  } catch (e) {
    // Drift reports are stored already; monitoring failing must not fail them.
    console.error('monitoring run failed', e);
  }
  metrics.inc('ytsent_cron_runs_total');
  await metrics.flush(env.TELEMETRY);
  // Metrics compaction runs on the wall clock, never on the (possibly simulated) scheduled time:
  // folding "through" a future instant would hide every delta written before that instant.
  result.metrics_folded = (await compactMetrics(env.TELEMETRY, Date.now())).folded;
  return result;
}

/** Default model version: the default channel's current version. */
export async function defaultVersion(env: Env): Promise<string | null> {
  return (await getChannel(env.MODELS, loadConfig(env).defaultChannel))?.version ?? null;
}

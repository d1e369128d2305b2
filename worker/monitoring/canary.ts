/**
 * Automatic canary rollback. Every hourly run compares, on each channel with a rollout in
 * progress, the candidate with the stable version over the latest window of CANARY_WINDOW_HOURS
 * (aligned blocks of UTC hours, keyed by their end) and records the comparison. A window is
 * **worse** when either
 * - its correction rate is higher than stable's by a one-sided two-proportion z-test
 *   (z ≥ CANARY_Z) **and** by at least CANARY_MIN_DELTA, with at least CANARY_MIN_SAMPLES scored
 *   comments in each arm; or
 * - its predictions drift from its training reference (the drift report of the window says
 *   `drift`) while stable's, in the same window, do not (`ok` or `warn`): a shift of the whole
 *   audience moves both, and going back to stable would not help then.
 * A window where neither comparison has enough data is `insufficient_data`; otherwise `ok`.
 *
 * When the last CANARY_BAD_WINDOWS evaluated windows of this rollout are worse (windows without
 * enough data are skipped, an `ok` window resets the count), the channel goes back to stable
 * (candidate cleared, stable untouched), the channel history says why with the failing windows
 * as evidence, and a `canary-rollback` event is stored and sent to the alert webhook.
 *
 * Re-running an hour re-evaluates its window (same data, same record) and cannot roll back twice:
 * the rollback is a compare-and-swap that only ends the rollout it evaluated.
 */
import { z } from 'zod';
import { buildReport, ReportVerdictSchema, type DriftReport, type HourSummary } from '../drift/aggregate.js';
import { FOLD_GRACE_MS, loadSummaries } from '../drift/summaries.js';
import type { Config } from '../env.js';
import { HOUR_MS, hourKey, keys, listAll, mapLimit } from '../lib/keys.js';
import { metrics } from '../lib/metrics.js';
import { getStored, jsonNumber } from '../lib/stored.js';
import { twoProportionTest, offDiagonal } from '../../core/monitoring.js';
import { autoRollback, type ChannelState } from '../registry/channels.js';
import { getPublished } from '../registry/store.js';
import { eventId, raiseEvent, type MonitoringEvent } from './events.js';
import { loadQuality, sumQuality, type QualitySummary } from './quality.js';

export const CANARY_SCHEMA = 1;

export type WindowVerdict = 'worse' | 'ok' | 'insufficient_data';

export interface ArmStats {
  version: string;
  /** Comments scored by text-consent installs (sample rows). */
  samples: number;
  /** Corrections that changed the label. */
  corrections: number;
  correction_rate: number | null;
  /** Comments in the arm's aggregates. */
  comments: number;
  drift_verdict: DriftReport['verdict'];
}

export interface CanaryWindow {
  schema: typeof CANARY_SCHEMA;
  channel: string;
  candidate: string;
  stable: string;
  /** The rollout this window belongs to. */
  started_at: string;
  percent: number;
  window: { hours: number; from: string; to: string };
  evaluated_at: string;
  arms: { stable: ArmStats; candidate: ArmStats };
  tests: {
    correction_rate: { verdict: WindowVerdict; z: number | null; p_value: number | null; diff: number | null; z_threshold: number; min_delta: number; min_samples: number };
    drift: { verdict: WindowVerdict; candidate: DriftReport['verdict']; stable: DriftReport['verdict'] };
  };
  verdict: WindowVerdict;
}

const WindowVerdictSchema = z.enum(['worse', 'ok', 'insufficient_data']);
const ArmStatsSchema = z.looseObject({
  version: z.string(),
  samples: z.number(),
  corrections: z.number(),
  correction_rate: z.number().nullable(),
  comments: z.number(),
  drift_verdict: ReportVerdictSchema,
});
const NullableNumber = z.union([z.number(), z.null()]);

/** A stored window, read back with this (worker/lib/stored.ts). */
export const CanaryWindowSchema: z.ZodType<CanaryWindow> = z.looseObject({
  schema: z.literal(CANARY_SCHEMA),
  channel: z.string(),
  candidate: z.string(),
  stable: z.string(),
  started_at: z.string(),
  percent: z.number(),
  window: z.looseObject({ hours: z.number(), from: z.string(), to: z.string() }),
  evaluated_at: z.string(),
  arms: z.looseObject({ stable: ArmStatsSchema, candidate: ArmStatsSchema }),
  tests: z.looseObject({
    correction_rate: z.looseObject({
      verdict: WindowVerdictSchema,
      z: NullableNumber,
      p_value: NullableNumber,
      diff: NullableNumber,
      z_threshold: jsonNumber,
      min_delta: jsonNumber,
      min_samples: z.number(),
    }),
    drift: z.looseObject({ verdict: WindowVerdictSchema, candidate: ReportVerdictSchema, stable: ReportVerdictSchema }),
  }),
  verdict: WindowVerdictSchema,
});

/** The stored windows at `keyList` (missing ones left out), each parsed with its schema. */
export async function loadWindows(bucket: R2Bucket, keyList: string[], concurrency = 16): Promise<CanaryWindow[]> {
  return (await mapLimit(keyList, concurrency, (k) => getStored(bucket, k, CanaryWindowSchema))).filter((w): w is CanaryWindow => w !== null);
}

export interface ArmInput {
  version: string;
  summaries: readonly HourSummary[];
  quality: readonly QualitySummary[];
  drift: DriftReport;
}

/** The comparison of one window (pure; see the module comment for the rules). */
export function evaluateWindow(
  state: { channel: string; stable: string; candidate: { version: string; percent: number; started_at: string } },
  window: { hours: number; fromMs: number; toMs: number },
  arms: { stable: ArmInput; candidate: ArmInput },
  thresholds: Config['monitoring'],
  evaluatedAt: number,
): CanaryWindow {
  const stats = (a: ArmInput): ArmStats => {
    const q = sumQuality(a.quality);
    const corrections = Math.min(offDiagonal(q.corrections), q.samples);
    return {
      version: a.version,
      samples: q.samples,
      corrections,
      correction_rate: q.samples > 0 ? corrections / q.samples : null,
      comments: a.summaries.reduce((n, s) => n + s.n, 0),
      drift_verdict: a.drift.verdict,
    };
  };
  const s = stats(arms.stable);
  const c = stats(arms.candidate);

  const enough = s.samples >= thresholds.canaryMinSamples && c.samples >= thresholds.canaryMinSamples;
  const test = enough ? twoProportionTest(c.corrections, c.samples, s.corrections, s.samples) : null;
  const rateVerdict: WindowVerdict = !test ? 'insufficient_data' : test.z >= thresholds.canaryZ && test.diff >= thresholds.canaryMinDelta ? 'worse' : 'ok';

  const comparable = (v: DriftReport['verdict']) => v === 'ok' || v === 'warn' || v === 'drift';
  const driftVerdict: WindowVerdict = !comparable(c.drift_verdict) || !comparable(s.drift_verdict) ? 'insufficient_data' : c.drift_verdict === 'drift' && s.drift_verdict !== 'drift' ? 'worse' : 'ok';

  const verdict: WindowVerdict = rateVerdict === 'worse' || driftVerdict === 'worse' ? 'worse' : rateVerdict === 'ok' || driftVerdict === 'ok' ? 'ok' : 'insufficient_data';
  return {
    schema: CANARY_SCHEMA,
    channel: state.channel,
    candidate: state.candidate.version,
    stable: state.stable,
    started_at: state.candidate.started_at,
    percent: state.candidate.percent,
    window: { hours: window.hours, from: new Date(window.fromMs).toISOString(), to: new Date(window.toMs).toISOString() },
    evaluated_at: new Date(evaluatedAt).toISOString(),
    arms: { stable: s, candidate: c },
    tests: {
      correction_rate: {
        verdict: rateVerdict,
        z: test?.z ?? null,
        p_value: test?.p_value ?? null,
        diff: test?.diff ?? null,
        z_threshold: thresholds.canaryZ,
        min_delta: thresholds.canaryMinDelta,
        min_samples: thresholds.canaryMinSamples,
      },
      drift: { verdict: driftVerdict, candidate: c.drift_verdict, stable: s.drift_verdict },
    },
    verdict,
  };
}

/**
 * The window a run at `now` evaluates: the last complete block of `hours` UTC hours (blocks start
 * at multiples of `hours` hours since the epoch), or, with `includeCurrent` (local development),
 * the block holding the hour in progress, re-evaluated as it fills.
 */
export function canaryWindow(now: number, hours: number, includeCurrent: boolean): { hours: number; fromMs: number; toMs: number } {
  const block = hours * HOUR_MS;
  const toMs = includeCurrent ? Math.ceil((Math.floor(now / HOUR_MS) * HOUR_MS + HOUR_MS) / block) * block : Math.floor((now - FOLD_GRACE_MS) / block) * block;
  return { hours, fromMs: toMs - block, toMs };
}

/**
 * How many of this rollout's latest evaluated windows are worse in a row (newest first; windows
 * without enough data are skipped, an `ok` one ends the run), and those windows.
 */
export function badStreak(windows: readonly CanaryWindow[], startedAt: string): { count: number; windows: CanaryWindow[] } {
  const mine = windows.filter((w) => w.started_at === startedAt).sort((a, b) => (a.window.to < b.window.to ? 1 : -1));
  const bad: CanaryWindow[] = [];
  for (const w of mine) {
    if (w.verdict === 'insufficient_data') continue;
    if (w.verdict === 'ok') break;
    bad.push(w);
  }
  return { count: bad.length, windows: bad };
}

async function armInput(env: { TELEMETRY: R2Bucket; MODELS: R2Bucket }, config: Config, version: string, window: { hours: number; fromMs: number; toMs: number }, now: number): Promise<ArmInput> {
  const [summaries, quality, published] = await Promise.all([
    loadSummaries(env.TELEMETRY, version, window.fromMs, window.toMs),
    loadQuality(env.TELEMETRY, version, window.fromMs, window.toMs),
    getPublished(env.MODELS, version),
  ]);
  const drift = buildReport({ modelVersion: version, summaries, reference: published?.manifest.reference, thresholds: { min_samples: config.driftMinSamples }, window, generatedAt: now });
  return { version, summaries, quality, drift };
}

export interface CanaryRun {
  channel: string;
  candidate: string;
  window: CanaryWindow;
  bad_windows: number;
  rolled_back: boolean;
  event: MonitoringEvent | null;
}

/** Evaluates the rollout on `state` for the run at `now`; rolls it back when its streak is long enough. */
export async function checkCanary(env: { TELEMETRY: R2Bucket; MODELS: R2Bucket }, config: Config, state: ChannelState, now: number): Promise<CanaryRun | null> {
  const candidate = state.candidate;
  if (!candidate) return null;
  const t = config.monitoring;
  const window = canaryWindow(now, t.canaryWindowHours, config.driftIncludeCurrentHour);
  // A window that ended before the rollout began measured nothing of it.
  if (window.toMs <= Date.parse(candidate.started_at)) return null;
  const [stableArm, candidateArm] = await Promise.all([armInput(env, config, state.version, window, now), armInput(env, config, candidate.version, window, now)]);
  const record = evaluateWindow({ channel: state.channel, stable: state.version, candidate }, window, { stable: stableArm, candidate: candidateArm }, t, now);
  await env.TELEMETRY.put(keys.canaryWindow(state.channel, candidate.version, hourKey(window.toMs - HOUR_MS)), JSON.stringify(record), { httpMetadata: { contentType: 'application/json' } });

  const listed = await listAll(env.TELEMETRY, keys.canaryWindowPrefix(state.channel, candidate.version));
  // Enough of the newest windows to find a streak through windows without data.
  const recent = listed
    .map((o) => o.key)
    .sort()
    .slice(-(t.canaryBadWindows * 4 + 24));
  const windows = await loadWindows(env.TELEMETRY, recent);
  const streak = badStreak(windows, candidate.started_at);
  const run: CanaryRun = { channel: state.channel, candidate: candidate.version, window: record, bad_windows: streak.count, rolled_back: false, event: null };
  if (streak.count < t.canaryBadWindows) return run;

  const failing = [...new Set(streak.windows.flatMap((w) => (['correction_rate', 'drift'] as const).filter((k) => w.tests[k].verdict === 'worse')))];
  const reason = `${candidate.version} was worse than ${state.version} in ${streak.count} consecutive ${t.canaryWindowHours}-hour windows (${failing.join(' and ')})`;
  const evidence = {
    thresholds: { windows: t.canaryBadWindows, z: t.canaryZ, min_delta: t.canaryMinDelta, min_samples: t.canaryMinSamples, window_hours: t.canaryWindowHours },
    windows: streak.windows.map((w) => ({
      from: w.window.from,
      to: w.window.to,
      failing: (['correction_rate', 'drift'] as const).filter((k) => w.tests[k].verdict === 'worse'),
      stable: { samples: w.arms.stable.samples, corrections: w.arms.stable.corrections, drift: w.arms.stable.drift_verdict },
      candidate: { samples: w.arms.candidate.samples, corrections: w.arms.candidate.corrections, drift: w.arms.candidate.drift_verdict },
      z: w.tests.correction_rate.z,
    })),
  };
  const result = await autoRollback(env.MODELS, state.channel, candidate, reason, evidence, new Date(now));
  if (!result?.changed) return run;
  run.rolled_back = true;
  metrics.inc('ytsent_canary_rollbacks_total', { channel: state.channel });
  const hour = hourKey(window.toMs - HOUR_MS);
  run.event = await raiseEvent(env.TELEMETRY, config, {
    id: eventId(hour, 'canary-rollback', `${state.channel}-${candidate.version}`),
    type: 'canary-rollback',
    hour,
    recorded_at: new Date(now).toISOString(),
    model_version: candidate.version,
    channel: state.channel,
    payload: {
      event: 'canary_rollback',
      channel: state.channel,
      candidate: candidate.version,
      stable: state.version,
      percent_before: candidate.percent,
      generated_at: new Date(now).toISOString(),
      reason,
      failing,
      evidence,
      history: `/v1/channels/${state.channel}/history`,
    },
  });
  return run;
}

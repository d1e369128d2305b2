/**
 * The monitoring part of the hourly job (run by drift/pipeline.ts `runHourly` right after the drift
 * reports, so it reads the summaries and reports of the same run):
 * 1. fold each version's samples and corrections of the window into hourly quality summaries;
 * 2. build and store each version's monitoring report (report.ts);
 * 3. compare every rollout's candidate with its stable version and roll back a worse one (canary.ts);
 * 4. recommend retraining where drift or a quality drop persists (retrain.ts).
 * Each step is isolated per version and channel: one failure is logged and reported, the rest run.
 */
import type { DriftReport } from '../drift/aggregate.js';
import { loadSummaries } from '../drift/summaries.js';
import type { Config, Env } from '../env.js';
import { HOUR_MS, hourKey } from '../lib/keys.js';
import { listChannels } from '../registry/channels.js';
import { checkCanary, type CanaryRun } from './canary.js';
import type { HourStates } from '../telemetry/lanes.js';
import { foldQualityHours, loadQuality } from './quality.js';
import { buildMonitorReport, storeMonitorReport, type MonitorReport } from './report.js';
import { checkRetrain, type RetrainCheck } from './retrain.js';

export interface MonitoringRun {
  reports: Array<Pick<MonitorReport, 'model_version' | 'samples' | 'corrections' | 'correction_rate' | 'latency_ms' | 'error_rate'> & { folded_quality_hours: number }>;
  canaries: Array<Omit<CanaryRun, 'window'> & { verdict: CanaryRun['window']['verdict'] }>;
  retrain: RetrainCheck[];
  errors: Array<{ step: string; subject: string }>;
}

export async function runMonitoring(
  env: Env,
  config: Config,
  now: number,
  window: { hours: number; fromMs: number; toMs: number },
  drift: ReadonlyMap<string, DriftReport>,
  states: HourStates,
): Promise<MonitoringRun> {
  const run: MonitoringRun = { reports: [], canaries: [], retrain: [], errors: [] };
  const failed = (step: string, subject: string, e: unknown) => {
    console.error(`monitoring ${step} failed for ${subject}`, e);
    run.errors.push({ step, subject });
  };

  for (const [version, driftReport] of drift) {
    try {
      const folded = await foldQualityHours(env.TELEMETRY, states, version, window.fromMs, window.toMs, now, config.driftIncludeCurrentHour);
      const [summaries, quality] = await Promise.all([loadSummaries(env.TELEMETRY, version, window.fromMs, window.toMs), loadQuality(env.TELEMETRY, version, window.fromMs, window.toMs)]);
      const report = buildMonitorReport({ modelVersion: version, window, summaries, quality, drift: driftReport, generatedAt: now });
      await storeMonitorReport(env.TELEMETRY, report);
      run.reports.push({
        model_version: version,
        samples: report.samples,
        corrections: report.corrections,
        correction_rate: report.correction_rate,
        latency_ms: report.latency_ms,
        error_rate: report.error_rate,
        folded_quality_hours: folded.length,
      });
    } catch (e) {
      failed('report', version, e);
    }
  }

  const channels = await listChannels(env.MODELS);
  for (const state of channels) {
    if (!state.candidate) continue;
    try {
      const result = await checkCanary(env, config, state, now);
      if (result) {
        const { window: w, ...rest } = result;
        run.canaries.push({ ...rest, verdict: w.verdict });
      }
    } catch (e) {
      failed('canary', state.channel, e);
    }
  }

  // Retraining is about what installs get by default: the stable version of each channel.
  const stableOn = new Map<string, string[]>();
  for (const state of channels) stableOn.set(state.version, [...(stableOn.get(state.version) ?? []), state.channel]);
  const hour = hourKey(window.toMs - HOUR_MS);
  for (const [version, names] of stableOn) {
    if (!drift.has(version)) continue;
    try {
      // The default channel first: the payload names it as the event's channel.
      const ordered = names.sort((a, b) => (a === config.defaultChannel ? -1 : b === config.defaultChannel ? 1 : a < b ? -1 : 1));
      run.retrain.push(await checkRetrain(env.TELEMETRY, config, version, ordered, hour, now));
    } catch (e) {
      failed('retrain', version, e);
    }
  }
  return run;
}

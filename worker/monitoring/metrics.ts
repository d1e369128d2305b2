/**
 * Live-monitoring series for /metrics: gauges read from each version's latest monitoring report
 * and from the channels (rollout shares), and the HELP of the counters the job increments.
 * Merged into routes/ops.ts's exposition.
 */
import { LABELS } from '../../core/labels.js';
import { keys, listPrefixes, mapLimit } from '../lib/keys.js';
import { seriesKey } from '../lib/metrics.js';
import { listChannels } from '../registry/channels.js';
import { latestMonitorReport } from './report.js';

export const MONITORING_HELP: Record<string, [type: 'counter' | 'gauge', help: string]> = {
  ytsent_correction_rate: ['gauge', 'Corrections per comment scored by text-consent installs, per model version (latest monitoring window).'],
  ytsent_correction_rate_lower: ['gauge', 'Lower bound of the 95% Wilson interval of the correction rate.'],
  ytsent_correction_rate_upper: ['gauge', 'Upper bound of the 95% Wilson interval of the correction rate.'],
  ytsent_monitor_samples: ['gauge', 'Comments scored by text-consent installs in the latest monitoring window (the correction rate denominator).'],
  ytsent_monitor_corrections: ['gauge', 'Corrections that changed the label in the latest monitoring window.'],
  ytsent_estimated_precision: ['gauge', 'Per-class precision estimated from corrections (uncorrected comments counted as correct: optimistic).'],
  ytsent_estimated_recall: ['gauge', 'Per-class recall estimated from corrections (optimistic).'],
  ytsent_estimated_f1: ['gauge', 'Per-class F1 estimated from corrections (optimistic).'],
  ytsent_estimated_macro_f1: ['gauge', 'Macro-F1 estimated from corrections (optimistic).'],
  ytsent_scoring_latency_ms: ['gauge', 'On-device model call latency quantiles (p50, p95, p99) from the hourly aggregates, per model version.'],
  ytsent_scoring_error_rate: ['gauge', 'Failed on-device model calls per model call, from the hourly aggregates.'],
  ytsent_canary_percent: ['gauge', 'Share of installs (percent) a channel rolls its candidate out to; absent without a rollout.'],
  ytsent_canary_rollbacks_total: ['counter', 'Rollouts the hourly job rolled back automatically, per channel.'],
  ytsent_retrain_recommended_total: ['counter', 'Retraining recommendations raised, per model version.'],
  ytsent_monitor_webhook_total: ['counter', 'Webhook deliveries of monitoring events, by event and outcome.'],
};

export async function monitoringGauges(telemetry: R2Bucket, models: R2Bucket): Promise<Record<string, number>> {
  const [versions, channels] = await Promise.all([listPrefixes(telemetry, keys.monitorPrefix), listChannels(models)]);
  const reports = await mapLimit(versions, 8, (v) => latestMonitorReport(telemetry, v));
  const out: Record<string, number> = {};
  for (const r of reports) {
    if (!r) continue;
    const v = { model_version: r.model_version };
    out[seriesKey('ytsent_monitor_samples', v)] = r.samples;
    out[seriesKey('ytsent_monitor_corrections', v)] = r.corrections;
    if (r.correction_rate) {
      out[seriesKey('ytsent_correction_rate', v)] = r.correction_rate.value;
      out[seriesKey('ytsent_correction_rate_lower', v)] = r.correction_rate.lower;
      out[seriesKey('ytsent_correction_rate_upper', v)] = r.correction_rate.upper;
    }
    if (r.estimated) {
      out[seriesKey('ytsent_estimated_macro_f1', v)] = r.estimated.macro_f1;
      for (const label of LABELS) {
        const m = r.estimated.per_class[label];
        out[seriesKey('ytsent_estimated_precision', { ...v, label })] = m.precision;
        out[seriesKey('ytsent_estimated_recall', { ...v, label })] = m.recall;
        out[seriesKey('ytsent_estimated_f1', { ...v, label })] = m.f1;
      }
    }
    if (r.latency_ms) {
      for (const [q, value] of [
        ['0.5', r.latency_ms.p50],
        ['0.95', r.latency_ms.p95],
        ['0.99', r.latency_ms.p99],
      ] as const) {
        if (value !== null) out[seriesKey('ytsent_scoring_latency_ms', { ...v, quantile: q })] = value;
      }
    }
    if (r.error_rate) out[seriesKey('ytsent_scoring_error_rate', v)] = r.error_rate.value;
  }
  for (const c of channels) if (c.candidate) out[seriesKey('ytsent_canary_percent', { channel: c.channel, candidate: c.candidate.version, stable: c.version })] = c.candidate.percent;
  return out;
}

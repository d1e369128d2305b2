/**
 * Retraining triggers. For every version a channel serves as stable, each hourly run checks the
 * last RETRAIN_PERSIST_HOURS hourly reports (the drift report and the monitoring report written
 * for each of those hours, every one over the DRIFT_WINDOW_HOURS window ending then):
 * - **drift**: every one of them says `drift` (its predictions moved away from the training
 *   reference and stayed away);
 * - **quality**: in every one of them the 95 % upper bound of quality (1 − correction rate) is
 *   below RETRAIN_QUALITY_FLOOR: the model is, with confidence, corrected more often than allowed.
 * A missing hour breaks the run: persistence has to be seen, not assumed.
 *
 * Either raises a `retrain-recommended` event with its evidence (events.ts: stored, and sent to
 * the alert webhook as a GitHub repository_dispatch payload), at most once per version per
 * RETRAIN_COOLDOWN_HOURS: a retraining takes time, and the condition will usually persist until
 * the retrained model ships.
 */
import type { z } from 'zod';
import { DriftReportSchema } from '../drift/aggregate.js';
import type { Config } from '../env.js';
import { HOUR_MS, hourKey, keys, mapLimit, type HourKey } from '../lib/keys.js';
import { metrics } from '../lib/metrics.js';
import { getStored } from '../lib/stored.js';
import { eventId, listEvents, raiseEvent, type MonitoringEvent } from './events.js';
import { MonitorReportSchema } from './report.js';

export type RetrainReason = 'drift' | 'quality';

export interface RetrainCheck {
  model_version: string;
  channels: string[];
  reasons: RetrainReason[];
  /** Why nothing was raised although a reason holds ('cooldown'), or null. */
  suppressed: 'cooldown' | null;
  event: MonitoringEvent | null;
}

/** The `hours` hours ending with `lastHour`, oldest first. */
function lastHours(lastHour: HourKey, hours: number): HourKey[] {
  const end = Date.parse(`${lastHour}:00:00.000Z`);
  return Array.from({ length: hours }, (_, i) => hourKey(end - (hours - 1 - i) * HOUR_MS));
}

async function readAll<S extends z.ZodType>(bucket: R2Bucket, keyList: string[], schema: S): Promise<Array<z.output<S> | null>> {
  return mapLimit(keyList, 16, (k) => getStored(bucket, k, schema));
}

/** Checks `version` at the run whose reports are keyed `hour`; raises the event when due. */
export async function checkRetrain(bucket: R2Bucket, config: Config, version: string, channels: string[], hour: HourKey, now: number): Promise<RetrainCheck> {
  const t = config.monitoring;
  const hours = lastHours(hour, t.retrainPersistHours);
  const [drift, monitor] = await Promise.all([
    readAll(
      bucket,
      hours.map((h) => keys.driftHistory(version, h)),
      DriftReportSchema,
    ),
    readAll(
      bucket,
      hours.map((h) => keys.monitorHistory(version, h)),
      MonitorReportSchema,
    ),
  ]);
  const reasons: RetrainReason[] = [];
  const evidence: Record<string, unknown> = {};
  if (drift.every((r) => r?.verdict === 'drift')) {
    reasons.push('drift');
    const latest = drift[drift.length - 1]!;
    evidence.drift = {
      persisted_hours: t.retrainPersistHours,
      hours: drift.map((r, i) => ({ hour: hours[i], verdict: r!.verdict, n: r!.n })),
      failing: latest.tests
        ? Object.entries(latest.tests)
            .filter(([, x]) => x.verdict === 'drift')
            .map(([name]) => name)
        : [],
      latest: { window: latest.window, n: latest.n, tests: latest.tests, thresholds: latest.thresholds },
    };
  }
  if (monitor.every((r) => r?.quality != null && r.quality.upper < t.retrainQualityFloor)) {
    reasons.push('quality');
    evidence.quality = {
      floor: t.retrainQualityFloor,
      persisted_hours: t.retrainPersistHours,
      hours: monitor.map((r, i) => ({ hour: hours[i], quality: r!.quality, samples: r!.samples, corrections: r!.corrections })),
      estimated_macro_f1: monitor[monitor.length - 1]!.estimated?.macro_f1 ?? null,
    };
  }
  const check: RetrainCheck = { model_version: version, channels, reasons, suppressed: null, event: null };
  if (reasons.length === 0) return check;

  const since = hourKey(Date.parse(`${hour}:00:00.000Z`) - (t.retrainCooldownHours - 1) * HOUR_MS);
  const recent = await listEvents(bucket, { type: 'retrain-recommended', modelVersion: version, sinceHour: since, limit: 1 });
  if (recent.some((e) => e.hour !== hour)) {
    check.suppressed = 'cooldown';
    return check;
  }
  const id = eventId(hour, 'retrain-recommended', version);
  const generatedAt = new Date(now).toISOString();
  // GitHub's repository_dispatch body: event_type plus a client_payload of at most 10 top-level keys.
  const payload = {
    event_type: 'retrain-recommended',
    client_payload: {
      event_id: id,
      model_version: version,
      channels,
      reasons,
      generated_at: generatedAt,
      evidence,
      links: {
        events: `/v1/events?type=retrain-recommended&model_version=${encodeURIComponent(version)}`,
        drift: `/v1/drift?model_version=${encodeURIComponent(version)}`,
        monitoring: `/v1/monitoring?model_version=${encodeURIComponent(version)}`,
      },
    },
  };
  check.event = await raiseEvent(bucket, config, { id, type: 'retrain-recommended', hour, recorded_at: generatedAt, model_version: version, channel: channels[0] ?? null, payload });
  if (check.event) metrics.inc('ytsent_retrain_recommended_total', { model_version: version });
  return check;
}

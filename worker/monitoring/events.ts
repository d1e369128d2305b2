/**
 * Monitoring events: retraining recommendations and automatic canary rollbacks. Each is stored
 * (`events/<hour>-<type>-<subject>.json`, served by GET /v1/events) and sent to the alert webhook
 * (DRIFT_WEBHOOK_URL), signed like the drift alert: `X-Ytsent-Signature-256: sha256=<HMAC-SHA256 of
 * the body under DRIFT_WEBHOOK_SECRET>`, plus `X-Ytsent-Event: <type>` so one receiver can route
 * several kinds.
 *
 * A retraining recommendation's body is a GitHub `repository_dispatch` payload
 * (`{"event_type": "retrain-recommended", "client_payload": {...}}`, at most 10 top-level keys in
 * client_payload as GitHub requires): a relay that checks the signature can forward it unchanged to
 * `POST /repos/<owner>/<repo>/dispatches` with its own GitHub token, and a workflow `on:
 * repository_dispatch: types: [retrain-recommended]` starts.
 *
 * Stored first, create-only, then delivered: a re-run of the same hour finds the event and sends
 * nothing again. Delivery failures are recorded as a category, never as exception text, and never
 * fail the job (lib/webhook.ts).
 */
import { z } from 'zod';
import type { Config } from '../env.js';
import { keys, listAll, mapLimit, type HourKey } from '../lib/keys.js';
import { metrics } from '../lib/metrics.js';
import { getStored } from '../lib/stored.js';
import { WEBHOOK_SIGNATURE_HEADER, WEBHOOK_TIMEOUT_MS, signWebhookBody, webhookFailure } from '../lib/webhook.js';

export const EVENT_TYPES = ['retrain-recommended', 'canary-rollback'] as const;
export type EventType = (typeof EVENT_TYPES)[number];

/** Header naming the event of a webhook call. */
export const WEBHOOK_EVENT_HEADER = 'X-Ytsent-Event';

export interface WebhookOutcome {
  attempted: boolean;
  ok?: boolean;
  status?: number;
  error?: 'timeout' | 'network';
}

export interface MonitoringEvent {
  /** `<hour>-<type>-<subject>`: unique per hour, type and version or channel. */
  id: string;
  type: EventType;
  /** The hour of the job run that raised it. */
  hour: HourKey;
  recorded_at: string;
  model_version: string;
  channel: string | null;
  /** Exactly the body sent to the webhook. */
  payload: unknown;
  webhook: WebhookOutcome;
}

/** A stored event's outcome of the webhook call; the drift alerts use the same shape. */
export const WebhookOutcomeSchema = z.looseObject({ attempted: z.boolean(), ok: z.boolean().optional(), status: z.number().optional(), error: z.enum(['timeout', 'network']).optional() });

/** A stored event, read back with this (worker/lib/stored.ts). */
export const MonitoringEventSchema: z.ZodType<MonitoringEvent> = z.looseObject({
  id: z.string(),
  type: z.enum(EVENT_TYPES),
  hour: z.string(),
  recorded_at: z.string(),
  model_version: z.string(),
  channel: z.string().nullable(),
  payload: z.unknown(),
  webhook: WebhookOutcomeSchema,
});

export function eventId(hour: HourKey, type: EventType, subject: string): string {
  return `${hour}-${type}-${subject}`;
}

/** POSTs `body` signed to the alert webhook; the outcome as a category. */
export async function deliver(url: string, secret: string, type: EventType, body: string): Promise<WebhookOutcome> {
  try {
    const res = await fetch(url, {
      method: 'POST',
      headers: {
        'Content-Type': 'application/json',
        'User-Agent': 'ytsent-monitor/1',
        [WEBHOOK_SIGNATURE_HEADER]: await signWebhookBody(secret, body),
        [WEBHOOK_EVENT_HEADER]: type,
      },
      body,
      signal: AbortSignal.timeout(WEBHOOK_TIMEOUT_MS),
    });
    await res.arrayBuffer().catch(() => undefined);
    if (!res.ok) console.warn(`${type} webhook answered ${res.status}`);
    return { attempted: true, ok: res.ok, status: res.status };
  } catch (e) {
    console.warn(`${type} webhook failed (not fatal)`, e);
    return { attempted: true, ok: false, error: webhookFailure(e) };
  }
}

/**
 * Stores the event (create-only) and, if this call created it and a webhook is configured, sends
 * its payload. Returns the event, or null when it already existed (nothing sent).
 */
export async function raiseEvent(bucket: R2Bucket, config: Config, event: Omit<MonitoringEvent, 'webhook'>): Promise<MonitoringEvent | null> {
  const record: MonitoringEvent = { ...event, webhook: { attempted: false } };
  const created = await bucket.put(keys.event(event.id), JSON.stringify(record), { onlyIf: { etagDoesNotMatch: '*' }, httpMetadata: { contentType: 'application/json' } });
  if (created === null) return null;
  if (config.webhookUrl) {
    record.webhook = await deliver(config.webhookUrl, config.webhookSecret!, event.type, JSON.stringify(event.payload));
    metrics.inc('ytsent_monitor_webhook_total', { event: event.type, outcome: record.webhook.ok ? 'ok' : 'failed' });
    await bucket.put(keys.event(event.id), JSON.stringify(record), { httpMetadata: { contentType: 'application/json' } });
  }
  return record;
}

/** Stored events, newest first, optionally of one type and one model version. */
export async function listEvents(bucket: R2Bucket, options: { type?: EventType; modelVersion?: string; limit: number; sinceHour?: HourKey }): Promise<MonitoringEvent[]> {
  const listed = await listAll(bucket, keys.eventPrefix, options.sinceHour ? { startAfter: `${keys.eventPrefix}${options.sinceHour}` } : {});
  // Ids start with the hour, so key order is time order; the type and subject are in the key too.
  const wanted = listed
    .map((o) => o.key)
    .filter((k) => !options.type || k.slice(keys.eventPrefix.length + 14).startsWith(`${options.type}-`))
    .sort()
    .reverse();
  const out: MonitoringEvent[] = [];
  for (let i = 0; i < wanted.length && out.length < options.limit; i += 16) {
    const bodies = await mapLimit(wanted.slice(i, i + 16), 16, (k) => getStored(bucket, k, MonitoringEventSchema));
    for (const e of bodies) if (e && (!options.modelVersion || e.model_version === options.modelVersion) && out.length < options.limit) out.push(e);
  }
  return out;
}

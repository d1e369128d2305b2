/**
 * Uploads the telemetry queue in batches (on an alarm, or when asked). Rows leave the queue only
 * once the backend has acknowledged their batch (202: queued; the backend stores each batch_id
 * once, so a batch resent after a lost answer is not stored twice; earlier backends answered 200
 * for such a copy), so nothing is lost while the backend is away.
 *
 * Every pass first settles the device's side: rows queued under a consent that has since been
 * withdrawn are deleted, ended hourly aggregates are queued (or deleted when they stayed under ten
 * comments for 24 hours), batches older than MAX_BATCH_AGE_MS or first sent more than
 * RESEND_WINDOW_MS ago are dropped. Then each batch is
 * checked against the consent of that moment, right before it is sent.
 *
 * What the backend's answer means is read from its JSON error body (`{error: {code, message}}`):
 * - 2xx: sent, the rows go.
 * - 409 `batch_conflict`: the id is taken by other content; the rows get a fresh id and go again.
 * - 429: the backend asks this client to slow down: the whole pass stops and backs off
 *   (`Retry-After` honoured). So does a network error: the backend is unreachable for every batch.
 * - `unknown_model_version` and every other 4xx: the batch can never be accepted; it is dropped.
 * - 5xx: this batch waits (exponential backoff of its own) and the pass goes on with the others,
 *   so one stuck batch never blocks later uploads.
 * A batch is dropped after MAX_BATCH_ATTEMPTS failed sends (5xx or 409), and RESEND_WINDOW_MS (20 h)
 * after its first send: the backend drops a resend as a copy only within its dedupe window (24 h).
 */
import { consentAllows } from '../../core/wire.js';
import { bumpCounters, getMeta, setMeta } from '../lib/db.js';
import { META_KEYS, type UploadState } from '../lib/storage-keys.js';
import { getSettings } from '../lib/settings.js';
import { didNotAnswer, isTimeout } from '../lib/timeouts.js';
import { MAX_BATCH_ATTEMPTS, TelemetryQueue, consentOf, toBatch } from '../lib/telemetry-queue.js';
import { clientId } from './client-id.js';
import { queue } from './scoring.js';

const BASE_DELAY_MS = 30_000;
const MAX_DELAY_MS = 60 * 60_000;

export function backoffMs(failures: number, retryAfterS?: number, random = Math.random): number {
  const exp = Math.min(MAX_DELAY_MS, BASE_DELAY_MS * 2 ** Math.max(0, failures - 1));
  const jittered = exp / 2 + random() * (exp / 2);
  return Math.max(jittered, (retryAfterS ?? 0) * 1000);
}

/** What becomes of a batch after the backend's answer (see the module comment). */
export type Outcome = 'sent' | 'rekey' | 'drop' | 'retry' | 'stop';

export function outcomeOf(status: number, code: string | undefined): Outcome {
  if (status >= 200 && status < 300) return 'sent';
  if (status === 409 && code === 'batch_conflict') return 'rekey';
  if (status === 429) return 'stop';
  if (code === 'unknown_model_version') return 'drop';
  // 408: the request timed out on the way; the batch itself is fine.
  if (status >= 400 && status < 500 && status !== 408) return 'drop';
  return 'retry';
}

/** The error of a non-2xx answer: `{error: {code, message}}`, or the start of whatever came instead. */
export async function readError(response: Response): Promise<{ code?: string; message: string }> {
  const text = await response.text().catch(() => '');
  try {
    const body = JSON.parse(text) as { error?: { code?: unknown; message?: unknown } };
    const code = typeof body.error?.code === 'string' ? body.error.code : undefined;
    const message = typeof body.error?.message === 'string' ? body.error.message : text.slice(0, 200);
    return { ...(code ? { code } : {}), message: message.slice(0, 300) };
  } catch {
    return { message: text.slice(0, 200) };
  }
}

export async function uploadState(): Promise<UploadState> {
  return (await getMeta(META_KEYS.uploadState)) ?? { failures: 0, next_at: 0 };
}

export interface UploadResult {
  sent_batches: number;
  sent_items: number;
  /** Refused for good by the backend, failed too often, or too old. */
  dropped_items: number;
  /** Deleted unsent because the consent they were queued under was withdrawn. */
  withdrawn_items: number;
  /** Batches given a fresh id after a 409. */
  rekeyed_batches: number;
  /** Batches that failed with a server error and wait for their own retry. */
  deferred_batches: number;
  /** Ended hourly aggregates queued in this pass, and ones deleted for staying under the minimum. */
  aggregates: { queued: number; expired: number };
  remaining: number;
  skipped?: string;
  error?: string;
}

let running: Promise<UploadResult> | null = null;

/** Counters that moved (a pass that did nothing writes nothing). */
async function bump(deltas: Record<string, number>): Promise<void> {
  const moved = Object.fromEntries(Object.entries(deltas).filter(([, v]) => v !== 0));
  if (Object.keys(moved).length > 0) await bumpCounters(moved);
}

/** Longest one batch's request may take, answer included (lib/timeouts.ts); then the pass backs off. */
export const UPLOAD_REQUEST_TIMEOUT_MS = 30_000;

export interface UploadOptions {
  /** Ignore the backoff after a failed pass (the "send now" path). */
  force?: boolean;
  /** The clock (tests inject one). */
  now?: () => number;
  /** Time allowed per request (tests shorten it). */
  timeoutMs?: number;
}

/** One upload pass; concurrent calls (alarm + button) share it. */
export function uploadQueue(opts: UploadOptions = {}): Promise<UploadResult> {
  running ??= doUpload(opts).finally(() => {
    running = null;
  });
  return running;
}

async function doUpload({ force = false, now = () => Date.now(), timeoutMs = UPLOAD_REQUEST_TIMEOUT_MS }: UploadOptions): Promise<UploadResult> {
  const result: UploadResult = {
    sent_batches: 0,
    sent_items: 0,
    dropped_items: 0,
    withdrawn_items: 0,
    rekeyed_batches: 0,
    deferred_batches: 0,
    aggregates: { queued: 0, expired: 0 },
    remaining: 0,
  };
  const consent = consentOf(await getSettings());
  if (!consent) {
    await queue.purge();
    return { ...result, skipped: 'telemetry is off' };
  }
  result.withdrawn_items += await queue.applyConsent(consent);
  result.aggregates = await queue.sealAggregates(now());
  result.dropped_items += await queue.dropExpired(now());
  await bump({ telemetry_items_withdrawn: result.withdrawn_items, telemetry_items_dropped: result.dropped_items, telemetry_aggregates_expired: result.aggregates.expired });

  const state = await uploadState();
  if (!force && now() < state.next_at) {
    return { ...result, remaining: await queue.size(), skipped: `backing off until ${new Date(state.next_at).toISOString()}` };
  }
  const id = await clientId(now());
  const version = chrome.runtime.getManifest().version;
  const tried = new Set<string>();
  let lastError: string | undefined;
  for (;;) {
    const next = await queue.nextBatch(now(), tried);
    if (!next || next.rows.length === 0) break;
    tried.add(next.batch_id);
    // The consent of this moment, not of when the rows were queued: a batch queued under "text"
    // never leaves once that consent is off (the change itself deletes it too; this closes the
    // window between the change and a pass already under way).
    const settings = await getSettings();
    const current = consentOf(settings);
    if (!consentAllows(current, next.rows[0]!.consent)) {
      const withdrawn = await queue.applyConsent(current);
      result.withdrawn_items += withdrawn;
      await bump({ telemetry_items_withdrawn: withdrawn });
      if (current === null) return { ...result, remaining: await queue.size(), skipped: 'telemetry is off' };
      continue;
    }
    const kind = next.rows[0]!.kind;
    const batch = toBatch(next.rows, next.batch_id, id, version);
    const url = `${settings.backend_url.replace(/\/+$/, '')}/v1/${kind}`;
    let response: Response;
    // One signal for the request and the reading of its answer.
    const signal = AbortSignal.timeout(timeoutMs);
    try {
      response = await fetch(url, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(batch), signal });
    } catch (err) {
      // The batch stays queued under its id: if the backend did store it, the resend is a copy it drops.
      return failed(state, result, isTimeout(err) ? didNotAnswer(timeoutMs) : `backend unreachable: ${(err as Error).message}`, now());
    }
    if (response.ok) {
      await response.arrayBuffer().catch(() => undefined);
      await queue.remove(next.rows);
      result.sent_batches++;
      result.sent_items += next.rows.length;
      await bumpCounters({ telemetry_items_sent: next.rows.length });
      continue;
    }
    const error = await readError(response);
    const described = `HTTP ${response.status}${error.code ? ` ${error.code}` : ''}: ${error.message}`;
    const retryAfter = Number(response.headers.get('Retry-After')) || undefined;
    const outcome = outcomeOf(response.status, error.code);
    const attempts = TelemetryQueue.attemptsOf(next.rows) + 1;
    if (outcome === 'stop') return failed(state, result, described, now(), retryAfter);
    if (outcome === 'drop' || attempts >= MAX_BATCH_ATTEMPTS) {
      await queue.remove(next.rows);
      result.dropped_items += next.rows.length;
      await bumpCounters({ telemetry_items_dropped: next.rows.length });
      console.warn(`ytsent: telemetry batch dropped after ${attempts} attempt(s) (${described})`);
      lastError = described;
      continue;
    }
    if (outcome === 'rekey') {
      await queue.rekey(next.rows, now());
      result.rekeyed_batches++;
      continue;
    }
    await queue.defer(next.rows, now() + backoffMs(attempts, retryAfter));
    result.deferred_batches++;
    lastError = described;
  }
  // The backend answered: the global backoff ends; a batch-level error stays visible in the options.
  await setMeta(META_KEYS.uploadState, {
    failures: 0,
    next_at: 0,
    ...(result.sent_batches > 0 ? { last_success_at: now() } : state.last_success_at !== undefined ? { last_success_at: state.last_success_at } : {}),
    ...(lastError ? { last_error: lastError } : {}),
  } satisfies UploadState);
  return { ...result, remaining: await queue.size(), ...(lastError ? { error: lastError } : {}) };
}

async function failed(state: UploadState, result: UploadResult, error: string, now: number, retryAfterS?: number): Promise<UploadResult> {
  const failures = state.failures + 1;
  await setMeta(META_KEYS.uploadState, { ...state, failures, next_at: now + backoffMs(failures, retryAfterS), last_error: error } satisfies UploadState);
  return { ...result, error, remaining: await queue.size() };
}

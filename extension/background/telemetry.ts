/**
 * Uploads the telemetry queue in batches (on an alarm, or when asked), with exponential backoff
 * while the backend is down or rate-limits us. Rows leave the queue only once the backend has
 * acknowledged their batch (202 new, or 200 duplicate of a batch it already stored), so nothing is
 * lost while the backend is away and nothing is stored twice when it returns.
 */
import { getMeta, setMeta, bumpCounters } from '../lib/db.js';
import { consentOf, toBatch } from '../lib/telemetry-queue.js';
import { getSettings } from '../lib/settings.js';
import { clientId } from './client-id.js';
import { queue } from './scoring.js';

interface UploadState {
  failures: number;
  next_at: number;
  last_error?: string;
  last_success_at?: number;
}

const BASE_DELAY_MS = 30_000;
const MAX_DELAY_MS = 60 * 60_000;
/** Errors that retrying cannot fix: the batch is dropped (and counted) so it cannot block the queue. */
const PERMANENT = new Set([400, 401, 403, 404, 413, 415, 422]);

export function backoffMs(failures: number, retryAfterS?: number, random = Math.random): number {
  const exp = Math.min(MAX_DELAY_MS, BASE_DELAY_MS * 2 ** Math.max(0, failures - 1));
  const jittered = exp / 2 + random() * (exp / 2);
  return Math.max(jittered, (retryAfterS ?? 0) * 1000);
}

export async function uploadState(): Promise<UploadState> {
  return (await getMeta<UploadState>('upload_state')) ?? { failures: 0, next_at: 0 };
}

export interface UploadResult {
  sent_batches: number;
  sent_items: number;
  dropped_items: number;
  remaining: number;
  skipped?: string;
  error?: string;
}

let running: Promise<UploadResult> | null = null;

/** One upload pass; concurrent calls (alarm + button) share it. */
export function uploadQueue(opts: { force?: boolean } = {}): Promise<UploadResult> {
  running ??= doUpload(opts).finally(() => {
    running = null;
  });
  return running;
}

async function doUpload({ force = false }: { force?: boolean }): Promise<UploadResult> {
  const settings = await getSettings();
  const result: UploadResult = { sent_batches: 0, sent_items: 0, dropped_items: 0, remaining: 0 };
  if (!consentOf(settings)) {
    await queue.purge();
    return { ...result, skipped: 'telemetry is off' };
  }
  const state = await uploadState();
  if (!force && Date.now() < state.next_at) {
    return { ...result, remaining: await queue.size(), skipped: `backing off until ${new Date(state.next_at).toISOString()}` };
  }
  const id = await clientId();
  const version = chrome.runtime.getManifest().version;
  for (;;) {
    const next = await queue.nextBatch();
    if (!next || next.rows.length === 0) break;
    const batch = toBatch(next.rows, next.batch_id, id, version);
    const url = `${settings.backend_url.replace(/\/+$/, '')}/v1/${next.rows[0]!.kind}`;
    let response: Response;
    try {
      response = await fetch(url, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(batch) });
    } catch (err) {
      return failed(state, result, `backend unreachable: ${(err as Error).message}`);
    }
    if (response.ok) {
      await queue.remove(next.rows);
      result.sent_batches++;
      result.sent_items += next.rows.length;
      await bumpCounters({ telemetry_items_sent: next.rows.length });
      continue;
    }
    const body = await response.text().catch(() => '');
    if (PERMANENT.has(response.status) && !body.includes('unknown_model_version')) {
      await queue.remove(next.rows);
      result.dropped_items += next.rows.length;
      await bumpCounters({ telemetry_items_dropped: next.rows.length });
      console.warn(`ytsent: telemetry batch refused (${response.status}): ${body.slice(0, 300)}`);
      continue;
    }
    const retryAfter = Number(response.headers.get('Retry-After')) || undefined;
    return failed(state, result, `HTTP ${response.status}: ${body.slice(0, 200)}`, retryAfter);
  }
  await setMeta('upload_state', { failures: 0, next_at: 0, last_success_at: Date.now() } satisfies UploadState);
  return { ...result, remaining: await queue.size() };
}

async function failed(state: UploadState, result: UploadResult, error: string, retryAfterS?: number): Promise<UploadResult> {
  const failures = state.failures + 1;
  await setMeta('upload_state', { ...state, failures, next_at: Date.now() + backoffMs(failures, retryAfterS), last_error: error } satisfies UploadState);
  return { ...result, error, remaining: await queue.size() };
}

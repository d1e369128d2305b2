/**
 * Counters that survive isolates.
 *
 * Each isolate accumulates increments in memory and persists them as small immutable *delta*
 * objects (`metrics/deltas/<ms>-<random>.json`), at most one per METRICS_FLUSH_MS, from
 * `waitUntil` so the flush outlives the response. Compaction (hourly cron, and after /metrics
 * scrapes) adds deltas older than a grace period into `metrics/totals.json` (a compare-and-swap
 * on its etag, which records `folded_through`) and only then deletes them. A delta is therefore
 * counted exactly once: by the totals if its timestamp ≤ folded_through, otherwise on its own.
 *
 * /metrics reports persisted counts only (never one isolate's unflushed memory), so the values
 * Prometheus sees never go backwards between scrapes served by different isolates.
 */
import { z } from 'zod';
import { keys, listAll, mapLimit } from './keys.js';
import { parseObject } from './stored.js';

/** A series is its exposition-format identity: `name{label="value",...}` with sorted labels. */
export type SeriesKey = string;
export type Labels = Record<string, string | number>;

export interface Totals {
  /** Deltas with a timestamp ≤ this (ms) are included in `series`. */
  folded_through: number;
  series: Record<SeriesKey, number>;
}

/** Stored counters (totals and deltas), read back with these (worker/lib/stored.ts). */
const SeriesSchema = z.record(z.string(), z.number());
const TotalsSchema = z.looseObject({ folded_through: z.number(), series: SeriesSchema });

/** Deltas younger than this are left for the next compaction: their put may still be in flight. */
export const COMPACT_GRACE_MS = 2 * 60_000;

function escapeLabel(v: string): string {
  return v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');
}

export function seriesKey(name: string, labels: Labels = {}): SeriesKey {
  const parts = Object.keys(labels)
    .sort()
    .map((k) => `${k}="${escapeLabel(String(labels[k]))}"`);
  return parts.length ? `${name}{${parts.join(',')}}` : name;
}

export function metricName(key: SeriesKey): string {
  const i = key.indexOf('{');
  return i < 0 ? key : key.slice(0, i);
}

function addInto(target: Record<SeriesKey, number>, source: Record<SeriesKey, number>): void {
  for (const [k, v] of Object.entries(source)) {
    if (typeof v === 'number' && Number.isFinite(v)) target[k] = (target[k] ?? 0) + v;
  }
}

const DELTA_KEY_RE = /^metrics\/deltas\/(\d{13})-[a-z0-9]+\.json$/;

function deltaTime(key: string): number | null {
  const m = DELTA_KEY_RE.exec(key);
  return m ? Number(m[1]) : null;
}

/** Per-isolate buffer of increments. */
export class MetricsBuffer {
  private pending: Record<SeriesKey, number> = {};
  private timer: Promise<void> | null = null;
  private inFlight = new Set<Promise<void>>();

  inc(name: string, labels: Labels = {}, by = 1): void {
    if (by === 0) return;
    const k = seriesKey(name, labels);
    this.pending[k] = (this.pending[k] ?? 0) + by;
  }

  get dirty(): boolean {
    return Object.keys(this.pending).length > 0;
  }

  /**
   * Persist pending increments after `delayMs` (coalescing: one flush in flight per isolate).
   * Returns the promise to hand to `waitUntil`: the timer for the request that starts it, an
   * already settled promise for the others. A request must never wait on a timer another request
   * started (the Workers runtime ties I/O and timers to the request that made them; waiting on
   * another's held a queue delivery forever in wrangler dev); the starter's waitUntil keeps it
   * alive, and it writes what every request counted until it fires.
   */
  flushSoon(bucket: R2Bucket, delayMs: number): Promise<void> {
    if (this.timer) return Promise.resolve();
    if (!this.dirty) return Promise.resolve();
    const timer = (async () => {
      if (delayMs > 0) await new Promise((r) => setTimeout(r, delayMs));
      else await Promise.resolve();
      // Safe: `this.timer = timer` below ran before this await resumed. Increments arriving from
      // here on schedule the next flush.
      this.timer = null;
      await this.flush(bucket);
    })();
    this.timer = timer;
    return timer;
  }

  /** Resolves once no flush is scheduled or running (tests and graceful shutdowns wait on it). */
  async settled(): Promise<void> {
    while (this.timer || this.inFlight.size > 0) await Promise.allSettled([this.timer, ...this.inFlight]);
  }

  /**
   * Persists everything this isolate counted so far: waits (at most `waitMs`) for writes already
   * running, then writes what is pending (a scheduled flush that fires later finds nothing left to write).
   */
  async flushNow(bucket: R2Bucket, waitMs = 2000): Promise<void> {
    // Those writes belong to other requests' contexts: wait for them a bounded time only, never on
    // them alone (a request waiting on another's promise is what stalled queue deliveries).
    if (this.inFlight.size > 0) {
      let timer: ReturnType<typeof setTimeout> | undefined;
      await Promise.race([Promise.allSettled([...this.inFlight]), new Promise((r) => (timer = setTimeout(r, waitMs)))]);
      if (timer !== undefined) clearTimeout(timer);
    }
    await this.flush(bucket);
  }

  /** Writes pending increments as one delta object now; on failure they stay pending. */
  flush(bucket: R2Bucket): Promise<void> {
    const p = this.write(bucket).finally(() => this.inFlight.delete(p));
    this.inFlight.add(p);
    return p;
  }

  private async write(bucket: R2Bucket): Promise<void> {
    if (!this.dirty) return;
    const batch = this.pending;
    this.pending = {};
    const key = `${keys.metricsDeltaPrefix}${String(Date.now()).padStart(13, '0')}-${crypto.randomUUID().replace(/-/g, '').slice(0, 12)}.json`;
    try {
      await bucket.put(key, JSON.stringify(batch), { httpMetadata: { contentType: 'application/json' } });
    } catch (e) {
      addInto(this.pending, batch);
      console.error('metrics flush failed; increments kept for the next flush', e);
    }
  }
}

/** The isolate's buffer (module state is per isolate). */
export const metrics = new MetricsBuffer();

async function readTotals(bucket: R2Bucket): Promise<{ totals: Totals; etag: string | null }> {
  const obj = await bucket.get(keys.metricsTotals);
  if (!obj) return { totals: { folded_through: 0, series: {} }, etag: null };
  return { totals: await parseObject(obj, TotalsSchema), etag: obj.etag };
}

/** A consistent sum of totals and unfolded deltas (retries if a compaction interleaves). */
export async function readCounters(bucket: R2Bucket, now = Date.now()): Promise<{ series: Record<SeriesKey, number>; compactable: number }> {
  for (let attempt = 0; attempt < 4; attempt++) {
    // List first, then read totals: a delta folded meanwhile is then skipped by folded_through,
    // and one deleted meanwhile shows up as a missing GET, which restarts the read.
    const listed = await listAll(bucket, keys.metricsDeltaPrefix);
    const { totals } = await readTotals(bucket);
    const unfolded = listed.filter((o) => {
      const t = deltaTime(o.key);
      return t !== null && t > totals.folded_through;
    });
    const bodies = await mapLimit(unfolded, 16, async (o) => {
      const obj = await bucket.get(o.key);
      return obj ? parseObject(obj, SeriesSchema) : null;
    });
    if (bodies.some((b) => b === null)) continue;
    const sum: Record<SeriesKey, number> = { ...totals.series };
    for (const b of bodies) addInto(sum, b!);
    const compactable = unfolded.filter((o) => deltaTime(o.key)! <= now - COMPACT_GRACE_MS).length;
    return { series: sum, compactable };
  }
  throw new Error('metrics changed during every read attempt');
}

/** Folds deltas older than the grace period into totals, then deletes them. Idempotent. */
export async function compactMetrics(bucket: R2Bucket, now = Date.now(), graceMs = COMPACT_GRACE_MS): Promise<{ folded: number }> {
  // Never fold "through" the future: deltas written until then would be ignored forever.
  const cutoff = Math.min(now, Date.now()) - graceMs;
  const listed = await listAll(bucket, keys.metricsDeltaPrefix);
  const { totals, etag } = await readTotals(bucket);
  const alreadyFolded: string[] = [];
  const toFold: string[] = [];
  for (const o of listed) {
    const t = deltaTime(o.key);
    if (t === null) continue;
    if (t <= totals.folded_through) alreadyFolded.push(o.key);
    else if (t <= cutoff) toFold.push(o.key);
  }
  let folded = 0;
  if (toFold.length > 0 || cutoff > totals.folded_through) {
    const bodies = await mapLimit(toFold, 16, async (k) => {
      const obj = await bucket.get(k);
      return obj ? parseObject(obj, SeriesSchema) : null;
    });
    // A delta vanished between list and get: another compaction is running; let it finish.
    if (bodies.some((b) => b === null)) return { folded: 0 };
    const next: Totals = { folded_through: Math.max(cutoff, totals.folded_through), series: { ...totals.series } };
    for (const b of bodies) addInto(next.series, b!);
    const written = await bucket.put(keys.metricsTotals, JSON.stringify(next), {
      onlyIf: etag ? { etagMatches: etag } : { etagDoesNotMatch: '*' },
      httpMetadata: { contentType: 'application/json' },
    });
    if (written === null) return { folded: 0 };
    folded = toFold.length;
    alreadyFolded.push(...toFold);
  }
  // Deleting is only cleanup: readers ignore deltas at or before folded_through.
  for (let i = 0; i < alreadyFolded.length; i += 1000) await bucket.delete(alreadyFolded.slice(i, i + 1000));
  return { folded };
}

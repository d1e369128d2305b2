/**
 * A small in-isolate cache of whole responses for read routes that fan out into many R2 reads
 * (drift reports and their history). Within its time to live, a repeated request costs no R2
 * operation at all, however often it is sent.
 *
 * Why not the Cache API (or `hono/cache`): it does nothing on workers.dev hosts, and hono's
 * middleware skips every request with an Authorization header, which the drift history needs. A
 * per-isolate cache works everywhere; each isolate fills its own, which bounds the R2 load per
 * isolate and TTL. Whoever writes what the cached routes read in this isolate (the drift job, a
 * channel change) calls `clear()`, so local runs and tests never see a report older than the one
 * they just wrote; other isolates catch up within the TTL.
 */
import type { MiddlewareHandler } from 'hono';
import type { AppEnv } from '../env.js';

interface Entry {
  storedAt: number;
  status: number;
  headers: Array<[string, string]>;
  body: ArrayBuffer;
}

export class ResponseCache {
  private readonly entries = new Map<string, Entry>();

  constructor(
    /** How long an entry is served, in ms. */
    readonly ttlMs: number,
    /** Entries kept at most; the oldest is dropped first. */
    readonly maxEntries = 256,
    /** Largest body kept, in bytes (bigger answers are served but not cached). */
    readonly maxBodyBytes = 512 * 1024,
  ) {}

  /** The entry for `key` if it is younger than the TTL at `now`. */
  get(key: string, now: number): Entry | undefined {
    const e = this.entries.get(key);
    if (!e) return undefined;
    if (now - e.storedAt >= this.ttlMs || now < e.storedAt) {
      this.entries.delete(key);
      return undefined;
    }
    return e;
  }

  set(key: string, entry: Entry): void {
    if (entry.body.byteLength > this.maxBodyBytes) return;
    this.entries.delete(key);
    this.entries.set(key, entry);
    while (this.entries.size > this.maxEntries) this.entries.delete(this.entries.keys().next().value!);
  }

  clear(): void {
    this.entries.clear();
  }

  get size(): number {
    return this.entries.size;
  }

  /**
   * Middleware: answers from the cache when it can (with `Age`), otherwise runs the route and
   * keeps a 200. The key is the path and the sorted query, so `?a=1&b=2` and `?b=2&a=1` share one
   * entry. Register it after authentication: the key does not include credentials.
   */
  middleware(now: () => number = Date.now): MiddlewareHandler<AppEnv> {
    return async (c, next) => {
      const url = new URL(c.req.url);
      url.searchParams.sort();
      const key = `${c.req.method} ${url.pathname}?${url.searchParams.toString()}`;
      const t = now();
      const hit = this.get(key, t);
      if (hit) {
        const headers = new Headers(hit.headers);
        headers.set('Age', String(Math.floor((t - hit.storedAt) / 1000)));
        return new Response(hit.body.slice(0), { status: hit.status, headers });
      }
      await next();
      if (c.res.status !== 200) return;
      const body = await c.res.clone().arrayBuffer();
      this.set(key, { storedAt: t, status: c.res.status, headers: [...c.res.headers], body });
    };
  }
}

/** Drift JSON: GET /v1/drift, /v1/drift/history, /v1/drift/alerts. */
export const DRIFT_CACHE_TTL_S = 60;
export const driftResponses = new ResponseCache(DRIFT_CACHE_TTL_S * 1000);

/**
 * Repeated comments are answered from memory: a least-recently-used map per isolate, keyed by model
 * version + language hint + a 64-bit hash of the normalized text (core/text-key.ts, the key the
 * extension's results cache uses), so a score is never served for another model version and
 * whitespace or Unicode composition never miss. Per isolate, not shared: Cloudflare runs many
 * isolates, each warms its own, and nothing a client sent outlives the isolate (no text is kept:
 * the key holds a hash, the value the prediction).
 *
 * Scoring costs tens of microseconds, so the cache is about repeated viral comments and retrying
 * clients, not about saving a slow model: it is small and bounded by entry count.
 */
import { cacheKey } from '../../core/text-key.js';
import type { Prediction } from '../../core/scorer.js';

export const CACHE_MAX_ENTRIES = 20_000;

export class PredictionCache {
  private readonly map = new Map<string, Prediction>();
  hits = 0;
  misses = 0;

  constructor(private readonly maxEntries = CACHE_MAX_ENTRIES) {}

  static key(modelVersion: string, langHint: string | undefined, normalizedText: string): string {
    return `${cacheKey(modelVersion, normalizedText)}|${langHint ?? ''}`;
  }

  get(key: string): Prediction | undefined {
    const hit = this.map.get(key);
    if (hit === undefined) {
      this.misses++;
      return undefined;
    }
    this.hits++;
    // Map iteration order is insertion order: re-inserting makes this the most recently used.
    this.map.delete(key);
    this.map.set(key, hit);
    return hit;
  }

  set(key: string, value: Prediction): void {
    this.map.delete(key);
    this.map.set(key, value);
    while (this.map.size > this.maxEntries) this.map.delete(this.map.keys().next().value!);
  }

  get size(): number {
    return this.map.size;
  }

  clear(): void {
    this.map.clear();
  }
}

/** The isolate's cache. */
export const predictionCache = new PredictionCache();

/**
 * The results cache: scores keyed by model version + normalized text, so a comment seen again (a
 * reload, a repost, the same reply under another video) costs a lookup, not an inference, and a
 * score computed by one model version is never served for another. Size-capped with
 * least-recently-used eviction.
 */
import { finalize, mixUnit } from '../../core/hash.js';
import type { Label } from '../../core/labels.js';
import type { ResultRow, YtsentDb } from './db.js';

export const DEFAULT_MAX_ENTRIES = 50_000;

/** Whitespace and Unicode composition do not change a score; they must not miss the cache either. */
export function normalizeForCache(text: string): string {
  return text.normalize('NFC').replace(/\s+/g, ' ').trim();
}

/** 64-bit hash (two 32-bit MurmurHash3 lanes) as 16 hex characters. */
export function textHash(text: string): string {
  let a = 0x9747b28c;
  let b = 0x2f1c3a57;
  for (let i = 0; i < text.length; i++) {
    const u = text.charCodeAt(i);
    a = mixUnit(a, u);
    b = mixUnit(b, u ^ 0x5bd1);
  }
  return finalize(a, text.length).toString(16).padStart(8, '0') + finalize(b, text.length).toString(16).padStart(8, '0');
}

export function cacheKey(modelVersion: string, normalizedText: string): string {
  return `${modelVersion}|${textHash(normalizedText)}`;
}

export interface CachedScore {
  label: Label;
  probs: [number, number, number];
}

export class ResultsCache {
  private writesSinceEviction = 0;

  constructor(
    private readonly database: YtsentDb,
    readonly maxEntries: number = DEFAULT_MAX_ENTRIES,
  ) {}

  /**
   * Looks up normalized texts. Refreshing the hits' last-used time is a write, returned as `touch`
   * so a caller on the hot path can answer first and write after.
   */
  async lookup(modelVersion: string, normalizedTexts: readonly string[]): Promise<{ scores: Array<CachedScore | undefined>; touch: () => Promise<void> }> {
    const rows = await this.database.results.bulkGet(normalizedTexts.map((t) => cacheKey(modelVersion, t)));
    const hits = rows.filter((r): r is ResultRow => r !== undefined);
    const touch = async (): Promise<void> => {
      if (hits.length === 0) return;
      const now = Date.now();
      await this.database.results.bulkPut(hits.map((r) => ({ ...r, last_used: now })));
    };
    return { scores: rows.map((r) => (r ? { label: r.label, probs: r.probs } : undefined)), touch };
  }

  /** Looks up normalized texts and refreshes the hits' last-used time. */
  async getMany(modelVersion: string, normalizedTexts: readonly string[]): Promise<Array<CachedScore | undefined>> {
    const { scores, touch } = await this.lookup(modelVersion, normalizedTexts);
    await touch();
    return scores;
  }

  async putMany(modelVersion: string, entries: ReadonlyArray<{ text: string } & CachedScore>): Promise<void> {
    if (entries.length === 0) return;
    const now = Date.now();
    await this.database.results.bulkPut(
      entries.map((e) => ({ key: cacheKey(modelVersion, e.text), model_version: modelVersion, label: e.label, probs: e.probs, text: e.text, last_used: now })),
    );
    this.writesSinceEviction += entries.length;
    // Counting is cheap but not free: check the cap every few hundred writes, and always when a
    // single write could have crossed it by itself.
    if (this.writesSinceEviction >= Math.min(500, this.maxEntries / 10)) {
      this.writesSinceEviction = 0;
      await this.evict();
    }
  }

  /** Drops the least recently used entries down to 90% of the cap once the cap is exceeded. */
  async evict(): Promise<number> {
    const count = await this.database.results.count();
    if (count <= this.maxEntries) return 0;
    const excess = count - Math.floor(this.maxEntries * 0.9);
    const oldest = await this.database.results.orderBy('last_used').limit(excess).primaryKeys();
    await this.database.results.bulkDelete(oldest);
    return oldest.length;
  }

  async size(): Promise<number> {
    return this.database.results.count();
  }

  /** Most recently used entries (previews of what telemetry would send). */
  async recent(limit: number): Promise<ResultRow[]> {
    return this.database.results.orderBy('last_used').reverse().limit(limit).toArray();
  }

  async clear(): Promise<void> {
    await this.database.results.clear();
  }
}

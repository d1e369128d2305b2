/**
 * The results cache: scores keyed by model version + normalized text, so a comment seen again (a
 * reload, a repost, the same reply under another video) costs a lookup, not an inference, and a
 * score computed by one model version is never served for another. Size-capped with
 * least-recently-used eviction. The most recent rows are also kept in memory for the life of the
 * service worker, so a page reloaded or revisited in the same session is answered without IndexedDB.
 */
import type { Label } from '../../core/labels.js';
import { cacheKey } from '../../core/text-key.js';
import type { ResultRow, YtsentDb } from './db.js';

// The normalization and key are core's: the Worker's POST /v1/predict caches the same way.
export { cacheKey, normalizeForCache, textHash } from '../../core/text-key.js';

export const DEFAULT_MAX_ENTRIES = 50_000;
/** Rows kept in memory as well, for as long as the service worker lives (a reload, a revisit). */
export const DEFAULT_MEMORY_ENTRIES = 20_000;

export interface CachedScore {
  label: Label;
  probs: [number, number, number];
  lang: string;
  supported: boolean;
}

export class ResultsCache {
  private writesSinceEviction = 0;
  /** key → row, in least- to most-recently-used order (a Map iterates in insertion order). */
  private readonly memory = new Map<string, ResultRow>();

  constructor(
    private readonly database: YtsentDb,
    readonly maxEntries: number = DEFAULT_MAX_ENTRIES,
    readonly memoryEntries: number = DEFAULT_MEMORY_ENTRIES,
  ) {}

  private remember(row: ResultRow): void {
    this.memory.delete(row.key);
    this.memory.set(row.key, row);
    if (this.memory.size > this.memoryEntries) {
      for (const key of this.memory.keys()) {
        this.memory.delete(key);
        if (this.memory.size <= this.memoryEntries * 0.9) break;
      }
    }
  }

  /**
   * Looks up normalized texts. Refreshing the hits' last-used time is a write, returned as `touch`
   * so a caller on the hot path can answer first and write after.
   */
  async lookup(modelVersion: string, normalizedTexts: readonly string[]): Promise<{ scores: Array<CachedScore | undefined>; hits: ResultRow[]; touch: () => Promise<void> }> {
    const keys = normalizedTexts.map((t) => cacheKey(modelVersion, t));
    const rows: Array<ResultRow | undefined> = keys.map((k) => {
      const row = this.memory.get(k);
      if (row) this.remember(row);
      return row;
    });
    const missing = keys.flatMap((k, i) => (rows[i] ? [] : [i]));
    if (missing.length > 0) {
      const stored = await this.database.results.bulkGet(missing.map((i) => keys[i]!));
      stored.forEach((r, j) => {
        // A row without a language (written by an older schema) is a miss.
        if (r && typeof r.lang === 'string') {
          rows[missing[j]!] = r;
          this.remember(r);
        }
      });
    }
    const hits = rows.filter((r): r is ResultRow => r !== undefined);
    const touch = (): Promise<void> => this.touch(hits);
    return { scores: rows.map((r) => (r ? { label: r.label, probs: r.probs, lang: r.lang, supported: r.supported } : undefined)), hits, touch };
  }

  /** Refreshes the last-used time of rows (hits of earlier lookups), in one write. */
  async touch(rows: readonly ResultRow[]): Promise<void> {
    if (rows.length === 0) return;
    const now = Date.now();
    const unique = new Map(rows.map((r) => [r.key, r]));
    await this.database.results.bulkPut([...unique.values()].map((r) => ({ ...r, last_used: now })));
  }

  /** Looks up normalized texts and refreshes the hits' last-used time. */
  async getMany(modelVersion: string, normalizedTexts: readonly string[]): Promise<Array<CachedScore | undefined>> {
    const { scores, touch } = await this.lookup(modelVersion, normalizedTexts);
    await touch();
    return scores;
  }

  /**
   * Makes entries visible to lookups at once (in memory), ahead of {@link putMany} writing them
   * to the database a little later.
   */
  rememberNow(modelVersion: string, entries: ReadonlyArray<{ text: string } & CachedScore>): void {
    for (const r of this.rows(modelVersion, entries)) this.remember(r);
  }

  private rows(modelVersion: string, entries: ReadonlyArray<{ text: string } & CachedScore>): ResultRow[] {
    const now = Date.now();
    return entries.map((e) => ({
      key: cacheKey(modelVersion, e.text),
      model_version: modelVersion,
      label: e.label,
      probs: e.probs,
      lang: e.lang,
      supported: e.supported,
      text: e.text,
      last_used: now,
    }));
  }

  async putMany(modelVersion: string, entries: ReadonlyArray<{ text: string } & CachedScore>): Promise<void> {
    if (entries.length === 0) return;
    const rows = this.rows(modelVersion, entries);
    rows.forEach((r) => this.remember(r));
    await this.database.results.bulkPut(rows);
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
    for (const key of oldest) this.memory.delete(key);
    return oldest.length;
  }

  async size(): Promise<number> {
    return this.database.results.count();
  }

  /** Most recently used entries (previews of what telemetry would send). */
  async recent(limit: number): Promise<ResultRow[]> {
    return this.database.results.orderBy('last_used').reverse().limit(limit).toArray();
  }

  /** Forgets the in-memory rows (after the table was cleared by other means). */
  forgetMemory(): void {
    this.memory.clear();
  }

  async clear(): Promise<void> {
    this.memory.clear();
    await this.database.results.clear();
  }
}

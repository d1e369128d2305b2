import { beforeEach, describe, expect, it } from 'vitest';
import { installChromeFake } from './chrome-fake.js';
installChromeFake();
const { default: Dexie } = await import('dexie'); // after the fake IndexedDB is installed
const { YtsentDb } = await import('../../../extension/lib/db.js');
const { ResultsCache, cacheKey, normalizeForCache } = await import('../../../extension/lib/results-cache.js');

let db: InstanceType<typeof YtsentDb>;
let n = 0;
beforeEach(async () => {
  db = new YtsentDb(`cache-test-${n++}`);
  await db.open();
});

const score = (label: 'negative' | 'neutral' | 'positive', lang = 'en') => ({ label, probs: [0.1, 0.2, 0.7] as [number, number, number], lang, supported: lang !== 'ru' });

describe('results cache', () => {
  it('returns what was stored, per model version only', async () => {
    const cache = new ResultsCache(db, 100);
    await cache.putMany('1.0.0', [{ text: 'great video', ...score('positive') }]);
    expect(await cache.getMany('1.0.0', ['great video', 'other'])).toEqual([score('positive'), undefined]);
    // A score from one model version is never served for another.
    expect(await cache.getMany('1.1.0', ['great video'])).toEqual([undefined]);
  });

  it('keys on normalized text: whitespace and composition do not miss', () => {
    expect(normalizeForCache('  great\n\tvideo  ')).toBe('great video');
    expect(normalizeForCache('cafe\u0301')).toBe(normalizeForCache('café'));
    expect(cacheKey('1.0.0', 'a')).not.toBe(cacheKey('1.0.0', 'b'));
    expect(cacheKey('1.0.0', 'a')).toMatch(/^1\.0\.0\|[0-9a-f]{16}$/);
  });

  it('evicts the least recently used entries beyond its cap', async () => {
    const cache = new ResultsCache(db, 10);
    for (let i = 0; i < 10; i++) {
      await cache.putMany('1.0.0', [{ text: `comment ${i}`, ...score('neutral') }]);
      await new Promise((r) => setTimeout(r, 2)); // distinct last_used times
    }
    // Touch the two oldest: they become the most recently used.
    await cache.getMany('1.0.0', ['comment 0', 'comment 1']);
    await new Promise((r) => setTimeout(r, 2));
    await cache.putMany('1.0.0', [
      { text: 'comment 10', ...score('neutral') },
      { text: 'comment 11', ...score('neutral') },
    ]);
    // Writing past the cap evicted down to 90% of it: 12 entries → 9.
    expect(await cache.size()).toBe(9);
    expect(await cache.evict()).toBe(0);
    const alive = await cache.getMany('1.0.0', ['comment 0', 'comment 1', 'comment 2', 'comment 3', 'comment 4', 'comment 11']);
    expect(alive.map((x) => x !== undefined)).toEqual([true, true, false, false, false, true]);
  });

  it('evicts on its own as it fills', async () => {
    const cache = new ResultsCache(db, 50);
    for (let i = 0; i < 120; i++) await cache.putMany('1.0.0', [{ text: `c${i}`, ...score('neutral') }]);
    expect(await cache.size()).toBeLessThanOrEqual(50);
  });

  it("keeps each score's language and whether it is supported", async () => {
    const cache = new ResultsCache(db, 100);
    await cache.putMany('2.0.0', [
      { text: 'Лучший канал', ...score('neutral', 'ru') },
      { text: 'great', ...score('positive', 'en') },
    ]);
    cache.forgetMemory(); // from IndexedDB, not memory
    const [ru, en] = await cache.getMany('2.0.0', ['Лучший канал', 'great']);
    expect(ru).toMatchObject({ lang: 'ru', supported: false });
    expect(en).toMatchObject({ lang: 'en', supported: true });
  });

  it('answers from memory at once, before the deferred write reaches IndexedDB', async () => {
    const cache = new ResultsCache(db, 100);
    cache.rememberNow('1.0.0', [{ text: 'just scored', ...score('positive') }]);
    expect(await db.results.count()).toBe(0);
    expect((await cache.lookup('1.0.0', ['just scored'])).scores).toEqual([score('positive')]);
    // Memory does not outlive the worker: what was never written is gone after a restart.
    cache.forgetMemory();
    expect(await cache.getMany('1.0.0', ['just scored'])).toEqual([undefined]);
  });

  it('drops rows of the first schema (no language) when the database is upgraded', async () => {
    const name = `cache-upgrade-${n++}`;
    const v1 = new Dexie(name);
    v1.version(1).stores({ results: 'key, last_used, model_version', models: 'version, state', queue: '++id, kind, batch_id, created_at', meta: 'key' });
    await v1.open();
    await v1.table('results').put({ key: cacheKey('1.0.0', 'old row'), model_version: '1.0.0', label: 'negative', probs: [0.7, 0.2, 0.1], text: 'old row', last_used: 1 });
    v1.close();
    const upgraded = new YtsentDb(name);
    await upgraded.open();
    expect(await upgraded.results.count()).toBe(0);
    expect(await new ResultsCache(upgraded, 100).getMany('1.0.0', ['old row'])).toEqual([undefined]);
  });
});

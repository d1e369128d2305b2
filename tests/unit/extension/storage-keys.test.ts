/**
 * extension/lib/storage-keys.ts is the one place that names storage: chrome.storage.local keys,
 * the IndexedDB database and tables, and the meta keys with their value types.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../../../node-runtime/bundle.js';
import { installChromeFake } from './chrome-fake.js';

const { storage } = installChromeFake();
const { LOCAL_KEYS, META_KEYS, getLocal, removeLocal, setLocal } = await import('../../../extension/lib/storage-keys.js');
const { getCounters, bumpCounters, getMeta, setMeta } = await import('../../../extension/lib/db.js');

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? sources(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : []));
}

describe('storage keys', () => {
  it('chrome.storage.local is read and written only by storage-keys.ts', () => {
    const offenders = sources(join(REPO_ROOT, 'extension'))
      .filter((f) => !f.endsWith(join('lib', 'storage-keys.ts')))
      .filter((f) => /chrome\.storage\.(local|session|sync)\.\w+\(/.test(readFileSync(f, 'utf8')))
      .map((f) => relative(REPO_ROOT, f));
    expect(offenders).toEqual([]);
  });

  it('keeps the stored key names (renaming one would lose every install’s settings or id)', async () => {
    expect(LOCAL_KEYS).toEqual({ settings: 'settings', installId: 'install_id' });
    await setLocal(LOCAL_KEYS.installId, 'abc');
    expect(storage.get('install_id')).toBe('abc');
    expect(await getLocal(LOCAL_KEYS.installId)).toBe('abc');
    await removeLocal(LOCAL_KEYS.installId);
    expect(await getLocal(LOCAL_KEYS.installId)).toBeUndefined();
  });

  it('builds meta keys with their variable part and round-trips typed values', async () => {
    expect(META_KEYS.calibration('1.2.3')).toBe('calibration:1.2.3');
    expect(META_KEYS.rolloutEtag('https://b.example', 'stable')).toBe('update:rollout-etag:https://b.example:stable');
    await setMeta(META_KEYS.uploadState, { failures: 2, next_at: 10 });
    expect(await getMeta(META_KEYS.uploadState)).toEqual({ failures: 2, next_at: 10 });
    await bumpCounters({ scored: 3 });
    await bumpCounters({ scored: 2 });
    expect(await getMeta(META_KEYS.counter('scored'))).toBe(5);
    expect((await getCounters()).scored).toBe(5);
  });
});

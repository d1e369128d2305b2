/**
 * `npm run package` and the release keys a build pins (release-keys.json, written by vite.config.ts):
 * a release pins at least one key, and only keys committed in extension/release-keys.json.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { UntrustedReleaseKeysError, packageExtension } from '../../scripts/package-extension.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

/** A minimal https build pinning `keys`. */
function build(keys: Array<{ key_id: string; origin: string }>): { dir: string; out: string } {
  const root = mkdtempSync(join(tmpdir(), 'ytsent-package-keys-'));
  dirs.push(root);
  const dir = join(root, 'extension');
  mkdirSync(dir);
  writeFileSync(join(dir, 'manifest.json'), JSON.stringify({ manifest_version: 3, version: '9.9.9', host_permissions: ['https://www.youtube.com/*', 'https://ytsent.example.com/*'] }));
  writeFileSync(join(dir, 'release-keys.json'), JSON.stringify({ keys }));
  return { dir, out: root };
}

const COMMITTED = { key_id: '0123456789abcdef', origin: 'extension/release-keys.json' };
const TEST_KEY = { key_id: 'fedcba9876543210', origin: 'YTSENT_EXTRA_RELEASE_KEYS' };

describe('npm run package and release keys', () => {
  it('packages a build that pins committed keys only', () => {
    const { dir, out } = build([COMMITTED]);
    expect(packageExtension(dir, out).files).toBe(2);
  });

  it('refuses a build that also trusts a development or test key, unless asked for a development package', () => {
    const { dir, out } = build([COMMITTED, TEST_KEY]);
    expect(() => packageExtension(dir, out)).toThrow(UntrustedReleaseKeysError);
    expect(() => packageExtension(dir, out)).toThrow(/fedcba9876543210 from YTSENT_EXTRA_RELEASE_KEYS/);
    expect(packageExtension(dir, out, { allowDevBackend: true }).files).toBe(2);
  });

  it('refuses a build that pins no key: it could never update its model', () => {
    const { dir, out } = build([]);
    expect(() => packageExtension(dir, out)).toThrow(/pins no release key.*npm run keygen/);
  });
});

/**
 * The release key of this end-to-end run (made by global-setup.ts, pinned into the extension build)
 * and a second key the build does not trust, made here per test file.
 */
import { readFileSync } from 'node:fs';
import { inject } from 'vitest';
import { generateReleaseKey, parseReleaseKey, type ReleaseKeyFile } from '../../core/release-signature.js';

let pinned: Promise<ReleaseKeyFile> | null = null;

/**
 * Outside vitest (the extension benchmark publishes models with these helpers), the key file named
 * by this variable stands for the one global-setup.ts provides.
 */
export const RELEASE_KEY_FILE_ENV = 'YTSENT_E2E_RELEASE_KEY_FILE';

/** The key whose public half the test build pins. */
export function releaseKey(): Promise<ReleaseKeyFile> {
  pinned ??= parseReleaseKey(JSON.parse(readFileSync(process.env[RELEASE_KEY_FILE_ENV] ?? inject('releaseKeyFile'), 'utf8')));
  return pinned;
}

/** A valid key the build does not pin. */
export function untrustedKey(): Promise<ReleaseKeyFile> {
  return generateReleaseKey();
}

/**
 * Before the end-to-end tests: Chromium from Debian's package (installed if missing; tests never
 * download a browser), a release key pair made for this run, and a fresh extension build that pins
 * its public half (YTSENT_EXTRA_RELEASE_KEYS, read by vite.config.ts; a test build only, which
 * `npm run package` refuses). Tests sign the models they publish with the secret half
 * (release-key.ts); it lives in a temporary directory that is deleted afterwards.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import { generateReleaseKey } from '../../core/release-signature.js';
import { CHROMIUM, REPO_ROOT } from './browser.js';

export default async function setup(project: TestProject): Promise<() => void> {
  if (!existsSync(CHROMIUM)) {
    console.log('installing Debian chromium for the end-to-end tests…');
    const apt = (args: string[]) => execFileSync('apt-get', args, { stdio: 'inherit', env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
    try {
      apt(['install', '-y', 'chromium']);
    } catch {
      // A fresh machine may have no package lists yet.
      apt(['update']);
      apt(['install', '-y', 'chromium']);
    }
  }
  const keyDir = mkdtempSync(join(tmpdir(), 'ytsent-e2e-release-key-'));
  const key = await generateReleaseKey();
  const keyFile = join(keyDir, 'release-key.json');
  writeFileSync(keyFile, JSON.stringify(key), { mode: 0o600 });
  project.provide('releaseKeyFile', keyFile);
  execFileSync(process.execPath, [`${REPO_ROOT}/node_modules/vite/bin/vite.js`, 'build', '--logLevel', 'warn'], {
    cwd: REPO_ROOT,
    stdio: 'inherit',
    env: { ...process.env, YTSENT_EXTRA_RELEASE_KEYS: key.public_key },
  });
  return () => rmSync(keyDir, { recursive: true, force: true });
}

declare module 'vitest' {
  export interface ProvidedContext {
    /** The run's release key pair (release-key.ts reads it). */
    releaseKeyFile: string;
  }
}

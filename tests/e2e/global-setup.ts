/**
 * Before the end-to-end tests: Chromium from Debian's package (installed if missing; tests never
 * download a browser) and a fresh extension build.
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { CHROMIUM, REPO_ROOT } from './browser.js';

export default function setup(): void {
  if (!existsSync(CHROMIUM)) {
    console.log('installing Debian chromium for the end-to-end tests…');
    execFileSync('apt-get', ['install', '-y', '--no-install-recommends', 'chromium'], {
      stdio: 'inherit',
      env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
    });
  }
  execFileSync(process.execPath, [`${REPO_ROOT}/node_modules/vite/bin/vite.js`, 'build', '--logLevel', 'warn'], { cwd: REPO_ROOT, stdio: 'inherit' });
}

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
    const apt = (args: string[]) => execFileSync('apt-get', args, { stdio: 'inherit', env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
    try {
      apt(['install', '-y', 'chromium']);
    } catch {
      // A fresh machine may have no package lists yet.
      apt(['update']);
      apt(['install', '-y', 'chromium']);
    }
  }
  execFileSync(process.execPath, [`${REPO_ROOT}/node_modules/vite/bin/vite.js`, 'build', '--logLevel', 'warn'], { cwd: REPO_ROOT, stdio: 'inherit' });
}

/**
 * `npm run package` refuses a build whose backend is not https; http on loopback only when a
 * development or test build asks for it explicitly.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { InsecureBackendError, checkBackend, packageExtension } from '../../scripts/package-extension.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

/** A minimal "built extension" whose backend host permission is `backend`. */
function build(backend: string): { dir: string; out: string } {
  const root = mkdtempSync(join(tmpdir(), 'ytsent-package-'));
  dirs.push(root);
  const dir = join(root, 'extension');
  mkdirSync(dir);
  writeFileSync(join(dir, 'manifest.json'), JSON.stringify({ manifest_version: 3, version: '9.9.9', host_permissions: ['https://www.youtube.com/*', backend] }));
  writeFileSync(join(dir, 'background.js'), '// built code\n');
  return { dir, out: root };
}

describe('npm run package', () => {
  it('packages a build whose backend is https', () => {
    const { dir, out } = build('https://ytsent.example.com/*');
    const result = packageExtension(dir, out);
    expect(result).toMatchObject({ files: 2, path: join(out, 'ytsent-extension-9.9.9.zip') });
    expect(existsSync(result.path)).toBe(true);
  });

  it('refuses a build that talks to its backend over http, naming the fix', () => {
    for (const backend of ['http://127.0.0.1/*', 'http://localhost/*', 'http://ytsent.example.com/*']) {
      const { dir, out } = build(backend);
      expect(() => packageExtension(dir, out), backend).toThrow(InsecureBackendError);
      expect(() => packageExtension(dir, out), backend).toThrow(/not https.*VITE_YTSENT_BACKEND=https:\/\//);
      expect(existsSync(join(out, 'ytsent-extension-9.9.9.zip')), backend).toBe(false);
    }
  });

  it('allows http on loopback only, and only when a dev or test build asks for it', () => {
    const local = build('http://127.0.0.1/*');
    expect(() => packageExtension(local.dir, local.out)).toThrow(/--allow-dev-backend/);
    expect(packageExtension(local.dir, local.out, { allowDevBackend: true }).files).toBe(2);
    expect(() => checkBackend({ host_permissions: ['http://localhost/*'] }, true)).not.toThrow();
    expect(() => checkBackend({ host_permissions: ['http://[::1]/*'] }, true)).not.toThrow();
    // Not loopback: never, flag or not.
    for (const p of ['http://ytsent.example.com/*', 'http://127.0.0.1.example.com/*', 'http://localhost.example.com/*']) {
      expect(() => checkBackend({ host_permissions: [p] }, true), p).toThrow(InsecureBackendError);
    }
  });

  it('the CLI exits 1 with the reason, and packages a local build with --allow-dev-backend or YTSENT_ALLOW_DEV_BACKEND=1', () => {
    const { dir, out } = build('http://127.0.0.1/*');
    const cli = (args: string[], env: Record<string, string> = {}) => {
      try {
        const stdout = execFileSync(process.execPath, ['--import', 'tsx', 'scripts/package-extension.ts', '--dir', dir, '--out', out, ...args], {
          encoding: 'utf8',
          stdio: 'pipe',
          env: { ...process.env, YTSENT_ALLOW_DEV_BACKEND: '', ...env },
        });
        return { code: 0, output: stdout };
      } catch (e) {
        const err = e as { status: number; stderr: string };
        return { code: err.status, output: err.stderr };
      }
    };
    const refused = cli([]);
    expect(refused.code).toBe(1);
    expect(refused.output).toMatch(/^package: the build's backend is not https \(http:\/\/127\.0\.0\.1\/\*\)/);
    expect(existsSync(join(out, 'ytsent-extension-9.9.9.zip'))).toBe(false);
    expect(cli(['--allow-dev-backend'])).toMatchObject({ code: 0, output: expect.stringContaining('ytsent-extension-9.9.9.zip: 2 files') });
    rmSync(join(out, 'ytsent-extension-9.9.9.zip'));
    expect(cli([], { YTSENT_ALLOW_DEV_BACKEND: '1' })).toMatchObject({ code: 0 });
  });
});

/**
 * `npm run package [-- --dir DIR --out DIR]`: zips dist/extension (build it first with `npm run
 * build`) into dist/ytsent-extension-<version>.zip, ready for the Chrome Web Store or for sharing, and checks the
 * size budget (15 MB).
 *
 * A release talks to its backend over https only: model updates and telemetry over plain http can
 * be read and changed by anyone on the path. The build's backend (VITE_YTSENT_BACKEND, default
 * http://127.0.0.1:8787) shows in the manifest's host permissions, so packaging refuses a build
 * whose backend is not https. A local development or test build may use http://127.0.0.1 or
 * http://localhost when asked for explicitly: `npm run package -- --allow-dev-backend` or
 * YTSENT_ALLOW_DEV_BACKEND=1.
 *
 * A release also trusts exactly the release keys committed in extension/release-keys.json
 * (docs/RELEASES.md): the build lists the keys it pins in release-keys.json (vite.config.ts), and
 * packaging refuses a build that pins none (it could never update its model) or one that pins a
 * development or test key (YTSENT_EXTRA_RELEASE_KEYS), except with the same development flag.
 *
 * A zip of an old build would ship code (or a model) other than the one in the tree: packaging
 * dist/extension refuses a build older than any of its sources (BUILD_INPUTS), naming the newest
 * one, unless `--build` is given, which runs `npm run build` first.
 */
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync, statSync, writeFileSync, existsSync } from 'node:fs';
import { join, relative } from 'node:path';
import { parseArgs } from 'node:util';
import { zipSync, type Zippable } from 'fflate';
import { userPath } from '../node-runtime/io.js';

export const MAX_ZIP_BYTES = 15 * 1024 * 1024;

/** Host permissions every build has that are not the backend. */
const NOT_BACKEND = new Set(['https://www.youtube.com/*']);
const LOOPBACK = /^http:\/\/(?:127\.0\.0\.1|localhost|\[::1\])(?::\d+)?\/\*$/;

export class InsecureBackendError extends Error {
  override name = 'InsecureBackendError';
}

/**
 * Throws unless every backend host permission of the built manifest is https (loopback http too,
 * with `allowDevBackend`).
 */
export function checkBackend(manifest: { host_permissions?: string[] }, allowDevBackend: boolean): void {
  const backends = (manifest.host_permissions ?? []).filter((p) => !NOT_BACKEND.has(p));
  const refused = backends.filter((p) => !p.startsWith('https://') && !(allowDevBackend && LOOPBACK.test(p)));
  if (refused.length === 0) return;
  const local = refused.every((p) => LOOPBACK.test(p));
  throw new InsecureBackendError(
    `the build's backend is not https (${refused.join(', ')}): build a release with VITE_YTSENT_BACKEND=https://<your backend> npm run build` +
      (local ? '; for a local development or test build, package with --allow-dev-backend (or YTSENT_ALLOW_DEV_BACKEND=1)' : ''),
  );
}

export class UntrustedReleaseKeysError extends Error {
  override name = 'UntrustedReleaseKeysError';
}

/** Where the build's pinned keys may come from in a release (vite.config.ts writes the origin). */
const COMMITTED_KEYS = 'extension/release-keys.json';

/**
 * Throws unless the build pins at least one release key and only committed ones (any, with
 * `allowDev`). A build without release-keys.json was not made by vite.config.ts: nothing to check.
 */
export function checkReleaseKeys(dir: string, allowDev: boolean): void {
  const path = join(dir, 'release-keys.json');
  if (!existsSync(path)) return;
  const { keys } = JSON.parse(readFileSync(path, 'utf8')) as { keys: Array<{ key_id: string; origin: string }> };
  if (allowDev) return;
  const extra = keys.filter((k) => k.origin !== COMMITTED_KEYS);
  if (extra.length > 0) {
    throw new UntrustedReleaseKeysError(
      `the build trusts release keys that are not in ${COMMITTED_KEYS} (${extra.map((k) => `${k.key_id} from ${k.origin}`).join(', ')}): build a release without YTSENT_EXTRA_RELEASE_KEYS`,
    );
  }
  if (keys.length === 0)
    throw new UntrustedReleaseKeysError(`the build pins no release key, so it could never accept a model update: run \`npm run keygen\`, commit ${COMMITTED_KEYS} and build again`);
}

export interface PackageOptions {
  /** Accept a backend on http://127.0.0.1 or http://localhost (development and test builds only). */
  allowDevBackend?: boolean;
  /** Repository root whose BUILD_INPUTS the build must not be older than (unset: not checked). */
  sourcesRoot?: string;
  /** Called when the build is stale; it rebuilds `dir`, which is then checked again. Unset: refuse. */
  rebuild?: () => void;
}

/** What `npm run build` reads, relative to the repository root (node_modules aside). */
export const BUILD_INPUTS = ['extension', 'core', 'models', 'vite.config.ts', 'package.json', 'package-lock.json'];

export class StaleBuildError extends Error {
  override name = 'StaleBuildError';
}

function listFiles(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string): void => {
    for (const name of readdirSync(d)) {
      const path = join(d, name);
      if (statSync(path).isDirectory()) walk(path);
      else out.push(path);
    }
  };
  walk(dir);
  return out;
}

/**
 * The newest source file modified after the build in `dir` started (the oldest file the build
 * wrote), or null when the build is newer than every source.
 */
export function newerSource(dir: string, root: string): { path: string; mtimeMs: number } | null {
  const built = Math.min(...listFiles(dir).map((f) => statSync(f).mtimeMs));
  let newest: { path: string; mtimeMs: number } | null = null;
  for (const input of BUILD_INPUTS) {
    const path = join(root, input);
    if (!existsSync(path)) continue;
    for (const f of statSync(path).isDirectory() ? listFiles(path) : [path]) {
      const mtimeMs = statSync(f).mtimeMs;
      if (mtimeMs > built && (!newest || mtimeMs > newest.mtimeMs)) newest = { path: relative(root, f), mtimeMs };
    }
  }
  return newest;
}

export function packageExtension(dir: string, outDir: string, options: PackageOptions = {}): { path: string; bytes: number; files: number } {
  if (!existsSync(join(dir, 'manifest.json'))) throw new Error(`${dir}: no manifest.json (run npm run build first)`);
  if (options.sourcesRoot) {
    let stale = newerSource(dir, options.sourcesRoot);
    if (stale && options.rebuild) {
      options.rebuild();
      stale = newerSource(dir, options.sourcesRoot);
    }
    if (stale) {
      throw new StaleBuildError(
        `${dir} is older than its sources (${stale.path} changed at ${new Date(stale.mtimeMs).toISOString()}, after the build): ` + 'run npm run build first, or package with --build to build now',
      );
    }
  }
  checkBackend(JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')) as { host_permissions?: string[] }, options.allowDevBackend ?? false);
  checkReleaseKeys(dir, options.allowDevBackend ?? false);
  const files: Zippable = {};
  let count = 0;
  const walk = (d: string): void => {
    for (const name of readdirSync(d).sort()) {
      const path = join(d, name);
      if (statSync(path).isDirectory()) walk(path);
      else {
        // Fixed timestamps: the same build always gives the same zip.
        files[relative(dir, path).split('\\').join('/')] = [new Uint8Array(readFileSync(path)), { mtime: new Date('2026-01-01T00:00:00Z') }];
        count++;
      }
    }
  };
  walk(dir);
  const version = (JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')) as { version: string }).version;
  const zip = zipSync(files, { level: 9 });
  const path = join(outDir, `ytsent-extension-${version}.zip`);
  writeFileSync(path, zip);
  return { path, bytes: zip.byteLength, files: count };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const root = join(import.meta.dirname, '..');
  const { values } = parseArgs({
    options: {
      'allow-dev-backend': { type: 'boolean', default: false },
      build: { type: 'boolean', default: false },
      dir: { type: 'string' },
      out: { type: 'string' },
    },
  });
  const allowDevBackend = values['allow-dev-backend'] || process.env.YTSENT_ALLOW_DEV_BACKEND === '1';
  // The repository's own build is checked against its sources; a --dir is the caller's business.
  const dir = values.dir ? userPath(values.dir) : join(root, 'dist', 'extension');
  const out = values.out ? userPath(values.out) : join(root, 'dist');
  const rebuild = (): void => {
    console.error('package: building the extension first (npm run build)...');
    const build = spawnSync(process.platform === 'win32' ? 'npm.cmd' : 'npm', ['run', 'build'], { cwd: root, stdio: ['ignore', 'inherit', 'inherit'] });
    if (build.status !== 0) throw new Error(`npm run build failed (exit ${build.status ?? build.signal})`);
  };
  let result: ReturnType<typeof packageExtension>;
  try {
    if (values.build && !values.dir && !existsSync(join(dir, 'manifest.json'))) rebuild();
    result = packageExtension(dir, out, {
      allowDevBackend,
      sourcesRoot: values.dir ? undefined : root,
      rebuild: values.build ? rebuild : undefined,
    });
  } catch (e) {
    console.error(`package: ${e instanceof Error ? e.message : String(e)}`);
    process.exit(1);
  }
  console.log(`${relative(process.cwd(), result.path)}: ${result.files} files, ${(result.bytes / 1024 / 1024).toFixed(2)} MB (budget ${MAX_ZIP_BYTES / 1024 / 1024} MB)`);
  if (result.bytes > MAX_ZIP_BYTES) {
    console.error('package: over the size budget');
    process.exitCode = 1;
  }
}

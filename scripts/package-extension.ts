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
 */
import { readdirSync, readFileSync, statSync, writeFileSync, existsSync } from 'node:fs';
import { join, relative } from 'node:path';
import { parseArgs } from 'node:util';
import { zipSync, type Zippable } from 'fflate';

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
  if (keys.length === 0) throw new UntrustedReleaseKeysError(`the build pins no release key, so it could never accept a model update: run \`npm run keygen\`, commit ${COMMITTED_KEYS} and build again`);
}

export interface PackageOptions {
  /** Accept a backend on http://127.0.0.1 or http://localhost (development and test builds only). */
  allowDevBackend?: boolean;
}

export function packageExtension(dir: string, outDir: string, options: PackageOptions = {}): { path: string; bytes: number; files: number } {
  if (!existsSync(join(dir, 'manifest.json'))) throw new Error(`${dir}: no manifest.json (run npm run build first)`);
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
      dir: { type: 'string', default: join(root, 'dist', 'extension') },
      out: { type: 'string', default: join(root, 'dist') },
    },
  });
  const allowDevBackend = values['allow-dev-backend'] || process.env.YTSENT_ALLOW_DEV_BACKEND === '1';
  let result: ReturnType<typeof packageExtension>;
  try {
    result = packageExtension(values.dir, values.out, { allowDevBackend });
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

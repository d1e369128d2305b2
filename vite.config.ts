/**
 * Builds the Chrome extension (MV3) with @crxjs/vite-plugin: `npm run build` → dist/extension.
 * The newest committed model bundle under models/ is bundled as the default model, so scoring works
 * offline from the first install. The release keys the updater trusts are pinned at build time.
 */
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { crx } from '@crxjs/vite-plugin';
import { defineConfig, type Plugin } from 'vite';
import manifest from './extension/manifest.config.js';
import { compareSemver, SEMVER_RE } from './core/manifest.js';
import { PinnedKeySchema, type PinnedKey } from './core/release-signature.js';

const ROOT = import.meta.dirname;
const VIRTUAL_ID = 'virtual:ytsent-default-model';

/** The newest models/<version>/ bundle, emitted as extension assets and described by a virtual module. */
function defaultModel(): Plugin {
  const modelsDir = join(ROOT, 'models');
  const version = readdirSync(modelsDir)
    .filter((d) => SEMVER_RE.test(d))
    .sort(compareSemver)
    .at(-1);
  if (!version) throw new Error('no model bundle under models/: run npm run train');
  const dir = join(modelsDir, version);
  const bundleManifest = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')) as { files: Array<{ path: string }> };
  return {
    name: 'ytsent-default-model',
    resolveId: (id) => (id === VIRTUAL_ID ? `\0${VIRTUAL_ID}` : null),
    load(id) {
      if (id !== `\0${VIRTUAL_ID}`) return null;
      return `export const DEFAULT_MODEL = ${JSON.stringify({ version, base: `models/${version}/`, manifest: bundleManifest })};`;
    },
    generateBundle() {
      for (const f of bundleManifest.files) {
        this.emitFile({ type: 'asset', fileName: `models/${version}/${f.path}`, source: readFileSync(join(dir, f.path)) });
      }
    },
  };
}

const KEYS_ID = 'virtual:ytsent-release-keys';
/** Development and test builds only: comma-separated base64 Ed25519 public keys to trust as well. */
export const EXTRA_KEYS_ENV = 'YTSENT_EXTRA_RELEASE_KEYS';

/**
 * The public keys model manifests must be signed with (core/release-signature.ts): the committed
 * extension/release-keys.json, plus any in $YTSENT_EXTRA_RELEASE_KEYS, which is how `npm start`
 * and the end-to-end tests pin their own throwaway keys. The build also writes release-keys.json
 * (key ids and where each came from) next to manifest.json, so `npm run package` can refuse a
 * build that trusts a key the repository does not.
 */
function releaseKeys(): Plugin {
  const committed = JSON.parse(readFileSync(join(ROOT, 'extension/release-keys.json'), 'utf8')) as { keys: unknown[] };
  const keys: Array<PinnedKey & { origin: string }> = committed.keys.map((k) => ({ ...PinnedKeySchema.parse(k), origin: 'extension/release-keys.json' }));
  for (const publicKey of (process.env[EXTRA_KEYS_ENV] ?? '')
    .split(',')
    .map((k) => k.trim())
    .filter(Boolean)) {
    const raw = Buffer.from(publicKey, 'base64');
    if (raw.length !== 32) throw new Error(`${EXTRA_KEYS_ENV}: ${publicKey} is not a 32-byte Ed25519 public key in base64`);
    const key_id = createHash('sha256').update(raw).digest('hex').slice(0, 16);
    if (!keys.some((k) => k.key_id === key_id)) keys.push({ ...PinnedKeySchema.parse({ key_id, public_key: publicKey }), origin: EXTRA_KEYS_ENV });
  }
  return {
    name: 'ytsent-release-keys',
    resolveId: (id) => (id === KEYS_ID ? `\0${KEYS_ID}` : null),
    load(id) {
      if (id !== `\0${KEYS_ID}`) return null;
      return `export const RELEASE_KEYS = Object.freeze(${JSON.stringify(keys.map(({ origin: _, ...k }) => k))}.map(Object.freeze));`;
    },
    generateBundle() {
      this.emitFile({ type: 'asset', fileName: 'release-keys.json', source: JSON.stringify({ keys: keys.map((k) => ({ key_id: k.key_id, origin: k.origin })) }, null, 2) + '\n' });
    },
  };
}

export default defineConfig({
  root: resolve(ROOT, 'extension'),
  publicDir: resolve(ROOT, 'extension/public'),
  envDir: ROOT,
  plugins: [crx({ manifest }), defaultModel(), releaseKeys()],
  build: {
    outDir: resolve(ROOT, 'dist/extension'),
    emptyOutDir: true,
    target: 'chrome120',
    // onnxruntime-web's wasm is ~27 MB; it is loaded from the package, never inlined.
    assetsInlineLimit: 0,
    chunkSizeWarningLimit: 2048,
    rollupOptions: {
      input: { offscreen: resolve(ROOT, 'extension/offscreen/offscreen.html') },
    },
  },
  // Vite must not pre-bundle onnxruntime-web: its wasm is located relative to its own module URL.
  optimizeDeps: { exclude: ['onnxruntime-web'] },
});

/**
 * Builds the Chrome extension (MV3) with @crxjs/vite-plugin: `npm run build` → dist/extension.
 * The newest committed model bundle under models/ is bundled as the default model, so scoring works
 * offline from the first install.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { crx } from '@crxjs/vite-plugin';
import { defineConfig, type Plugin } from 'vite';
import manifest from './extension/manifest.config.js';
import { compareSemver, SEMVER_RE } from './core/manifest.js';

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

export default defineConfig({
  root: resolve(ROOT, 'extension'),
  publicDir: resolve(ROOT, 'extension/public'),
  envDir: ROOT,
  plugins: [crx({ manifest }), defaultModel()],
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

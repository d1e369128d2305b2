/**
 * Model bundles for end-to-end tests that need language identification whatever model is bundled:
 * a copy of the newest committed bundle that keeps its own language classifier when it has one,
 * and otherwise gets a neutral one (every Latin-script text English, so only the writing system
 * decides: Cyrillic, CJK, Hangul, Thai... are unsupported). Sentiment probabilities are the
 * bundle's own. Served by a minimal registry (the three routes the updater reads), no wrangler.
 */
import { createHash } from 'node:crypto';
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { join } from 'node:path';
import type { ModelManifest } from '../../core/manifest.js';
import { encodeSignature, signManifest } from '../../core/release-signature.js';
import { defaultModelDir } from '../../node-runtime/bundle.js';
import type { ExtensionBrowser } from './browser.js';
import { releaseKey } from './release-key.js';

/** Version of the bundle the extension build ships (the newest committed one). */
export const BUNDLED_VERSION: string = (JSON.parse(readFileSync(join(defaultModelDir(), 'manifest.json'), 'utf8')) as { version: string }).version;

/**
 * Writes the variant under `tmp` and returns its directory and version. The source is the newest
 * committed bundle, or YTSENT_E2E_MODEL_DIR (to run these tests against another bundle).
 */
export function languageVariant(tmp: string, src: string = process.env.YTSENT_E2E_MODEL_DIR ?? defaultModelDir()): { dir: string; version: string; synthetic: boolean } {
  const manifest = JSON.parse(readFileSync(join(src, 'manifest.json'), 'utf8')) as ModelManifest;
  const version = `${manifest.version}-e2e-lang`;
  const dir = join(tmp, version);
  mkdirSync(dir, { recursive: true });
  for (const f of manifest.files) {
    mkdirSync(join(dir, f.path, '..'), { recursive: true });
    copyFileSync(join(src, f.path), join(dir, f.path));
  }
  manifest.version = version;
  const synthetic = manifest.format === 'ngram-onnx' && !manifest.languages;
  if (manifest.format === 'ngram-onnx' && !manifest.languages) {
    // Two columns (en, other), all weights 0: "other" never reaches its threshold.
    const bytes = new Uint8Array(2 * 2);
    writeFileSync(join(dir, 'langid.bin'), bytes);
    manifest.files.push({ path: 'langid.bin', bytes: bytes.byteLength, sha256: createHash('sha256').update(bytes).digest('hex') });
    manifest.languages = {
      supported: ['en'],
      metrics: {},
      langid: { file: 'langid.bin', labels: ['en', 'other'], buckets: 2, scales: [1, 1], bias: [0, 0], other_threshold: 0.99 },
    };
  }
  writeFileSync(join(dir, 'manifest.json'), JSON.stringify(manifest));
  return { dir, version, synthetic };
}

/**
 * Serves `dir` as the `stable` channel of a registry (signed with the run's release key), points the
 * extension at it and has it update; returns a function that stops the server.
 */
export async function installModel(b: ExtensionBrowser, dir: string): Promise<{ version: string; close(): Promise<void> }> {
  const manifestBytes = readFileSync(join(dir, 'manifest.json'));
  const manifest = JSON.parse(manifestBytes.toString('utf8')) as ModelManifest;
  const signature = encodeSignature(await signManifest(new Uint8Array(manifestBytes), await releaseKey()));
  const server = createServer((req, res) => {
    const url = req.url ?? '';
    if (url === '/v1/channels/stable') return res.writeHead(200, { 'Content-Type': 'application/json' }).end(manifestBytes);
    if (url === `/v1/models/${encodeURIComponent(manifest.version)}/manifest.sig`) return res.writeHead(200, { 'Content-Type': 'application/json' }).end(signature);
    const prefix = `/v1/models/${encodeURIComponent(manifest.version)}/files/`;
    const file = url.startsWith(prefix) ? manifest.files.find((f) => f.path === decodeURIComponent(url.slice(prefix.length))) : undefined;
    if (file) return res.writeHead(200, { 'Content-Type': 'application/octet-stream' }).end(readFileSync(join(dir, file.path)));
    res.writeHead(404).end();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  await b.background('update-settings', { backend_url: `http://127.0.0.1:${port}` });
  const update = await b.background<{ status: string; detail?: string }>('check-updates');
  if (update.status !== 'updated') throw new Error(`model ${manifest.version} not installed: ${update.status} ${update.detail ?? ''}`);
  return { version: manifest.version, close: () => new Promise<void>((r) => server.close(() => r())) };
}

/**
 * Loading model bundles from disk: manifest validation and sha256/size verification of every file,
 * so a CLI never scores with a truncated or tampered model.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as ort from 'onnxruntime-node';
import { compareSemver, parseManifest, SEMVER_RE, type ModelManifest, type NgramOnnxManifest } from '../core/manifest.js';
import { NgramScorer, type OrtModule } from '../core/scorer.js';
import { InputError } from './io.js';
import { sha256Hex } from './sha256.js';

export const REPO_ROOT = resolve(fileURLToPath(new URL('..', import.meta.url)));
export const MODELS_DIR = join(REPO_ROOT, 'models');

export { sha256Hex };

export interface LoadedBundle {
  dir: string;
  manifest: ModelManifest;
  /** Verified file contents by bundle path. */
  files: Map<string, Uint8Array>;
}

/** Read and verify a bundle directory. Throws InputError naming what is wrong. */
export function loadBundle(dir: string): LoadedBundle {
  const manifestPath = join(dir, 'manifest.json');
  if (!existsSync(manifestPath)) throw new InputError(`${dir}: not a model bundle (no manifest.json)`);
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(manifestPath, 'utf8'));
  } catch (err) {
    throw new InputError(`${manifestPath}: invalid JSON (${(err as Error).message})`);
  }
  let manifest: ModelManifest;
  try {
    manifest = parseManifest(raw);
  } catch (err) {
    throw new InputError(`${manifestPath}: ${(err as Error).message}`);
  }
  const files = new Map<string, Uint8Array>();
  for (const f of manifest.files) {
    const path = join(dir, f.path);
    if (!existsSync(path)) throw new InputError(`${dir}: missing file ${f.path}`);
    const bytes = new Uint8Array(readFileSync(path));
    if (bytes.byteLength !== f.bytes) {
      throw new InputError(`${dir}: ${f.path} is ${bytes.byteLength} bytes, manifest says ${f.bytes}`);
    }
    const digest = sha256Hex(bytes);
    if (digest !== f.sha256) throw new InputError(`${dir}: ${f.path} sha256 ${digest} does not match manifest ${f.sha256}`);
    files.set(f.path, bytes);
  }
  return { dir, manifest, files };
}

/** The committed bundle with the highest version under models/. */
export function defaultModelDir(modelsDir: string = MODELS_DIR): string {
  const versions = existsSync(modelsDir) ? readdirSync(modelsDir).filter((d) => SEMVER_RE.test(d) && existsSync(join(modelsDir, d, 'manifest.json'))) : [];
  if (versions.length === 0) throw new InputError(`${modelsDir}: no model bundle found (run npm run train)`);
  versions.sort(compareSemver);
  return join(modelsDir, versions[versions.length - 1]!);
}

/** A scorer on onnxruntime-node, single-threaded (what the benchmarks and CLIs measure). */
export async function createNodeScorer(dir: string = defaultModelDir()): Promise<NgramScorer> {
  const bundle = loadBundle(dir);
  if (bundle.manifest.format !== 'ngram-onnx') {
    throw new InputError(`${dir}: format ${bundle.manifest.format} is not supported by the Node CLIs (ngram-onnx only)`);
  }
  const manifest: NgramOnnxManifest = bundle.manifest;
  const langidFile = manifest.languages?.langid.file;
  return NgramScorer.create(
    ort as unknown as OrtModule,
    manifest,
    bundle.files.get(manifest.model.file)!,
    { intraOpNumThreads: 1, interOpNumThreads: 1, executionMode: 'sequential' },
    langidFile ? bundle.files.get(langidFile) : undefined,
  );
}

/**
 * Writes a model bundle: model.onnx plus manifest.json listing every file with sha256 and size,
 * validated against the core manifest schema before it is written.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseManifest, type ModelManifest } from '../core/manifest.js';
import { sha256Hex } from '../node-runtime/sha256.js';

/** `files` maps bundle paths to contents; the manifest's `files` list is filled in here. */
export function writeBundle(dir: string, manifest: Omit<ModelManifest, 'files'>, files: Record<string, Uint8Array>): ModelManifest {
  const full = parseManifest({
    ...manifest,
    files: Object.entries(files).map(([path, bytes]) => ({ path, sha256: sha256Hex(bytes), bytes: bytes.byteLength })),
  });
  mkdirSync(dir, { recursive: true });
  for (const [path, bytes] of Object.entries(files)) {
    mkdirSync(join(dir, path, '..'), { recursive: true });
    writeFileSync(join(dir, path), bytes);
  }
  writeFileSync(join(dir, 'manifest.json'), JSON.stringify(full, null, 2) + '\n');
  return full;
}

/**
 * Stage 7, register: copy a bundle that passed every gate into models/<version>/. Never runs from
 * cache (it is a side effect on the repository) but is idempotent: registering the same model.onnx
 * again is a no-op, and a different model under an existing version is refused.
 */
import { copyFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { NgramOnnxManifest } from '../../core/manifest.js';
import { sha256Hex } from '../../node-runtime/sha256.js';

export class RegisterError extends Error {}

export function register(exportDir: string, modelsDir: string, runRecordJson: string): { version: string; dir: string; status: 'new' | 'unchanged' } {
  const manifest = JSON.parse(readFileSync(join(exportDir, 'manifest.json'), 'utf8')) as NgramOnnxManifest;
  const target = join(modelsDir, manifest.version);
  // Every file counts: a bundle whose model.onnx is unchanged but whose language table differs is a different model.
  const fingerprint = (m: NgramOnnxManifest): string =>
    m.files
      .map((f) => `${f.path}:${f.sha256}`)
      .sort()
      .join(',');
  if (existsSync(join(target, 'manifest.json'))) {
    const existing = JSON.parse(readFileSync(join(target, 'manifest.json'), 'utf8')) as NgramOnnxManifest;
    if (fingerprint(existing) === fingerprint(manifest)) return { version: manifest.version, dir: target, status: 'unchanged' };
    const existingSha = existing.files.find((f) => f.path === existing.model.file)?.sha256;
    throw new RegisterError(`${target} already holds a different model (model sha256 ${existingSha}); released versions are immutable: bump model.version in the params`);
  }
  mkdirSync(target, { recursive: true });
  for (const f of manifest.files) {
    mkdirSync(join(target, f.path, '..'), { recursive: true });
    copyFileSync(join(exportDir, f.path), join(target, f.path));
    if (sha256Hex(readFileSync(join(target, f.path))) !== f.sha256) throw new RegisterError(`copy of ${f.path} does not match its sha256`);
  }
  writeFileSync(join(target, 'training-run.json'), runRecordJson);
  // The champion/challenger report: its sha256 is in the manifest's blessing, so it travels along.
  if (existsSync(join(exportDir, 'blessing.json'))) copyFileSync(join(exportDir, 'blessing.json'), join(target, 'blessing.json'));
  copyFileSync(join(exportDir, 'manifest.json'), join(target, 'manifest.json'));
  return { version: manifest.version, dir: target, status: 'new' };
}

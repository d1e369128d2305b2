/**
 * Which model is active, and where its bytes are: downloaded versions live in the `models` table;
 * the bundled default lives in the extension package. Switching is one transaction, so a reader
 * sees the old model or the new one, never a mix.
 */
import { parseManifest, type ModelManifest } from '../../core/manifest.js';
import { db, type ModelRow } from './db.js';
import { BUNDLED } from './default-model.js';
import { sha256Hex } from './sha256.js';

export interface ActiveModel {
  version: string;
  manifest: ModelManifest;
  source: 'bundled' | 'downloaded';
}

/**
 * The active model is read on every scoring request; it changes only through the functions of this
 * module (and deleting all data, which calls {@link forgetActiveModel}), all in the service worker,
 * so it is kept in memory between changes.
 */
let active: Promise<ActiveModel> | null = null;

export function activeModel(): Promise<ActiveModel> {
  active ??= (async (): Promise<ActiveModel> => {
    const row = await db().models.where('state').equals('active').first();
    if (row) return { version: row.version, manifest: row.manifest, source: 'downloaded' };
    return { version: BUNDLED.version, manifest: BUNDLED.manifest, source: 'bundled' };
  })();
  active.catch(() => (active = null));
  return active;
}

/** Drops the remembered active model: the next read goes to the database. */
export function forgetActiveModel(): void {
  active = null;
}

/** A model's files, verified against its manifest (sha256 and size) every time they are loaded. */
export async function loadModelFiles(version: string): Promise<{ manifest: ModelManifest; files: Map<string, Uint8Array> }> {
  let manifest: ModelManifest;
  const files = new Map<string, Uint8Array>();
  if (version === BUNDLED.version && !(await db().models.get(version))) {
    manifest = parseManifest(BUNDLED.manifest);
    for (const f of manifest.files) {
      const res = await fetch(chrome.runtime.getURL(BUNDLED.base + f.path));
      if (!res.ok) throw new Error(`bundled model file ${f.path}: HTTP ${res.status}`);
      files.set(f.path, new Uint8Array(await res.arrayBuffer()));
    }
  } else {
    const row = await db().models.get(version);
    if (!row || row.state === 'rejected') throw new Error(`model ${version} is not available on this device`);
    manifest = parseManifest(row.manifest);
    for (const f of manifest.files) {
      const bytes = row.files[f.path];
      if (!bytes) throw new Error(`model ${version}: missing file ${f.path}`);
      files.set(f.path, new Uint8Array(bytes));
    }
  }
  for (const f of manifest.files) {
    const bytes = files.get(f.path)!;
    if (bytes.byteLength !== f.bytes) throw new Error(`model ${version}: ${f.path} is ${bytes.byteLength} bytes, manifest says ${f.bytes}`);
    if ((await sha256Hex(bytes)) !== f.sha256) throw new Error(`model ${version}: ${f.path} fails its sha256 check`);
  }
  return { manifest, files };
}

/** Make `version` active; the current one becomes the (single) previous version for rollback. */
export async function activate(version: string): Promise<void> {
  forgetActiveModel();
  await db().transaction('rw', db().models, async () => {
    const target = await db().models.get(version);
    if (!target || target.state === 'rejected') throw new Error(`cannot activate ${version}`);
    const previous = await db().models.where('state').equals('previous').toArray();
    await db().models.bulkDelete(previous.map((p) => p.version).filter((v) => v !== version));
    const current = await db().models.where('state').equals('active').first();
    if (current && current.version !== version) await db().models.update(current.version, { state: 'previous' });
    await db().models.update(version, { state: 'active' });
  });
  forgetActiveModel();
}

/** Swap back to the previous version (downloaded or, if none was kept, the bundled one). */
export async function rollback(): Promise<string> {
  forgetActiveModel();
  return db()
    .transaction('rw', db().models, async () => {
      const current = await db().models.where('state').equals('active').first();
      const previous = await db().models.where('state').equals('previous').first();
      if (!current) throw new Error('already on the bundled model: nothing to roll back');
      if (previous) {
        await db().models.update(previous.version, { state: 'active' });
        await db().models.update(current.version, { state: 'previous' });
        return previous.version;
      }
      await db().models.update(current.version, { state: 'previous' });
      return BUNDLED.version;
    })
    .finally(forgetActiveModel);
}

export async function reject(version: string, manifest: ModelManifest, reason: string): Promise<void> {
  const row: ModelRow = { version, manifest, files: {}, state: 'rejected', added_at: Date.now(), reason };
  await db().models.put(row);
}

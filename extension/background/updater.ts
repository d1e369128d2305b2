/**
 * Model updates: check the chosen channel, download the new version's files, verify each file's
 * size and sha256 against the manifest, have the offscreen runtime reproduce the manifest's golden
 * examples, then switch atomically (the previous version is kept for rollback). A corrupted or
 * failing model is rejected and recorded; scoring goes on with the current model throughout.
 */
import { parseManifest, type ModelManifest } from '../../core/manifest.js';
import { db, getMeta, setMeta } from '../lib/db.js';
import type { VerifyResponse } from '../lib/messages.js';
import { activate, activeModel, reject } from '../lib/model-store.js';
import { getSettings } from '../lib/settings.js';
import { sha256Hex } from '../lib/sha256.js';
import { toOffscreen } from './offscreen-client.js';

export interface UpdateResult {
  status: 'up-to-date' | 'updated' | 'rejected' | 'error';
  version?: string;
  active: string;
  detail?: string;
  checked_at: number;
}

let running: Promise<UpdateResult> | null = null;

export function checkForUpdate(): Promise<UpdateResult> {
  running ??= doCheck()
    .catch(async (err: Error) => record({ status: 'error', active: (await activeModel()).version, detail: err.message, checked_at: Date.now() }))
    .finally(() => {
      running = null;
    });
  return running;
}

async function record(result: UpdateResult): Promise<UpdateResult> {
  await setMeta('update:last', result);
  return result;
}

async function doCheck(): Promise<UpdateResult> {
  const settings = await getSettings();
  const base = settings.backend_url.replace(/\/+$/, '');
  const active = await activeModel();
  const now = Date.now();
  const etagKey = `update:etag:${base}:${settings.channel}`;
  const etag = await getMeta<string>(etagKey);
  const res = await fetch(`${base}/v1/channels/${encodeURIComponent(settings.channel)}`, {
    headers: etag ? { 'If-None-Match': etag } : {},
    cache: 'no-store',
  });
  if (res.status === 304) return record({ status: 'up-to-date', active: active.version, checked_at: now });
  if (!res.ok) throw new Error(`channel ${settings.channel}: HTTP ${res.status}`);
  const manifest = parseManifest(await res.json());
  if (manifest.version === active.version) {
    const newEtag = res.headers.get('ETag');
    if (newEtag) await setMeta(etagKey, newEtag);
    return record({ status: 'up-to-date', active: active.version, checked_at: now });
  }
  const known = await db().models.get(manifest.version);
  if (known?.state === 'rejected' && JSON.stringify(known.manifest.files) === JSON.stringify(manifest.files)) {
    return record({ status: 'rejected', version: manifest.version, active: active.version, detail: `previously rejected: ${known.reason}`, checked_at: now });
  }
  if (known && known.state !== 'rejected') {
    // Downloaded before (e.g. the previous version after a rollback on the server): re-verify and switch.
    return verifyAndActivate(manifest, active.version, now);
  }

  const files: Record<string, ArrayBuffer> = {};
  for (const f of manifest.files) {
    const fileRes = await fetch(`${base}/v1/models/${encodeURIComponent(manifest.version)}/files/${f.path.split('/').map(encodeURIComponent).join('/')}`);
    if (!fileRes.ok) throw new Error(`download ${f.path}: HTTP ${fileRes.status}`);
    const bytes = await fileRes.arrayBuffer();
    if (bytes.byteLength !== f.bytes) return rejectVersion(manifest, active.version, `${f.path} is ${bytes.byteLength} bytes, manifest says ${f.bytes}`, now);
    const digest = await sha256Hex(bytes);
    if (digest !== f.sha256) return rejectVersion(manifest, active.version, `${f.path} sha256 ${digest.slice(0, 12)}… does not match the manifest`, now);
    files[f.path] = bytes;
  }
  await db().models.put({ version: manifest.version, manifest, files, state: 'pending', added_at: now });
  const result = await verifyAndActivate(manifest, active.version, now);
  const newEtag = res.headers.get('ETag');
  if (newEtag && result.status === 'updated') await setMeta(etagKey, newEtag);
  return result;
}

async function verifyAndActivate(manifest: ModelManifest, activeVersion: string, now: number): Promise<UpdateResult> {
  const check = await toOffscreen<VerifyResponse>({ target: 'offscreen', type: 'verify-model', data: { version: manifest.version } });
  if (!check.ok) return rejectVersion(manifest, activeVersion, `golden examples failed on this device: ${check.error ?? ''} (max |Δp| ${check.max_abs_diff})`, now);
  await activate(manifest.version);
  return record({ status: 'updated', version: manifest.version, active: manifest.version, detail: `golden examples reproduced (max |Δp| ${check.max_abs_diff.toExponential(2)})`, checked_at: now });
}

async function rejectVersion(manifest: ModelManifest, activeVersion: string, reason: string, now: number): Promise<UpdateResult> {
  await reject(manifest.version, manifest, reason);
  return record({ status: 'rejected', version: manifest.version, active: activeVersion, detail: reason, checked_at: now });
}

/**
 * Model updates: read the chosen channel's rollout document, pick the stable version or, during a
 * canary rollout, the candidate (by a hash of this install's id, which is never sent:
 * core/canary.ts, install-id.ts), fetch that version's manifest, verify its release signature against the keys
 * pinned in this build (before anything in the manifest is believed, its version included), download
 * the new version's files (streamed, never more than the manifest's size for each), verify each
 * file's size and sha256 against the manifest, have the runtime that will serve it (the service
 * worker's forward pass or onnxruntime-web offscreen: worker-scorer.ts) reproduce the manifest's
 * golden examples, then switch atomically (the previous version is kept for rollback). A refused or
 * failing model is recorded in the update log; scoring goes on with the current model throughout.
 *
 * Only a signed model that fails on this device (its golden examples) is remembered as rejected and
 * not fetched again. A bad signature, a wrong size or a wrong sha256 says the server or the path to
 * it is bad, not the release: remembering those would let whoever serves them block the genuine
 * release of that version, so the next check tries again.
 */
import { pickVersion, RolloutDocSchema } from '../../core/canary.js';
import { parseManifest, SEMVER_RE, type ModelManifest } from '../../core/manifest.js';
import { SIGNATURE_MAX_BYTES, verifyManifestSignature } from '../../core/release-signature.js';
import { db, getMeta, setMeta } from '../lib/db.js';
import { META_KEYS, type UpdateResult } from '../lib/storage-keys.js';
import type { VerifyResponse } from '../lib/messages.js';
import { activate, activeModel, reject } from '../lib/model-store.js';
import { PINNED_KEYS } from '../lib/release-keys.js';
import { getSettings } from '../lib/settings.js';
import { didNotAnswer, isTimeout } from '../lib/timeouts.js';
import { sha256Hex } from '../lib/sha256.js';
import { installId } from './install-id.js';
import { toOffscreen } from './offscreen-client.js';
import { scoringPath, verifyInWorker } from './worker-scorer.js';

/** Largest manifest read from a channel (the registry refuses larger ones too). */
export const MANIFEST_MAX_BYTES = 1024 * 1024;
/** Largest rollout document read (a real one is a few hundred bytes). */
export const ROLLOUT_MAX_BYTES = 16 * 1024;
/** No model file is downloaded past this size, whatever its manifest says. */
export const MAX_MODEL_FILE_BYTES = 256 * 1024 * 1024;
/** Nor a model whose files add up to more. */
export const MAX_MODEL_BYTES = 512 * 1024 * 1024;

/**
 * Longest a check may spend on the network, downloads included (a 2 MiB model at 30 kB/s takes
 * about 70 s); see lib/timeouts.ts for why there is a limit.
 */
export const UPDATE_CHECK_TIMEOUT_MS = 180_000;

export type { UpdateResult } from '../lib/storage-keys.js';

let running: Promise<UpdateResult> | null = null;

export interface CheckOptions {
  /** Network time allowed for the whole check (tests shorten it). */
  timeoutMs?: number;
}

export function checkForUpdate({ timeoutMs = UPDATE_CHECK_TIMEOUT_MS }: CheckOptions = {}): Promise<UpdateResult> {
  running ??= doCheck(AbortSignal.timeout(timeoutMs))
    .catch(async (err: Error) =>
      record({
        status: 'error',
        active: (await activeModel()).version,
        detail: isTimeout(err) ? didNotAnswer(timeoutMs) : err.message,
        checked_at: Date.now(),
      }),
    )
    .finally(() => {
      running = null;
    });
  return running;
}

async function record(result: UpdateResult): Promise<UpdateResult> {
  await setMeta(META_KEYS.lastUpdate, result);
  return result;
}

/** `signal` ends every request of the check, bodies included, when the check's time is up. */
async function doCheck(signal: AbortSignal): Promise<UpdateResult> {
  const settings = await getSettings();
  const base = settings.backend_url.replace(/\/+$/, '');
  const active = await activeModel();
  const now = Date.now();
  const id = await installId();
  const channelUrl = `${base}/v1/channels/${encodeURIComponent(settings.channel)}`;
  // The ETag is remembered with the install id it was picked for: the same document can mean
  // another version for another id (the end-to-end tests change it).
  const etagKey = META_KEYS.rolloutEtag(base, settings.channel);
  const remembered = await getMeta(etagKey);
  const res = await fetch(`${channelUrl}/rollout`, {
    headers: remembered?.install_id === id ? { 'If-None-Match': remembered.etag } : {},
    cache: 'no-store',
    signal,
  });
  if (res.status === 304) return record({ status: 'up-to-date', active: active.version, checked_at: now });
  // A backend from before canary rollouts has no rollout route: read the channel's manifest as before.
  if (res.status === 404 && !(await isUnknownChannel(res))) return legacyCheck(base, channelUrl, settings.channel, active.version, now, signal);
  if (!res.ok) throw new Error(`channel ${settings.channel}: HTTP ${res.status}`);
  let parsed: ReturnType<typeof RolloutDocSchema.safeParse>;
  try {
    parsed = RolloutDocSchema.safeParse(JSON.parse(new TextDecoder().decode(await readCapped(res, ROLLOUT_MAX_BYTES, 'the rollout document'))));
  } catch (e) {
    if (e instanceof TooLarge) throw e;
    throw new Error(`channel ${settings.channel} did not answer with a rollout document`);
  }
  if (!parsed.success) throw new Error(`channel ${settings.channel} did not answer with a rollout document`);
  // The pick is made here, from an id the backend never sees (core/canary.ts).
  const pick = pickVersion(parsed.data, id);
  const rememberEtag = async () => {
    const etag = res.headers.get('ETag');
    if (etag) await setMeta(etagKey, { etag, install_id: id });
  };
  if (pick.version === active.version) {
    // Versions are immutable and this one was verified when it was activated.
    await rememberEtag();
    return record({ status: 'up-to-date', active: active.version, arm: pick.arm, checked_at: now });
  }
  const manifestRes = await fetch(`${base}/v1/models/${encodeURIComponent(pick.version)}/manifest.json`, { cache: 'no-store', signal });
  if (!manifestRes.ok) throw new Error(`manifest of ${pick.version}: HTTP ${manifestRes.status}`);
  const manifestBytes = await readCapped(manifestRes, MANIFEST_MAX_BYTES, 'the manifest');
  // Not a trust check (the signature below is): a registry answering with another manifest than
  // the one its own channel names is broken or in the middle of something, so try again later.
  if ((await sha256Hex(manifestBytes)) !== pick.served.manifest_sha256) throw new Error(`the manifest served for ${pick.version} is not the one channel ${settings.channel} names`);
  if (claimedVersion(manifestBytes) !== pick.version) throw new Error(`the manifest served for ${pick.version} names another version`);
  const result = await installManifest(base, manifestBytes, active.version, now, rememberEtag, signal);
  return record({ ...result, arm: pick.arm });
}

/** A 404 whose error body says the channel does not exist (as opposed to a route the backend lacks). */
async function isUnknownChannel(res: Response): Promise<boolean> {
  try {
    const body = JSON.parse(new TextDecoder().decode(await readCapped(res, 4096, 'the error'))) as { error?: { code?: unknown } } | null;
    return body?.error?.code === 'unknown_channel';
  } catch {
    return false;
  }
}

/** Backends without rollouts: the channel route serves the current version's manifest itself. */
async function legacyCheck(base: string, channelUrl: string, channel: string, activeVersion: string, now: number, signal: AbortSignal): Promise<UpdateResult> {
  const etagKey = META_KEYS.etag(base, channel);
  const etag = await getMeta(etagKey);
  const res = await fetch(channelUrl, { headers: etag ? { 'If-None-Match': etag } : {}, cache: 'no-store', signal });
  // The ETag is stored only for a manifest whose signature verified.
  if (res.status === 304) return record({ status: 'up-to-date', active: activeVersion, checked_at: now });
  if (!res.ok) throw new Error(`channel ${channel}: HTTP ${res.status}`);
  const manifestBytes = await readCapped(res, MANIFEST_MAX_BYTES, 'the channel manifest');
  return record(
    await installManifest(
      base,
      manifestBytes,
      activeVersion,
      now,
      async () => {
        const newEtag = res.headers.get('ETag');
        if (newEtag) await setMeta(etagKey, newEtag);
      },
      signal,
    ),
  );
}

/**
 * Verifies `manifestBytes` (signature first), then downloads, checks and activates the version it
 * names; `accepted` runs when the version is current afterwards (up to date, or updated), so the
 * caller can remember what it fetched. Returns the result without recording it.
 */
async function installManifest(base: string, manifestBytes: Uint8Array, activeVersion: string, now: number, accepted: () => Promise<void>, signal: AbortSignal): Promise<UpdateResult> {
  // Signature first. The version is read only to find the signature; a wrong one fails the check.
  const claimed = claimedVersion(manifestBytes);
  const sigRes = await fetch(`${base}/v1/models/${encodeURIComponent(claimed)}/manifest.sig`, { cache: 'no-store', signal });
  if (sigRes.status === 404) return refuse(claimed, activeVersion, 'the manifest is not signed', now);
  if (!sigRes.ok) throw new Error(`signature of ${claimed}: HTTP ${sigRes.status}`);
  const verdict = await verifyManifestSignature(manifestBytes, await readCapped(sigRes, SIGNATURE_MAX_BYTES, 'the signature'), PINNED_KEYS);
  if (!verdict.ok) return refuse(claimed, activeVersion, verdict.reason, now);
  const manifest = parseManifest(JSON.parse(new TextDecoder().decode(manifestBytes)));

  if (manifest.version === activeVersion) {
    await accepted();
    return { status: 'up-to-date', active: activeVersion, checked_at: now };
  }
  const known = await db().models.get(manifest.version);
  const same = known !== undefined && JSON.stringify(known.manifest) === JSON.stringify(manifest);
  if (same && known.state === 'rejected') {
    return { status: 'rejected', version: manifest.version, active: activeVersion, detail: `previously rejected: ${known.reason}`, checked_at: now };
  }
  if (same) {
    // Downloaded before (e.g. the previous version after a rollback on the server): re-verify and switch.
    const result = await verifyAndActivate(manifest, activeVersion, now);
    if (result.status === 'updated') await accepted();
    return result;
  }

  const total = manifest.files.reduce((n, f) => n + f.bytes, 0);
  const huge = manifest.files.find((f) => f.bytes > MAX_MODEL_FILE_BYTES);
  if (huge || total > MAX_MODEL_BYTES) {
    return rejectVersion(
      manifest,
      activeVersion,
      huge ? `${huge.path} would be ${huge.bytes} bytes, more than any model file may be (${MAX_MODEL_FILE_BYTES})` : `the model would be ${total} bytes, more than ${MAX_MODEL_BYTES}`,
      now,
      false,
    );
  }
  const files: Record<string, ArrayBuffer> = {};
  for (const f of manifest.files) {
    const fileRes = await fetch(`${base}/v1/models/${encodeURIComponent(manifest.version)}/files/${f.path.split('/').map(encodeURIComponent).join('/')}`, { signal });
    if (!fileRes.ok) throw new Error(`download ${f.path}: HTTP ${fileRes.status}`);
    let bytes: Uint8Array;
    try {
      bytes = await readCapped(fileRes, f.bytes, f.path);
    } catch (e) {
      if (e instanceof TooLarge) return rejectVersion(manifest, activeVersion, e.message, now, false);
      throw e;
    }
    if (bytes.byteLength !== f.bytes) return rejectVersion(manifest, activeVersion, `${f.path} is ${bytes.byteLength} bytes, manifest says ${f.bytes}`, now, false);
    const digest = await sha256Hex(bytes);
    if (digest !== f.sha256) return rejectVersion(manifest, activeVersion, `${f.path} sha256 ${digest.slice(0, 12)}… does not match the manifest`, now, false);
    files[f.path] = bytes.buffer as ArrayBuffer;
  }
  await db().models.put({ version: manifest.version, manifest, files, state: 'pending', added_at: now });
  const result = await verifyAndActivate(manifest, activeVersion, now);
  if (result.status === 'updated') await accepted();
  return result;
}

/** The `version` field of what should be a manifest, for the signature's URL only. */
function claimedVersion(bytes: Uint8Array): string {
  let version: unknown;
  try {
    version = (JSON.parse(new TextDecoder().decode(bytes)) as { version?: unknown } | null)?.version;
  } catch {
    // reported below
  }
  if (typeof version !== 'string' || !SEMVER_RE.test(version)) throw new Error('the channel did not answer with a model manifest');
  return version;
}

class TooLarge extends Error {
  override name = 'TooLarge';
}

/**
 * The body of `res`, refused as soon as it would pass `max` bytes: before reading when the
 * Content-Length says so, else while streaming (the rest is never downloaded).
 */
async function readCapped(res: Response, max: number, what: string): Promise<Uint8Array> {
  const declared = Number(res.headers.get('Content-Length') ?? NaN);
  if (declared > max) {
    await res.body?.cancel().catch(() => undefined);
    throw new TooLarge(`${what} is ${declared} bytes, more than the ${max} expected`);
  }
  if (!res.body) return new Uint8Array(0);
  const reader = res.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > max) {
      await reader.cancel().catch(() => undefined);
      throw new TooLarge(`${what} is more than the ${max} bytes expected`);
    }
    chunks.push(value);
  }
  const out = new Uint8Array(total);
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.byteLength;
  }
  return out;
}

/** A manifest whose signature does not verify is not a model at all: nothing about it is kept. */
async function refuse(claimed: string, activeVersion: string, reason: string, now: number): Promise<UpdateResult> {
  return record({ status: 'rejected', version: claimed, active: activeVersion, detail: `signature check failed: ${reason}`, checked_at: now });
}

async function verifyAndActivate(manifest: ModelManifest, activeVersion: string, now: number): Promise<UpdateResult> {
  // Checked by the runtime that will serve it: an n-gram bundle under the default setting by the
  // service worker's forward pass (no offscreen document), anything else by onnxruntime-web.
  const inWorker = scoringPath(manifest, (await getSettings()).execution) === 'ts' ? await verifyInWorker(manifest.version) : null;
  const check = inWorker ?? (await toOffscreen<VerifyResponse>({ target: 'offscreen', type: 'verify-model', data: { version: manifest.version } }));
  if (!check.ok) return rejectVersion(manifest, activeVersion, `golden examples failed on this device: ${check.error ?? ''} (max |Δp| ${check.max_abs_diff})`, now);
  await activate(manifest.version);
  return record({ status: 'updated', version: manifest.version, active: manifest.version, detail: `golden examples reproduced (max |Δp| ${check.max_abs_diff.toExponential(2)})`, checked_at: now });
}

async function rejectVersion(manifest: ModelManifest, activeVersion: string, reason: string, now: number, remember = true): Promise<UpdateResult> {
  if (remember) await reject(manifest.version, manifest, reason);
  return record({ status: 'rejected', version: manifest.version, active: activeVersion, detail: reason, checked_at: now });
}

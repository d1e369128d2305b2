/**
 * Model registry storage: content-addressed blobs, pending and published manifests.
 *
 * Publishing protocol (docs/API.md "Publishing a model"):
 * 1. `PUT /v1/models/:version` with manifest.json. Validated with core's `parseManifest`. Files whose
 *    blob is already stored (same sha256 and size) need no upload; if any are missing the manifest is
 *    kept as *pending* and the response (202) lists them.
 * 2. `PUT /v1/models/:version/files/<path>` for each missing file. The body is streamed to a
 *    staging key while its sha256 is computed; a verified file is copied to
 *    `blobs/sha256/<sha256 from the manifest>` (R2 verifies the digest again on that put), so a blob
 *    key can only ever hold the bytes it names. Nothing is stored on a mismatch.
 * 3. `PUT /v1/models/:version` again: all blobs present → the manifest is written to
 *    `models/<version>/manifest.json` with a create-only conditional put. That single object is what
 *    makes a version visible, so readers never see a half-uploaded version, and two racing
 *    publishers cannot both win (the loser gets 409, or 200 if it published the identical manifest).
 *
 * Content addressing also makes concurrent or stale uploads harmless (same key ⇒ same bytes) and
 * stores a file shared by several versions once.
 *
 * Release signatures (docs/RELEASES.md): `PUT /v1/models/:version/manifest.sig` stores the detached
 * signature publish-model made with the offline release key, next to the manifest. The Worker holds
 * no key and cannot sign; it only checks that the document is well formed and names the sha256 of
 * this version's manifest, so a mistake is caught at publish time rather than on every install. The
 * extension verifies the signature itself against the key pinned in its build. A pending version's
 * signature may be replaced (a new pending manifest needs a new one); a published one's is written
 * once.
 */
import { compareSemver, parseManifest, ManifestError, type ModelManifest } from '../../core/manifest.js';
import { ManifestSignatureSchema, SIGNATURE_MAX_BYTES } from '../../core/release-signature.js';
import { issuesOf } from '../../core/wire.js';
import { ApiError } from '../lib/errors.js';
import { canonicalJson, sha256Hex, toHex } from '../lib/hash.js';
import { keys, listAll, mapLimit } from '../lib/keys.js';

/** A published (or pending) manifest as stored: the exact uploaded bytes plus what was parsed. */
export interface StoredManifest {
  version: string;
  bytes: Uint8Array;
  manifest: ModelManifest;
  /** sha256 of the stored bytes: the strong ETag of manifest.json. */
  sha256: string;
  /** sha256 of the canonical JSON: equal for manifests that differ only in formatting. */
  digest: string;
}

export interface ModelSummary {
  version: string;
  name: string;
  format: string;
  created_at: string;
  published_at: string;
  total_bytes: number;
  files: number;
  manifest_sha256: string;
}

/** Manifest JSON larger than this is refused (golden examples and metrics fit in a few KB). */
export const MANIFEST_MAX_BYTES = 1024 * 1024;

const decoder = new TextDecoder();

// Published manifests are immutable, so an isolate may keep them forever (bounded LRU).
const publishedCache = new Map<string, StoredManifest>();
const CACHE_MAX = 32;

function remember(entry: StoredManifest): void {
  publishedCache.delete(entry.version);
  publishedCache.set(entry.version, entry);
  while (publishedCache.size > CACHE_MAX) publishedCache.delete(publishedCache.keys().next().value!);
}

/** Validates raw manifest JSON bytes for `version`; 400 naming each failing field. */
export async function validateManifest(bytes: Uint8Array, raw: unknown, version: string): Promise<StoredManifest> {
  let manifest: ModelManifest;
  try {
    manifest = parseManifest(raw);
  } catch (e) {
    if (e instanceof ManifestError) {
      const details = e.issues.length > 0 ? e.issues.map((i) => ({ path: i.path || '(root)', message: i.message })) : [{ path: '(root)', message: e.message }];
      throw new ApiError(400, 'invalid_manifest', e.message.slice(0, 500), details);
    }
    throw e;
  }
  if (manifest.version !== version) {
    throw new ApiError(400, 'version_mismatch', `manifest version ${manifest.version} does not match the URL version ${version}`, [{ path: 'version', message: `must equal ${version}` }]);
  }
  const [sha256, digest] = await Promise.all([sha256Hex(bytes), sha256Hex(canonicalJson(raw))]);
  return { version, bytes, manifest, sha256, digest };
}

async function readStored(bucket: R2Bucket, key: string, version: string): Promise<StoredManifest | null> {
  const obj = await bucket.get(key);
  if (!obj) return null;
  const bytes = new Uint8Array(await obj.arrayBuffer());
  const raw: unknown = JSON.parse(decoder.decode(bytes));
  // Stored manifests were validated on the way in; parse again so the type is earned, not asserted.
  const manifest = parseManifest(raw);
  return {
    version,
    bytes,
    manifest,
    sha256: obj.customMetadata?.sha256 ?? (await sha256Hex(bytes)),
    digest: obj.customMetadata?.digest ?? (await sha256Hex(canonicalJson(raw))),
  };
}

/** The published manifest of `version`, or null. */
export async function getPublished(bucket: R2Bucket, version: string): Promise<StoredManifest | null> {
  const hit = publishedCache.get(version);
  if (hit) return hit;
  const stored = await readStored(bucket, keys.manifest(version), version);
  if (stored) remember(stored);
  return stored;
}

export async function getPending(bucket: R2Bucket, version: string): Promise<StoredManifest | null> {
  return readStored(bucket, keys.pendingManifest(version), version);
}

export interface MissingFile {
  path: string;
  sha256: string;
  bytes: number;
}

/** Files of `manifest` whose blob is not stored yet (or is stored with another size or digest). */
export async function missingFiles(bucket: R2Bucket, manifest: ModelManifest): Promise<MissingFile[]> {
  const heads = await mapLimit(manifest.files, 8, (f) => bucket.head(keys.blob(f.sha256)));
  return manifest.files
    .filter((f, i) => {
      const head = heads[i];
      if (!head || head.size !== f.bytes) return true;
      const sha = head.checksums.sha256;
      return sha !== undefined && toHex(sha) !== f.sha256;
    })
    .map((f) => ({ path: f.path, sha256: f.sha256, bytes: f.bytes }));
}

export type PutManifestOutcome = { status: 'published'; created: boolean; stored: StoredManifest } | { status: 'pending'; missing: MissingFile[] };

/** Step 1/3 of the protocol; see the module comment. */
export async function putManifest(bucket: R2Bucket, incoming: StoredManifest): Promise<PutManifestOutcome> {
  const existing = await getPublished(bucket, incoming.version);
  if (existing) return compareWithPublished(existing, incoming);

  const missing = await missingFiles(bucket, incoming.manifest);
  if (missing.length > 0) {
    // Last writer wins for pending manifests: nothing is visible yet, and uploads are checked
    // against whichever pending manifest is current (stale uploads land in their own blob keys).
    await bucket.put(keys.pendingManifest(incoming.version), incoming.bytes, {
      httpMetadata: { contentType: 'application/json' },
      customMetadata: { sha256: incoming.sha256, digest: incoming.digest },
    });
    return { status: 'pending', missing };
  }

  const m = incoming.manifest;
  const created = await bucket.put(keys.manifest(incoming.version), incoming.bytes, {
    // Create-only: the first publisher wins atomically.
    onlyIf: { etagDoesNotMatch: '*' },
    httpMetadata: { contentType: 'application/json' },
    customMetadata: {
      sha256: incoming.sha256,
      digest: incoming.digest,
      name: m.name,
      format: m.format,
      created_at: m.created_at,
      published_at: new Date().toISOString(),
      total_bytes: String(m.files.reduce((a, f) => a + f.bytes, 0)),
      files: String(m.files.length),
    },
  });
  if (created === null) {
    const winner = await getPublished(bucket, incoming.version);
    if (!winner) throw new ApiError(503, 'publish_conflict', 'concurrent publish in progress, retry');
    return compareWithPublished(winner, incoming);
  }
  remember(incoming);
  await bucket.delete(keys.pendingManifest(incoming.version)).catch((e: unknown) => console.warn('could not delete pending manifest', incoming.version, e));
  return { status: 'published', created: true, stored: incoming };
}

function compareWithPublished(existing: StoredManifest, incoming: StoredManifest): PutManifestOutcome {
  if (existing.digest === incoming.digest) return { status: 'published', created: false, stored: existing };
  throw new ApiError(409, 'version_exists', `version ${incoming.version} is already published with a different manifest; versions are immutable, publish a new version`, [
    { path: 'version', message: `published manifest sha256 ${existing.sha256}` },
  ]);
}

/**
 * Step 2/3: stream one file of the pending manifest into its content-addressed blob.
 *
 * The body (Content-Length required, like S3's PUT Object) is streamed to a staging key while its
 * sha256 is computed; only a verified file is copied to `blobs/sha256/<hex>` (that put also carries
 * the digest, so R2 re-verifies it). On a mismatch the staging object is deleted and nothing is
 * stored. Returns the stored size and digest; throws 411/422 otherwise.
 */
export async function putFile(
  bucket: R2Bucket,
  version: string,
  path: string,
  body: ReadableStream<Uint8Array> | null,
  declaredLength: number | null,
): Promise<{ path: string; sha256: string; bytes: number }> {
  if (await getPublished(bucket, version)) {
    throw new ApiError(409, 'version_published', `version ${version} is published and immutable`);
  }
  const pending = await getPending(bucket, version);
  if (!pending) throw new ApiError(404, 'no_pending_upload', `no upload in progress for ${version}: PUT /v1/models/${version} with its manifest first`);
  const file = pending.manifest.files.find((f) => f.path === path);
  if (!file) throw new ApiError(404, 'unknown_file', `${path} is not a file of the pending manifest of ${version}`);
  if (declaredLength === null) throw new ApiError(411, 'length_required', 'file uploads need a Content-Length header');
  if (declaredLength !== file.bytes) {
    throw new ApiError(422, 'size_mismatch', `${path}: Content-Length ${declaredLength} but the manifest says ${file.bytes} bytes`, [
      { path: `files.${path}.bytes`, message: `expected ${file.bytes}, got ${declaredLength}` },
    ]);
  }
  const source = body ?? new ReadableStream<Uint8Array>({ start: (c) => c.close() });

  // One branch is digested here, the other goes to R2 (which needs a known length: the
  // FixedLengthStream restores it after the tee). Pumped by hand: workerd cannot pipeTo() between
  // some of its native stream kinds (e.g. a tee branch into a FixedLengthStream).
  const [toStore, toDigest] = source.tee();
  const digestStream = new crypto.DigestStream('SHA-256');
  const digestDone = pump(toDigest, digestStream).then(async () => toHex(await digestStream.digest));
  const fixed = new FixedLengthStream(file.bytes);
  const piped = pump(toStore, fixed.writable);
  const stagingKey = keys.staging(crypto.randomUUID());
  try {
    const [, , actual] = await Promise.all([bucket.put(stagingKey, fixed.readable), piped, digestDone]);
    if (actual !== file.sha256) {
      throw new ApiError(422, 'sha256_mismatch', `${path}: sha256 ${actual} does not match the manifest's ${file.sha256}`, [
        { path: `files.${path}.sha256`, message: `expected ${file.sha256}, got ${actual}` },
      ]);
    }
    const staged = await bucket.get(stagingKey);
    if (!staged || staged.size !== file.bytes) throw new Error(`staged upload ${stagingKey} vanished or changed size`);
    await bucket.put(keys.blob(file.sha256), staged.body, {
      sha256: file.sha256,
      httpMetadata: { contentType: 'application/octet-stream' },
      customMetadata: { sha256: file.sha256 },
    });
  } finally {
    await bucket.delete(stagingKey).catch((e: unknown) => console.warn('could not delete staging object', stagingKey, e));
  }
  return { path, sha256: file.sha256, bytes: file.bytes };
}

/** Copies `from` into `to` chunk by chunk and closes it; on error aborts `to` and rethrows. */
async function pump(from: ReadableStream<Uint8Array>, to: WritableStream<Uint8Array>): Promise<void> {
  const reader = from.getReader();
  const writer = to.getWriter();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      await writer.write(value);
    }
    await writer.close();
  } catch (e) {
    await writer.abort(e).catch(() => undefined);
    await reader.cancel(e).catch(() => undefined);
    throw e;
  }
}

export { SIGNATURE_MAX_BYTES };

/** Stores `bytes` as the release signature of `version` (pending or published); see the module comment. */
export async function putSignature(bucket: R2Bucket, version: string, bytes: Uint8Array): Promise<{ created: boolean }> {
  let raw: unknown;
  try {
    raw = JSON.parse(decoder.decode(bytes));
  } catch {
    raw = undefined;
  }
  const parsed = ManifestSignatureSchema.safeParse(raw);
  if (!parsed.success) throw new ApiError(400, 'invalid_signature', 'the body is not a manifest signature document (docs/RELEASES.md)', issuesOf(parsed.error));
  const doc = parsed.data;
  const published = await getPublished(bucket, version);
  const target = published ?? (await getPending(bucket, version));
  if (!target) throw new ApiError(404, 'unknown_version', `model version ${version} is neither published nor being uploaded`);
  if (doc.manifest_sha256 !== target.sha256) {
    throw new ApiError(422, 'signature_mismatch', `the signature is for manifest sha256 ${doc.manifest_sha256}, but ${version}'s manifest is ${target.sha256}`, [
      { path: 'manifest_sha256', message: `expected ${target.sha256}` },
    ]);
  }
  const key = keys.manifestSignature(version);
  const options: R2PutOptions = { httpMetadata: { contentType: 'application/json' }, customMetadata: { key_id: doc.key_id, manifest_sha256: doc.manifest_sha256 } };
  if (!published) {
    await bucket.put(key, bytes, options);
    return { created: true };
  }
  if ((await bucket.put(key, bytes, { ...options, onlyIf: { etagDoesNotMatch: '*' } })) !== null) return { created: true };
  const existing = await bucket.get(key);
  if (existing && (await sha256Hex(new Uint8Array(await existing.arrayBuffer()))) === (await sha256Hex(bytes))) return { created: false };
  throw new ApiError(409, 'signature_exists', `version ${version} is published with another signature; published versions are immutable`);
}

/** The stored release signature of a published `version`, or null. */
export async function getSignature(bucket: R2Bucket, version: string): Promise<Uint8Array | null> {
  const obj = await bucket.get(keys.manifestSignature(version));
  return obj ? new Uint8Array(await obj.arrayBuffer()) : null;
}

/** Published versions with their summaries, newest first by semver. */
export async function listPublished(bucket: R2Bucket): Promise<ModelSummary[]> {
  const objects = await listAll(bucket, keys.manifestPrefix, { include: ['customMetadata'] });
  const out: ModelSummary[] = [];
  for (const o of objects) {
    const m = /^models\/([^/]+)\/manifest\.json$/.exec(o.key);
    if (!m) continue;
    const meta = o.customMetadata ?? {};
    out.push({
      version: m[1]!,
      name: meta.name ?? '',
      format: meta.format ?? '',
      created_at: meta.created_at ?? '',
      published_at: meta.published_at ?? o.uploaded.toISOString(),
      total_bytes: Number(meta.total_bytes ?? 0),
      files: Number(meta.files ?? 0),
      manifest_sha256: meta.sha256 ?? '',
    });
  }
  return out.sort((a, b) => compareSemver(b.version, a.version));
}

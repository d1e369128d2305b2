/**
 * Signed model releases: an offline Ed25519 key signs each model manifest; the extension pins the
 * public half and refuses a manifest whose signature does not verify (docs/RELEASES.md).
 *
 * What is signed: the exact bytes of `manifest.json` as uploaded (the registry stores and serves
 * them byte for byte), through their sha256. The signed message is the UTF-8 text
 *
 *     ytsent-manifest-signature/1\n<lowercase hex sha256 of the manifest bytes>\n
 *
 * (a fixed prefix, so a release key's signature can never be mistaken for one over anything else).
 * The detached signature travels as `manifest.sig`, a small JSON document ({@link ManifestSignature})
 * naming the format, the key (its id) and the manifest's sha256; the verifier recomputes the
 * sha256 from the bytes it received and trusts none of the document's fields but the signature.
 * Each file of the manifest carries its own sha256, so the signature covers every byte of a model.
 *
 * Keys: 32-byte Ed25519 secret keys (RFC 8032) and public keys, base64 in files; a key id is the
 * first 16 hex digits of the public key's sha256. Runs the same in Node 20, workerd and Chromium:
 * `@noble/ed25519` (pure JS) with WebCrypto's SHA-512 and SHA-256, both standard in all three.
 */
import { sha256Hex } from './sha256.js';
import * as ed from '@noble/ed25519';
import { z } from 'zod';

export const SIGNATURE_FORMAT = 'ytsent-manifest-signature/1';
/** A signature document is a few hundred bytes; anything much larger is not one. */
export const SIGNATURE_MAX_BYTES = 4096;

export const KeyIdSchema = z.string().regex(/^[0-9a-f]{16}$/, 'must be 16 lowercase hex digits');
const Base64Schema = z.string().regex(/^[A-Za-z0-9+/]+={0,2}$/, 'must be base64');

export const ManifestSignatureSchema = z
  .object({
    format: z.literal(SIGNATURE_FORMAT),
    key_id: KeyIdSchema,
    manifest_sha256: z.string().regex(/^[0-9a-f]{64}$/, 'must be a lowercase hex sha256'),
    /** 64-byte Ed25519 signature, base64. */
    signature: Base64Schema.refine((s) => s.length === 88, 'must be a 64-byte signature in base64'),
  })
  .strict();
export type ManifestSignature = z.infer<typeof ManifestSignatureSchema>;

/** A public key the extension accepts releases from. */
export const PinnedKeySchema = z
  .object({
    key_id: KeyIdSchema,
    /** 32-byte Ed25519 public key, base64. */
    public_key: Base64Schema.refine((s) => s.length === 44, 'must be a 32-byte public key in base64'),
    /** When and why it was added: for people reading the list. */
    comment: z.string().max(200).optional(),
  })
  .strict();
export type PinnedKey = z.infer<typeof PinnedKeySchema>;

/** A key pair as `npm run keygen` writes it (the secret half never enters the repository). */
export const ReleaseKeyFileSchema = z
  .object({
    format: z.literal('ytsent-release-key/1'),
    key_id: KeyIdSchema,
    public_key: Base64Schema,
    secret_key: Base64Schema,
    created_at: z.string(),
  })
  .strict();
export type ReleaseKeyFile = z.infer<typeof ReleaseKeyFileSchema>;

export function toBase64(bytes: Uint8Array): string {
  let s = '';
  for (const b of bytes) s += String.fromCharCode(b);
  return btoa(s);
}

export function fromBase64(text: string): Uint8Array {
  const s = atob(text);
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i);
  return out;
}

export { sha256Hex };

/** The bytes a release key signs for a manifest whose sha256 is `manifestSha256`. */
export function signedMessage(manifestSha256: string): Uint8Array {
  return new TextEncoder().encode(`${SIGNATURE_FORMAT}\n${manifestSha256}\n`);
}

export async function keyIdOf(publicKey: Uint8Array): Promise<string> {
  return (await sha256Hex(publicKey)).slice(0, 16);
}

/** A fresh key pair (WebCrypto's random generator). */
export async function generateReleaseKey(now = new Date()): Promise<ReleaseKeyFile> {
  const secret = ed.utils.randomSecretKey();
  const pub = await ed.getPublicKeyAsync(secret);
  return { format: 'ytsent-release-key/1', key_id: await keyIdOf(pub), public_key: toBase64(pub), secret_key: toBase64(secret), created_at: now.toISOString() };
}

/** The public half of a key file, as the extension pins it. */
export function pinnedKeyOf(key: ReleaseKeyFile, comment?: string): PinnedKey {
  return { key_id: key.key_id, public_key: key.public_key, ...(comment ? { comment } : {}) };
}

/** Checks a key file: its public key and id must belong to its secret key. */
export async function parseReleaseKey(value: unknown): Promise<ReleaseKeyFile> {
  const key = ReleaseKeyFileSchema.parse(value);
  const secret = fromBase64(key.secret_key);
  if (secret.length !== 32) throw new Error('release key: secret_key must be 32 bytes');
  const pub = await ed.getPublicKeyAsync(secret);
  if (toBase64(pub) !== key.public_key || (await keyIdOf(pub)) !== key.key_id) throw new Error('release key: public_key or key_id does not belong to secret_key');
  return key;
}

/** Signs the exact manifest bytes. */
export async function signManifest(manifestBytes: Uint8Array, key: ReleaseKeyFile): Promise<ManifestSignature> {
  const manifest_sha256 = await sha256Hex(manifestBytes);
  const signature = await ed.signAsync(signedMessage(manifest_sha256), fromBase64(key.secret_key));
  return { format: SIGNATURE_FORMAT, key_id: key.key_id, manifest_sha256, signature: toBase64(signature) };
}

/** The signature document as uploaded and served: one line of JSON. */
export function encodeSignature(signature: ManifestSignature): Uint8Array {
  return new TextEncoder().encode(JSON.stringify(signature) + '\n');
}

export type VerifyResult = { ok: true; key_id: string } | { ok: false; reason: string };

/**
 * Verifies `signatureBytes` (a `manifest.sig` document) over `manifestBytes` against `pinned`.
 * Every failure says why, for the update log; nothing here throws.
 */
export async function verifyManifestSignature(manifestBytes: Uint8Array, signatureBytes: Uint8Array, pinned: readonly PinnedKey[]): Promise<VerifyResult> {
  if (pinned.length === 0) return { ok: false, reason: 'no release key is pinned in this build' };
  if (signatureBytes.byteLength > SIGNATURE_MAX_BYTES) return { ok: false, reason: 'the signature document is too large' };
  let doc: ManifestSignature;
  try {
    doc = ManifestSignatureSchema.parse(JSON.parse(new TextDecoder('utf-8', { fatal: true, ignoreBOM: false }).decode(signatureBytes)));
  } catch {
    return { ok: false, reason: 'the signature document is not valid' };
  }
  const actual = await sha256Hex(manifestBytes);
  if (doc.manifest_sha256 !== actual) return { ok: false, reason: `the signature is for another manifest (sha256 ${doc.manifest_sha256.slice(0, 12)}…, this one is ${actual.slice(0, 12)}…)` };
  const key = pinned.find((k) => k.key_id === doc.key_id);
  if (!key) return { ok: false, reason: `signed with key ${doc.key_id}, which this build does not trust` };
  let valid = false;
  try {
    // zip215: false is RFC 8032's strict verification (one valid encoding per signature).
    valid = await ed.verifyAsync(fromBase64(doc.signature), signedMessage(actual), fromBase64(key.public_key), { zip215: false });
  } catch {
    valid = false;
  }
  return valid ? { ok: true, key_id: key.key_id } : { ok: false, reason: `the signature does not verify with key ${key.key_id}` };
}

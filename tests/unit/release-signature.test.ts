/**
 * Release signatures (core/release-signature.ts) and `npm run keygen` (scripts/keygen.ts). Every key
 * is generated here, in a temporary directory; none is committed.
 */
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { encodeSignature, generateReleaseKey, parseReleaseKey, pinnedKeyOf, sha256Hex, signManifest, signedMessage, verifyManifestSignature } from '../../core/release-signature.js';
import { KeygenError, REPO_ROOT, keygen } from '../../scripts/keygen.js';
import { PublishError, readReleaseKey } from '../../scripts/publish-model.js';

const tmp = mkdtempSync(join(tmpdir(), 'ytsent-keygen-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
const bytes = (s: string) => new TextEncoder().encode(s);

describe('manifest signatures', () => {
  it('signs a fixed, prefixed message over the sha256 of the exact manifest bytes', async () => {
    const key = await generateReleaseKey();
    const manifest = bytes('{"version":"1.0.0"}\n');
    const sig = await signManifest(manifest, key);
    expect(sig).toMatchObject({ format: 'ytsent-manifest-signature/1', key_id: key.key_id, manifest_sha256: await sha256Hex(manifest) });
    expect(new TextDecoder().decode(signedMessage(sig.manifest_sha256))).toBe(`ytsent-manifest-signature/1\n${sig.manifest_sha256}\n`);
    expect(await verifyManifestSignature(manifest, encodeSignature(sig), [pinnedKeyOf(key)])).toEqual({ ok: true, key_id: key.key_id });
    // One byte of formatting is another manifest.
    expect((await verifyManifestSignature(bytes('{"version":"1.0.0"} \n'), encodeSignature(sig), [pinnedKeyOf(key)])).ok).toBe(false);
  });

  it('accepts any pinned key (rotation) and no other', async () => {
    const [a, b, c] = await Promise.all([generateReleaseKey(), generateReleaseKey(), generateReleaseKey()]);
    const manifest = bytes('{}');
    const pinned = [pinnedKeyOf(a), pinnedKeyOf(b)];
    expect((await verifyManifestSignature(manifest, encodeSignature(await signManifest(manifest, b)), pinned)).ok).toBe(true);
    expect(await verifyManifestSignature(manifest, encodeSignature(await signManifest(manifest, c)), pinned)).toEqual({
      ok: false,
      reason: `signed with key ${c.key_id}, which this build does not trust`,
    });
  });

  it.each([
    ['not JSON', 'nope'],
    ['an unknown field', JSON.stringify({ format: 'ytsent-manifest-signature/1', key_id: '0'.repeat(16), manifest_sha256: '0'.repeat(64), signature: 'A'.repeat(86) + '==', extra: 1 })],
    ['a short signature', JSON.stringify({ format: 'ytsent-manifest-signature/1', key_id: '0'.repeat(16), manifest_sha256: '0'.repeat(64), signature: 'AAAA' })],
    ['another format', JSON.stringify({ format: 'ytsent-manifest-signature/2', key_id: '0'.repeat(16), manifest_sha256: '0'.repeat(64), signature: 'A'.repeat(86) + '==' })],
  ])('refuses a signature document with %s', async (_, doc) => {
    const key = await generateReleaseKey();
    expect(await verifyManifestSignature(bytes('{}'), bytes(doc), [pinnedKeyOf(key)])).toEqual({ ok: false, reason: 'the signature document is not valid' });
  });

  it('refuses a key file whose public half is not its secret half', async () => {
    const [a, b] = await Promise.all([generateReleaseKey(), generateReleaseKey()]);
    await expect(parseReleaseKey({ ...a, public_key: b.public_key })).rejects.toThrow(/does not belong/);
    await expect(parseReleaseKey(a)).resolves.toEqual(a);
  });
});

describe('npm run keygen', () => {
  it('writes the key pair with mode 0600 outside the repository and pins its public half', async () => {
    const keys = join(tmp, 'release-keys.json');
    writeFileSync(keys, JSON.stringify({ about: 'test', keys: [] }));
    const out = join(tmp, 'home', '.ytsent', 'release-key.json');
    const { key, pinned } = await keygen({ out, keys, comment: 'test key' });
    expect(statSync(out).mode & 0o777).toBe(0o600);
    expect(statSync(join(tmp, 'home', '.ytsent')).mode & 0o777).toBe(0o700);
    expect(await parseReleaseKey(JSON.parse(readFileSync(out, 'utf8')))).toEqual(key);
    expect(pinned).toEqual({ key_id: key.key_id, public_key: key.public_key, comment: 'test key' });
    expect(JSON.parse(readFileSync(keys, 'utf8'))).toEqual({ about: 'test', keys: [pinned] });
    // The pinned list holds no secret.
    expect(readFileSync(keys, 'utf8')).not.toContain(key.secret_key);
  });

  it('never overwrites a key by accident, and never writes one into the repository', async () => {
    const out = join(tmp, 'once.json');
    const first = await keygen({ out, keys: null });
    await expect(keygen({ out, keys: null })).rejects.toThrow(KeygenError);
    expect(JSON.parse(readFileSync(out, 'utf8'))).toEqual(first.key);
    await expect(keygen({ out: join(REPO_ROOT, 'scratch', 'release-key.json'), keys: null })).rejects.toThrow(/inside the repository/);
  });

  it('is what publish-model reads to sign, and a missing key file says how to make one', async () => {
    const out = join(tmp, 'signer.json');
    const { key } = await keygen({ out, keys: null });
    expect(await readReleaseKey(out)).toEqual(key);
    await expect(readReleaseKey(join(tmp, 'missing.json'))).rejects.toThrow(PublishError);
    await expect(readReleaseKey(join(tmp, 'missing.json'))).rejects.toThrow(/npm run keygen/);
  });
});

/**
 * The model updater: release signatures (pinned key, another key, unsigned, manifest changed after
 * signing), streamed downloads capped at the manifest's sizes, size and sha256 checks, golden
 * examples, atomic switch, rejection, ETags, rollback, errors. IndexedDB is fake-indexeddb; the
 * registry is a real HTTP server; the golden check runs the real scorers on onnxruntime-web
 * (offscreen-node.ts). Keys are generated here, per run; none is committed.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { encodeSignature, generateReleaseKey, pinnedKeyOf, signManifest, type ReleaseKeyFile } from '../../../core/release-signature.js';
import { defaultModelDir } from '../../../node-runtime/bundle.js';
import { installChromeFake } from './chrome-fake.js';
import { manifestBytesOf, signedBy, startRegistry, variant, type Registry, type ServedModel } from './registry-server.js';
import { offscreenCalls, toOffscreenInNode } from './offscreen-node.js';
import { RELEASE_KEYS } from './release-keys.js';

installChromeFake();
vi.mock('../../../extension/background/offscreen-client.js', () => ({ toOffscreen: toOffscreenInNode, toOffscreenIfOpen: toOffscreenInNode, ensureOffscreen: async () => {}, closeOffscreen: async () => {} }));
const { db } = await import('../../../extension/lib/db.js');
const { updateSettings } = await import('../../../extension/lib/settings.js');
const { activeModel, rollback } = await import('../../../extension/lib/model-store.js');
const { checkForUpdate, MAX_MODEL_FILE_BYTES } = await import('../../../extension/background/updater.js');
const { DEFAULT_MODEL } = await import('./default-model.js');

let registry: Registry;
let releaseKey: ReleaseKeyFile;
let otherKey: ReleaseKeyFile;
const BUNDLE = defaultModelDir();

/** The committed bundle as `version`, signed with the pinned release key. */
const release = async (version: string, etag: string, edit?: Parameters<typeof variant>[2]): Promise<ServedModel> => signedBy(releaseKey, { ...variant(BUNDLE, version, edit), etag });
const downloads = () => registry.log.filter((l) => l.includes('/files/'));

beforeAll(async () => {
  registry = await startRegistry();
  await updateSettings({ backend_url: registry.url });
  releaseKey = await generateReleaseKey();
  otherKey = await generateReleaseKey();
  RELEASE_KEYS.push(pinnedKeyOf(releaseKey));
});
afterAll(async () => {
  RELEASE_KEYS.length = 0;
  await registry.close();
});
beforeEach(() => {
  registry.log.length = 0;
  offscreenCalls.length = 0;
  registry.down = false;
});

describe('model updater', () => {
  it('reports a missing channel as an error and keeps the bundled model', async () => {
    registry.channel = null;
    const r = await checkForUpdate();
    expect(r).toMatchObject({ status: 'error', active: (await activeModel()).version });
    expect((await activeModel()).version).toBe(DEFAULT_MODEL.version);
    expect(r.detail).toMatch(/HTTP 404/);
    expect((await activeModel()).source).toBe('bundled');
  });

  it('downloads, verifies and activates a new version signed with the pinned key', async () => {
    registry.channel = await release('1.0.1', '"v101"');
    const r = await checkForUpdate();
    expect(r).toMatchObject({ status: 'updated', version: '1.0.1', active: '1.0.1' });
    expect(registry.log[0]).toBe('GET /v1/channels/stable 200');
    expect(registry.log[1]).toBe('GET /v1/models/1.0.1/manifest.sig 200');
    expect(offscreenCalls.map((c) => c.type)).toEqual(['verify-model']);
    expect(await activeModel()).toMatchObject({ version: '1.0.1', source: 'downloaded' });
    expect((await db().models.get('1.0.1'))?.state).toBe('active');
  });

  it('answers an unchanged channel from its ETag without downloading', async () => {
    const r = await checkForUpdate();
    expect(r.status).toBe('up-to-date');
    expect(registry.log).toEqual(['GET /v1/channels/stable 304']);
  });
});

describe('release signatures', () => {
  it('refuses an unsigned model before downloading anything, and keeps nothing of it', async () => {
    registry.channel = { ...variant(BUNDLE, '1.1.0'), etag: '"v110"', signature: null };
    const r = await checkForUpdate();
    expect(r).toMatchObject({ status: 'rejected', version: '1.1.0', active: '1.0.1' });
    expect(r.detail).toBe('signature check failed: the manifest is not signed');
    expect(downloads()).toEqual([]);
    expect(await db().models.get('1.1.0')).toBeUndefined();
    expect((await activeModel()).version).toBe('1.0.1');
  });

  it('refuses a model signed with another key', async () => {
    registry.channel = await signedBy(otherKey, { ...variant(BUNDLE, '1.1.1'), etag: '"v111"' });
    const r = await checkForUpdate();
    expect(r.status).toBe('rejected');
    expect(r.detail).toBe(`signature check failed: signed with key ${otherKey.key_id}, which this build does not trust`);
    expect(downloads()).toEqual([]);
    expect((await activeModel()).version).toBe('1.0.1');
  });

  it("refuses another key's signature that claims the pinned key's id", async () => {
    const model: ServedModel = { ...variant(BUNDLE, '1.1.2'), etag: '"v112"' };
    const forged = { ...(await signManifest(manifestBytesOf(model), otherKey)), key_id: releaseKey.key_id };
    registry.channel = { ...model, signature: encodeSignature(forged) };
    const r = await checkForUpdate();
    expect(r.detail).toBe(`signature check failed: the signature does not verify with key ${releaseKey.key_id}`);
    expect(downloads()).toEqual([]);
  });

  it('refuses genuine files under a manifest changed after signing', async () => {
    // The release as signed, then a manifest that promises other golden probabilities and a lower
    // low-confidence threshold, served with the genuine signature and the genuine, valid files.
    const genuine = await release('1.1.3', '"v113"');
    const changed = { ...genuine.manifest, golden: genuine.manifest.golden.map((g) => ({ ...g, probs: [g.probs[2]!, g.probs[1]!, g.probs[0]!] })) };
    registry.channel = { ...genuine, manifest: changed, manifestBytes: new TextEncoder().encode(JSON.stringify(changed)) };
    const r = await checkForUpdate();
    expect(r.status).toBe('rejected');
    expect(r.detail).toMatch(/^signature check failed: the signature is for another manifest \(sha256 [0-9a-f]{12}…, this one is [0-9a-f]{12}…\)$/);
    expect(downloads()).toEqual([]);

    // Same, with the document's manifest_sha256 edited to match: the signature itself then fails.
    const doc = JSON.parse(new TextDecoder().decode(genuine.signature!)) as Record<string, string>;
    const { sha256Hex } = await import('../../../core/release-signature.js');
    doc.manifest_sha256 = await sha256Hex(registry.channel.manifestBytes!);
    registry.channel = { ...registry.channel, signature: new TextEncoder().encode(JSON.stringify(doc)) };
    expect((await checkForUpdate()).detail).toBe(`signature check failed: the signature does not verify with key ${releaseKey.key_id}`);
    expect((await activeModel()).version).toBe('1.0.1');
    // The genuine release is still accepted afterwards: nothing was remembered against 1.1.3.
    registry.channel = genuine;
    expect(await checkForUpdate()).toMatchObject({ status: 'updated', active: '1.1.3' });
    expect(await rollback()).toBe('1.0.1');
  });

  it('refuses everything when the build pins no key', async () => {
    const pinned = RELEASE_KEYS.splice(0);
    try {
      registry.channel = await release('1.1.4', '"v114"');
      expect((await checkForUpdate()).detail).toBe('signature check failed: no release key is pinned in this build');
      expect(downloads()).toEqual([]);
    } finally {
      RELEASE_KEYS.push(...pinned);
    }
  });
});

describe('downloads', () => {
  it('rejects a file with the wrong sha256, keeps the current model, and tries again next time', async () => {
    const v = await release('1.0.2', '"v102"');
    v.files['model.onnx'] = v.files['model.onnx']!.slice();
    v.files['model.onnx'][100] = v.files['model.onnx'][100]! ^ 1;
    registry.channel = v;
    const r = await checkForUpdate();
    expect(r.status).toBe('rejected');
    expect(r.detail).toMatch(/model.onnx sha256 .* does not match/);
    expect(offscreenCalls).toEqual([]); // never handed to the runtime
    expect((await activeModel()).version).toBe('1.0.1');
    // A corrupted download says nothing about the release: it is not remembered as rejected.
    expect(await db().models.get('1.0.2')).toBeUndefined();
    registry.log.length = 0;
    await checkForUpdate();
    expect(downloads().length).toBeGreaterThan(0);
  });

  it('rejects a truncated file', async () => {
    const v = await release('1.0.3', '"v103"');
    v.files['model.onnx'] = v.files['model.onnx']!.subarray(0, 1000);
    registry.channel = v;
    const r = await checkForUpdate();
    expect(r.status).toBe('rejected');
    expect(r.detail).toMatch(/model.onnx is 1000 bytes, manifest says/);
  });

  it('stops reading a file that streams past its manifest size', async () => {
    const v = await release('1.0.7', '"v107"');
    const expected = v.manifest.files.find((f) => f.path === 'model.onnx')!.bytes;
    const stream = { path: 'model.onnx', bytes: 64 * 1024 * 1024, contentLength: false, written: 0 };
    registry.channel = { ...v, stream };
    const r = await checkForUpdate();
    expect(r.status).toBe('rejected');
    expect(r.detail).toBe(`model.onnx is more than the ${expected} bytes expected`);
    // The client hung up: the server got nowhere near sending all 64 MB.
    await vi.waitFor(() => expect(registry.log).toContain('GET /v1/models/1.0.7/files/model.onnx 200 (stream)'));
    expect(stream.written).toBeLessThan(stream.bytes / 4);
    expect((await activeModel()).version).toBe('1.0.1');
  });

  it('refuses a file whose Content-Length is over its manifest size without reading it', async () => {
    const v = await release('1.0.8', '"v108"');
    const expected = v.manifest.files.find((f) => f.path === 'model.onnx')!.bytes;
    registry.channel = { ...v, stream: { path: 'model.onnx', bytes: 64 * 1024 * 1024, contentLength: true, written: 0 } };
    const r = await checkForUpdate();
    expect(r.detail).toBe(`model.onnx is ${64 * 1024 * 1024} bytes, more than the ${expected} expected`);
  });

  it('refuses a signed manifest that declares a file over the absolute maximum, before downloading', async () => {
    registry.channel = await release('1.0.9', '"v109"', (m) => {
      m.files[0]!.bytes = MAX_MODEL_FILE_BYTES + 1;
    });
    const r = await checkForUpdate();
    expect(r.status).toBe('rejected');
    expect(r.detail).toMatch(/more than any model file may be/);
    expect(downloads()).toEqual([]);
  });
});

describe('activation', () => {
  it('rejects a model whose golden examples fail, and does not fetch it again', async () => {
    registry.channel = await release('1.0.4', '"v104"', (m) => {
      m.golden = m.golden.map((g) => ({ ...g, probs: [g.probs[1]!, g.probs[2]!, g.probs[0]!] }));
    });
    const r = await checkForUpdate();
    expect(r.status).toBe('rejected');
    expect(r.detail).toMatch(/golden examples failed/);
    expect((await activeModel()).version).toBe('1.0.1');
    registry.log.length = 0;
    expect((await checkForUpdate()).detail).toMatch(/previously rejected/);
    expect(downloads()).toEqual([]);
  });

  it('reports a backend that is down as an error and keeps the model', async () => {
    registry.down = true;
    const r = await checkForUpdate();
    expect(r).toMatchObject({ status: 'error', active: '1.0.1' });
  });

  it('keeps the previous version and rolls back to it', async () => {
    registry.channel = await release('1.0.5', '"v105"');
    expect((await checkForUpdate()).status).toBe('updated');
    expect((await db().models.get('1.0.1'))?.state).toBe('previous');
    expect(await rollback()).toBe('1.0.1');
    expect((await activeModel()).version).toBe('1.0.1');
    expect((await db().models.get('1.0.5'))?.state).toBe('previous');
    // Only one previous version is kept.
    registry.channel = await release('1.0.6', '"v106"');
    await checkForUpdate();
    const states = Object.fromEntries((await db().models.toArray()).map((m) => [m.version, m.state]));
    expect(states).toMatchObject({ '1.0.6': 'active', '1.0.1': 'previous' });
    expect(states['1.0.5']).toBeUndefined();
  });
});

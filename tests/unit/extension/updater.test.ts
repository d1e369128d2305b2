/**
 * The model updater: release signatures (pinned key, another key, unsigned, manifest changed after
 * signing), streamed downloads capped at the manifest's sizes, size and sha256 checks, golden
 * examples, atomic switch, rejection, ETags, rollback, errors, canary rollouts (which side of a
 * rollout an install is on, by its install id, which no request carries) and backends from before
 * rollouts. IndexedDB is fake-indexeddb; the
 * registry is a real HTTP server; the golden check runs the real scorers on onnxruntime-web
 * (offscreen-node.ts). Keys are generated here, per run; none is committed.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { rolloutBucket } from '../../../core/canary.js';
import { encodeSignature, generateReleaseKey, pinnedKeyOf, signManifest, type ReleaseKeyFile } from '../../../core/release-signature.js';
import { defaultModelDir } from '../../../node-runtime/bundle.js';
import { installChromeFake } from './chrome-fake.js';
import { manifestBytesOf, signedBy, startRegistry, variant, type Registry, type ServedModel } from './registry-server.js';
import { offscreenCalls, toOffscreenInNode } from './offscreen-node.js';
import { RELEASE_KEYS } from './release-keys.js';

installChromeFake();
vi.mock('../../../extension/background/offscreen-client.js', () => ({
  toOffscreen: toOffscreenInNode,
  toOffscreenIfOpen: toOffscreenInNode,
  ensureOffscreen: async () => {},
  closeOffscreen: async () => {},
}));
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
  registry.legacy = false;
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
    expect(registry.log.slice(0, 3)).toEqual(['GET /v1/channels/stable/rollout 200', 'GET /v1/models/1.0.1/manifest.json 200', 'GET /v1/models/1.0.1/manifest.sig 200']);
    // An n-gram bundle under the default setting is checked by the runtime that serves it, the
    // service worker's forward pass: no offscreen document is created for the update.
    expect(offscreenCalls).toEqual([]);
    expect(await activeModel()).toMatchObject({ version: '1.0.1', source: 'downloaded' });
    expect((await db().models.get('1.0.1'))?.state).toBe('active');
  });

  it('answers an unchanged channel from its ETag without downloading', async () => {
    const r = await checkForUpdate();
    expect(r.status).toBe('up-to-date');
    expect(registry.log).toEqual(['GET /v1/channels/stable/rollout 304']);
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

  it('gives up on a backend that never answers within the time allowed, and the next check is not held by it', async () => {
    registry.hang = true;
    const r = await checkForUpdate({ timeoutMs: 300 });
    expect(r).toMatchObject({ status: 'error', active: '1.0.1', detail: 'the backend did not finish answering within 300 ms' });
    expect(registry.log).toEqual(['GET /v1/channels/stable/rollout (no answer)']);
    registry.hang = false;
    registry.channel = await release('1.0.1', '"v101"');
    expect(await checkForUpdate({ timeoutMs: 5000 })).toMatchObject({ status: 'up-to-date', active: '1.0.1' });
  });

  it('gives up on a download that stalls, keeps the model, and does not remember the version as rejected', async () => {
    const v = await release('1.0.30', '"v1030"');
    const stream = { path: 'model.onnx', bytes: v.manifest.files.find((f) => f.path === 'model.onnx')!.bytes, contentLength: true, written: 0, stallAfter: 64 * 1024 };
    registry.channel = { ...v, stream };
    const r = await checkForUpdate({ timeoutMs: 1500 });
    expect(r).toMatchObject({ status: 'error', active: '1.0.1', detail: 'the backend did not finish answering within 1500 ms' });
    expect(stream.written).toBe(64 * 1024);
    expect(await db().models.get('1.0.30')).toBeUndefined();
    expect((await activeModel()).version).toBe('1.0.1');
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

describe('canary rollouts', () => {
  /** Install ids on each side of a 50 % rollout of 2.1.0 on stable (the hash of core/canary.ts). */
  const idOn = (side: 'candidate' | 'stable', percent = 50): string => {
    for (let i = 0; ; i++) {
      const id = `unit-install-${i}`;
      if (rolloutBucket(id, 'stable', '2.1.0') < percent === (side === 'candidate')) return id;
    }
  };
  const setInstallId = (id: string) => chrome.storage.local.set({ install_id: id });
  const sent = () => registry.log.join('\n');

  it('gets the candidate in its bucket and stable outside it; the install id is never sent', async () => {
    registry.channel = await release('2.0.0', '"v200"');
    registry.candidate = { ...(await release('2.1.0', '"v210"')), percent: 50 };
    const inside = idOn('candidate');
    const outside = idOn('stable');

    await setInstallId(inside);
    expect(await checkForUpdate()).toMatchObject({ status: 'updated', version: '2.1.0', active: '2.1.0', arm: 'candidate' });
    expect(registry.log.slice(0, 2)).toEqual(['GET /v1/channels/stable/rollout 200', 'GET /v1/models/2.1.0/manifest.json 200']);
    // Asked again with the same id: the document's ETag, nothing else.
    registry.log.length = 0;
    expect(await checkForUpdate()).toMatchObject({ status: 'up-to-date', active: '2.1.0' });
    expect(registry.log).toEqual(['GET /v1/channels/stable/rollout 304']);

    await setInstallId(outside);
    registry.log.length = 0;
    // Same document, another id: not answered from the ETag remembered for the first id.
    expect(await checkForUpdate()).toMatchObject({ status: 'updated', version: '2.0.0', active: '2.0.0', arm: 'stable' });
    expect(registry.log[0]).toBe('GET /v1/channels/stable/rollout 200');
    expect(sent()).not.toContain(inside);
    expect(sent()).not.toContain(outside);
  });

  it('keeps an install on its side as the rollout grows, and moves it when it is reached', async () => {
    const late = idOn('stable', 50);
    await setInstallId(late);
    registry.candidate = { ...registry.candidate!, percent: 25 };
    expect(await checkForUpdate()).toMatchObject({ status: 'up-to-date', active: '2.0.0', arm: 'stable' });
    // Its bucket is fixed for this rollout: some share between 50 and 100 % reaches it.
    const bucket = rolloutBucket(late, 'stable', '2.1.0');
    registry.candidate = { ...registry.candidate, percent: Math.min(99.99, Math.ceil(bucket * 100 + 1) / 100) };
    expect(await checkForUpdate()).toMatchObject({ status: 'updated', active: '2.1.0', arm: 'candidate' });
  });

  it('goes back to stable when the backend ends the rollout (a rollback)', async () => {
    registry.candidate = null;
    expect(await checkForUpdate()).toMatchObject({ status: 'updated', active: '2.0.0', arm: 'stable' });
    // 2.0.0 was kept as the previous version: nothing is downloaded again.
    expect(downloads()).toEqual([]);
  });

  it('refuses a manifest that is not the one the rollout document names, before anything else', async () => {
    registry.candidate = { ...(await release('2.2.0', '"v220"')), percent: 99.99 };
    await setInstallId(idOn('candidate', 99.99));
    const genuine = registry.candidate;
    // The document names the genuine manifest; the model route answers with another one.
    const other = manifestBytesOf(await release('2.2.0', '"v220b"', (m) => (m.description = 'another build')));
    const { rolloutDoc } = await import('./registry-server.js');
    const doc = rolloutDoc(registry.channel!, genuine);
    registry.candidate = { ...genuine, manifestBytes: other, signature: genuine.signature };
    expect(rolloutDoc(registry.channel!, registry.candidate).candidate!.manifest_sha256).not.toBe(doc.candidate!.manifest_sha256);
    // Serve the genuine document but the other manifest bytes: only a hand-built server can.
    const r = await withRolloutDoc(doc, () => checkForUpdate());
    expect(r).toMatchObject({ status: 'error', active: '2.0.0' });
    expect(r.detail).toBe('the manifest served for 2.2.0 is not the one channel stable names');
    expect(registry.log.some((l) => l.includes('manifest.sig') || l.includes('/files/'))).toBe(false);
    registry.candidate = null;
  });

  it('reads a backend from before rollouts as before: the channel route serves the manifest', async () => {
    registry.legacy = true;
    registry.channel = await release('2.3.0', '"v230"');
    expect(await checkForUpdate()).toMatchObject({ status: 'updated', active: '2.3.0' });
    expect(registry.log.slice(0, 3)).toEqual(['GET /v1/channels/stable/rollout 404', 'GET /v1/channels/stable 200', 'GET /v1/models/2.3.0/manifest.sig 200']);
    registry.log.length = 0;
    expect(await checkForUpdate()).toMatchObject({ status: 'up-to-date' });
    expect(registry.log).toEqual(['GET /v1/channels/stable/rollout 404', 'GET /v1/channels/stable 304']);
  });
});

/**
 * Runs `fn` against a server whose rollout route answers `doc` and which forwards everything else
 * to the registry: a registry whose document and manifests disagree.
 */
async function withRolloutDoc<T>(doc: unknown, fn: () => Promise<T>): Promise<T> {
  const { createServer } = await import('node:http');
  const server = createServer(async (req, res) => {
    if (req.url === '/v1/channels/stable/rollout') return res.writeHead(200, { 'Content-Type': 'application/json' }).end(JSON.stringify(doc));
    const upstream = await fetch(registry.url + req.url);
    res.writeHead(upstream.status, Object.fromEntries(upstream.headers)).end(Buffer.from(await upstream.arrayBuffer()));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  try {
    await updateSettings({ backend_url: `http://127.0.0.1:${(server.address() as { port: number }).port}` });
    return await fn();
  } finally {
    await updateSettings({ backend_url: registry.url });
    server.closeAllConnections();
    await new Promise<void>((r) => server.close(() => r()));
  }
}

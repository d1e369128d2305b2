/**
 * The model updater: download, size and sha256 checks, golden examples, atomic switch, rejection,
 * ETags, rollback, errors. IndexedDB is fake-indexeddb; the registry is a real HTTP server; the
 * golden check runs the real scorers on onnxruntime-web (offscreen-node.ts).
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { defaultModelDir } from '../../../node-runtime/bundle.js';
import { installChromeFake } from './chrome-fake.js';
import { startRegistry, variant, type Registry } from './registry-server.js';
import { offscreenCalls, toOffscreenInNode } from './offscreen-node.js';

installChromeFake();
vi.mock('../../../extension/background/offscreen-client.js', () => ({ toOffscreen: toOffscreenInNode, toOffscreenIfOpen: toOffscreenInNode, ensureOffscreen: async () => {}, closeOffscreen: async () => {} }));
const { db } = await import('../../../extension/lib/db.js');
const { updateSettings } = await import('../../../extension/lib/settings.js');
const { activeModel, rollback } = await import('../../../extension/lib/model-store.js');
const { checkForUpdate } = await import('../../../extension/background/updater.js');
const { DEFAULT_MODEL } = await import('./default-model.js');

let registry: Registry;
const BUNDLE = defaultModelDir();

beforeAll(async () => {
  registry = await startRegistry();
  await updateSettings({ backend_url: registry.url });
});
afterAll(async () => {
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

  it('downloads, verifies and activates a new version', async () => {
    registry.channel = { ...variant(BUNDLE, '1.0.1'), etag: '"v101"' };
    const r = await checkForUpdate();
    expect(r).toMatchObject({ status: 'updated', version: '1.0.1', active: '1.0.1' });
    expect(offscreenCalls.map((c) => c.type)).toEqual(['verify-model']);
    expect(await activeModel()).toMatchObject({ version: '1.0.1', source: 'downloaded' });
    expect((await db().models.get('1.0.1'))?.state).toBe('active');
  });

  it('answers an unchanged channel from its ETag without downloading', async () => {
    const r = await checkForUpdate();
    expect(r.status).toBe('up-to-date');
    expect(registry.log).toEqual(['GET /v1/channels/stable 304']);
  });

  it('rejects a file with the wrong sha256 and keeps the current model', async () => {
    const v = variant(BUNDLE, '1.0.2');
    v.files['model.onnx']![100] = v.files['model.onnx']![100]! ^ 1;
    registry.channel = { ...v, etag: '"v102"' };
    const r = await checkForUpdate();
    expect(r.status).toBe('rejected');
    expect(r.detail).toMatch(/model.onnx sha256 .* does not match/);
    expect(offscreenCalls).toEqual([]); // never handed to the runtime
    expect((await activeModel()).version).toBe('1.0.1');
    expect(await db().models.get('1.0.2')).toMatchObject({ state: 'rejected', files: {} });
  });

  it('rejects a truncated file', async () => {
    const v = variant(BUNDLE, '1.0.3');
    v.files['model.onnx'] = v.files['model.onnx']!.subarray(0, 1000);
    registry.channel = { ...v, etag: '"v103"' };
    const r = await checkForUpdate();
    expect(r.status).toBe('rejected');
    expect(r.detail).toMatch(/model.onnx is 1000 bytes, manifest says/);
  });

  it('rejects a model whose golden examples fail, and does not fetch it again', async () => {
    const v = variant(BUNDLE, '1.0.4', (m) => {
      m.golden = m.golden.map((g) => ({ ...g, probs: [g.probs[1]!, g.probs[2]!, g.probs[0]!] }));
    });
    registry.channel = { ...v, etag: '"v104"' };
    const r = await checkForUpdate();
    expect(r.status).toBe('rejected');
    expect(r.detail).toMatch(/golden examples failed/);
    expect((await activeModel()).version).toBe('1.0.1');
    registry.log.length = 0;
    expect((await checkForUpdate()).detail).toMatch(/previously rejected/);
    expect(registry.log.filter((l) => l.includes('/files/'))).toEqual([]);
  });

  it('reports a backend that is down as an error and keeps the model', async () => {
    registry.down = true;
    const r = await checkForUpdate();
    expect(r).toMatchObject({ status: 'error', active: '1.0.1' });
  });

  it('keeps the previous version and rolls back to it', async () => {
    registry.channel = { ...variant(BUNDLE, '1.0.5'), etag: '"v105"' };
    expect((await checkForUpdate()).status).toBe('updated');
    expect((await db().models.get('1.0.1'))?.state).toBe('previous');
    expect(await rollback()).toBe('1.0.1');
    expect((await activeModel()).version).toBe('1.0.1');
    expect((await db().models.get('1.0.5'))?.state).toBe('previous');
    // Only one previous version is kept.
    registry.channel = { ...variant(BUNDLE, '1.0.6'), etag: '"v106"' };
    await checkForUpdate();
    const states = Object.fromEntries((await db().models.toArray()).map((m) => [m.version, m.state]));
    expect(states).toMatchObject({ '1.0.6': 'active', '1.0.1': 'previous' });
    expect(states['1.0.5']).toBeUndefined();
  });
});

/**
 * Model updates against a real `wrangler dev` registry: a newly published model (a transformer
 * bundle in the transformers.js layout, signed with the run's release key, which the test build
 * pins) is picked up and used; a model whose golden examples fail, a download whose sha256 is wrong,
 * a model signed with another key, an unsigned one and genuine files under a manifest changed after
 * signing are all refused while scoring continues on the current model; rollback; results cached
 * for one version are never served for another; a canary rollout: an install whose install id
 * falls in the candidate's buckets gets the candidate, another gets stable (the id is set in the
 * service worker's storage, as a test hook, and never sent).
 */
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ModelManifest } from '../../core/manifest.js';
import { encodeSignature, signManifest } from '../../core/release-signature.js';
import { defaultModelDir } from '../../node-runtime/bundle.js';
import { writeTransformerBundle } from '../../model-export/transformer-bundle.js';
import { openVideo, type ExtensionBrowser } from './browser.js';
import { startBackendAndBrowser, type Backend } from './backend.js';
import { BUNDLED_VERSION } from './models.js';
import { releaseKey, untrustedKey } from './release-key.js';
import { rolloutBucket } from '../../core/canary.js';
import { publishModel } from '../../scripts/publish-model.js';
import { rollout } from '../../scripts/rollout.js';
import { SECRETS } from './backend.js';

let backend: Backend;
let b: ExtensionBrowser;
let tmp: string;

interface Status {
  model: { version: string; format: string; source: string };
  previous_model: string | null;
  rejected_models: Array<{ version: string; reason: string }>;
  counters: Record<string, number>;
}
interface Update {
  status: string;
  version?: string;
  active: string;
  detail?: string;
}
const status = () => b.background<Status>('get-status');
const check = () => b.background<Update>('check-updates');
const scoreVersion = async (text: string) =>
  (await b.background<{ model_version: string; results: Array<{ label: string }> }>('score', { video_id: null, comments: [{ id: '0', text }] })).model_version;

/** A copy of the committed n-gram bundle under another version, with an optional manifest edit. */
function ngramVariant(version: string, edit: (m: ModelManifest) => void = () => {}): string {
  const src = defaultModelDir();
  const dir = join(tmp, version);
  mkdirSync(dir, { recursive: true });
  const manifest = JSON.parse(readFileSync(join(src, 'manifest.json'), 'utf8')) as ModelManifest;
  for (const f of manifest.files) copyFileSync(join(src, f.path), join(dir, f.path));
  manifest.version = version;
  edit(manifest);
  writeFileSync(join(dir, 'manifest.json'), JSON.stringify(manifest));
  return dir;
}

let env: Awaited<ReturnType<typeof startBackendAndBrowser>>;
beforeAll(async () => {
  tmp = mkdtempSync(join(tmpdir(), 'ytsent-e2e-models-'));
  env = await startBackendAndBrowser();
  ({ backend, browser: b } = env);
});
afterAll(async () => {
  await env?.close();
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

describe('model updates', () => {
  it('stays on the bundled model while the channel serves it', async () => {
    expect(await check()).toMatchObject({ status: 'up-to-date', active: BUNDLED_VERSION });
    expect((await status()).model).toMatchObject({ version: BUNDLED_VERSION, source: 'bundled' });
  });

  it('picks up a newly published transformer model and scores with it', async () => {
    const page = await openVideo(b.context, 'bbbbbbbbbbb');
    await page.waitForFunction(() => document.querySelectorAll('[data-ytsent-badge]').length === 5);
    const before = (await status()).counters;

    await writeTransformerBundle(join(tmp, '1.1.0'), { preset: 'tiny', version: '1.1.0', name: 'ytsent-tiny-transformer' });
    await backend.publish(join(tmp, '1.1.0'));
    const update = await check();
    expect(update).toMatchObject({ status: 'updated', version: '1.1.0', active: '1.1.0' });
    expect((await status()).model).toMatchObject({ version: '1.1.0', format: 'hf-text-classification', source: 'downloaded' });
    expect(await scoreVersion('a brand new comment')).toBe('1.1.0');

    // The page's comments were cached for the bundled model: after the switch they are inferred again with 1.1.0.
    await page.reload();
    await page.waitForFunction(() => document.querySelectorAll('[data-ytsent-badge]').length === 5);
    const after = (await status()).counters;
    expect(after.inferences! - before.inferences!).toBe(1 + 5);
    await page.close();
  });

  it('rejects a model whose golden examples fail on this device, and keeps scoring', async () => {
    // Valid manifest, correct sha256s, but the probabilities it promises are not what the model gives.
    const dir = ngramVariant('1.2.0', (m) => {
      m.golden = m.golden.map((g) => ({ ...g, probs: [g.probs[2]!, g.probs[0]!, g.probs[1]!] }));
    });
    await backend.publish(dir);
    const update = await check();
    expect(update.status).toBe('rejected');
    expect(update.detail).toMatch(/golden examples failed/);
    const s = await status();
    expect(s.model.version).toBe('1.1.0');
    expect(s.rejected_models.map((r) => r.version)).toContain('1.2.0');
    expect(await scoreVersion('still scoring after a rejected update')).toBe('1.1.0');
    // Asking again does not download the rejected version again.
    expect((await check()).detail).toMatch(/previously rejected/);
  });

  it('rejects a download whose sha256 does not match the manifest, and keeps scoring', async () => {
    // A registry (or CDN) serving a corrupted file: same size, one byte flipped.
    const dir = ngramVariant('1.3.0');
    const manifest = readFileSync(join(dir, 'manifest.json'));
    const signature = encodeSignature(await signManifest(new Uint8Array(manifest), await releaseKey()));
    const corrupted = Buffer.from(readFileSync(join(dir, 'model.onnx')));
    corrupted[1000] = corrupted[1000]! ^ 0xff;
    const server: Server = createServer((req, res) => {
      if (req.url === '/v1/channels/stable') return res.writeHead(200, { 'Content-Type': 'application/json' }).end(manifest);
      if (req.url === '/v1/models/1.3.0/manifest.sig') return res.writeHead(200, { 'Content-Type': 'application/json' }).end(signature);
      if (req.url === '/v1/models/1.3.0/files/model.onnx') return res.writeHead(200).end(corrupted);
      res.writeHead(404).end();
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    try {
      const port = (server.address() as { port: number }).port;
      await b.background('update-settings', { backend_url: `http://127.0.0.1:${port}` });
      const update = await check();
      expect(update.status).toBe('rejected');
      expect(update.detail).toMatch(/model.onnx sha256 .* does not match the manifest/);
      expect((await status()).model.version).toBe('1.1.0');
      expect(await scoreVersion('still scoring after a corrupted download')).toBe('1.1.0');
    } finally {
      server.close();
      await b.background('update-settings', { backend_url: backend.url });
    }
  });

  it('refuses a model signed with a key this build does not pin, and one published unsigned', async () => {
    const other = await untrustedKey();
    await backend.publish(ngramVariant('1.4.0'), 'stable', other);
    const signedElsewhere = await check();
    expect(signedElsewhere).toMatchObject({ status: 'rejected', version: '1.4.0', active: '1.1.0' });
    expect(signedElsewhere.detail).toBe(`signature check failed: signed with key ${other.key_id}, which this build does not trust`);

    await backend.publish(ngramVariant('1.5.0'), 'stable', null);
    const unsigned = await check();
    expect(unsigned).toMatchObject({ status: 'rejected', version: '1.5.0', active: '1.1.0' });
    expect(unsigned.detail).toBe('signature check failed: the manifest is not signed');

    const s = await status();
    expect(s.model.version).toBe('1.1.0');
    // Nothing of a model that failed its signature is kept on the device.
    expect(s.rejected_models.map((r) => r.version)).not.toContain('1.4.0');
    expect(await scoreVersion('still scoring after refused releases')).toBe('1.1.0');
  });

  it('refuses genuine files under a manifest changed after signing (a registry or path that rewrites manifests)', async () => {
    // The release as signed; served with a lower low-confidence threshold and the genuine signature and files.
    const dir = ngramVariant('1.6.0');
    const genuine = readFileSync(join(dir, 'manifest.json'));
    const signature = encodeSignature(await signManifest(new Uint8Array(genuine), await releaseKey()));
    const changed = JSON.parse(genuine.toString('utf8')) as ModelManifest & { confidence?: { low_threshold: number } };
    if (changed.confidence) changed.confidence.low_threshold = 0.01;
    else changed.description = 'changed after signing';
    const server: Server = createServer((req, res) => {
      if (req.url === '/v1/channels/stable') return res.writeHead(200, { 'Content-Type': 'application/json' }).end(JSON.stringify(changed));
      if (req.url === '/v1/models/1.6.0/manifest.sig') return res.writeHead(200, { 'Content-Type': 'application/json' }).end(signature);
      const file = /^\/v1\/models\/1\.6\.0\/files\/(.+)$/.exec(req.url ?? '');
      if (file) return res.writeHead(200).end(readFileSync(join(dir, decodeURIComponent(file[1]!))));
      res.writeHead(404).end();
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    try {
      await b.background('update-settings', { backend_url: `http://127.0.0.1:${(server.address() as { port: number }).port}` });
      const update = await check();
      expect(update).toMatchObject({ status: 'rejected', version: '1.6.0', active: '1.1.0' });
      expect(update.detail).toMatch(/^signature check failed: the signature is for another manifest/);
      expect(await scoreVersion('still scoring after a rewritten manifest')).toBe('1.1.0');
    } finally {
      server.close();
      await b.background('update-settings', { backend_url: backend.url });
    }
  });

  it('rolls back to the previous model in one step', async () => {
    expect(await b.background('rollback-model')).toEqual({ active: BUNDLED_VERSION });
    const s = await status();
    expect(s.model).toMatchObject({ version: BUNDLED_VERSION, source: 'bundled' });
    expect(s.previous_model).toBe('1.1.0');
    expect(await scoreVersion('after rollback')).toBe(BUNDLED_VERSION);
  });
});

describe('canary rollout', () => {
  const CHANNEL = 'canary-e2e';
  /** The first install id on the wanted side of a 50 % rollout of 1.8.0 on CHANNEL (core/canary.ts). */
  const idOn = (side: 'candidate' | 'stable'): string => {
    for (let i = 0; ; i++) {
      const id = `e2e-install-${i}`;
      if (rolloutBucket(id, CHANNEL, '1.8.0') < 50 === (side === 'candidate')) return id;
    }
  };
  /** The test hook: the install id lives in the service worker's chrome.storage.local. */
  const setInstallId = (id: string) => b.serviceWorker.evaluate((value) => chrome.storage.local.set({ install_id: value }), id);

  it('gives the candidate to an install in its buckets and stable to the others', async () => {
    // A channel of its own (not the default one, whose versions must be blessed by the gate).
    await backend.publish(ngramVariant('1.7.0'), CHANNEL);
    await publishModel({ dir: ngramVariant('1.8.0'), url: backend.url, publishToken: SECRETS.ADMIN_PUBLISH_TOKEN, releaseKey: await releaseKey(), log: () => {} });
    await rollout({ url: backend.url, token: SECRETS.ADMIN_PROMOTE_TOKEN, channel: CHANNEL, version: '1.8.0', percent: 50, log: () => {} });
    await b.background('update-settings', { channel: CHANNEL });
    try {
      await setInstallId(idOn('candidate'));
      expect(await check()).toMatchObject({ status: 'updated', version: '1.8.0', active: '1.8.0', arm: 'candidate' });
      expect(await scoreVersion('scored by the candidate')).toBe('1.8.0');

      await setInstallId(idOn('stable'));
      expect(await check()).toMatchObject({ status: 'updated', version: '1.7.0', active: '1.7.0', arm: 'stable' });
      expect(await scoreVersion('scored by stable')).toBe('1.7.0');
    } finally {
      await b.background('update-settings', { channel: 'stable' });
    }
  });
});

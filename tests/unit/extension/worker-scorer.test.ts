/**
 * The n-gram model in the service worker (extension/background/worker-scorer.ts): which path a
 * bundle and setting get, loading the bundled model from the package with its files and golden
 * examples checked, answers equal to onnxruntime-web's, one load for concurrent callers, a bundle
 * the forward pass cannot serve refused (remembered, scored offscreen instead), a corrupt file not
 * mistaken for that, and the updater's check. IndexedDB is fake-indexeddb; the package's files are
 * the committed bundle (chrome-fake.ts); the offscreen document is offscreen-node.ts.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as ort from 'onnxruntime-web';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import type { ModelManifest } from '../../../core/manifest.js';
import { createTextScorer, type AnyOrtModule } from '../../../core/text-scorer.js';
import { buildTransformerBundle } from '../../../model-export/transformer-bundle.js';
import { defaultModelDir, loadBundle } from '../../../node-runtime/bundle.js';
import { installChromeFake, packageFetches } from './chrome-fake.js';
import { offscreenCalls, toOffscreenInNode } from './offscreen-node.js';

installChromeFake();
vi.mock('../../../extension/background/offscreen-client.js', () => ({
  toOffscreen: toOffscreenInNode,
  toOffscreenIfOpen: toOffscreenInNode,
  ensureOffscreen: async () => {},
  closeOffscreen: async () => {},
}));
const { CannotServe, scoringPath, verifyInWorker, WorkerScorer } = await import('../../../extension/background/worker-scorer.js');
const { scoreComments, warmUp, workerScorer } = await import('../../../extension/background/scoring.js');
const { db } = await import('../../../extension/lib/db.js');
const { forgetActiveModel } = await import('../../../extension/lib/model-store.js');
const { updateSettings } = await import('../../../extension/lib/settings.js');
const { DEFAULT_MODEL } = await import('./default-model.js');

const BUNDLE = loadBundle(defaultModelDir());
const TEXTS = readFileSync(join(import.meta.dirname, '..', '..', 'fixtures', 'texts.jsonl'), 'utf8')
  .trim()
  .split('\n')
  .map((l) => (JSON.parse(l) as { text: string }).text)
  .slice(0, 300);

let tiny: ReturnType<typeof buildTransformerBundle> | null = null;
const tinyTransformer = () => (tiny ??= buildTransformerBundle({ preset: 'tiny', version: '3.0.0', name: 'ytsent-tiny-transformer' }));

/** Stores the committed bundle as a downloaded version, with an optional change, in `state`. */
async function storeVariant(version: string, state: 'active' | 'pending', edit: (m: ModelManifest, files: Map<string, Uint8Array>) => void = () => {}): Promise<void> {
  const manifest = structuredClone(BUNDLE.manifest);
  manifest.version = version;
  const files = new Map([...BUNDLE.files].map(([p, b]) => [p, b.slice()]));
  edit(manifest, files);
  await db().models.put({ version, manifest, files: Object.fromEntries([...files].map(([p, b]) => [p, b.buffer as ArrayBuffer])), state, added_at: Date.now() });
  forgetActiveModel();
}

beforeEach(async () => {
  offscreenCalls.length = 0;
  packageFetches.length = 0;
  workerScorer.forget();
  await db().models.clear();
  forgetActiveModel();
  await updateSettings({ execution: 'auto' });
});

describe('where a bundle is scored', () => {
  it('n-gram bundles in the service worker under auto; onnxruntime when asked for by name; transformers offscreen', async () => {
    const ngram = BUNDLE.manifest;
    expect(scoringPath(ngram, 'auto')).toBe('ts');
    expect(scoringPath(ngram, 'wasm')).toBe('offscreen');
    expect(scoringPath(ngram, 'webgpu')).toBe('offscreen');
    expect(scoringPath((await tinyTransformer()).manifest, 'auto')).toBe('offscreen');
  });
});

describe('the service worker scorer', () => {
  it('loads the bundled model from the package, checks its golden examples, and agrees with onnxruntime-web', async () => {
    const scorer = new WorkerScorer();
    const loaded = await scorer.load(DEFAULT_MODEL.version);
    expect(loaded.golden_max_abs_diff).toBeLessThan(1e-5);
    expect(packageFetches.sort()).toEqual(BUNDLE.manifest.files.map((f) => `models/${DEFAULT_MODEL.version}/${f.path}`).sort());

    const ours = await scorer.score(DEFAULT_MODEL.version, TEXTS);
    const reference = await createTextScorer(ort as unknown as AnyOrtModule, BUNDLE.manifest, BUNDLE.files);
    const theirs = await reference.score(TEXTS);
    await reference.release();
    expect(ours.probs).toHaveLength(TEXTS.length * 3);
    let maxDiff = 0;
    ours.probs.forEach((p, i) => (maxDiff = Math.max(maxDiff, Math.abs(p - theirs.probs[i]!))));
    expect(maxDiff).toBeLessThan(1e-5);
    expect(ours.langs).toEqual(theirs.langs);
    expect(scorer.status()).toMatchObject({ version: DEFAULT_MODEL.version, scored_texts: TEXTS.length, refused: {} });
  });

  it('scores a long request in steps with the same results, in order, as one text at a time', async () => {
    const scorer = new WorkerScorer();
    const texts = TEXTS.slice(0, 150); // three steps of 64
    const all = await scorer.score(DEFAULT_MODEL.version, texts);
    for (const i of [0, 63, 64, 127, 128, 149]) {
      const one = await scorer.score(DEFAULT_MODEL.version, [texts[i]!]);
      expect(Array.from(all.probs.subarray(3 * i, 3 * i + 3))).toEqual(Array.from(one.probs));
      expect(all.langs[i]).toEqual(one.langs[0]);
    }
  });

  it('loads a version once for concurrent callers', async () => {
    const scorer = new WorkerScorer();
    const [a, b] = await Promise.all([scorer.load(DEFAULT_MODEL.version), scorer.score(DEFAULT_MODEL.version, ['great video'])]);
    expect(a.version).toBe(DEFAULT_MODEL.version);
    expect(b.probs).toHaveLength(3);
    expect(packageFetches.filter((p) => p.endsWith('model.onnx'))).toHaveLength(1);
  });

  it('refuses a bundle whose golden examples it does not reproduce, remembers it, and it is scored offscreen', async () => {
    await storeVariant('2.9.0', 'active', (m) => {
      m.golden[0]!.probs = [0.9, 0.05, 0.05];
      m.golden[1]!.probs = [0.05, 0.05, 0.9];
    });
    const refusal = workerScorer.load('2.9.0');
    await expect(refusal).rejects.toBeInstanceOf(CannotServe);
    await expect(refusal).rejects.toThrow(/golden examples not reproduced: \d+ of \d+ off by up to/);
    expect(workerScorer.refused('2.9.0')).toMatch(/golden examples not reproduced/);

    // The page still gets its scores: from onnxruntime, offscreen, not from the refused forward pass.
    const r = await scoreComments(null, [{ id: '0', text: 'I love this channel' }]);
    expect(r).toMatchObject({ model_version: '2.9.0', execution: 'wasm' });
    expect(offscreenCalls.map((c) => c.type)).toEqual(['score']);
    expect(workerScorer.status()).toMatchObject({ version: null, scored_texts: 0, refused: { '2.9.0': expect.stringMatching(/golden/) } });
  });

  it('does not take a corrupt file for a refusal: the error is thrown, and the next request tries again', async () => {
    await storeVariant('2.9.1', 'active', (_m, files) => {
      const bytes = files.get('model.onnx')!;
      bytes[bytes.length - 1] = bytes[bytes.length - 1]! ^ 0xff;
    });
    await expect(workerScorer.load('2.9.1')).rejects.toThrow(/model.onnx fails its sha256 check/);
    expect(workerScorer.refused('2.9.1')).toBeUndefined();
    await expect(scoreComments(null, [{ id: '0', text: 'hello' }])).rejects.toThrow(/sha256/);
    expect(offscreenCalls).toEqual([]);
  });

  it('warms up where the model runs: here for an n-gram bundle under auto, offscreen when onnxruntime is asked for', async () => {
    await warmUp();
    expect(workerScorer.status().version).toBe(DEFAULT_MODEL.version);
    expect(offscreenCalls).toEqual([]);
    await updateSettings({ execution: 'wasm' });
    await warmUp();
    expect(offscreenCalls.map((c) => c.type)).toEqual(['warm']);
    const r = await scoreComments(null, [{ id: '0', text: 'scored by onnxruntime this time' }]);
    expect(r.execution).toBe('wasm');
  });
});

describe("the updater's check in the service worker", () => {
  it('passes the genuine bundle, fails changed golden examples, and leaves a transformer bundle to the offscreen document', async () => {
    await storeVariant('2.9.2', 'pending');
    expect(await verifyInWorker('2.9.2')).toMatchObject({ ok: true, failures: 0 });
    await storeVariant('2.9.3', 'pending', (m) => {
      m.golden[0]!.probs = [0.9, 0.05, 0.05];
    });
    expect(await verifyInWorker('2.9.3')).toMatchObject({ ok: false, failures: 1, error: 'golden examples not reproduced' });
    expect(await verifyInWorker('9.9.9')).toMatchObject({ ok: false, error: expect.stringMatching(/not available/) });

    const tiny = await tinyTransformer();
    const files = Object.fromEntries([...tiny.files].map(([p, b]) => [p, b.slice().buffer as ArrayBuffer]));
    await db().models.put({ version: '3.0.0', manifest: tiny.manifest, files, state: 'pending', added_at: Date.now() });
    expect(await verifyInWorker('3.0.0')).toBeNull();
  });
});

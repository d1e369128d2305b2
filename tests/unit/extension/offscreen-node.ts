/**
 * The offscreen document's protocol implemented in Node for unit tests of the service-worker
 * modules: the same core scorers and golden check the offscreen engine uses, on onnxruntime-web's
 * Node build (the engine's browser bundle and chrome.offscreen cannot load in Node; the e2e tests
 * run the real offscreen document in Chromium).
 */
import * as ort from 'onnxruntime-web';
import { goldenProbs } from '../../../core/hf-scorer.js';
import type { ModelManifest } from '../../../core/manifest.js';
import { checkGolden } from '../../../core/scorer.js';
import { createTextScorer, type AnyOrtModule } from '../../../core/text-scorer.js';
import { defaultModelDir, loadBundle } from '../../../node-runtime/bundle.js';
import type { OffscreenRequest } from '../../../extension/lib/messages.js';

ort.env.wasm.numThreads = 1;

export const offscreenCalls: OffscreenRequest[] = [];

async function filesFor(version: string): Promise<{ manifest: ModelManifest; files: Map<string, Uint8Array> }> {
  const bundled = loadBundle(defaultModelDir());
  if (version === bundled.manifest.version) return { manifest: bundled.manifest, files: bundled.files };
  const { loadModelFiles } = await import('../../../extension/lib/model-store.js');
  return loadModelFiles(version);
}

export async function toOffscreenInNode<T>(request: OffscreenRequest): Promise<T> {
  offscreenCalls.push(request);
  switch (request.type) {
    case 'score': {
      const { manifest, files } = await filesFor(request.data.model_version);
      const scorer = await createTextScorer(ort as unknown as AnyOrtModule, manifest, files);
      const { probs, langs } = await scorer.score(request.data.texts);
      await scorer.release();
      return { model_version: request.data.model_version, execution: 'wasm', probs: Array.from(probs), langs, ms: 0 } as T;
    }
    case 'verify-model': {
      try {
        const { manifest, files } = await filesFor(request.data.version);
        const scorer = await createTextScorer(ort as unknown as AnyOrtModule, manifest, files);
        const check = checkGolden(
          manifest.golden,
          await goldenProbs(
            scorer,
            manifest.golden.map((g) => g.text),
          ),
          manifest.golden_tolerance,
        );
        await scorer.release();
        return { ok: check.ok, max_abs_diff: check.max_abs_diff, failures: check.failures.length } as T;
      } catch (err) {
        return { ok: false, max_abs_diff: Infinity, failures: 0, error: (err as Error).message } as T;
      }
    }
    case 'status':
      return { version: null, execution: 'wasm', format: null, scored_texts: 0 } as T;
    case 'reset':
      return { reset: true } as T;
    case 'warm':
      return { warm: true } as T;
  }
}

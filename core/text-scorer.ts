/**
 * One interface over every bundle format, so a runtime (the extension's offscreen engine, a CLI)
 * can load whatever the registry serves and score with it the same way.
 */
import type { InferenceSession } from 'onnxruntime-common';
import { HfTextClassifier, type HfOrtModule } from './hf-scorer.js';
import type { ModelManifest } from './manifest.js';
import { NgramScorer, type OrtModule, type ScoredBatch } from './scorer.js';

/** What NgramScorer and HfTextClassifier have in common. */
export interface TextScorer {
  readonly manifest: ModelManifest;
  /** Row-major [texts, 3] probabilities in LABELS order. */
  probs(texts: readonly string[]): Promise<Float32Array>;
  /** The same probabilities plus each text's language guess. */
  score(texts: readonly string[]): Promise<ScoredBatch>;
  release(): Promise<void>;
}

/** An onnxruntime module (node or web) as both scorers use it. */
export type AnyOrtModule = OrtModule & HfOrtModule;

/**
 * The scorer for a verified bundle's format. `files` maps bundle paths to contents.
 *
 * @example
 * const scorer = await createTextScorer(ort, manifest, files, { executionProviders: ['wasm'] });
 * const check = checkGolden(manifest.golden, await goldenProbs(scorer, manifest.golden.map((g) => g.text)), manifest.golden_tolerance);
 */
export async function createTextScorer(ort: AnyOrtModule, manifest: ModelManifest, files: ReadonlyMap<string, Uint8Array>, options?: InferenceSession.SessionOptions): Promise<TextScorer> {
  switch (manifest.format) {
    case 'ngram-onnx': {
      const bytes = files.get(manifest.model.file);
      if (!bytes) throw new Error(`model bundle ${manifest.name}@${manifest.version} lacks ${manifest.model.file}`);
      const langidFile = manifest.languages?.langid.file;
      return NgramScorer.create(ort, manifest, bytes, options, langidFile ? files.get(langidFile) : undefined);
    }
    case 'hf-text-classification':
      return HfTextClassifier.create(ort, manifest, files, options);
  }
}

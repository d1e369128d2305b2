/**
 * Predict functions for the behavioural suite (runner.ts), on Node: every model bundle under
 * models/ (loaded and verified by node-runtime/bundle.ts, scored on onnxruntime-node through
 * core/text-scorer.ts, so n-gram and transformer bundles both work) and the lexicon baselines of
 * bench/lexicon-baselines.ts (VADER, AFINN-165, wink), whose probabilities are one-hot of their label.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { LABELS } from '../../core/labels.js';
import { compareSemver, SEMVER_RE } from '../../core/manifest.js';
import { toPredictions } from '../../core/scorer.js';
import { createTextScorer, type AnyOrtModule } from '../../core/text-scorer.js';
import { loadBundle, MODELS_DIR } from '../../node-runtime/bundle.js';
import { BASELINES } from '../../bench/lexicon-baselines.js';
import type { Predict, PredictionLike } from '../../training/behavioral/runner.js';

export interface NamedPredictor {
  /** "ytsent 1.0.0", "VADER", ... */
  name: string;
  predict: Predict;
  release(): Promise<void>;
}

export interface BundleInfo {
  dir: string;
  /** The manifest's version (not the folder name). */
  version: string;
  format: string;
}

/** Bundles under `modelsDir` (folders named by a semantic version with a manifest.json), oldest first. */
export function listModelBundles(modelsDir: string = MODELS_DIR): BundleInfo[] {
  if (!existsSync(modelsDir)) return [];
  const out: BundleInfo[] = [];
  for (const d of readdirSync(modelsDir)) {
    const manifestPath = join(modelsDir, d, 'manifest.json');
    if (!SEMVER_RE.test(d) || !existsSync(manifestPath)) continue;
    const m = JSON.parse(readFileSync(manifestPath, 'utf8')) as { version?: unknown; format?: unknown };
    const version = typeof m.version === 'string' && SEMVER_RE.test(m.version) ? m.version : d;
    out.push({ dir: join(modelsDir, d), version, format: String(m.format) });
  }
  return out.sort((a, b) => compareSemver(a.version, b.version));
}

/**
 * A predictor for a bundle directory: files verified against the manifest (sha256, size), then a
 * single-threaded onnxruntime-node session, as the CLIs and benchmarks run it. Texts are scored in
 * batches of `batchSize` (int8 transformer bundles move a little with their batch, see core/hf-scorer.ts).
 */
export async function bundlePredictor(dir: string, batchSize = 64): Promise<NamedPredictor> {
  const bundle = loadBundle(dir);
  const scorer = await createTextScorer(ort as unknown as AnyOrtModule, bundle.manifest, bundle.files, {
    intraOpNumThreads: 1,
    interOpNumThreads: 1,
    executionMode: 'sequential',
  });
  return {
    name: `ytsent ${bundle.manifest.version}`,
    predict: async (texts) => {
      const out: PredictionLike[] = [];
      for (let i = 0; i < texts.length; i += batchSize) out.push(...toPredictions(await scorer.probs(texts.slice(i, i + batchSize))));
      return out;
    },
    release: () => scorer.release(),
  };
}

/** VADER, AFINN-165 and wink with their documented thresholds; probs are one-hot of the label. */
export function lexiconPredictors(): NamedPredictor[] {
  return BASELINES.map((b) => ({
    name: b.name,
    predict: async (texts) =>
      texts.map((t) => {
        const label = b.classify(t);
        const probs = LABELS.map((l) => (l === label ? 1 : 0)) as [number, number, number];
        return { label, probs };
      }),
    release: async () => {},
  }));
}

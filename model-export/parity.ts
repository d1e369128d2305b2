/**
 * Parity: the TypeScript forward pass (core/linear.ts, float64 over the dequantized weights: what
 * training optimizes and what the Worker serves), onnxruntime-node and onnxruntime-web (WASM) must
 * agree on every text.
 */
import * as ortNode from 'onnxruntime-node';
import * as ortWeb from 'onnxruntime-web';
import type { FeaturizerConfig, SparseFeatures } from '../core/featurize.js';
import { featurize } from '../core/featurize.js';
import type { NgramOnnxManifest } from '../core/manifest.js';
import { NgramScorer, type OrtModule } from '../core/scorer.js';
import { argmaxRows, predictProbs, type LinearModel } from '../core/linear.js';

export interface RuntimeParity {
  runtime: string;
  max_abs_diff: number;
  argmax_agreement: number;
}

export interface ParityReport {
  n: number;
  runtimes: RuntimeParity[];
  max_abs_diff: number;
  argmax_agreement: number;
}

const BATCH = 64;

async function runtimeProbs(ort: OrtModule, manifest: NgramOnnxManifest, bytes: Uint8Array, rows: SparseFeatures[]): Promise<Float32Array> {
  // Parity concerns the graph's probabilities; language identification is the same TypeScript everywhere.
  const scorer = await NgramScorer.create(ort, { ...manifest, languages: undefined }, bytes);
  const out = new Float32Array(rows.length * 3);
  for (let i = 0; i < rows.length; i += BATCH) out.set(await scorer.probsForFeatures(rows.slice(i, i + BATCH)), i * 3);
  await scorer.release();
  return out;
}

export function compareProbs(runtime: string, reference: ArrayLike<number>, actual: ArrayLike<number>): RuntimeParity {
  let maxDiff = 0;
  for (let i = 0; i < reference.length; i++) maxDiff = Math.max(maxDiff, Math.abs(reference[i]! - actual[i]!));
  const a = argmaxRows(reference);
  const b = argmaxRows(actual);
  let agree = 0;
  for (let i = 0; i < a.length; i++) if (a[i] === b[i]) agree++;
  return { runtime, max_abs_diff: maxDiff, argmax_agreement: a.length ? agree / a.length : 1 };
}

/** Reference probabilities from the TypeScript forward pass over dequantized weights. */
export function referenceProbs(model: LinearModel, texts: readonly string[], config: FeaturizerConfig): Float64Array {
  return predictProbs(
    model,
    texts.map((t) => featurize(t, config)),
  );
}

export async function checkParity(manifest: NgramOnnxManifest, onnxBytes: Uint8Array, dequantized: LinearModel, texts: readonly string[]): Promise<ParityReport> {
  const rows = texts.map((t) => featurize(t, manifest.featurizer.config));
  const reference = predictProbs(dequantized, rows);
  ortWeb.env.wasm.numThreads = 1;
  const runtimes = [
    compareProbs('onnxruntime-node', reference, await runtimeProbs(ortNode as unknown as OrtModule, manifest, onnxBytes, rows)),
    compareProbs('onnxruntime-web (wasm)', reference, await runtimeProbs(ortWeb as unknown as OrtModule, manifest, onnxBytes, rows)),
  ];
  return {
    n: texts.length,
    runtimes,
    max_abs_diff: Math.max(...runtimes.map((r) => r.max_abs_diff)),
    argmax_agreement: Math.min(...runtimes.map((r) => r.argmax_agreement)),
  };
}

/**
 * Scoring with an n-gram ONNX bundle on any onnxruntime build.
 *
 * The runtime is passed in (onnxruntime-node in the CLIs, onnxruntime-web in the extension and the
 * parity checks), so this file is the one place that knows how featurizer output meets the graph.
 */
import type { InferenceSession, Tensor } from 'onnxruntime-common';
import { featurize, raggedBatch, RaggedBatchBuilder, type RaggedBatch, type SparseFeatures } from './featurize.js';
import { LABELS, type Label } from './labels.js';
import type { GoldenExample, NgramOnnxManifest } from './manifest.js';

/** The subset of an onnxruntime module the scorer needs. */
export interface OrtModule {
  InferenceSession: { create(model: Uint8Array, options?: InferenceSession.SessionOptions): Promise<InferenceSession> };
  Tensor: new (type: 'int32' | 'float32', data: Int32Array | Float32Array, dims: readonly number[]) => Tensor;
}

export interface Prediction {
  label: Label;
  /** Probability of the predicted label. */
  score: number;
  probs: [number, number, number];
}

export class NgramScorer {
  private readonly builder: RaggedBatchBuilder;

  private constructor(
    readonly manifest: NgramOnnxManifest,
    private readonly ort: OrtModule,
    private readonly session: InferenceSession,
  ) {
    this.builder = new RaggedBatchBuilder(manifest.featurizer.config);
  }

  static async create(
    ort: OrtModule,
    manifest: NgramOnnxManifest,
    modelBytes: Uint8Array,
    options?: InferenceSession.SessionOptions,
  ): Promise<NgramScorer> {
    const session = await ort.InferenceSession.create(modelBytes, options);
    return new NgramScorer(manifest, ort, session);
  }

  featurize(text: string): SparseFeatures {
    return featurize(text, this.manifest.featurizer.config);
  }

  /** Row-major [rows, 3] probabilities for already featurized rows. */
  async probsForFeatures(rows: readonly SparseFeatures[]): Promise<Float32Array> {
    return this.run(raggedBatch(rows));
  }

  /** Row-major [texts, 3] probabilities. */
  async probs(texts: readonly string[]): Promise<Float32Array> {
    for (const t of texts) this.builder.add(t);
    return this.run(this.builder.take());
  }

  private async run(batch: RaggedBatch): Promise<Float32Array> {
    if (batch.lengths.length === 0) return new Float32Array(0);
    const nnz = [batch.ids.length];
    const out = await this.session.run({
      feature_ids: new this.ort.Tensor('int32', batch.ids, nnz),
      feature_values: new this.ort.Tensor('float32', batch.values, nnz),
      feature_rows: new this.ort.Tensor('int32', batch.rows, nnz),
      row_lengths: new this.ort.Tensor('int32', batch.lengths, [batch.lengths.length]),
    });
    return out.probs!.data as Float32Array;
  }

  async predict(texts: readonly string[]): Promise<Prediction[]> {
    return toPredictions(await this.probs(texts));
  }

  async release(): Promise<void> {
    await this.session.release();
  }
}

/** Row-major probabilities → predictions (argmax, ties to the lower label index). */
export function toPredictions(probs: Float32Array): Prediction[] {
  const out: Prediction[] = [];
  for (let i = 0; i < probs.length; i += LABELS.length) {
    const p: [number, number, number] = [probs[i]!, probs[i + 1]!, probs[i + 2]!];
    let best = 0;
    for (let k = 1; k < LABELS.length; k++) if (p[k]! > p[best]!) best = k;
    out.push({ label: LABELS[best]!, score: p[best]!, probs: p });
  }
  return out;
}

export interface GoldenCheck {
  ok: boolean;
  /** Largest |Δprob| over all examples and labels. */
  max_abs_diff: number;
  failures: Array<{ text: string; expected: number[]; actual: number[] }>;
}

/** Compare a runtime's probabilities with the manifest's golden examples. */
export function checkGolden(golden: readonly GoldenExample[], actual: Float32Array, tolerance: number): GoldenCheck {
  let maxDiff = 0;
  const failures: GoldenCheck['failures'] = [];
  golden.forEach((g, i) => {
    const got = Array.from(actual.subarray(i * 3, i * 3 + 3));
    const diff = Math.max(...g.probs.map((p, k) => Math.abs(p - (got[k] ?? NaN))));
    if (!(diff <= tolerance)) failures.push({ text: g.text, expected: g.probs, actual: got });
    maxDiff = Math.max(maxDiff, Number.isNaN(diff) ? Infinity : diff);
  });
  return { ok: failures.length === 0 && golden.length > 0, max_abs_diff: maxDiff, failures };
}

/**
 * Multinomial logistic regression over sparse hashed features, trained with Adagrad SGD.
 *
 * Written here rather than taken from a library because the model's forward pass must be
 * exactly the ONNX graph's (weighted row gather, sum, bias, softmax) and training must be seeded and
 * bit-for-bit reproducible in plain TypeScript.
 */
import type { SparseFeatures } from '../core/featurize.js';

export const NUM_CLASSES = 3;

export interface LinearModel {
  /** Row-major [buckets, NUM_CLASSES]. */
  weights: Float32Array;
  bias: Float32Array;
}

export interface TrainOptions {
  buckets: number;
  /** Number of output classes (default {@link NUM_CLASSES}). */
  classes?: number;
  /** Per-row soft targets (a distribution over classes) replacing the one-hot label where given. */
  soft?: ReadonlyArray<ArrayLike<number> | undefined>;
  epochs: number;
  learningRate: number;
  /** L2 penalty per example (applied lazily to touched rows). */
  l2: number;
  seed: number;
  onEpoch?: (epoch: number) => void;
}

/** Mulberry32: small, fast, seedable PRNG. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function shuffleInPlace<T>(items: T[], random: () => number): T[] {
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [items[i], items[j]] = [items[j]!, items[i]!];
  }
  return items;
}

export function train(
  xs: readonly SparseFeatures[],
  ys: ArrayLike<number>,
  sampleWeights: ArrayLike<number>,
  opts: TrainOptions,
): LinearModel {
  const K = opts.classes ?? NUM_CLASSES;
  const weights = new Float32Array(opts.buckets * K);
  const bias = new Float32Array(K);
  const g2 = new Float32Array(opts.buckets * K).fill(1e-6);
  const g2b = new Float32Array(K).fill(1e-6);
  const order = Array.from({ length: xs.length }, (_, i) => i);
  const random = rng(opts.seed);
  const logits = new Float64Array(K);
  const grad = new Float64Array(K);
  for (let epoch = 0; epoch < opts.epochs; epoch++) {
    shuffleInPlace(order, random);
    for (const i of order) {
      const { ids, values } = xs[i]!;
      forwardInto(weights, bias, ids, values, logits);
      softmaxInPlace(logits);
      const sw = sampleWeights[i]!;
      if (sw === 0) continue;
      const soft = opts.soft?.[i];
      if (soft) for (let k = 0; k < K; k++) grad[k] = (logits[k]! - soft[k]!) * sw;
      else for (let k = 0; k < K; k++) grad[k] = (logits[k]! - (ys[i] === k ? 1 : 0)) * sw;
      for (let j = 0; j < ids.length; j++) {
        const row = ids[j]! * K;
        const v = values[j]!;
        for (let k = 0; k < K; k++) {
          const g = grad[k]! * v + opts.l2 * weights[row + k]!;
          g2[row + k]! += g * g;
          weights[row + k]! -= (opts.learningRate * g) / Math.sqrt(g2[row + k]!);
        }
      }
      for (let k = 0; k < K; k++) {
        g2b[k]! += grad[k]! * grad[k]!;
        bias[k]! -= (opts.learningRate * grad[k]!) / Math.sqrt(g2b[k]!);
      }
    }
    opts.onEpoch?.(epoch + 1);
  }
  return { weights, bias };
}

/** logits[k] = bias[k] + Σ_j values[j]·W[ids[j], k]: the ONNX graph computes exactly this. */
export function forwardInto(
  weights: Float32Array,
  bias: Float32Array,
  ids: Int32Array,
  values: Float32Array,
  out: Float64Array,
): void {
  const K = bias.length;
  for (let k = 0; k < K; k++) out[k] = bias[k]!;
  for (let j = 0; j < ids.length; j++) {
    const row = ids[j]! * K;
    const v = values[j]!;
    for (let k = 0; k < K; k++) out[k]! += v * weights[row + k]!;
  }
}

export function softmaxInPlace(x: Float64Array | Float32Array): void {
  let max = -Infinity;
  for (let k = 0; k < x.length; k++) if (x[k]! > max) max = x[k]!;
  let sum = 0;
  for (let k = 0; k < x.length; k++) {
    x[k] = Math.exp(x[k]! - max);
    sum += x[k]!;
  }
  for (let k = 0; k < x.length; k++) x[k]! /= sum;
}

/** Probabilities for featurized rows, row-major [rows, classes], in float64. */
export function predictProbs(model: LinearModel, rows: readonly SparseFeatures[]): Float64Array {
  const K = model.bias.length;
  const out = predictLogits(model, rows);
  for (let i = 0; i < out.length; i += K) softmaxInPlace(out.subarray(i, i + K));
  return out;
}

/** Logits (before softmax) for featurized rows, row-major [rows, classes]. */
export function predictLogits(model: LinearModel, rows: readonly SparseFeatures[]): Float64Array {
  const K = model.bias.length;
  const out = new Float64Array(rows.length * K);
  const tmp = new Float64Array(K);
  rows.forEach((r, i) => {
    forwardInto(model.weights, model.bias, r.ids, r.values, tmp);
    out.set(tmp, i * K);
  });
  return out;
}

export function argmaxRows(probs: ArrayLike<number>, K: number = NUM_CLASSES): Uint8Array {
  const n = probs.length / K;
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    let best = 0;
    for (let k = 1; k < K; k++) if (probs[i * K + k]! > probs[i * K + best]!) best = k;
    out[i] = best;
  }
  return out;
}

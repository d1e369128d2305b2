/**
 * The n-gram model's forward pass in plain TypeScript: logits[k] = bias[k] + Σ_j values[j]·W[ids[j], k],
 * then softmax. The ONNX graph (model-export/onnx-graph.ts) computes exactly this; so do training
 * (training/softmax.ts trains the weights with it), the parity checks (model-export/parity.ts
 * compares onnxruntime with it) and the Worker's POST /v1/predict (core/linear-scorer.ts), which
 * cannot run onnxruntime because workerd does not compile WebAssembly from bytes.
 *
 * One implementation, so the reference every runtime is checked against is the thing that serves
 * (core/linear-scorer.ts reads the weights in the bundle's packed int8 form through
 * {@link forwardPacked3Into}, which computes forwardInto's logits to the bit).
 * Arithmetic is float64 over float32 weights; onnxruntime sums in float32, so the two differ in
 * the 7th decimal (tests/unit/linear-scorer.test.ts measures it).
 */
import { LABELS } from './labels.js';

export const NUM_CLASSES = LABELS.length;

/** A multinomial logistic regression over hashed features. */
export interface LinearModel {
  /** Row-major [buckets, classes]. */
  weights: Float32Array;
  /** One per class; its length is the number of classes. */
  bias: Float32Array;
}

/** logits[k] = bias[k] + Σ_j values[j]·W[ids[j], k], over features [from, to) (default: all). */
export function forwardInto(weights: Float32Array, bias: Float32Array, ids: ArrayLike<number>, values: ArrayLike<number>, out: Float64Array, from = 0, to = ids.length): void {
  const K = bias.length;
  for (let k = 0; k < K; k++) out[k] = bias[k]!;
  for (let j = from; j < to; j++) {
    const row = ids[j]! * K;
    const v = values[j]!;
    for (let k = 0; k < K; k++) out[k]! += v * weights[row + k]!;
  }
}

/** Numerically stable softmax, in place. */
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

/** Logits (before softmax) for featurized rows, row-major [rows, classes]. */
export function predictLogits(model: LinearModel, rows: ReadonlyArray<{ ids: ArrayLike<number>; values: ArrayLike<number> }>): Float64Array {
  const K = model.bias.length;
  const out = new Float64Array(rows.length * K);
  const tmp = new Float64Array(K);
  rows.forEach((r, i) => {
    forwardInto(model.weights, model.bias, r.ids, r.values, tmp);
    out.set(tmp, i * K);
  });
  return out;
}

/** Probabilities for featurized rows, row-major [rows, classes], in float64. */
export function predictProbs(model: LinearModel, rows: ReadonlyArray<{ ids: ArrayLike<number>; values: ArrayLike<number> }>): Float64Array {
  const K = model.bias.length;
  const out = predictLogits(model, rows);
  for (let i = 0; i < out.length; i += K) softmaxInPlace(out.subarray(i, i + K));
  return out;
}

/** Index of the largest of `K` values starting at `offset` (ties go to the lower index). */
export function argmax(values: ArrayLike<number>, offset = 0, K = values.length - offset): number {
  let best = 0;
  for (let k = 1; k < K; k++) if (values[offset + k]! > values[offset + best]!) best = k;
  return best;
}

/** The argmax of every row of a row-major [rows, K] array. */
export function argmaxRows(probs: ArrayLike<number>, K: number = NUM_CLASSES): Uint8Array {
  const n = probs.length / K;
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) out[i] = argmax(probs, i * K, K);
  return out;
}

// ---------------------------------------------------------------------------------------------
// The int8 form the bundle ships (model-export/quantize.ts and onnx-graph.ts write it).

/** uint8 zero point of the packed bytes: byte = int8 weight + 128. */
export const ZERO_POINT = 128;

/** Packed uint32 rows (class k's byte at bits 8k..8k+7) → row-major [rows, cols] int8. */
export function unpackWeights(packed: Uint32Array, cols: number): Int8Array {
  if (cols > 4) throw new Error('at most 4 classes fit in a packed uint32');
  const out = new Int8Array(packed.length * cols);
  for (let r = 0; r < packed.length; r++) for (let k = 0; k < cols; k++) out[r * cols + k] = ((packed[r]! >>> (8 * k)) & 0xff) - ZERO_POINT;
  return out;
}

/** q · scale per column, rounded to float32: what ONNX DequantizeLinear computes. */
export function dequantizeInt8(values: Int8Array, scales: Float32Array): Float32Array {
  const cols = scales.length;
  const out = new Float32Array(values.length);
  for (let i = 0; i < out.length; i++) out[i] = Math.fround(values[i]! * scales[i % cols]!);
  return out;
}

/** The weights as the bundle's graph stores them (model-export/onnx-graph.ts packWeights). */
export interface PackedLinearModel {
  /** One per bucket: class k's int8 weight + {@link ZERO_POINT} in byte k (at most 4 classes). */
  packed: Uint32Array;
  /** One per class: weight = int8 · scale, rounded to float32. */
  scales: Float32Array;
  bias: Float32Array;
}

/** The float32 weights of a packed model ({@link unpackWeights} then {@link dequantizeInt8}). */
export function dequantizePacked(model: PackedLinearModel): LinearModel {
  return { weights: dequantizeInt8(unpackWeights(model.packed, model.scales.length), model.scales), bias: model.bias };
}

/**
 * {@link forwardInto} on the packed weights of a 3-class model, with the same result to the bit:
 * each weight is dequantized as {@link dequantizeInt8} does (Math.fround(q · scale)) and the sums
 * run in the same order in float64. One 4-byte read per feature from a table a third the size of
 * the float32 one: the weight reads are cache misses, and they were most of the forward pass.
 */
export function forwardPacked3Into(model: PackedLinearModel, ids: ArrayLike<number>, values: ArrayLike<number>, out: Float64Array, from: number, to: number): void {
  const { packed, scales, bias } = model;
  if (scales.length !== 3) throw new Error('forwardPacked3Into needs a 3-class model');
  const s0 = scales[0]!;
  const s1 = scales[1]!;
  const s2 = scales[2]!;
  let o0 = bias[0]!;
  let o1 = bias[1]!;
  let o2 = bias[2]!;
  for (let j = from; j < to; j++) {
    const word = packed[ids[j]!]!;
    const v = values[j]!;
    o0 += v * Math.fround(((word & 0xff) - ZERO_POINT) * s0);
    o1 += v * Math.fround((((word >>> 8) & 0xff) - ZERO_POINT) * s1);
    o2 += v * Math.fround((((word >>> 16) & 0xff) - ZERO_POINT) * s2);
  }
  out[0] = o0;
  out[1] = o1;
  out[2] = o2;
}

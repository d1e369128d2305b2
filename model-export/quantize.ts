/**
 * Symmetric per-class int8 quantization of the [buckets, classes] weight table.
 *
 * One scale per output column (DequantizeLinear with axis=1 semantics) keeps each class's weights
 * on their own range; zero points are 0, so an unused bucket stays exactly 0.
 */
import { dequantizeInt8, type LinearModel } from '../core/linear.js';

export interface QuantizedWeights {
  /** Row-major [rows, cols] int8 values. */
  values: Int8Array;
  /** One scale per column: w ≈ q · scale. */
  scales: Float32Array;
  rows: number;
  cols: number;
}

export function quantizeInt8(weights: Float32Array, cols: number): QuantizedWeights {
  const rows = weights.length / cols;
  const scales = new Float32Array(cols);
  for (let i = 0; i < weights.length; i++) {
    const k = i % cols;
    scales[k] = Math.max(scales[k]!, Math.abs(weights[i]!));
  }
  for (let k = 0; k < cols; k++) scales[k] = scales[k]! > 0 ? scales[k]! / 127 : 1;
  const values = new Int8Array(weights.length);
  for (let i = 0; i < weights.length; i++) {
    values[i] = Math.max(-127, Math.min(127, Math.round(weights[i]! / scales[i % cols]!)));
  }
  return { values, scales, rows, cols };
}

/** q · scale, as float32: what DequantizeLinear computes in the runtime (core/linear.ts). */
export function dequantize(q: QuantizedWeights): Float32Array {
  return dequantizeInt8(q.values, q.scales);
}

/**
 * The model as it ships: weights quantized to int8 and back (the bias stays float, as in the
 * graph). Selection and gates score this, so a floor is checked on what installs run.
 */
export function asShipped(model: LinearModel, classes: number): LinearModel {
  return { weights: dequantize(quantizeInt8(model.weights, classes)), bias: model.bias };
}

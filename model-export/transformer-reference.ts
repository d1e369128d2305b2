/**
 * An independent DistilBERT forward pass in TypeScript over the int8 weights read back out of a
 * `model_quantized.onnx` written by transformer-graph.ts: the check that the graph computes what
 * DistilBERT computes (embedding sum, attention with its mask, residuals, GELU, [CLS] pooling),
 * which golden examples alone cannot show (they come from the graph itself).
 *
 * Integer parts follow the ONNX operator definitions exactly (DynamicQuantizeLinear over the whole
 * tensor, exact MatMulInteger sums, float32 scale products); float parts run in float64. Results
 * therefore match onnxruntime up to float rounding, which an occasional one-step activation
 * rounding flip amplifies to ~1e-3 in probability.
 */
import onnxProto from 'onnx-proto';
import type { DistilBertDims } from './transformer-graph.js';

const { onnx } = onnxProto;
const f32 = Math.fround;

interface Int8Weight {
  values: Int8Array;
  scale: number;
  rows: number;
  cols: number;
}

interface Linear extends Int8Weight {
  bias: Float32Array;
}

/** Weights by the names transformer-graph.ts gives its initializers. */
export class ReferenceDistilBert {
  private readonly init = new Map<string, onnxProto.onnx.ITensorProto>();

  constructor(
    onnxBytes: Uint8Array,
    private readonly dims: DistilBertDims,
  ) {
    const model = onnx.ModelProto.decode(onnxBytes);
    for (const t of model.graph!.initializer!) this.init.set(t.name!, t);
  }

  private raw(name: string): Uint8Array {
    const t = this.init.get(name);
    if (!t?.rawData) throw new Error(`initializer ${name} not found`);
    return t.rawData.slice();
  }

  private float(name: string): Float32Array {
    return new Float32Array(this.raw(name).buffer);
  }

  private int8(name: string): Int8Weight {
    const t = this.init.get(`${name}.weight_quantized`);
    const [rows, cols] = (t?.dims ?? []).map(Number) as [number, number];
    return { values: new Int8Array(this.raw(`${name}.weight_quantized`).buffer), scale: this.float(`${name}.weight_scale`)[0]!, rows, cols };
  }

  private linear(name: string): Linear {
    return { ...this.int8(name), bias: this.float(`${name}.bias`) };
  }

  /** Logits [batch, num_labels] for padded ids and mask, both row-major [batch, seq]. */
  logits(ids: ArrayLike<number>, mask: ArrayLike<number>, batch: number, seq: number): Float64Array {
    const { dim, n_heads: heads, n_layers: layers } = this.dims;
    const headDim = dim / heads;
    const rows = batch * seq;
    const words = this.int8('distilbert.embeddings.word_embeddings');
    const positions = this.int8('distilbert.embeddings.position_embeddings');
    let x: Float64Array = new Float64Array(rows * dim);
    for (let r = 0; r < rows; r++) {
      const w = ids[r]!;
      const p = r % seq;
      for (let d = 0; d < dim; d++) {
        x[r * dim + d] = f32(words.values[w * dim + d]! * words.scale) + f32(positions.values[p * dim + d]! * positions.scale);
      }
    }
    x = layerNorm(x, dim);
    for (let l = 0; l < layers; l++) {
      const p = `distilbert.transformer.layer.${l}`;
      const xq = dynamicQuantize(x);
      const q = matMulInteger(xq, this.linear(`${p}.attention.q_lin`));
      const k = matMulInteger(xq, this.linear(`${p}.attention.k_lin`));
      const v = matMulInteger(xq, this.linear(`${p}.attention.v_lin`));
      const context = new Float64Array(rows * dim);
      const scores = new Float64Array(seq);
      for (let b = 0; b < batch; b++) {
        for (let h = 0; h < heads; h++) {
          for (let i = 0; i < seq; i++) {
            let max = -Infinity;
            for (let j = 0; j < seq; j++) {
              let s = 0;
              for (let d = 0; d < headDim; d++) s += q[(b * seq + i) * dim + h * headDim + d]! * k[(b * seq + j) * dim + h * headDim + d]!;
              // Masked keys get float32's minimum added, as in the graph: exp() of them is 0.
              scores[j] = s / Math.sqrt(headDim) + (mask[b * seq + j] ? 0 : -3.4028234663852886e38);
              max = Math.max(max, scores[j]!);
            }
            let sum = 0;
            for (let j = 0; j < seq; j++) sum += scores[j] = Math.exp(scores[j]! - max);
            for (let j = 0; j < seq; j++) {
              const a = scores[j]! / sum;
              const out = (b * seq + i) * dim + h * headDim;
              const from = (b * seq + j) * dim + h * headDim;
              for (let d = 0; d < headDim; d++) context[out + d] = context[out + d]! + a * v[from + d]!;
            }
          }
        }
      }
      const attn = matMulInteger(dynamicQuantize(context), this.linear(`${p}.attention.out_lin`));
      const sa = layerNorm(add(attn, x), dim);
      const hidden = matMulInteger(dynamicQuantize(sa), this.linear(`${p}.ffn.lin1`)).map(gelu);
      const ffn = matMulInteger(dynamicQuantize(hidden), this.linear(`${p}.ffn.lin2`));
      x = layerNorm(add(ffn, sa), dim);
    }
    const cls = new Float64Array(batch * dim);
    for (let b = 0; b < batch; b++) cls.set(x.subarray(b * seq * dim, b * seq * dim + dim), b * dim);
    const pooled = matMulInteger(dynamicQuantize(cls), this.linear('pre_classifier')).map((t) => Math.max(0, t));
    return matMulInteger(dynamicQuantize(pooled), this.linear('classifier'));
  }
}

interface QuantizedActivations {
  values: Uint8Array;
  scale: number;
  zero: number;
}

function roundHalfEven(x: number): number {
  const r = Math.round(x);
  return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/** ONNX DynamicQuantizeLinear: uint8, one scale and zero point for the whole tensor, in float32. */
function dynamicQuantize(x: Float64Array): QuantizedActivations {
  let lo = 0;
  let hi = 0;
  const xf = Float32Array.from(x);
  for (const t of xf) {
    lo = Math.min(lo, t);
    hi = Math.max(hi, t);
  }
  const scale = f32(f32(hi - lo) / 255);
  const zero = Math.max(0, Math.min(255, roundHalfEven(f32(0 - f32(lo / scale)))));
  const values = new Uint8Array(x.length);
  for (let i = 0; i < xf.length; i++) values[i] = Math.max(0, Math.min(255, roundHalfEven(f32(xf[i]! / scale)) + zero));
  return { values, scale, zero };
}

/** MatMulInteger (exact integer sums) → Cast → × (x_scale · w_scale in float32) → + bias. */
function matMulInteger(x: QuantizedActivations, w: Linear): Float64Array {
  const n = x.values.length / w.rows;
  const out = new Float64Array(n * w.cols);
  const scale = f32(x.scale * w.scale);
  for (let r = 0; r < n; r++) {
    for (let c = 0; c < w.cols; c++) {
      let acc = 0;
      for (let k = 0; k < w.rows; k++) acc += (x.values[r * w.rows + k]! - x.zero) * w.values[k * w.cols + c]!;
      out[r * w.cols + c] = f32(acc * scale) + w.bias[c]!;
    }
  }
  return out;
}

function add(a: Float64Array, b: Float64Array): Float64Array {
  return a.map((t, i) => t + b[i]!);
}

/** LayerNorm over the last axis, γ = 1 and β = 0 (what the generator writes), ε = 1e-12. */
function layerNorm(x: Float64Array, dim: number): Float64Array {
  const out = new Float64Array(x.length);
  for (let r = 0; r < x.length; r += dim) {
    let mean = 0;
    for (let d = 0; d < dim; d++) mean += x[r + d]!;
    mean /= dim;
    let variance = 0;
    for (let d = 0; d < dim; d++) variance += (x[r + d]! - mean) ** 2;
    variance /= dim;
    const inv = 1 / Math.sqrt(variance + 1e-12);
    for (let d = 0; d < dim; d++) out[r + d] = (x[r + d]! - mean) * inv;
  }
  return out;
}

/** erf by its Maclaurin series (|x| < 3) or continued fraction: ~1e-15, plenty for a reference. */
export function erf(x: number): number {
  const a = Math.abs(x);
  let result: number;
  if (a < 3) {
    let term = a;
    let sum = a;
    for (let n = 1; n < 100 && Math.abs(term) > 1e-17 * Math.abs(sum); n++) {
      term *= (-a * a) / n;
      sum += term / (2 * n + 1);
    }
    result = (2 / Math.sqrt(Math.PI)) * sum;
  } else {
    // erfc(a) = exp(-a²)/√π · 1/(a + 1/2/(a + 1/(a + 3/2/(a + ...)))) (Lentz-free backward evaluation).
    let frac = 0;
    for (let n = 60; n >= 1; n--) frac = n / 2 / (a + frac);
    result = 1 - Math.exp(-a * a) / Math.sqrt(Math.PI) / (a + frac);
  }
  return x < 0 ? -result : result;
}

function gelu(x: number): number {
  return 0.5 * x * (1 + erf(x / Math.SQRT2));
}

/**
 * DistilBERT for sequence classification as an int8 ONNX graph (onnx-proto, opset 17), laid out the
 * way `optimum` exports it and onnxruntime's `quantize_dynamic` (IntegerOps, per-tensor, QInt8
 * weights, QUInt8 activations, no reduced range: the defaults transformers.js uses for its
 * `model_quantized.onnx`) rewrites it:
 *
 * - every linear layer (MatMul with a constant weight) becomes
 *     DynamicQuantizeLinear(x) → MatMulInteger(x_q uint8, W_q int8, x_zp, W_zp) → Cast(float)
 *     → Mul(x_scale · W_scale) → Add(bias)
 *   with one DynamicQuantizeLinear per distinct input (q_lin, k_lin and v_lin share theirs);
 * - the word and position embedding tables are int8 too (quantize_dynamic quantizes Gather data):
 *     Gather(table_q int8, ids) → DequantizeLinear(scale, zero point 0);
 * - activation × activation products (Q·Kᵀ, softmax·V), LayerNormalization, GELU (erf form) and the
 *   softmax stay float, as they do in the quantized files.
 *
 *   input_ids [batch, seq] ─► word Gather ─┐
 *   Range(seq) ─► position Gather ─────────┴─► Add ─► LayerNorm ─► n_layers × block ─► x[:, 0]
 *   ─► pre_classifier ─► ReLU ─► classifier ─► logits [batch, num_labels]
 *
 *   block(x): q,k,v = lin(x); heads; softmax(q·kᵀ/√d + mask) · v; out_lin; LN(· + x) = s;
 *             LN(lin2(gelu(lin1(s))) + s)
 *
 * attention_mask [batch, seq] becomes the additive mask (1 − m) · float32_min broadcast over heads
 * and query positions, as transformers' `_prepare_4d_attention_mask` builds it.
 *
 * Weights are random (seeded): normal(0, 0.02) embeddings as in transformers' init, normal with
 * std 1/√fan_in for linear layers (so activations keep unit scale through random layers and the
 * classifier's logits differ visibly between texts), small random biases (so a dropped bias would
 * show), LayerNorm γ = 1 and β = 0.
 */
import { rng } from '../core/random.js';
import { DT, floatAttr, intAttr, intsAttr, onnx, valueInfo, type IAttributeProto, type INodeProto, type ITensorProto } from './onnx-proto.js';

export const TRANSFORMER_OPSET = 17;
export const INPUT_IDS = 'input_ids';
export const ATTENTION_MASK = 'attention_mask';
export const OUTPUT_LOGITS = 'logits';

/** The fields of a transformers DistilBertConfig that shape the graph. */
export interface DistilBertDims {
  vocab_size: number;
  dim: number;
  n_layers: number;
  n_heads: number;
  hidden_dim: number;
  max_position_embeddings: number;
  num_labels: number;
}

/** transformers' DistilBERT LayerNorm epsilon. */
const LAYER_NORM_EPS = 1e-12;
/** torch.finfo(float32).min: what transformers adds at masked key positions. */
const FLOAT32_MIN = -3.4028234663852886e38;
const EMBEDDING_STD = 0.02;
const BIAS_STD = 0.02;

/** Seeded normal samples: Box–Muller over the project's seeded generator (core/random.ts). */
export class NormalSampler {
  private readonly random: () => number;
  private spare: number | null = null;

  constructor(seed: number) {
    this.random = rng(seed ^ 0x9e3779b9);
  }

  /** Uniform in (0, 1]: Box–Muller takes the logarithm of it. */
  private uniform(): number {
    return 1 - this.random();
  }

  next(): number {
    if (this.spare !== null) {
      const s = this.spare;
      this.spare = null;
      return s;
    }
    const r = Math.sqrt(-2 * Math.log(this.uniform()));
    const theta = 2 * Math.PI * this.uniform();
    this.spare = r * Math.sin(theta);
    return r * Math.cos(theta);
  }

  fill(n: number, std: number): Float32Array {
    const out = new Float32Array(n);
    for (let i = 0; i < n; i++) out[i] = this.next() * std;
    return out;
  }
}

export interface QuantizedTensor {
  values: Int8Array;
  scale: number;
}

/**
 * Symmetric per-tensor int8, as quantize_dynamic does for QInt8 weights: scale = max|w| / 127 in
 * float32, q = round-half-to-even(w / scale) clamped to [-127, 127], zero point 0.
 */
export function quantizeSymmetric(weights: Float32Array): QuantizedTensor {
  let maxAbs = 0;
  for (let i = 0; i < weights.length; i++) maxAbs = Math.max(maxAbs, Math.abs(weights[i]!));
  const scale = maxAbs > 0 ? Math.fround(maxAbs / 127) : 1;
  const values = new Int8Array(weights.length);
  for (let i = 0; i < weights.length; i++) {
    values[i] = Math.max(-127, Math.min(127, roundHalfEven(weights[i]! / scale)));
  }
  return { values, scale };
}

function roundHalfEven(x: number): number {
  const r = Math.round(x);
  return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/** Accumulates nodes and initializers with unique, readable names. */
class GraphBuilder {
  readonly nodes: INodeProto[] = [];
  readonly initializers: ITensorProto[] = [];
  /** DynamicQuantizeLinear outputs by input name, so a tensor feeding several linears is quantized once. */
  private readonly quantized = new Map<string, { q: string; scale: string; zero: string }>();
  private readonly constants = new Map<string, string>();

  constructor(private readonly sampler: NormalSampler) {}

  node(opType: string, inputs: string[], output: string, attribute: IAttributeProto[] = []): string {
    this.nodes.push({ opType, input: inputs, output: [output], name: output, attribute });
    return output;
  }

  tensor(name: string, dataType: number, dims: number[], raw: ArrayBufferView): string {
    this.initializers.push({ name, dataType, dims, rawData: new Uint8Array(raw.buffer, raw.byteOffset, raw.byteLength) });
    return name;
  }

  /** A shared float or int64 constant; 0-d when `dims` is empty. */
  constant(kind: 'float' | 'int64', values: number[], dims: number[] = [values.length]): string {
    const key = `${kind}:${dims.join('x')}:${values.join(',')}`;
    let name = this.constants.get(key);
    if (!name) {
      name = `const_${this.constants.size}`;
      if (kind === 'float') this.tensor(name, DT.FLOAT, dims, new Float32Array(values));
      else this.tensor(name, DT.INT64, dims, new BigInt64Array(values.map(BigInt)));
      this.constants.set(key, name);
    }
    return name;
  }

  /** int8 table + DequantizeLinear after Gather, as quantize_dynamic rewrites an embedding lookup. */
  embedding(name: string, rows: number, cols: number, ids: string, out: string): string {
    const q = quantizeSymmetric(this.sampler.fill(rows * cols, EMBEDDING_STD));
    this.tensor(`${name}.weight_quantized`, DT.INT8, [rows, cols], q.values);
    this.tensor(`${name}.weight_scale`, DT.FLOAT, [], new Float32Array([q.scale]));
    this.tensor(`${name}.weight_zero_point`, DT.INT8, [], new Int8Array(1));
    const gathered = this.node('Gather', [`${name}.weight_quantized`, ids], `${out}_quantized`, [intAttr('axis', 0)]);
    return this.node('DequantizeLinear', [gathered, `${name}.weight_scale`, `${name}.weight_zero_point`], out);
  }

  /** y = x · W + b with W [inDim, outDim] int8 and x quantized dynamically to uint8. */
  linear(x: string, name: string, inDim: number, outDim: number, out = `${name}/Add_output`): string {
    const w = quantizeSymmetric(this.sampler.fill(inDim * outDim, 1 / Math.sqrt(inDim)));
    const bias = this.sampler.fill(outDim, BIAS_STD);
    this.tensor(`${name}.weight_quantized`, DT.INT8, [inDim, outDim], w.values);
    this.tensor(`${name}.weight_scale`, DT.FLOAT, [], new Float32Array([w.scale]));
    this.tensor(`${name}.weight_zero_point`, DT.INT8, [], new Int8Array(1));
    this.tensor(`${name}.bias`, DT.FLOAT, [outDim], bias);
    let xq = this.quantized.get(x);
    if (!xq) {
      xq = { q: `${x}_quantized`, scale: `${x}_scale`, zero: `${x}_zero_point` };
      this.nodes.push({ opType: 'DynamicQuantizeLinear', input: [x], output: [xq.q, xq.scale, xq.zero], name: `${x}_QuantizeLinear` });
      this.quantized.set(x, xq);
    }
    const acc = this.node('MatMulInteger', [xq.q, `${name}.weight_quantized`, xq.zero, `${name}.weight_zero_point`], `${name}/MatMul_output_quantized`);
    const accFloat = this.node('Cast', [acc], `${name}/MatMul_output_quantized_cast`, [intAttr('to', DT.FLOAT)]);
    const scale = this.node('Mul', [xq.scale, `${name}.weight_scale`], `${name}/MatMul_scales_mul`);
    const product = this.node('Mul', [accFloat, scale], `${name}/MatMul_output`);
    return this.node('Add', [product, `${name}.bias`], out);
  }

  layerNorm(x: string, name: string, dim: number): string {
    this.tensor(`${name}.weight`, DT.FLOAT, [dim], new Float32Array(dim).fill(1));
    this.tensor(`${name}.bias`, DT.FLOAT, [dim], new Float32Array(dim));
    return this.node('LayerNormalization', [x, `${name}.weight`, `${name}.bias`], `${name}/LayerNorm_output`, [intAttr('axis', -1), floatAttr('epsilon', LAYER_NORM_EPS)]);
  }

  /** GELU, erf form (transformers' "gelu"): 0.5 · x · (1 + erf(x / √2)). */
  gelu(x: string, name: string): string {
    const scaled = this.node('Div', [x, this.constant('float', [Math.SQRT2], [])], `${name}/Div_output`);
    const erf = this.node('Erf', [scaled], `${name}/Erf_output`);
    const onePlus = this.node('Add', [erf, this.constant('float', [1], [])], `${name}/Add_output`);
    const times = this.node('Mul', [x, onePlus], `${name}/Mul_output`);
    return this.node('Mul', [times, this.constant('float', [0.5], [])], `${name}/Mul_1_output`);
  }
}

export interface TransformerGraphOptions {
  dims: DistilBertDims;
  seed: number;
  docString: string;
}

/** Serialize a random-weight int8 DistilBERT classifier to ONNX bytes. Deterministic in `seed`. */
export function buildDistilBertOnnx({ dims, seed, docString }: TransformerGraphOptions): Uint8Array {
  const { dim, n_heads: heads, n_layers: layers, hidden_dim: hidden } = dims;
  if (dim % heads !== 0) throw new Error(`dim ${dim} is not divisible by n_heads ${heads}`);
  const headDim = dim / heads;
  const g = new GraphBuilder(new NormalSampler(seed));

  // Embeddings: word + position (positions 0..seq-1), then LayerNorm.
  const words = g.embedding('distilbert.embeddings.word_embeddings', dims.vocab_size, dim, INPUT_IDS, '/embeddings/word_embeddings/Gather_output');
  const shape = g.node('Shape', [INPUT_IDS], '/embeddings/Shape_output');
  const seqLen = g.node('Gather', [shape, g.constant('int64', [1], [])], '/embeddings/seq_len', [intAttr('axis', 0)]);
  const positionIds = g.node('Range', [g.constant('int64', [0], []), seqLen, g.constant('int64', [1], [])], '/embeddings/position_ids');
  const positions = g.embedding('distilbert.embeddings.position_embeddings', dims.max_position_embeddings, dim, positionIds, '/embeddings/position_embeddings/Gather_output');
  const summed = g.node('Add', [words, positions], '/embeddings/Add_output');
  let x = g.layerNorm(summed, 'distilbert.embeddings.LayerNorm', dim);

  // attention_mask [b, s] int64 → (1 − m) · min, shaped [b, 1, 1, s] to broadcast over heads and queries.
  const maskFloat = g.node('Cast', [ATTENTION_MASK], '/mask/Cast_output', [intAttr('to', DT.FLOAT)]);
  const inverted = g.node('Sub', [g.constant('float', [1], []), maskFloat], '/mask/Sub_output');
  const additive = g.node('Mul', [inverted, g.constant('float', [FLOAT32_MIN], [])], '/mask/Mul_output');
  const mask = g.node('Unsqueeze', [additive, g.constant('int64', [1, 2])], '/mask/Unsqueeze_output');

  const splitHeads = g.constant('int64', [0, -1, heads, headDim]);
  const mergeHeads = g.constant('int64', [0, -1, dim]);
  const sqrtHeadDim = g.constant('float', [Math.sqrt(headDim)], []);
  for (let l = 0; l < layers; l++) {
    const p = `distilbert.transformer.layer.${l}`;
    const heads4d = (t: string, name: string, perm: number[]) =>
      g.node('Transpose', [g.node('Reshape', [t, splitHeads], `${name}/Reshape_output`)], `${name}/Transpose_output`, [intsAttr('perm', perm)]);
    const q = heads4d(g.linear(x, `${p}.attention.q_lin`, dim, dim), `/${p}/attention/q`, [0, 2, 1, 3]);
    const kT = heads4d(g.linear(x, `${p}.attention.k_lin`, dim, dim), `/${p}/attention/k`, [0, 2, 3, 1]);
    const v = heads4d(g.linear(x, `${p}.attention.v_lin`, dim, dim), `/${p}/attention/v`, [0, 2, 1, 3]);
    const qScaled = g.node('Div', [q, sqrtHeadDim], `/${p}/attention/Div_output`);
    const scores = g.node('MatMul', [qScaled, kT], `/${p}/attention/MatMul_output`);
    const masked = g.node('Add', [scores, mask], `/${p}/attention/Add_output`);
    const weights = g.node('Softmax', [masked], `/${p}/attention/Softmax_output`, [intAttr('axis', -1)]);
    const context = g.node('MatMul', [weights, v], `/${p}/attention/MatMul_1_output`);
    const contextT = g.node('Transpose', [context], `/${p}/attention/Transpose_3_output`, [intsAttr('perm', [0, 2, 1, 3])]);
    const merged = g.node('Reshape', [contextT, mergeHeads], `/${p}/attention/Reshape_3_output`);
    const attnOut = g.linear(merged, `${p}.attention.out_lin`, dim, dim);
    const sa = g.layerNorm(g.node('Add', [attnOut, x], `/${p}/Add_output`), `${p}.sa_layer_norm`, dim);
    const ffnHidden = g.gelu(g.linear(sa, `${p}.ffn.lin1`, dim, hidden), `/${p}/ffn/activation`);
    const ffnOut = g.linear(ffnHidden, `${p}.ffn.lin2`, hidden, dim);
    x = g.layerNorm(g.node('Add', [ffnOut, sa], `/${p}/Add_1_output`), `${p}.output_layer_norm`, dim);
  }

  // Classification head on the first ([CLS]) token.
  const first = g.node('Gather', [x, g.constant('int64', [0], [])], '/Gather_output', [intAttr('axis', 1)]);
  const pooled = g.node('Relu', [g.linear(first, 'pre_classifier', dim, dim)], '/Relu_output');
  g.linear(pooled, 'classifier', dim, dims.num_labels, OUTPUT_LOGITS);

  const model = onnx.ModelProto.create({
    irVersion: 8,
    producerName: 'ytsent-model-export',
    producerVersion: '1',
    modelVersion: 1,
    docString,
    opsetImport: [{ domain: '', version: TRANSFORMER_OPSET }],
    graph: {
      name: 'distilbert_for_sequence_classification_int8',
      node: g.nodes,
      initializer: g.initializers,
      input: [valueInfo(INPUT_IDS, DT.INT64, ['batch_size', 'sequence_length']), valueInfo(ATTENTION_MASK, DT.INT64, ['batch_size', 'sequence_length'])],
      output: [valueInfo(OUTPUT_LOGITS, DT.FLOAT, ['batch_size', dims.num_labels])],
    },
  });
  return onnx.ModelProto.encode(model).finish();
}

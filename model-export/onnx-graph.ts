/**
 * Writes the n-gram model as an ONNX graph (onnx-proto, opset 18).
 *
 * The graph is the featurizer's other half. A batch arrives ragged, not padded (comments differ
 * tenfold in length; padding a batch to its longest row made inference 4× slower): all rows'
 * features concatenated, with the row each feature belongs to.
 *
 * The weight gather dominates inference, so the int8 weights of a bucket's three classes are packed
 * into one uint32 (byte k = weight_k + 128): one 4-byte gather per feature instead of three 1-byte
 * gathers from three far-apart rows. The bytes are unpacked with shifts and masks into a class-major
 * [3, nnz] tensor, so every elementwise step runs over three long contiguous spans (with a
 * [nnz, 3] layout onnxruntime's broadcasting kernels ran per 3-element row).
 *
 *   feature_ids [nnz] ─Gather(W_packed uint32 [buckets])─► [nnz] ─BitShift(0, 8, 16), BitwiseAnd 255,
 *   Cast uint8─► [3, nnz] ─DequantizeLinear(scale [3], zero point 128)─► ─Mul(feature_values [nnz])─►
 *   Transpose ─► ScatterND(add) into zeros [batch, 3] at feature_rows ─► + bias ─► logits ─Softmax─► probs
 *
 * `row_lengths [batch]` gives the batch size (a row may in principle have no features).
 */
import type { z } from 'zod';
import type { TensorSpecSchema } from '../core/manifest.js';
import { DT, intAttr, intsAttr, node, onnx, strAttr, tensor, tensorAttr, valueInfo, type IGraphProto } from './onnx-proto.js';
import { ZERO_POINT } from '../core/linear.js';
import type { QuantizedWeights } from './quantize.js';

export const OPSET = 18;
export const INPUT_IDS = 'feature_ids';
export const INPUT_VALUES = 'feature_values';
export const INPUT_ROWS = 'feature_rows';
export const INPUT_LENGTHS = 'row_lengths';
export const OUTPUT_PROBS = 'probs';
export const OUTPUT_LOGITS = 'logits';

// The inverse (unpackWeights) and the zero point live in core: runtimes read the weights back.
export { unpackWeights, ZERO_POINT } from '../core/linear.js';

/** One uint32 per bucket, class k's weight in byte k (at most 4 classes). */
export function packWeights(weights: QuantizedWeights): Uint32Array {
  if (weights.cols > 4) throw new Error('at most 4 classes fit in a packed uint32');
  const out = new Uint32Array(weights.rows);
  for (let r = 0; r < weights.rows; r++) {
    let word = 0;
    for (let k = 0; k < weights.cols; k++) word |= (weights.values[r * weights.cols + k]! + ZERO_POINT) << (8 * k);
    out[r] = word >>> 0;
  }
  return out;
}

export interface GraphOptions {
  weights: QuantizedWeights;
  bias: Float32Array;
  modelVersion: string;
  docString: string;
}

/** Serialize the model to ONNX bytes. Little-endian raw data, as ONNX requires. */
export function buildOnnxModel({ weights, bias, modelVersion, docString }: GraphOptions): Uint8Array {
  const cols = weights.cols;
  const graph: IGraphProto = {
    name: 'ytsent_ngram_linear',
    initializer: [
      tensor('W_packed', DT.UINT32, [weights.rows], packWeights(weights)),
      tensor('W_scale', DT.FLOAT, [cols], weights.scales),
      tensor('W_zero', DT.UINT8, [cols], new Uint8Array(cols).fill(ZERO_POINT)),
      tensor(
        'shifts',
        DT.UINT32,
        [cols, 1],
        Uint32Array.from({ length: cols }, (_, k) => 8 * k),
      ),
      tensor('byte_mask', DT.UINT32, [1], new Uint32Array([0xff])),
      tensor('bias', DT.FLOAT, [cols], bias),
      tensor('axis_0', DT.INT64, [1], new BigInt64Array([0n])),
      tensor('axis_1', DT.INT64, [1], new BigInt64Array([1n])),
      tensor('classes', DT.INT64, [1], new BigInt64Array([BigInt(cols)])),
    ],
    node: [
      node('Gather', ['W_packed', INPUT_IDS], ['packed'], [intAttr('axis', 0)]),
      node('Unsqueeze', ['packed', 'axis_0'], ['packed_row']),
      node('BitShift', ['packed_row', 'shifts'], ['shifted'], [strAttr('direction', 'RIGHT')]),
      node('BitwiseAnd', ['shifted', 'byte_mask'], ['bytes_u32']),
      node('Cast', ['bytes_u32'], ['bytes'], [intAttr('to', DT.UINT8)]),
      node('DequantizeLinear', ['bytes', 'W_scale', 'W_zero'], ['rows'], [intAttr('axis', 0)]),
      node('Mul', ['rows', INPUT_VALUES], ['weighted_t']),
      node('Transpose', ['weighted_t'], ['weighted'], [intsAttr('perm', [1, 0])]),
      node('Unsqueeze', [INPUT_ROWS, 'axis_1'], ['rows_2d']),
      node('Cast', ['rows_2d'], ['scatter_index'], [intAttr('to', DT.INT64)]),
      node('Shape', [INPUT_LENGTHS], ['batch_dim']),
      node('Concat', ['batch_dim', 'classes'], ['out_shape'], [intAttr('axis', 0)]),
      node('ConstantOfShape', ['out_shape'], ['zeros'], [tensorAttr('value', tensor('zero', DT.FLOAT, [1], new Float32Array([0])))]),
      node('ScatterND', ['zeros', 'scatter_index', 'weighted'], ['summed'], [strAttr('reduction', 'add')]),
      node('Add', ['summed', 'bias'], [OUTPUT_LOGITS]),
      node('Softmax', [OUTPUT_LOGITS], [OUTPUT_PROBS], [intAttr('axis', -1)]),
    ],
    input: [valueInfo(INPUT_IDS, DT.INT32, ['nnz']), valueInfo(INPUT_VALUES, DT.FLOAT, ['nnz']), valueInfo(INPUT_ROWS, DT.INT32, ['nnz']), valueInfo(INPUT_LENGTHS, DT.INT32, ['batch'])],
    output: [valueInfo(OUTPUT_PROBS, DT.FLOAT, ['batch', cols]), valueInfo(OUTPUT_LOGITS, DT.FLOAT, ['batch', cols])],
  };
  const model = onnx.ModelProto.create({
    irVersion: 8, // ONNX 1.13: opset 18
    producerName: 'ytsent-model-export',
    producerVersion: '1',
    modelVersion: 1,
    docString,
    opsetImport: [{ domain: '', version: OPSET }],
    graph,
    metadataProps: [{ key: 'ytsent_version', value: modelVersion }],
  });
  return onnx.ModelProto.encode(model).finish();
}

type TensorSpec = z.infer<typeof TensorSpecSchema>;

/** The graph's inputs and outputs as recorded in the manifest. */
export const IO_SPEC: { inputs: TensorSpec[]; outputs: TensorSpec[] } = {
  inputs: [
    { name: INPUT_IDS, dtype: 'int32', shape: ['nnz'], description: 'hashed feature ids of all rows, concatenated' },
    { name: INPUT_VALUES, dtype: 'float32', shape: ['nnz'], description: 'feature values, aligned with feature_ids' },
    { name: INPUT_ROWS, dtype: 'int32', shape: ['nnz'], description: 'row (comment) index of each feature' },
    { name: INPUT_LENGTHS, dtype: 'int32', shape: ['batch'], description: 'features per row; its length is the batch size' },
  ],
  outputs: [
    { name: OUTPUT_PROBS, dtype: 'float32', shape: ['batch', 3], description: 'softmax probabilities in labels order' },
    { name: OUTPUT_LOGITS, dtype: 'float32', shape: ['batch', 3], description: 'pre-softmax scores' },
  ],
};

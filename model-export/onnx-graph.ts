/**
 * Writes the n-gram model as an ONNX graph (onnx-proto, opset 17).
 *
 * The graph is the featurizer's other half. A batch arrives ragged, not padded (comments differ
 * tenfold in length; padding a batch to its longest row made inference 4× slower): all rows'
 * features concatenated, with the row each feature belongs to. Weights are stored class-major
 * ([3, buckets]) so every elementwise step runs over three long contiguous spans; with [buckets, 3]
 * onnxruntime's broadcasting and Expand kernels ran per 3-element row and took 60% of the time.
 *
 *   feature_ids [nnz] ──Gather(W_q int8 [3, buckets], axis 1)──► [3, nnz] ──DequantizeLinear(scale [3])──►
 *   ──Mul(feature_values [nnz])──► Transpose ──► ScatterND(add) into zeros [batch, 3] by feature_rows ──►
 *   + bias ──► logits [batch, 3] ──Softmax──► probs [batch, 3]
 *
 * `row_lengths [batch]` gives the batch size (rows may have no features in principle).
 */
import onnxProto from 'onnx-proto';
import type { z } from 'zod';
import type { TensorSpecSchema } from '../core/manifest.js';
import type { QuantizedWeights } from './quantize.js';

const { onnx } = onnxProto;
type ITensorProto = onnxProto.onnx.ITensorProto;
type IValueInfoProto = onnxProto.onnx.IValueInfoProto;
type INodeProto = onnxProto.onnx.INodeProto;
type IAttributeProto = onnxProto.onnx.IAttributeProto;

export const OPSET = 17;
export const INPUT_IDS = 'feature_ids';
export const INPUT_VALUES = 'feature_values';
export const INPUT_ROWS = 'feature_rows';
export const INPUT_LENGTHS = 'row_lengths';
export const OUTPUT_PROBS = 'probs';
export const OUTPUT_LOGITS = 'logits';

const DT = onnx.TensorProto.DataType;

function tensor(name: string, dataType: number, dims: number[], raw: ArrayBufferView): ITensorProto {
  return {
    name,
    dataType,
    dims,
    rawData: new Uint8Array(raw.buffer, raw.byteOffset, raw.byteLength),
  };
}

function valueInfo(name: string, elemType: number, dims: Array<number | string>): IValueInfoProto {
  return {
    name,
    type: {
      tensorType: {
        elemType,
        shape: { dim: dims.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })) },
      },
    },
  };
}

function intAttr(name: string, value: number): IAttributeProto {
  return { name, type: onnx.AttributeProto.AttributeType.INT, i: value };
}

function node(opType: string, inputs: string[], outputs: string[], attribute: IAttributeProto[] = []): INodeProto {
  return { opType, input: inputs, output: outputs, name: outputs[0], attribute };
}

/** Row-major [rows, cols] → [cols, rows]. */
function transpose(values: Int8Array, rows: number, cols: number): Int8Array {
  const out = new Int8Array(values.length);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[c * rows + r] = values[r * cols + c]!;
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
  const graph: onnxProto.onnx.IGraphProto = {
    name: 'ytsent_ngram_linear',
    initializer: [
      tensor('W_q', DT.INT8, [cols, weights.rows], transpose(weights.values, weights.rows, cols)),
      tensor('W_scale', DT.FLOAT, [cols], weights.scales),
      tensor('W_zero', DT.INT8, [cols], new Int8Array(cols)),
      tensor('bias', DT.FLOAT, [cols], bias),
      tensor('axis_1', DT.INT64, [1], new BigInt64Array([1n])),
      tensor('classes', DT.INT64, [1], new BigInt64Array([BigInt(cols)])),
    ],
    node: [
      node('Gather', ['W_q', INPUT_IDS], ['rows_q'], [intAttr('axis', 1)]),
      node('DequantizeLinear', ['rows_q', 'W_scale', 'W_zero'], ['rows'], [intAttr('axis', 0)]),
      node('Mul', ['rows', INPUT_VALUES], ['weighted_t']),
      { opType: 'Transpose', input: ['weighted_t'], output: ['weighted'], name: 'weighted', attribute: [{ name: 'perm', type: onnx.AttributeProto.AttributeType.INTS, ints: [1, 0] }] },
      node('Unsqueeze', [INPUT_ROWS, 'axis_1'], ['rows_2d']),
      node('Cast', ['rows_2d'], ['scatter_index'], [intAttr('to', DT.INT64)]),
      node('Shape', [INPUT_LENGTHS], ['batch_dim']),
      node('Concat', ['batch_dim', 'classes'], ['out_shape'], [intAttr('axis', 0)]),
      {
        opType: 'ConstantOfShape',
        input: ['out_shape'],
        output: ['zeros'],
        name: 'zeros',
        attribute: [{ name: 'value', type: onnx.AttributeProto.AttributeType.TENSOR, t: tensor('zero', DT.FLOAT, [1], new Float32Array([0])) }],
      },
      {
        opType: 'ScatterND',
        input: ['zeros', 'scatter_index', 'weighted'],
        output: ['summed'],
        name: 'summed',
        attribute: [{ name: 'reduction', type: onnx.AttributeProto.AttributeType.STRING, s: new TextEncoder().encode('add') }],
      },
      node('Add', ['summed', 'bias'], [OUTPUT_LOGITS]),
      node('Softmax', [OUTPUT_LOGITS], [OUTPUT_PROBS], [intAttr('axis', -1)]),
    ],
    input: [
      valueInfo(INPUT_IDS, DT.INT32, ['nnz']),
      valueInfo(INPUT_VALUES, DT.FLOAT, ['nnz']),
      valueInfo(INPUT_ROWS, DT.INT32, ['nnz']),
      valueInfo(INPUT_LENGTHS, DT.INT32, ['batch']),
    ],
    output: [valueInfo(OUTPUT_PROBS, DT.FLOAT, ['batch', cols]), valueInfo(OUTPUT_LOGITS, DT.FLOAT, ['batch', cols])],
  };
  const model = onnx.ModelProto.create({
    irVersion: 8,
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

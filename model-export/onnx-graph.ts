/**
 * Writes the n-gram model as an ONNX graph (onnx-proto, opset 13).
 *
 * The graph is the featurizer's other half: given padded feature ids and values it gathers int8
 * weight rows, dequantizes them per class, weights them by feature value, sums over features, adds
 * the bias and applies softmax. Padding (id 0, value 0) contributes nothing.
 *
 *   feature_ids [batch, features] int32 ──Gather(W_q int8 [buckets, 3])──► [batch, features, 3] int8
 *     ──DequantizeLinear(scale [3], axis 2)──► float ──Mul(feature_values [batch, features, 1])──►
 *     ──ReduceSum(axis 1)──► + bias ──► logits [batch, 3] ──Softmax──► probs [batch, 3]
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

export const OPSET = 13;
export const INPUT_IDS = 'feature_ids';
export const INPUT_VALUES = 'feature_values';
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
      tensor('W_q', DT.INT8, [weights.rows, cols], weights.values),
      tensor('W_scale', DT.FLOAT, [cols], weights.scales),
      tensor('W_zero', DT.INT8, [cols], new Int8Array(cols)),
      tensor('bias', DT.FLOAT, [cols], bias),
      tensor('axis_features', DT.INT64, [1], new BigInt64Array([1n])),
      tensor('axis_last', DT.INT64, [1], new BigInt64Array([2n])),
    ],
    node: [
      node('Gather', ['W_q', INPUT_IDS], ['rows_q'], [intAttr('axis', 0)]),
      node('DequantizeLinear', ['rows_q', 'W_scale', 'W_zero'], ['rows'], [intAttr('axis', 2)]),
      node('Unsqueeze', [INPUT_VALUES, 'axis_last'], ['values_3d']),
      node('Mul', ['rows', 'values_3d'], ['weighted']),
      node('ReduceSum', ['weighted', 'axis_features'], ['summed'], [intAttr('keepdims', 0)]),
      node('Add', ['summed', 'bias'], [OUTPUT_LOGITS]),
      node('Softmax', [OUTPUT_LOGITS], [OUTPUT_PROBS], [intAttr('axis', -1)]),
    ],
    input: [valueInfo(INPUT_IDS, DT.INT32, ['batch', 'features']), valueInfo(INPUT_VALUES, DT.FLOAT, ['batch', 'features'])],
    output: [valueInfo(OUTPUT_PROBS, DT.FLOAT, ['batch', cols]), valueInfo(OUTPUT_LOGITS, DT.FLOAT, ['batch', cols])],
  };
  const model = onnx.ModelProto.create({
    irVersion: 7,
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
    { name: INPUT_IDS, dtype: 'int32', shape: ['batch', 'features'], description: 'hashed feature ids, padded with 0' },
    { name: INPUT_VALUES, dtype: 'float32', shape: ['batch', 'features'], description: 'feature values, padded with 0' },
  ],
  outputs: [
    { name: OUTPUT_PROBS, dtype: 'float32', shape: ['batch', 3], description: 'softmax probabilities in labels order' },
    { name: OUTPUT_LOGITS, dtype: 'float32', shape: ['batch', 3], description: 'pre-softmax scores' },
  ],
};

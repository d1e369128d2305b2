/**
 * Small builders for ONNX protos (onnx-proto), shared by the n-gram graph and the transformer
 * generator: tensors with little-endian raw data, value infos with symbolic dimensions, attributes.
 */
import onnxProto from 'onnx-proto';

export const { onnx } = onnxProto;
export type ITensorProto = onnxProto.onnx.ITensorProto;
export type IValueInfoProto = onnxProto.onnx.IValueInfoProto;
export type INodeProto = onnxProto.onnx.INodeProto;
export type IAttributeProto = onnxProto.onnx.IAttributeProto;
export type IGraphProto = onnxProto.onnx.IGraphProto;

export const DT = onnx.TensorProto.DataType;
export const ATTR = onnx.AttributeProto.AttributeType;

/** An initializer; typed arrays are little-endian on every platform we run, as ONNX requires. */
export function tensor(name: string, dataType: number, dims: number[], raw: ArrayBufferView): ITensorProto {
  return { name, dataType, dims, rawData: new Uint8Array(raw.buffer, raw.byteOffset, raw.byteLength) };
}

/** A graph input or output; string dimensions are symbolic ("batch"). */
export function valueInfo(name: string, elemType: number, dims: Array<number | string>): IValueInfoProto {
  return {
    name,
    type: { tensorType: { elemType, shape: { dim: dims.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })) } } },
  };
}

export function intAttr(name: string, value: number): IAttributeProto {
  return { name, type: ATTR.INT, i: value };
}

export function intsAttr(name: string, values: number[]): IAttributeProto {
  return { name, type: ATTR.INTS, ints: values };
}

export function floatAttr(name: string, value: number): IAttributeProto {
  return { name, type: ATTR.FLOAT, f: value };
}

export function strAttr(name: string, value: string): IAttributeProto {
  return { name, type: ATTR.STRING, s: new TextEncoder().encode(value) };
}

export function tensorAttr(name: string, value: ITensorProto): IAttributeProto {
  return { name, type: ATTR.TENSOR, t: value };
}

/** A node named after its first output. */
export function node(opType: string, inputs: string[], outputs: string[], attribute: IAttributeProto[] = []): INodeProto {
  return { opType, input: inputs, output: outputs, name: outputs[0], attribute };
}

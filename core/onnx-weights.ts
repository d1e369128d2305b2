/**
 * Reads the n-gram model's weights back out of its `model.onnx`, for runtimes that cannot run
 * onnxruntime (the Worker: workerd does not compile WebAssembly from bytes), so a bundle is served
 * from the very file the extension runs and no second weights file can disagree with it.
 *
 * The reader knows only as much protobuf as that takes: ModelProto.graph → GraphProto.node (op
 * types) and GraphProto.initializer → TensorProto {dims, data_type, name, raw_data}. It checks that
 * the graph is the one model-export/onnx-graph.ts writes (same op sequence, same initializers,
 * shapes and types), so a bundle with another graph fails loudly here instead of being served
 * with a forward pass that does not match it. A hand-written reader rather than the onnx-proto
 * package: that one is a 330 KB protobufjs build the Worker would carry for four tensors.
 * tests/unit/linear-scorer.test.ts checks this reader against onnx-proto's decoder.
 */
import { dequantizePacked, ZERO_POINT, type LinearModel, type PackedLinearModel } from './linear.js';

/** ONNX TensorProto.DataType values used by the n-gram graph. */
const DT = { FLOAT: 1, UINT8: 2, INT64: 7, UINT32: 12 } as const;

/** The graph's operators in order (model-export/onnx-graph.ts buildOnnxModel). */
export const NGRAM_GRAPH_OPS: readonly string[] = [
  'Gather',
  'Unsqueeze',
  'BitShift',
  'BitwiseAnd',
  'Cast',
  'DequantizeLinear',
  'Mul',
  'Transpose',
  'Unsqueeze',
  'Cast',
  'Shape',
  'Concat',
  'ConstantOfShape',
  'ScatterND',
  'Add',
  'Softmax',
];

export class OnnxFormatError extends Error {
  override name = 'OnnxFormatError';
}

interface Tensor {
  name: string;
  dataType: number;
  dims: number[];
  raw: Uint8Array | null;
}

/** A forward-only protobuf reader over one message's bytes. */
class Reader {
  pos: number;
  constructor(
    readonly buf: Uint8Array,
    start = 0,
    readonly end = buf.byteLength,
  ) {
    this.pos = start;
  }

  get done(): boolean {
    return this.pos >= this.end;
  }

  /** A varint as a JS number (exact below 2^53, which every length and dimension here is). */
  varint(): number {
    let result = 0;
    let scale = 1;
    for (let i = 0; i < 10; i++) {
      if (this.pos >= this.end) throw new OnnxFormatError('truncated varint');
      const b = this.buf[this.pos++]!;
      result += (b & 0x7f) * scale;
      if (b < 0x80) return result;
      scale *= 128;
    }
    throw new OnnxFormatError('varint longer than 10 bytes');
  }

  /** The bounds of a length-delimited field's payload; moves past it. */
  bytes(): [number, number] {
    const len = this.varint();
    const start = this.pos;
    if (start + len > this.end) throw new OnnxFormatError('length-delimited field runs past its message');
    this.pos = start + len;
    return [start, start + len];
  }

  skip(wireType: number): void {
    switch (wireType) {
      case 0:
        this.varint();
        return;
      case 1:
        this.pos += 8;
        break;
      case 2:
        this.bytes();
        return;
      case 5:
        this.pos += 4;
        break;
      default:
        throw new OnnxFormatError(`unsupported protobuf wire type ${wireType}`);
    }
    if (this.pos > this.end) throw new OnnxFormatError('fixed-width field runs past its message');
  }

  /** Iterates the fields of this message: the callback reads or skips each one. */
  fields(onField: (field: number, wireType: number) => void): void {
    while (!this.done) {
      const tag = this.varint();
      const before = this.pos;
      onField(Math.floor(tag / 8), tag & 7);
      if (this.pos === before) this.skip(tag & 7);
    }
  }
}

const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false });

function readTensor(buf: Uint8Array, start: number, end: number): Tensor {
  const t: Tensor = { name: '', dataType: 0, dims: [], raw: null };
  const r = new Reader(buf, start, end);
  r.fields((field, wire) => {
    if (field === 1 && wire === 0) t.dims.push(r.varint());
    else if (field === 1 && wire === 2) {
      // packed repeated int64
      const [s, e] = r.bytes();
      const p = new Reader(buf, s, e);
      while (!p.done) t.dims.push(p.varint());
    } else if (field === 2 && wire === 0) t.dataType = r.varint();
    else if (field === 8 && wire === 2) {
      const [s, e] = r.bytes();
      t.name = utf8.decode(buf.subarray(s, e));
    } else if (field === 9 && wire === 2) {
      const [s, e] = r.bytes();
      t.raw = buf.subarray(s, e);
    } else if (field === 14 && wire === 0 && r.varint() !== 0) {
      throw new OnnxFormatError('tensors stored outside the model file (external data) are not supported');
    }
  });
  return t;
}

/** Initializers (by name) and operator types of a ModelProto's graph. */
export function readOnnxGraph(bytes: Uint8Array): { initializers: Map<string, Tensor>; ops: string[] } {
  const model = new Reader(bytes);
  // Assigned in the callback: declared with a widened type so TypeScript does not narrow it to null.
  let graph = null as [number, number] | null;
  model.fields((field, wire) => {
    if (field === 7 && wire === 2) graph = model.bytes();
  });
  if (!graph) throw new OnnxFormatError('not an ONNX model: no graph');
  const [gs, ge] = graph;
  const initializers = new Map<string, Tensor>();
  const ops: string[] = [];
  const g = new Reader(bytes, gs, ge);
  g.fields((field, wire) => {
    if (field === 5 && wire === 2) {
      const [s, e] = g.bytes();
      const t = readTensor(bytes, s, e);
      initializers.set(t.name, t);
    } else if (field === 1 && wire === 2) {
      // NodeProto: op_type is field 4.
      const [s, e] = g.bytes();
      const n = new Reader(bytes, s, e);
      let op = '';
      n.fields((f, w) => {
        if (f === 4 && w === 2) {
          const [os, oe] = n.bytes();
          op = utf8.decode(bytes.subarray(os, oe));
        }
      });
      ops.push(op);
    }
  });
  return { initializers, ops };
}

function tensorOf(initializers: Map<string, Tensor>, name: string, dataType: number, dims: number[], bytesPerElement: number): DataView {
  const t = initializers.get(name);
  if (!t) throw new OnnxFormatError(`initializer ${name} is missing`);
  if (t.dataType !== dataType) throw new OnnxFormatError(`initializer ${name} has data type ${t.dataType}, expected ${dataType}`);
  if (t.dims.length !== dims.length || t.dims.some((d, i) => d !== dims[i])) {
    throw new OnnxFormatError(`initializer ${name} has shape [${t.dims.join(', ')}], expected [${dims.join(', ')}]`);
  }
  const count = dims.reduce((a, b) => a * b, 1);
  if (!t.raw || t.raw.byteLength !== count * bytesPerElement) throw new OnnxFormatError(`initializer ${name} must carry ${count * bytesPerElement} bytes of raw data`);
  return new DataView(t.raw.buffer, t.raw.byteOffset, t.raw.byteLength);
}

/**
 * The weights of an n-gram `model.onnx` (the graph model-export writes) as the graph stores them:
 * one uint32 per bucket with class k's int8 weight + 128 in byte k, the per-class scales and the
 * bias. `buckets` and `classes` are what the manifest says the graph must have.
 */
export function decodeNgramOnnxPacked(bytes: Uint8Array, expected: { buckets: number; classes: number }): PackedLinearModel {
  const { initializers, ops } = readOnnxGraph(bytes);
  if (ops.length !== NGRAM_GRAPH_OPS.length || ops.some((op, i) => op !== NGRAM_GRAPH_OPS[i])) {
    throw new OnnxFormatError(`the graph's operators (${ops.join(', ')}) are not the n-gram graph's (${NGRAM_GRAPH_OPS.join(', ')})`);
  }
  const { buckets, classes } = expected;
  // ONNX raw data is little-endian; DataView reads it so on any host, and copes with any alignment.
  const packedView = tensorOf(initializers, 'W_packed', DT.UINT32, [buckets], 4);
  const scaleView = tensorOf(initializers, 'W_scale', DT.FLOAT, [classes], 4);
  const zeroView = tensorOf(initializers, 'W_zero', DT.UINT8, [classes], 1);
  const biasView = tensorOf(initializers, 'bias', DT.FLOAT, [classes], 4);
  for (let k = 0; k < classes; k++) {
    if (zeroView.getUint8(k) !== ZERO_POINT) throw new OnnxFormatError(`W_zero[${k}] is ${zeroView.getUint8(k)}, expected ${ZERO_POINT}`);
  }
  const packed = new Uint32Array(buckets);
  for (let v = 0; v < buckets; v++) packed[v] = packedView.getUint32(v * 4, true);
  const scales = Float32Array.from({ length: classes }, (_, k) => scaleView.getFloat32(k * 4, true));
  const bias = Float32Array.from({ length: classes }, (_, k) => biasView.getFloat32(k * 4, true));
  return { packed, scales, bias };
}

/**
 * The dequantized weights of an n-gram `model.onnx`: W[v, k] = (byte k of W_packed[v] − 128) ·
 * W_scale[k], exactly what DequantizeLinear computes, and the bias.
 */
export function decodeNgramOnnx(bytes: Uint8Array, expected: { buckets: number; classes: number }): LinearModel {
  return dequantizePacked(decodeNgramOnnxPacked(bytes, expected));
}

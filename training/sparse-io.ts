/**
 * Compact binary storage of featurized splits (the featurize stage's cache outputs):
 * [u32 rows][u32 nnz][i32 offsets × (rows+1)][i32 ids × nnz][f32 values × nnz][u8 labels × rows].
 */
import { readFileSync, writeFileSync } from 'node:fs';
import type { SparseFeatures } from '../core/featurize.js';

export interface FeaturizedSplit {
  rows: SparseFeatures[];
  labels: Uint8Array;
}

export function writeSplit(path: string, split: FeaturizedSplit): void {
  const n = split.rows.length;
  const nnz = split.rows.reduce((a, r) => a + r.ids.length, 0);
  const buf = new ArrayBuffer(8 + 4 * (n + 1) + 8 * nnz + n);
  const head = new Uint32Array(buf, 0, 2);
  head[0] = n;
  head[1] = nnz;
  const offsets = new Int32Array(buf, 8, n + 1);
  const ids = new Int32Array(buf, 8 + 4 * (n + 1), nnz);
  const values = new Float32Array(buf, 8 + 4 * (n + 1) + 4 * nnz, nnz);
  let at = 0;
  split.rows.forEach((r, i) => {
    offsets[i] = at;
    ids.set(r.ids, at);
    values.set(r.values, at);
    at += r.ids.length;
  });
  offsets[n] = at;
  new Uint8Array(buf, 8 + 4 * (n + 1) + 8 * nnz, n).set(split.labels);
  writeFileSync(path, new Uint8Array(buf));
}

export function readSplit(path: string): FeaturizedSplit {
  const file = readFileSync(path);
  const buf = file.buffer.slice(file.byteOffset, file.byteOffset + file.byteLength);
  const [n, nnz] = new Uint32Array(buf, 0, 2) as unknown as [number, number];
  const offsets = new Int32Array(buf, 8, n + 1);
  const ids = new Int32Array(buf, 8 + 4 * (n + 1), nnz);
  const values = new Float32Array(buf, 8 + 4 * (n + 1) + 4 * nnz, nnz);
  const labels = new Uint8Array(buf, 8 + 4 * (n + 1) + 8 * nnz, n).slice();
  const rows: SparseFeatures[] = [];
  for (let i = 0; i < n; i++) {
    rows.push({ ids: ids.subarray(offsets[i]!, offsets[i + 1]!), values: values.subarray(offsets[i]!, offsets[i + 1]!) });
  }
  return { rows, labels };
}

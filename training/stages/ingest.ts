/** Stage 1, ingest: verify SHA256SUMS and read every dataset file (optionally a seeded subset). */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DATASETS, readChecksums, readDataset, type DatasetName, type Row } from '../datasets.js';
import { rng, shuffleInPlace } from '../softmax.js';

export interface IngestOutput {
  datasets: Record<DatasetName, Row[]>;
}

export const INGEST_FILE = 'datasets.json';

/** Hash every file up front: the hashes are part of this stage's cache key. */
export function dataHashes(dataDir: string): Record<DatasetName, string> {
  const sums = readChecksums(dataDir);
  const out = {} as Record<DatasetName, string>;
  for (const name of Object.keys(DATASETS) as DatasetName[]) out[name] = readDataset(dataDir, name, sums).sha256;
  return out;
}

export async function ingest(dir: string, dataDir: string, limit: number | null, seed: number): Promise<Record<string, unknown>> {
  const sums = readChecksums(dataDir);
  const datasets = {} as Record<DatasetName, Row[]>;
  const summary: Record<string, unknown> = {};
  for (const name of Object.keys(DATASETS) as DatasetName[]) {
    let { rows } = readDataset(dataDir, name, sums);
    if (limit !== null && rows.length > limit) rows = shuffleInPlace(rows.slice(), rng(seed)).slice(0, limit);
    datasets[name] = rows;
    summary[name] = { rows: rows.length, file: DATASETS[name].file };
  }
  writeFileSync(join(dir, INGEST_FILE), JSON.stringify({ datasets } satisfies IngestOutput));
  return summary;
}

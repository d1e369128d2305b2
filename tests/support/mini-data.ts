/**
 * A data folder for training tests that need no `../shared/data`: the 1,200 fixture texts
 * (tests/fixtures/texts.jsonl, sampled from the public sets) laid out as the files the pipeline
 * reads (training/datasets.ts), with a SHA256SUMS, so ingest verifies them as it verifies the
 * real data. SenTube rows get one of ten video ids (its validation split is by video).
 *
 * Tiny: models trained on it are weak, which is fine for tests of the machinery (snapshots,
 * gates, blessings), not of quality. Use with tests/fixtures/params.mlops.yaml, the smoke
 * configuration without absolute metric floors.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DATASETS, type DatasetName } from '../../training/datasets.js';
import { sha256Hex } from '../../node-runtime/sha256.js';

const FIXTURES = fileURLToPath(new URL('../fixtures/', import.meta.url));

/** The smoke parameters with the release gates' metric floors at 0 (tiny data cannot reach them). */
export const MLOPS_PARAMS = join(FIXTURES, 'params.mlops.yaml');

interface FixtureRow {
  text: string;
  label: string;
  source: string;
  lang?: string;
}

/** Writes the folder into `dir` and returns its path. */
export function writeMiniData(dir: string): string {
  const rows = readFileSync(join(FIXTURES, 'texts.jsonl'), 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as FixtureRow);
  const of = (source: string) => rows.filter((r) => r.source === source);
  const plain = (r: FixtureRow) => ({ text: r.text, label: r.label });
  const tweets = of('tweeteval');
  const goemotions = of('goemotions');
  const umsab = of('umsab');
  const files: Record<DatasetName, object[]> = {
    semeval_train: tweets.slice(0, 200).map(plain),
    tweeteval_val: tweets.slice(200).map(plain),
    // Reporting only; the same tweets as validation keep the folder small.
    tweeteval_test: tweets.slice(200).map(plain),
    youtube: of('youtube').map(plain),
    goemotions_train: goemotions.slice(0, 100).map(plain),
    goemotions_dev: goemotions.slice(100).map(plain),
    sentube: of('sentube').map((r, i) => ({ ...plain(r), video: `video-${i % 10}` })),
    umsab_train: umsab.filter((_, i) => i % 3 !== 0).map((r) => ({ ...plain(r), lang: r.lang })),
    umsab_val: umsab.filter((_, i) => i % 3 === 0).map((r) => ({ ...plain(r), lang: r.lang })),
  };
  const sums: string[] = [];
  for (const [name, list] of Object.entries(files) as Array<[DatasetName, object[]]>) {
    const file = DATASETS[name].file;
    const body = list.map((r) => JSON.stringify(r) + '\n').join('');
    mkdirSync(dirname(join(dir, file)), { recursive: true });
    writeFileSync(join(dir, file), body);
    sums.push(`${sha256Hex(body)}  ${file}`);
  }
  writeFileSync(join(dir, 'SHA256SUMS'), sums.join('\n') + '\n');
  return dir;
}

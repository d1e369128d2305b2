/**
 * Stage 2, preprocess: the YouTube domain-validation split (seeded, stratified), exact-duplicate
 * removal inside training data, and leakage removal: no training text may equal (after
 * normalization) a text of any evaluation split.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { LABELS, type Label } from '../../core/labels.js';
import { normalize } from '../../core/normalize.js';
import type { Row } from '../datasets.js';
import { rng, shuffleInPlace } from '../softmax.js';
import { INGEST_FILE, type IngestOutput } from './ingest.js';

export interface TrainRow extends Row {
  source: 'semeval' | 'youtube';
}

export interface Splits {
  train: TrainRow[];
  youtube_val: Row[];
  tweeteval_val: Row[];
  tweeteval_test: Row[];
}
export type EvalSplit = Exclude<keyof Splits, 'train'>;
export const EVAL_SPLITS: EvalSplit[] = ['tweeteval_val', 'youtube_val', 'tweeteval_test'];

export const SPLITS_FILE = 'splits.json';

const keyOf = (text: string): string => normalize(text).tokens.join(' ');

/** Seeded stratified split: `fraction` of each label goes to the second part. */
export function stratifiedSplit<T extends { label: Label }>(rows: T[], fraction: number, seed: number): [T[], T[]] {
  const random = rng(seed);
  const keep: T[] = [];
  const held: T[] = [];
  for (const label of LABELS) {
    const group = shuffleInPlace(
      rows.filter((r) => r.label === label),
      random,
    );
    const cut = Math.round(group.length * fraction);
    held.push(...group.slice(0, cut));
    keep.push(...group.slice(cut));
  }
  return [keep, held];
}

const nonEmpty = (rows: Row[]): Row[] => rows.filter((r) => r.text.trim() !== '');

/** [train, validation] parts of the YouTube comments; the benchmarks rebuild the same split. */
export function splitYoutube(rows: Row[], fraction: number, seed: number): [Row[], Row[]] {
  return stratifiedSplit(nonEmpty(rows), fraction, seed);
}

export async function preprocess(
  dir: string,
  ingestDir: string,
  youtubeValFraction: number,
  seed: number,
): Promise<Record<string, unknown>> {
  const { datasets } = JSON.parse(readFileSync(join(ingestDir, INGEST_FILE), 'utf8')) as IngestOutput;
  const [ytTrain, ytVal] = splitYoutube(datasets.youtube, youtubeValFraction, seed);
  const evalSplits = {
    youtube_val: ytVal,
    tweeteval_val: nonEmpty(datasets.tweeteval_val),
    tweeteval_test: nonEmpty(datasets.tweeteval_test),
  };
  const evalKeys = new Set(Object.values(evalSplits).flatMap((rows) => rows.map((r) => keyOf(r.text))));
  const seen = new Set<string>();
  let leaked = 0;
  let duplicates = 0;
  const train: TrainRow[] = [];
  const candidates: TrainRow[] = [
    ...nonEmpty(datasets.semeval_train).map((r) => ({ ...r, source: 'semeval' as const })),
    ...ytTrain.map((r) => ({ ...r, source: 'youtube' as const })),
  ];
  for (const row of candidates) {
    const key = keyOf(row.text);
    if (evalKeys.has(key)) {
      leaked++;
      continue;
    }
    if (seen.has(key)) {
      duplicates++;
      continue;
    }
    seen.add(key);
    train.push({ text: row.text, label: row.label, source: row.source });
  }
  const splits: Splits = { train, ...evalSplits };
  writeFileSync(join(dir, SPLITS_FILE), JSON.stringify(splits));
  const sizes = Object.fromEntries(Object.entries(splits).map(([k, v]) => [k, (v as Row[]).length]));
  return { sizes, removed_leaked: leaked, removed_duplicates: duplicates };
}

export function readSplits(preprocessDir: string): Splits {
  return JSON.parse(readFileSync(join(preprocessDir, SPLITS_FILE), 'utf8')) as Splits;
}

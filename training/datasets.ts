/**
 * The labeled datasets the pipeline reads, where each comes from, and SHA256SUMS verification.
 *
 * The data is not in this repository: it is read from a data folder (default ../shared/data). A user
 * elsewhere can rebuild that folder from the public sources below; SHA256SUMS pins the exact files.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { isLabel, type Label } from '../core/labels.js';
import { sha256Hex } from '../node-runtime/sha256.js';

export interface DatasetSpec {
  /** Path inside the data folder. */
  file: string;
  /** Role in the pipeline. */
  use: 'train' | 'select' | 'report' | 'train+domain-val';
  source: string;
}

export const DATASETS = {
  semeval_train: {
    file: 'semeval2017/train.jsonl',
    use: 'train',
    source:
      'SemEval-2017 Task 4 subtask A training tweets (2013-2016), Rosenthal, Farra, Nakov (ACL SemEval 2017); ' +
      'as redistributed in github.com/cbaziotis/datastories-semeval2017-task4 (dataset/Subtask_A/downloaded/), ' +
      'minus the 2,000 TweetEval validation tweets.',
  },
  tweeteval_val: {
    file: 'tweeteval/val.jsonl',
    use: 'select',
    source: 'TweetEval sentiment validation split (Barbieri et al., Findings of EMNLP 2020), github.com/cardiffnlp/tweeteval datasets/sentiment/.',
  },
  tweeteval_test: {
    file: 'tweeteval/test.jsonl',
    use: 'report',
    source: 'TweetEval sentiment test split (= SemEval-2017 4A test), github.com/cardiffnlp/tweeteval datasets/sentiment/.',
  },
  youtube: {
    file: 'youtube/comments.jsonl',
    use: 'train+domain-val',
    source: 'YouTube Comments Dataset (Kaggle atifaliak/youtube-comments-dataset, mirrored in github.com/fenago/datasets ' + 'YoutubeCommentsDataSet.csv), deduplicated, seeded 80% stratified sample.',
  },
  goemotions_train: {
    file: 'goemotions/train.jsonl',
    use: 'train',
    source:
      'GoEmotions Reddit comments (Demszky et al., ACL 2020), google-research/google-research goemotions/data/train.tsv, ' +
      "emotions mapped to sentiment with the authors' sentiment_dict.json; ambiguous and mixed dropped. Apache-2.0.",
  },
  goemotions_dev: {
    file: 'goemotions/dev.jsonl',
    use: 'select',
    source: 'GoEmotions dev split (dev.tsv), same mapping.',
  },
  sentube: {
    file: 'sentube/train.jsonl',
    use: 'train+domain-val',
    source:
      'SenTube (Uryupina et al., LREC 2014): YouTube comments under car and tablet videos, hand-annotated; ' +
      'raw corpus in github.com/jerbarnes/sota_sentiment (datasets/SenTube/*_EN). Validation is split by video.',
  },
  umsab_train: {
    file: 'umsab/train.jsonl',
    use: 'train',
    source: 'UMSAB (XLM-T, Barbieri et al., LREC 2022), github.com/cardiffnlp/xlm-t data/sentiment/<language>/: ' + 'tweets in ar, de, es, fr, hi (romanized), it, pt.',
  },
  umsab_val: {
    file: 'umsab/val.jsonl',
    use: 'select',
    source: 'UMSAB validation split, 324 tweets per language.',
  },
} as const satisfies Record<string, DatasetSpec>;
export type DatasetName = keyof typeof DATASETS;

export interface Row {
  text: string;
  label: Label;
  /** Language code where the dataset gives one (UMSAB); English datasets leave it out. */
  lang?: string;
  /** Video id where the dataset gives one (SenTube): validation is split by video. */
  video?: string;
}

export class DataError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DataError';
  }
}

/** Parse SHA256SUMS ("<hex>  <path>" lines). */
export function readChecksums(dataDir: string): Map<string, string> {
  const path = join(dataDir, 'SHA256SUMS');
  if (!existsSync(path)) throw new DataError(`${path}: missing (the data folder must pin its files)`);
  const sums = new Map<string, string>();
  readFileSync(path, 'utf8')
    .split('\n')
    .forEach((line, i) => {
      if (line.trim() === '') return;
      const m = /^([0-9a-f]{64}) [ *]?(.+)$/.exec(line.trim());
      if (!m) throw new DataError(`${path}:${i + 1}: not a "<sha256>  <file>" line`);
      sums.set(m[2]!, m[1]!);
    });
  return sums;
}

/** Verify a dataset file against SHA256SUMS and parse it. Returns the rows and the file's sha256. */
export function readDataset(dataDir: string, name: DatasetName, sums: Map<string, string>): { rows: Row[]; sha256: string } {
  const spec = DATASETS[name];
  const path = join(dataDir, spec.file);
  if (!existsSync(path)) throw new DataError(`${path}: missing dataset file (${name}; source: ${spec.source})`);
  const expected = sums.get(spec.file);
  if (!expected) throw new DataError(`${join(dataDir, 'SHA256SUMS')}: no checksum for ${spec.file}`);
  const bytes = readFileSync(path);
  const actual = sha256Hex(bytes);
  if (actual !== expected) {
    throw new DataError(`${path}: sha256 mismatch (expected ${expected}, got ${actual}); refusing to train on changed data`);
  }
  const rows: Row[] = [];
  bytes
    .toString('utf8')
    .split('\n')
    .forEach((line, i) => {
      if (line.trim() === '') return;
      let obj: { text?: unknown; label?: unknown; lang?: unknown; video?: unknown };
      try {
        obj = JSON.parse(line) as typeof obj;
      } catch {
        throw new DataError(`${path}:${i + 1}: invalid JSON`);
      }
      if (typeof obj.text !== 'string' || !isLabel(obj.label)) throw new DataError(`${path}:${i + 1}: expected {text, label}`);
      const row: Row = { text: obj.text, label: obj.label };
      if (typeof obj.lang === 'string') row.lang = obj.lang;
      if (typeof obj.video === 'string') row.video = obj.video;
      rows.push(row);
    });
  return { rows, sha256: actual };
}

/**
 * The featurizer: text → sparse, L2-normalized vector of hashed n-gram features.
 *
 * Training, the ONNX parity checks, the CLIs, the worker and the extension all call this one
 * function, so the features a model was trained on are exactly the features it is served. The
 * configuration travels in the model manifest; {@link FEATURIZER_VERSION} names the algorithm.
 */
import { finalize, mixUnit } from './hash.js';
import { valence } from './lexicon.js';
import { normalize, NORMALIZER_VERSION, TokenKind, type NormalizedText } from './normalize.js';

/** Bumped whenever featurize() maps some (text, config) to different ids or values. */
export const FEATURIZER_VERSION = 1;

export interface FeaturizerConfig {
  /** Number of hash buckets, a power of two; the model's weight table has this many rows. */
  buckets: number;
  seed: number;
  /** Longest word n-gram (1 = unigrams only, 2 adds bigrams, 3 adds trigrams). */
  word_ngrams: number;
  /** Character n-gram lengths inside words (with `<` `>` word boundaries), or null for none. */
  char_ngrams: [number, number] | null;
  /** Weight of each feature group before L2 normalization. */
  weights: { unigram: number; bigram: number; trigram: number; char: number; flag: number; lexicon: number };
  /** Emit valence-class features from the AFINN-165 lexicon (see lexicon.ts). */
  lexicon: boolean;
  /** Texts are cut to this many UTF-16 code units before normalization (bounds cost per comment). */
  max_chars: number;
}

export const DEFAULT_FEATURIZER_CONFIG: FeaturizerConfig = {
  buckets: 1 << 20,
  seed: 0x5e47,
  word_ngrams: 2,
  char_ngrams: [2, 5],
  weights: { unigram: 1, bigram: 1, trigram: 1, char: 1, flag: 1, lexicon: 1 },
  lexicon: true,
  max_chars: 2000,
};

/** A sparse vector: strictly increasing ids in [0, buckets), with their values. */
export interface SparseFeatures {
  ids: Int32Array;
  values: Float32Array;
}

const GROUP = { unigram: 0, bigram: 1, trigram: 2, char: 3, flag: 4, lexicon: 5 } as const;
const GROUP_BITS = 3;
// Namespaces keep "good" the unigram apart from "good" the character n-gram.
const NS_UNIGRAM = 0x75;
const NS_NEGATED = 0x6e;
const NS_BIGRAM = 0x62;
const NS_TRIGRAM = 0x74;
const NS_CHAR = 0x63;
const NS_FLAG = 0x66;
const NS_LEXICON = 0x6c;
const SEPARATOR = 0x1f;
const BOUNDARY_START = 0x3c; // '<'
const BOUNDARY_END = 0x3e; // '>'

/** Reusable scratch space: featurizing allocates only the returned arrays. */
class Scratch {
  keys = new Int32Array(4096);
  n = 0;
  push(key: number): void {
    if (this.n === this.keys.length) {
      const grown = new Int32Array(this.keys.length * 2);
      grown.set(this.keys);
      this.keys = grown;
    }
    this.keys[this.n++] = key;
  }
}
const scratch = new Scratch();

/**
 * Featurize one text.
 *
 * @example
 * const { ids, values } = featurize('not bad at all :)', DEFAULT_FEATURIZER_CONFIG);
 */
export function featurize(text: string, config: FeaturizerConfig): SparseFeatures {
  const norm = normalize(text.length > config.max_chars ? text.slice(0, config.max_chars) : text);
  return featurizeNormalized(norm, config);
}

/** Featurize an already normalized text (lets callers reuse one normalization for other stats). */
export function featurizeNormalized(norm: NormalizedText, config: FeaturizerConfig): SparseFeatures {
  const mask = config.buckets - 1;
  const seed = config.seed | 0;
  const { tokens, kinds, negated } = norm;
  scratch.n = 0;
  const emit = (hash: number, group: number): void => scratch.push(((hash & mask) << GROUP_BITS) | group);

  // Content tokens for n-grams: punctuation other than !/? carries little and breaks bigrams.
  for (let i = 0; i < tokens.length; i++) {
    const tok = tokens[i]!;
    emit(hashToken(seed, negated[i] ? NS_NEGATED : NS_UNIGRAM, tok), GROUP.unigram);
    if (config.word_ngrams >= 2 && i + 1 < tokens.length) {
      let h = mixToken(mixUnit(seed, NS_BIGRAM), tok);
      h = mixToken(mixUnit(h, SEPARATOR), tokens[i + 1]!);
      emit(finalize(h, tok.length + tokens[i + 1]!.length + 2), GROUP.bigram);
      if (config.word_ngrams >= 3 && i + 2 < tokens.length) {
        h = mixToken(mixUnit(h, SEPARATOR), tokens[i + 2]!);
        emit(finalize(h, tok.length + tokens[i + 1]!.length + tokens[i + 2]!.length + 4), GROUP.trigram);
      }
    }
    if (config.char_ngrams && (kinds[i] === TokenKind.Word || kinds[i] === TokenKind.Hashtag)) {
      emitCharNgrams(tok, kinds[i] === TokenKind.Hashtag ? 1 : 0, config.char_ngrams, seed, emit);
    }
  }
  if (config.lexicon) emitLexicon(norm, seed, emit);
  if (norm.elongated) emit(hashToken(seed, NS_FLAG, 'elongated'), GROUP.flag);
  if (norm.allCaps) emit(hashToken(seed, NS_FLAG, 'allcaps'), GROUP.flag);
  if (tokens.length === 0) emit(hashToken(seed, NS_FLAG, 'empty'), GROUP.flag);

  return collect(config);
}

/**
 * Valence-class features: one per lexicon hit ("pos3", negation flips the sign), the sign of the
 * summed valence bucketed by magnitude, and the sign of the last sentiment word (often the verdict).
 */
function emitLexicon(norm: NormalizedText, seed: number, emit: (hash: number, group: number) => void): void {
  let sum = 0;
  let pos = 0;
  let neg = 0;
  let last = 0;
  for (let i = 0; i < norm.tokens.length; i++) {
    if (norm.kinds[i] !== TokenKind.Word) continue;
    let v = valence(norm.tokens[i]!);
    if (v === 0) continue;
    if (norm.negated[i]) v = -v;
    emit(hashToken(seed, NS_LEXICON, (v > 0 ? 'pos' : 'neg') + Math.abs(v)), GROUP.lexicon);
    sum += v;
    if (v > 0) pos++;
    else neg++;
    last = v;
  }
  const bucket = sum === 0 ? '0' : (sum > 0 ? '+' : '-') + Math.min(3, Math.ceil(Math.abs(sum) / 3));
  emit(hashToken(seed, NS_LEXICON, 'sum' + bucket), GROUP.lexicon);
  emit(hashToken(seed, NS_LEXICON, 'npos' + Math.min(pos, 3) + 'nneg' + Math.min(neg, 3)), GROUP.lexicon);
  if (last !== 0) emit(hashToken(seed, NS_LEXICON, last > 0 ? 'lastpos' : 'lastneg'), GROUP.lexicon);
}

/** Character n-grams of `<word>`, hashed incrementally: no substring is ever built. */
function emitCharNgrams(
  word: string,
  skip: number,
  [minN, maxN]: [number, number],
  seed: number,
  emit: (hash: number, group: number) => void,
): void {
  const len = word.length - skip + 2; // with boundaries
  const unitAt = (j: number): number =>
    j === 0 ? BOUNDARY_START : j === len - 1 ? BOUNDARY_END : word.charCodeAt(j - 1 + skip);
  for (let start = 0; start < len; start++) {
    let h = mixUnit(seed, NS_CHAR);
    for (let n = 1; n <= maxN && start + n <= len; n++) {
      h = mixUnit(h, unitAt(start + n - 1));
      // The whole bounded word is already a unigram; skip it as a char n-gram.
      if (n >= minN && !(start === 0 && n === len)) emit(finalize(h, n), GROUP.char);
    }
  }
}

function mixToken(h: number, tok: string): number {
  for (let i = 0; i < tok.length; i++) h = mixUnit(h, tok.charCodeAt(i));
  return h;
}

function hashToken(seed: number, ns: number, tok: string): number {
  return finalize(mixToken(mixUnit(seed, ns), tok), tok.length + 1);
}

const GROUP_WEIGHT_KEYS = ['unigram', 'bigram', 'trigram', 'char', 'flag', 'lexicon'] as const;

/** Sort keys, count each (bucket, group) once (binary features), sum groups per bucket, L2-normalize. */
function collect(config: FeaturizerConfig): SparseFeatures {
  const keys = scratch.keys.subarray(0, scratch.n).sort();
  const ids = new Int32Array(keys.length);
  const values = new Float32Array(keys.length);
  let n = 0;
  let sumSq = 0;
  let prevKey = -1;
  for (let i = 0; i < keys.length; i++) {
    const key = keys[i]!;
    if (key === prevKey) continue; // binary: repeated n-grams count once
    prevKey = key;
    const id = key >>> GROUP_BITS;
    const w = config.weights[GROUP_WEIGHT_KEYS[key & ((1 << GROUP_BITS) - 1)]!];
    if (n > 0 && ids[n - 1] === id) {
      sumSq -= values[n - 1]! * values[n - 1]!;
      values[n - 1]! += w;
      sumSq += values[n - 1]! * values[n - 1]!;
    } else {
      ids[n] = id;
      values[n] = w;
      sumSq += w * w;
      n++;
    }
  }
  const inv = sumSq > 0 ? 1 / Math.sqrt(sumSq) : 0;
  for (let i = 0; i < n; i++) values[i]! *= inv;
  return { ids: ids.slice(0, n), values: values.slice(0, n) };
}

/** A padded batch, row-major [rows, width]; padding has id 0 and value 0, so it adds nothing. */
export interface FeatureBatch {
  ids: Int32Array;
  values: Float32Array;
  rows: number;
  width: number;
}

/** Featurize several texts into one padded batch, ready to feed the ONNX graph. */
export function featurizeBatch(texts: readonly string[], config: FeaturizerConfig): FeatureBatch {
  const rows = texts.map((t) => featurize(t, config));
  return padBatch(rows);
}

export function padBatch(rows: readonly SparseFeatures[]): FeatureBatch {
  const width = Math.max(1, ...rows.map((r) => r.ids.length));
  const ids = new Int32Array(rows.length * width);
  const values = new Float32Array(rows.length * width);
  rows.forEach((r, i) => {
    ids.set(r.ids, i * width);
    values.set(r.values, i * width);
  });
  return { ids, values, rows: rows.length, width };
}

/** Identifies the exact algorithm; stored in manifests and checked before a model is used. */
export const FEATURIZER_ID = `ytsent-hashed-ngrams/v${FEATURIZER_VERSION}+norm${NORMALIZER_VERSION}`;

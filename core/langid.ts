/**
 * Language identification, part of scoring: every score says which language the comment is in and
 * whether the model supports it, so a comment in another language is never shown with a confident
 * sentiment.
 *
 * Two steps, both cheap enough to run on every comment:
 * 1. The writing system. Letters are counted per script; text written mostly in a script none of
 *    the supported languages uses (Cyrillic, CJK, Hangul, Thai, Devanagari, ...) is unsupported
 *    whatever its words, and Arabic script is Arabic unless it uses letters only Persian or Urdu have.
 *    Latin-script text is unsupported too when enough of its letters are ones no supported language
 *    writes (ş, ł, ě, ă, ơ, ...): Turkish, Polish, Czech, Romanian or Vietnamese.
 * 2. For Latin script, a linear classifier (softmax) over the *same* sparse features the sentiment
 *    model reads, folded into a small table (`id mod buckets`): en, de, es, fr, it, pt, hi
 *    (romanized Hindi-English) or "other" (any other Latin-script language). Reusing the featurizer's
 *    hashed n-grams costs one multiply-add per feature and class instead of a second pass over the
 *    text. Its weights ship in the bundle (`langid.bin`, int8) and are trained by the pipeline.
 *
 * Text with no letters at all (emoji, numbers, punctuation) is `und` and supported: emoji carry
 * sentiment in any language.
 */

/** A language guess for one text. */
export interface LanguageGuess {
  /** ISO 639-1 code ("en", "de", "ru"), "hi-Latn" is not used: romanized Hindi is "hi"; "und" when unknown. */
  lang: string;
  supported: boolean;
}

/** The languages model 2 supports, in the langid head's column order before "other". */
export const SUPPORTED_LANGUAGES = ['en', 'ar', 'de', 'es', 'fr', 'hi', 'it', 'pt'] as const;
export type SupportedLanguage = (typeof SUPPORTED_LANGUAGES)[number];
/** Label of the langid head's last column: a Latin-script language that is not supported. */
export const OTHER_LANGUAGE = 'other';

const NAMES: Record<string, string> = {
  en: 'English',
  ar: 'Arabic',
  de: 'German',
  es: 'Spanish',
  fr: 'French',
  hi: 'Hindi',
  it: 'Italian',
  pt: 'Portuguese',
  ru: 'Russian',
  uk: 'Ukrainian',
  el: 'Greek',
  he: 'Hebrew',
  fa: 'Persian',
  ur: 'Urdu',
  zh: 'Chinese',
  ja: 'Japanese',
  ko: 'Korean',
  th: 'Thai',
  bn: 'Bengali',
  ta: 'Tamil',
  te: 'Telugu',
  ml: 'Malayalam',
  kn: 'Kannada',
  gu: 'Gujarati',
  pa: 'Punjabi',
  ka: 'Georgian',
  hy: 'Armenian',
  am: 'Amharic',
  km: 'Khmer',
  lo: 'Lao',
  my: 'Burmese',
  si: 'Sinhala',
  und: 'Unknown language',
};

/**
 * English display name of a language code.
 *
 * @example languageName('ru') // 'Russian'
 */
export function languageName(code: string): string {
  return NAMES[code] ?? (code === OTHER_LANGUAGE ? 'Another language' : code);
}

/** Scripts told apart by code point ranges. Order: index into the counts array. */
const enum Script {
  Latin,
  Arabic,
  Cyrillic,
  Greek,
  Hebrew,
  Devanagari,
  Han,
  Kana,
  Hangul,
  Thai,
  Other,
  Count,
}

/** The language a non-Latin script implies when it dominates (Arabic and Han are refined below). */
const SCRIPT_LANG: Partial<Record<Script, string>> = {
  [Script.Cyrillic]: 'ru',
  [Script.Greek]: 'el',
  [Script.Hebrew]: 'he',
  [Script.Devanagari]: 'hi',
  [Script.Hangul]: 'ko',
  [Script.Thai]: 'th',
};

// Indic and other scripts with one main language each, by block start (all below U+1100).
const BLOCKS: Array<[number, number, string]> = [
  [0x0980, 0x09ff, 'bn'],
  [0x0a00, 0x0a7f, 'pa'],
  [0x0a80, 0x0aff, 'gu'],
  [0x0b80, 0x0bff, 'ta'],
  [0x0c00, 0x0c7f, 'te'],
  [0x0c80, 0x0cff, 'kn'],
  [0x0d00, 0x0d7f, 'ml'],
  [0x0d80, 0x0dff, 'si'],
  [0x0e80, 0x0eff, 'lo'],
  [0x1000, 0x109f, 'my'],
  [0x10a0, 0x10ff, 'ka'],
  [0x0530, 0x058f, 'hy'],
  [0x1200, 0x137f, 'am'],
  [0x1780, 0x17ff, 'km'],
];

/** Letters Persian or Urdu write and Arabic does not (پ چ ژ گ ک ی ے ٹ ڈ ڑ ں ھ). */
const PERSIAN_URDU = /[\u067e\u0686\u0698\u06af\u06a9\u06cc]/;
const URDU_ONLY = /[\u06d2\u0679\u0688\u0691\u06ba\u06be]/;
/** Ukrainian letters Russian lacks (і ї є ґ). */
const UKRAINIAN = /[\u0456\u0457\u0454\u0491]/i;

/**
 * Every letter beyond a-z that English, German, French, Spanish, Italian and Portuguese write.
 * Romanized Hindi is written in a-z.
 */
const SUPPORTED_LATIN = new Set('àáâãäæçèéêëìíîïñòóôõöùúûüÿœßÀÁÂÃÄÆÇÈÉÊËÌÍÎÏÑÒÓÔÕÖÙÚÛÜŸŒẞ');

/**
 * A Latin-script text is unsupported when at least this share of its Latin letters (outside
 * @handles) are letters no supported language writes: ş ğ ı (Turkish), ł ą ę ś ż (Polish), ě ř ů
 * (Czech), ă ș ț (Romanian), ơ ư đ and the tone marks of Vietnamese, ø å (Nordic)... Of 38,148
 * unlabelled "English" YouTube comments it refuses 25: 18 Turkish, Polish, Czech, Croatian or
 * Vietnamese ones, and 5 English replies that are mostly a name ("Petra Pavičić don't…"); a name in
 * a longer comment ("Getsuga Tenshō", "Dvořák") stays under 5% (docs/MODEL.md, 2.3.2).
 */
const FOREIGN_LATIN_SHARE = 0.05;

interface ScriptCount {
  counts: Int32Array;
  letters: number;
  /** Latin letters outside SUPPORTED_LATIN and outside @handles. */
  foreignLatin: number;
  /** Language of the dominant "other" block, when one was seen. */
  otherLang: string | null;
}

const scratch = new Int32Array(Script.Count);
const NON_ASCII = /[^\x00-\x7f]/;
const ASCII_LETTER = /[A-Za-z]/;

function classify(cp: number): Script | -1 {
  if (cp < 0x80) return (cp >= 0x61 && cp <= 0x7a) || (cp >= 0x41 && cp <= 0x5a) ? Script.Latin : -1;
  if (cp <= 0x024f) return cp >= 0xc0 && cp !== 0xd7 && cp !== 0xf7 ? Script.Latin : -1;
  if (cp >= 0x1e00 && cp <= 0x1eff) return Script.Latin;
  if (cp >= 0x0370 && cp <= 0x03ff) return Script.Greek;
  if (cp >= 0x0400 && cp <= 0x052f) return Script.Cyrillic;
  if (cp >= 0x0590 && cp <= 0x05ff) return Script.Hebrew;
  // Presentation forms A and B, not the blocks between them: U+FE0F (the variation selector of
  // "❤️") and U+FEFF (a byte-order mark) made emoji-only comments Arabic.
  if ((cp >= 0x0600 && cp <= 0x06ff) || (cp >= 0x0750 && cp <= 0x077f) || (cp >= 0xfb50 && cp <= 0xfdff) || (cp >= 0xfe70 && cp <= 0xfefc)) return Script.Arabic;
  if (cp >= 0x0900 && cp <= 0x097f) return Script.Devanagari;
  if (cp >= 0x0e00 && cp <= 0x0e7f) return Script.Thai;
  if ((cp >= 0x3040 && cp <= 0x30ff) || (cp >= 0x31f0 && cp <= 0x31ff) || (cp >= 0xff66 && cp <= 0xff9f)) return Script.Kana;
  if ((cp >= 0x4e00 && cp <= 0x9fff) || (cp >= 0x3400 && cp <= 0x4dbf) || (cp >= 0x20000 && cp <= 0x2ffff)) return Script.Han;
  if ((cp >= 0xac00 && cp <= 0xd7af) || (cp >= 0x1100 && cp <= 0x11ff) || (cp >= 0x3130 && cp <= 0x318f)) return Script.Hangul;
  if (cp >= 0x0530 && cp <= 0x1fff) return Script.Other;
  return -1; // symbols, emoji, punctuation, digits
}

function countScripts(text: string): ScriptCount {
  scratch.fill(0);
  let letters = 0;
  let foreignLatin = 0;
  let inHandle = false;
  let otherLang: string | null = null;
  for (let i = 0; i < text.length; i++) {
    let cp = text.charCodeAt(i);
    if (cp < 0x80) {
      // ASCII fast path: letters are Latin.
      if ((cp | 0x20) >= 0x61 && (cp | 0x20) <= 0x7a) {
        scratch[Script.Latin]!++;
        letters++;
      } else if (cp === 0x40) inHandle = true;
      else if (cp === 0x20 || cp === 0x0a || cp === 0x09) inHandle = false;
      continue;
    }
    if (cp >= 0xd800 && cp <= 0xdbff && i + 1 < text.length) {
      cp = text.codePointAt(i)!;
      i++;
    }
    const s = classify(cp);
    if (s < 0) continue;
    scratch[s]!++;
    letters++;
    if (s === Script.Latin && !inHandle && !SUPPORTED_LATIN.has(String.fromCodePoint(cp))) foreignLatin++;
    if (s === Script.Other && otherLang === null) {
      for (const [lo, hi, lang] of BLOCKS) if (cp >= lo && cp <= hi) otherLang = lang;
    }
  }
  return { counts: scratch, letters, foreignLatin, otherLang };
}

/**
 * The script step alone: the guess for text that is not (mostly) Latin-script, `null` when the
 * Latin-script classifier must decide.
 *
 * @example scriptGuess('Лучший канал') // { lang: 'ru', supported: false }
 */
export function scriptGuess(text: string): LanguageGuess | null {
  // Most comments are plain ASCII: Latin letters or none, decided by two native regex scans.
  if (!NON_ASCII.test(text)) return ASCII_LETTER.test(text) ? null : { lang: 'und', supported: true };
  const { counts, letters, foreignLatin, otherLang } = countScripts(text);
  if (letters === 0) return { lang: 'und', supported: true };
  let best: Script = Script.Latin;
  for (let s = 1; s < Script.Count; s++) if (counts[s]! > counts[best]!) best = s as Script;
  // Latin wins ties and any text where it holds at least 40% of the letters (code-mixed comments),
  // unless its letters are of a Latin-script language none of the supported ones.
  if (best === Script.Latin || counts[Script.Latin]! >= 0.4 * letters) {
    return foreignLatin > 0 && foreignLatin >= FOREIGN_LATIN_SHARE * counts[Script.Latin]! ? { lang: 'und', supported: false } : null;
  }
  switch (best) {
    case Script.Arabic:
      if (URDU_ONLY.test(text)) return { lang: 'ur', supported: false };
      if (PERSIAN_URDU.test(text)) return { lang: 'fa', supported: false };
      return { lang: 'ar', supported: true };
    case Script.Han:
      return { lang: counts[Script.Kana]! > 0 ? 'ja' : 'zh', supported: false };
    case Script.Kana:
      return { lang: 'ja', supported: false };
    case Script.Cyrillic:
      return { lang: UKRAINIAN.test(text) ? 'uk' : 'ru', supported: false };
    case Script.Other:
      return { lang: otherLang ?? 'und', supported: false };
    default:
      return { lang: SCRIPT_LANG[best] ?? 'und', supported: false };
  }
}

/** The Latin-script classifier's weights, as the bundle's `langid.bin` and manifest describe them. */
export interface LangIdModel {
  /** Column labels: supported languages written in Latin script, then "other". */
  labels: readonly string[];
  /** Folded table size (a power of two): feature id `i` reads row `i & (buckets - 1)`. */
  buckets: number;
  /**
   * Row-major [buckets, labels.length]: float weights, or int8 weights with per-label `scales` (the
   * shipped form: a quarter of the memory, so the random row reads stay in cache).
   */
  weights: Float32Array | Int8Array;
  scales?: Float32Array;
  bias: Float32Array;
  /** A text is called "other" (unsupported) only when that column's probability reaches this. */
  other_threshold: number;
  /**
   * Only a row's first `max_features` features are read (they come in text order: the first words
   * tell the language, and long comments then cost no more than short ones). Undefined: all.
   */
  max_features?: number;
  /**
   * Log-odds added per label when choosing among the supported languages (not when deciding
   * "other"): the deployment prior, e.g. most comments are English. Undefined: none.
   */
  prior?: readonly number[];
}

/**
 * Latin-script language from a featurized row: softmax over folded feature ids.
 * `scores` is scratch space of labels.length entries.
 */
export function classifyLatin(model: LangIdModel, ids: ArrayLike<number>, values: ArrayLike<number>, from: number, to: number, scores: Float64Array): LanguageGuess {
  const L = model.labels.length;
  const mask = model.buckets - 1;
  const w = model.weights;
  const end = model.max_features === undefined ? to : Math.min(to, from + model.max_features);
  if (L === 8) accumulate8(w, mask, ids, values, from, end, scores);
  else {
    for (let k = 0; k < L; k++) scores[k] = 0;
    for (let j = from; j < end; j++) {
      const row = (ids[j]! & mask) * L;
      const v = values[j]!;
      for (let k = 0; k < L; k++) scores[k]! += v * w[row + k]!;
    }
  }
  const scales = model.scales;
  for (let k = 0; k < L; k++) scores[k] = model.bias[k]! + (scales ? scores[k]! * scales[k]! : scores[k]!);
  let max = -Infinity;
  for (let k = 0; k < L; k++) if (scores[k]! > max) max = scores[k]!;
  let sum = 0;
  for (let k = 0; k < L; k++) sum += scores[k] = Math.exp(scores[k]! - max);
  const other = L - 1;
  // Best supported language; "other" only when it is confident (short English comments must not
  // be refused for looking foreign).
  if (scores[other]! / sum >= model.other_threshold) return { lang: 'und', supported: false };
  const prior = model.prior;
  let best = 0;
  let bestScore = -Infinity;
  for (let k = 0; k < other; k++) {
    const score = Math.log(scores[k]!) + (prior?.[k] ?? 0);
    if (score > bestScore) {
      best = k;
      bestScore = score;
    }
  }
  return { lang: model.labels[best]!, supported: true };
}

/**
 * The shipped table's shape (7 languages + "other") with the eight sums in locals: V8 keeps them in
 * registers, about 3.5x faster than the loop over `scores` (bench/results/model.md, speed).
 */
function accumulate8(w: Float32Array | Int8Array, mask: number, ids: ArrayLike<number>, values: ArrayLike<number>, from: number, end: number, scores: Float64Array): void {
  let s0 = 0,
    s1 = 0,
    s2 = 0,
    s3 = 0,
    s4 = 0,
    s5 = 0,
    s6 = 0,
    s7 = 0;
  for (let j = from; j < end; j++) {
    const r = (ids[j]! & mask) << 3;
    const v = values[j]!;
    s0 += v * w[r]!;
    s1 += v * w[r + 1]!;
    s2 += v * w[r + 2]!;
    s3 += v * w[r + 3]!;
    s4 += v * w[r + 4]!;
    s5 += v * w[r + 5]!;
    s6 += v * w[r + 6]!;
    s7 += v * w[r + 7]!;
  }
  scores[0] = s0;
  scores[1] = s1;
  scores[2] = s2;
  scores[3] = s3;
  scores[4] = s4;
  scores[5] = s5;
  scores[6] = s6;
  scores[7] = s7;
}

/** Parse `langid.bin`: int8 weights, row-major [buckets, labels], with per-column scales. */
export function decodeLangId(
  bytes: Uint8Array,
  meta: {
    labels: readonly string[];
    buckets: number;
    scales: readonly number[];
    bias: readonly number[];
    other_threshold: number;
    max_features?: number | undefined;
    prior?: readonly number[] | undefined;
  },
): LangIdModel {
  const L = meta.labels.length;
  if (bytes.byteLength !== meta.buckets * L) throw new Error(`langid.bin is ${bytes.byteLength} bytes, expected ${meta.buckets * L}`);
  if (meta.scales.length !== L || meta.bias.length !== L) throw new Error('langid scales and bias must have one entry per label');
  const weights = Int8Array.from(new Int8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength));
  return {
    labels: meta.labels,
    buckets: meta.buckets,
    weights,
    scales: Float32Array.from(meta.scales),
    bias: Float32Array.from(meta.bias),
    other_threshold: meta.other_threshold,
    ...(meta.max_features !== undefined ? { max_features: meta.max_features } : {}),
    ...(meta.prior !== undefined ? { prior: meta.prior } : {}),
  };
}

/** Int8 symmetric quantization per column, the inverse of {@link decodeLangId}. */
export function encodeLangId(weights: Float32Array, labels: number): { bytes: Uint8Array; scales: number[] } {
  const scales = new Array<number>(labels).fill(0);
  for (let i = 0; i < weights.length; i++) scales[i % labels] = Math.max(scales[i % labels]!, Math.abs(weights[i]!));
  for (let k = 0; k < labels; k++) scales[k] = scales[k]! > 0 ? scales[k]! / 127 : 1;
  const q = new Int8Array(weights.length);
  for (let i = 0; i < weights.length; i++) q[i] = Math.max(-127, Math.min(127, Math.round(weights[i]! / scales[i % labels]!)));
  return { bytes: new Uint8Array(q.buffer), scales };
}

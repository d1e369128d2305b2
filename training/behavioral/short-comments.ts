/**
 * Language identification on short comments: short-comments.json holds 270 comments of one to
 * five words ("merci beaucoup", "muito bom", "bhai op", "no cap this slaps"), 30 in each supported
 * Latin-script language and 6 in each of ten unsupported ones (tr, pl, nl, id, sv, ro, vi, tl, cs,
 * fi), written for the purpose by someone who had not seen the classifier's training data. Every
 * labelled text of a language but English is a tweet of 15-25 words, and the validation splits are
 * the same, so they say little about comments this short. The file was used to choose
 * `langid.short_spans` (training/params.yaml): it is a regression check, not a held-out test.
 *
 * Pure TypeScript, like the rest of this folder: the predictions are injected, so the bench and the
 * tests score them with whatever runtime they hold.
 */
import { SUPPORTED_LANGUAGES } from '../../core/langid.js';
import data from './short-comments.json' with { type: 'json' };

export interface ShortComment {
  text: string;
  /** ISO 639-1 code: a supported language, or the unsupported language it is written in. */
  lang: string;
}

export const SHORT_COMMENTS: readonly ShortComment[] = data.comments;

const SUPPORTED = new Set<string>(SUPPORTED_LANGUAGES);

export interface LanguageGuessLike {
  lang: string;
  supported: boolean;
}

export interface ShortCommentReport {
  /** Per supported language: share identified as that language (and supported). */
  by_lang: Record<string, number>;
  /** Supported languages pooled. */
  supported: number;
  /** Share of the comments in unsupported languages that came out `supported: false`. */
  unsupported_refused: number;
  /** Each miss as "text → what it came out as (what it is)". */
  misses: string[];
}

/** Scores guesses, one per SHORT_COMMENTS entry in order. */
export function shortCommentReport(guesses: readonly LanguageGuessLike[], comments: readonly ShortComment[] = SHORT_COMMENTS): ShortCommentReport {
  if (guesses.length !== comments.length) throw new Error(`expected ${comments.length} guesses, got ${guesses.length}`);
  const hits = new Map<string, [number, number]>();
  const misses: string[] = [];
  comments.forEach((c, i) => {
    const g = guesses[i]!;
    const key = SUPPORTED.has(c.lang) ? c.lang : 'unsupported';
    const right = key === 'unsupported' ? !g.supported : g.supported && g.lang === c.lang;
    const h = hits.get(key) ?? [0, 0];
    hits.set(key, [h[0] + (right ? 1 : 0), h[1] + 1]);
    if (!right) misses.push(`${c.text} → ${g.supported ? g.lang : 'refused'} (${c.lang})`);
  });
  const share = (keys: string[]): number => {
    const [right, n] = keys.reduce(([r, n], k) => [r + (hits.get(k)?.[0] ?? 0), n + (hits.get(k)?.[1] ?? 0)], [0, 0]);
    return n ? right / n : 0;
  };
  const langs = [...hits.keys()].filter((k) => k !== 'unsupported').sort();
  return {
    by_lang: Object.fromEntries(langs.map((l) => [l, share([l])])),
    supported: share(langs),
    unsupported_refused: share(['unsupported']),
    misses,
  };
}

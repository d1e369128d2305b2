/**
 * Hashed-token buckets: the privacy-preserving view of a comment's vocabulary used for drift.
 *
 * Each normalized word maps to one of {@link TOKEN_BUCKETS} buckets. Hundreds of words share a
 * bucket, so a bucket list cannot be turned back into text, yet a shift in what people talk about
 * still shows as a shift in the bucket histogram.
 */
import { hashString } from './hash.js';
import { normalize, TokenKind } from './normalize.js';

export const TOKEN_BUCKETS = 256;
const TOKEN_SEED = 0x7b1d;

/** Sorted, unique bucket ids of the words, emojis and hashtags in `text`. */
export function tokenBuckets(text: string, buckets: number = TOKEN_BUCKETS): number[] {
  const norm = normalize(text);
  const seen = new Set<number>();
  for (let i = 0; i < norm.tokens.length; i++) {
    const kind = norm.kinds[i];
    if (kind === TokenKind.Punct) continue;
    seen.add(hashString(norm.tokens[i]!, TOKEN_SEED) % buckets);
  }
  return [...seen].sort((a, b) => a - b);
}

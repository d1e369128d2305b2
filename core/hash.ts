/**
 * MurmurHash3 (x86, 32-bit) over UTF-16 code units.
 *
 * The featurizer hashes n-grams without allocating substrings: callers feed code units one at a time
 * through {@link mixUnit} and finish with {@link finalize}. Every runtime (Node, browser, workerd) runs
 * this same code, so feature ids cannot drift between training and serving.
 */
const C1 = 0xcc9e2d51;
const C2 = 0x1b873593;

/** Mix one 16-bit code unit into running state `h`. */
export function mixUnit(h: number, unit: number): number {
  return mixUnitKey(h, unitKey(unit));
}

/**
 * The half of {@link mixUnit} that depends on the unit alone: a caller that mixes the same unit
 * into several running hashes (character n-grams) computes it once.
 * `mixUnitKey(h, unitKey(u)) === mixUnit(h, u)`.
 */
export function unitKey(unit: number): number {
  let k = Math.imul(unit, C1);
  k = (k << 15) | (k >>> 17);
  return Math.imul(k, C2);
}

/** The other half of {@link mixUnit}: mix a {@link unitKey} into running state `h`. */
export function mixUnitKey(h: number, key: number): number {
  h ^= key;
  h = (h << 13) | (h >>> 19);
  return (Math.imul(h, 5) + 0xe6546b64) | 0;
}

/** Final avalanche; `length` is the number of units mixed. Returns an unsigned 32-bit integer. */
export function finalize(h: number, length: number): number {
  h ^= length;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** Hash a whole string with `seed`. */
export function hashString(text: string, seed: number): number {
  let h = seed | 0;
  for (let i = 0; i < text.length; i++) h = mixUnit(h, text.charCodeAt(i));
  return finalize(h, text.length);
}

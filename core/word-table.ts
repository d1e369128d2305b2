/**
 * A word → bit set table for the normalizer's per-word lookups.
 *
 * Why not a Map: the normalizer looks up every word of every comment in a table of ~60,000 entries
 * (lexicon words, clause roles, typo variants). V8's Map keeps its keys as separate heap strings and
 * walks a bucket chain comparing them, several cache misses per lookup; most words are not in the
 * table, and that lookup alone was an eighth of scoring time. Here the slots are one Int32Array of
 * (hash, index) pairs, so a word that is absent costs one probe into a contiguous array, and only a
 * word whose full 32-bit hash matches is compared as a string. In front of the slots, a bit array
 * (8 bits per word: 64 KB for 60,000 words, small enough to stay in cache while the slots do not)
 * turns away about 9 in 10 absent words, and about 9 in 10 words looked up are absent. Lookups
 * answer exactly as a Map would.
 */
export class WordTable {
  /** Interleaved (hash, entry index + 1) pairs; index 0 marks an empty slot. */
  private readonly slots: Int32Array;
  private readonly shift: number;
  /** One bit per hash value modulo its size, set for the words in the table (see {@link get}). */
  private readonly filter: Int32Array;
  private readonly filterMask: number;
  private readonly capacity: number;
  private readonly keys: string[] = [];
  private readonly values: number[] = [];

  /** A table for up to `capacity` words. */
  constructor(capacity: number) {
    this.capacity = capacity;
    let bits = 4;
    // At most half full: an absent word lands on an empty slot within a probe or two, all in one
    // cache line (a quarter full was no faster and twice the memory).
    while (1 << bits < capacity * 2) bits++;
    this.shift = 32 - bits;
    this.slots = new Int32Array(2 << bits);
    let filterBits = 10;
    while (1 << filterBits < capacity * 8) filterBits++;
    this.filter = new Int32Array(1 << (filterBits - 5));
    this.filterMask = (1 << filterBits) - 1;
  }

  /** Sets `bits` (a positive integer) in the value of `word`, adding the word if it is new. */
  or(word: string, bits: number): void {
    if (!(bits > 0 && (bits | 0) === bits)) throw new Error(`WordTable: bits of ${word} must be a positive 32-bit integer`);
    const h = wordHash(word);
    const slots = this.slots;
    const mask = (slots.length >> 1) - 1;
    let slot = Math.imul(h, 0x9e3779b1) >>> this.shift;
    for (let index = slots[2 * slot + 1]!; index !== 0; index = slots[2 * slot + 1]!) {
      if (slots[2 * slot] === h && this.keys[index - 1] === word) {
        this.values[index - 1]! |= bits;
        return;
      }
      slot = (slot + 1) & mask;
    }
    if (this.keys.length >= this.capacity) throw new Error(`WordTable: more than ${this.capacity} words`);
    this.keys.push(word);
    this.values.push(bits);
    slots[2 * slot] = h;
    slots[2 * slot + 1] = this.keys.length;
    const bit = h & this.filterMask;
    this.filter[bit >>> 5]! |= 1 << (bit & 31);
  }

  /** The value of `word`, or 0 when it is not in the table. */
  get(word: string): number {
    const h = wordHash(word);
    const bit = h & this.filterMask;
    if ((this.filter[bit >>> 5]! & (1 << (bit & 31))) === 0) return 0;
    const slots = this.slots;
    const mask = (slots.length >> 1) - 1;
    let slot = Math.imul(h, 0x9e3779b1) >>> this.shift;
    for (;;) {
      const index = slots[2 * slot + 1]!;
      if (index === 0) return 0;
      if (slots[2 * slot] === h && this.keys[index - 1] === word) return this.values[index - 1]!;
      slot = (slot + 1) & mask;
    }
  }
}

/** FNV-1a over UTF-16 code units, with a final mix so similar words spread over the table. */
function wordHash(word: string): number {
  let h = 0x811c9dc5 | 0;
  for (let i = 0; i < word.length; i++) h = Math.imul(h ^ word.charCodeAt(i), 0x01000193);
  h ^= h >>> 15;
  return Math.imul(h, 0x2c1b3c6d);
}

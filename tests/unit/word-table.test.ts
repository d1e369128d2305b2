/**
 * core/word-table.ts answers exactly as a Map of OR-ed bits would: words present and absent
 * (including near misses that share a hash filter bit or a slot), bits accumulated over several
 * calls, the capacity bound and the refusal of values that are not positive 32-bit integers.
 */
import { describe, expect, it } from 'vitest';
import { rng } from '../../core/random.js';
import { WordTable } from '../../core/word-table.js';

function randomWord(rand: () => number): string {
  const alphabet = 'abcdefghijklmnopqrstuvwxyzäöüéñ😀';
  const chars = [...alphabet];
  return Array.from({ length: 1 + Math.floor(rand() * 10) }, () => chars[Math.floor(rand() * chars.length)]).join('');
}

describe('WordTable', () => {
  it('agrees with a Map on 20,000 words and 200,000 lookups, present and absent', () => {
    const rand = rng(7);
    const table = new WordTable(20_000);
    const reference = new Map<string, number>();
    while (reference.size < 20_000) {
      const word = randomWord(rand);
      const bits = 1 << Math.floor(rand() * 30);
      table.or(word, bits);
      reference.set(word, (reference.get(word) ?? 0) | bits);
    }
    for (const [word, bits] of reference) expect(table.get(word)).toBe(bits);
    let absent = 0;
    for (let i = 0; i < 200_000; i++) {
      const word = randomWord(rand);
      const expected = reference.get(word) ?? 0;
      if (expected === 0) absent++;
      if (table.get(word) !== expected) expect(table.get(word), word).toBe(expected);
    }
    // Most lookups were of absent words, the case the filter exists for.
    expect(absent).toBeGreaterThan(100_000);
  });

  it('ORs the bits of repeated words, and keeps case and Unicode apart', () => {
    const table = new WordTable(8);
    table.or('good', 1);
    table.or('good', 4);
    table.or('Good', 2);
    table.or('goöd', 8);
    expect([table.get('good'), table.get('Good'), table.get('goöd'), table.get('goo'), table.get('')]).toEqual([5, 2, 8, 0, 0]);
  });

  it('refuses more words than its capacity and values that are not positive 32-bit integers', () => {
    const table = new WordTable(2);
    table.or('a', 1);
    table.or('b', 1);
    table.or('a', 2);
    expect(() => table.or('c', 1)).toThrow(/more than 2 words/);
    for (const bad of [0, -1, 1.5, 2 ** 32]) expect(() => table.or('a', bad)).toThrow(/positive 32-bit integer/);
  });
});

import { describe, expect, it } from 'vitest';
import { buildTypoTable, typoVariants } from '../../core/typos.js';

describe('typo variants', () => {
  it('lists adjacent swaps, and single omissions for words of five letters or more', () => {
    expect(typoVariants('hate').sort()).toEqual(['ahte', 'haet', 'htae']);
    expect(typoVariants('great')).toEqual(expect.arrayContaining(['rgeat', 'graet', 'reat', 'geat', 'grat', 'gret', 'grea']));
    expect(typoVariants('good')).toEqual(['ogod', 'godo']);
  });

  it('skips words it cannot repair safely (short or non-ASCII)', () => {
    expect(typoVariants('bad')).toEqual([]);
    expect(typoVariants('schön')).toEqual([]);
    expect(typoVariants("don't")).toEqual([]);
  });
});

describe('typo table', () => {
  it('maps variants back to their word, leaving excluded and shared variants out', () => {
    const table = buildTypoTable(['best', 'evil', 'vile'], new Set(['bets']));
    expect(table.get('bset')).toBe('best');
    expect(table.has('bets')).toBe(false);
    // "veil" is not a swap of either; "evli" is evil's, "viel" is vile's: each maps to its own word.
    expect(table.get('evli')).toBe('evil');
    expect(table.get('viel')).toBe('vile');
    // "tick" drops a letter from both "trick" and "thick": ambiguous, so left alone.
    const shared = buildTypoTable(['trick', 'thick'], new Set());
    expect(shared.get('trck')).toBe('trick');
    expect(shared.has('tick')).toBe(false);
    // "from" is one swap from "form", but a word of the list is never a typo of another.
    const words = buildTypoTable(['form', 'from'], new Set());
    expect(words.has('from')).toBe(false);
    expect(words.has('form')).toBe(false);
    expect(words.get('fomr')).toBe('form');
  });
});

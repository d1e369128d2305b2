/**
 * Language identification on short comments (training/behavioral/short-comments.ts): (a) the set and
 * its scoring, with no model; (b) the newest model bundle at or above thresholds.json
 * `short_comments.model` must identify them at least as well as recorded there.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { compareSemver } from '../../core/manifest.js';
import { createNodeScorer } from '../../node-runtime/bundle.js';
import { SHORT_COMMENTS, shortCommentReport } from '../../training/behavioral/short-comments.js';
import { listModelBundles } from './scorers.js';

const thresholds = (
  JSON.parse(readFileSync(new URL('./thresholds.json', import.meta.url), 'utf8')) as {
    short_comments: { model: string; min_supported: number; min_english: number; min_unsupported_refused: number };
  }
).short_comments;

describe('short comments: the set', () => {
  it('holds 30 comments in each supported Latin-script language and 60 in ten unsupported ones, 1-5 words each, no duplicates', () => {
    const count = (lang: string) => SHORT_COMMENTS.filter((c) => c.lang === lang).length;
    for (const lang of ['en', 'de', 'es', 'fr', 'hi', 'it', 'pt']) expect(count(lang), lang).toBe(30);
    const unsupported = ['tr', 'pl', 'nl', 'id', 'sv', 'ro', 'vi', 'tl', 'cs', 'fi'];
    for (const lang of unsupported) expect(count(lang), lang).toBe(6);
    expect(SHORT_COMMENTS.length).toBe(270);
    for (const c of SHORT_COMMENTS) {
      const words = c.text.split(/\s+/).filter((w) => /\p{L}|\p{N}/u.test(w));
      expect(words.length, c.text).toBeGreaterThanOrEqual(1);
      expect(words.length, c.text).toBeLessThanOrEqual(5);
    }
    expect(new Set(SHORT_COMMENTS.map((c) => c.text.toLowerCase())).size).toBe(270);
  });

  it("scores a guess right only for the comment's own language and supported, and an unsupported one only when refused", () => {
    const comments = [
      { text: 'merci beaucoup', lang: 'fr' },
      { text: 'muito bom', lang: 'pt' },
      { text: 'bhai op', lang: 'hi' },
      { text: 'harika video', lang: 'tr' },
      { text: 'mooie video', lang: 'nl' },
    ];
    const report = shortCommentReport(
      [
        { lang: 'fr', supported: true },
        { lang: 'en', supported: true },
        { lang: 'hi', supported: false },
        { lang: 'und', supported: false },
        { lang: 'en', supported: true },
      ],
      comments,
    );
    expect(report.by_lang).toEqual({ fr: 1, hi: 0, pt: 0 });
    expect(report.supported).toBeCloseTo(1 / 3, 10);
    expect(report.unsupported_refused).toBe(0.5);
    expect(report.misses).toEqual(['muito bom → en (pt)', 'bhai op → refused (hi)', 'mooie video → en (nl)']);
    expect(() => shortCommentReport([], comments)).toThrow(/expected 5 guesses, got 0/);
  });
});

const target = listModelBundles()
  .filter((b) => compareSemver(b.version, thresholds.model) >= 0)
  .at(-1);

describe('short comments: model gate', () => {
  it.skipIf(!target)(
    target
      ? `model ${target.version}: supported ≥ ${thresholds.min_supported}, English ≥ ${thresholds.min_english}, unsupported refused ≥ ${thresholds.min_unsupported_refused}`
      : `SKIPPED: no model bundle with version >= ${thresholds.model} under models/ yet`,
    async () => {
      const scorer = await createNodeScorer(target!.dir);
      try {
        const report = shortCommentReport(await scorer.predict(SHORT_COMMENTS.map((c) => c.text)));
        const summary = `${JSON.stringify({ ...report, misses: undefined })}\n${report.misses.join('\n')}`;
        expect(report.supported, summary).toBeGreaterThanOrEqual(thresholds.min_supported);
        expect(report.by_lang.en, summary).toBeGreaterThanOrEqual(thresholds.min_english);
        expect(report.unsupported_refused, summary).toBeGreaterThanOrEqual(thresholds.min_unsupported_refused);
      } finally {
        await scorer.release();
      }
    },
  );
});

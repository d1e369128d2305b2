import { describe, expect, it } from 'vitest';
import { DEFAULT_FEATURIZER_CONFIG, featurize, featurizeBatch, FEATURIZER_ID, raggedBatch } from '../../core/featurize.js';
import { hashString } from '../../core/hash.js';

// Golden feature ids: any change to the normalizer, hashing or feature set breaks these on purpose.
// Update them only together with FEATURIZER_VERSION / NORMALIZER_VERSION and a retrained model.
const WORDS_ONLY = { ...DEFAULT_FEATURIZER_CONFIG, char_ngrams: null };
const GOLDEN: Array<[string, number[]]> = [
  ['Not bad at all :)', [343707, 451727, 175207, 469642, 158509, 121806, 146705, 15847, 110736, 365800, 229769, 119834, 374100]],
  ['I LOVE this video 😍😍 2:35', [216619, 190380, 34713, 290855, 78269, 50446, 201841, 210155, 152269, 302491, 182070, 86917, 365800, 229769, 119834, 374100, 520087]],
  ['soooo boring', [157560, 235859, 298989, 36436, 48238, 515777, 71951, 285087]],
  ['@someone check https://youtu.be/x #Music', [400347, 221505, 313538, 154568, 116623, 185383, 4432, 180661, 132419]],
];

describe('featurizer', () => {
  it('names its version', () => {
    expect(FEATURIZER_ID).toBe('ytsent-hashed-ngrams/v2+norm1');
  });

  it('pins hash values', () => {
    expect([hashString('', 0), hashString('a', 0), hashString('hello', 42)]).toEqual([0, 721651713, 2384946537]);
  });

  it.each(GOLDEN)('pins the feature ids of %j', (text, ids) => {
    expect(Array.from(featurize(text, WORDS_ONLY).ids)).toEqual(ids);
  });

  it('pins character n-gram ids', () => {
    expect(Array.from(featurize('great', DEFAULT_FEATURIZER_CONFIG).ids)).toEqual([
      247521, 14903, 134713, 249898, 417173, 19532, 378821, 324970, 309522, 269361, 90472, 69200, 473430, 365800, 229769, 119834, 374100,
    ]);
  });

  it('returns unit-length vectors with ids inside the bucket range', () => {
    for (const text of ['hello', 'The best video ever!!! 😍', 'a'.repeat(5000), '']) {
      const { ids, values } = featurize(text, DEFAULT_FEATURIZER_CONFIG);
      expect(ids.length).toBeGreaterThan(0);
      expect(Math.hypot(...values)).toBeCloseTo(1, 5);
      for (const id of ids) expect(id >= 0 && id < DEFAULT_FEATURIZER_CONFIG.buckets).toBe(true);
    }
  });

  it('counts a repeated n-gram once (binary features)', () => {
    // 'cat' is not in the lexicon, whose hit counts would differ.
    expect(Array.from(featurize('cat cat cat', WORDS_ONLY).ids)).toEqual(Array.from(featurize('cat cat', WORDS_ONLY).ids));
  });

  it('cuts texts at max_chars', () => {
    const cfg = { ...DEFAULT_FEATURIZER_CONFIG, max_chars: 10 };
    expect(featurize('0123456789 tail words here', cfg)).toEqual(featurize('0123456789', cfg));
  });

  it('is deterministic and the ragged batch matches per-text featurization', () => {
    const texts = ['first comment', 'second one :(', 'third, with a URL https://x.io', ''];
    const rows = texts.map((t) => featurize(t, DEFAULT_FEATURIZER_CONFIG));
    const direct = featurizeBatch(texts, DEFAULT_FEATURIZER_CONFIG);
    const viaRows = raggedBatch(rows);
    expect(direct).toEqual(viaRows);
    expect(Array.from(direct.lengths)).toEqual(rows.map((r) => r.ids.length));
    expect(direct.rows[0]).toBe(0);
    expect(direct.rows[direct.rows.length - 1]).toBe(3);
  });
});

import { describe, expect, it } from 'vitest';
import { DEFAULT_FEATURIZER_CONFIG, featurize, featurizeBatch, FEATURIZER_ID, featurizerId, raggedBatch, type FeaturizerConfig } from '../../core/featurize.js';
import { hashString } from '../../core/hash.js';

// Golden feature ids of version 2 (model 1.0.0): any change to the normalizer, hashing or feature
// set of a released version breaks these on purpose. A new algorithm is a new version.
const V2: FeaturizerConfig = { ...DEFAULT_FEATURIZER_CONFIG, version: 2 };
const WORDS_ONLY = { ...V2, char_ngrams: null };
const GOLDEN: Array<[string, number[]]> = [
  ['Not bad at all :)', [343707, 451727, 175207, 469642, 158509, 121806, 146705, 15847, 110736, 365800, 229769, 119834, 374100]],
  ['I LOVE this video 😍😍 2:35', [216619, 190380, 34713, 290855, 78269, 50446, 201841, 210155, 152269, 302491, 182070, 86917, 365800, 229769, 119834, 374100, 520087]],
  ['soooo boring', [157560, 235859, 298989, 36436, 48238, 515777, 71951, 285087]],
  ['@someone check https://youtu.be/x #Music', [400347, 221505, 313538, 154568, 116623, 185383, 4432, 180661, 132419]],
];

describe('featurizer', () => {
  it('names its version', () => {
    expect(FEATURIZER_ID).toBe('ytsent-hashed-ngrams/v8+norm7');
    expect(featurizerId({ version: 7 })).toBe('ytsent-hashed-ngrams/v7+norm6');
    expect(featurizerId({ version: 6 })).toBe('ytsent-hashed-ngrams/v6+norm5');
    expect(featurizerId({ version: 5 })).toBe('ytsent-hashed-ngrams/v5+norm4');
    expect(featurizerId({ version: 4 })).toBe('ytsent-hashed-ngrams/v4+norm3');
    expect(featurizerId({ version: 3 })).toBe('ytsent-hashed-ngrams/v3+norm2');
    expect(featurizerId({})).toBe('ytsent-hashed-ngrams/v2+norm1');
    expect(featurizerId({ version: 2 })).toBe('ytsent-hashed-ngrams/v2+norm1');
  });

  it('pins hash values', () => {
    expect([hashString('', 0), hashString('a', 0), hashString('hello', 42)]).toEqual([0, 721651713, 2384946537]);
  });

  it.each(GOLDEN)('pins the feature ids of %j', (text, ids) => {
    expect(Array.from(featurize(text, WORDS_ONLY).ids)).toEqual(ids);
  });

  it('pins character n-gram ids', () => {
    expect(Array.from(featurize('great', V2).ids)).toEqual([247521, 14903, 134713, 249898, 417173, 19532, 378821, 324970, 309522, 269361, 90472, 69200, 473430, 365800, 229769, 119834, 374100]);
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

describe('featurizer version 3', () => {
  const V3: FeaturizerConfig = { ...DEFAULT_FEATURIZER_CONFIG, version: 3 };
  const ids = (text: string): Set<number> => new Set(featurize(text, V3).ids);
  const shared = (a: string, b: string): number => [...ids(a)].filter((x) => ids(b).has(x)).length;

  it('pins feature ids (a change here needs a new featurizer version)', () => {
    expect(Array.from(featurize('not bad 😂', { ...V3, char_ngrams: null }).ids)).toMatchSnapshot();
  });

  it('negates only sentiment words: a negated neutral fact shares every word feature with its plain form', () => {
    const plain = featurize('I own a PS5', { ...V3, char_ngrams: null });
    const negated = featurize("I don't own a PS5", { ...V3, char_ngrams: null });
    const neg = new Set(negated.ids);
    // Every plain unigram and most bigrams survive; only "dont" and its bigrams are new.
    expect(Array.from(plain.ids).filter((id) => !neg.has(id)).length).toBeLessThanOrEqual(2);
    // A negated sentiment word loses its plain unigram and character n-grams.
    expect(shared('good', 'not good')).toBeLessThan(shared('good', 'really good'));
  });

  it('gives emoji-only text features beyond the bare emoji (ranking class, emoji-only flag)', () => {
    expect(featurize('😂', V3).ids.length).toBeGreaterThan(featurize('😂', V2).ids.length);
    expect(featurize('😡', V3).ids).not.toEqual(featurize('🙂', V3).ids);
  });

  it('is unchanged by a leading @handle', () => {
    expect(featurize('@someone_42 this slaps', V3)).toEqual(featurize('this slaps', V3));
  });

  it('gives an intensifier no features of its own: it only adds context to the word it scales', () => {
    // "super" is +3 in AFINN; as an intensifier it must not pull "annoying" toward positive.
    const a = ids('annoying intro');
    const b = ids('super annoying intro');
    expect([...a].filter((id) => !b.has(id))).toEqual([]);
    expect(featurize('super', V3).ids).toEqual(featurize('so', V3).ids);
  });
});

describe('featurizer version 4', () => {
  const V4: FeaturizerConfig = { ...DEFAULT_FEATURIZER_CONFIG, version: 4 };
  const V3: FeaturizerConfig = { ...V4, version: 3 };

  it('gives a misspelled sentiment word the features of the word', () => {
    expect(featurize('Such a whoelsome channel', V4)).toEqual(featurize('Such a wholesome channel', V4));
    expect(featurize('I htae the new format', V4)).toEqual(featurize('I hate the new format', V4));
    // Version 3 (model 2.0.0 as first released) is unchanged: the typo keeps its own features.
    expect(featurize('Such a whoelsome channel', V3)).not.toEqual(featurize('Such a wholesome channel', V3));
  });

  it('reads the slang added with it; version 3 does not', () => {
    expect(featurize('that beat is bussin', V4).ids.length).toBeGreaterThan(featurize('that beat is bussin', V3).ids.length);
  });

  it('equals version 3 on text without typos or the new intensifiers', () => {
    for (const t of ['not bad 😂', 'I used to love this channel but now it is lazy', 'accha nahi hai', 'Muy buena la canción']) {
      expect(featurize(t, V4)).toEqual(featurize(t, V3));
    }
  });
});

/** How many feature ids two texts share under a configuration. */
const shared = (a: string, b: string, config: FeaturizerConfig): number => {
  const other = new Set(featurize(b, config).ids);
  return Array.from(featurize(a, config).ids).filter((id) => other.has(id)).length;
};

describe('featurizer version 5', () => {
  const V5: FeaturizerConfig = { ...DEFAULT_FEATURIZER_CONFIG, version: 5 };
  const V4: FeaturizerConfig = { ...V5, version: 4 };

  it('reads the romanized Hindi added with it; version 4 does not', () => {
    // "lajawab" and "ghatiya"-like spellings get the lexicon class of their valence ...
    expect(featurize('lajawab performance', V5).ids.length).toBeGreaterThan(featurize('lajawab performance', V4).ids.length);
    // ... the same class features as an English word of that valence has.
    expect(shared('lajawab', 'brilliant', V5)).toBeGreaterThan(shared('lajawab', 'brilliant', V4));
    expect(shared('bakvas', 'bakwas', V5)).toBeGreaterThan(shared('bakvas', 'bakwas', V4));
  });

  it('reads romanized Hindi intensifiers as intensifiers: no features of their own', () => {
    expect(featurize('bhot', V5).ids).toEqual(featurize('so', V5).ids);
    expect(featurize('bhot', V4).ids).not.toEqual(featurize('so', V4).ids);
    expect(featurize('ekdum bakwas', V5)).not.toEqual(featurize('bakwas', V5));
  });

  it('equals version 4 on text without the new words', () => {
    for (const t of ['not bad 😂', 'Such a whoelsome channel', 'accha nahi hai', 'bahut badhiya', 'Muy buena la canción', 'that beat is bussin']) {
      expect(featurize(t, V5), t).toEqual(featurize(t, V4));
    }
  });
});

describe('featurizer version 6', () => {
  const V6: FeaturizerConfig = { ...DEFAULT_FEATURIZER_CONFIG, version: 6 };
  const V5: FeaturizerConfig = { ...V6, version: 5 };

  it('gives emoji the valence class of their use in comments', () => {
    // 🔥: praise under a video (the ranking's 2015 tweets: 61% neutral, class +1). It now shares
    // 😍's lexicon class features (class +3), which it did not.
    expect(shared('🔥', '😍', V6)).toBeGreaterThan(shared('🔥', '😍', V5));
    // 💀: "I'm dead", laughing (+1; the ranking's tweets made it -1). It now shares 😂's class (+1).
    expect(shared('💀', '😂', V6)).toBeGreaterThan(shared('💀', '😂', V5));
    // 🤡 had no class (its keywords carry no valence); now mockery, like 😒.
    expect(shared('🤡', '😒', V6)).toBeGreaterThan(shared('🤡', '😒', V5));
    // A gendered sequence takes its base's comment use: 🤷‍♂️ is no longer a complaint.
    expect(featurize('🤷‍♂️', V6).ids.length).toBeLessThan(featurize('🤷‍♂️', V5).ids.length);
  });

  it('reads "haters gonna hate" as one idiom', () => {
    expect(featurize('haters gonna hate, this slaps', V6)).not.toEqual(featurize('haters gonna hate, this slaps', V5));
    expect(shared('haters gonna hate', 'i hate it', V6)).toBeLessThan(shared('haters gonna hate', 'i hate it', V5));
  });

  it('equals version 5 on text without the re-classed emoji or the new idiom', () => {
    for (const t of ['not bad 😂', 'Such a whoelsome channel', 'bahut badhiya ❤️', 'Muy buena la canción 👍', 'that beat is bussin', 'i hate haters 😡']) {
      expect(featurize(t, V6), t).toEqual(featurize(t, V5));
    }
  });
});

describe('featurizer version 7', () => {
  const V7: FeaturizerConfig = { ...DEFAULT_FEATURIZER_CONFIG, version: 7 };
  const V6: FeaturizerConfig = { ...V7, version: 6 };

  it('does not negate what follows a negation word that does not negate', () => {
    // Version 6 read "good" after "can't" as a negated sentiment word, like "not good".
    expect(shared("i can't believe how good this is", 'not good', V6)).toBeGreaterThan(shared("i can't believe how good this is", 'not good', V7));
    expect(shared("i can't believe how good this is", 'so good', V7)).toBeGreaterThan(shared("i can't believe how good this is", 'so good', V6));
    // "doesn't work" is one complaint token, which shares the negative class features of "useless".
    expect(shared("doesn't work", 'useless', V7)).toBeGreaterThan(shared("doesn't work", 'useless', V6));
  });

  it('equals version 6 on text without the new idioms', () => {
    for (const t of ['not good 😂', "I don't own a PS5", 'can not', 'bahut badhiya ❤️', 'haters gonna hate 🔥', "I don't work here"]) {
      expect(featurize(t, V7), t).toEqual(featurize(t, V6));
    }
  });
});

describe('featurizer version 8', () => {
  const V8 = DEFAULT_FEATURIZER_CONFIG;
  const V7: FeaturizerConfig = { ...V8, version: 7 };

  it('is the default', () => {
    expect(V8.version).toBe(8);
  });

  it('gives inflected forms of the translated words the lexicon class features of their base form', () => {
    // Version 7 knew "schön" and "bueno" (class +3) but not "schöne" or "buena": no lexicon feature at all.
    for (const [form, base] of [
      ['schöne grüße', 'schön'],
      ['una buena canción', 'bueno'],
      ['una canzone fantastica', 'fantastico'],
    ] as const) {
      expect(shared(form, base, V8), form).toBeGreaterThan(shared(form, base, V7));
    }
  });

  it('equals version 7 on text without the added forms', () => {
    for (const t of ['not good 😂', "I can't believe how good this is", 'bahut badhiya ❤️', 'muy bueno', 'sehr gut', 'c’est génial', 'sure, use the place note']) {
      expect(featurize(t, V8), t).toEqual(featurize(t, V7));
    }
  });
});

import { describe, expect, it } from 'vitest';
import { Mark, normalize, TokenKind, type NormalizerVersion } from '../../core/normalize.js';

const tokens = (text: string, version: NormalizerVersion = 1): string[] => {
  const n = normalize(text, version);
  return n.tokens.map((t, i) => (n.negated[i] ? `${t}_NEG` : t));
};

describe('normalize', () => {
  it('replaces URLs, handles, emails, numbers and video time stamps with fixed tokens', () => {
    expect(tokens('@Some_Handle see https://youtu.be/x?t=1 or youtube.com/watch, mail a.b@x.org, at 2:35 and 1:02:03, 42 likes')).toEqual([
      '<user>',
      'see',
      '<url>',
      'or',
      '<url>',
      ',',
      'mail',
      '<email>',
      ',',
      'at',
      '<time>',
      'and',
      '<time>',
      ',',
      '<num>',
      'likes',
    ]);
  });

  it("maps the scrubber's replacements to the same tokens as what they replaced", () => {
    expect(tokens('[email] [url] [phone] @user')).toEqual(['<email>', '<url>', '<num>', '<user>']);
  });

  it('keeps emojis (without skin tone or variation selectors) and classifies emoticons', () => {
    const n = normalize('love it 😍👍🏽 ❤️ :) :-( xD <3 </3 ;) :P', 1);
    expect(n.tokens).toEqual(['love', 'it', '😍', '👍', '❤', '<emo_smile>', '<emo_sad>', '<emo_laugh>', '<emo_heart>', '<emo_brokenheart>', '<emo_wink>', '<emo_tongue>']);
    expect(n.kinds.slice(2, 5)).toEqual([TokenKind.Emoji, TokenKind.Emoji, TokenKind.Emoji]);
  });

  it('does not read emoticons inside words or lists', () => {
    expect(tokens('(item 8) xDrive')).toEqual(['item', '<num>', 'xdrive']);
  });

  it('lowercases, squashes elongations and flags them and capitals', () => {
    const n = normalize('SOOOO goooood!!!!');
    expect(n.tokens).toEqual(['soo', 'good', '!!']);
    expect(n.elongated).toBe(true);
    expect(n.allCaps).toBe(true);
    expect(normalize('ok I am fine').allCaps).toBe(false);
  });

  it('removes apostrophes so "don\'t", "don’t" and "dont" are one word', () => {
    expect(normalize("don't").tokens).toEqual(['dont']);
    expect(normalize('don’t').tokens).toEqual(['dont']);
    expect(normalize('dont').tokens).toEqual(['dont']);
  });

  it('marks a negation scope of three words that punctuation and "but" close', () => {
    expect(tokens("I don't like it at all")).toEqual(['i', 'dont', 'like_NEG', 'it_NEG', 'at_NEG', 'all']);
    expect(tokens('not good, great')).toEqual(['not', 'good_NEG', ',', 'great']);
    expect(tokens('not bad but awful')).toEqual(['not', 'bad_NEG', 'but', 'awful']);
  });

  it('applies Unicode NFKC (full-width and styled letters become plain)', () => {
    expect(normalize('ＧＲＥＡＴ ﬁne').tokens).toEqual(['great', 'fine']);
  });

  it('handles empty and whitespace-only input', () => {
    expect(normalize('').tokens).toEqual([]);
    expect(normalize('   \n').tokens).toEqual([]);
  });
});

describe('normalize, version 2 (model 2.0.0)', () => {
  it('keeps ZWJ sequences and flags as one emoji, folding skin tones and variation selectors', () => {
    expect(normalize('👨‍🍳 ❤️‍🔥 👍🏽 🇧🇷 😂😂').tokens).toEqual(['👨\u200d🍳', '❤\u200d🔥', '👍', '🇧🇷', '😂', '😂']);
    expect(normalize('👨‍🍳', 1).tokens).toEqual(['👨', '🍳']);
  });

  it('drops @handles, so a reply scores like the same text without the handle', () => {
    expect(tokens('@Some_Handle great point', 2)).toEqual(['great', 'point']);
    expect(tokens('@user-xy9k2 great point', 2)).toEqual(['great', 'point']);
    expect(tokens('@Some_Handle great point', 1)).toEqual(['<user>', 'great', 'point']);
  });

  it('marks the clauses around the last contrast word, "used to" and intensifiers', () => {
    const n = normalize('I used to love your videos but this one is super lazy');
    const mark = (word: string): number => n.marks[n.tokens.indexOf(word)]!;
    expect(mark('love') & Mark.Past).toBeTruthy();
    expect(mark('love') & Mark.BeforeContrast).toBeTruthy();
    expect(mark('lazy') & Mark.AfterContrast).toBeTruthy();
    expect(mark('lazy') & Mark.Intensified).toBeTruthy();
    expect(mark('super') & Mark.Intensifier).toBeTruthy();
    expect(mark('but') & (Mark.AfterContrast | Mark.BeforeContrast)).toBe(0);
    // A trailing "though" concedes; it opens no clause.
    expect(normalize('good video though').marks.every((m) => m === 0)).toBe(true);
  });

  it('has no marks in version 1', () => {
    expect(normalize('not good but super fine', 1).marks.every((m) => m === 0)).toBe(true);
  });
});

describe('normalize, version 3', () => {
  it('repairs one swapped or dropped letter in an English sentiment word', () => {
    expect(tokens('Such a whoelsome channel', 3)).toEqual(['such', 'a', 'wholesome', 'channel']);
    expect(tokens('Awufl take, completely worng', 3)).toEqual(['awful', 'take', ',', 'completely', 'wrong']);
    expect(tokens('so boirng', 3)).toEqual(['so', 'boring']);
    expect(tokens('a masterpice', 3)).toEqual(['a', 'masterpiece']);
    expect(tokens('Such a whoelsome channel', 2)).toContain('whoelsome');
  });

  it('leaves real words, common spellings and non-sentiment words alone', () => {
    // "bets" and "veil" are one swap from "best" and "evil" but are words people write.
    expect(tokens('I bet he bets on the veil', 3)).toEqual(['i', 'bet', 'he', 'bets', 'on', 'the', 'veil']);
    // "awsome" is common enough in comments to be learned as itself.
    expect(tokens('awsome vidoe', 3)).toEqual(['awsome', 'vidoe']);
    expect(tokens('god is good', 3)).toEqual(['god', 'is', 'good']);
  });

  it('reads comment idioms as one token, so "no crumbs" negates nothing', () => {
    expect(tokens('bro fell off', 3)).toEqual(['bro', 'fell_off']);
    expect(tokens('ate and left no crumbs, great', 3)).toEqual(['ate', 'and', 'left', 'no_crumbs', ',', 'great']);
    expect(tokens('this aged like milk', 3)).toEqual(['this', 'aged_like_milk']);
    // Only whole idioms, and not in older versions.
    expect(tokens('he fell down', 3)).toEqual(['he', 'fell', 'down']);
    expect(tokens('bro fell off', 2)).toEqual(['bro', 'fell', 'off']);
  });

  it('marks the new intensifiers, whatever their length', () => {
    const n = normalize('criminally underrated and ridiculously good', 3);
    expect(n.marks[n.tokens.indexOf('underrated')]! & Mark.Intensified).toBeTruthy();
    expect(n.marks[n.tokens.indexOf('good')]! & Mark.Intensified).toBeTruthy();
    const v2 = normalize('ridiculously good', 2);
    expect(v2.marks[v2.tokens.indexOf('good')]! & Mark.Intensified).toBe(0);
  });
});

describe('normalize, version 4', () => {
  it('gives romanized Hindi sentiment words their valence in their common spellings', () => {
    const n = normalize('ekdam bakvas, lajawab aur acchi', 4);
    expect(n.valences[n.tokens.indexOf('bakvas')]).toBeLessThan(0);
    expect(n.valences[n.tokens.indexOf('lajawab')]).toBeGreaterThan(0);
    expect(n.valences[n.tokens.indexOf('acchi')]).toBeGreaterThan(0);
    expect(normalize('ekdam bakvas, lajawab aur acchi', 3).valences.every((v) => v === 0)).toBe(true);
  });

  it('reads a Hindi word version 3 took for a typo as the Hindi word itself', () => {
    // "ghatia" is one letter from "ghatiya": version 3 repaired it; version 4 knows it.
    expect(tokens('ghatia video', 3)).toEqual(['ghatiya', 'video']);
    expect(tokens('ghatia video', 4)).toEqual(['ghatia', 'video']);
    expect(normalize('ghatia video', 4).valences[0]).toBe(normalize('ghatiya video', 4).valences[0]);
  });

  it('marks what a romanized Hindi intensifier scales, and "nahi" still negates the words before it', () => {
    const n = normalize('ekdum mast video, bhot accha nahi laga', 4);
    expect(n.marks[n.tokens.indexOf('mast')]! & Mark.Intensified).toBeTruthy();
    expect(n.marks[n.tokens.indexOf('accha')]! & Mark.Intensified).toBeTruthy();
    expect(n.marks[n.tokens.indexOf('accha')]! & Mark.Negated).toBeTruthy();
    const v3 = normalize('ekdum mast video', 3);
    expect(v3.marks[v3.tokens.indexOf('mast')]! & Mark.Intensified).toBe(0);
  });

  it('tokenizes everything else as version 3 does', () => {
    for (const t of ['Such a whoelsome channel', 'bro fell off 😂', 'accha nahi hai', 'Muy buena la canción @someone']) {
      expect(normalize(t, 4)).toEqual(normalize(t, 3));
    }
  });
});

describe('normalize, version 5', () => {
  it('reads "haters gonna hate" as one idiom with its own valence, not as two kinds of hate', () => {
    const n = normalize('haters gonna hate, this slaps', 5);
    expect(n.tokens).toEqual(['haters_gonna_hate', ',', 'this', 'slaps']);
    expect(n.valences[0]).toBeGreaterThan(0);
    expect(tokens('haters gonna hate, this slaps', 4)).toEqual(['haters', 'gonna', 'hate', ',', 'this', 'slaps']);
    // Only the whole idiom: hate is still hate.
    expect(tokens('haters gonna complain', 5)).toEqual(['haters', 'gonna', 'complain']);
    expect(normalize('i hate haters', 5).valences.filter((v) => v < 0)).toHaveLength(2);
  });

  it('drops "at all", which only emphasizes a negation, unless a determiner follows', () => {
    expect(tokens('not bad at all', 5)).toEqual(['not', 'bad_NEG']);
    expect(tokens("doesn't work at all.", 5)).toEqual(['doesnt', 'work_NEG', '.']);
    expect(tokens('Not at all what I expected', 5)).toEqual(['not', 'what_NEG', 'i_NEG', 'expected_NEG']);
    // A preposition and a quantifier: "look at all the views" keeps its words.
    expect(tokens('look at all the views', 5)).toEqual(['look', 'at', 'all', 'the', 'views']);
    expect(tokens('that is all', 5)).toEqual(['that', 'is', 'all']);
    // Older versions keep the words.
    expect(tokens('not bad at all', 4)).toEqual(['not', 'bad_NEG', 'at_NEG', 'all_NEG']);
  });

  it("keeps normalizer 3's idioms and tokenizes everything else as version 4 does", () => {
    expect(tokens('bro fell off', 5)).toEqual(['bro', 'fell_off']);
    for (const t of ['Such a whoelsome channel', 'bro fell off 😂', 'ekdum mast video, bhot accha nahi laga', 'Muy buena la canción @someone', 'no cap this is fire 🔥']) {
      expect(normalize(t, 5), t).toEqual(normalize(t, 4));
    }
  });
});

describe('normalize, version 6', () => {
  it('joins negation words that do not negate into one token, so what follows keeps its polarity', () => {
    const n = normalize("I can't believe how good this is", 6);
    expect(tokens("I can't believe how good this is", 6)).toEqual(['i', 'cant_believe', 'how', 'good', 'this', 'is']);
    expect(n.valences[n.tokens.indexOf('cant_believe')]).toBe(0);
    expect(n.valences[n.tokens.indexOf('good')]).toBeGreaterThan(0);
    expect(tokens('no doubt the best channel', 6)).toEqual(['no_doubt', 'the', 'best', 'channel']);
    // Version 5 negated "good" and "best".
    expect(tokens("I can't believe how good this is", 5)).toContain('good_NEG');
    expect(tokens('no doubt the best channel', 5)).toContain('best_NEG');
  });

  it('reads praise and complaints built on a negation as one idiom with a valence', () => {
    for (const [text, token, sign] of [
      ["can't stop watching", 'cant_stop_watching', 1],
      ['Cannot get enough!!', 'cannot_get_enough', 1],
      ['second to none', 'second_to_none', 1],
      ['not too bad', 'not_too_bad', 1],
      ["doesn't work at all", 'doesnt_work', -1],
      ['this does not work', 'does_not_work', -1],
      ['makes no sense', 'makes_no_sense', -1],
      ["can't stand him", 'cant_stand', -1],
    ] as const) {
      const n = normalize(text, 6);
      const i = n.tokens.indexOf(token);
      expect(i, text).toBeGreaterThanOrEqual(0);
      expect(Math.sign(n.valences[i]!), text).toBe(sign);
      expect(n.negated.some(Boolean), text).toBe(false);
    }
  });

  it('leaves a negation that does negate as version 5 reads it', () => {
    // "don't work" is left out: "I don't work here" is a neutral fact.
    for (const t of ["I don't work here", "I don't own a PS5", 'not good', "can't stop crying", 'this is not what I expected', 'look at all the views', 'haters gonna hate, this slaps']) {
      expect(normalize(t, 6), t).toEqual(normalize(t, 5));
    }
  });
});

describe('normalize, version 7', () => {
  const valenceOf = (text: string, word: string, version: NormalizerVersion): number => {
    const n = normalize(text, version);
    return n.valences[n.tokens.indexOf(word)]!;
  };

  it("gives inflected forms of the translated lexicons' words their base form's valence", () => {
    for (const [text, form, base] of [
      ['schöne grüße aus berlin', 'schöne', 'schön'],
      ['einen guten tag', 'guten', 'gut'],
      ['una buena canción', 'buena', 'bueno'],
      ['os vídeos são lindos', 'lindos', 'lindo'],
      ['canzoni bellissime', 'bellissime', 'bellissimo'],
      ['une chanson heureuse', 'heureuse', 'heureux'],
    ] as const) {
      expect(valenceOf(text, form, 6), `${form}: no valence before`).toBe(0);
      expect(valenceOf(text, form, 7), form).toBe(valenceOf(base, base, 7));
    }
  });

  it('gives no English word or function word a foreign valence', () => {
    // Forms the rules generate that are English words ("use", "done", "place") or function words
    // of the supported languages ("nos" from es "no", "mais" from pt "mal") are left out by the build.
    for (const w of ['use', 'done', 'place', 'note', 'sure', 'mine', 'nos', 'mais', 'schon', 'sur', 'perro']) {
      expect(valenceOf(w, w, 7), w).toBe(valenceOf(w, w, 6));
    }
  });

  it('reads a negated or intensified inflected form as it reads the base form', () => {
    const n = normalize('nicht gute, aber sehr schöne lieder', 7);
    expect(n.valences[n.tokens.indexOf('schöne')]).toBeGreaterThan(0);
    expect(tokens('das ist keine gute idee', 7)).toContain('idee');
    expect(normalize('muy buena', 7).marks.some(Boolean)).toBe(true);
  });
});

/**
 * Language identification (core/langid.ts): the script step on its own, the Latin-script classifier
 * on a tiny hand-made table, the int8 file format, and the released 2.0.0 bundle end to end.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { classifyLatin, decodeLangId, encodeLangId, languageName, scriptGuess, type LangIdModel } from '../../core/langid.js';
import { averageModels } from '../../training/softmax.js';
import { shortSpans, trainClassifier } from '../../training/stages/langid.js';
import { createNodeScorer, MODELS_DIR } from '../../node-runtime/bundle.js';

describe('script step', () => {
  it.each([
    ['Лучший канал, очень нравится', 'ru', false],
    ['Найкращий канал, дуже дякую і їм', 'uk', false],
    ['この動画は最高です', 'ja', false],
    ['这个视频太棒了', 'zh', false],
    ['이 영상 정말 좋아요', 'ko', false],
    ['วิดีโอนี้ดีมาก', 'th', false],
    ['यह वीडियो बहुत अच्छा है', 'hi', false],
    ['Αυτό το βίντεο είναι υπέροχο', 'el', false],
    ['הסרטון הזה מעולה', 'he', false],
    ['هذا الفيديو رائع جدا', 'ar', true],
    ['این ویدیو خیلی خوب است', 'fa', false],
    ['یہ ویڈیو بہت اچھی ہے', 'ur', false],
    ['இந்த வீடியோ அருமை', 'ta', false],
  ])('%s → %s (supported %s)', (text, lang, supported) => {
    expect(scriptGuess(text)).toEqual({ lang, supported });
  });

  it('calls letterless text "und" and supported (emoji carry sentiment in any language)', () => {
    expect(scriptGuess('😂😂😂')).toEqual({ lang: 'und', supported: true });
    expect(scriptGuess('12:34 !!! 👍🏽')).toEqual({ lang: 'und', supported: true });
    // Emoji with a variation selector (U+FE0F) and a byte-order mark are no letters either: they
    // sit between Arabic's two presentation-form blocks, and once counted as Arabic.
    expect(scriptGuess('❤️')).toEqual({ lang: 'und', supported: true });
    expect(scriptGuess('\ufeff❤️❤️❤️ ☺️')).toEqual({ lang: 'und', supported: true });
    expect(scriptGuess('❤️❤️❤️❤️ so good')).toBeNull();
    // The presentation forms themselves are still Arabic ("ﻣﺮﺣﺒﺎ": forms B; "ﷺ": forms A).
    expect(scriptGuess('\ufee3\ufeae\ufea3\ufe92\ufe8e ﷺ')).toEqual({ lang: 'ar', supported: true });
  });

  it('leaves Latin-script and code-mixed text to the classifier', () => {
    expect(scriptGuess('great video')).toBeNull();
    expect(scriptGuess('great video Спасибо')).toBeNull(); // Latin holds ≥ 40% of the letters
  });

  it('refuses Latin-script text whose letters include enough that no supported language writes', () => {
    for (const text of [
      'bu şarkı bitmesin', // Turkish
      'świetny materiał', // Polish
      'nejlepší písnička', // Czech
      'mulțumesc frumos', // Romanian
      'cảm ơn bạn nhiều', // Vietnamese
      'MUHTEŞEM !!!!!!!!',
    ]) {
      expect(scriptGuess(text), text).toEqual({ lang: 'und', supported: false });
    }
    // Every letter of the supported languages passes to the classifier, capitals and ligatures too.
    for (const text of ['Schöne Grüße, danke für das Video', 'ÇA ÉTAIT GÉNIAL, cœur ❤️', 'qué buen vídeo, año ñoño', 'però è così', 'não acredito, que ótimo', 'Œuvre, Ÿ, ẞ']) {
      expect(scriptGuess(text), text).toBeNull();
    }
  });

  it('does not refuse an English comment for a name in it or an @handle', () => {
    // Under 5% of the Latin letters: a name in a longer English comment.
    expect(scriptGuess('Getsuga Tenshō, you mean the move from the anime? That scene was great')).toBeNull();
    expect(scriptGuess('Dvořák would have loved this arrangement, beautiful work from everyone')).toBeNull();
    // Letters of an @handle are not counted at all.
    expect(scriptGuess('@Łukasz_Żółć thanks!')).toBeNull();
    expect(scriptGuess('@ŞahinÖzdemir same here')).toBeNull();
  });

  it('names languages for the UI', () => {
    expect(languageName('ru')).toBe('Russian');
    expect(languageName('und')).toBe('Unknown language');
  });
});

describe('Latin-script classifier with the shipped shape (8 labels, unrolled sums)', () => {
  it('picks the label a plain dot product picks, for random tables and rows', () => {
    let seed = 7;
    const rand = (): number => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32) * 2 - 1;
    const labels = ['en', 'de', 'es', 'fr', 'hi', 'it', 'pt', 'other'];
    for (let trial = 0; trial < 50; trial++) {
      const buckets = 16;
      const weights = Float32Array.from({ length: buckets * 8 }, () => rand() * 4);
      const model: LangIdModel = { labels, buckets, weights, bias: new Float32Array(8), other_threshold: 2 };
      const ids = Array.from({ length: 12 }, () => Math.floor(Math.abs(rand()) * 1000));
      const values = ids.map(() => Math.abs(rand()));
      const sums = labels.map((_, k) => ids.reduce((a, id, j) => a + values[j]! * weights[(id & (buckets - 1)) * 8 + k]!, 0));
      const best = sums.slice(0, 7).indexOf(Math.max(...sums.slice(0, 7)));
      expect(classifyLatin(model, ids, values, 0, ids.length, new Float64Array(8)).lang).toBe(labels[best]);
    }
  });
});

describe('Latin-script classifier', () => {
  // Two buckets, three labels: bucket 0 votes "en", bucket 1 votes "other".
  const model: LangIdModel = {
    labels: ['en', 'de', 'other'],
    buckets: 2,
    weights: Float32Array.from([5, 0, 0, 0, 0, 5]),
    bias: Float32Array.from([0, 0, 0]),
    other_threshold: 0.6,
  };
  const scratch = new Float64Array(3);

  it('picks the best supported language and folds feature ids into the table', () => {
    expect(classifyLatin(model, [0, 2, 4], [0.5, 0.5, 0.5], 0, 3, scratch)).toEqual({ lang: 'en', supported: true });
  });

  it('calls a text unsupported only when "other" reaches its threshold', () => {
    expect(classifyLatin(model, [1], [1], 0, 1, scratch)).toEqual({ lang: 'und', supported: false });
    // A weak "other" vote stays supported (short English comments must not be refused).
    expect(classifyLatin(model, [1], [0.1], 0, 1, scratch).supported).toBe(true);
  });

  it('applies the deployment prior only among supported languages, never to the "other" decision', () => {
    // Bucket 0 leans German; a +3 log-odds English prior flips the choice to English.
    const leaning: LangIdModel = { ...model, weights: Float32Array.from([1, 2, 0, 0, 0, 5]) };
    expect(classifyLatin(leaning, [0], [1], 0, 1, scratch).lang).toBe('de');
    expect(classifyLatin({ ...leaning, prior: [3, 0, 0] }, [0], [1], 0, 1, scratch).lang).toBe('en');
    expect(classifyLatin({ ...model, prior: [10, 0, 0] }, [1], [1], 0, 1, scratch)).toEqual({ lang: 'und', supported: false });
  });

  it('round-trips through the int8 file format and rejects a file of the wrong size', () => {
    const { bytes, scales } = encodeLangId(model.weights as Float32Array, 3);
    const meta = { labels: model.labels, buckets: 2, scales, bias: [0, 0, 0], other_threshold: 0.6 };
    const decoded = decodeLangId(bytes, meta);
    for (let i = 0; i < 6; i++) expect(decoded.weights[i]! * decoded.scales![i % 3]!).toBeCloseTo(model.weights[i]!, 1);
    const scratch3 = new Float64Array(3);
    expect(classifyLatin(decoded, [1], [1], 0, 1, scratch3)).toEqual(classifyLatin(model, [1], [1], 0, 1, scratch3));
    expect(() => decodeLangId(bytes.subarray(0, 5), meta)).toThrow(/expected 6/);
  });
});

const v2 = join(MODELS_DIR, '2.0.0');
describe.skipIf(!existsSync(join(v2, 'manifest.json')))('model 2.0.0 languages', () => {
  it('identifies the supported languages and refuses others', async () => {
    const scorer = await createNodeScorer(v2);
    const texts = [
      'This is the best tutorial on the topic, thank you so much',
      'Das ist wirklich ein tolles Video, danke dafür',
      'Me encanta este canal, siempre aprendo algo nuevo',
      "C'est vraiment une super vidéo, merci beaucoup",
      'Questo video è fantastico, grazie mille',
      'Esse vídeo é muito bom, obrigado pelo conteúdo',
      'Bhai ye video bahut accha hai, maza aa gaya',
      'هذا الفيديو رائع جدا',
      'Лучший канал, очень нравится',
      '😂😂😂',
    ];
    const got = (await scorer.predict(texts)).map((p) => [p.lang, p.supported]);
    expect(got).toEqual([
      ['en', true],
      ['de', true],
      ['es', true],
      ['fr', true],
      ['it', true],
      ['pt', true],
      ['hi', true],
      ['ar', true],
      ['ru', false],
      ['und', true],
    ]);
    await scorer.release();
  });

  it('refuses text in a Latin-script language it does not support', async () => {
    const scorer = await createNodeScorer(v2);
    const texts = [
      'Dit is echt een geweldige video, bedankt voor het delen met ons allemaal',
      'To jest naprawdę świetny film, dziękuję bardzo za wszystko co robisz',
      'Bu gerçekten harika bir video, paylaştığın için çok teşekkür ederim',
      'Ini benar-benar video yang bagus, terima kasih sudah berbagi dengan kami',
    ];
    const refused = (await scorer.predict(texts)).filter((p) => !p.supported).length;
    expect(refused).toBeGreaterThanOrEqual(3);
    await scorer.release();
  });
});

describe('training the Latin-script classifier (training/stages/langid.ts)', () => {
  // Eight classes, a few rows each with two features: enough for seeds to give different weights.
  const rows = Array.from({ length: 64 }, (_, i) => ({ ids: Int32Array.of(i % 16, 16 + (i % 5)), values: Float32Array.of(0.8, 0.6) }));
  const labels = Uint8Array.from(rows, (_, i) => i % 8);
  const weights = rows.map(() => 1);
  const cfg = { buckets: 32, epochs: 2, learning_rate: 0.2, l2: 1e-7 };

  it('averages the weights of langid.seeds runs with consecutive seeds', () => {
    const one = trainClassifier(rows, labels, weights, { ...cfg, seeds: 1 }, 7);
    const next = trainClassifier(rows, labels, weights, { ...cfg, seeds: 1 }, 8);
    const both = trainClassifier(rows, labels, weights, { ...cfg, seeds: 2 }, 7);
    expect(Array.from(one.weights)).not.toEqual(Array.from(next.weights));
    expect(Array.from(both.weights)).toEqual(Array.from(averageModels([one, next]).weights));
    expect(Array.from(both.bias)).toEqual(Array.from(averageModels([one, next]).bias));
    // One seed is one run, as before the option existed.
    expect(Array.from(one.weights)).toEqual(Array.from(trainClassifier(rows, labels, weights, { ...cfg, seeds: 1 }, 7).weights));
  });
});

describe('short spans of training texts (training/stages/langid.ts shortSpans)', () => {
  const texts = ['RT @user: merci beaucoup pour cette vidéo https://t.co/x', 'muito bom mesmo', '😂 !!', 'a'];

  it('cuts 1 to max_words consecutive words of a text, without handles, links or RT', () => {
    const spans = shortSpans(texts, 400, 3, 11);
    // Two of the four texts never give a span: about half of the 400 tries do.
    expect(spans.length).toBeGreaterThan(150);
    expect(spans.length).toBeLessThan(250);
    const sources = texts.map((t) =>
      t
        .split(/\s+/)
        .filter((w) => !w.startsWith('@') && !w.startsWith('http') && w !== 'RT')
        .join(' '),
    );
    for (const span of spans) {
      const words = span.split(' ');
      expect(words.length).toBeGreaterThanOrEqual(1);
      expect(words.length).toBeLessThanOrEqual(3);
      expect(
        sources.some((s) => ` ${s} `.includes(` ${span} `)),
        span,
      ).toBe(true);
      expect(span).not.toMatch(/@|http|RT/);
    }
    // Every length up to max_words occurs; spans of fewer than two letters ("a", "😂 !!") are dropped.
    expect(new Set(spans.map((s) => s.split(' ').length))).toEqual(new Set([1, 2, 3]));
    expect(spans).not.toContain('a');
    expect(spans.some((s) => s.includes('😂'))).toBe(false);
  });

  it('is seeded: the same seed gives the same spans, another seed others', () => {
    expect(shortSpans(texts, 50, 4, 3)).toEqual(shortSpans(texts, 50, 4, 3));
    expect(shortSpans(texts, 50, 4, 3)).not.toEqual(shortSpans(texts, 50, 4, 4));
    expect(shortSpans([], 50, 4, 3)).toEqual([]);
  });
});

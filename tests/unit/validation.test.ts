/** Selection objective, per-language scores and calibration (training/validation.ts) on known answers. */
import { describe, expect, it } from 'vitest';
import { rng } from '../../training/softmax.js';
import { applyWaivers, evaluateGates, type GateResult } from '../../training/stages/evaluate.js';
import { calibrate, likelihoodRatioMin, type ValidationSet } from '../../training/stages/train.js';
import { bootstrapInterval, expectedCalibrationError, fitTemperature, lowConfidenceThreshold, macroOfConfusion, objectiveValue, scoreSplit, softmaxRows } from '../../training/validation.js';

describe('scores and objective', () => {
  it('averages per-language macro-F1 when rows carry a language', () => {
    const gold = Uint8Array.from([0, 1, 2, 0, 1, 2]);
    const pred = Uint8Array.from([0, 1, 2, 1, 1, 1]);
    const s = scoreSplit(gold, pred, ['de', 'de', 'de', 'fr', 'fr', 'fr']);
    expect(s.by_lang!.de!.macro_f1).toBe(1);
    expect(s.by_lang!.fr!.macro_f1).toBeCloseTo((0 + 0.5 + 0) / 3);
    expect(s.macro_f1).toBeCloseTo((1 + 0.5 / 3) / 2);
  });

  it('penalizes a source below its floor more than it rewards the average', () => {
    const objective = { floors: { 'youtube_val.macro_f1': 0.7, 'goemotions_dev.macro_f1': 0.66 }, language_floors: {}, shortfall_penalty: 3 } as const;
    const balanced = objectiveValue({ youtube_val: { n: 1, accuracy: 0, macro_recall: 0, macro_f1: 0.71 }, goemotions_dev: { n: 1, accuracy: 0, macro_recall: 0, macro_f1: 0.67 } }, objective);
    const lopsided = objectiveValue({ youtube_val: { n: 1, accuracy: 0, macro_recall: 0, macro_f1: 0.8 }, goemotions_dev: { n: 1, accuracy: 0, macro_recall: 0, macro_f1: 0.62 } }, objective);
    expect(lopsided.mean).toBeGreaterThan(balanced.mean);
    expect(lopsided.value).toBeLessThan(balanced.value);
    expect(lopsided.shortfall).toBeCloseTo(0.04);
  });

  it('penalizes a UMSAB language below its floor without counting it in the mean', () => {
    const objective = { floors: { 'umsab_val.macro_f1': 0.56 }, language_floors: { de: 0.596, hi: 0.371 }, shortfall_penalty: 3 } as const;
    const umsab = (de: number, hi: number) => ({
      umsab_val: { n: 2, accuracy: 0, macro_recall: 0, macro_f1: 0.6, by_lang: { de: { n: 1, accuracy: 0, macro_recall: 0, macro_f1: de }, hi: { n: 1, accuracy: 0, macro_recall: 0, macro_f1: hi } } },
    });
    const above = objectiveValue(umsab(0.6, 0.4), objective);
    const belowDe = objectiveValue(umsab(0.58, 0.4), objective);
    expect(above).toEqual({ value: 0.6, mean: 0.6, shortfall: 0 });
    expect(belowDe.mean).toBe(0.6);
    expect(belowDe.shortfall).toBeCloseTo(0.016);
    expect(belowDe.value).toBeCloseTo(0.6 - 3 * 0.016);
    expect(() => objectiveValue(umsab(0.6, 0.4), { ...objective, language_floors: { pt: 0.5 } })).toThrow(/pt/);
  });
});

/** n rows, a third of each class, predicted right with probability `accuracy` (seeded). */
function noisyPredictions(n: number, accuracy: number, seed: number): { gold: Uint8Array; predicted: Uint8Array } {
  const random = rng(seed);
  const gold = Uint8Array.from({ length: n }, (_, i) => i % 3);
  const predicted = gold.map((g) => (random() < accuracy ? g : (g + 1 + Math.floor(random() * 2)) % 3));
  return { gold, predicted };
}

describe('bootstrap intervals and waivers', () => {
  it('computes macro-F1 and macro-recall from a confusion matrix', () => {
    // gold negative: 2 right, 1 as neutral; neutral: 3 right; positive: 1 right, 2 as neutral
    const conf = Float64Array.from([2, 1, 0, 0, 3, 0, 0, 2, 1]);
    expect(macroOfConfusion(conf, 'macro_recall')).toBeCloseTo((2 / 3 + 1 + 1 / 3) / 3);
    const f1 = (p: number, r: number) => (2 * p * r) / (p + r);
    expect(macroOfConfusion(conf, 'macro_f1')).toBeCloseTo((f1(1, 2 / 3) + f1(0.5, 1) + f1(1, 1 / 3)) / 3);
  });

  it('contains the metric, is reproducible by seed and narrows as the sample grows', () => {
    const small = noisyPredictions(324, 0.4, 1);
    const large = noisyPredictions(3240, 0.4, 1);
    const value = scoreSplit(small.gold, small.predicted).macro_f1;
    const [lo, hi] = bootstrapInterval([small], 'macro_f1', 500, 0.95, 9);
    expect(lo).toBeLessThan(value);
    expect(hi).toBeGreaterThan(value);
    // about ±0.05 for 324 rows at 95%
    expect(hi - lo).toBeGreaterThan(0.06);
    expect(hi - lo).toBeLessThan(0.15);
    expect(bootstrapInterval([small], 'macro_f1', 500, 0.95, 9)).toEqual([lo, hi]);
    const [llo, lhi] = bootstrapInterval([large], 'macro_f1', 500, 0.95, 9);
    expect(lhi - llo).toBeLessThan((hi - lo) / 2);
    // a perfect predictor has no spread
    expect(bootstrapInterval([{ gold: small.gold, predicted: small.gold }], 'macro_recall', 100, 0.95, 9)).toEqual([1, 1]);
  });

  it('averages units the way UMSAB averages its languages', () => {
    const good = noisyPredictions(300, 0.9, 2);
    const bad = noisyPredictions(300, 0.34, 3);
    const [lo, hi] = bootstrapInterval([good, bad], 'macro_f1', 300, 0.95, 4);
    const mean = (scoreSplit(good.gold, good.predicted).macro_f1 + scoreSplit(bad.gold, bad.predicted).macro_f1) / 2;
    expect(lo).toBeLessThan(mean);
    expect(hi).toBeGreaterThan(mean);
    expect(lo).toBeGreaterThan(0.5);
  });

  it('gives each validation gate its interval, UMSAB languages their own', () => {
    const de = noisyPredictions(324, 0.6, 5);
    const hi = noisyPredictions(324, 0.37, 6);
    const yt = noisyPredictions(900, 0.7, 7);
    const umsab = { gold: Uint8Array.from([...de.gold, ...hi.gold]), predicted: Uint8Array.from([...de.predicted, ...hi.predicted]), langs: [...Array(324).fill('de'), ...Array(324).fill('hi')] };
    const gates = evaluateGates(
      { youtube_val: yt, umsab_val: umsab },
      {
        metrics: { 'youtube_val.macro_f1': 0.7, 'umsab_val.macro_f1': 0.5 },
        umsab_language_floors: { de: 0.596, hi: 0.371 },
        langid_accuracy: 0.9,
        waived: {},
        waiver_interval: { confidence: 0.95, samples: 300 },
        parity_max_abs_diff: 0.001,
        parity_argmax_agreement: 0.999,
        model_max_bytes: 1,
      },
      0.95,
      11,
    );
    const byName = Object.fromEntries(gates.map((g) => [g.gate, g]));
    const hiScore = scoreSplit(hi.gold, hi.predicted).macro_f1;
    expect(byName['umsab_val.hi.macro_f1']!.value).toBeCloseTo(hiScore);
    expect(byName['umsab_val.hi.macro_f1']!.interval).toEqual(bootstrapInterval([hi], 'macro_f1', 300, 0.95, 11));
    expect(byName['youtube_val.macro_f1']!.interval![0]).toBeLessThan(byName['youtube_val.macro_f1']!.value);
    expect(byName['umsab_val.macro_f1']!.interval).toEqual(bootstrapInterval([de, hi], 'macro_f1', 300, 0.95, 11));
    expect(byName.langid_accuracy).toEqual({ gate: 'langid_accuracy', threshold: 0.9, value: 0.95, passed: true });
  });

  it('applies a waiver only to a miss inside the interval, and says why it refused one', () => {
    const gate = (value: number, interval?: [number, number]): GateResult => ({ gate: 'umsab_val.hi.macro_f1', threshold: 0.371, value, interval, passed: value >= 0.371 });
    const waived = { 'umsab_val.hi.macro_f1': 'within noise on 324 tweets' };
    expect(applyWaivers([gate(0.367, [0.318, 0.418])], waived)[0]).toMatchObject({ passed: false, waived: 'within noise on 324 tweets' });
    const refused = applyWaivers([gate(0.3, [0.255, 0.348])], waived)[0]!;
    expect(refused.waived).toBeUndefined();
    expect(refused.waiver_refused).toBe('0.300 (interval [0.255, 0.348]) misses 0.371 by more than sampling noise');
    // a passing gate needs no waiver; a gate without an interval (parity, size) is waived as stated
    expect(applyWaivers([gate(0.4, [0.35, 0.45])], waived)[0]!.waived).toBeUndefined();
    expect(applyWaivers([gate(0.1)], waived)[0]!.waived).toBe('within noise on 324 tweets');
  });
});

describe('calibration', () => {
  // Labels drawn from softmax(logits / 2): the fitted temperature must come out near 2.
  const random = rng(11);
  const n = 4000;
  const logits = new Float64Array(n * 3);
  const gold = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    for (let k = 0; k < 3; k++) logits[i * 3 + k] = (random() - 0.5) * 8;
    const p = softmaxRows(logits.subarray(i * 3, i * 3 + 3), 2);
    const u = random();
    gold[i] = u < p[0]! ? 0 : u < p[0]! + p[1]! ? 1 : 2;
  }
  const weights = new Float64Array(n).fill(1);

  it('recovers the temperature that generated the labels and lowers the calibration error', () => {
    const t = fitTemperature(logits, gold, weights);
    expect(t).toBeGreaterThan(1.7);
    expect(t).toBeLessThan(2.3);
    const before = expectedCalibrationError(softmaxRows(logits, 1), gold, weights, 15);
    const after = expectedCalibrationError(softmaxRows(logits, t), gold, weights, 15);
    expect(after).toBeLessThan(before / 2);
  });

  it('fits a further temperature per language: flat where the model is sure and often wrong, sharp where it is right', () => {
    // One feature per class; the model says that class with about 70% confidence.
    const model = { weights: Float32Array.from([1, -0.5, -0.5, -0.5, 1, -0.5, -0.5, -0.5, 1]), bias: new Float32Array(3) };
    const random = rng(5);
    const row = (k: number) => ({ ids: Int32Array.from([k]), values: Float32Array.from([1]) });
    const set = (name: string, n: number, right: number, lang?: string): ValidationSet => {
      const predicted = Array.from({ length: n }, (_, i) => i % 3);
      const labels = Uint8Array.from(predicted, (k) => (random() < right ? k : (k + 1 + Math.floor(random() * 2)) % 3));
      return { name: name as ValidationSet['name'], data: { rows: predicted.map(row), labels }, langs: lang ? Array(n).fill(lang) : undefined };
    };
    const umsab = [set('x', 600, 0.95, 'de'), set('x', 600, 0.34, 'hi'), set('x', 30, 0.7, 'it')];
    const sets = [
      set('youtube_val', 1200, 0.7),
      {
        name: 'umsab_val' as ValidationSet['name'],
        data: { rows: umsab.flatMap((s) => s.data.rows), labels: Uint8Array.from(umsab.flatMap((s) => [...s.data.labels])) },
        langs: umsab.flatMap((s) => s.langs!),
      },
    ];
    const cfg = { ece_bins: 15, low_confidence_max_accuracy: 0.5, low_confidence_grid: [0.38, 0.6] as [number, number], per_language: true };
    const { calibration } = calibrate(model, sets, cfg);
    const { de, hi } = calibration.by_lang!;
    expect(Object.keys(calibration.by_lang!)).toEqual(['de', 'hi', 'it']);
    // 30 tweets cannot show that a temperature of their own explains them better: it stays 1.
    expect(calibration.by_lang!.it).toMatchObject({ n: 30, temperature: 1 });
    // Three languages tested: each must clear χ²(1) at 1 - 0.05/3, not at 95%.
    expect(hi!.likelihood_ratio_min).toBeCloseTo(5.7311, 3);
    expect(calibration.by_lang!.it!.likelihood_ratio).toBeLessThan(hi!.likelihood_ratio_min);
    expect(hi!.likelihood_ratio).toBeGreaterThan(hi!.likelihood_ratio_min);
    expect(hi!.n).toBe(600);
    expect(hi!.temperature).toBeGreaterThan(4);
    expect(de!.temperature).toBeLessThan(1);
    expect(hi!.ece_after).toBeLessThan(hi!.ece_before / 3);
    expect(de!.ece_after).toBeLessThan(de!.ece_before);
    // Off: no per-language temperatures, and the pooled calibration alone.
    const pooledOnly = calibrate(model, sets, { ...cfg, per_language: false }).calibration;
    expect(pooledOnly.by_lang).toBeUndefined();
    // The low-confidence threshold is the pooled calibration's: Hindi's flattened rows do not move it for the others.
    expect(calibration.low_threshold).toBe(pooledOnly.low_threshold);
  });

  it('corrects the per-language test for the number of languages tested (Bonferroni)', () => {
    // χ²(1) quantiles (scipy.stats.chi2.ppf): 0.95 → 3.8415, 1 - 0.05/7 → 7.2367.
    expect(likelihoodRatioMin(1)).toBeCloseTo(3.8415, 4);
    expect(likelihoodRatioMin(7)).toBeCloseTo(7.2367, 4);
    expect(likelihoodRatioMin(7, 0.01)).toBeGreaterThan(likelihoodRatioMin(7));
  });

  it('puts the low-confidence threshold where predictions stop being right more often than wrong', () => {
    // Confidence 0.4 predictions are right 30% of the time, 0.8 ones 90%.
    const probs = Float64Array.from([0.4, 0.3, 0.3, 0.4, 0.3, 0.3, 0.4, 0.3, 0.3, 0.8, 0.1, 0.1, 0.8, 0.1, 0.1]);
    const g = Uint8Array.from([0, 1, 2, 0, 0]);
    const t = lowConfidenceThreshold(probs, g, new Float64Array(5).fill(1), [0.38, 0.6], 0.5);
    expect(t).toBe(0.6);
    expect(lowConfidenceThreshold(probs, Uint8Array.from([0, 0, 0, 0, 0]), new Float64Array(5).fill(1), [0.38, 0.6], 0.5)).toBe(0.38);
  });
});

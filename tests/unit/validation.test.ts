/** Selection objective, per-language scores and calibration (training/validation.ts) on known answers. */
import { describe, expect, it } from 'vitest';
import { rng } from '../../training/softmax.js';
import { expectedCalibrationError, fitTemperature, lowConfidenceThreshold, objectiveValue, scoreSplit, softmaxRows } from '../../training/validation.js';

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

  it('puts the low-confidence threshold where predictions stop being right more often than wrong', () => {
    // Confidence 0.4 predictions are right 30% of the time, 0.8 ones 90%.
    const probs = Float64Array.from([0.4, 0.3, 0.3, 0.4, 0.3, 0.3, 0.4, 0.3, 0.3, 0.8, 0.1, 0.1, 0.8, 0.1, 0.1]);
    const g = Uint8Array.from([0, 1, 2, 0, 0]);
    const t = lowConfidenceThreshold(probs, g, new Float64Array(5).fill(1), [0.38, 0.6], 0.5);
    expect(t).toBe(0.6);
    expect(lowConfidenceThreshold(probs, Uint8Array.from([0, 0, 0, 0, 0]), new Float64Array(5).fill(1), [0.38, 0.6], 0.5)).toBe(0.38);
  });
});

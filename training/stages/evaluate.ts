/**
 * Stage 5, evaluate: the selected, calibrated (float) model on every evaluation split, UMSAB per
 * language. TweetEval test is read here for the first and only time, for reporting; the gates use
 * validation splits only.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ObjectiveMetric, Params } from '../params.js';
import { bootstrapInterval, metricValue, scoreSplit, type SplitScores } from '../validation.js';
import { loadLangId } from './langid.js';
import { evalSplitsOf, readSplits } from './preprocess.js';
import { loadModel, loadValidation } from './train.js';
import { asShipped } from '../../model-export/quantize.js';
import { argmaxRows, NUM_CLASSES, predictProbs } from '../softmax.js';

export const METRICS_FILE = 'metrics.json';

export interface GateResult {
  gate: string;
  threshold: number;
  value: number;
  passed: boolean;
  /**
   * For a validation metric: its bootstrap interval (params `gates.waiver_interval`), the range a
   * sample of the same size could have given.
   */
  interval?: [number, number];
  /** Why a failing gate was accepted for this release (params `gates.waived`); it then does not block. */
  waived?: string;
  /** Why a waiver in params was not applied: the floor lies above the metric's interval. */
  waiver_refused?: string;
}

/** Whether the gates allow registration: every gate passed or was explicitly waived. */
export function gatesAllow(gates: readonly GateResult[]): boolean {
  return gates.every((g) => g.passed || g.waived !== undefined);
}

/**
 * Marks failing gates that params waive, with the stated reason. A gate with an interval is waived
 * only while its floor is inside it: the miss must be one that sampling noise alone could explain.
 */
export function applyWaivers(gates: GateResult[], waived: Record<string, string>): GateResult[] {
  return gates.map((g) => {
    const reason = waived[g.gate];
    if (g.passed || reason === undefined) return g;
    if (g.interval && g.threshold > g.interval[1]) {
      const [lo, hi] = g.interval.map((x) => x.toFixed(3));
      return { ...g, waiver_refused: `${g.value.toFixed(3)} (interval [${lo}, ${hi}]) misses ${g.threshold} by more than sampling noise` };
    }
    return { ...g, waived: reason };
  });
}

/** A validation split's gold labels and the model's predictions, with each row's language if any. */
export interface SplitPredictions {
  gold: Uint8Array;
  predicted: Uint8Array;
  langs?: ReadonlyArray<string | undefined>;
}

/** Each split's scores (UMSAB per language too). */
function scorePredictions(predictions: Record<string, SplitPredictions>): Record<string, SplitScores> {
  return Object.fromEntries(Object.entries(predictions).map(([name, p]) => [name, scoreSplit(p.gold, p.predicted, p.langs)]));
}

/**
 * The gates on validation metrics, each with its bootstrap interval (resampling each UMSAB language
 * on its own, as the metric averages them), then language identification.
 */
export function evaluateGates(predictions: Record<string, SplitPredictions>, gates: Params['gates'], langidAccuracy: number, seed: number, metrics = scorePredictions(predictions)): GateResult[] {
  const byLang = metrics.umsab_val?.by_lang ?? {};
  const { samples, confidence } = gates.waiver_interval;
  const unitsOf = (split: string, only?: string) => {
    const p = predictions[split];
    if (!p) return [];
    const langs = only ? [only] : p.langs ? [...new Set(p.langs.filter((l): l is string => l !== undefined))] : [];
    if (langs.length === 0) return [p];
    return langs.map((lang) => {
      const idx = p.langs!.flatMap((l, i) => (l === lang ? [i] : []));
      return { gold: idx.map((i) => p.gold[i]!), predicted: idx.map((i) => p.predicted[i]!) };
    });
  };
  const interval = (split: string, metric: 'macro_f1' | 'macro_recall', lang?: string): [number, number] | undefined => {
    const units = unitsOf(split, lang);
    return units.length > 0 ? bootstrapInterval(units, metric, samples, confidence, seed) : undefined;
  };
  return [
    ...(Object.entries(gates.metrics) as Array<[ObjectiveMetric, number]>).map(([metric, threshold]) => {
      const [split, name] = metric.split('.') as [string, 'macro_f1' | 'macro_recall'];
      return { gate: metric, threshold, value: metricValue(metrics, metric), interval: interval(split, name) };
    }),
    ...Object.entries(gates.umsab_language_floors).map(([lang, threshold]) => ({
      gate: `umsab_val.${lang}.macro_f1`,
      threshold,
      value: byLang[lang]?.macro_f1 ?? 0,
      interval: byLang[lang] ? interval('umsab_val', 'macro_f1', lang) : undefined,
    })),
    { gate: 'langid_accuracy', threshold: gates.langid_accuracy, value: langidAccuracy },
  ].map((g) => ({ ...g, passed: g.value >= g.threshold }));
}

export async function evaluateStage(
  dir: string,
  preprocessDir: string,
  featurizeDir: string,
  trainDir: string,
  langidDir: string,
  gates: Params['gates'],
  seed: number,
): Promise<Record<string, unknown>> {
  const model = asShipped(loadModel(trainDir), NUM_CLASSES);
  const names = evalSplitsOf(readSplits(preprocessDir));
  // The gates judge the model as it ships: int8 weights (model-export/quantize.ts).
  const predictions: Record<string, SplitPredictions> = Object.fromEntries(
    loadValidation(preprocessDir, featurizeDir, names).map((s) => [s.name, { gold: s.data.labels, predicted: argmaxRows(predictProbs(model, s.data.rows)), langs: s.langs }]),
  );
  const metrics = scorePredictions(predictions);
  const langid = loadLangId(langidDir);
  const gateResults = evaluateGates(predictions, gates, langid.report.accuracy, seed, metrics);
  writeFileSync(join(dir, METRICS_FILE), JSON.stringify({ metrics, gates: gateResults }, null, 2));
  const brief = Object.fromEntries(names.map((s) => [s, { macro_recall: metrics[s]!.macro_recall, macro_f1: metrics[s]!.macro_f1, accuracy: metrics[s]!.accuracy }]));
  return { metrics: brief, umsab_by_lang: metrics.umsab_val?.by_lang, gates: gateResults };
}

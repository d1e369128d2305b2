/**
 * Stage 5, evaluate: the selected, calibrated (float) model on every evaluation split, UMSAB per
 * language. TweetEval test is read here for the first and only time, for reporting; the gates use
 * validation splits only.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ObjectiveMetric, Params } from '../params.js';
import { metricValue, type SplitScores } from '../validation.js';
import { loadLangId } from './langid.js';
import { evalSplitsOf, readSplits } from './preprocess.js';
import { loadModel, loadValidation, scoreModel } from './train.js';
import { asShipped } from '../../model-export/quantize.js';
import { NUM_CLASSES } from '../softmax.js';

export const METRICS_FILE = 'metrics.json';

export interface GateResult {
  gate: string;
  threshold: number;
  value: number;
  passed: boolean;
  /** Why a failing gate was accepted for this release (params `gates.waived`); it then does not block. */
  waived?: string;
}

/** Whether the gates allow registration: every gate passed or was explicitly waived. */
export function gatesAllow(gates: readonly GateResult[]): boolean {
  return gates.every((g) => g.passed || g.waived !== undefined);
}

/** Marks failing gates that params waive, with the stated reason. */
export function applyWaivers(gates: GateResult[], waived: Record<string, string>): GateResult[] {
  return gates.map((g) => (!g.passed && waived[g.gate] !== undefined ? { ...g, waived: waived[g.gate] } : g));
}

export function evaluateGates(metrics: Record<string, SplitScores>, gates: Params['gates'], langidAccuracy: number): GateResult[] {
  const byLang = metrics.umsab_val?.by_lang ?? {};
  return [
    ...(Object.entries(gates.metrics) as Array<[ObjectiveMetric, number]>).map(([metric, threshold]) => ({ gate: metric, threshold, value: metricValue(metrics, metric) })),
    ...Object.entries(gates.umsab_language_floors).map(([lang, threshold]) => ({ gate: `umsab_val.${lang}.macro_f1`, threshold, value: byLang[lang]?.macro_f1 ?? 0 })),
    { gate: 'langid_accuracy', threshold: gates.langid_accuracy, value: langidAccuracy },
  ].map((g) => ({ ...g, passed: g.value >= g.threshold }));
}

export async function evaluateStage(dir: string, preprocessDir: string, featurizeDir: string, trainDir: string, langidDir: string, gates: Params['gates']): Promise<Record<string, unknown>> {
  const model = loadModel(trainDir);
  const names = evalSplitsOf(readSplits(preprocessDir));
  // The gates judge the model as it ships: int8 weights (model-export/quantize.ts).
  const metrics = scoreModel(asShipped(model, NUM_CLASSES), loadValidation(preprocessDir, featurizeDir, names));
  const langid = loadLangId(langidDir);
  const gateResults = evaluateGates(metrics, gates, langid.report.accuracy);
  writeFileSync(join(dir, METRICS_FILE), JSON.stringify({ metrics, gates: gateResults }, null, 2));
  const brief = Object.fromEntries(names.map((s) => [s, { macro_recall: metrics[s]!.macro_recall, macro_f1: metrics[s]!.macro_f1, accuracy: metrics[s]!.accuracy }]));
  return { metrics: brief, umsab_by_lang: metrics.umsab_val?.by_lang, gates: gateResults };
}

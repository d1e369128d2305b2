/**
 * Stage 5, evaluate: the selected (float) model on every evaluation split. TweetEval test is read
 * here for the first and only time, for reporting; the gates use validation splits only.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { evaluatePredictions, type Evaluation } from '../../core/metrics.js';
import type { Params } from '../params.js';
import { argmaxRows, predictProbs } from '../softmax.js';
import { loadFeatures } from './featurize.js';
import { EVAL_SPLITS, type EvalSplit } from './preprocess.js';
import { loadModel } from './train.js';

export const METRICS_FILE = 'metrics.json';

export interface GateResult {
  gate: string;
  threshold: number;
  value: number;
  passed: boolean;
}

export function evaluateGates(metrics: Record<EvalSplit, Evaluation>, gates: Params['gates']): GateResult[] {
  return [
    { gate: 'tweeteval_val_macro_recall', threshold: gates.tweeteval_val_macro_recall, value: metrics.tweeteval_val.macro_recall },
    { gate: 'youtube_val_macro_f1', threshold: gates.youtube_val_macro_f1, value: metrics.youtube_val.macro_f1 },
  ].map((g) => ({ ...g, passed: g.value >= g.threshold }));
}

export async function evaluateStage(dir: string, featurizeDir: string, trainDir: string, gates: Params['gates']): Promise<Record<string, unknown>> {
  const model = loadModel(trainDir);
  const metrics = {} as Record<EvalSplit, Evaluation>;
  for (const split of EVAL_SPLITS) {
    const data = loadFeatures(featurizeDir, split);
    metrics[split] = evaluatePredictions(data.labels, argmaxRows(predictProbs(model, data.rows)));
  }
  const gateResults = evaluateGates(metrics, gates);
  writeFileSync(join(dir, METRICS_FILE), JSON.stringify({ metrics, gates: gateResults }, null, 2));
  const brief = Object.fromEntries(
    EVAL_SPLITS.map((s) => [s, { macro_recall: metrics[s].macro_recall, macro_f1: metrics[s].macro_f1, accuracy: metrics[s].accuracy }]),
  );
  return { metrics: brief, gates: gateResults };
}

/**
 * Stage 4, train: the seeded hyperparameter search. Each trial trains on the training split and is
 * scored on TweetEval validation (selection) and our YouTube validation split (reported); the best
 * trial's weights are this stage's output. The test split is never read here.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { evaluatePredictions } from '../../core/metrics.js';
import type { FeaturizerConfig } from '../../core/featurize.js';
import type { HyperParams, Params } from '../params.js';
import { progressBar } from '../progress.js';
import { planTrials } from '../search.js';
import { argmaxRows, NUM_CLASSES, predictProbs, train, type LinearModel } from '../softmax.js';
import type { FeaturizedSplit } from '../sparse-io.js';
import { loadFeatures } from './featurize.js';
import { readSplits } from './preprocess.js';

export const WEIGHTS_FILE = 'weights.f32';
export const MODEL_FILE = 'model.json';

export interface TrialResult {
  trial: number;
  params: HyperParams;
  tweeteval_val: { macro_recall: number; macro_f1: number };
  youtube_val: { macro_recall: number; macro_f1: number };
  seconds: number;
}

function scoreSplit(model: LinearModel, split: FeaturizedSplit): { macro_recall: number; macro_f1: number } {
  const e = evaluatePredictions(split.labels, argmaxRows(predictProbs(model, split.rows)));
  return { macro_recall: e.macro_recall, macro_f1: e.macro_f1 };
}

/** Loss weights: inverse class frequency raised to `balance`, times the YouTube weight. */
export function sampleWeights(labels: Uint8Array, isYoutube: boolean[], hp: HyperParams): Float32Array {
  const counts = new Array<number>(NUM_CLASSES).fill(0);
  labels.forEach((k) => counts[k]!++);
  const classWeight = counts.map((c) => (c ? (labels.length / NUM_CLASSES / c) ** hp.class_balance : 0));
  return Float32Array.from(labels, (k, i) => classWeight[k]! * (isYoutube[i] ? hp.youtube_weight : 1));
}

export async function trainStage(
  dir: string,
  preprocessDir: string,
  featurizeDir: string,
  featurizer: FeaturizerConfig,
  search: Params['search'],
  seed: number,
): Promise<Record<string, unknown>> {
  const trainSplit = loadFeatures(featurizeDir, 'train');
  const ttVal = loadFeatures(featurizeDir, 'tweeteval_val');
  const ytVal = loadFeatures(featurizeDir, 'youtube_val');
  const isYoutube = readSplits(preprocessDir).train.map((r) => r.source === 'youtube');
  const trials = planTrials(search, seed);
  const bar = progressBar('search', trials.reduce((a, t) => a + t.epochs, 0));
  const results: TrialResult[] = [];
  let best: { model: LinearModel; result: TrialResult } | null = null;
  const objective = (r: TrialResult): number =>
    search.objective === 'tweeteval_val.macro_f1' ? r.tweeteval_val.macro_f1 : r.tweeteval_val.macro_recall;
  for (const [i, hp] of trials.entries()) {
    const started = performance.now();
    const model = train(trainSplit.rows, trainSplit.labels, sampleWeights(trainSplit.labels, isYoutube, hp), {
      buckets: featurizer.buckets,
      epochs: hp.epochs,
      learningRate: hp.learning_rate,
      l2: hp.l2,
      seed: seed + i,
      onEpoch: () => bar.update(1),
    });
    const result: TrialResult = {
      trial: i,
      params: hp,
      tweeteval_val: scoreSplit(model, ttVal),
      youtube_val: scoreSplit(model, ytVal),
      seconds: (performance.now() - started) / 1000,
    };
    results.push(result);
    // Strictly better only: ties keep the earlier trial, so the winner is deterministic.
    if (!best || objective(result) > objective(best.result)) best = { model, result };
  }
  bar.stop();
  const winner = best!;
  writeFileSync(join(dir, WEIGHTS_FILE), new Uint8Array(winner.model.weights.buffer));
  writeFileSync(join(dir, MODEL_FILE), JSON.stringify({ bias: Array.from(winner.model.bias), best: winner.result, trials: results }, null, 2));
  return { best: winner.result, trials: results.length, objective: search.objective };
}

export function loadModel(trainDir: string): LinearModel & { best: TrialResult; trials: TrialResult[] } {
  const meta = JSON.parse(readFileSync(join(trainDir, MODEL_FILE), 'utf8')) as { bias: number[]; best: TrialResult; trials: TrialResult[] };
  const raw = readFileSync(join(trainDir, WEIGHTS_FILE));
  const weights = new Float32Array(raw.buffer.slice(raw.byteOffset, raw.byteOffset + raw.byteLength));
  return { weights, bias: Float32Array.from(meta.bias), best: meta.best, trials: meta.trials };
}

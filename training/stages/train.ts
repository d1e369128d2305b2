/**
 * Stage 4, train: the seeded hyperparameter search. Each trial trains on the training split and is
 * scored on TweetEval validation (selection) and our YouTube validation split (reported). The output
 * is a "model soup": the mean of the weights of the `soup_top_k` best trials by the objective. For a
 * linear model the average is again a linear model of the same size, and it generalises better than
 * any single trial (less variance from learning rate, epochs and shuffling). The test split is never
 * read here.
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
  const models: LinearModel[] = [];
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
    models.push(model);
  }
  bar.stop();
  // Stable sort: equal objectives keep trial order, so the soup is deterministic.
  const ranked = results.map((r, i) => ({ r, i })).sort((a, b) => objective(b.r) - objective(a.r));
  const members = ranked.slice(0, search.soup_top_k).map((x) => x.i);
  const soup = averageModels(members.map((i) => models[i]!));
  const soupResult = { members, tweeteval_val: scoreSplit(soup, ttVal), youtube_val: scoreSplit(soup, ytVal) };
  writeFileSync(join(dir, WEIGHTS_FILE), new Uint8Array(soup.weights.buffer));
  writeFileSync(join(dir, MODEL_FILE), JSON.stringify({ bias: Array.from(soup.bias), soup: soupResult, trials: results }, null, 2));
  return { soup: soupResult, best_single: ranked[0]!.r, trials: results.length, objective: search.objective };
}

/** Element-wise mean of several linear models' weights and biases. */
export function averageModels(models: readonly LinearModel[]): LinearModel {
  const weights = new Float32Array(models[0]!.weights.length);
  const bias = new Float32Array(models[0]!.bias.length);
  for (const m of models) {
    for (let j = 0; j < weights.length; j++) weights[j]! += m.weights[j]! / models.length;
    for (let j = 0; j < bias.length; j++) bias[j]! += m.bias[j]! / models.length;
  }
  return { weights, bias };
}

export interface SoupResult {
  members: number[];
  tweeteval_val: { macro_recall: number; macro_f1: number };
  youtube_val: { macro_recall: number; macro_f1: number };
}

export function loadModel(trainDir: string): LinearModel & { soup: SoupResult; trials: TrialResult[] } {
  const meta = JSON.parse(readFileSync(join(trainDir, MODEL_FILE), 'utf8')) as { bias: number[]; soup: SoupResult; trials: TrialResult[] };
  const raw = readFileSync(join(trainDir, WEIGHTS_FILE));
  const weights = new Float32Array(raw.buffer.slice(raw.byteOffset, raw.byteOffset + raw.byteLength));
  return { weights, bias: Float32Array.from(meta.bias), soup: meta.soup, trials: meta.trials };
}

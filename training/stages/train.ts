/**
 * Stage 4, train: the seeded hyperparameter search, the model soup, and calibration.
 *
 * Each trial trains on every source (loss weights from params `sources`, class-balanced within each
 * source) and is scored on every validation split; the selection objective (training/validation.ts)
 * is the mean of the per-source metrics minus a penalty for any source below its floor. The output
 * is a "greedy model soup" (Wortsman et al., ICML 2022): trials are taken best first and a trial joins
 * the average of the weights only if the soup's objective does not drop, at most `soup_top_k` of them,
 * built from each of the `soup_starts` best trials and the best of those soups kept (greedySoup)
 * (for a linear model the average is again a linear model of the same size, and it generalises
 * better than any single trial).
 * The soup is then temperature-scaled on the pooled validation splits (each split weighing the same),
 * with T folded into the weights so the exported graph is unchanged. The test split is never read.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import type { FeaturizerConfig, SparseFeatures } from '../../core/featurize.js';
import type { HyperParams, Params } from '../params.js';
import { asShipped } from '../../model-export/quantize.js';
import { progressBar } from '../progress.js';
import { planTrials } from '../search.js';
import { argmaxRows, averageModels, NUM_CLASSES, predictLogits, predictProbs, train, type LinearModel } from '../softmax.js';
import type { FeaturizedSplit } from '../sparse-io.js';
import { expectedCalibrationError, fitTemperature, lowConfidenceThreshold, nll, objectiveValue, scoreSplit, softmaxRows, type SplitScores } from '../validation.js';
import { loadFeatures } from './featurize.js';
import { readSplits, SELECT_SPLITS, SOURCES, type AnyEvalSplit, type SourceName, type TrainRow } from './preprocess.js';

export const WEIGHTS_FILE = 'weights.f32';
export const MODEL_FILE = 'model.json';

export interface TrialResult {
  trial: number;
  params: HyperParams;
  scores: Record<string, SplitScores>;
  objective: { value: number; mean: number; shortfall: number };
  seconds: number;
}

export interface CalibrationResult {
  temperature: number;
  ece_before: number;
  ece_after: number;
  low_threshold: number;
  /**
   * Per language of the validation rows that carry one (UMSAB): a further temperature fitted on that
   * language alone, and its ECE after the pooled temperature (before) and after its own (after).
   */
  by_lang?: Record<string, { n: number; temperature: number; ece_before: number; ece_after: number; likelihood_ratio: number; likelihood_ratio_min: number }>;
}

export interface ValidationSet {
  name: AnyEvalSplit;
  data: FeaturizedSplit;
  langs?: Array<string | undefined>;
}

export function loadValidation(preprocessDir: string, featurizeDir: string, names: readonly AnyEvalSplit[] = SELECT_SPLITS): ValidationSet[] {
  const splits = readSplits(preprocessDir);
  return names.map((name) => {
    const rows = splits[name];
    if (!rows) throw new Error(`split ${name} is not in ${preprocessDir} (a feedback split needs a feedback snapshot)`);
    return { name, data: loadFeatures(featurizeDir, name), langs: rows.some((r) => r.lang !== undefined) ? rows.map((r) => r.lang) : undefined };
  });
}

export function scoreModel(model: LinearModel, sets: readonly ValidationSet[]): Record<string, SplitScores> {
  const out: Record<string, SplitScores> = {};
  for (const s of sets) out[s.name] = scoreSplit(s.data.labels, argmaxRows(predictProbs(model, s.data.rows)), s.langs);
  return out;
}

/**
 * Loss weights: the source's weight (params `sources` × the trial's scale) times inverse class
 * frequency *within that source* raised to `class_balance`, normalized so each source's mean
 * class-balanced weight is its source weight.
 */
export function sampleWeights(
  labels: Uint8Array,
  sources: readonly SourceName[],
  hp: HyperParams,
  base: Params['sources'],
  langs: readonly string[] = [],
  languageWeights: Record<string, number> = {},
): Float32Array {
  const counts = new Map<SourceName, number[]>();
  labels.forEach((k, i) => {
    const c = counts.get(sources[i]!) ?? counts.set(sources[i]!, new Array<number>(NUM_CLASSES).fill(0)).get(sources[i]!)!;
    c[k]!++;
  });
  const classWeight = new Map<SourceName, number[]>();
  for (const [source, c] of counts) {
    const n = c.reduce((a, b) => a + b, 0);
    classWeight.set(
      source,
      c.map((x) => (x ? (n / NUM_CLASSES / x) ** hp.class_balance : 0)),
    );
  }
  return Float32Array.from(labels, (k, i) => {
    const s = sources[i]!;
    return classWeight.get(s)![k]! * base[s] * (hp.source_scale[s] ?? 1) * (languageWeights[langs[i] ?? ''] ?? 1);
  });
}

/** Each validation split weighs the same in calibration, whatever its size. */
function pooled(sets: readonly ValidationSet[]): { rows: SparseFeatures[]; gold: Uint8Array; weights: Float64Array; langs: Array<string | undefined> } {
  const rows = sets.flatMap((s) => s.data.rows);
  const langs = sets.flatMap((s) => s.langs ?? s.data.rows.map(() => undefined));
  const gold = new Uint8Array(rows.length);
  const weights = new Float64Array(rows.length);
  let at = 0;
  for (const s of sets) {
    gold.set(s.data.labels, at);
    weights.fill(1 / s.data.rows.length, at, at + s.data.rows.length);
    at += s.data.rows.length;
  }
  return { rows, gold, weights, langs };
}

// jstat (MIT) ships no types: the one function used here, typed.
const { jStat } = createRequire(import.meta.url)('jstat') as { jStat: { chisquare: { inv(p: number, dof: number): number } } };

/** The family-wise error rate of the per-language temperature tests: at most one language in 20 releases keeps a temperature it does not need. */
const LANGUAGE_TEST_ALPHA = 0.05;

/**
 * How much better a language's own temperature must explain its labels (likelihood ratio, χ² with
 * one degree of freedom) when `tests` languages are tested: Bonferroni's 1 − α/tests quantile
 * (7 languages: 7.24). At 3.84 for each (95% per test) one of seven languages would keep a
 * temperature fitted on noise in 30% of releases.
 */
export function likelihoodRatioMin(tests: number, alpha: number = LANGUAGE_TEST_ALPHA): number {
  return jStat.chisquare.inv(1 - alpha / Math.max(1, tests), 1);
}

/**
 * A temperature per language of the pooled rows (those that carry one), fitted on the logits already
 * divided by the pooled temperature: where the model is much less often right than it is sure
 * (romanized Hindi: 60% sure, 37% right), its texts' probabilities flatten; the labels stay.
 * A language keeps temperature 1 unless its own fits its validation labels significantly better
 * (likelihood-ratio test, one parameter, corrected for the number of languages tested: see
 * {@link likelihoodRatioMin}): a few hundred tweets otherwise move it by ±15% on noise.
 */
function languageTemperatures(scaledLogits: Float64Array, gold: Uint8Array, langs: ReadonlyArray<string | undefined>, bins: number): NonNullable<CalibrationResult['by_lang']> {
  const out: NonNullable<CalibrationResult['by_lang']> = {};
  const tested = [...new Set(langs.filter((l): l is string => l !== undefined))].sort();
  const minRatio = likelihoodRatioMin(tested.length);
  for (const lang of tested) {
    const idx = langs.flatMap((l, i) => (l === lang ? [i] : []));
    const logits = new Float64Array(idx.length * NUM_CLASSES);
    idx.forEach((r, j) => logits.set(scaledLogits.subarray(r * NUM_CLASSES, (r + 1) * NUM_CLASSES), j * NUM_CLASSES));
    const g = Uint8Array.from(idx, (r) => gold[r]!);
    const w = new Float64Array(idx.length).fill(1);
    const fitted = fitTemperature(logits, g, w);
    const likelihoodRatio = 2 * idx.length * (nll(logits, g, w, 1) - nll(logits, g, w, fitted));
    const temperature = likelihoodRatio >= minRatio ? fitted : 1;
    out[lang] = {
      n: idx.length,
      temperature,
      likelihood_ratio: likelihoodRatio,
      likelihood_ratio_min: minRatio,
      ece_before: expectedCalibrationError(softmaxRows(logits, 1), g, w, bins),
      ece_after: expectedCalibrationError(softmaxRows(logits, temperature), g, w, bins),
    };
  }
  return out;
}

export function calibrate(model: LinearModel, sets: readonly ValidationSet[], cfg: Params['calibration']): { model: LinearModel; calibration: CalibrationResult } {
  const { rows, gold, weights, langs } = pooled(sets);
  const logits = predictLogits(model, rows);
  // Temperature only: a per-class bias fitted the same way moves the class priors toward the pooled
  // validation mix, which cost 3 points of TweetEval macro-recall and 4 of UMSAB macro-F1 when tried.
  const temperature = fitTemperature(logits, gold, weights);
  const before = softmaxRows(logits, 1);
  const scaledLogits = Float64Array.from(logits, (x) => x / temperature);
  const byLang = cfg.per_language ? languageTemperatures(scaledLogits, gold, langs, cfg.ece_bins) : undefined;
  // What the scorers show: each row under its language's temperature too (as scoring applies it).
  const after = new Float64Array(scaledLogits.length);
  for (let i = 0; i < gold.length; i++) {
    const t = byLang?.[langs[i] ?? '']?.temperature ?? 1;
    after.set(softmaxRows(scaledLogits.subarray(i * NUM_CLASSES, (i + 1) * NUM_CLASSES), t), i * NUM_CLASSES);
  }
  const scaled: LinearModel = {
    weights: Float32Array.from(model.weights, (w) => w / temperature),
    bias: Float32Array.from(model.bias, (b) => b / temperature),
  };
  return {
    model: scaled,
    calibration: {
      temperature,
      ece_before: expectedCalibrationError(before, gold, weights, cfg.ece_bins),
      ece_after: expectedCalibrationError(after, gold, weights, cfg.ece_bins),
      // On the pooled calibration alone: a language's own temperature already makes its texts
      // uncertain, and its flattened rows would otherwise raise the threshold for every language
      // (2.1.1's first build: 0.55 → 0.56, English shown uncertain 29.4% → 31.4%).
      low_threshold: lowConfidenceThreshold(softmaxRows(scaledLogits, 1), gold, weights, cfg.low_confidence_grid, cfg.low_confidence_max_accuracy),
      ...(byLang ? { by_lang: byLang } : {}),
    },
  };
}

export async function trainStage(
  dir: string,
  preprocessDir: string,
  featurizeDir: string,
  featurizer: FeaturizerConfig,
  params: Pick<Params, 'search' | 'sources' | 'language_weights' | 'calibration' | 'seed'>,
): Promise<Record<string, unknown>> {
  const { search, seed } = params;
  const trainSplit = loadFeatures(featurizeDir, 'train');
  const trainRows: TrainRow[] = readSplits(preprocessDir).train;
  const sources = trainRows.map((r) => r.source);
  const soft = trainRows.map((r) => r.soft);
  const validation = loadValidation(preprocessDir, featurizeDir);
  const trials = planTrials(search, seed);
  const bar = progressBar(
    'search',
    trials.reduce((a, t) => a + t.epochs, 0),
  );
  const results: TrialResult[] = [];
  const models: LinearModel[] = [];
  for (const [i, hp] of trials.entries()) {
    const started = performance.now();
    const weights = sampleWeights(
      trainSplit.labels,
      sources,
      hp,
      params.sources,
      trainRows.map((r) => r.lang),
      params.language_weights,
    );
    const model = train(trainSplit.rows, trainSplit.labels, weights, {
      buckets: featurizer.buckets,
      epochs: hp.epochs,
      learningRate: hp.learning_rate,
      l2: hp.l2,
      seed: seed + i,
      soft,
      onEpoch: () => bar.update(1),
    });
    // Scored as it would ship (int8): quantization moves a split's metric by up to a few
    // thousandths, enough to cross a floor the float model clears.
    const scores = scoreModel(asShipped(model, NUM_CLASSES), validation);
    results.push({ trial: i, params: hp, scores, objective: objectiveValue(scores, search.objective), seconds: (performance.now() - started) / 1000 });
    models.push(model);
  }
  bar.stop();
  const {
    members,
    model: soup,
    scores: soupScores,
  } = greedySoup(
    models,
    results.map((r) => r.scores),
    (m) => scoreModel(asShipped(m, NUM_CLASSES), validation),
    (scores) => objectiveValue(scores, search.objective).value,
    search.soup_top_k,
    search.soup_starts,
  );
  const ranked = results.map((r, i) => ({ r, i })).sort((a, b) => b.r.objective.value - a.r.objective.value);
  const { model: calibrated, calibration } = calibrate(soup, validation, params.calibration);
  const soupResult = { members, scores: soupScores, objective: objectiveValue(soupScores, search.objective) };
  writeFileSync(join(dir, WEIGHTS_FILE), new Uint8Array(calibrated.weights.buffer));
  writeFileSync(join(dir, MODEL_FILE), JSON.stringify({ bias: Array.from(calibrated.bias), soup: soupResult, calibration, trials: results }, null, 2));
  const summarize = (s: Record<string, SplitScores>): Record<string, number> => Object.fromEntries(Object.entries(s).map(([k, v]) => [k, Number(v.macro_f1.toFixed(4))]));
  return {
    soup: { members, macro_f1: summarize(soupScores), objective: soupResult.objective },
    best_single: { trial: ranked[0]!.r.trial, macro_f1: summarize(ranked[0]!.r.scores), objective: ranked[0]!.r.objective },
    calibration,
    trials: results.length,
    sources: Object.fromEntries(SOURCES.map((s) => [s, sources.filter((x) => x === s).length])),
  };
}

/**
 * Greedy model soup (Wortsman et al., 2022) with several starts: trials are ranked by objective
 * (a stable sort, so ties keep trial order and the result is deterministic); from each of the
 * `starts` best trials in turn, the other trials are tried best first and one joins the average only
 * if the soup's objective does not drop, up to `topK` members. The soup with the highest objective
 * wins (the earlier start on a tie), so `starts` 1 is the single greedy pass.
 *
 * Why several starts: a single pass is anchored to the best trial, and when that trial sits just
 * below one floor (2.3.0's first build: TweetEval val macro-recall 0.683 against 0.686) no average
 * of it with later trials may clear the floor, though an average anchored on the next trial does.
 */
export function greedySoup<S>(
  models: readonly LinearModel[],
  trialScores: readonly S[],
  score: (model: LinearModel) => S,
  objective: (scores: S) => number,
  topK: number,
  starts: number,
): { members: number[]; model: LinearModel; scores: S } {
  const ranked = trialScores.map((s, i) => ({ i, value: objective(s) })).sort((a, b) => b.value - a.value);
  // Starts often meet the same set of trials (A then B, B then A): each set is averaged and scored
  // once, in the order it was first met (another order differs only in float rounding).
  const seen = new Map<string, { model: LinearModel; scores: S; value: number }>();
  let best: { members: number[]; model: LinearModel; scores: S; value: number } | undefined;
  for (const start of ranked.slice(0, Math.max(1, starts))) {
    const members = [start.i];
    let model = models[start.i]!;
    let scores: S = trialScores[start.i] as S;
    let value = start.value;
    for (const { i } of ranked) {
      if (members.length >= topK) break;
      if (members.includes(i)) continue;
      const set = [...members, i].sort((a, b) => a - b).join(',');
      let candidate = seen.get(set);
      if (!candidate) {
        const averaged = averageModels([...members, i].map((m) => models[m]!));
        const candidateScores = score(averaged);
        seen.set(set, (candidate = { model: averaged, scores: candidateScores, value: objective(candidateScores) }));
      }
      if (candidate.value >= value) {
        members.push(i);
        ({ model, scores, value } = candidate);
      }
    }
    if (!best || value > best.value) best = { members, model, scores, value };
  }
  return { members: best!.members, model: best!.model, scores: best!.scores };
}

export interface SoupResult {
  members: number[];
  scores: Record<string, SplitScores>;
  objective: { value: number; mean: number; shortfall: number };
}

export function loadModel(trainDir: string): LinearModel & { soup: SoupResult; calibration: CalibrationResult; trials: TrialResult[] } {
  const meta = JSON.parse(readFileSync(join(trainDir, MODEL_FILE), 'utf8')) as {
    bias: number[];
    soup: SoupResult;
    calibration: CalibrationResult;
    trials: TrialResult[];
  };
  const raw = readFileSync(join(trainDir, WEIGHTS_FILE));
  const weights = new Float32Array(raw.buffer.slice(raw.byteOffset, raw.byteOffset + raw.byteLength));
  return { weights, bias: Float32Array.from(meta.bias), soup: meta.soup, calibration: meta.calibration, trials: meta.trials };
}

/**
 * Classification metrics shared by the evaluate CLI, the training pipeline and the benchmarks, so
 * every tool is scored by the same code.
 */
import { LABELS, type Label } from './labels.js';

export interface ClassMetrics {
  precision: number;
  recall: number;
  f1: number;
  support: number;
}

export interface Evaluation {
  n: number;
  accuracy: number;
  macro_f1: number;
  macro_recall: number;
  per_class: Record<Label, ClassMetrics>;
  /** confusion[true][predicted], rows and columns in LABELS order. */
  confusion: number[][];
}

/** Metrics from gold and predicted class indices (both in LABELS order). */
export function evaluatePredictions(gold: ArrayLike<number>, predicted: ArrayLike<number>): Evaluation {
  const K = LABELS.length;
  if (gold.length !== predicted.length) throw new Error('gold and predicted differ in length');
  const confusion = Array.from({ length: K }, () => new Array<number>(K).fill(0));
  for (let i = 0; i < gold.length; i++) confusion[gold[i]!]![predicted[i]!]!++;
  return evaluateConfusion(confusion);
}

/**
 * Metrics from a confusion matrix (`confusion[gold][predicted]`, LABELS order), for callers that
 * count as they go instead of keeping every prediction (the evaluate CLI streams its input).
 */
export function evaluateConfusion(confusion: number[][]): Evaluation {
  const K = LABELS.length;
  const n = confusion.reduce((a, row) => a + row.reduce((x, y) => x + y, 0), 0);
  let correct = 0;
  const perClass = {} as Record<Label, ClassMetrics>;
  let f1Sum = 0;
  let recallSum = 0;
  for (let k = 0; k < K; k++) {
    const tp = confusion[k]![k]!;
    correct += tp;
    const support = confusion[k]!.reduce((a, b) => a + b, 0);
    const predictedK = confusion.reduce((a, row) => a + row[k]!, 0);
    const precision = predictedK ? tp / predictedK : 0;
    const recall = support ? tp / support : 0;
    const f1 = precision + recall ? (2 * precision * recall) / (precision + recall) : 0;
    perClass[LABELS[k]!] = { precision, recall, f1, support };
    f1Sum += f1;
    recallSum += recall;
  }
  return {
    n,
    accuracy: n ? correct / n : 0,
    macro_f1: f1Sum / K,
    macro_recall: recallSum / K,
    per_class: perClass,
    confusion,
  };
}

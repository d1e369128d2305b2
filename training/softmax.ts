/**
 * Multinomial logistic regression over sparse hashed features, trained with Adagrad SGD.
 *
 * Written here rather than taken from a library because the model's forward pass must be
 * exactly the ONNX graph's (weighted row gather, sum, bias, softmax: core/linear.ts, the same code
 * the Worker serves with) and training must be seeded and bit-for-bit reproducible in plain
 * TypeScript.
 */
import type { SparseFeatures } from '../core/featurize.js';
import { forwardInto, NUM_CLASSES, softmaxInPlace, type LinearModel } from '../core/linear.js';

// The forward pass lives in core (the Worker serves with it); training trains its weights.
export { argmaxRows, forwardInto, NUM_CLASSES, predictLogits, predictProbs, softmaxInPlace, type LinearModel } from '../core/linear.js';

export interface TrainOptions {
  buckets: number;
  /** Number of output classes (default {@link NUM_CLASSES}). */
  classes?: number;
  /** Per-row soft targets (a distribution over classes) replacing the one-hot label where given. */
  soft?: ReadonlyArray<ArrayLike<number> | undefined>;
  epochs: number;
  learningRate: number;
  /** L2 penalty per example (applied lazily to touched rows). */
  l2: number;
  seed: number;
  onEpoch?: (epoch: number) => void;
}

// The seeded generator is core's, so training, benchmarks and fuzz tests share one.
import { rng, shuffleInPlace } from '../core/random.js';
export { rng, shuffleInPlace };

export function train(xs: readonly SparseFeatures[], ys: ArrayLike<number>, sampleWeights: ArrayLike<number>, opts: TrainOptions): LinearModel {
  const K = opts.classes ?? NUM_CLASSES;
  const weights = new Float32Array(opts.buckets * K);
  const bias = new Float32Array(K);
  const g2 = new Float32Array(opts.buckets * K).fill(1e-6);
  const g2b = new Float32Array(K).fill(1e-6);
  const order = Array.from({ length: xs.length }, (_, i) => i);
  const random = rng(opts.seed);
  const logits = new Float64Array(K);
  const grad = new Float64Array(K);
  for (let epoch = 0; epoch < opts.epochs; epoch++) {
    shuffleInPlace(order, random);
    for (const i of order) {
      const { ids, values } = xs[i]!;
      forwardInto(weights, bias, ids, values, logits);
      softmaxInPlace(logits);
      const sw = sampleWeights[i]!;
      if (sw === 0) continue;
      const soft = opts.soft?.[i];
      if (soft) for (let k = 0; k < K; k++) grad[k] = (logits[k]! - soft[k]!) * sw;
      else for (let k = 0; k < K; k++) grad[k] = (logits[k]! - (ys[i] === k ? 1 : 0)) * sw;
      for (let j = 0; j < ids.length; j++) {
        const row = ids[j]! * K;
        const v = values[j]!;
        for (let k = 0; k < K; k++) {
          const g = grad[k]! * v + opts.l2 * weights[row + k]!;
          g2[row + k]! += g * g;
          weights[row + k]! -= (opts.learningRate * g) / Math.sqrt(g2[row + k]!);
        }
      }
      for (let k = 0; k < K; k++) {
        g2b[k]! += grad[k]! * grad[k]!;
        bias[k]! -= (opts.learningRate * grad[k]!) / Math.sqrt(g2b[k]!);
      }
    }
    opts.onEpoch?.(epoch + 1);
  }
  return { weights, bias };
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

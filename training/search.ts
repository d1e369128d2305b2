/** Seeded random search over hyperparameters: same seed and budget, same trials, same winner. */
import type { Dimension, HyperParams, Params } from './params.js';
import { rng } from './softmax.js';

export function sample(dim: Dimension, random: () => number): number {
  if ('log_uniform' in dim) {
    const [lo, hi] = dim.log_uniform;
    return Math.exp(Math.log(lo) + random() * (Math.log(hi) - Math.log(lo)));
  }
  if ('uniform' in dim) {
    const [lo, hi] = dim.uniform;
    return lo + random() * (hi - lo);
  }
  const [lo, hi] = dim.int;
  return Math.floor(lo + random() * (hi - lo + 1));
}

/** The trials to run, in order: the defaults first, then seeded samples from the space. */
export function planTrials(search: Params['search'], seed: number): HyperParams[] {
  const random = rng(seed ^ 0x5ea4c8);
  const trials: HyperParams[] = [search.defaults];
  while (trials.length < search.trials) {
    const s = search.space;
    trials.push({
      learning_rate: sample(s.learning_rate, random),
      epochs: sample(s.epochs, random),
      l2: sample(s.l2, random),
      class_balance: sample(s.class_balance, random),
      source_scale: Object.fromEntries(Object.entries(s.source_scale).map(([name, dim]) => [name, sample(dim as Dimension, random)])) as HyperParams['source_scale'],
    });
  }
  return trials;
}

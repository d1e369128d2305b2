import { describe, expect, it } from 'vitest';
import { averageModels, type LinearModel } from '../../training/softmax.js';
import { greedySoup } from '../../training/stages/train.js';

// Toy "models" whose two weights are their scores on two validation sources: the first has a floor
// of 0.686 (as TweetEval val macro-recall has), the objective is the selection objective's shape.
const model = (a: number, b: number): LinearModel => ({ weights: Float32Array.of(a, b), bias: Float32Array.of(0) });
const score = (m: LinearModel): [number, number] => [m.weights[0]!, m.weights[1]!];
const objective = ([a, b]: [number, number]): number => (a + b) / 2 - 3 * Math.max(0, 0.686 - a);

describe('greedySoup', () => {
  // Trial 2 ranks first (0.6815) but no average with it gains; trial 0 (0.677) averaged with 2 and
  // then 1 clears the floor and reaches 0.6837.
  const trials = [model(0.699, 0.655), model(0.662, 0.723), model(0.697, 0.666)];
  const run = (starts: number, topK = 3) => greedySoup(trials, trials.map(score), score, objective, topK, starts);

  it('with one start is the single greedy pass anchored on the best trial', () => {
    const soup = run(1);
    expect(soup.members).toEqual([2]);
    expect(soup.model).toBe(trials[2]);
    expect(objective(soup.scores)).toBeCloseTo(0.6815, 6);
  });

  it('with more starts keeps the soup with the highest objective, which may start from another trial', () => {
    const soup = run(2);
    expect(soup.members).toEqual([0, 2, 1]);
    expect(Array.from(soup.model.weights)).toEqual(Array.from(averageModels(trials).weights));
    expect(objective(soup.scores)).toBeGreaterThan(objective(run(1).scores));
    expect(soup.scores[0]).toBeGreaterThanOrEqual(0.686 - 1e-6);
    // More starts than it takes change nothing.
    expect(run(3).members).toEqual([0, 2, 1]);
  });

  it('scores each set of trials once, however many starts reach it', () => {
    let calls = 0;
    const counted = (m: LinearModel) => {
      calls++;
      return score(m);
    };
    // Start 2 scores {2, 0} and {2, 1}; start 0 meets {0, 2} again and scores only {0, 2, 1}.
    expect(greedySoup(trials, trials.map(score), counted, objective, 3, 2).members).toEqual([0, 2, 1]);
    expect(calls).toBe(3);
  });

  it('never takes more than topK members and never takes a trial twice', () => {
    expect(run(2, 2).members).toEqual([2]);
    const same = [model(0.7, 0.7), model(0.7, 0.7)];
    expect(greedySoup(same, same.map(score), score, objective, 5, 2).members).toEqual([0, 1]);
  });

  it('keeps the earlier start on a tie, so the soup is deterministic', () => {
    const tied = [model(0.69, 0.7), model(0.7, 0.69)];
    // Both starts reach the same average: the first start's member order is kept.
    expect(greedySoup(tied, tied.map(score), score, objective, 2, 2).members).toEqual([0, 1]);
  });
});

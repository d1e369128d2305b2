/**
 * A stream of comments unlike anything the models were trained on, for the MLOps tests: the
 * slang of an invented community (made-up words for "great" and "awful" in comment templates),
 * with the true label of every comment. A model trained on the public data has never seen these
 * words, so it guesses; corrections drawn from the true labels teach a retrained model what they
 * mean, and its hashed-token histogram is far from the training reference (drift).
 *
 * Seeded (mulberry32 from training/softmax.ts): the same seed gives the same comments everywhere.
 */
import type { Label } from '../../core/labels.js';
import { rng } from '../../training/softmax.js';

export const GOOD = ['zorby', 'glimmo', 'blorpy', 'quentro', 'vashy', 'plinktastic', 'snozzy', 'frelt'];
export const BAD = ['skronky', 'grulty', 'muzzled', 'drabbo', 'clunkish', 'wonked', 'sploggy', 'brakky'];
const THINGS = ['edit', 'stream', 'build', 'speedrun', 'mod', 'map', 'drop', 'beat', 'skin', 'patch', 'collab', 'intro'];
const POLAR = [
  'this {thing} is so {w}',
  '{w} {thing} honestly',
  'that {thing} was {w} lol',
  'ngl the {thing} is {w}',
  'the new {thing} is kinda {w}',
  '{w} {w2} {thing}',
  'why is this {thing} this {w}',
  'lowkey {w} {thing}',
];
const NEUTRAL = [
  'who else is here for the {thing}',
  'what {thing} is this at the start',
  'is the {thing} out on the other channel',
  'part {n} of the {thing} when',
  'does the {thing} come with the {thing2}',
  'the {thing} starts at minute {n}',
];

export interface StreamComment {
  text: string;
  label: Label;
}

/** `n` distinct comments: 40% positive, 40% negative, 20% neutral. */
export function shiftedStream(n: number, seed = 11): StreamComment[] {
  const random = rng(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(random() * xs.length)]!;
  const out: StreamComment[] = [];
  const seen = new Set<string>();
  for (let guard = 0; out.length < n && guard < n * 50; guard++) {
    const r = out.length % 5;
    const label: Label = r < 2 ? 'positive' : r < 4 ? 'negative' : 'neutral';
    const words = label === 'positive' ? GOOD : BAD;
    const template = label === 'neutral' ? pick(NEUTRAL) : pick(POLAR);
    const text = template
      .replace('{thing2}', pick(THINGS))
      .replace('{thing}', pick(THINGS))
      .replace('{w2}', pick(words))
      .replace('{w}', pick(words))
      .replace('{n}', String(2 + Math.floor(random() * 9)));
    if (seen.has(text)) continue;
    seen.add(text);
    out.push({ text, label });
  }
  return out;
}

/**
 * The lexicon tools people use today, wrapped to our label set with their documented thresholds:
 * VADER compound ≥ 0.05 positive, ≤ −0.05 negative (Hutto & Gilbert); AFINN-165 (`sentiment`)
 * and wink-sentiment: score > 0 positive, < 0 negative, 0 neutral.
 */
import { createRequire } from 'node:module';
import type { Label } from '../core/labels.js';

const require = createRequire(import.meta.url);
const vader = require('vader-sentiment') as {
  SentimentIntensityAnalyzer: { polarity_scores(text: string): { compound: number } };
};
const Sentiment = require('sentiment') as new () => { analyze(text: string): { score: number } };
const wink = require('wink-sentiment') as (text: string) => { normalizedScore: number };

const bySign = (x: number, eps = 0): Label => (x > eps ? 'positive' : x < -eps ? 'negative' : 'neutral');
const afinn = new Sentiment();

export interface Baseline {
  name: string;
  version: string;
  classify(text: string): Label;
}

const versionOf = (pkg: string): string => (require(`${pkg}/package.json`) as { version: string }).version;

export const BASELINES: Baseline[] = [
  {
    name: 'VADER',
    version: `vader-sentiment ${versionOf('vader-sentiment')}`,
    classify: (t) => {
      const c = vader.SentimentIntensityAnalyzer.polarity_scores(t).compound;
      return c >= 0.05 ? 'positive' : c <= -0.05 ? 'negative' : 'neutral';
    },
  },
  { name: 'AFINN-165', version: `sentiment ${versionOf('sentiment')}`, classify: (t) => bySign(afinn.analyze(t).score) },
  { name: 'wink', version: `wink-sentiment ${versionOf('wink-sentiment')}`, classify: (t) => bySign(wink(t).normalizedScore) },
];

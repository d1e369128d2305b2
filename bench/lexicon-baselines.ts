/**
 * The lexicon tools people use today, wrapped to our label set with their documented thresholds:
 * VADER compound ≥ 0.05 positive, ≤ −0.05 negative (Hutto & Gilbert); AFINN-165 (`sentiment`)
 * and wink-sentiment: score > 0 positive, < 0 negative, 0 neutral.
 *
 * Two multilingual lexicon packages take a language code as well: multilang-sentiment (AFINN-165
 * translated into many languages, plus the Emoji Sentiment Ranking) and @nlpjs/sentiment (per-language
 * SentiCon, Pattern or AFINN lexicons from @nlpjs/lang-all). Both: score > 0 positive, < 0 negative,
 * 0 neutral (for @nlpjs that is its own `vote`).
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
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

/** A lexicon tool that is told the language of each text. */
export interface MultilingualBaseline {
  name: string;
  version: string;
  /** Whether the tool has a lexicon for this ISO 639-1 code. */
  supports(lang: string): boolean;
  /** Label of `text` read as language `lang` (one the tool supports). */
  classify(text: string, lang: string): Promise<Label>;
}

const multilang = require('multilang-sentiment') as (text: string, lang: string) => { score: number };
// multilang-sentiment requires build/output/build-<lang>.json on first use of a language and throws
// for a code it has no file for, so the files are its list of languages.
const multilangLexicons = join(dirname(require.resolve('multilang-sentiment/package.json')), 'build', 'output');

interface NlpjsAnalyzer {
  container: { use(plugin: unknown): void; get(name: string): unknown };
  process(input: { locale: string; text: string }): Promise<{ sentiment: { score: number; vote: Label } }>;
}
let nlpjsAnalyzer: NlpjsAnalyzer | undefined;
/**
 * The @nlpjs SentimentAnalyzer with every language of @nlpjs/lang-all registered, created on first
 * use: loading 40 languages' lexicons is wasted on the importers that only want the English tools.
 * It registers them on @nlpjs/core's default container (the analyzer's own), which this process
 * uses for nothing else; the package has no `sentiment-<lang>` entry for a language it lacks.
 */
function nlpjs(): NlpjsAnalyzer {
  if (!nlpjsAnalyzer) {
    const { SentimentAnalyzer } = require('@nlpjs/sentiment') as { SentimentAnalyzer: new () => NlpjsAnalyzer };
    const { LangAll } = require('@nlpjs/lang-all') as { LangAll: unknown };
    nlpjsAnalyzer = new SentimentAnalyzer();
    nlpjsAnalyzer.container.use(LangAll);
  }
  return nlpjsAnalyzer;
}

export const MULTILINGUAL_BASELINES: MultilingualBaseline[] = [
  {
    name: 'multilang-sentiment',
    version: `multilang-sentiment ${versionOf('multilang-sentiment')}`,
    supports: (lang) => /^[a-z]{2,3}(-[a-z]{2})?$/.test(lang) && existsSync(join(multilangLexicons, `build-${lang}.json`)),
    // Its `category` is not the sign of `score` (it adds the ratio positive/negative score, which is
    // negative whenever both occur), so the documented score is used, as for AFINN-165.
    classify: async (t, lang) => bySign(multilang(t, lang).score),
  },
  {
    name: '@nlpjs/sentiment',
    version: `@nlpjs/sentiment ${versionOf('@nlpjs/sentiment')}`,
    supports: (lang) => Boolean(nlpjs().container.get(`sentiment-${lang}`)),
    // `vote` is the package's own mapping: score > 0 positive, < 0 negative, otherwise neutral.
    classify: async (t, lang) => (await nlpjs().process({ locale: lang, text: t })).sentiment.vote,
  },
];

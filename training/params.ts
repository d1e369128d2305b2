/**
 * Pipeline parameters: YAML (with `extends` for variants such as the smoke configuration),
 * validated so a typo fails before any stage runs.
 */
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { FeaturizerConfigSchema, powerOfTwo, SemverSchema } from '../core/manifest.js';

const Range = z.tuple([z.number(), z.number()]).refine(([a, b]) => a <= b, 'range must be [low, high]');
const Dimension = z.union([z.object({ log_uniform: Range.refine(([a]) => a > 0, 'log_uniform needs positive bounds') }), z.object({ uniform: Range }), z.object({ int: Range })]);
export type Dimension = z.infer<typeof Dimension>;

const SOURCE_NAMES = ['semeval', 'youtube', 'goemotions', 'sentube', 'umsab', 'priors', 'augmented', 'feedback'] as const;
const SourceWeights = z.object(Object.fromEntries(SOURCE_NAMES.map((s) => [s, z.number().nonnegative()])) as Record<(typeof SOURCE_NAMES)[number], z.ZodNumber>).strict();

const HyperParams = z.object({
  learning_rate: z.number().positive(),
  epochs: z.number().int().positive(),
  l2: z.number().nonnegative(),
  /** Exponent on inverse class frequency: 0 = none, 1 = balanced, above 1 = favour rare classes. */
  class_balance: z.number().min(0).max(2),
  /** Multiplies `sources` weights per trial (1 where not searched). */
  source_scale: z.partialRecord(z.enum(SOURCE_NAMES), z.number().positive()).default({}),
});

/** A validation metric the selection objective reads: `<split>.<metric>`. */
const ObjectiveMetric = z.enum(['tweeteval_val.macro_recall', 'tweeteval_val.macro_f1', 'youtube_val.macro_f1', 'goemotions_dev.macro_f1', 'sentube_val.macro_f1', 'umsab_val.macro_f1']);
export type ObjectiveMetric = z.infer<typeof ObjectiveMetric>;
export type HyperParams = z.infer<typeof HyperParams>;

export const ParamsSchema = z.object({
  seed: z.number().int(),
  data: z.object({
    dir: z.string(),
    limit_per_file: z.number().int().positive().nullable(),
    youtube_val_fraction: z.number().gt(0).lt(1),
    /** Share of SenTube videos (with all their comments) held out for validation. */
    sentube_val_fraction: z.number().gt(0).lt(1),
    /** Exponent on the Emoji Sentiment Ranking shares for the synthetic emoji-only examples. */
    emoji_sharpen: z.number().positive(),
    /** Scale on the ranking's neutral share for emoji-only examples (see preprocess.ts emojiExamples). */
    emoji_neutral_scale: z.number().min(0).max(1),
    /** How many augmented rows of each kind to add (see preprocess.ts augment). */
    augment: z.object({
      negated_neutral: z.number().int().nonnegative(),
      contrast: z.number().int().nonnegative(),
      used_to: z.number().int().nonnegative(),
      typos: z.number().int().nonnegative(),
      /** Comments with a video time stamp or a link added (the label stays): see preprocess.ts augment. */
      context: z.number().int().nonnegative().default(0),
    }),
    /**
     * A feedback snapshot (`npm run collect`): a folder, or an id under the snapshots folder. Its
     * agreed corrections train as the `feedback` source; null: none. `npm run train --
     * --feedback-snapshot ID` and `npm run retrain` set it for one run.
     */
    feedback_snapshot: z.string().min(1).nullable().default(null),
    /** The newest corrections held out as the feedback evaluation set (preprocess.ts splitFeedback). */
    feedback_holdout: z.object({ fraction: z.number().gt(0).lt(1), min_rows: z.number().int().nonnegative() }).default({ fraction: 0.2, min_rows: 20 }),
  }),
  /** Loss weight of each training source (before class balancing within the source). */
  sources: SourceWeights,
  /** Extra loss weight of rows in a language (any source), e.g. for a language that lags. */
  language_weights: z.record(z.string(), z.number().positive()).default({}),
  featurizer: FeaturizerConfigSchema,
  langid: z.object({
    buckets: powerOfTwo(1 << 20),
    epochs: z.number().int().positive(),
    learning_rate: z.number().positive(),
    l2: z.number().nonnegative(),
    /** Probability of "other" needed before a Latin-script text is called unsupported. */
    other_threshold: z.number().gt(0).lt(1),
    /** Only a text's first this many features are read (core/langid.ts). */
    max_features: z.number().int().positive(),
    /** Log-odds added to English after training: the deployment prior (most comments are English). */
    english_prior: z.number(),
    /** Exponent on inverse class frequency in the loss (1 = balanced). */
    class_balance: z.number().min(0).max(1),
    /**
     * The classifier is trained this many times, with seeds seed, seed + 1, …, and the weights are
     * averaged: one seed's idiosyncratic weights decide many short comments (1 = a single run).
     */
    seeds: z.number().int().positive().default(1),
    /** Synthetic texts per unsupported Latin-script language (the "other" class). */
    other_per_language: z.number().int().positive(),
    /** Synthetic texts (function and sentiment words) per supported Latin-script language but en and hi. */
    synthetic_per_supported: z.number().int().nonnegative().default(0),
    /**
     * Short spans (1 to `max_words` words) of each class's training texts, added as rows of that class
     * (training/stages/langid.ts shortSpans): `per_language` for each, times `english_factor` for
     * English and `other_factor` for "other". 0 = none.
     */
    short_spans: z
      .object({
        per_language: z.number().int().nonnegative(),
        english_factor: z.number().int().positive(),
        other_factor: z.number().int().positive(),
        max_words: z.number().int().positive(),
      })
      .default({ per_language: 0, english_factor: 1, other_factor: 1, max_words: 4 }),
  }),
  calibration: z.object({
    /** Equal-width confidence bins of the expected calibration error. */
    ece_bins: z.number().int().min(2),
    /** The low-confidence threshold is the largest grid value below which validation accuracy is at most this. */
    low_confidence_max_accuracy: z.number().gt(0).lt(1),
    low_confidence_grid: z.tuple([z.number(), z.number()]),
    /** Fit a further temperature per language of the validation rows that carry one (UMSAB's seven). */
    per_language: z.boolean().default(true),
  }),
  search: z
    .object({
      trials: z.number().int().positive(),
      /** The output model averages the weights of this many best trials ("model soup"). */
      soup_top_k: z.number().int().positive(),
      /**
       * The greedy soup is built this many times, each starting from one of the best trials in turn,
       * and the soup with the highest objective is kept (1 = the single greedy pass from the best trial;
       * a search with fewer trials starts from each of them).
       */
      soup_starts: z.number().int().positive().default(1),
      /**
       * Selection objective: the mean of these validation metrics minus `shortfall_penalty` times the
       * summed shortfall of each below its floor, so no source can be given up for the average.
       */
      objective: z.object({
        floors: z.partialRecord(ObjectiveMetric, z.number().min(0).max(1)),
        /**
         * Per-language UMSAB validation floors: their shortfall is penalized like a source's, but they
         * stay out of the mean (the UMSAB mean is already one of the floors).
         */
        language_floors: z.record(z.string(), z.number().min(0).max(1)).default({}),
        shortfall_penalty: z.number().nonnegative(),
      }),
      defaults: HyperParams,
      space: z.object({
        learning_rate: Dimension,
        epochs: Dimension,
        l2: Dimension,
        class_balance: Dimension,
        source_scale: z.partialRecord(z.enum(SOURCE_NAMES), Dimension).default({}),
      }),
    })
    .refine((s) => s.soup_top_k <= s.trials, { message: 'soup_top_k must not exceed trials', path: ['soup_top_k'] }),
  gates: z.object({
    /** Floors on validation metrics of the exported model (same keys as the objective). */
    metrics: z.partialRecord(ObjectiveMetric, z.number().min(0).max(1)),
    /** Each UMSAB language's macro-F1 must reach its floor (the published FastText figure). */
    umsab_language_floors: z.record(z.string(), z.number().min(0).max(1)).default({}),
    /** Language identification accuracy on the validation texts. */
    langid_accuracy: z.number().min(0).max(1),
    /**
     * Gates a release accepts failing, each with its reason (gate name → why). A waived gate is
     * still computed, logged as WAIVED and kept in the run record; it only stops blocking registration.
     */
    waived: z.record(z.string(), z.string().min(10, 'give the reason')).default({}),
    /**
     * A waiver holds only while the floor is inside the metric's bootstrap interval at this
     * confidence: a miss within sampling noise can be waived, a real regression cannot.
     */
    waiver_interval: z.object({ confidence: z.number().gt(0).lt(1), samples: z.number().int().min(100) }).default({ confidence: 0.95, samples: 1000 }),
    parity_max_abs_diff: z.number().positive(),
    parity_argmax_agreement: z.number().max(1),
    model_max_bytes: z.number().int().positive(),
  }),
  export: z.object({
    parity_texts: z.number().int().positive(),
    golden_examples: z.number().int().positive(),
  }),
  /**
   * The champion/challenger gate (training/champion.ts): the new model against the one on the
   * default channel, on the same data. Its verdict is the manifest's `blessing`.
   */
  champion: z
    .object({
      /** δ: no class's F1 may drop by more than this on any slice with enough support. */
      per_class_f1_max_drop: z.number().min(0).max(1),
      /** −ε: the lower bound of the macro-F1 difference's bootstrap interval must be above this. */
      macro_f1_min_ci_lower: z.number().min(-1).max(0),
      /** Two-sided confidence of that interval (paired, stratified bootstrap). */
      confidence: z.number().gt(0.5).lt(1),
      bootstrap_samples: z.number().int().min(100).max(100_000),
      /** A class with fewer gold examples in a slice is reported but not held to δ there (its F1 is noise). */
      min_class_support: z.number().int().nonnegative(),
      /** The behavioural suite's failure rate may rise by at most this (absolute). */
      behavioral_max_increase: z.number().min(0).max(1),
    })
    .default({ per_class_f1_max_drop: 0.05, macro_f1_min_ci_lower: -0.01, confidence: 0.95, bootstrap_samples: 1000, min_class_support: 30, behavioral_max_increase: 0.02 }),
  model: z.object({ name: z.string(), version: SemverSchema, description: z.string().optional() }),
});
export type Params = z.infer<typeof ParamsSchema>;

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function deepMerge(base: unknown, over: unknown): unknown {
  if (!isObject(base) || !isObject(over)) return over;
  const out: Record<string, unknown> = { ...base };
  for (const [k, v] of Object.entries(over)) out[k] = k in base ? deepMerge(base[k], v) : v;
  return out;
}

function loadRaw(file: string, seen: Set<string>): Record<string, unknown> {
  const path = resolve(file);
  if (seen.has(path)) throw new Error(`${path}: circular "extends"`);
  seen.add(path);
  const doc = parseYaml(readFileSync(path, 'utf8')) as unknown;
  if (!isObject(doc)) throw new Error(`${path}: expected a YAML mapping`);
  const { extends: parent, ...rest } = doc;
  if (parent === undefined) return rest;
  if (typeof parent !== 'string') throw new Error(`${path}: "extends" must be a file name`);
  return deepMerge(loadRaw(resolve(dirname(path), parent), seen), rest) as Record<string, unknown>;
}

/** Load and validate a params file. */
export function loadParams(file: string): Params {
  const raw = loadRaw(file, new Set());
  const parsed = ParamsSchema.safeParse(raw);
  if (!parsed.success) {
    throw new Error(`${file}: invalid params: ` + parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; '));
  }
  return parsed.data;
}

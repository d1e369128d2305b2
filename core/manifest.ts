/**
 * The model bundle manifest: what a model is, how to feed it, how to verify it, and the reference
 * distributions drift is measured against. Validated wherever a manifest crosses a trust boundary
 * (registry upload, extension update, CLI `--model`).
 */
import { z } from 'zod';
import { LABELS } from './labels.js';

/** Semantic version, without build metadata (versions name R2 keys and URL segments). */
export const SEMVER_RE = /^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(?:-[0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*)?$/;
export const SemverSchema = z.string().regex(SEMVER_RE, 'must be a semantic version like 1.2.3');

export const Sha256Schema = z.string().regex(/^[0-9a-f]{64}$/, 'must be a lowercase hex sha256');

/** Relative file path inside a bundle: no absolute paths, no `..`, no backslashes. */
export const BundlePathSchema = z
  .string()
  .min(1)
  .max(200)
  .regex(/^(?!\/)(?!.*(?:^|\/)\.\.?(?:\/|$))[A-Za-z0-9._\-/]+$/, 'must be a relative path inside the bundle');

export const ProbsSchema = z.array(z.number().min(0).max(1)).length(LABELS.length);

/** A hash-table size: a power of two from 2 to `max` (ids are masked, not taken modulo). */
export function powerOfTwo(max: number) {
  return z
    .number()
    .int()
    .min(2)
    .max(max)
    .refine((n) => (n & (n - 1)) === 0, 'must be a power of two');
}

export const FeaturizerConfigSchema = z.object({
  /** Featurizer algorithm (core/featurize.ts FEATURIZER_VERSION); absent means 2 (model 1.0.0). */
  version: z.union([z.literal(2), z.literal(3), z.literal(4), z.literal(5), z.literal(6), z.literal(7), z.literal(8)]).optional(),
  buckets: powerOfTwo(1 << 24),
  seed: z.number().int(),
  word_ngrams: z.number().int().min(1).max(3),
  char_ngrams: z.tuple([z.number().int().min(1), z.number().int().max(8)]).nullable(),
  weights: z.object({
    unigram: z.number(),
    bigram: z.number(),
    trigram: z.number(),
    char: z.number(),
    flag: z.number(),
    lexicon: z.number(),
  }),
  lexicon: z.boolean(),
  max_chars: z.number().int().positive(),
});

export const TensorSpecSchema = z.object({
  name: z.string(),
  dtype: z.enum(['int32', 'int64', 'float32']),
  /** Symbolic dimensions are strings ("batch", "features"). */
  shape: z.array(z.union([z.number().int(), z.string()])),
  description: z.string().optional(),
});

export const BundleFileSchema = z.object({
  path: BundlePathSchema,
  sha256: Sha256Schema,
  bytes: z.number().int().nonnegative(),
});

export const HistogramSchema = z.object({
  /** Bin edges, ascending; counts has edges.length - 1 entries. */
  edges: z.array(z.number()).min(2),
  counts: z.array(z.number().nonnegative()),
});

/** Training-time distributions that live traffic is compared with (see core/drift.ts). */
export const ReferenceSchema = z.object({
  /** Dataset the reference was computed on. */
  source: z.string(),
  n: z.number().int().positive(),
  label_shares: ProbsSchema,
  confidence_hist: HistogramSchema,
  /** Counts of hashed-token buckets (core/token-buckets.ts), one per bucket. */
  token_hist: z.object({ buckets: z.number().int().positive(), counts: z.array(z.number().nonnegative()) }),
});

export const GoldenExampleSchema = z.object({ text: z.string(), probs: ProbsSchema });

export const EvalMetricsSchema = z.object({
  n: z.number().int().nonnegative(),
  accuracy: z.number(),
  macro_f1: z.number(),
  macro_recall: z.number(),
});

/** Calibration of the probabilities and the threshold below which a prediction is shown as uncertain. */
export const ConfidenceSchema = z.object({
  /** Temperature the logits were divided by (already folded into the weights). */
  temperature: z.number().positive(),
  /** A top probability below this is "low confidence": the UI says so instead of showing a verdict. */
  low_threshold: z.number().min(0).max(1),
  /** Expected calibration error (15 equal-width bins) on the pooled validation sets, before and after. */
  ece_before: z.number().min(0).max(1),
  ece_after: z.number().min(0).max(1),
  /**
   * A further temperature per identified language, fitted on that language's validation set and
   * applied to its texts' probabilities at scoring (core/scorer.ts applyLanguageTemperatures).
   * English is the pooled calibration's own population and has none.
   */
  language_temperatures: z.record(z.string().min(2).max(8), z.number().min(0.125).max(8)).optional(),
});

/** Supported languages, their validation metrics, and the Latin-script language classifier. */
export const LanguagesSchema = z.object({
  supported: z.array(z.string().min(2).max(8)).min(1),
  /** Validation metrics per supported language (UMSAB val for the seven, pooled English sets for en). */
  metrics: z.record(z.string(), EvalMetricsSchema.extend({ source: z.string() })).default({}),
  langid: z.object({
    file: BundlePathSchema,
    labels: z.array(z.string()).min(2),
    buckets: powerOfTwo(1 << 20),
    scales: z.array(z.number().positive()),
    bias: z.array(z.number()),
    other_threshold: z.number().min(0).max(1),
    /** Only the first this many features of a text are read (core/langid.ts). */
    max_features: z.number().int().positive().optional(),
    /** Log-odds per label added when choosing among supported languages (core/langid.ts). */
    prior: z.array(z.number()).optional(),
    /** Accuracy of the full language identification (script + classifier) on validation texts. */
    accuracy: z.number().min(0).max(1).optional(),
  }),
});

/**
 * The champion/challenger gate's verdict on this model (training/champion.ts), written into the
 * manifest before it is signed, so the release signature covers it. The registry reads it when a
 * version is promoted to the default channel (worker/registry/blessing.ts): only a model blessed
 * against the version that channel serves may replace it, unless an admin forces the promotion.
 * The full report (every slice, every class) is `blessing.json` beside the bundle and in the run
 * record; `report_sha256` binds it to this summary. Bundles made before the gate have no blessing.
 */
export const BlessingSchema = z.object({
  schema: z.literal(1),
  verdict: z.enum(['blessed', 'refused']),
  decided_at: z.iso.datetime(),
  /** The model that was on the default channel when the gate ran; null: there was none. */
  champion: z.object({ version: SemverSchema, manifest_sha256: Sha256Schema }).nullable(),
  /** The thresholds the verdict was reached with (training/params.yaml `champion`). */
  criteria: z.object({
    per_class_f1_max_drop: z.number().min(0).max(1),
    macro_f1_min_ci_lower: z.number().min(-1).max(1),
    confidence: z.number().gt(0).lt(1),
    bootstrap_samples: z.number().int().positive(),
    seed: z.number().int(),
    min_class_support: z.number().int().nonnegative(),
    behavioral_max_increase: z.number().min(0).max(1),
  }),
  /** Challenger minus champion mean macro-F1 over the primary slices, with its paired bootstrap interval. */
  macro_f1_diff: z.object({ value: z.number(), lower: z.number(), upper: z.number() }).nullable(),
  slices: z.number().int().nonnegative(),
  /** Why a refused model was refused, one line per failed check (empty when blessed). */
  failures: z.array(z.string().max(500)).max(200),
  report_sha256: Sha256Schema,
  /** The feedback snapshot the challenger was trained with (training/snapshot.ts), if any. */
  snapshot: Sha256Schema.nullable().optional(),
  run_id: z.string().max(100).optional(),
});
export type Blessing = z.infer<typeof BlessingSchema>;

const commonFields = {
  name: z.string().min(1).max(100),
  version: SemverSchema,
  created_at: z.iso.datetime(),
  labels: z.tuple([z.literal(LABELS[0]), z.literal(LABELS[1]), z.literal(LABELS[2])]),
  files: z.array(BundleFileSchema).min(1),
  metrics: z.record(z.string(), EvalMetricsSchema).default({}),
  reference: ReferenceSchema.optional(),
  golden: z.array(GoldenExampleSchema).default([]),
  /** Largest |Δprob| a runtime may show on a golden example and still be accepted. */
  golden_tolerance: z.number().positive().max(0.1).default(1e-3),
  description: z.string().max(2000).optional(),
  confidence: ConfidenceSchema.optional(),
  blessing: BlessingSchema.optional(),
};

export const NgramOnnxManifestSchema = z.object({
  ...commonFields,
  format: z.literal('ngram-onnx'),
  featurizer: z.object({ id: z.string(), config: FeaturizerConfigSchema }),
  model: z.object({
    file: BundlePathSchema,
    opset: z.number().int(),
    inputs: z.array(TensorSpecSchema),
    outputs: z.array(TensorSpecSchema),
    quantization: z.string(),
  }),
  languages: LanguagesSchema.optional(),
  training: z
    .object({
      run_id: z.string(),
      params_sha256: Sha256Schema,
      data_sha256: z.record(z.string(), Sha256Schema),
    })
    .optional(),
});

/** A transformer bundle in the transformers.js layout (config.json, tokenizer.json, onnx/model_quantized.onnx). */
export const HfTextClassificationManifestSchema = z.object({
  ...commonFields,
  format: z.literal('hf-text-classification'),
  model: z.object({
    file: BundlePathSchema.default('onnx/model_quantized.onnx'),
    /** Hugging Face tokenizers `tokenizer.json` the text is encoded with. */
    tokenizer: BundlePathSchema.default('tokenizer.json'),
    /** `tokenizer_config.json` beside it (special tokens, casing), read with the tokenizer. */
    tokenizer_config: BundlePathSchema.default('tokenizer_config.json'),
    /** config.json id2label mapped onto our labels, in output-column order. */
    id2label: z.record(z.string(), z.enum(LABELS)).refine((m) => {
      const keys = Object.keys(m).sort();
      return keys.length === LABELS.length && keys.every((k, i) => k === String(i)) && new Set(Object.values(m)).size === LABELS.length;
    }, 'must map output columns 0..2 onto each label exactly once'),
    max_length: z.number().int().positive().default(128),
  }),
});

export const ModelManifestSchema = z.discriminatedUnion('format', [NgramOnnxManifestSchema, HfTextClassificationManifestSchema]);

export type ModelManifest = z.infer<typeof ModelManifestSchema>;
export type NgramOnnxManifest = z.infer<typeof NgramOnnxManifestSchema>;
export type HfTextClassificationManifest = z.infer<typeof HfTextClassificationManifestSchema>;
export type Reference = z.infer<typeof ReferenceSchema>;
export type Confidence = z.infer<typeof ConfidenceSchema>;
export type Languages = z.infer<typeof LanguagesSchema>;

/** Default for bundles without calibration: below 50% no label is more likely right than wrong. */
export const DEFAULT_LOW_CONFIDENCE = 0.5;

/** The top probability below which a prediction of this model is shown as uncertain. */
export function lowConfidenceThreshold(manifest: { confidence?: Confidence | undefined }): number {
  return manifest.confidence?.low_threshold ?? DEFAULT_LOW_CONFIDENCE;
}
export type GoldenExample = z.infer<typeof GoldenExampleSchema>;

/** Parse untrusted JSON into a manifest, with every failing field named in the error. */
export function parseManifest(value: unknown): ModelManifest {
  const result = ModelManifestSchema.safeParse(value);
  if (!result.success) {
    throw new ManifestError(
      'invalid model manifest: ' + result.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; '),
      result.error.issues.map((i) => ({ path: i.path.join('.'), message: i.message })),
    );
  }
  // Every declared file is unique and the model file is among them.
  const paths = new Set<string>();
  for (const f of result.data.files) {
    if (paths.has(f.path)) throw new ManifestError(`invalid model manifest: duplicate file ${f.path}`, []);
    paths.add(f.path);
  }
  const required: Array<[string, string]> = [['model.file', result.data.model.file]];
  if (result.data.format === 'ngram-onnx' && result.data.languages) required.push(['languages.langid.file', result.data.languages.langid.file]);
  if (result.data.format === 'hf-text-classification') {
    required.push(['model.tokenizer', result.data.model.tokenizer], ['model.tokenizer_config', result.data.model.tokenizer_config]);
  }
  for (const [field, path] of required) {
    if (!paths.has(path)) throw new ManifestError(`invalid model manifest: ${field} ${path} is not in files`, []);
  }
  return result.data;
}

export class ManifestError extends Error {
  constructor(
    message: string,
    readonly issues: Array<{ path: string; message: string }>,
  ) {
    super(message);
    this.name = 'ManifestError';
  }
}

/** Compare two semantic versions (prerelease sorts before its release). */
export function compareSemver(a: string, b: string): number {
  const pa = SEMVER_RE.exec(a);
  const pb = SEMVER_RE.exec(b);
  if (!pa || !pb) throw new Error(`not a semantic version: ${!pa ? a : b}`);
  for (let i = 1; i <= 3; i++) {
    const d = Number(pa[i]) - Number(pb[i]);
    if (d !== 0) return Math.sign(d);
  }
  const ra = a.split('-')[1];
  const rb = b.split('-')[1];
  if (ra === rb) return 0;
  if (ra === undefined) return 1;
  if (rb === undefined) return -1;
  return ra < rb ? -1 : 1;
}

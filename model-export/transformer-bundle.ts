/**
 * Random-weight transformer bundles in the transformers.js layout (`hf-text-classification`):
 *
 *   config.json                 DistilBertConfig (model_type distilbert, id2label for our labels)
 *   tokenizer.json              uncased WordPiece tokenizer (model-export/transformer-vocab.ts)
 *   tokenizer_config.json
 *   onnx/model_quantized.onnx   int8 DistilBERT classifier (model-export/transformer-graph.ts)
 *   manifest.json               every file with sha256 and size, golden examples from onnxruntime-node
 *                               (each text alone, see core/hf-scorer.ts), checked on onnxruntime-web
 *
 * They are not sentiment models: they exist so the extension's transformer path can be tested with a
 * tiny bundle, and so benchmarks can measure what a distilbert-base-sized int8 graph costs.
 */
import * as ortNode from 'onnxruntime-node';
import * as ortWeb from 'onnxruntime-web';
import { goldenProbs, HfTextClassifier, type HfOrtModule } from '../core/hf-scorer.js';
import { LABELS, type Label } from '../core/labels.js';
import { parseManifest, type HfTextClassificationManifest } from '../core/manifest.js';
import { checkGolden, type GoldenCheck } from '../core/scorer.js';
import { sha256Hex } from '../node-runtime/sha256.js';
import { writeBundle } from './bundle.js';
import { GOLDEN_SEED_TEXTS, goldenExamples } from './reference.js';
import { buildDistilBertOnnx, type DistilBertDims } from './transformer-graph.js';
import { buildVocab, SPECIAL_TOKENS, tokenizerConfigJson, tokenizerJson } from './transformer-vocab.js';

export interface TransformerPreset extends Omit<DistilBertDims, 'num_labels'> {
  /** Default manifest name. */
  name: string;
  /** Tokens per text the classifier feeds the model (manifest model.max_length). */
  max_length: number;
  /**
   * Default golden tolerance. Dynamic int8 quantization turns ulp-level float differences between
   * runtimes (LayerNorm sums, fused vs unfused kernels, wasm without FMA) into occasional one-step
   * rounding flips of an activation, which then cascade: measured on 400 YouTube comments,
   * onnxruntime-node vs onnxruntime-web (wasm) differ by up to 3.8e-3 (tiny; 98% of texts agree
   * to 1e-7) and 1.3e-2 (distilbert; median 3.4e-3). The tolerances leave a margin over those.
   */
  golden_tolerance: number;
}

export const TRANSFORMER_PRESETS = {
  /** A few hundred KB: unit tests and the extension's end-to-end tests. */
  tiny: {
    name: 'ytsent-random-distilbert-tiny',
    vocab_size: 2048,
    dim: 32,
    n_layers: 2,
    n_heads: 2,
    hidden_dim: 64,
    max_position_embeddings: 64,
    max_length: 64,
    golden_tolerance: 1e-2,
  },
  /** distilbert-base-uncased's dimensions (≈67 MB int8): benchmarks only, generated on demand, never committed. */
  distilbert: {
    name: 'ytsent-random-distilbert-base',
    vocab_size: 30522,
    dim: 768,
    n_layers: 6,
    n_heads: 12,
    hidden_dim: 3072,
    max_position_embeddings: 512,
    max_length: 512,
    golden_tolerance: 3e-2,
  },
} as const satisfies Record<string, TransformerPreset>;

export type TransformerPresetName = keyof typeof TRANSFORMER_PRESETS;

export const MODEL_FILE = 'onnx/model_quantized.onnx';

export interface TransformerBundleOptions {
  preset: TransformerPresetName;
  seed?: number;
  /** Manifest version (semver); default 0.0.1. */
  version?: string;
  name?: string;
  /** ISO timestamp for the manifest; default now. Everything else in the bundle depends only on the other options. */
  createdAt?: string;
  /**
   * Label of each output column, as config.json id2label. The weights do not depend on it, so two
   * bundles that differ only here have the same logits with their columns renamed.
   */
  labelOrder?: readonly Label[];
  /** Extra golden texts after the built-in ones. */
  goldenTexts?: readonly string[];
  /** Largest |Δprob| a runtime may show on a golden example; default the preset's. */
  goldenTolerance?: number;
}

export interface TransformerBundle {
  manifest: HfTextClassificationManifest;
  /** Bundle path → contents, manifest.json excluded. */
  files: Map<string, Uint8Array>;
  /** The golden examples replayed on onnxruntime-web (wasm, one thread), as the extension will. */
  web_check: GoldenCheck;
}

/** A text longer than every preset's max_length in tokens, so goldens cover truncation. */
const LONG_TEXT = Array.from({ length: 60 }, (_, i) => `part ${i + 1} of this comment keeps going and going`).join(', ');
export const TRANSFORMER_GOLDEN_TEXTS: readonly string[] = [...GOLDEN_SEED_TEXTS, 'Ünïcödé café naïve 日本語 😀', LONG_TEXT];

function json(value: unknown): Uint8Array {
  return new TextEncoder().encode(JSON.stringify(value, null, 2) + '\n');
}

/** transformers' DistilBertConfig as config.json, with our labels. */
export function distilBertConfig(preset: TransformerPreset, id2label: Record<string, Label>, padTokenId: number): Record<string, unknown> {
  return {
    architectures: ['DistilBertForSequenceClassification'],
    model_type: 'distilbert',
    activation: 'gelu',
    attention_dropout: 0.1,
    dim: preset.dim,
    dropout: 0.1,
    hidden_dim: preset.hidden_dim,
    id2label,
    label2id: Object.fromEntries(Object.entries(id2label).map(([id, label]) => [label, Number(id)])),
    initializer_range: 0.02,
    max_position_embeddings: preset.max_position_embeddings,
    n_heads: preset.n_heads,
    n_layers: preset.n_layers,
    pad_token_id: padTokenId,
    problem_type: 'single_label_classification',
    qa_dropout: 0.1,
    seq_classif_dropout: 0.2,
    sinusoidal_pos_embds: false,
    tie_weights_: true,
    vocab_size: preset.vocab_size,
  };
}

/** Build the bundle in memory; golden probabilities come from onnxruntime-node, single-threaded. */
export async function buildTransformerBundle(options: TransformerBundleOptions): Promise<TransformerBundle> {
  const preset: TransformerPreset = TRANSFORMER_PRESETS[options.preset];
  const seed = options.seed ?? 0;
  const labelOrder = options.labelOrder ?? LABELS;
  if (labelOrder.length !== LABELS.length || new Set(labelOrder).size !== LABELS.length || !LABELS.every((l) => labelOrder.includes(l))) {
    throw new Error(`labelOrder must be a permutation of ${LABELS.join(', ')}`);
  }
  if (preset.max_length > preset.max_position_embeddings) throw new Error('max_length exceeds max_position_embeddings');
  const id2label = Object.fromEntries(labelOrder.map((label, i) => [String(i), label])) as Record<string, Label>;

  const vocab = buildVocab(preset.vocab_size);
  const files = new Map<string, Uint8Array>([
    ['config.json', json(distilBertConfig(preset, id2label, vocab.indexOf(SPECIAL_TOKENS.pad)))],
    ['tokenizer.json', json(tokenizerJson(vocab))],
    ['tokenizer_config.json', json(tokenizerConfigJson(preset.max_length))],
    [
      MODEL_FILE,
      buildDistilBertOnnx({
        dims: { ...preset, num_labels: LABELS.length },
        seed,
        docString: `ytsent random-weight DistilBERT (${options.preset}, seed ${seed}); int8 as quantize_dynamic writes it; not a trained model`,
      }),
    ],
  ]);

  const draft = {
    name: options.name ?? preset.name,
    version: options.version ?? '0.0.1',
    created_at: options.createdAt ?? new Date().toISOString(),
    format: 'hf-text-classification' as const,
    labels: [...LABELS] as [Label, Label, Label],
    description: `Random weights (seed ${seed}) with the ${options.preset} preset's dimensions, for tests and benchmarks. Not a sentiment model.`,
    model: { file: MODEL_FILE, tokenizer: 'tokenizer.json', tokenizer_config: 'tokenizer_config.json', id2label, max_length: preset.max_length },
    golden_tolerance: options.goldenTolerance ?? preset.golden_tolerance,
    metrics: {},
    golden: [],
  };
  const listed = [...files].map(([path, bytes]) => ({ path, sha256: sha256Hex(bytes), bytes: bytes.byteLength }));
  const withFiles = (golden: Array<{ text: string; probs: number[] }>) => parseManifest({ ...draft, golden, files: listed }) as HfTextClassificationManifest;

  // Golden probabilities from the bundle itself, through the same scorer the runtimes use.
  const texts = [...TRANSFORMER_GOLDEN_TEXTS, ...(options.goldenTexts ?? [])];
  const golden = goldenExamples(texts, await scoreGolden(ortNode as unknown as HfOrtModule, withFiles([]), files, texts));
  const manifest = withFiles(golden);

  // A bundle whose goldens the extension's runtime cannot reproduce would be rejected on every
  // install: refuse to write it.
  ortWeb.env.wasm.numThreads = 1;
  const webProbs = await scoreGolden(ortWeb as unknown as HfOrtModule, manifest, files, texts);
  const web_check = checkGolden(golden, webProbs, manifest.golden_tolerance);
  if (!web_check.ok) {
    throw new Error(
      `onnxruntime-web does not reproduce the golden examples within ${manifest.golden_tolerance} ` + `(max |Δp| ${web_check.max_abs_diff}): ${JSON.stringify(web_check.failures.slice(0, 3))}`,
    );
  }
  return { manifest, files, web_check };
}

async function scoreGolden(ort: HfOrtModule, manifest: HfTextClassificationManifest, files: ReadonlyMap<string, Uint8Array>, texts: readonly string[]): Promise<Float32Array> {
  const scorer = await HfTextClassifier.create(ort, manifest, files, { intraOpNumThreads: 1, interOpNumThreads: 1, executionMode: 'sequential' });
  try {
    return await goldenProbs(scorer, texts);
  } finally {
    await scorer.release();
  }
}

/** Build the bundle and write it to `dir` (manifest.json last, after every file it names). */
export async function writeTransformerBundle(dir: string, options: TransformerBundleOptions): Promise<TransformerBundle> {
  const bundle = await buildTransformerBundle(options);
  const { files: _listed, ...rest } = bundle.manifest;
  writeBundle(dir, rest, Object.fromEntries(bundle.files));
  return bundle;
}

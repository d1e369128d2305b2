/**
 * Stage 6, export: int8 quantization, the ONNX graph, the language classifier file, parity across
 * runtimes, golden examples, reference distributions, and the bundle (manifest.json, model.onnx,
 * langid.bin) with quantized-model metrics, calibration and per-language validation metrics.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { featurize, featurizerId, type FeaturizerConfig } from '../../core/featurize.js';
import { LABELS } from '../../core/labels.js';
import { decodeLangId, encodeLangId, SUPPORTED_LANGUAGES, type LangIdModel } from '../../core/langid.js';
import type { NgramOnnxManifest } from '../../core/manifest.js';
import { applyLanguageTemperatures, guessLanguage } from '../../core/scorer.js';
import { writeBundle } from '../../model-export/bundle.js';
import { buildOnnxModel, IO_SPEC, OPSET } from '../../model-export/onnx-graph.js';
import { checkParity, referenceProbs } from '../../model-export/parity.js';
import { dequantize, quantizeInt8 } from '../../model-export/quantize.js';
import { goldenExamples, GOLDEN_SEED_TEXTS, referenceDistributions } from '../../model-export/reference.js';
import type { Params } from '../params.js';
import { argmaxRows, NUM_CLASSES, predictProbs, rng, shuffleInPlace, type LinearModel } from '../softmax.js';
import { scoreSplit, type Scores } from '../validation.js';
import { evaluateLangId, loadLangId, validationLanguages } from './langid.js';
import { evalSplitsOf, readSplits } from './preprocess.js';
import { loadModel, loadValidation, scoreModel } from './train.js';

export const PARITY_FILE = 'parity.json';
export const LANGID_BUNDLE_FILE = 'langid.bin';
/** English validation splits pooled for the "en" entry of the manifest's per-language metrics. */
const ENGLISH_SPLITS = ['tweeteval_val', 'youtube_val', 'goemotions_dev', 'sentube_val'] as const;

export interface ExportContext {
  preprocessDir: string;
  featurizeDir: string;
  trainDir: string;
  langidDir: string;
  params: Params;
  paramsSha256: string;
  dataSha256: Record<string, string>;
  runId: string;
}

const brief = (s: Scores): Scores => ({ n: s.n, accuracy: s.accuracy, macro_f1: s.macro_f1, macro_recall: s.macro_recall });

export async function exportStage(dir: string, ctx: ExportContext): Promise<Record<string, unknown>> {
  const { params } = ctx;
  const featurizer: FeaturizerConfig = params.featurizer;
  const model = loadModel(ctx.trainDir);
  const quantized = quantizeInt8(model.weights, NUM_CLASSES);
  const deq = { weights: dequantize(quantized), bias: model.bias };
  const onnxBytes = buildOnnxModel({
    weights: quantized,
    bias: model.bias,
    modelVersion: params.model.version,
    docString: params.model.description ?? params.model.name,
  });

  // Metrics of the quantized model, UMSAB also per language.
  // With a feedback snapshot, the held-out corrections (feedback_val) are reported too.
  const names = evalSplitsOf(readSplits(ctx.preprocessDir));
  const sets = loadValidation(ctx.preprocessDir, ctx.featurizeDir, names);
  const scores = scoreModel(deq, sets);
  const metrics: NgramOnnxManifest['metrics'] = {};
  for (const split of names) {
    metrics[split] = brief(scores[split]!);
    for (const [lang, s] of Object.entries(scores[split]!.by_lang ?? {})) metrics[`${split}.${lang}`] = brief(s);
  }
  const english = sets.filter((s) => (ENGLISH_SPLITS as readonly string[]).includes(s.name));
  const enGold = Uint8Array.from(english.flatMap((s) => Array.from(s.data.labels)));
  const enPred = argmaxRows(
    predictProbs(
      deq,
      english.flatMap((s) => s.data.rows),
    ),
  );
  const languageMetrics: Record<string, Scores & { source: string }> = {
    en: { ...brief(scoreSplit(enGold, enPred)), source: `pooled English validation (${ENGLISH_SPLITS.join(', ')})` },
  };
  for (const [lang, s] of Object.entries(scores.umsab_val?.by_lang ?? {})) languageMetrics[lang] = { ...brief(s), source: 'UMSAB val' };

  // The language classifier, quantized like the model, and evaluated as shipped.
  const langid = loadLangId(ctx.langidDir);
  const encoded = encodeLangId(langid.weights as Float32Array, langid.labels.length);
  const langidMeta = {
    labels: [...langid.labels],
    buckets: langid.buckets,
    scales: encoded.scales,
    bias: Array.from(langid.bias),
    other_threshold: langid.other_threshold,
    max_features: langid.max_features,
    prior: langid.prior ? [...langid.prior] : undefined,
  };
  const shippedLangId = decodeLangId(encoded.bytes, langidMeta);
  const langidReport = evaluateLangId(shippedLangId, validationLanguages(ctx.preprocessDir, ctx.featurizeDir));

  // Only the languages whose own temperature passed its test (the others keep the pooled one).
  const fittedLanguages = Object.entries(model.calibration.by_lang ?? {}).filter(([, c]) => c.temperature !== 1);
  const languageTemperatures = fittedLanguages.length > 0 ? Object.fromEntries(fittedLanguages.map(([lang, c]) => [lang, c.temperature])) : undefined;

  const splits = readSplits(ctx.preprocessDir);
  const random = rng(params.seed ^ 0xe4);
  const parityTexts = shuffleInPlace(
    [...splits.tweeteval_test, ...splits.youtube_val, ...splits.umsab_val, ...splits.goemotions_dev].map((r) => r.text),
    random,
  ).slice(0, params.export.parity_texts);
  const goldenTexts = [
    ...GOLDEN_SEED_TEXTS,
    ...shuffleInPlace(
      splits.youtube_val.map((r) => r.text),
      random,
    ),
  ].slice(0, Math.max(params.export.golden_examples, GOLDEN_SEED_TEXTS.length));
  const youtubeTexts = [...splits.train.filter((r) => r.source === 'youtube'), ...splits.youtube_val].map((r) => r.text);
  // The confidences the scorers will report for these comments: each under its language's temperature.
  const reference = referenceDistributions('youtube comments (training + validation split)', youtubeTexts, calibratedProbs(deq, youtubeTexts, featurizer, shippedLangId, languageTemperatures));

  const manifestBase: Omit<NgramOnnxManifest, 'files'> = {
    name: params.model.name,
    version: params.model.version,
    created_at: new Date().toISOString(),
    format: 'ngram-onnx',
    description: params.model.description,
    labels: [...LABELS],
    featurizer: { id: featurizerId(featurizer), config: featurizer },
    model: { file: 'model.onnx', opset: OPSET, ...structuredClone(IO_SPEC), quantization: 'int8 symmetric per class, packed 3 per uint32 (byte = weight + 128)' },
    metrics,
    confidence: {
      temperature: model.calibration.temperature,
      low_threshold: model.calibration.low_threshold,
      ece_before: model.calibration.ece_before,
      ece_after: model.calibration.ece_after,
      ...(languageTemperatures ? { language_temperatures: languageTemperatures } : {}),
    },
    languages: {
      supported: [...SUPPORTED_LANGUAGES],
      metrics: languageMetrics,
      langid: { file: LANGID_BUNDLE_FILE, ...langidMeta, accuracy: langidReport.accuracy },
    },
    reference,
    golden: goldenExamples(goldenTexts, referenceProbs(deq, goldenTexts, featurizer)),
    golden_tolerance: 5e-4,
    training: { run_id: ctx.runId, params_sha256: ctx.paramsSha256, data_sha256: ctx.dataSha256 },
  };
  const manifest = writeBundle(dir, manifestBase, { 'model.onnx': onnxBytes, [LANGID_BUNDLE_FILE]: encoded.bytes }) as NgramOnnxManifest;
  const parity = await checkParity(manifest, new Uint8Array(readFileSync(join(dir, 'model.onnx'))), deq, parityTexts);
  writeFileSync(join(dir, PARITY_FILE), JSON.stringify(parity, null, 2));
  return { model_bytes: onnxBytes.byteLength, langid_bytes: encoded.bytes.byteLength, metrics, langid: langidReport, confidence: manifestBase.confidence, parity };
}

/** Probabilities as the scorers report them: the model's, then each text's language temperature (core/scorer.ts). */
function calibratedProbs(model: LinearModel, texts: readonly string[], config: FeaturizerConfig, langid: LangIdModel, temperatures: Record<string, number> | undefined): Float64Array {
  if (!temperatures) return referenceProbs(model, texts, config);
  const rows = texts.map((t) => featurize(t, config));
  const scratch = new Float64Array(langid.labels.length);
  const langs = texts.map((t, i) => {
    const row = { ids: rows[i]!.ids, values: rows[i]!.values, from: 0, to: rows[i]!.ids.length };
    return guessLanguage(t.length > config.max_chars ? t.slice(0, config.max_chars) : t, langid, () => row, scratch);
  });
  return applyLanguageTemperatures(predictProbs(model, rows), langs, temperatures);
}

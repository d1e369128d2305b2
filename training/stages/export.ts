/**
 * Stage 6, export: int8 quantization, the ONNX graph, parity across runtimes, golden examples,
 * reference distributions, and the bundle (manifest.json + model.onnx) with quantized-model metrics.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { FEATURIZER_ID, type FeaturizerConfig } from '../../core/featurize.js';
import { LABELS } from '../../core/labels.js';
import type { NgramOnnxManifest } from '../../core/manifest.js';
import { evaluatePredictions } from '../../core/metrics.js';
import { writeBundle } from '../../model-export/bundle.js';
import { buildOnnxModel, IO_SPEC, OPSET } from '../../model-export/onnx-graph.js';
import { checkParity, referenceProbs } from '../../model-export/parity.js';
import { dequantize, quantizeInt8 } from '../../model-export/quantize.js';
import { goldenExamples, GOLDEN_SEED_TEXTS, referenceDistributions } from '../../model-export/reference.js';
import type { Params } from '../params.js';
import { argmaxRows, NUM_CLASSES, predictProbs, rng, shuffleInPlace } from '../softmax.js';
import { loadFeatures } from './featurize.js';
import { EVAL_SPLITS, readSplits } from './preprocess.js';
import { loadModel } from './train.js';

export const PARITY_FILE = 'parity.json';

export interface ExportContext {
  preprocessDir: string;
  featurizeDir: string;
  trainDir: string;
  params: Params;
  paramsSha256: string;
  dataSha256: Record<string, string>;
  runId: string;
}

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

  const metrics: NgramOnnxManifest['metrics'] = {};
  for (const split of EVAL_SPLITS) {
    const data = loadFeatures(ctx.featurizeDir, split);
    const e = evaluatePredictions(data.labels, argmaxRows(predictProbs(deq, data.rows)));
    metrics[split] = { n: e.n, accuracy: e.accuracy, macro_f1: e.macro_f1, macro_recall: e.macro_recall };
  }

  const splits = readSplits(ctx.preprocessDir);
  const random = rng(params.seed ^ 0xe4);
  const parityTexts = shuffleInPlace([...splits.tweeteval_test, ...splits.youtube_val].map((r) => r.text), random).slice(
    0,
    params.export.parity_texts,
  );
  const goldenTexts = [...GOLDEN_SEED_TEXTS, ...shuffleInPlace(splits.youtube_val.map((r) => r.text), random)].slice(
    0,
    params.export.golden_examples,
  );
  const youtubeTexts = [...splits.train.filter((r) => r.source === 'youtube'), ...splits.youtube_val].map((r) => r.text);
  const reference = referenceDistributions(
    'youtube comments (training + validation split)',
    youtubeTexts,
    referenceProbs(deq, youtubeTexts, featurizer),
  );

  const manifestBase: Omit<NgramOnnxManifest, 'files'> = {
    name: params.model.name,
    version: params.model.version,
    created_at: new Date().toISOString(),
    format: 'ngram-onnx',
    description: params.model.description,
    labels: [...LABELS],
    featurizer: { id: FEATURIZER_ID, config: featurizer },
    model: { file: 'model.onnx', opset: OPSET, ...structuredClone(IO_SPEC), quantization: 'int8 symmetric per class, packed 3 per uint32 (byte = weight + 128)' },
    metrics,
    reference,
    golden: goldenExamples(goldenTexts, referenceProbs(deq, goldenTexts, featurizer)),
    golden_tolerance: 5e-4,
    training: { run_id: ctx.runId, params_sha256: ctx.paramsSha256, data_sha256: ctx.dataSha256 },
  };
  const manifest = writeBundle(dir, manifestBase, { 'model.onnx': onnxBytes }) as NgramOnnxManifest;
  const parity = await checkParity(manifest, new Uint8Array(readFileSync(join(dir, 'model.onnx'))), deq, parityTexts);
  writeFileSync(join(dir, PARITY_FILE), JSON.stringify(parity, null, 2));
  return { model_bytes: onnxBytes.byteLength, metrics, parity };
}

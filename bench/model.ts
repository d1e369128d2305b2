/**
 * Model benchmark (issue 2): quality and speed of ytsent against VADER, AFINN-165 and wink, on the
 * same texts with the same metric code, in the same process and run; model load time; bundle size.
 * Writes bench/results/model.{json,md}.
 */
import { gzipSync } from 'node:zlib';
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { featurize } from '../core/featurize.js';
import { labelIndex, type Label } from '../core/labels.js';
import { evaluatePredictions, type Evaluation } from '../core/metrics.js';
import { createNodeScorer, defaultModelDir, loadBundle } from '../node-runtime/bundle.js';
import { readChecksums, readDataset, type Row } from '../training/datasets.js';
import { loadParams } from '../training/params.js';
import { DEFAULT_PARAMS } from '../training/paths.js';
import { resolveDataDir } from '../training/pipeline.js';
import { splitYoutube } from '../training/stages/preprocess.js';
import { BASELINES } from './lexicon-baselines.js';
import { machine, median, table, writeResults } from './stats.js';

const RUNS = Number(process.env.BENCH_RUNS ?? 5);
const MIN_SECONDS = Number(process.env.BENCH_MIN_SECONDS ?? 0.5);

/** Comments per second for `work(texts)`, repeated until MIN_SECONDS; median of RUNS runs. */
async function throughput(texts: readonly string[], work: (chunk: readonly string[]) => unknown, batch: number): Promise<number> {
  const rates: number[] = [];
  for (let run = 0; run < RUNS; run++) {
    let n = 0;
    const started = performance.now();
    while ((performance.now() - started) / 1000 < MIN_SECONDS) {
      for (let i = 0; i < texts.length; i += batch) await work(texts.slice(i, i + batch));
      n += texts.length;
    }
    rates.push(n / ((performance.now() - started) / 1000));
  }
  return median(rates);
}

async function main(): Promise<void> {
  const params = loadParams(DEFAULT_PARAMS);
  const dataDir = resolveDataDir(params);
  const sums = readChecksums(dataDir);
  const ttTest = readDataset(dataDir, 'tweeteval_test', sums).rows;
  const [, ytVal] = splitYoutube(readDataset(dataDir, 'youtube', sums).rows, params.data.youtube_val_fraction, params.seed);
  const modelDir = defaultModelDir();
  const scorer = await createNodeScorer(modelDir);
  const version = scorer.manifest.version;

  const evalSets: Record<string, Row[]> = { 'tweeteval/test': ttTest, 'youtube val split': ytVal };
  const quality: Record<string, Record<string, Evaluation>> = {};
  const tools: Array<{ name: string; classify: (texts: readonly string[]) => Promise<Label[]> }> = [
    { name: `ytsent ${version}`, classify: async (texts) => (await scorer.predict(texts)).map((p) => p.label) },
    ...BASELINES.map((b) => ({ name: b.name, classify: async (texts: readonly string[]) => texts.map((t) => b.classify(t)) })),
  ];
  for (const tool of tools) {
    quality[tool.name] = {};
    for (const [set, rows] of Object.entries(evalSets)) {
      const predicted: Label[] = [];
      for (let i = 0; i < rows.length; i += 64) predicted.push(...(await tool.classify(rows.slice(i, i + 64).map((r) => r.text))));
      quality[tool.name]![set] = evaluatePredictions(
        rows.map((r) => labelIndex(r.label)),
        predicted.map(labelIndex),
      );
    }
    console.error(`quality: ${tool.name} done`);
  }

  // Speed on the YouTube comments: featurization included for ytsent, whole analysis for the others.
  const speedTexts = ytVal.map((r) => r.text);
  const speed: Record<string, { batch_1: number; batch_64: number }> = {};
  speed[`ytsent ${version}`] = {
    batch_1: await throughput(speedTexts, (c) => scorer.probs(c), 1),
    batch_64: await throughput(speedTexts, (c) => scorer.probs(c), 64),
  };
  const cfg = scorer.manifest.featurizer.config;
  const featurizeOnly = await throughput(speedTexts, (c) => c.forEach((t) => featurize(t, cfg)), 64);
  for (const b of BASELINES) {
    // Lexicon tools score one text per call; batching changes nothing, so both columns measure the same loop.
    const rate = await throughput(speedTexts, (c) => c.forEach((t) => b.classify(t)), 64);
    speed[b.name] = { batch_1: rate, batch_64: rate };
    console.error(`speed: ${b.name} done`);
  }

  const loadTimes: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const t0 = performance.now();
    const s = await createNodeScorer(modelDir);
    loadTimes.push(performance.now() - t0);
    await s.release();
  }
  const bundle = loadBundle(modelDir);
  const onnxBytes = readFileSync(join(modelDir, scorer.manifest.model.file));
  const size = {
    model_onnx_bytes: onnxBytes.byteLength,
    model_onnx_gzip_bytes: gzipSync(onnxBytes, { level: 9 }).byteLength,
    manifest_bytes: statSync(join(modelDir, 'manifest.json')).size,
    files: bundle.manifest.files.length,
  };
  await scorer.release();

  const results = {
    machine: machine(),
    model_version: version,
    runs: RUNS,
    quality: Object.fromEntries(
      Object.entries(quality).map(([tool, sets]) => [
        tool,
        Object.fromEntries(
          Object.entries(sets).map(([set, e]) => [set, { n: e.n, macro_recall: e.macro_recall, macro_f1: e.macro_f1, accuracy: e.accuracy }]),
        ),
      ]),
    ),
    speed_comments_per_s: speed,
    featurize_only_comments_per_s: featurizeOnly,
    model_load_ms_median: median(loadTimes),
    model_load_ms_all: loadTimes,
    size,
  };
  const sets = Object.keys(evalSets);
  const md = [
    `# Model benchmark (${new Date().toISOString().slice(0, 10)})`,
    '',
    `ytsent ${version} against lexicon tools on the same texts and the same metric code (core/metrics.ts).`,
    `Machine: ${String(results.machine.cpu)}, ${String(results.machine.cores)} cores, Node ${process.version}. Speed: medians of ${RUNS} runs, single-threaded, featurization included.`,
    '',
    '## Quality',
    '',
    table(
      ['tool', ...sets.flatMap((s) => [`${s} macro-recall`, `${s} macro-F1`])],
      Object.entries(results.quality).map(([tool, q]) => [tool, ...sets.flatMap((s) => [q[s]!.macro_recall, q[s]!.macro_f1])]),
    ),
    '',
    `tweeteval/test: n = ${ttTest.length}; youtube val split: n = ${ytVal.length} (seeded stratified 20% of youtube/comments, never trained on).`,
    '',
    '## Speed (comments/s)',
    '',
    table(
      ['tool', 'batch 1', 'batch 64'],
      Object.entries(speed).map(([tool, s]) => [tool, Math.round(s.batch_1), Math.round(s.batch_64)]),
    ),
    '',
    `ytsent featurization alone: ${Math.round(featurizeOnly).toLocaleString('en-US')} comments/s. Lexicon tools have no batch mode: both columns time the same per-text loop.`,
    '',
    '## Load time and size',
    '',
    table(
      ['metric', 'value'],
      [
        ['model load (read, sha256 verify, onnxruntime-node session), median ms', Number(results.model_load_ms_median.toFixed(1))],
        ['model.onnx bytes', size.model_onnx_bytes],
        ['model.onnx gzip -9 bytes', size.model_onnx_gzip_bytes],
        ['manifest.json bytes', size.manifest_bytes],
      ],
    ),
  ].join('\n');
  writeResults('model', results, md);
  console.log(md);
}

await main();

/**
 * `npm run evaluate -- --file labeled.jsonl|labeled.csv [--model DIR]` prints one JSON object:
 * {n, accuracy, macro_f1, macro_recall, per_class, confusion, model_version}. `confusion[gold][predicted]`.
 */
import { parseArgs } from 'node:util';
import { labelIndex, LABELS } from '../core/labels.js';
import { evaluatePredictions } from '../core/metrics.js';
import { createNodeScorer, defaultModelDir } from '../node-runtime/bundle.js';
import { readLabeled } from '../node-runtime/io.js';
import { batches, runCli, UsageError } from './common.js';

runCli('evaluate', async () => {
  let parsed;
  try {
    parsed = parseArgs({ options: { file: { type: 'string' }, model: { type: 'string' } } });
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  if (!parsed.values.file) throw new UsageError('usage: npm run evaluate -- --file labeled.jsonl|labeled.csv [--model DIR]');
  const rows = readLabeled(parsed.values.file);
  const scorer = await createNodeScorer(parsed.values.model ?? defaultModelDir());
  const predicted: number[] = [];
  for (const batch of batches(rows)) {
    for (const p of await scorer.predict(batch.map((r) => r.text))) predicted.push(labelIndex(p.label));
  }
  const e = evaluatePredictions(
    rows.map((r) => labelIndex(r.label)),
    predicted,
  );
  const confusion = Object.fromEntries(
    LABELS.map((gold, i) => [gold, Object.fromEntries(LABELS.map((pred, j) => [pred, e.confusion[i]![j]!]))]),
  );
  console.log(JSON.stringify({ ...e, confusion, model_version: scorer.manifest.version }, null, 2));
  await scorer.release();
});

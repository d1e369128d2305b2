/**
 * `npm run evaluate -- --file labeled.jsonl|labeled.csv [--model DIR]` prints one JSON object:
 * {n, accuracy, macro_f1, macro_recall, per_class, confusion, model_version}. `confusion[gold][predicted]`.
 * When records carry a `lang` field, `by_lang` adds each language's metrics, how often the model
 * identified that language, and the share it supports; `languages` summarizes identification.
 */
import { parseArgs } from 'node:util';
import { labelIndex, LABELS } from '../core/labels.js';
import { evaluatePredictions, type Evaluation } from '../core/metrics.js';
import type { Prediction } from '../core/scorer.js';
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
  const predictions: Prediction[] = [];
  for (const batch of batches(rows)) predictions.push(...(await scorer.predict(batch.map((r) => r.text))));
  const gold = rows.map((r) => labelIndex(r.label));
  const named = (e: Evaluation) => ({
    ...e,
    confusion: Object.fromEntries(LABELS.map((g, i) => [g, Object.fromEntries(LABELS.map((pred, j) => [pred, e.confusion[i]![j]!]))])),
  });
  const result: Record<string, unknown> = named(evaluatePredictions(gold, predictions.map((p) => labelIndex(p.label))));
  const langs = rows.map((r) => (typeof r.extra.lang === 'string' ? r.extra.lang : undefined));
  if (langs.some((l) => l !== undefined)) {
    const byLang: Record<string, unknown> = {};
    for (const lang of [...new Set(langs.filter((l): l is string => l !== undefined))].sort()) {
      const idx = langs.flatMap((l, i) => (l === lang ? [i] : []));
      const e = evaluatePredictions(
        idx.map((i) => gold[i]!),
        idx.map((i) => labelIndex(predictions[i]!.label)),
      );
      byLang[lang] = {
        n: e.n,
        accuracy: e.accuracy,
        macro_f1: e.macro_f1,
        macro_recall: e.macro_recall,
        lang_identified: idx.filter((i) => predictions[i]!.lang === lang).length / idx.length,
        supported: idx.filter((i) => predictions[i]!.supported).length / idx.length,
      };
    }
    result.by_lang = byLang;
  }
  console.log(JSON.stringify({ ...result, model_version: scorer.manifest.version }, null, 2));
  await scorer.release();
});

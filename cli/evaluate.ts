/**
 * `npm run evaluate -- --file labeled.jsonl|labeled.csv [--model DIR]` prints one JSON object:
 * {n, accuracy, macro_f1, macro_recall, per_class, confusion, model_version}. `confusion[gold][predicted]`.
 * When records carry a `lang` field, `by_lang` adds each language's metrics, how often the model
 * identified that language, and the share it supports; `languages` summarizes identification.
 *
 * The file is streamed (node-runtime/io.ts) and only counts are kept (a confusion matrix overall
 * and per language), so memory does not grow with the input. Relative paths are resolved against
 * the caller's folder.
 */
import { parseArgs } from 'node:util';
import { labelIndex, LABELS } from '../core/labels.js';
import { evaluateConfusion, type Evaluation } from '../core/metrics.js';
import { createNodeScorer, defaultModelDir } from '../node-runtime/bundle.js';
import { batchesOf, readLabeled, userPath } from '../node-runtime/io.js';
import { BATCH_SIZE, runCli, UsageError } from './common.js';

const emptyConfusion = (): number[][] => LABELS.map(() => LABELS.map(() => 0));

interface LangCounts {
  confusion: number[][];
  identified: number;
  supported: number;
}

runCli('evaluate', async () => {
  let parsed;
  try {
    parsed = parseArgs({ options: { file: { type: 'string' }, model: { type: 'string' } } });
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  if (!parsed.values.file) throw new UsageError('usage: npm run evaluate -- --file labeled.jsonl|labeled.csv [--model DIR]');
  const file = userPath(parsed.values.file);
  const scorer = await createNodeScorer(parsed.values.model ? userPath(parsed.values.model) : defaultModelDir());
  const confusion = emptyConfusion();
  const byLang = new Map<string, LangCounts>();
  for await (const batch of batchesOf(readLabeled(file), BATCH_SIZE)) {
    const predictions = await scorer.predict(batch.map((r) => r.text));
    batch.forEach((r, i) => {
      const p = predictions[i]!;
      const gold = labelIndex(r.label);
      const predicted = labelIndex(p.label);
      confusion[gold]![predicted]!++;
      const lang = r.extra.lang;
      if (typeof lang !== 'string') return;
      let counts = byLang.get(lang);
      if (!counts) byLang.set(lang, (counts = { confusion: emptyConfusion(), identified: 0, supported: 0 }));
      counts.confusion[gold]![predicted]!++;
      if (p.lang === lang) counts.identified++;
      if (p.supported) counts.supported++;
    });
  }
  const named = (e: Evaluation) => ({
    ...e,
    confusion: Object.fromEntries(LABELS.map((g, i) => [g, Object.fromEntries(LABELS.map((pred, j) => [pred, e.confusion[i]![j]!]))])),
  });
  const result: Record<string, unknown> = named(evaluateConfusion(confusion));
  if (byLang.size > 0) {
    const out: Record<string, unknown> = {};
    for (const lang of [...byLang.keys()].sort()) {
      const counts = byLang.get(lang)!;
      const e = evaluateConfusion(counts.confusion);
      out[lang] = {
        n: e.n,
        accuracy: e.accuracy,
        macro_f1: e.macro_f1,
        macro_recall: e.macro_recall,
        lang_identified: counts.identified / e.n,
        supported: counts.supported / e.n,
      };
    }
    result.by_lang = out;
  }
  console.log(JSON.stringify({ ...result, model_version: scorer.manifest.version }, null, 2));
  await scorer.release();
});

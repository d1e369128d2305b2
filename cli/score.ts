/**
 * `npm run score -- "text" ...` or `npm run score -- --file comments.jsonl|comments.csv [--model DIR]`
 * (or `--remote URL` to score with a backend's POST /v1/predict; the API key from `--key-file FILE`
 * or `$YTSENT_API_KEY`, never the command line)
 * prints one JSON line per text: {text, label, score, probs, lang, supported, low_confidence,
 * model_version}. `supported: false` means the text is in a language the model was not trained for:
 * its label is not a verdict. Other fields of file records (an id, say) are passed through untouched;
 * one that shares a name with an output field (a `label` column) keeps it, and the prediction goes
 * to `predicted_<name>` (said on stderr). Relative paths are resolved against the caller's folder.
 */
import { parseArgs } from 'node:util';
import { LABELS } from '../core/labels.js';
import { createNodeScorer, defaultModelDir } from '../node-runtime/bundle.js';
import { batchesOf, readTexts, userPath, type TextRecord } from '../node-runtime/io.js';
import type { Prediction } from '../core/scorer.js';
import { BATCH_SIZE, outputRecord, runCli, UsageError, writeOut } from './common.js';
import { API_KEY_ENV, readApiKey, remoteScorer, remoteUrl } from './remote.js';

runCli('score', async () => {
  let parsed;
  try {
    parsed = parseArgs({
      allowPositionals: true,
      options: { file: { type: 'string' }, model: { type: 'string' }, remote: { type: 'string' }, 'key-file': { type: 'string' }, key: { type: 'string' } },
    });
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  const { values, positionals } = parsed;
  if (values.key !== undefined) throw new UsageError(`--key is refused: a key on the command line ends up in shell history and ps output; use --key-file FILE or $${API_KEY_ENV}`);
  if (values.remote !== undefined && values.model !== undefined) throw new UsageError('give --model or --remote, not both');
  if (values['key-file'] !== undefined && values.remote === undefined) throw new UsageError('--key-file goes with --remote URL');
  if (values.file && positionals.length > 0) throw new UsageError('give texts or --file, not both');
  if (!values.file && positionals.length === 0) throw new UsageError('usage: npm run score -- "text" ... | --file comments.jsonl|comments.csv [--model DIR | --remote URL [--key-file FILE]]');
  positionals.forEach((t, i) => {
    if (t.trim() === '') throw new UsageError(`argument ${i + 1}: empty text`);
  });
  // A file is streamed batch by batch (node-runtime/io.ts); relative paths are the caller's.
  const records: AsyncIterable<TextRecord> | TextRecord[] = values.file ? readTexts(userPath(values.file)) : positionals.map((text, i) => ({ text, line: i + 1, extra: {} }));
  const output = outputRecord((message) => console.error(`score: ${message}`));
  // Remote: the backend's model and version, answer by answer (a promotion may happen mid-file).
  const remote = values.remote !== undefined ? remoteScorer(remoteUrl(values.remote), readApiKey(values['key-file'] !== undefined ? userPath(values['key-file']) : undefined)) : null;
  const scorer = remote ? null : await createNodeScorer(values.model ? userPath(values.model) : defaultModelDir());
  const version = scorer?.manifest.version;
  for await (const batch of batchesOf(records, BATCH_SIZE)) {
    const predictions: Array<Prediction & { model_version?: string }> = remote
      ? await remote.predict(
          batch.map((r) => r.text),
          batch.map((r) => r.line),
        )
      : await scorer!.predict(batch.map((r) => r.text));
    const lines = batch.map((r, i) => {
      const p = predictions[i]!;
      return JSON.stringify(
        output(r.extra, {
          text: r.text,
          label: p.label,
          score: round(p.score),
          probs: Object.fromEntries(LABELS.map((l, k) => [l, round(p.probs[k]!)])),
          lang: p.lang,
          supported: p.supported,
          low_confidence: p.low_confidence,
          model_version: p.model_version ?? version,
        }),
      );
    });
    await writeOut(lines.join('\n') + '\n');
  }
  await scorer?.release();
});

function round(x: number): number {
  return Math.round(x * 1e6) / 1e6;
}

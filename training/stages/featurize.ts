/** Stage 3, featurize: every split through core/featurize.ts (the serving featurizer), stored binary. */
import { join } from 'node:path';
import { featurize as featurizeText, type FeaturizerConfig } from '../../core/featurize.js';
import { labelIndex } from '../../core/labels.js';
import { progressBar } from '../progress.js';
import { readSplit, writeSplit, type FeaturizedSplit } from '../sparse-io.js';
import { readSplits, type Splits } from './preprocess.js';

export const splitFile = (split: keyof Splits): string => `${split}.features.bin`;

export async function featurizeStage(dir: string, preprocessDir: string, config: FeaturizerConfig): Promise<Record<string, unknown>> {
  const splits = readSplits(preprocessDir);
  const present = Object.entries(splits).filter((e): e is [keyof Splits, NonNullable<Splits[keyof Splits]>] => e[1] !== undefined);
  const total = present.reduce((a, [, rows]) => a + rows.length, 0);
  const bar = progressBar('featurize', total);
  const summary: Record<string, unknown> = {};
  for (const [name, rows] of present) {
    const out: FeaturizedSplit = { rows: [], labels: new Uint8Array(rows.length) };
    rows.forEach((r, i) => {
      out.rows.push(featurizeText(r.text, config));
      out.labels[i] = labelIndex(r.label);
      if (i % 500 === 0) bar.update(500);
    });
    writeSplit(join(dir, splitFile(name)), out);
    summary[name] = { rows: rows.length, mean_features: out.rows.reduce((a, r) => a + r.ids.length, 0) / Math.max(1, rows.length) };
  }
  bar.stop();
  return summary;
}

export function loadFeatures(featurizeDir: string, split: keyof Splits): FeaturizedSplit {
  return readSplit(join(featurizeDir, splitFile(split)));
}

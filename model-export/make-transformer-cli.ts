/**
 * `npm run make-transformer -- --preset tiny|distilbert --out DIR [--seed N] [--version X] [--name NAME]`
 *
 * Writes a random-weight DistilBERT bundle in the transformers.js layout (model-export/transformer-bundle.ts)
 * and prints its manifest summary as JSON.
 */
import { parseArgs } from 'node:util';
import { runCli, UsageError, userPath } from '../cli/common.js';
import { SEMVER_RE } from '../core/manifest.js';
import { TRANSFORMER_PRESETS, writeTransformerBundle, type TransformerPresetName } from './transformer-bundle.js';

const USAGE = 'usage: make-transformer --preset tiny|distilbert --out DIR [--seed N] [--version X] [--name NAME]';

async function main(): Promise<void> {
  let values;
  try {
    ({ values } = parseArgs({
      options: {
        preset: { type: 'string' },
        out: { type: 'string' },
        seed: { type: 'string' },
        version: { type: 'string' },
        name: { type: 'string' },
      },
    }));
  } catch (err) {
    throw new UsageError(`${(err as Error).message}\n${USAGE}`);
  }
  const preset = values.preset;
  if (!preset || !(preset in TRANSFORMER_PRESETS)) throw new UsageError(`--preset must be one of ${Object.keys(TRANSFORMER_PRESETS).join(', ')}\n${USAGE}`);
  if (!values.out) throw new UsageError(`--out is required\n${USAGE}`);
  const seed = values.seed === undefined ? 0 : Number(values.seed);
  if (!Number.isSafeInteger(seed)) throw new UsageError(`--seed must be an integer, got ${values.seed}`);
  if (values.version !== undefined && !SEMVER_RE.test(values.version)) throw new UsageError(`--version must be a semantic version, got ${values.version}`);

  const started = performance.now();
  const dir = userPath(values.out);
  const { manifest, web_check } = await writeTransformerBundle(dir, {
    preset: preset as TransformerPresetName,
    seed,
    version: values.version,
    name: values.name,
  });
  console.log(
    JSON.stringify(
      {
        dir,
        name: manifest.name,
        version: manifest.version,
        preset,
        seed,
        files: manifest.files,
        golden: manifest.golden.length,
        golden_tolerance: manifest.golden_tolerance,
        web_golden_max_abs_diff: web_check.max_abs_diff,
        seconds: Number(((performance.now() - started) / 1000).toFixed(2)),
      },
      null,
      2,
    ),
  );
}

runCli('make-transformer', main);

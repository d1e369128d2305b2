/**
 * `npm run train [-- --smoke] [--params FILE] [--data DIR] [--force] [--no-register]
 *  [--cache-dir DIR] [--models-dir DIR] [--runs-dir DIR]
 *  [--feedback-snapshot ID|DIR] [--champion DIR | --no-champion] [--register-refused]`
 *
 * `--champion DIR` runs the champion/challenger gate against that bundle (`--no-champion`: the gate
 * with nothing to compare, for a first release); a model it refuses is not registered unless
 * `--register-refused`. Exit status: 0 registered or not asked to, 1 a gate failed, 2 an error.
 */
import { parseArgs } from 'node:util';
import { userPath } from '../node-runtime/io.js';
import { DEFAULT_CACHE_DIR, DEFAULT_PARAMS, DEFAULT_RUNS_DIR, MODELS_DIR, SMOKE_PARAMS } from './paths.js';
import { runPipeline } from './pipeline.js';

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      params: { type: 'string' },
      smoke: { type: 'boolean' },
      data: { type: 'string' },
      force: { type: 'boolean' },
      'no-register': { type: 'boolean' },
      'cache-dir': { type: 'string' },
      'models-dir': { type: 'string' },
      'runs-dir': { type: 'string' },
      'feedback-snapshot': { type: 'string' },
      champion: { type: 'string' },
      'no-champion': { type: 'boolean' },
      'register-refused': { type: 'boolean' },
    },
  });
  if (values.champion !== undefined && values['no-champion']) throw new Error('--champion and --no-champion exclude each other');
  const { record, recordPath } = await runPipeline({
    // Paths given on the command line are the caller's (npm runs scripts in the package root).
    paramsFile: values.params ? userPath(values.params) : values.smoke ? SMOKE_PARAMS : DEFAULT_PARAMS,
    dataDir: values.data === undefined ? undefined : userPath(values.data),
    cacheDir: values['cache-dir'] ? userPath(values['cache-dir']) : DEFAULT_CACHE_DIR,
    modelsDir: values['models-dir'] ? userPath(values['models-dir']) : MODELS_DIR,
    runsDir: values['runs-dir'] ? userPath(values['runs-dir']) : DEFAULT_RUNS_DIR,
    force: values.force,
    register: !values['no-register'],
    // A folder is the caller's path; a bare id is looked up under the snapshots folder.
    feedbackSnapshot: values['feedback-snapshot']?.includes('/') ? userPath(values['feedback-snapshot']) : values['feedback-snapshot'],
    champion: values.champion !== undefined ? userPath(values.champion) : values['no-champion'] ? null : undefined,
    registerRefused: values['register-refused'],
  });
  console.log(JSON.stringify({ run_id: record.run_id, status: record.status, metrics: record.metrics, registered: record.registered, record: recordPath }, null, 2));
  return record.status === 'gates_failed' || record.status === 'champion_refused' ? 1 : 0;
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (err: Error) => {
    console.error(`train: ${err.message}`);
    process.exitCode = 2;
  },
);

/**
 * `npm run bench`: every benchmark in sequence (never in parallel: the machine is small and shared),
 * each writing bench/results/<name>.{json,md}. `npm run bench -- model` runs a subset.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const BENCHES = ['model', 'backend', 'ingest', 'predict', 'extension', 'behavioral', 'scrub'];
const wanted = process.argv.slice(2).length ? process.argv.slice(2) : BENCHES;
let failed = 0;
for (const name of wanted) {
  const file = fileURLToPath(new URL(`./${name}.ts`, import.meta.url));
  if (!existsSync(file)) {
    console.error(`bench: ${name}: no bench/${name}.ts`);
    failed++;
    continue;
  }
  console.error(`\n=== bench: ${name} ===`);
  const r = spawnSync(process.execPath, ['--import', 'tsx', file], { stdio: 'inherit' });
  if (r.status !== 0) {
    console.error(`bench: ${name} failed (exit ${r.status})`);
    failed++;
  }
}
process.exitCode = failed ? 1 : 0;

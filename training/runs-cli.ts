/**
 * `npm run runs`: list pipeline runs; `npm run runs -- compare A B`: params, data, metrics and
 * artifacts of two runs side by side (ids or unique prefixes). `--dir DIR` reads another runs folder.
 */
import { parseArgs } from 'node:util';
import { compareRuns, findRun, listRuns } from './runs.js';
import { DEFAULT_RUNS_DIR } from './paths.js';

const fmt = (v: unknown): string => (typeof v === 'number' ? (Number.isInteger(v) ? String(v) : v.toFixed(4)) : String(v ?? '-'));

function main(): number {
  const { positionals, values } = parseArgs({ allowPositionals: true, options: { dir: { type: 'string' }, json: { type: 'boolean' } } });
  const dir = values.dir ?? DEFAULT_RUNS_DIR;
  if (positionals[0] === 'compare') {
    if (positionals.length !== 3) throw new Error('usage: npm run runs -- compare RUN_A RUN_B');
    const a = findRun(dir, positionals[1]!);
    const b = findRun(dir, positionals[2]!);
    const cmp = compareRuns(a, b);
    if (values.json) {
      console.log(JSON.stringify(cmp, null, 2));
      return 0;
    }
    console.log(`A = ${a.run_id}\nB = ${b.run_id}`);
    for (const [section, rows] of Object.entries(cmp)) {
      console.log(`\n${section}${rows.length === 0 ? ': identical' : ''}`);
      for (const r of rows) {
        const delta = typeof r.a === 'number' && typeof r.b === 'number' ? `  (Δ ${(r.b - r.a >= 0 ? '+' : '') + (r.b - r.a).toFixed(4)})` : '';
        console.log(`  ${r.key.padEnd(44)} ${fmt(r.a).padEnd(20)} ${fmt(r.b)}${delta}`);
      }
    }
    return 0;
  }
  if (positionals.length > 0) throw new Error(`unknown command "${positionals[0]}" (use: compare A B)`);
  const runs = listRuns(dir);
  if (values.json) {
    console.log(JSON.stringify(runs, null, 2));
    return 0;
  }
  if (runs.length === 0) {
    console.log(`no runs in ${dir} (run npm run train)`);
    return 0;
  }
  console.log(['run_id'.padEnd(30), 'status'.padEnd(14), 'tt_val MR', 'yt_val F1', 'tt_test MR', 'cached', 'secs'].join('  '));
  for (const r of runs) {
    const m = r.metrics;
    console.log(
      [
        r.run_id.padEnd(30),
        r.status.padEnd(14),
        fmt(m.tweeteval_val?.macro_recall).padEnd(9),
        fmt(m.youtube_val?.macro_f1).padEnd(9),
        fmt(m.tweeteval_test?.macro_recall).padEnd(10),
        `${r.stages.filter((s) => s.cached).length}/${r.stages.length}`.padEnd(6),
        r.seconds.toFixed(1),
      ].join('  '),
    );
  }
  return 0;
}

try {
  process.exitCode = main();
} catch (err) {
  console.error(`runs: ${(err as Error).message}`);
  process.exitCode = 2;
}

/**
 * `npm run runs`: list pipeline runs (the runs folder and the records committed in models/<version>/);
 * `npm run runs -- compare A B`: params, data, metrics and artifacts of two runs side by side (run ids
 * or unique prefixes, model versions such as 2.0.0 for the run committed with that bundle, or run
 * record files). `--dir DIR` reads another runs folder; relative paths are the caller's.
 */
import { parseArgs } from 'node:util';
import { compareRuns, findRun, listRuns, type RunRecord } from './runs.js';
import { userPath } from '../node-runtime/io.js';
import { DEFAULT_RUNS_DIR, MODELS_DIR } from './paths.js';

const fmt = (v: unknown): string => (typeof v === 'number' ? (Number.isInteger(v) ? String(v) : v.toFixed(4)) : String(v ?? '-'));

function main(): number {
  const { positionals, values } = parseArgs({ allowPositionals: true, options: { dir: { type: 'string' }, json: { type: 'boolean' } } });
  const dir = values.dir ? userPath(values.dir) : DEFAULT_RUNS_DIR;
  const ref = (r: string): string => (r.endsWith('.json') ? userPath(r) : r);
  if (positionals[0] === 'compare') {
    if (positionals.length !== 3) throw new Error('usage: npm run runs -- compare RUN_A RUN_B (run ids or prefixes, model versions, or run record files)');
    const a = findRun(dir, ref(positionals[1]!), MODELS_DIR);
    const b = findRun(dir, ref(positionals[2]!), MODELS_DIR);
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
  const runs = listRuns(dir, MODELS_DIR);
  if (values.json) {
    console.log(JSON.stringify(runs, null, 2));
    return 0;
  }
  if (runs.length === 0) {
    console.log(`no runs in ${dir} (run npm run train)`);
    return 0;
  }
  // One column per validation source (the selection objective's metrics), then the test split.
  const columns: Array<[string, (m: RunRecord['metrics']) => number | undefined]> = [
    ['tt_val MR', (m) => m.tweeteval_val?.macro_recall],
    ['yt_val F1', (m) => m.youtube_val?.macro_f1],
    ['go_dev F1', (m) => m.goemotions_dev?.macro_f1],
    ['st_val F1', (m) => m.sentube_val?.macro_f1],
    ['um_val F1', (m) => m.umsab_val?.macro_f1],
    ['tt_test MR', (m) => m.tweeteval_test?.macro_recall],
    // The held-out corrections of a run with a feedback snapshot (docs/MLOPS.md).
    ['fb_val F1', (m) => m.feedback_val?.macro_f1],
  ];
  console.log(['run_id'.padEnd(30), 'status'.padEnd(16), ...columns.map(([h]) => h.padEnd(10)), 'gate'.padEnd(8), 'snapshot'.padEnd(12), 'cached', 'secs'].join('  '));
  for (const r of runs) {
    console.log(
      [
        r.run_id.padEnd(30),
        r.status.padEnd(16),
        ...columns.map(([, get]) => fmt(get(r.metrics)).padEnd(10)),
        (r.blessing?.verdict ?? '-').padEnd(8),
        (r.feedback_snapshot?.id.slice(0, 12) ?? '-').padEnd(12),
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

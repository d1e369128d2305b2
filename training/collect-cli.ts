/**
 * `npm run collect -- --backend URL [--from YYYY-MM-DDTHH] [--to YYYY-MM-DDTHH | --hours N]
 *   [--include-current-hour] [--min-clients N] [--kinds corrections,samples] [--model-version V]...
 *   [--token-file FILE] [--out DIR] [--cache-dir DIR] [--data DIR]`
 *
 * Pulls agreed corrections and text samples from a backend's admin export into a feedback snapshot
 * (training/collect.ts, training/snapshot.ts) and prints `{id, dir, ...counts}` as JSON on stdout;
 * progress goes to stderr. The default range is the 168 hours that ended last (to = the start of
 * the current hour), so running it twice within an hour gives the same snapshot id.
 *
 * The read token comes from `--token-file`, else `$READ_TOKEN`, else the repository's `.dev.vars`
 * (written by `npm start`); never from the command line, where shell history and `ps` would keep it.
 */
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { userPath } from '../node-runtime/io.js';
import { readDevVars, readTokenFile } from '../scripts/dev-secrets.js';
import { collect, CollectError, hourKey, HOUR_MS, type CollectKind } from './collect.js';
import { loadParams } from './params.js';
import { DEFAULT_PARAMS, REPO_ROOT } from './paths.js';
import { resolveDataDir } from './pipeline.js';
import { progressBar } from './progress.js';
import { snapshotsDir } from './snapshot.js';

export const DEFAULT_COLLECT_CACHE = join(REPO_ROOT, 'data', 'collect-cache');

const USAGE =
  'usage: npm run collect -- --backend URL [--from YYYY-MM-DDTHH] [--to YYYY-MM-DDTHH | --hours N] [--include-current-hour]\n' +
  '         [--min-clients N] [--kinds corrections,samples] [--model-version V]... [--token-file FILE] [--out DIR] [--cache-dir DIR] [--data DIR]\n' +
  'read token: --token-file FILE, else $READ_TOKEN, else .dev.vars (never on the command line)';

/** The read token, from a file, the environment or .dev.vars (in that order). */
export function readToken(file: string | undefined, env: NodeJS.ProcessEnv = process.env): string {
  if (file) return readTokenFile(file);
  const token = env.READ_TOKEN || readDevVars(join(REPO_ROOT, '.dev.vars')).get('READ_TOKEN');
  if (!token) throw new CollectError('no read token: use --token-file FILE or set READ_TOKEN (or run `npm start` once to create .dev.vars)');
  return token;
}

async function main(): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      options: {
        backend: { type: 'string' },
        from: { type: 'string' },
        to: { type: 'string' },
        hours: { type: 'string' },
        'include-current-hour': { type: 'boolean' },
        'min-clients': { type: 'string' },
        kinds: { type: 'string' },
        'model-version': { type: 'string', multiple: true },
        'token-file': { type: 'string' },
        out: { type: 'string' },
        'cache-dir': { type: 'string' },
        data: { type: 'string' },
        // Parsed only to refuse it with a clear message.
        token: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (e) {
    console.error(`collect: ${(e as Error).message}\n${USAGE}`);
    return 2;
  }
  const v = parsed.values;
  if (v.help) {
    console.log(USAGE);
    return 0;
  }
  if (v.token !== undefined) {
    console.error('collect: --token is not accepted: a token on the command line ends up in shell history and in `ps` output. Use --token-file FILE or $READ_TOKEN.');
    return 2;
  }
  if (!v.backend) {
    console.error(`collect: --backend is required\n${USAGE}`);
    return 2;
  }
  const now = Date.now();
  const currentHour = Math.floor(now / HOUR_MS) * HOUR_MS;
  const int = (name: string, raw: string | undefined, min: number, max: number): number | undefined => {
    if (raw === undefined) return undefined;
    if (!/^\d+$/.test(raw) || Number(raw) < min || Number(raw) > max) throw new CollectError(`--${name} must be an integer in [${min}, ${max}], got ${JSON.stringify(raw)}`);
    return Number(raw);
  };
  try {
    const hours = int('hours', v.hours, 1, 24 * 92) ?? 168;
    const to = v.to ?? hourKey(v['include-current-hour'] ? currentHour + HOUR_MS : currentHour);
    const from = v.from ?? hourKey(Date.parse(`${to}:00:00.000Z`) - hours * HOUR_MS);
    const kinds = (v.kinds ?? 'corrections,samples').split(',').map((k) => k.trim());
    for (const k of kinds) if (k !== 'corrections' && k !== 'samples') throw new CollectError(`--kinds: unknown kind ${JSON.stringify(k)} (corrections, samples)`);
    let bar: ReturnType<typeof progressBar> | null = null;
    let last = 0;
    const result = await collect({
      backend: v.backend,
      token: readToken(v['token-file'] ? userPath(v['token-file']) : undefined),
      from,
      to,
      minClients: int('min-clients', v['min-clients'], 1, 1000),
      kinds: kinds as CollectKind[],
      modelVersions: v['model-version'],
      dataDir: resolveDataDir(loadParams(DEFAULT_PARAMS), v.data === undefined ? undefined : userPath(v.data)),
      snapshotsRoot: snapshotsDir(v.out === undefined ? undefined : userPath(v.out)),
      cacheDir: v['cache-dir'] ? userPath(v['cache-dir']) : DEFAULT_COLLECT_CACHE,
      now: () => now,
      log: (line) => console.error(line),
      onProgress: (done, total) => {
        bar ??= progressBar('samples', total);
        bar.update(done - last);
        last = done;
        if (done === total) bar.stop();
      },
    });
    console.log(
      JSON.stringify(
        { id: result.id, dir: result.dir, created: result.created, source: result.manifest.source, corrections: result.manifest.corrections, samples: result.manifest.samples, hours: result.hours },
        null,
        2,
      ),
    );
    return 0;
  } catch (e) {
    console.error(`collect: ${e instanceof Error ? e.message : String(e)}`);
    return e instanceof CollectError ? 1 : 2;
  }
}

if (process.argv[1] && process.argv[1].endsWith('collect-cli.ts')) {
  main().then((code) => {
    process.exitCode = code;
  });
}

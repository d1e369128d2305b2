/**
 * `npm start`: the whole product on this machine.
 *
 * 1. `.dev.vars` with the Worker's secrets (a token per operator role, the voter-id pepper), random
 *    ones added where missing (never committed; mode 0600; scripts/dev-secrets.ts).
 * 2. `wrangler dev` on 127.0.0.1:8787 with local R2 persisted under .wrangler/state.
 * 3. Publishes the newest committed model under models/, signed with a development release key
 *    (`.dev-release-key.json`, git-ignored, made on first run), and promotes it to `stable`
 *    (idempotent: a restart finds it published and current).
 * 4. Builds the extension (`npm run build`) when its Vite config exists, pinning that development
 *    key as well as the committed release keys (YTSENT_EXTRA_RELEASE_KEYS): such a build updates
 *    from this local backend, and `npm run package` refuses it (docs/RELEASES.md).
 * 5. Prints what runs where and what to do next; Ctrl-C / SIGTERM stops everything (wrangler and
 *    the workerd processes it started).
 *
 * Options: --port N (default $YTSENT_PORT, else 8787; checked before anything starts, so a port
 * another program holds is reported as busy instead of being mistaken for ours), --no-build,
 * --quiet (no request log). ALLOWED_ORIGINS in the
 * environment is passed to the Worker (e.g. chrome-extension://<id>) for CORS.
 */
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { defaultModelDir } from '../node-runtime/bundle.js';
import { ensureDevVars } from './dev-secrets.js';
import { DEV_RELEASE_KEY_FILE, ensureDevReleaseKey } from './keygen.js';
import { publishModel } from './publish-model.js';
import { checkPortFree, PortBusyError, REPO_ROOT, startWranglerDev, type WranglerDev } from './wrangler-dev.js';

const DEV_VARS = join(REPO_ROOT, '.dev.vars');
const STATE_DIR = join(REPO_ROOT, '.wrangler', 'state');

function run(command: string, args: string[], env: Record<string, string> = {}): Promise<{ code: number; output: string }> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(command, args, { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    child.on('error', reject);
    child.on('exit', (code) => resolvePromise({ code: code ?? 1, output }));
  });
}

function extensionConfig(): string | null {
  const pkg = JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as { scripts?: Record<string, string> };
  if (!pkg.scripts?.build) return null;
  for (const candidate of ['extension/vite.config.ts', 'vite.config.ts']) if (existsSync(join(REPO_ROOT, candidate))) return candidate;
  return null;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      port: { type: 'string', default: process.env.YTSENT_PORT || '8787' },
      'no-build': { type: 'boolean', default: false },
      quiet: { type: 'boolean', default: false },
    },
  });
  const port = Number(values.port);
  const say = (line = '') => process.stdout.write(`${line}\n`);
  if (!/^\d+$/.test(values.port) || port < 1 || port > 65535) {
    console.error(`npm start: --port must be a port number (1-65535), got ${JSON.stringify(values.port)}`);
    process.exit(2);
  }
  try {
    await checkPortFree(port);
  } catch (e) {
    if (!(e instanceof PortBusyError)) throw e;
    console.error(
      `npm start: port ${port} on 127.0.0.1 is busy: another program (an earlier npm start?) listens there.\n` +
        `Stop it, or choose another port: npm start -- --port ${port === 65535 ? 8788 : port + 1}  (or YTSENT_PORT=${port === 65535 ? 8788 : port + 1} npm start)`,
    );
    process.exit(1);
  }

  const { secrets, created } = ensureDevVars(DEV_VARS);
  say(created.length > 0 ? `added random ${created.join(', ')} to .dev.vars` : 'using the secrets in .dev.vars');
  const devKey = await ensureDevReleaseKey();
  say(`${devKey.created ? 'made' : 'using'} the development release key ${devKey.key.key_id} in ${relative(REPO_ROOT, DEV_RELEASE_KEY_FILE)}`);

  let dev: WranglerDev | null = null;
  let stopping = false;
  const shutdown = async (code: number) => {
    if (stopping) return;
    stopping = true;
    say('\nstopping wrangler dev...');
    await dev?.stop().catch((e: unknown) => console.error(e));
    say('stopped; local R2 state kept in .wrangler/state');
    process.exit(code);
  };
  process.on('SIGINT', () => void shutdown(0));
  process.on('SIGTERM', () => void shutdown(0));

  say(`starting wrangler dev on 127.0.0.1:${port} (local R2 in .wrangler/state)...`);
  const vars: Record<string, string> = { DRIFT_INCLUDE_CURRENT_HOUR: 'true' };
  if (process.env.ALLOWED_ORIGINS) vars.ALLOWED_ORIGINS = process.env.ALLOWED_ORIGINS;
  try {
    dev = await startWranglerDev({
      port,
      persistTo: STATE_DIR,
      vars,
      onLog: (line) => {
        if (!values.quiet && !stopping && /\[wrangler:(info|warn|error)\]|error|exception/i.test(line)) say(`  ${line}`);
      },
    });
  } catch (e) {
    console.error(`could not start wrangler dev: ${e instanceof Error ? e.message : String(e)}`);
    if (String(e).includes('EADDRINUSE') || String(e).includes('Address already in use')) console.error(`port ${port} is taken: stop the other server or use --port`);
    process.exit(1);
  }

  let modelLine = 'no model under models/ (run `npm run train`)';
  let dir: string | undefined;
  try {
    dir = defaultModelDir();
    const result = await publishModel({
      dir,
      url: dev.url,
      publishToken: secrets.ADMIN_PUBLISH_TOKEN,
      promoteToken: secrets.ADMIN_PROMOTE_TOKEN,
      channel: 'stable',
      // A local backend kept from an earlier start may serve another version on stable; the newest
      // committed model replaces it without a champion/challenger gate (the history says so).
      forceReason: 'npm start publishes the newest committed model (local development)',
      releaseKey: devKey.key,
      log: (l) => say(`  ${l}`),
    });
    modelLine = `${result.version} on channel stable (${relative(REPO_ROOT, dir)})`;
  } catch (e) {
    say(`  publishing the committed model failed: ${e instanceof Error ? e.message : String(e)}`);
    // Say what failed, not that there is no model: a local backend from an earlier start can hold
    // another build of the same version (versions are immutable; delete .wrangler/state to start over).
    if (dir) modelLine = `${relative(REPO_ROOT, dir)} not published (see above; a local backend from an earlier start: delete .wrangler/state)`;
  }

  let extensionLine: string;
  const config = extensionConfig();
  if (values['no-build']) extensionLine = 'not built (--no-build)';
  else if (!config) extensionLine = 'no extension yet (no Vite config): skipped the build';
  else {
    // The extension talks to this backend: on another port than the default, build it so.
    process.env.VITE_YTSENT_BACKEND ||= dev.url;
    say(`building the extension (npm run build, ${config}, backend ${process.env.VITE_YTSENT_BACKEND})...`);
    const build = await run(process.platform === 'win32' ? 'npm.cmd' : 'npm', ['run', 'build'], { YTSENT_EXTRA_RELEASE_KEYS: devKey.key.public_key });
    const out = join(REPO_ROOT, 'dist', 'extension');
    extensionLine =
      build.code === 0 ? `${relative(REPO_ROOT, out)}/ (load unpacked in chrome://extensions)` : `build FAILED (exit ${build.code}); last output:\n${build.output.split('\n').slice(-15).join('\n')}`;
  }

  const u = dev.url;
  say(`
ytsent is running
  API           ${u}            (docs/API.md)
  health        ${u}/health
  dashboard     ${u}/dashboard      (user: anything, password: READ_TOKEN)
  metrics       ${u}/metrics        (Authorization: Bearer READ_TOKEN)
  drift report  ${u}/v1/drift
  model         ${modelLine}
  extension     ${extensionLine}
  tokens        .dev.vars: ADMIN_PUBLISH_TOKEN, ADMIN_PROMOTE_TOKEN, READ_TOKEN, sent as "Authorization: Bearer <token>"
  release key   ${relative(REPO_ROOT, DEV_RELEASE_KEY_FILE)}: development key ${devKey.key.key_id}, pinned in this build only (releases: docs/RELEASES.md)
  local R2      .wrangler/state

Next:
  - load the extension, enable telemetry in its options, browse YouTube; hourly aggregates arrive at
    ${u}/v1/aggregates once an hour with 10+ comments has ended, text samples at ${u}/v1/samples
  - fold aggregates into drift now (the hourly cron, run on demand; the current hour is included locally):
      curl '${u}/__scheduled?cron=5+*+*+*+*'   then open ${u}/dashboard
  - publish another model:  npm run publish-model -- models/<version> --channel stable --key-file ${relative(REPO_ROOT, DEV_RELEASE_KEY_FILE)}
  - stop: Ctrl-C
`);

  // Keep running until a signal arrives or wrangler dies on its own.
  const watch = setInterval(() => {
    if (!stopping && dev && !isAlive(dev.pid)) {
      console.error('wrangler dev exited unexpectedly; last output:\n' + dev.logs().split('\n').slice(-20).join('\n'));
      void shutdown(1);
    }
  }, 1000);
  await new Promise(() => {
    // runs until shutdown() exits the process; the interval above keeps the event loop alive
    void watch;
  });
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

if (process.argv[1] && resolve(process.argv[1]) === import.meta.filename) await main();

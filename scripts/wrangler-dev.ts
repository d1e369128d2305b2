/**
 * Start and stop a local `wrangler dev` for tests, benchmarks and `npm start`.
 *
 * - Its own port (a free one unless given) and its own `--persist-to` directory (a fresh temporary
 *   one, removed on stop, unless given), so several can run side by side without sharing state.
 * - Offline: `WRANGLER_SEND_METRICS=false CLOUDFLARE_CF_FETCH_ENABLED=false` (otherwise two outbound
 *   calls each wait 3 s for a timeout).
 * - Started in its own process group (`detached`), so `stop()` signals wrangler *and* the workerd
 *   processes it spawned, waits until the whole group is gone, and escalates to SIGKILL if needed.
 *   An exit hook kills the group too if the parent process ends without calling `stop()`.
 * - A Worker that answers 500 `misconfigured` (a secret missing or too short, see worker/env.ts)
 *   fails the start at once, with the reason the Worker logged, instead of after the ready timeout.
 *
 * @example
 * const dev = await startWranglerDev({ vars: { ...testSecrets('example') } });
 * const health = await fetch(`${dev.url}/health`).then((r) => r.json());
 * await dev.stop();
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const WRANGLER_BIN = join(REPO_ROOT, 'node_modules', 'wrangler', 'bin', 'wrangler.js');

export interface WranglerDevOptions {
  /** Port to listen on (default: a free port). */
  port?: number;
  /** Interface to listen on (default 127.0.0.1). */
  host?: string;
  /** Local state directory (default: a new temporary directory, deleted by `stop()`). */
  persistTo?: string;
  /** Extra vars/secrets, passed as `--var KEY:VALUE` (they override wrangler.toml and .dev.vars). */
  vars?: Record<string, string>;
  /** Enable `GET /__scheduled?cron=...` (default true). */
  testScheduled?: boolean;
  /** Wrangler config file (default: the repository's wrangler.toml). */
  config?: string;
  /** How long to wait for GET /health to answer 200 (default 60 s). */
  readyTimeoutMs?: number;
  /** Receives every line wrangler prints (default: kept in memory only, see `logs()`). */
  onLog?: (line: string) => void;
  /** Extra environment variables for the wrangler process. */
  env?: Record<string, string>;
}

export interface WranglerDev {
  url: string;
  port: number;
  /** Process id of wrangler, which is also the id of its process group. */
  pid: number;
  persistTo: string;
  /** The last lines wrangler printed (for failure messages). */
  logs(): string;
  /** Stops wrangler and every process in its group; resolves once none is left. Idempotent. */
  stop(): Promise<void>;
}

/** A port that was free a moment ago (the OS picks it). */
export async function freePort(host = '127.0.0.1'): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, host, () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolvePort(address.port) : reject(new Error('no port'))));
    });
  });
}

/** Something else already listens on the port asked for. */
export class PortBusyError extends Error {
  override name = 'PortBusyError';
}

/**
 * Resolves when `port` on `host` can be listened on, rejects with PortBusyError when it cannot.
 * Checked before wrangler starts: otherwise the readiness probe below would take whatever answers
 * on that port for our Worker, and wrangler would fail only afterwards with EADDRINUSE.
 */
export async function checkPortFree(port: number, host = '127.0.0.1'): Promise<void> {
  return new Promise((resolveFree, reject) => {
    const server = createServer();
    server.unref();
    server.once('error', (e: NodeJS.ErrnoException) => reject(e.code === 'EADDRINUSE' || e.code === 'EACCES' ? new PortBusyError(`port ${port} on ${host} is busy (${e.code})`) : e));
    server.listen({ port, host, exclusive: true }, () => server.close(() => resolveFree()));
  });
}

/** True while any process of process group `pgid` exists. */
export function groupAlive(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function signalGroup(pgid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pgid, signal);
  } catch {
    // already gone
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function waitUntil(predicate: () => boolean, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (predicate()) return true;
    await sleep(50);
  }
  return predicate();
}

/** Groups started by this process that are still running (killed on exit as a last resort). */
const liveGroups = new Set<number>();
let exitHookInstalled = false;
function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', () => {
    for (const pgid of liveGroups) signalGroup(pgid, 'SIGKILL');
  });
}

/** The Worker answered 500 `misconfigured` (its logged reason is in the message). */
export class MisconfiguredError extends Error {
  override name = 'MisconfiguredError';
}

/** Starts `wrangler dev` and resolves once GET /health answers 200. */
export async function startWranglerDev(options: WranglerDevOptions = {}): Promise<WranglerDev> {
  const host = options.host ?? '127.0.0.1';
  if (options.port !== undefined) await checkPortFree(options.port, host);
  const port = options.port ?? (await freePort(host));
  const inspectorPort = await freePort(host);
  const ownsPersist = options.persistTo === undefined;
  const persistTo = options.persistTo ?? mkdtempSync(join(tmpdir(), 'ytsent-wrangler-'));
  const args = [
    WRANGLER_BIN,
    'dev',
    '--config',
    options.config ?? join(REPO_ROOT, 'wrangler.toml'),
    '--ip',
    host,
    '--port',
    String(port),
    '--inspector-port',
    String(inspectorPort),
    '--persist-to',
    persistTo,
    '--local',
    '--show-interactive-dev-session=false',
    // "log", one level above "info": the Worker's own console.log lines (each queue delivery's
    // counts, the hourly job's summary) reach `logs()` and onLog, not only wrangler's request lines.
    '--log-level',
    'log',
  ];
  if (options.testScheduled ?? true) args.push('--test-scheduled');
  for (const [k, v] of Object.entries(options.vars ?? {})) args.push('--var', `${k}:${v}`);

  const lines: string[] = [];
  const keep = (chunk: Buffer) => {
    for (const line of chunk.toString('utf8').split(/\r?\n/)) {
      if (!line) continue;
      lines.push(line);
      if (lines.length > 400) lines.splice(0, lines.length - 400);
      options.onLog?.(line);
    }
  };
  const child: ChildProcess = spawn(process.execPath, args, {
    cwd: REPO_ROOT,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: {
      ...process.env,
      WRANGLER_SEND_METRICS: 'false',
      CLOUDFLARE_CF_FETCH_ENABLED: 'false',
      NO_COLOR: '1',
      FORCE_COLOR: '0',
      ...options.env,
    },
  });
  if (child.pid === undefined) throw new Error('could not spawn wrangler');
  const pid = child.pid;
  liveGroups.add(pid);
  installExitHook();
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  let exited = false;
  const exitPromise = new Promise<void>((r) => child.once('exit', () => ((exited = true), r())));

  let stopped: Promise<void> | null = null;
  const stop = (): Promise<void> =>
    (stopped ??= (async () => {
      if (groupAlive(pid)) {
        signalGroup(pid, 'SIGTERM');
        const gone = await waitUntil(() => !groupAlive(pid), 8000);
        if (!gone) {
          signalGroup(pid, 'SIGKILL');
          await waitUntil(() => !groupAlive(pid), 5000);
        }
      }
      if (!exited) await Promise.race([exitPromise, sleep(2000)]);
      liveGroups.delete(pid);
      if (groupAlive(pid)) throw new Error(`processes of group ${pid} survived SIGKILL`);
      if (ownsPersist) rmSync(persistTo, { recursive: true, force: true });
    })());

  const url = `http://${host}:${port}`;
  const deadline = Date.now() + (options.readyTimeoutMs ?? 60_000);
  for (;;) {
    if (exited) {
      await stop();
      throw new Error(`wrangler dev exited before it was ready:\n${lines.slice(-40).join('\n')}`);
    }
    try {
      const res = await fetch(`${url}/health`, { signal: AbortSignal.timeout(2000) });
      const text = await res.text();
      if (res.status === 200) break;
      if (res.status === 500 && text.includes('"misconfigured"')) {
        // Give the Worker's log line (the reason) a moment to arrive, then report it.
        await sleep(300);
        await stop();
        // Wrangler colours its error lines even with NO_COLOR: strip the escape sequences.
        const plain = lines.map((l) => l.replace(/\x1b\[[0-9;]*m/g, ''));
        const reasons = [...new Set(plain.filter((l) => /configuration error/i.test(l)))];
        throw new MisconfiguredError(`wrangler dev started, but the Worker is misconfigured:\n${reasons.join('\n') || plain.slice(-20).join('\n')}`);
      }
    } catch (e) {
      if (e instanceof MisconfiguredError) throw e;
      // not listening yet
    }
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`wrangler dev was not ready within ${options.readyTimeoutMs ?? 60_000} ms:\n${lines.slice(-40).join('\n')}`);
    }
    await sleep(150);
  }
  return { url, port, pid, persistTo, logs: () => lines.join('\n'), stop };
}

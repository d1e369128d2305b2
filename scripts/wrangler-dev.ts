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
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const WRANGLER_BIN = join(REPO_ROOT, 'node_modules', 'wrangler', 'bin', 'wrangler.js');

export interface WranglerDevOptions {
  /** Port to listen on (default: a free port). */
  port?: number;
  /** Port of the DevTools inspector (default: a free port). */
  inspectorPort?: number;
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

/** Ports below this are left alone (well-known and commonly configured services). */
const PORT_FLOOR = 20000;

/**
 * The lowest port the kernel hands out on its own (Linux's `ip_local_port_range`; 32768 elsewhere).
 * Every outgoing connection and every `listen(0)` takes a port from that range, so a port picked
 * there and then given to wrangler can be taken by anything in the meantime: CI once failed with
 * workerd's "Address already in use" on such a port.
 */
function ephemeralLow(): number {
  try {
    const low = Number(readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0]);
    if (Number.isInteger(low) && low > PORT_FLOOR + 1000) return low;
  } catch {
    // not Linux: the IANA dynamic range starts at 49152, the BSD and older Linux default at 32768
  }
  return 32768;
}

/**
 * A port that is free now and that the kernel does not hand out on its own: picked at random below
 * the ephemeral range and checked with a listen. Only a process that binds ports by number (another
 * test picking ports the same way) can take it before the caller binds it; startWranglerDev retries
 * on that.
 */
export async function freePort(host = '127.0.0.1'): Promise<number> {
  const low = ephemeralLow();
  for (let attempt = 0; attempt < 50; attempt++) {
    const port = PORT_FLOOR + Math.floor(Math.random() * (low - PORT_FLOOR));
    try {
      await checkPortFree(port, host);
      return port;
    } catch (e) {
      if (!(e instanceof PortBusyError)) throw e;
    }
  }
  throw new Error(`no free port found between ${PORT_FLOOR} and ${low} on ${host} in 50 tries`);
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

/** wrangler dev exited because a port it was given was taken between our check and its bind. */
class AddressInUseError extends Error {
  override name = 'AddressInUseError';
}

/**
 * Starts `wrangler dev` and resolves once GET /health answers 200. With no `port` given, a start
 * that loses its ports to another process in the moment between picking and binding them is
 * retried on fresh ports (twice at most). A port the caller gave is kept as it is.
 */
export async function startWranglerDev(options: WranglerDevOptions = {}): Promise<WranglerDev> {
  const host = options.host ?? '127.0.0.1';
  for (let attempt = 1; ; attempt++) {
    // Checked on every attempt: otherwise the readiness probe could take another server for ours.
    if (options.port !== undefined) await checkPortFree(options.port, host);
    try {
      return await startOn(options, host, options.port ?? (await freePort(host)), options.inspectorPort ?? (await freePort(host)));
    } catch (e) {
      if (!(e instanceof AddressInUseError) || attempt >= 3) throw e;
    }
  }
}

async function startOn(options: WranglerDevOptions, host: string, port: number, inspectorPort: number): Promise<WranglerDev> {
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
      const why = `wrangler dev exited before it was ready:\n${lines.slice(-40).join('\n')}`;
      throw lines.some((l) => /Address already in use/i.test(l)) ? new AddressInUseError(why) : new Error(why);
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

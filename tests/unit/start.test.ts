/**
 * `npm start` on a port another program holds: it must say so and how to choose another before
 * starting anything (it used to report "ytsent is running" against whatever answered there).
 */
import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkPortFree, freePort, PortBusyError, REPO_ROOT, startWranglerDev } from '../../scripts/wrangler-dev.js';

let server: Server;
let busy: number;
beforeAll(async () => {
  // Something that is not ytsent, listening on every interface.
  server = createServer((socket) => socket.end('HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok'));
  await new Promise<void>((r) => server.listen(0, '0.0.0.0', r));
  busy = (server.address() as { port: number }).port;
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));

async function start(args: string[], env: Record<string, string> = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, ['--import', 'tsx', join(REPO_ROOT, 'scripts', 'start.ts'), '--no-build', ...args], {
      cwd: REPO_ROOT,
      env: { ...process.env, YTSENT_PORT: '', ...env },
      timeout: 30_000,
    });
    return { code: 0, stdout, stderr };
  } catch (e) {
    const err = e as { code: number; stdout: string; stderr: string };
    return { code: err.code, stdout: err.stdout, stderr: err.stderr };
  }
}

describe('npm start on a busy port', () => {
  it.each([
    ['--port', (p: number) => ({ args: ['--port', String(p)], env: {} })],
    ['YTSENT_PORT', (p: number) => ({ args: [], env: { YTSENT_PORT: String(p) } })],
  ])('says the port is busy and how to choose another (%s), before touching anything', async (_how, given) => {
    const devVarsBefore = existsSync(join(REPO_ROOT, '.dev.vars'));
    const { args, env } = given(busy);
    const { code, stdout, stderr } = await start(args, env);
    expect(code).toBe(1);
    expect(stderr).toContain(`npm start: port ${busy} on 127.0.0.1 is busy`);
    expect(stderr).toContain(`npm start -- --port ${busy + 1}`);
    expect(stderr).toContain(`YTSENT_PORT=${busy + 1} npm start`);
    expect(stdout).not.toContain('ytsent is running');
    expect(stdout).not.toContain('starting wrangler dev');
    // Checked before .dev.vars is written: a refused start changes nothing.
    expect(existsSync(join(REPO_ROOT, '.dev.vars'))).toBe(devVarsBefore);
  });

  it('refuses a port that is not a number', async () => {
    const { code, stderr } = await start(['--port', 'eighty']);
    expect(code).toBe(2);
    expect(stderr).toContain('--port must be a port number (1-65535), got "eighty"');
  });
});

describe('checkPortFree and startWranglerDev', () => {
  it('tells a busy port from a free one', async () => {
    await expect(checkPortFree(busy)).rejects.toThrow(PortBusyError);
    await expect(checkPortFree(busy)).rejects.toThrow(`port ${busy} on 127.0.0.1 is busy`);
    const free = createServer();
    await new Promise<void>((r) => free.listen(0, '127.0.0.1', r));
    const port = (free.address() as { port: number }).port;
    await new Promise<void>((r) => free.close(() => r()));
    await expect(checkPortFree(port)).resolves.toBeUndefined();
  });

  it('freePort picks free ports below the range the kernel hands out itself, which nothing can take from under us', async () => {
    const low = Number(readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0]);
    const ports = await Promise.all(Array.from({ length: 20 }, () => freePort()));
    for (const port of ports) {
      expect(port).toBeGreaterThanOrEqual(20000);
      expect(port).toBeLessThan(low);
      await expect(checkPortFree(port)).resolves.toBeUndefined();
    }
    expect(new Set(ports).size).toBeGreaterThan(15);
  });

  it('startWranglerDev refuses a busy port at once instead of taking what answers there for the Worker', async () => {
    await expect(startWranglerDev({ port: busy, readyTimeoutMs: 1000 })).rejects.toThrow(PortBusyError);
  });
});

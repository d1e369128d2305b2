/** A minimal model registry over HTTP (the wire shapes of the worker's routes) for updater unit tests. */
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { join } from 'node:path';
import type { ModelManifest } from '../../../core/manifest.js';

export interface Registry {
  url: string;
  /** What GET /v1/channels/stable answers. */
  channel: { manifest: ModelManifest; files: Record<string, Uint8Array>; etag: string } | null;
  /** Requests received, e.g. "GET /v1/channels/stable 304". */
  log: string[];
  down: boolean;
  close(): Promise<void>;
}

export async function startRegistry(): Promise<Registry> {
  const registry: Registry = { url: '', channel: null, log: [], down: false, close: async () => {} };
  const server: Server = createServer((req, res) => {
    const reply = (status: number, body?: Uint8Array | string, headers: Record<string, string> = {}) => {
      registry.log.push(`${req.method} ${req.url} ${status}`);
      res.writeHead(status, headers).end(body);
    };
    if (registry.down) return reply(503, '{"error":{"code":"down","message":"maintenance"}}');
    const ch = registry.channel;
    if (req.url === '/v1/channels/stable') {
      if (!ch) return reply(404, '{"error":{"code":"not_found","message":"no such channel"}}');
      if (req.headers['if-none-match'] === ch.etag) return reply(304, undefined, { ETag: ch.etag });
      return reply(200, JSON.stringify(ch.manifest), { 'Content-Type': 'application/json', ETag: ch.etag });
    }
    const m = /^\/v1\/models\/([^/]+)\/files\/(.+)$/.exec(req.url ?? '');
    if (m && ch && m[1] === ch.manifest.version && ch.files[decodeURIComponent(m[2]!)]) return reply(200, ch.files[decodeURIComponent(m[2]!)]);
    reply(404, '{"error":{"code":"not_found","message":"no such file"}}');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  registry.url = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  registry.close = () => new Promise<void>((r) => server.close(() => r()));
  return registry;
}

/** The committed bundle under another version, with an optional manifest edit. */
export function variant(dir: string, version: string, edit: (m: ModelManifest) => void = () => {}): { manifest: ModelManifest; files: Record<string, Uint8Array> } {
  const manifest = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')) as ModelManifest;
  manifest.version = version;
  edit(manifest);
  const files = Object.fromEntries(manifest.files.map((f) => [f.path, new Uint8Array(readFileSync(join(dir, f.path)))]));
  return { manifest, files };
}

/** A minimal model registry over HTTP (the wire shapes of the worker's routes) for updater unit tests. */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer, type ServerResponse, type Server } from 'node:http';
import { join } from 'node:path';
import type { ModelManifest } from '../../../core/manifest.js';
import { encodeSignature, signManifest, type ReleaseKeyFile } from '../../../core/release-signature.js';

export interface ServedModel {
  manifest: ModelManifest;
  /** The exact manifest bytes served (default: JSON of `manifest`). */
  manifestBytes?: Uint8Array;
  files: Record<string, Uint8Array>;
  etag: string;
  /** manifest.sig as served; null or absent: 404 (unsigned). */
  signature?: Uint8Array | null;
  /**
   * Serve this file as `bytes` zeros written in 64 KB chunks as fast as the client reads them,
   * with or without a Content-Length header; `written` counts what went out before it hung up.
   * With `stallAfter`, it stops sending after that many bytes and keeps the connection open.
   */
  stream?: { path: string; bytes: number; contentLength: boolean; written: number; stallAfter?: number };
}

export interface Registry {
  url: string;
  /** What GET /v1/channels/stable answers: the stable version. */
  channel: ServedModel | null;
  /** A canary rollout on stable: the candidate and the share of installs that get it. */
  candidate: (ServedModel & { percent: number }) | null;
  /** Behave like a backend from before rollouts (no /v1/channels/stable/rollout route). */
  legacy: boolean;
  /** Requests received, e.g. "GET /v1/channels/stable 304". */
  log: string[];
  down: boolean;
  /** Accept every request and never answer it (a backend that hangs). */
  hang: boolean;
  close(): Promise<void>;
}

export async function startRegistry(): Promise<Registry> {
  const registry: Registry = { url: '', channel: null, candidate: null, legacy: false, log: [], down: false, hang: false, close: async () => {} };
  const server: Server = createServer((req, res) => {
    const reply = (status: number, body?: Uint8Array | string, headers: Record<string, string> = {}) => {
      registry.log.push(`${req.method} ${req.url} ${status}`);
      res.writeHead(status, headers).end(body);
    };
    if (registry.hang) return void registry.log.push(`${req.method} ${req.url} (no answer)`);
    if (registry.down) return reply(503, '{"error":{"code":"down","message":"maintenance"}}');
    const ch = registry.channel;
    if (req.url === '/v1/channels/stable') {
      if (!ch) return reply(404, '{"error":{"code":"unknown_channel","message":"no such channel"}}');
      if (req.headers['if-none-match'] === ch.etag) return reply(304, undefined, { ETag: ch.etag });
      return reply(200, manifestBytesOf(ch), { 'Content-Type': 'application/json', ETag: ch.etag });
    }
    if (req.url === '/v1/channels/stable/rollout' && !registry.legacy) {
      if (!ch) return reply(404, '{"error":{"code":"unknown_channel","message":"no such channel"}}');
      const body = JSON.stringify(rolloutDoc(ch, registry.candidate));
      const etag = `"${createHash('sha256').update(body).digest('hex')}"`;
      if (req.headers['if-none-match'] === etag) return reply(304, undefined, { ETag: etag });
      return reply(200, body, { 'Content-Type': 'application/json', ETag: etag });
    }
    // Both versions of a rollout are served like any published version.
    const served = [ch, registry.candidate].filter((x): x is ServedModel => x !== null);
    const model = /^\/v1\/models\/([^/]+)\//.exec(req.url ?? '');
    const v = served.find((x) => x.manifest.version === model?.[1]);
    if (v && req.url === `/v1/models/${v.manifest.version}/manifest.json`) return reply(200, manifestBytesOf(v), { 'Content-Type': 'application/json' });
    if (v && req.url === `/v1/models/${v.manifest.version}/manifest.sig`) {
      return v.signature ? reply(200, v.signature, { 'Content-Type': 'application/json' }) : reply(404, '{"error":{"code":"unsigned","message":"no signature"}}');
    }
    const m = /^\/v1\/models\/([^/]+)\/files\/(.+)$/.exec(req.url ?? '');
    const path = m ? decodeURIComponent(m[2]!) : '';
    if (m && v && v.stream?.path === path) {
      registry.log.push(`${req.method} ${req.url} 200 (stream)`);
      return void streamZeros(res, v.stream);
    }
    if (m && v && v.files[path]) return reply(200, v.files[path]);
    reply(404, '{"error":{"code":"not_found","message":"no such file"}}');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  registry.url = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  registry.close = () =>
    new Promise<void>((r) => {
      server.closeAllConnections();
      server.close(() => r());
    });
  return registry;
}

async function streamZeros(res: ServerResponse, stream: NonNullable<ServedModel['stream']>): Promise<void> {
  res.writeHead(200, { 'Content-Type': 'application/octet-stream', ...(stream.contentLength ? { 'Content-Length': String(stream.bytes) } : {}) });
  const chunk = new Uint8Array(64 * 1024);
  let hungUp = false;
  res.on('close', () => (hungUp = true));
  const stopAt = Math.min(stream.bytes, stream.stallAfter ?? Infinity);
  while (!hungUp && stream.written < stopAt) {
    const n = Math.min(chunk.byteLength, stopAt - stream.written);
    stream.written += n;
    // Backpressure: wait until the client has read what is buffered (or has gone).
    if (!res.write(chunk.subarray(0, n))) {
      await new Promise<void>((r) => {
        const done = () => {
          res.off('drain', done).off('close', done);
          r();
        };
        res.on('drain', done).on('close', done);
      });
    }
  }
  // Stalled: the connection stays open until the client hangs up or the server closes.
  if (!hungUp && stream.written === stream.bytes) res.end();
}

/** GET /v1/channels/stable/rollout as the worker writes it (core/canary.ts RolloutDoc). */
export function rolloutDoc(stable: ServedModel, candidate: (ServedModel & { percent: number }) | null) {
  const sha = (m: ServedModel) => createHash('sha256').update(manifestBytesOf(m)).digest('hex');
  return {
    channel: 'stable',
    stable: { version: stable.manifest.version, manifest_sha256: sha(stable) },
    candidate: candidate ? { version: candidate.manifest.version, manifest_sha256: sha(candidate), percent: candidate.percent, started_at: '2026-01-01T00:00:00.000Z' } : null,
    updated_at: '2026-01-01T00:00:00.000Z',
  };
}

export function manifestBytesOf(model: ServedModel): Uint8Array {
  return model.manifestBytes ?? new TextEncoder().encode(JSON.stringify(model.manifest));
}

/** `model` with a signature by `key` over exactly the manifest bytes it serves. */
export async function signedBy(key: ReleaseKeyFile, model: ServedModel): Promise<ServedModel> {
  const manifestBytes = manifestBytesOf(model);
  return { ...model, manifestBytes, signature: encodeSignature(await signManifest(manifestBytes, key)) };
}

/** The committed bundle under another version, with an optional manifest edit. */
export function variant(dir: string, version: string, edit: (m: ModelManifest) => void = () => {}): { manifest: ModelManifest; files: Record<string, Uint8Array> } {
  const manifest = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')) as ModelManifest;
  manifest.version = version;
  edit(manifest);
  const files = Object.fromEntries(manifest.files.map((f) => [f.path, new Uint8Array(readFileSync(join(dir, f.path)))]));
  return { manifest, files };
}

/**
 * Model registry and distribution:
 *   GET  /v1/models                              published versions (newest first) and their channels
 *   PUT  /v1/models/:version                     (publish token) manifest → 202 pending | 201 published | 200 identical
 *   PUT  /v1/models/:version/files/<path>        (publish token) upload one file of the pending manifest
 *   PUT  /v1/models/:version/manifest.sig        (publish token) the release signature (docs/RELEASES.md)
 *   GET  /v1/models/:version/manifest.json       immutable
 *   GET  /v1/models/:version/manifest.sig        the release signature, immutable; 404 unsigned
 *   GET  /v1/models/:version/files/<path>        immutable, ETag = sha256, 304, Range → 206/416
 */
import { Hono, type Context } from 'hono';
import { BundlePathSchema } from '../../core/manifest.js';
import type { AppEnv } from '../env.js';
import { requireToken } from '../lib/auth.js';
import { declaredLength, parseJsonBytes, readBodyCapped, requireJsonContentType } from '../lib/body.js';
import { ApiError, badRequest, errorResponse } from '../lib/errors.js';
import { sha256Hex } from '../lib/hash.js';
import { ifNoneMatchHits, ifRangeAllows, parseRange } from '../lib/http.js';
import { keys } from '../lib/keys.js';
import { metrics } from '../lib/metrics.js';
import { listChannels } from '../registry/channels.js';
import { MANIFEST_MAX_BYTES, SIGNATURE_MAX_BYTES, getPublished, getSignature, listPublished, putFile, putManifest, putSignature, validateManifest } from '../registry/store.js';
import { versionParam } from './params.js';

export const IMMUTABLE = 'public, max-age=31536000, immutable';

export const modelRoutes = new Hono<AppEnv>();

modelRoutes.get('/v1/models', async (c) => {
  const [models, channels] = await Promise.all([listPublished(c.env.MODELS), listChannels(c.env.MODELS)]);
  return c.json(
    {
      models: models.map((m) => ({
        ...m,
        channels: channels.filter((ch) => ch.version === m.version).map((ch) => ch.channel),
        manifest_url: `/v1/models/${m.version}/manifest.json`,
      })),
    },
    200,
    { 'Cache-Control': 'no-cache' },
  );
});

modelRoutes.put('/v1/models/:version', requireToken('publish'), async (c) => {
  const version = versionParam(c.req.param('version'));
  requireJsonContentType(c.req.raw);
  // Keep the exact bytes: the published manifest.json is served byte-for-byte as uploaded, so its
  // sha256 matches the file in the bundle directory.
  const bytes = await readBodyCapped(c.req.raw, MANIFEST_MAX_BYTES);
  const incoming = await validateManifest(bytes, parseJsonBytes(bytes), version);
  const outcome = await putManifest(c.env.MODELS, incoming);
  if (outcome.status === 'pending') {
    return c.json(
      {
        status: 'pending',
        version,
        missing: outcome.missing.map((f) => ({ ...f, upload_url: `/v1/models/${version}/files/${f.path}` })),
      },
      202,
    );
  }
  const body = {
    status: 'published',
    version,
    already_published: !outcome.created,
    manifest_sha256: outcome.stored.sha256,
    manifest_url: `/v1/models/${version}/manifest.json`,
  };
  if (outcome.created) metrics.inc('ytsent_models_published_total');
  return c.json(body, outcome.created ? 201 : 200, outcome.created ? { Location: body.manifest_url } : {});
});

function filePathParam(c: Context<AppEnv>, version: string): string {
  const prefix = `/v1/models/${version}/files/`;
  const pathname = new URL(c.req.url).pathname;
  let path: string;
  try {
    path = decodeURIComponent(pathname.slice(prefix.length));
  } catch {
    throw badRequest('invalid_path', 'file path is not valid percent-encoding', [{ path: 'path', message: 'invalid encoding' }]);
  }
  const r = BundlePathSchema.safeParse(path);
  if (!r.success) throw badRequest('invalid_path', 'file path must be a relative path inside the bundle', [{ path: 'path', message: r.error.issues[0]?.message ?? 'invalid' }]);
  return r.data;
}

modelRoutes.put('/v1/models/:version/files/*', requireToken('publish'), async (c) => {
  const version = versionParam(c.req.param('version'));
  const path = filePathParam(c, version);
  try {
    const stored = await putFile(c.env.MODELS, version, path, c.req.raw.body, declaredLength(c.req.raw));
    return c.json({ status: 'stored', version, ...stored }, 201);
  } catch (e) {
    // Refused before (or while) reading: release the rest of the upload instead of leaving it
    // half-read on the connection.
    if (c.req.raw.body && !c.req.raw.bodyUsed) await c.req.raw.body.cancel().catch(() => undefined);
    throw e;
  }
});

modelRoutes.get('/v1/models/:version/manifest.json', async (c) => {
  const version = versionParam(c.req.param('version'));
  const stored = await getPublished(c.env.MODELS, version);
  if (!stored) throw new ApiError(404, 'unknown_version', `model version ${version} is not published`);
  const etag = `"${stored.sha256}"`;
  const headers = { ETag: etag, 'Cache-Control': IMMUTABLE, 'X-Model-Version': version };
  if (ifNoneMatchHits(c.req.header('if-none-match'), etag)) return new Response(null, { status: 304, headers });
  return new Response(stored.bytes, { status: 200, headers: { ...headers, 'Content-Type': 'application/json; charset=utf-8' } });
});

modelRoutes.put('/v1/models/:version/manifest.sig', requireToken('publish'), async (c) => {
  const version = versionParam(c.req.param('version'));
  requireJsonContentType(c.req.raw);
  const { created } = await putSignature(c.env.MODELS, version, await readBodyCapped(c.req.raw, SIGNATURE_MAX_BYTES));
  return c.json({ status: 'stored', version, already_stored: !created, signature_url: `/v1/models/${version}/manifest.sig` }, created ? 201 : 200);
});

modelRoutes.get('/v1/models/:version/manifest.sig', async (c) => {
  const version = versionParam(c.req.param('version'));
  if (!(await getPublished(c.env.MODELS, version))) throw new ApiError(404, 'unknown_version', `model version ${version} is not published`);
  const bytes = await getSignature(c.env.MODELS, version);
  // The 404 carries no cache headers (a version published unsigned may be signed later); a stored
  // signature of a published version never changes.
  if (!bytes) throw new ApiError(404, 'unsigned', `model version ${version} has no release signature`);
  const etag = `"${await sha256Hex(bytes)}"`;
  const headers = { ETag: etag, 'Cache-Control': IMMUTABLE, 'X-Model-Version': version };
  if (ifNoneMatchHits(c.req.header('if-none-match'), etag)) return new Response(null, { status: 304, headers });
  return new Response(bytes, { status: 200, headers: { ...headers, 'Content-Type': 'application/json; charset=utf-8' } });
});

function contentTypeOf(path: string): string {
  if (path.endsWith('.json')) return 'application/json; charset=utf-8';
  if (path.endsWith('.txt')) return 'text/plain; charset=utf-8';
  return 'application/octet-stream';
}

modelRoutes.get('/v1/models/:version/files/*', async (c) => {
  const version = versionParam(c.req.param('version'));
  const path = filePathParam(c, version);
  const stored = await getPublished(c.env.MODELS, version);
  if (!stored) throw new ApiError(404, 'unknown_version', `model version ${version} is not published`);
  const file = stored.manifest.files.find((f) => f.path === path);
  if (!file) throw new ApiError(404, 'unknown_file', `${path} is not a file of model ${version}`);

  const etag = `"${file.sha256}"`;
  const base: Record<string, string> = {
    ETag: etag,
    'Cache-Control': IMMUTABLE,
    'Accept-Ranges': 'bytes',
    'X-Model-Version': version,
  };
  if (ifNoneMatchHits(c.req.header('if-none-match'), etag)) return new Response(null, { status: 304, headers: base });

  const range = ifRangeAllows(c.req.header('if-range'), etag) ? parseRange(c.req.header('range'), file.bytes) : { kind: 'none' as const };
  if (range.kind === 'unsatisfiable') {
    return errorResponse(416, 'range_not_satisfiable', `range not satisfiable for ${file.bytes} bytes`, undefined, {
      ...base,
      'Content-Range': `bytes */${file.bytes}`,
    });
  }
  const head = c.req.method === 'HEAD';
  const options: R2GetOptions = range.kind === 'single' ? { range: { offset: range.offset, length: range.length } } : {};
  const obj = head ? await c.env.MODELS.head(keys.blob(file.sha256)) : await c.env.MODELS.get(keys.blob(file.sha256), options);
  if (!obj) {
    console.error(`blob of ${version}/${path} (${file.sha256}) is missing`);
    throw new ApiError(503, 'blob_missing', 'model file temporarily unavailable');
  }
  const body = head ? null : (obj as R2ObjectBody).body;
  const headers: Record<string, string> = { ...base, 'Content-Type': contentTypeOf(path) };
  if (range.kind === 'single') {
    headers['Content-Range'] = `bytes ${range.offset}-${range.offset + range.length - 1}/${file.bytes}`;
    headers['Content-Length'] = String(range.length);
    if (!head) metrics.inc('ytsent_model_bytes_served_total', { model_version: version }, range.length);
    return new Response(body, { status: 206, headers });
  }
  headers['Content-Length'] = String(file.bytes);
  if (!head) metrics.inc('ytsent_model_bytes_served_total', { model_version: version }, file.bytes);
  return new Response(body, { status: 200, headers });
});

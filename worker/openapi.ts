/**
 * The OpenAPI 3.1 document of every route (GET /openapi.json).
 *
 * Bodies are not written here: they are converted from the zod schemas the routes validate with
 * (core/wire.ts, core/predict-wire.ts, core/manifest.ts, core/release-signature.ts) by zod's
 * `z.toJSONSchema` (JSON Schema 2020-12, the dialect OpenAPI 3.1 uses), so the document follows
 * every schema change. What is written here is what a schema cannot say: which routes exist, their
 * parameters, who may call them and which answers they give. The document is built from the Hono
 * app's own route list and this table together: a route without an entry here fails
 * tests/worker/openapi.test.ts, so the document cannot fall behind the app.
 */
import { z } from 'zod';
import { ModelManifestSchema } from '../core/manifest.js';
import { ApiKeyCreatedSchema, ApiKeyCreateSchema, ApiKeyListSchema, ApiKeySchema, ErrorBodySchema, PredictBatchResponseSchema, PredictionSchema, PredictRequestSchema } from '../core/predict-wire.js';
import { ManifestSignatureSchema } from '../core/release-signature.js';
import { RolloutDocSchema, RolloutRequestSchema } from '../core/canary.js';
import { AggregatesBatchSchema, FeedbackBatchSchema, PromoteSchema, SamplesBatchSchema, type IngestResponse } from '../core/wire.js';

type JsonSchema = Record<string, unknown>;

/** Response bodies whose shapes live in TypeScript interfaces: checked against them at compile time. */
const IngestResponseSchema = z.object({ batch_id: z.string(), accepted: z.number().int(), duplicate: z.boolean() }) satisfies z.ZodType<IngestResponse>;
const HealthSchema = z.object({ status: z.literal('ok'), model_version: z.string().nullable(), uptime_s: z.number() });

/** Named schemas, as components.schemas (request bodies in their input form, answers in their output form). */
const SCHEMAS = {
  Error: [ErrorBodySchema, 'output'],
  PredictRequest: [PredictRequestSchema, 'input'],
  Prediction: [PredictionSchema, 'output'],
  PredictBatchResponse: [PredictBatchResponseSchema, 'output'],
  ApiKeyCreate: [ApiKeyCreateSchema, 'input'],
  ApiKey: [ApiKeySchema, 'output'],
  ApiKeyCreated: [ApiKeyCreatedSchema, 'output'],
  ApiKeyList: [ApiKeyListSchema, 'output'],
  AggregatesBatch: [AggregatesBatchSchema, 'input'],
  SamplesBatch: [SamplesBatchSchema, 'input'],
  FeedbackBatch: [FeedbackBatchSchema, 'input'],
  IngestResponse: [IngestResponseSchema, 'output'],
  Promote: [PromoteSchema, 'input'],
  RolloutRequest: [RolloutRequestSchema, 'input'],
  RolloutDoc: [RolloutDocSchema, 'output'],
  ModelManifest: [ModelManifestSchema, 'input'],
  ManifestSignature: [ManifestSignatureSchema, 'input'],
  Health: [HealthSchema, 'output'],
} as const satisfies Record<string, readonly [z.ZodType, 'input' | 'output']>;
type SchemaName = keyof typeof SCHEMAS;

/** A JSON Schema (2020-12) for a zod schema; `$schema` is left to the document's dialect. */
export function jsonSchemaOf(schema: z.ZodType, io: 'input' | 'output'): JsonSchema {
  const { $schema: _dialect, ...rest } = z.toJSONSchema(schema, { io, unrepresentable: 'any', target: 'draft-2020-12' }) as JsonSchema;
  return rest;
}

type Auth = 'publish' | 'promote' | 'read' | 'read_or_basic' | 'api_key';

interface Param {
  name: string;
  description: string;
  schema: JsonSchema;
}

interface Operation {
  summary: string;
  auth?: Auth;
  query?: Param[];
  /** A named schema; raw bytes; or a JSON object whose schema is not (yet) a zod schema in core/. */
  body?: { schema: SchemaName; contentType?: string } | { binary: true } | { free: 'application/json' };
  /** Status → description, and the body (a schema name, or a media type with free-form content). */
  responses: Record<number, string | [description: string, body: SchemaName | `${string}/${string}`]>;
}

const version = { name: 'model_version', description: 'A published model version (default: the version on the default channel).', schema: { type: 'string' } };
/** The answers of the three telemetry routes (docs/API.md "Queued ingest"). */
const INGEST_RESPONSES: Operation['responses'] = {
  202: ['queued: stored once by the ingest consumer (a resent batch is dropped there)', 'IngestResponse'],
  400: 'invalid batch',
  413: 'too large',
  415: 'not JSON',
  503: 'the queue refused the batch: retry later (Retry-After)',
};
const hours = (name: string, max: number, description: string): Param => ({ name, description, schema: { type: 'integer', minimum: 1, maximum: max } });

/**
 * Every route, keyed "METHOD path" with Hono's path syntax. Error answers common to a kind of route
 * (401 for authenticated routes, 429 for rate-limited ones) are added by {@link openApiDocument}.
 */
export const OPERATIONS: Readonly<Record<string, Operation>> = {
  'GET /health': { summary: 'Liveness and the default channel’s model version.', responses: { 200: ['ok', 'Health'] } },
  'GET /metrics': { summary: 'Prometheus metrics (text format 0.0.4): counters, drift gauges, latency histograms per route.', auth: 'read', responses: { 200: ['metrics', 'text/plain'] } },
  'GET /openapi.json': { summary: 'This document.', responses: { 200: ['the OpenAPI 3.1 document', 'application/json'] } },

  'POST /v1/predict': {
    summary: 'Scores one comment, or a batch of up to 64, with the model on the default channel.',
    auth: 'api_key',
    body: { schema: 'PredictRequest' },
    responses: {
      200: ['a Prediction for a single comment, a PredictBatchResponse for {items}', 'Prediction'],
      400: 'invalid JSON or UTF-8, or the body does not match the schema',
      403: 'the API key was revoked',
      413: 'body over 256 KiB, more than 64 items, or a comment over 2048 UTF-8 bytes',
      415: 'Content-Type is not application/json',
      503: 'no model can be served from the channel right now',
    },
  },
  'POST /v1/admin/keys': {
    summary: 'Creates an API key for /v1/predict; the key is in this answer only.',
    auth: 'promote',
    body: { schema: 'ApiKeyCreate' },
    responses: { 201: ['created', 'ApiKeyCreated'], 400: 'invalid body' },
  },
  'GET /v1/admin/keys': { summary: 'Lists API keys (records only, never keys).', auth: 'promote', responses: { 200: ['the keys', 'ApiKeyList'] } },
  'DELETE /v1/admin/keys/:id': { summary: 'Revokes an API key (idempotent).', auth: 'promote', responses: { 200: ['revoked', 'ApiKey'], 400: 'not a key id', 404: 'unknown key' } },

  'GET /v1/models': { summary: 'Published model versions, newest first.', responses: { 200: ['the versions', 'application/json'] } },
  'PUT /v1/models/:version': {
    summary: 'Publishes a model version’s manifest (then its missing files, then the manifest again).',
    auth: 'publish',
    body: { schema: 'ModelManifest' },
    responses: {
      200: ['already published', 'application/json'],
      201: ['published', 'application/json'],
      202: ['pending: files to upload', 'application/json'],
      400: 'invalid manifest',
      409: 'version exists with another manifest',
    },
  },
  'PUT /v1/models/:version/files/*': {
    summary: 'Uploads one file of a pending version (Content-Length required; size and sha256 checked).',
    auth: 'publish',
    body: { binary: true },
    responses: { 201: ['stored', 'application/json'], 404: 'no pending upload or unknown file', 409: 'already published', 411: 'Content-Length missing', 422: 'size or sha256 mismatch' },
  },
  'GET /v1/models/:version/manifest.json': {
    summary: 'A published manifest, as uploaded (immutable, ETag).',
    responses: { 200: ['the manifest', 'ModelManifest'], 304: 'not modified', 404: 'unknown version' },
  },
  'PUT /v1/models/:version/manifest.sig': {
    summary: 'Stores the release signature of a version’s manifest.',
    auth: 'publish',
    body: { schema: 'ManifestSignature' },
    responses: { 200: ['already stored', 'application/json'], 201: ['stored', 'application/json'], 400: 'invalid signature document' },
  },
  'GET /v1/models/:version/manifest.sig': {
    summary: 'The release signature of a published version.',
    responses: { 200: ['the signature', 'ManifestSignature'], 304: 'not modified', 404: 'unknown version or unsigned' },
  },
  'GET /v1/models/:version/files/*': {
    summary: 'A file of a published version (immutable, ETag, Range).',
    responses: { 200: ['the bytes', 'application/octet-stream'], 206: ['a range', 'application/octet-stream'], 304: 'not modified', 404: 'unknown version or file', 416: 'range not satisfiable' },
  },

  'GET /v1/channels': { summary: 'Every channel and its version.', responses: { 200: ['the channels', 'application/json'] } },
  'GET /v1/channels/:channel': {
    summary: 'The manifest of the channel’s current version (60 s cache, ETag).',
    responses: { 200: ['the manifest', 'ModelManifest'], 304: 'not modified', 404: 'unknown channel' },
  },
  'GET /v1/channels/:channel/history': { summary: 'Rollback stack and change history.', responses: { 200: ['the history', 'application/json'], 404: 'unknown channel' } },
  'POST /v1/channels/:channel': {
    summary: 'Makes a published version current on the channel.',
    auth: 'promote',
    body: { schema: 'Promote' },
    responses: { 200: ['promoted', 'application/json'], 400: 'invalid body', 404: 'unknown version' },
  },
  'POST /v1/channels/:channel/rollback': {
    summary: 'Returns the channel to its previous version (during a rollout: ends the rollout).',
    auth: 'promote',
    responses: { 200: ['rolled back', 'application/json'], 404: 'unknown channel', 409: 'nothing to roll back' },
  },
  'GET /v1/channels/:channel/rollout': {
    summary: 'The rollout document installs pick their version from: stable, and the candidate with its percent (60 s cache, ETag).',
    responses: { 200: ['the rollout', 'RolloutDoc'], 304: 'not modified', 404: 'unknown channel' },
  },
  'POST /v1/channels/:channel/rollout': {
    summary: 'Starts, steps, promotes (100) or aborts (0) a canary rollout.',
    auth: 'promote',
    body: { schema: 'RolloutRequest' },
    responses: { 200: ['the channel after the step', 'application/json'], 400: 'invalid body', 404: 'unknown channel or version', 409: 'another rollout in progress, already stable, or not blessed' },
  },
  'GET /v1/channels/:channel/canary': {
    summary: 'The rollout in progress (or the last one) and its evaluated comparison windows.',
    auth: 'read',
    query: [hours('limit', 168, 'Windows (default 48).')],
    responses: { 200: ['the rollout', 'application/json'], 404: 'unknown channel' },
  },
  'GET /v1/monitoring': {
    summary: 'Latest live-monitoring report of a model version.',
    auth: 'read',
    query: [version],
    responses: { 200: ['the report', 'application/json'], 400: 'invalid query', 404: 'no report yet' },
  },
  'GET /v1/monitoring/history': {
    summary: 'Stored hourly monitoring reports, newest first.',
    auth: 'read',
    query: [version, hours('limit', 168, 'Reports (default 48).')],
    responses: { 200: ['the reports', 'application/json'], 400: 'invalid query' },
  },
  'GET /v1/events': {
    summary: 'Retraining recommendations and automatic canary rollbacks, newest first.',
    auth: 'read',
    query: [
      { name: 'type', description: 'retrain-recommended | canary-rollback', schema: { enum: ['retrain-recommended', 'canary-rollback'] } },
      { ...version, description: 'Only events of this model version.' },
      hours('limit', 100, 'Events (default 20).'),
    ],
    responses: { 200: ['the events', 'application/json'], 400: 'invalid query' },
  },

  'POST /v1/aggregates': {
    summary: 'On-device hourly aggregates (consent "stats").',
    body: { schema: 'AggregatesBatch' },
    responses: INGEST_RESPONSES,
  },
  'POST /v1/samples': {
    summary: 'Scrubbed per-comment samples (consent "text").',
    body: { schema: 'SamplesBatch' },
    responses: INGEST_RESPONSES,
  },
  'POST /v1/feedback': {
    summary: 'Label corrections (consent "text").',
    body: { schema: 'FeedbackBatch' },
    responses: INGEST_RESPONSES,
  },

  'GET /v1/drift': {
    summary: 'The drift report of a model version.',
    query: [version, hours('window', 168, 'Window in hours (default DRIFT_WINDOW_HOURS).')],
    responses: { 200: ['the report', 'application/json'], 400: 'invalid query', 404: 'unknown version' },
  },
  'GET /v1/drift/history': {
    summary: 'Stored drift reports, newest first.',
    auth: 'read',
    query: [version, hours('limit', 168, 'Reports (default 48).')],
    responses: { 200: ['the reports', 'application/json'], 400: 'invalid query' },
  },
  'GET /v1/drift/alerts': {
    summary: 'Drift alerts, newest first.',
    auth: 'read',
    query: [version, hours('limit', 100, 'Alerts (default 20).')],
    responses: { 200: ['the alerts', 'application/json'], 400: 'invalid query' },
  },
  'GET /dashboard': {
    summary: 'The drift dashboard (HTML).',
    auth: 'read_or_basic',
    query: [version, hours('hours', 168, 'Hours shown (default 72).')],
    responses: { 200: ['the page', 'text/html'] },
  },

  'GET /v1/admin/export': {
    summary: 'Stored telemetry as NDJSON (aggregates, samples, feedback by hour range) or the agreed corrections.',
    auth: 'read',
    query: [
      { name: 'kind', description: 'aggregates | samples | feedback | corrections', schema: { enum: ['aggregates', 'samples', 'feedback', 'corrections'] } },
      version,
      { name: 'from', description: 'First hour, YYYY-MM-DDTHH (UTC).', schema: { type: 'string', pattern: '^\\d{4}-\\d{2}-\\d{2}T\\d{2}$' } },
      { name: 'to', description: 'Hour after the last, YYYY-MM-DDTHH (UTC).', schema: { type: 'string', pattern: '^\\d{4}-\\d{2}-\\d{2}T\\d{2}$' } },
      { name: 'min_clients', description: 'corrections: distinct clients that must agree (1-1000).', schema: { type: 'integer', minimum: 1, maximum: 1000 } },
    ],
    responses: { 200: ['NDJSON', 'application/x-ndjson'], 400: 'invalid query' },
  },
  'POST /v1/admin/drift/run': { summary: 'Runs the hourly drift job now.', auth: 'promote', responses: { 200: ['the run', 'application/json'] } },
  'GET /v1/admin/ingest': {
    summary: 'What the ingest lanes stored in an hour (batches, items, segments, copies dropped) and the dead-lettered deliveries of that hour.',
    auth: 'read',
    query: [{ name: 'hour', description: 'The hour, YYYY-MM-DDTHH (UTC); default the current one.', schema: { type: 'string', pattern: '^\\d{4}-\\d{2}-\\d{2}T\\d{2}$' } }],
    responses: { 200: ['the lanes', 'application/json'], 400: 'invalid query' },
  },
  'POST /v1/admin/ingest/replay': {
    summary: 'Sends the messages of a dead-letter object back to their lanes (safe to repeat: the consumers drop copies).',
    auth: 'promote',
    body: { free: 'application/json' },
    responses: { 200: ['what was replayed', 'application/json'], 400: 'not a dead-letter key', 404: 'no such object' },
  },
};

const SECURITY: Record<Auth, Array<Record<string, string[]>>> = {
  publish: [{ publishToken: [] }],
  promote: [{ promoteToken: [] }],
  read: [{ readToken: [] }],
  read_or_basic: [{ readToken: [] }, { readBasic: [] }],
  api_key: [{ apiKey: [] }],
};

/** Hono's `/v1/models/:version/files/*` → OpenAPI's `/v1/models/{version}/files/{path}`. */
export function openApiPath(honoPath: string): string {
  return honoPath.replace(/:([A-Za-z_]+)/g, '{$1}').replace(/\/\*$/, '/{path}');
}

const ref = (name: SchemaName) => ({ $ref: `#/components/schemas/${name}` });
const errorContent = { 'application/json': { schema: ref('Error') } };

function responseOf(description: string, body?: SchemaName | string) {
  if (body === undefined) return { description, content: errorContent };
  if (body.includes('/')) return { description, content: { [body]: { schema: body === 'application/json' ? { type: 'object' } : { type: 'string' } } } };
  return { description, content: { 'application/json': { schema: ref(body as SchemaName) } } };
}

function operationObject(method: string, path: string, op: Operation): JsonSchema {
  const params: Array<{ name: string; in: 'path' | 'query'; required: boolean; schema: JsonSchema; description?: string }> = [...path.matchAll(/:([A-Za-z_]+)/g)].map((m) => ({
    name: m[1]!,
    in: 'path',
    required: true,
    schema: { type: 'string' },
  }));
  if (path.endsWith('/*')) params.push({ name: 'path', in: 'path', required: true, schema: { type: 'string' } });
  for (const q of op.query ?? []) params.push({ name: q.name, in: 'query', required: false, schema: q.schema, description: q.description });
  const responses: Record<string, unknown> = {};
  for (const [status, r] of Object.entries(op.responses)) {
    responses[status] = typeof r === 'string' ? (Number(status) < 300 || status === '304' ? { description: r } : responseOf(r)) : responseOf(r[0], r[1]);
  }
  if (op.auth) responses['401'] ??= responseOf('missing or invalid credentials');
  // Rate-limited: every public write and /v1/predict (per network and per client or key).
  if (op.auth === 'api_key' || (method === 'POST' && !op.auth)) responses['429'] ??= responseOf('rate limited (Retry-After)');
  responses['500'] ??= responseOf('internal error or misconfigured server');
  let requestBody: unknown;
  if (op.body && 'binary' in op.body) requestBody = { required: true, content: { 'application/octet-stream': { schema: { type: 'string', contentMediaType: 'application/octet-stream' } } } };
  else if (op.body && 'free' in op.body) requestBody = { required: true, content: { 'application/json': { schema: { type: 'object' } } } };
  else if (op.body) requestBody = { required: true, content: { [op.body.contentType ?? 'application/json']: { schema: ref(op.body.schema) } } };
  if (method === 'POST' && path === '/v1/predict') {
    // One path, two answers: a single comment gets a Prediction, a batch a PredictBatchResponse.
    responses['200'] = {
      description: 'the prediction (single) or the predictions in order (batch)',
      content: { 'application/json': { schema: { oneOf: [ref('Prediction'), ref('PredictBatchResponse')] } } },
    };
  }
  return {
    operationId: `${method.toLowerCase()}${openApiPath(path).replace(/[^A-Za-z0-9]+(.)?/g, (_, ch: string | undefined) => (ch ?? '').toUpperCase())}`,
    summary: op.summary,
    ...(params.length ? { parameters: params } : {}),
    ...(requestBody ? { requestBody } : {}),
    responses,
    ...(op.auth ? { security: SECURITY[op.auth] } : {}),
  };
}

/** The app's routes ("METHOD path") that {@link OPERATIONS} does not describe (tests require none). */
export function undocumentedRoutes(routes: ReadonlyArray<{ method: string; path: string }>): string[] {
  return [...new Set(routes.filter((r) => r.method !== 'ALL').map((r) => `${r.method} ${r.path}`))].filter((id) => !OPERATIONS[id]);
}

/**
 * The document for the app's routes (`app.routes`; middleware entries with method ALL are skipped).
 * A route without an entry in {@link OPERATIONS} is still listed, marked `x-undocumented`, so a
 * deployment never serves a document that hides a route (tests/worker/openapi.test.ts fails on it).
 */
export function openApiDocument(routes: ReadonlyArray<{ method: string; path: string }>): JsonSchema {
  const paths: Record<string, Record<string, unknown>> = {};
  const seen = new Set<string>();
  for (const r of routes) {
    if (r.method === 'ALL') continue;
    const id = `${r.method} ${r.path}`;
    if (seen.has(id)) continue;
    seen.add(id);
    const op = OPERATIONS[id] ?? { summary: 'Not described yet (no entry in worker/openapi.ts).', responses: {} };
    (paths[openApiPath(r.path)] ??= {})[r.method.toLowerCase()] = { ...operationObject(r.method, r.path, op), ...(OPERATIONS[id] ? {} : { 'x-undocumented': true }) };
  }
  const schemas = Object.fromEntries(Object.entries(SCHEMAS).map(([name, [schema, io]]) => [name, jsonSchemaOf(schema, io)]));
  return {
    openapi: '3.1.0',
    info: {
      title: 'ytsent backend',
      version: '1',
      description:
        'Model registry and CDN, opt-in telemetry, drift reports and server-side scoring for the ytsent extension. Every error is {"error": {"code", "message", "details"?}}. Full contract: docs/API.md.',
    },
    paths,
    components: {
      schemas,
      securitySchemes: {
        publishToken: { type: 'http', scheme: 'bearer', description: 'ADMIN_PUBLISH_TOKEN' },
        promoteToken: { type: 'http', scheme: 'bearer', description: 'ADMIN_PROMOTE_TOKEN' },
        readToken: { type: 'http', scheme: 'bearer', description: 'READ_TOKEN' },
        readBasic: { type: 'http', scheme: 'basic', description: 'READ_TOKEN as the password (the dashboard)' },
        apiKey: { type: 'http', scheme: 'bearer', bearerFormat: 'ytsk_<43 base64url characters>', description: 'An API key from POST /v1/admin/keys' },
      },
    },
  };
}

/**
 * GET /openapi.json in workerd: the document the Worker serves lists exactly the routes of the
 * Hono app (both ways), so a route added without its entry in worker/openapi.ts fails here. Its
 * validity as OpenAPI 3.1 and JSON Schema is checked in Node (tests/unit/openapi.test.ts), where
 * ajv can compile schemas.
 */
import { describe, expect, it } from 'vitest';
import { createApp } from '../../worker/app.js';
import { openApiDocument, openApiPath, undocumentedRoutes } from '../../worker/openapi.js';
import { callJson } from './helpers.js';

type Doc = { openapi: string; paths: Record<string, Record<string, { security?: unknown; requestBody?: unknown }>>; components: { schemas: Record<string, unknown> } };

describe('GET /openapi.json', () => {
  it('describes every route of the app, and nothing else', async () => {
    const { res, body } = await callJson<Doc>('/openapi.json');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
    expect(body.openapi).toBe('3.1.0');
    const routes = new Set(
      createApp()
        .routes.filter((r) => r.method !== 'ALL')
        .map((r) => `${r.method} ${openApiPath(r.path)}`),
    );
    const documented = new Set(Object.entries(body.paths).flatMap(([path, ops]) => Object.keys(ops).map((m) => `${m.toUpperCase()} ${path}`)));
    expect([...documented].sort()).toEqual([...routes].sort());
    expect(routes.has('POST /v1/predict')).toBe(true);
    // Every route has its own entry (summary, auth, bodies, answers), not the placeholder.
    expect(undocumentedRoutes(createApp().routes)).toEqual([]);
    expect(JSON.stringify(body)).not.toContain('x-undocumented');
  });

  it('marks who may call each route and derives bodies from the zod schemas', async () => {
    const { body } = await callJson<Doc>('/openapi.json');
    expect(body.paths['/v1/predict']!.post!.security).toEqual([{ apiKey: [] }]);
    expect(body.paths['/v1/admin/keys']!.post!.security).toEqual([{ promoteToken: [] }]);
    expect(body.paths['/health']!.get!.security).toBeUndefined();
    const predict = body.components.schemas.PredictRequest as { anyOf: Array<{ properties: Record<string, unknown>; required: string[] }> };
    expect(predict.anyOf.map((s) => s.required)).toEqual([['comment'], ['items']]);
    expect((predict.anyOf[1]!.properties.items as { maxItems: number }).maxItems).toBe(64);
    for (const name of ['AggregatesBatch', 'SamplesBatch', 'FeedbackBatch', 'Promote']) expect(body.components.schemas[name], name).toMatchObject({ type: 'object' });
    // The manifest is a union over bundle formats, as core/manifest.ts declares it.
    expect((body.components.schemas.ModelManifest as { oneOf: unknown[] }).oneOf).toHaveLength(2);
  });

  it('still lists a route it has no entry for, marked, so nothing is hidden', () => {
    const routes = [{ method: 'GET', path: '/v1/undocumented/:id' }];
    expect(undocumentedRoutes(routes)).toEqual(['GET /v1/undocumented/:id']);
    const doc = openApiDocument(routes) as Doc;
    expect(doc.paths['/v1/undocumented/{id}']!.get).toMatchObject({ 'x-undocumented': true });
  });
});

/**
 * GET /openapi.json: the OpenAPI 3.1 document of every route (worker/openapi.ts), built once per
 * isolate from the app's own route list. Public, like the routes it describes.
 */
import { Hono } from 'hono';
import type { AppEnv } from '../env.js';
import { openApiDocument } from '../openapi.js';

/** `routes` is read on the first request, once every route module is mounted. */
export function openApiRoutes(routes: () => ReadonlyArray<{ method: string; path: string }>): Hono<AppEnv> {
  let document: string | null = null;
  const app = new Hono<AppEnv>();
  app.get('/openapi.json', (c) => {
    document ??= JSON.stringify(openApiDocument(routes()));
    return c.body(document, 200, { 'Content-Type': 'application/json; charset=utf-8', 'Cache-Control': 'public, max-age=300' });
  });
  return app;
}

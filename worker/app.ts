/**
 * The Hono application: middleware (request metrics, security headers, configuration check, CORS,
 * errors) and the route modules. Routes and their contract: docs/API.md.
 */
import { Hono, type Context } from 'hono';
import { HTTPException } from 'hono/http-exception';
import { matchedRoutes } from 'hono/route';
import { secureHeaders } from 'hono/secure-headers';
import { loadConfig, ConfigError, type AppEnv } from './env.js';
import { cors } from './lib/cors.js';
import { ApiError, StoredDocumentError, errorResponse } from './lib/errors.js';
import { observeLatency } from './lib/latency.js';
import { metrics } from './lib/metrics.js';
import { adminRoutes } from './routes/admin.js';
import { apiKeyRoutes } from './routes/api-keys.js';
import { channelRoutes } from './routes/channels.js';
import { dashboardRoutes } from './routes/dashboard.js';
import { driftRoutes } from './routes/drift.js';
import { ingestRoutes } from './routes/ingest.js';
import { modelRoutes } from './routes/models.js';
import { monitoringRoutes } from './routes/monitoring.js';
import { openApiRoutes } from './routes/openapi.js';
import { opsRoutes } from './routes/ops.js';
import { predictRoutes } from './routes/predict.js';
import { telemetryRoutes } from './routes/telemetry.js';

function routeLabel(c: Context<AppEnv>): string {
  const explicit = c.get('route');
  if (explicit) return explicit;
  const handlers = matchedRoutes(c).filter((r) => r.method !== 'ALL');
  return handlers.length > 0 ? handlers[handlers.length - 1]!.path : 'unmatched';
}

export function createApp(): Hono<AppEnv> {
  const app = new Hono<AppEnv>();

  // Outermost: counts and times every response, including errors, preflights and 404s.
  app.use('*', async (c, next) => {
    const started = performance.now();
    await next();
    const route = routeLabel(c);
    metrics.inc('ytsent_http_requests_total', { route, method: c.req.method, status: c.res.status });
    observeLatency(metrics, route, (performance.now() - started) / 1000);
    try {
      const flushMs = loadConfig(c.env).metricsFlushMs;
      c.executionCtx.waitUntil(metrics.flushSoon(c.env.TELEMETRY, flushMs));
    } catch {
      // No execution context (app.request() in a unit test) or bad config: counts stay buffered.
    }
  });
  // Every response, errors and 404s included. The API serves JSON and model bytes: nothing may
  // run, frame or load anything. `overwrite: false` keeps what a route sets itself (the
  // dashboard's CSP allows its inline styles and data: images).
  app.use(
    '*',
    secureHeaders({
      contentSecurityPolicy: { defaultSrc: ["'none'"], frameAncestors: ["'none'"], baseUri: ["'none'"], formAction: ["'none'"] },
      xFrameOptions: 'DENY',
      overwrite: false,
    }),
  );
  // A broken configuration fails every request (health checks included) rather than some of them
  // later: the operator finds out at the first request, clients learn nothing about it.
  app.use('*', async (c, next) => {
    loadConfig(c.env);
    await next();
  });
  app.use('*', cors);

  app.route('/', opsRoutes);
  app.route('/', modelRoutes);
  app.route('/', channelRoutes);
  app.route('/', telemetryRoutes);
  app.route('/', driftRoutes);
  app.route('/', dashboardRoutes);
  app.route('/', adminRoutes);
  app.route('/', ingestRoutes);
  app.route('/', monitoringRoutes);
  app.route('/', apiKeyRoutes);
  app.route('/', predictRoutes);
  app.route(
    '/',
    openApiRoutes(() => app.routes),
  );

  app.notFound((c) => errorResponse(404, 'not_found', `no route for ${c.req.method} ${new URL(c.req.url).pathname}`));
  app.onError((err, c) => {
    if (err instanceof ApiError) return errorResponse(err.status, err.code, err.message, err.details, err.headers);
    if (err instanceof ConfigError) {
      // The reason names secrets and vars: the log gets it, the client a generic answer.
      console.error(`configuration error: ${err.message}`);
      return errorResponse(500, 'misconfigured', 'the server is misconfigured; the operator can find the reason in its logs');
    }
    if (err instanceof StoredDocumentError) {
      // The key and reason describe storage: the log gets them, the client a generic answer.
      console.error(err.message);
      return errorResponse(500, 'stored_document_invalid', 'a stored document is invalid; the operator can find the reason in its logs');
    }
    // Hono middleware (bearer-auth) throws its finished response.
    if (err instanceof HTTPException) return err.res ?? errorResponse(err.status, 'http_error', err.message || 'request failed');
    // Unexpected: log everything, reveal nothing.
    console.error(`unhandled error on ${c.req.method} ${c.req.url}`, err);
    return errorResponse(500, 'internal', 'internal error');
  });
  return app;
}

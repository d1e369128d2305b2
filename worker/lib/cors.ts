/**
 * CORS for the configured extension origins only.
 *
 * An allowed origin gets `Access-Control-Allow-Origin: <that origin>` (never `*`); any other origin
 * gets no CORS headers at all, so browsers block it. Preflights allow only the public methods and
 * headers: admin routes (PUT, Authorization) are never reachable cross-origin. The one exception
 * is POST /v1/predict, whose API key travels in Authorization: a dashboard on an allowed origin
 * may send it (the key only scores; it opens no operator route).
 */
import type { MiddlewareHandler } from 'hono';
import type { AppEnv } from '../env.js';
import { loadConfig } from '../env.js';
import { errorResponse } from './errors.js';

export const CORS_ALLOW_METHODS = 'GET, HEAD, POST, OPTIONS';
const ALLOW_HEADERS = new Set(['content-type', 'if-none-match', 'range', 'if-range']);
/** Routes whose credential is an API key, not an operator token: Authorization allowed. */
const API_KEY_PATHS = new Set(['/v1/predict']);
const ALLOW_HEADERS_WITH_KEY = new Set([...ALLOW_HEADERS, 'authorization']);
const EXPOSE_HEADERS = 'ETag, Retry-After, Content-Range, Content-Length, X-Model-Version';
const MAX_AGE_S = '86400';

function appendVary(headers: Headers, value: string): void {
  const current = headers.get('Vary');
  if (!current) headers.set('Vary', value);
  else if (!current.split(',').some((v) => v.trim().toLowerCase() === value.toLowerCase())) headers.set('Vary', `${current}, ${value}`);
}

export const cors: MiddlewareHandler<AppEnv> = async (c, next) => {
  const origin = c.req.header('origin');
  const allowed = origin !== undefined && loadConfig(c.env).allowedOrigins.has(origin);
  const requestedMethod = c.req.header('access-control-request-method');

  if (c.req.method === 'OPTIONS' && origin !== undefined && requestedMethod !== undefined) {
    c.set('route', 'preflight');
    if (!allowed) {
      return errorResponse(403, 'origin_not_allowed', 'this origin may not call the API', undefined, { Vary: 'Origin' });
    }
    const requestedHeaders = (c.req.header('access-control-request-headers') ?? '')
      .split(',')
      .map((h) => h.trim().toLowerCase())
      .filter(Boolean);
    const allowHeaders = API_KEY_PATHS.has(new URL(c.req.url).pathname) ? ALLOW_HEADERS_WITH_KEY : ALLOW_HEADERS;
    const refused = requestedHeaders.filter((h) => !allowHeaders.has(h));
    if (!CORS_ALLOW_METHODS.split(', ').includes(requestedMethod.toUpperCase()) || refused.length > 0) {
      return errorResponse(403, 'cors_not_allowed', `method or headers not allowed cross-origin${refused.length ? `: ${refused.join(', ')}` : ''}`, undefined, {
        Vary: 'Origin',
      });
    }
    return new Response(null, {
      status: 204,
      headers: {
        'Access-Control-Allow-Origin': origin,
        'Access-Control-Allow-Methods': CORS_ALLOW_METHODS,
        'Access-Control-Allow-Headers': [...allowHeaders].join(', '),
        'Access-Control-Max-Age': MAX_AGE_S,
        Vary: 'Origin',
      },
    });
  }

  await next();
  // Responses differ by Origin whenever CORS is configured; caches must key on it.
  appendVary(c.res.headers, 'Origin');
  if (allowed) {
    c.res.headers.set('Access-Control-Allow-Origin', origin);
    c.res.headers.set('Access-Control-Expose-Headers', EXPOSE_HEADERS);
  }
};

/**
 * Admin authentication: `Authorization: Bearer <ADMIN_TOKEN>`.
 *
 * Both sides are hashed to SHA-256 first so the comparison always runs on 32 equal-length bytes:
 * `timingSafeEqual` then leaks neither the token's content nor its length through timing.
 */
import type { MiddlewareHandler } from 'hono';
import type { AppEnv } from '../app.js';
import { ApiError } from './errors.js';

/** Shortest token accepted as configured: anything shorter is a deployment mistake. */
export const MIN_TOKEN_LENGTH = 16;

const encoder = new TextEncoder();

async function digest(s: string): Promise<ArrayBuffer> {
  return crypto.subtle.digest('SHA-256', encoder.encode(s));
}

/** Constant-time string equality (for equal-length digests; see module comment). */
export async function tokensEqual(given: string, expected: string): Promise<boolean> {
  const [a, b] = await Promise.all([digest(given), digest(expected)]);
  return crypto.subtle.timingSafeEqual(a, b);
}

function unauthorized(message: string, error: 'invalid_request' | 'invalid_token'): ApiError {
  return new ApiError(401, 'unauthorized', message, undefined, {
    'WWW-Authenticate': `Bearer realm="ytsent-admin", error="${error}"`,
  });
}

/** Middleware: 401 unless the request carries the admin bearer token. */
export const requireAdmin: MiddlewareHandler<AppEnv> = async (c, next) => {
  const expected = c.env.ADMIN_TOKEN ?? '';
  if (expected.length < MIN_TOKEN_LENGTH) {
    // Fail closed, and say why: an unset secret must not read as "wrong token" to the operator.
    throw new ApiError(503, 'admin_not_configured', `ADMIN_TOKEN is not set (or shorter than ${MIN_TOKEN_LENGTH} characters)`);
  }
  const header = c.req.header('authorization');
  if (!header) throw unauthorized('missing Authorization: Bearer <token>', 'invalid_request');
  const match = /^Bearer[ ]+([^\s]+)\s*$/i.exec(header);
  if (!match) throw unauthorized('Authorization must be "Bearer <token>"', 'invalid_request');
  if (!(await tokensEqual(match[1]!, expected))) throw unauthorized('invalid admin token', 'invalid_token');
  await next();
};

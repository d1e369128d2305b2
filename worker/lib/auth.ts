/**
 * Operator authentication: `Authorization: Bearer <token>`, one token per role (worker/env.ts
 * TOKEN_VARS): publishing model versions, moving channels, reading operator data. A token is
 * accepted for its own role only, so a leaked publishing token cannot also promote, and a
 * dashboard viewer's token can neither.
 *
 * Hono's bearer-auth middleware parses the header; the comparison hashes both sides to SHA-256
 * first so `timingSafeEqual` always runs on 32 equal-length bytes and leaks neither the token's
 * content nor its length through timing. Failures answer in the API's error shape.
 */
import type { Context, MiddlewareHandler } from 'hono';
import { basicAuth } from 'hono/basic-auth';
import { bearerAuth } from 'hono/bearer-auth';
import type { AppEnv } from '../env.js';
import { loadConfig, type TokenRole } from '../env.js';
import { errorResponse } from './errors.js';

const encoder = new TextEncoder();

async function digest(s: string): Promise<ArrayBuffer> {
  return crypto.subtle.digest('SHA-256', encoder.encode(s));
}

/** Constant-time string equality (for equal-length digests; see module comment). */
export async function tokensEqual(given: string, expected: string): Promise<boolean> {
  const [a, b] = await Promise.all([digest(given), digest(expected)]);
  return crypto.subtle.timingSafeEqual(a, b);
}

const middlewares = new Map<TokenRole, MiddlewareHandler<AppEnv>>();

/**
 * Middleware: 401 (with `WWW-Authenticate: Bearer realm="ytsent-<role>"`) unless the request carries
 * the token of `role`. A malformed header is a 401 too (RFC 6750 allows 400; clients handle one
 * status more simply).
 *
 * @example
 * channelRoutes.post('/v1/channels/:channel', requireToken('promote'), handler);
 */
export function requireToken(role: TokenRole): MiddlewareHandler<AppEnv> {
  const hit = middlewares.get(role);
  if (hit) return hit;
  const realm = `ytsent-${role}`;
  const refuse = (message: string, error: 'invalid_request' | 'invalid_token') => ({
    wwwAuthenticateHeader: `Bearer realm="${realm}", error="${error}"`,
    message: () => errorResponse(401, 'unauthorized', message),
  });
  const middleware = bearerAuth({
    realm,
    noAuthenticationHeader: {
      wwwAuthenticateHeader: `Bearer realm="${realm}"`,
      message: () => errorResponse(401, 'unauthorized', `missing Authorization: Bearer <${role} token>`),
    },
    invalidAuthenticationHeader: refuse('Authorization must be "Bearer <token>"', 'invalid_request'),
    invalidToken: refuse(`invalid ${role} token`, 'invalid_token'),
    // loadConfig throws ConfigError (500 misconfigured) when a token is unset or too short.
    verifyToken: (token: string, c: Context) => tokensEqual(token, loadConfig((c as Context<AppEnv>).env).tokens[role]),
  }) as MiddlewareHandler<AppEnv>;
  middlewares.set(role, middleware);
  return middleware;
}

const basicRead = basicAuth({
  realm: 'ytsent-read',
  verifyUser: (_user: string, password: string, c: Context) => tokensEqual(password, loadConfig((c as Context<AppEnv>).env).tokens.read),
  invalidUserMessage: { error: { code: 'unauthorized', message: 'the read token is required (as a Bearer token, or as the password of HTTP Basic authentication)' } },
}) as MiddlewareHandler<AppEnv>;

/**
 * Middleware for pages opened in a browser (the dashboard), which cannot attach a bearer token by
 * itself: `Authorization: Bearer <read token>` as everywhere, or HTTP Basic credentials whose
 * password is the read token (any user name). Without credentials the answer is a Basic challenge,
 * so the browser asks for them.
 */
export const requireReadTokenOrBasic: MiddlewareHandler<AppEnv> = async (c, next) => {
  if (/^bearer(?:\s|$)/i.test(c.req.header('authorization') ?? '')) return requireToken('read')(c, next);
  return basicRead(c, next);
};

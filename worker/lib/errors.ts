/**
 * One error shape for every response: `{"error": {"code", "message", "details"?}}` (core/wire.ts
 * ErrorBody). Route code throws {@link ApiError}; the app's onError turns it into the response.
 */
import type { ErrorBody } from '../../core/wire.js';

export interface ErrorDetail {
  path: string;
  message: string;
}

export class ApiError extends Error {
  override name = 'ApiError';
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details?: ErrorDetail[],
    readonly headers?: Record<string, string>,
  ) {
    super(message);
  }
}

/** JSON error response; `details` is omitted when empty. */
export function errorResponse(status: number, code: string, message: string, details?: ErrorDetail[], headers?: HeadersInit): Response {
  const body: ErrorBody = { error: { code, message, ...(details && details.length > 0 ? { details } : {}) } };
  const h = new Headers(headers);
  h.set('Content-Type', 'application/json; charset=utf-8');
  h.set('Cache-Control', 'no-store');
  return new Response(JSON.stringify(body), { status, headers: h });
}

export const badRequest = (code: string, message: string, details?: ErrorDetail[]): ApiError => new ApiError(400, code, message, details);
export const notFound = (code: string, message: string): ApiError => new ApiError(404, code, message);

/** A wrangler.toml var or secret is missing or invalid: logged, never shown to clients (worker/env.ts). */
export class ConfigError extends Error {
  override name = 'ConfigError';
}

/**
 * A JSON document read back from R2 is not JSON or fails its schema (worker/lib/stored.ts): an
 * operator problem. Logged with the key and the reason; clients get a generic 500.
 */
export class StoredDocumentError extends Error {
  override name = 'StoredDocumentError';
  constructor(
    readonly key: string,
    readonly reason: string,
  ) {
    super(`stored document ${key} is invalid: ${reason}`);
  }
}

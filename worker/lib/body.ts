/**
 * Request bodies read defensively: size checked against Content-Length before reading and against
 * the bytes actually received while reading (a lying or absent Content-Length, chunked uploads),
 * strict UTF-8, JSON parse errors as 400s.
 */
import { ApiError } from './errors.js';

/** True for `application/json` and `application/<x>+json`, with any parameters (charset=utf-8). */
export function isJsonContentType(value: string | null): boolean {
  if (!value) return false;
  const mediaType = value.split(';')[0]!.trim().toLowerCase();
  return mediaType === 'application/json' || /^application\/[a-z0-9.+-]+\+json$/.test(mediaType);
}

export function requireJsonContentType(request: Request): void {
  if (!isJsonContentType(request.headers.get('content-type'))) {
    throw new ApiError(415, 'unsupported_media_type', 'Content-Type must be application/json', [
      { path: '(header) content-type', message: `got ${JSON.stringify(request.headers.get('content-type') ?? '(none)')}` },
    ]);
  }
}

/** Content-Length as a number, or null when absent; 400 when malformed. */
export function declaredLength(request: Request): number | null {
  const raw = request.headers.get('content-length');
  if (raw === null) return null;
  if (!/^\d{1,15}$/.test(raw.trim())) throw new ApiError(400, 'invalid_content_length', 'Content-Length is not a byte count');
  return Number(raw.trim());
}

function tooLarge(limit: number): ApiError {
  return new ApiError(413, 'body_too_large', `request body exceeds ${limit} bytes`, [{ path: '(body)', message: `limit is ${limit} bytes` }]);
}

/**
 * An oversized body is still read (and discarded) up to this many bytes before the 413 goes out:
 * an HTTP client that is still sending when the server answers and closes usually reports a
 * connection reset instead of the 413. Beyond it the upload is cut off.
 */
export const DRAIN_MAX_BYTES = 1024 * 1024;

async function drain(reader: ReadableStreamDefaultReader<Uint8Array>, already: number): Promise<void> {
  let seen = already;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return;
      seen += value.byteLength;
      if (seen > DRAIN_MAX_BYTES) break;
    }
  } catch {
    return;
  }
  await reader.cancel('body too large').catch(() => undefined);
}

/** The whole body, at most `limit` bytes; 413 as soon as more arrive (nothing past it is kept). */
export async function readBodyCapped(request: Request, limit: number): Promise<Uint8Array> {
  const declared = declaredLength(request);
  if (declared !== null && declared > limit) {
    if (request.body !== null) {
      const reader = request.body.getReader();
      if (declared <= DRAIN_MAX_BYTES) await drain(reader, 0);
      else await reader.cancel('body too large').catch(() => undefined);
    }
    throw tooLarge(limit);
  }
  if (request.body === null) return new Uint8Array(0);
  const reader = request.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > limit) {
      await drain(reader, total);
      throw tooLarge(limit);
    }
    chunks.push(value);
  }
  if (chunks.length === 1) return chunks[0]!;
  const out = new Uint8Array(total);
  let offset = 0;
  for (const c of chunks) {
    out.set(c, offset);
    offset += c.byteLength;
  }
  return out;
}

const decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false });

/** Strict UTF-8 then JSON.parse; both failures are 400s naming the problem. */
export function parseJsonBytes(bytes: Uint8Array): unknown {
  if (bytes.byteLength === 0) throw new ApiError(400, 'invalid_json', 'request body is empty');
  let text: string;
  try {
    text = decoder.decode(bytes);
  } catch {
    throw new ApiError(400, 'invalid_utf8', 'request body is not valid UTF-8');
  }
  try {
    return JSON.parse(text);
  } catch (e) {
    // A RangeError here (absurd nesting) is still the client's malformed input, not our failure.
    throw new ApiError(400, 'invalid_json', `request body is not valid JSON: ${e instanceof Error ? e.message.slice(0, 200) : 'parse error'}`);
  }
}

/** Content-Type check, capped read, strict parse. */
export async function readJson(request: Request, limit: number): Promise<unknown> {
  requireJsonContentType(request);
  return parseJsonBytes(await readBodyCapped(request, limit));
}

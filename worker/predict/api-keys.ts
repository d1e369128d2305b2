/**
 * API keys of POST /v1/predict: created and revoked by an operator (promote token), shown once,
 * stored only as SHA-256 hashes.
 *
 * A key is `ytsk_` + 43 base64url characters (256 random bits). Its record lives at
 * `apikeys/<sha256 of the key>.json` in the MODELS bucket, so checking a presented key is one GET of
 * the key its hash names, and the key itself is never written anywhere. Its public id is the first
 * 16 hex digits of that hash (listed, logged, used to revoke and as the rate-limit key): it names a
 * key without revealing anything usable.
 *
 * Each isolate keeps what it looked up for {@link KEY_CACHE_MS} (a hit costs no R2 read), so a
 * revocation takes effect at once in the isolate that made it and within a minute everywhere else.
 * A key that is not in the cache costs an R2 read, so those lookups count against the connecting
 * network's limit first (IP_RATE_LIMITER): guessing keys cannot turn into unbounded R2 reads.
 */
import type { MiddlewareHandler } from 'hono';
import { API_KEY_RE, ApiKeySchema, PREDICT_LIMITS, type ApiKeyInfo } from '../../core/predict-wire.js';
import type { AppEnv } from '../env.js';
import { loadConfig } from '../env.js';
import { ApiError } from '../lib/errors.js';
import { sha256Hex } from '../lib/hash.js';
import { keys, listAll } from '../lib/keys.js';
import { networkKey, rateLimited, withinLimit } from '../lib/rate-limit.js';

/** How long an isolate trusts what it looked up (revocations reach other isolates within this). */
export const KEY_CACHE_MS = 60_000;
/** The period of PREDICT_RATE_LIMITER in wrangler.toml: the Retry-After of its 429. */
export const PREDICT_RATE_PERIOD_S = 10;

/** The stored record is the listed key, parsed on every read (R2 content is checked, not assumed). */
const ApiKeyRecordSchema = ApiKeySchema;

function base64url(bytes: Uint8Array): string {
  let s = '';
  for (const b of bytes) s += String.fromCharCode(b);
  return btoa(s).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

/** A fresh key: `ytsk_` + 256 random bits in base64url. */
export function generateKey(): string {
  return `ytsk_${base64url(crypto.getRandomValues(new Uint8Array(32)))}`;
}

const cache = new Map<string, { record: ApiKeyInfo | null; until: number }>();
const CACHE_MAX = 10_000;

function remember(hash: string, record: ApiKeyInfo | null, now: number): void {
  if (cache.size >= CACHE_MAX) cache.clear();
  cache.set(hash, { record, until: now + KEY_CACHE_MS });
}

async function readRecord(bucket: R2Bucket, hash: string): Promise<{ record: ApiKeyInfo; etag: string } | null> {
  const obj = await bucket.get(keys.apiKey(hash));
  if (!obj) return null;
  const parsed = ApiKeyRecordSchema.safeParse(await obj.json());
  if (!parsed.success) throw new Error(`stored API key record ${obj.key} does not match its schema`);
  return { record: parsed.data, etag: obj.etag };
}

/** Creates a key named `name`; the key is returned once and stored only as its hash. */
export async function createKey(bucket: R2Bucket, name: string, now = Date.now()): Promise<ApiKeyInfo & { key: string }> {
  const key = generateKey();
  const hash = await sha256Hex(key);
  const record: ApiKeyInfo = { id: hash.slice(0, 16), name, created_at: new Date(now).toISOString(), revoked_at: null };
  // Create-only: 256 random bits never collide, but a stored record is never overwritten either way.
  const written = await bucket.put(keys.apiKey(hash), JSON.stringify(record), { onlyIf: { etagDoesNotMatch: '*' }, httpMetadata: { contentType: 'application/json' } });
  if (written === null) throw new Error('API key collision');
  remember(hash, record, now);
  return { ...record, key };
}

/** Every key, oldest first (records only: there are no keys to list). */
export async function listKeys(bucket: R2Bucket): Promise<ApiKeyInfo[]> {
  const objects = await listAll(bucket, keys.apiKeyPrefix);
  const records = await Promise.all(objects.map((o) => readRecord(bucket, o.key.slice(keys.apiKeyPrefix.length, -'.json'.length))));
  return records
    .filter((r): r is NonNullable<typeof r> => r !== null)
    .map((r) => r.record)
    .sort((a, b) => a.created_at.localeCompare(b.created_at) || a.id.localeCompare(b.id));
}

/**
 * Revokes the key with public id `id` (idempotent: a revoked key keeps its first revocation time).
 * The record is kept, so the list shows what was revoked and when.
 */
export async function revokeKey(bucket: R2Bucket, id: string, now = Date.now()): Promise<ApiKeyInfo> {
  const listed = await bucket.list({ prefix: keys.apiKeyPrefix + id });
  const object = listed.objects[0];
  if (!object || listed.objects.length > 1) throw new ApiError(404, 'unknown_key', `no API key has id ${id}`);
  const hash = object.key.slice(keys.apiKeyPrefix.length, -'.json'.length);
  for (let attempt = 0; attempt < 4; attempt++) {
    const current = await readRecord(bucket, hash);
    if (!current) throw new ApiError(404, 'unknown_key', `no API key has id ${id}`);
    if (current.record.revoked_at !== null) {
      remember(hash, current.record, now);
      return current.record;
    }
    const record = { ...current.record, revoked_at: new Date(now).toISOString() };
    const written = await bucket.put(keys.apiKey(hash), JSON.stringify(record), { onlyIf: { etagMatches: current.etag }, httpMetadata: { contentType: 'application/json' } });
    if (written !== null) {
      remember(hash, record, now);
      return record;
    }
  }
  throw new ApiError(503, 'key_busy', `API key ${id} is being changed concurrently, retry`, undefined, { 'Retry-After': '1' });
}

function unauthorized(message: string, error?: 'invalid_request' | 'invalid_token'): ApiError {
  return new ApiError(401, 'unauthorized', message, undefined, {
    'WWW-Authenticate': `Bearer realm="ytsent-predict"${error ? `, error="${error}"` : ''}`,
  });
}

/**
 * Middleware: `Authorization: Bearer <API key>`; 401 for a missing, malformed or unknown key, 403
 * for a revoked one, 429 past the key's rate limit (PREDICT_RATE_LIMITER, keyed by the key's id).
 * Runs before anything reads the body.
 *
 * @example
 * predictRoutes.post('/v1/predict', requireApiKey, handler);
 */
export const requireApiKey: MiddlewareHandler<AppEnv> = async (c, next) => {
  const header = c.req.header('authorization');
  if (!header) throw unauthorized('missing Authorization: Bearer <API key>');
  const m = /^bearer +(\S+)\s*$/i.exec(header);
  if (!m) throw unauthorized('Authorization must be "Bearer <API key>"', 'invalid_request');
  const key = m[1]!;
  if (!API_KEY_RE.test(key)) throw unauthorized('not an API key (ytsk_ followed by 43 characters)', 'invalid_token');
  const hash = await sha256Hex(key);
  const now = Date.now();
  let entry = cache.get(hash);
  if (!entry || entry.until <= now) {
    if (!(await withinLimit(c.env.IP_RATE_LIMITER, networkKey(c.req.header('cf-connecting-ip'))))) {
      throw rateLimited(loadConfig(c.env).rateLimitPeriodS, 'network');
    }
    const stored = await readRecord(c.env.MODELS, hash);
    remember(hash, stored?.record ?? null, now);
    entry = cache.get(hash)!;
  }
  if (!entry.record) throw unauthorized('unknown API key', 'invalid_token');
  if (entry.record.revoked_at !== null) throw new ApiError(403, 'key_revoked', `API key ${entry.record.id} was revoked at ${entry.record.revoked_at}`);
  if (!(await withinLimit(c.env.PREDICT_RATE_LIMITER, entry.record.id))) {
    throw new ApiError(
      429,
      'rate_limited',
      `too many requests with this API key (${PREDICT_LIMITS.requests_per_s} a second, counted over ${PREDICT_RATE_PERIOD_S} s); retry in ${PREDICT_RATE_PERIOD_S} s`,
      undefined,
      {
        'Retry-After': String(PREDICT_RATE_PERIOD_S),
      },
    );
  }
  await next();
};

/**
 * API keys of POST /v1/predict (promote token: the operator role that decides what is served):
 *   POST   /v1/admin/keys        {"name"} → 201 {id, name, created_at, revoked_at: null, key}: the key, shown this once
 *   GET    /v1/admin/keys        every key's record (never a key)
 *   DELETE /v1/admin/keys/:id    revoke (idempotent; the record stays, with revoked_at)
 * Storage and caching: predict/api-keys.ts.
 */
import { Hono } from 'hono';
import { ApiKeyCreateSchema, ApiKeyIdSchema } from '../../core/predict-wire.js';
import { issuesOf } from '../../core/wire.js';
import type { AppEnv } from '../env.js';
import { requireToken } from '../lib/auth.js';
import { readJson } from '../lib/body.js';
import { ApiError, badRequest } from '../lib/errors.js';
import { createKey, listKeys, revokeKey } from '../predict/api-keys.js';

export const apiKeyRoutes = new Hono<AppEnv>();

apiKeyRoutes.post('/v1/admin/keys', requireToken('promote'), async (c) => {
  const parsed = ApiKeyCreateSchema.safeParse(await readJson(c.req.raw, 4096));
  if (!parsed.success) throw new ApiError(400, 'validation_failed', 'body must be {"name": "<who the key is for>"}', issuesOf(parsed.error));
  const created = await createKey(c.env.MODELS, parsed.data.name);
  return c.json(created, 201, { 'Cache-Control': 'no-store', Location: `/v1/admin/keys/${created.id}` });
});

apiKeyRoutes.get('/v1/admin/keys', requireToken('promote'), async (c) => {
  return c.json({ keys: await listKeys(c.env.MODELS) }, 200, { 'Cache-Control': 'no-store' });
});

apiKeyRoutes.delete('/v1/admin/keys/:id', requireToken('promote'), async (c) => {
  const id = ApiKeyIdSchema.safeParse(c.req.param('id'));
  if (!id.success) throw badRequest('invalid_key_id', 'a key id is 16 lowercase hex digits', [{ path: 'id', message: id.error.issues[0]?.message ?? 'invalid' }]);
  return c.json(await revokeKey(c.env.MODELS, id.data), 200, { 'Cache-Control': 'no-store' });
});

/**
 * Server-side scoring for clients that are not the extension (scripts, dashboards, other
 * browsers), with the model the extension runs:
 *
 *   POST /v1/predict   (API key)   {comment, video_id?, timestamp?, lang?}  or  {items: [...]} (≤ 64)
 *
 * Checks in order (first failure answers): 401/403 API key and 429 per key (predict/api-keys.ts,
 * before the body is read) → 415 content type → 413 body size (256 KiB) → 400 UTF-8/JSON → 413
 * item count / comment size (2 KB) → 400 schema → 503 when no model can be served → 200.
 *
 * The comment is scored after the normalization the extension applies before it scores
 * (core/text-key.ts: NFC, whitespace collapsed), so both give one comment the same answer. Nothing
 * a client sends is stored: the cache (predict/cache.ts) keeps a hash of the text and the answer,
 * in the isolate's memory only.
 */
import { Hono } from 'hono';
import { PREDICT_LIMITS, PredictBatchSchema, PredictItemSchema, type PredictItem, type PredictionResult } from '../../core/predict-wire.js';
import { normalizeForCache } from '../../core/text-key.js';
import { issuesOf } from '../../core/wire.js';
import type { AppEnv } from '../env.js';
import { loadConfig } from '../env.js';
import { readJson } from '../lib/body.js';
import { ApiError } from '../lib/errors.js';
import { metrics } from '../lib/metrics.js';
import { requireApiKey } from '../predict/api-keys.js';
import { PredictionCache, predictionCache } from '../predict/cache.js';
import { servingModel, type LoadedModel } from '../predict/model.js';

export const predictRoutes = new Hono<AppEnv>();

const encoder = new TextEncoder();

/** 413s, checked on the parsed JSON before the schema: too many items, a comment over 2 KB. */
function checkSizes(value: unknown, batch: boolean): void {
  const comments: Array<[path: string, comment: unknown]> = [];
  if (batch) {
    const items = (value as { items?: unknown }).items;
    if (!Array.isArray(items)) return;
    if (items.length > PREDICT_LIMITS.items) {
      throw new ApiError(413, 'too_many_items', `at most ${PREDICT_LIMITS.items} comments per request, got ${items.length}`, [{ path: 'items', message: `at most ${PREDICT_LIMITS.items} items` }]);
    }
    items.forEach((item, i) => {
      if (typeof item === 'object' && item !== null) comments.push([`items.${i}.comment`, (item as { comment?: unknown }).comment]);
    });
  } else {
    comments.push(['comment', (value as { comment?: unknown }).comment]);
  }
  const tooLong = comments.filter(([, comment]) => typeof comment === 'string' && encoder.encode(comment).byteLength > PREDICT_LIMITS.comment_bytes);
  if (tooLong.length > 0) {
    throw new ApiError(
      413,
      'text_too_long',
      `a comment may have at most ${PREDICT_LIMITS.comment_bytes} UTF-8 bytes`,
      tooLong.slice(0, 64).map(([path]) => ({ path, message: `longer than ${PREDICT_LIMITS.comment_bytes} UTF-8 bytes` })),
    );
  }
}

/** Predictions for `items` in order, from the cache where the same text was scored by the same version. */
export function predictItems(model: LoadedModel, items: readonly PredictItem[], cache: PredictionCache = predictionCache): { results: PredictionResult[]; hits: number } {
  const predictions = new Array<ReturnType<LoadedModel['scorer']['predict']>[number]>(items.length);
  const todo: Array<{ index: number; text: string; key: string }> = [];
  items.forEach((item, index) => {
    const text = normalizeForCache(item.comment);
    const key = PredictionCache.key(model.version, item.lang, text);
    const hit = cache.get(key);
    if (hit) predictions[index] = hit;
    else todo.push({ index, text, key });
  });
  if (todo.length > 0) {
    // A client that knows the language skips identification; `supported` and the language's
    // calibration still come from the model.
    const fresh = model.scorer.predict(
      todo.map((t) => t.text),
      todo.map((t) => items[t.index]!.lang),
    );
    todo.forEach(({ index, key }, j) => {
      const p = fresh[j]!;
      cache.set(key, p);
      predictions[index] = p;
    });
  }
  const results = items.map((item, i): PredictionResult => {
    const p = predictions[i]!;
    return {
      label: p.label,
      score: p.score,
      probs: [p.probs[0], p.probs[1], p.probs[2]],
      lang: p.lang,
      supported: p.supported,
      low_confidence: p.low_confidence,
      model_version: model.version,
      ...(item.video_id !== undefined ? { video_id: item.video_id } : {}),
      ...(item.timestamp !== undefined ? { timestamp: item.timestamp } : {}),
    };
  });
  return { results, hits: items.length - todo.length };
}

predictRoutes.post('/v1/predict', requireApiKey, async (c) => {
  const value = await readJson(c.req.raw, PREDICT_LIMITS.body_bytes);
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new ApiError(400, 'validation_failed', 'body must be {"comment": "..."} or {"items": [{"comment": "..."}, ...]}', [{ path: '(root)', message: 'expected an object' }]);
  }
  const batch = Object.hasOwn(value, 'items');
  checkSizes(value, batch);
  const parsed = batch ? PredictBatchSchema.safeParse(value) : PredictItemSchema.safeParse(value);
  if (!parsed.success) throw new ApiError(400, 'validation_failed', `the ${batch ? 'batch' : 'comment'} does not match the schema`, issuesOf(parsed.error));
  const items = batch ? (parsed.data as { items: PredictItem[] }).items : [parsed.data as PredictItem];

  const model = await servingModel.get(c.env.MODELS, loadConfig(c.env).defaultChannel);
  const { results, hits } = predictItems(model, items);
  metrics.inc('ytsent_predictions_total', { model_version: model.version, cache: 'hit' }, hits);
  metrics.inc('ytsent_predictions_total', { model_version: model.version, cache: 'miss' }, items.length - hits);
  const headers = { 'Cache-Control': 'no-store', 'X-Model-Version': model.version };
  return batch ? c.json({ model_version: model.version, items: results }, 200, headers) : c.json(results[0]!, 200, headers);
});

/**
 * Scoring requests from content scripts: the results cache first, then the offscreen model for
 * the misses (deduplicated), then the cache and (under consent) the telemetry queue.
 */
import { LABELS, type Label } from '../../core/labels.js';
import { bumpCounters, db } from '../lib/db.js';
import type { OffscreenScoreResponse, ScoreResponse } from '../lib/messages.js';
import { activeModel } from '../lib/model-store.js';
import { normalizeForCache, ResultsCache } from '../lib/results-cache.js';
import { getSettings } from '../lib/settings.js';
import { TelemetryQueue } from '../lib/telemetry-queue.js';
import { toOffscreen } from './offscreen-client.js';

export const cache = new ResultsCache(db());
export const queue = new TelemetryQueue(db());
let lastExecution = 'wasm';

function argmax(p: readonly number[]): number {
  let best = 0;
  for (let k = 1; k < p.length; k++) if (p[k]! > p[best]!) best = k;
  return best;
}

export async function scoreComments(videoId: string | null, comments: ReadonlyArray<{ id: string; text: string }>): Promise<ScoreResponse> {
  const model = await activeModel();
  const texts = comments.map((c) => normalizeForCache(c.text));
  const cached = await cache.getMany(model.version, texts);
  const missing = [...new Set(texts.filter((_, i) => !cached[i] && texts[i] !== ''))];
  const fresh = new Map<string, { label: Label; probs: [number, number, number] }>();
  let version = model.version;
  if (missing.length > 0) {
    const settings = await getSettings();
    const r = await toOffscreen<OffscreenScoreResponse>({
      target: 'offscreen',
      type: 'score',
      data: { model_version: model.version, texts: missing, execution: settings.execution },
    });
    version = r.model_version;
    lastExecution = r.execution;
    missing.forEach((text, i) => {
      const probs = [r.probs[3 * i]!, r.probs[3 * i + 1]!, r.probs[3 * i + 2]!] as [number, number, number];
      fresh.set(text, { label: LABELS[argmax(probs)]!, probs });
    });
    await cache.putMany(version, [...fresh].map(([text, s]) => ({ text, ...s })));
    await queue.enqueueSamples(settings, version, [...fresh].map(([text, s]) => ({ text, ...s, ...(videoId ? { video_id: videoId } : {}) })));
  }
  await bumpCounters({ inferences: missing.length, cache_hits: cached.filter(Boolean).length, requests: 1 });
  const results = comments.map((c, i) => {
    const hit = cached[i];
    const s = hit ?? fresh.get(texts[i]!) ?? { label: 'neutral' as const, probs: [0, 1, 0] as [number, number, number] };
    return { id: c.id, label: s.label, probs: s.probs, score: s.probs[argmax(s.probs)]!, cached: hit !== undefined };
  });
  return { model_version: version, execution: lastExecution, results };
}

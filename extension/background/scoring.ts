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

/**
 * Book-keeping that need not delay the badges (cache writes, last-used times, counters, the
 * telemetry queue) runs after the reply. Readers of that state (status, tests) await it first.
 */
const pendingWrites = new Set<Promise<unknown>>();
function afterReply(work: () => Promise<unknown>): void {
  const p = work()
    .catch((err: Error) => console.warn(`ytsent: deferred write failed: ${err.message}`))
    .finally(() => pendingWrites.delete(p));
  pendingWrites.add(p);
}
export async function settled(): Promise<void> {
  while (pendingWrites.size > 0) await Promise.all([...pendingWrites]);
}

export async function scoreComments(videoId: string | null, comments: ReadonlyArray<{ id: string; text: string }>): Promise<ScoreResponse> {
  const model = await activeModel();
  const texts = comments.map((c) => normalizeForCache(c.text));
  const cached = await cache.lookup(model.version, texts);
  const missing = [...new Set(texts.filter((_, i) => !cached.scores[i] && texts[i] !== ''))];
  const fresh = new Map<string, { label: Label; probs: [number, number, number] }>();
  let version = model.version;
  let inferenceMs = 0;
  const settings = await getSettings();
  if (missing.length > 0) {
    const r = await toOffscreen<OffscreenScoreResponse>({
      target: 'offscreen',
      type: 'score',
      data: { model_version: model.version, texts: missing, execution: settings.execution },
    });
    version = r.model_version;
    lastExecution = r.execution;
    inferenceMs = r.ms;
    missing.forEach((text, i) => {
      const probs = [r.probs[3 * i]!, r.probs[3 * i + 1]!, r.probs[3 * i + 2]!] as [number, number, number];
      fresh.set(text, { label: LABELS[argmax(probs)]!, probs });
    });
  }
  const hits = cached.scores.filter(Boolean).length;
  afterReply(async () => {
    await cached.touch();
    if (fresh.size > 0) {
      await cache.putMany(version, [...fresh].map(([text, s]) => ({ text, ...s })));
      await queue.enqueueSamples(settings, version, [...fresh].map(([text, s]) => ({ text, ...s, ...(videoId ? { video_id: videoId } : {}) })));
    }
    await bumpCounters({ inferences: missing.length, cache_hits: hits, requests: 1 });
  });
  const results = comments.map((c, i) => {
    const hit = cached.scores[i];
    const s = hit ?? fresh.get(texts[i]!) ?? { label: 'neutral' as const, probs: [0, 1, 0] as [number, number, number] };
    return { id: c.id, label: s.label, probs: s.probs, score: s.probs[argmax(s.probs)]!, cached: hit !== undefined };
  });
  return { model_version: version, execution: lastExecution, inference_ms: inferenceMs, results };
}

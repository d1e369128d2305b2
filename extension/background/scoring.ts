/**
 * Scoring requests from content scripts: the results cache first (memory, then IndexedDB), then
 * the model for the misses (deduplicated), then the cache and (under consent) the telemetry queue.
 * Every result carries the comment's language and whether the model supports it.
 *
 * The model runs where {@link scoringPath} says: n-gram bundles here in the service worker
 * (worker-scorer.ts, no offscreen document and no WebAssembly on a cold start), transformer
 * bundles and explicit onnxruntime settings in the offscreen document.
 */
import { argmax } from '../../core/linear.js';
import { LABELS, type Label } from '../../core/labels.js';
import { lowConfidenceThreshold } from '../../core/manifest.js';
import { bumpCounters, db, type ResultRow } from '../lib/db.js';
import type { OffscreenScoreResponse, ScoreResponse } from '../lib/messages.js';
import { activeModel, type ActiveModel } from '../lib/model-store.js';
import { normalizeForCache, ResultsCache } from '../lib/results-cache.js';
import { getSettings, type Settings } from '../lib/settings.js';
import { TelemetryQueue } from '../lib/telemetry-queue.js';
import { toOffscreen } from './offscreen-client.js';
import { CannotServe, scoringPath, WorkerScorer } from './worker-scorer.js';

export const cache = new ResultsCache(db());
export const queue = new TelemetryQueue(db());
/** N-gram bundles' scorer in this service worker. */
export const workerScorer = new WorkerScorer();
/** Where the last model call ran: 'ts' (this service worker) or the offscreen document's provider. */
let lastExecution: string | null = null;

/** Where the last model call ran (null before the first); status reports it. */
export function lastExecutionUsed(): string | null {
  return lastExecution;
}

interface Inferred {
  model_version: string;
  execution: string;
  probs: ArrayLike<number>;
  langs: OffscreenScoreResponse['langs'];
  ms: number;
}

/**
 * Scores texts with the active model where it runs (see the module comment). A bundle the worker's
 * forward pass refuses goes to the offscreen document, which runs every format.
 */
async function infer(model: ActiveModel, texts: string[], execution: Settings['execution']): Promise<Inferred> {
  if (scoringPath(model.manifest, execution) === 'ts' && !workerScorer.refused(model.version)) {
    try {
      const r = await workerScorer.score(model.version, texts);
      return { model_version: model.version, execution: 'ts', probs: r.probs, langs: r.langs, ms: r.ms };
    } catch (err) {
      if (!(err instanceof CannotServe)) throw err;
      console.warn(`ytsent: model ${model.version} runs in the offscreen document: ${err.message}`);
    }
  }
  return toOffscreen<OffscreenScoreResponse>({ target: 'offscreen', type: 'score', data: { model_version: model.version, texts, execution } });
}

/**
 * Book-keeping that need not delay the badges (cache writes, last-used times, counters, the
 * telemetry queue) runs after the reply, and is gathered over WRITE_DELAY_MS so that a page sending
 * dozens of requests a second costs a few IndexedDB transactions, not several per request. Readers
 * of that state (status, tests) await it first (`settled`).
 */
const WRITE_DELAY_MS = 150;
const pendingWrites = new Set<Promise<unknown>>();
type Fresh = { label: Label; probs: [number, number, number]; lang: string; supported: boolean };
interface Gathered {
  results: Map<string, Array<{ text: string } & Fresh>>;
  touched: ResultRow[];
  counters: Record<string, number>;
  samples: Array<() => Promise<unknown>>;
}
let gathered: Gathered | null = null;

function gather(): Gathered {
  if (gathered) return gathered;
  const g: Gathered = (gathered = { results: new Map(), touched: [], counters: {}, samples: [] });
  const p = new Promise((r) => setTimeout(r, WRITE_DELAY_MS))
    .then(async () => {
      gathered = null;
      await cache.touch(g.touched);
      for (const [version, entries] of g.results) await cache.putMany(version, entries);
      for (const enqueue of g.samples) await enqueue();
      await bumpCounters(g.counters);
    })
    .catch((err: Error) => console.warn(`ytsent: deferred write failed: ${err.message}`))
    .finally(() => pendingWrites.delete(p));
  pendingWrites.add(p);
  return g;
}

export async function settled(): Promise<void> {
  while (pendingWrites.size > 0) await Promise.all([...pendingWrites]);
}

export async function scoreComments(videoId: string | null, comments: ReadonlyArray<{ id: string; text: string }>): Promise<ScoreResponse> {
  const model = await activeModel();
  const texts = comments.map((c) => normalizeForCache(c.text));
  const cached = await cache.lookup(model.version, texts);
  const missing = [...new Set(texts.filter((_, i) => !cached.scores[i] && texts[i] !== ''))];
  const fresh = new Map<string, Fresh>();
  let version = model.version;
  let inferenceMs = 0;
  const settings = await getSettings();
  let callMs = 0;
  if (missing.length > 0) {
    // The round trip is the latency a page waits for (messaging, a model load on a cold start,
    // inference), reported per model call in the hourly aggregates (core/wire.ts LATENCY_BOUNDS_MS).
    const started = performance.now();
    let r: Inferred;
    try {
      r = await infer(model, missing, settings.execution);
    } catch (err) {
      // A failed call is counted (under consent) so the operator sees error rates per version.
      gather().samples.push(async () => queue.recordScoringError(await getSettings(), model.version));
      throw err;
    }
    callMs = performance.now() - started;
    version = r.model_version;
    lastExecution = r.execution;
    inferenceMs = r.ms;
    missing.forEach((text, i) => {
      const probs = [r.probs[3 * i]!, r.probs[3 * i + 1]!, r.probs[3 * i + 2]!] as [number, number, number];
      const lang = r.langs[i] ?? { lang: 'und', supported: true };
      fresh.set(text, { label: LABELS[argmax(probs)]!, probs, lang: lang.lang, supported: lang.supported });
    });
  }
  const hits = cached.scores.filter(Boolean).length;
  const g = gather();
  g.touched.push(...cached.hits);
  if (fresh.size > 0) {
    const entries = [...fresh].map(([text, s]) => ({ text, ...s }));
    cache.rememberNow(version, entries);
    g.results.set(version, [...(g.results.get(version) ?? []), ...entries]);
    // The consent is read when the write happens, not when the comment was scored: a consent
    // withdrawn in between must not queue anything under it.
    g.samples.push(async () =>
      queue.enqueueSamples(
        await getSettings(),
        version,
        entries.map((e) => ({ ...e, ...(videoId ? { video_id: videoId } : {}) })),
        Date.now(),
        { ms: callMs },
      ),
    );
  }
  for (const [k, v] of Object.entries({ inferences: missing.length, cache_hits: hits, requests: 1 })) g.counters[k] = (g.counters[k] ?? 0) + v;
  const results = comments.map((c, i) => {
    const hit = cached.scores[i];
    // Empty text (nothing to score) is neutral, with no language.
    const s = hit ?? fresh.get(texts[i]!) ?? { label: 'neutral' as const, probs: [0, 1, 0] as [number, number, number], lang: 'und', supported: true };
    return { id: c.id, label: s.label, probs: s.probs, score: s.probs[argmax(s.probs)]!, lang: s.lang, supported: s.supported, cached: hit !== undefined };
  });
  return { model_version: version, execution: lastExecution, inference_ms: inferenceMs, low_confidence_threshold: lowConfidenceThreshold(model.manifest), results };
}

/**
 * Loads the active model where it runs, ahead of the first scoring request: in this service worker
 * for an n-gram bundle (the offscreen document is not created), else in the offscreen document.
 */
export async function warmUp(): Promise<{ model_version: string }> {
  const [model, settings] = await Promise.all([activeModel(), getSettings()]);
  if (scoringPath(model.manifest, settings.execution) === 'ts' && !workerScorer.refused(model.version)) {
    try {
      await workerScorer.load(model.version);
      return { model_version: model.version };
    } catch (err) {
      if (!(err instanceof CannotServe)) throw err;
    }
  }
  await toOffscreen({ target: 'offscreen', type: 'warm', data: { model_version: model.version, execution: settings.execution } });
  return { model_version: model.version };
}

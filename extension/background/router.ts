/**
 * The service worker's message router: validates every request (zod) and dispatches it. Replies
 * are `{ok, data}` or `{ok: false, error}` values, never thrown across contexts.
 */
import { addToAggregate, aggregateState, emptyAggregate } from '../../core/aggregates.js';
import { lowConfidenceThreshold } from '../../core/manifest.js';
import { AGGREGATE, type Consent } from '../../core/wire.js';
import { db, getCounters, getMeta } from '../lib/db.js';
import { META_KEYS } from '../lib/storage-keys.js';
import { BackgroundRequestSchema, PAGE_REQUEST_TYPES, senderKind, type BackgroundRequest, type Reply } from '../lib/messages.js';
import { activeModel, forgetActiveModel, rollback } from '../lib/model-store.js';
import { getSettings, resetSettings, updateSettings } from '../lib/settings.js';
import { aggregateComment, buildSampleItem, consentOf, planBatches, toBatch, type ScoredComment } from '../lib/telemetry-queue.js';
import { clientId } from './client-id.js';
import { closeOffscreen, toOffscreenIfOpen } from './offscreen-client.js';
import { cache, lastExecutionUsed, queue, scoreComments, settled, warmUp, workerScorer } from './scoring.js';
import { uploadQueue, uploadState } from './telemetry.js';
import { checkForUpdate } from './updater.js';
import { scoringPath } from './worker-scorer.js';

async function handle(request: BackgroundRequest): Promise<unknown> {
  // Everything but scoring sees the writes of earlier scoring requests (counters, cache, queue).
  if (request.type !== 'score' && request.type !== 'warm-up') await settled();
  switch (request.type) {
    case 'score':
      return scoreComments(request.data.video_id, request.data.comments);
    case 'warm-up':
      return warmUp();
    case 'feedback': {
      const model = await activeModel();
      const queued = await queue.enqueueFeedback(await getSettings(), model.version, { ...request.data, video_id: request.data.video_id ?? undefined });
      return { queued };
    }
    case 'get-status':
      return status();
    case 'update-settings': {
      const before = await getSettings();
      if (request.data.backend_url && request.data.backend_url !== before.backend_url) {
        // The options page asked for the host permission; without it every request would fail.
        const origin = `${new URL(request.data.backend_url).origin}/*`;
        if (!(await chrome.permissions.contains({ origins: [origin] }))) throw new Error(`no permission for ${origin}: grant it in the options page`);
      }
      const after = await updateSettings(request.data);
      // Every consent change deletes what is queued above the new level: text off deletes every
      // row with text, a video id or a correction (statistics stay); both off deletes everything.
      await queue.applyConsent(consentOf(after));
      if (before.execution !== after.execution) {
        // The offscreen document is not needed where the service worker scores (its WebAssembly
        // heap is tens of MB): closed; otherwise reset, to load the model on the new provider.
        if (scoringPath((await activeModel()).manifest, after.execution) === 'ts') await closeOffscreen().catch(() => undefined);
        else await toOffscreenIfOpen({ target: 'offscreen', type: 'reset' }).catch(() => undefined);
      }
      return after;
    }
    case 'telemetry-preview':
      return preview(request.data);
    case 'flush-telemetry':
      return uploadQueue({ force: request.data?.force ?? false });
    case 'check-updates':
      return checkForUpdate();
    case 'rollback-model':
      return { active: await rollback() };
    case 'delete-all-data':
      await closeOffscreen();
      await db().transaction('rw', [db().results, db().queue, db().models, db().meta], async () => {
        await Promise.all([db().results.clear(), db().queue.clear(), db().models.clear(), db().meta.clear()]);
      });
      cache.forgetMemory();
      workerScorer.forget();
      forgetActiveModel();
      await resetSettings();
      return { deleted: true };
  }
}

async function status(): Promise<unknown> {
  const model = await activeModel();
  const settings = await getSettings();
  const offscreen = await toOffscreenIfOpen<{ version: string | null; execution: string | null; load_ms: number | null; load_steps?: unknown; ort_builds?: string[] }>({
    target: 'offscreen',
    type: 'status',
  }).catch(() => null);
  const worker = workerScorer.status();
  const path = scoringPath(model.manifest, settings.execution) === 'ts' && !workerScorer.refused(model.version) ? 'ts' : 'offscreen';
  // Where the active model runs once loaded: here, or the offscreen document's provider.
  const inWorker = path === 'ts' && worker.version === model.version;
  return {
    model: {
      version: model.version,
      format: model.manifest.format,
      source: model.source,
      name: model.manifest.name,
      metrics: model.manifest.metrics,
      // null: the model identifies no languages (every comment is scored).
      languages: model.manifest.format === 'ngram-onnx' ? (model.manifest.languages?.supported ?? null) : null,
      low_confidence_threshold: lowConfidenceThreshold(model.manifest),
    },
    previous_model: (await db().models.where('state').equals('previous').first())?.version ?? null,
    rejected_models: (await db().models.where('state').equals('rejected').toArray()).map((m) => ({ version: m.version, reason: m.reason })),
    /** "ts" (the service worker's TypeScript forward pass), "wasm" or "webgpu" (offscreen); null until loaded. */
    execution: inWorker ? 'ts' : (offscreen?.execution ?? null),
    /**
     * Where scoring runs: the path for the active model and setting, whether the offscreen
     * document exists, where the last model call ran, and the service worker's scorer.
     */
    scoring: { path, offscreen_open: offscreen !== null, last_execution: lastExecutionUsed(), worker },
    model_load_ms: inWorker ? worker.load_ms : (offscreen?.load_ms ?? null),
    model_load_steps: inWorker ? null : (offscreen?.load_steps ?? null),
    /** onnxruntime-web builds the offscreen document imported: the WebGPU one only when needed. */
    ort_builds: offscreen?.ort_builds ?? null,
    calibration: await getMeta(META_KEYS.calibration(model.version)),
    settings,
    telemetry: {
      consent: consentOf(settings),
      queued: await queue.size(),
      queued_by_kind: await queue.counts(),
      // Aggregates still being counted on the device (not sendable yet).
      counting: (await queue.openAggregates()).map((r) => ({ model_version: r.model_version, n: r.aggregate.n, hour_from: r.aggregate.hour_from, hour_to: r.aggregate.hour_to })),
      upload: await uploadState(),
    },
    cache: { entries: await cache.size(), max: cache.maxEntries },
    counters: await getCounters(),
    last_update: await getMeta(META_KEYS.lastUpdate),
  };
}

/** Batches the preview shows in full; the rest are counted. */
const PREVIEW_BATCHES = 5;
/** Stands in for a batch id not drawn yet (ids are drawn when a batch is first sent). */
const UNSENT_BATCH_ID = '(drawn when first sent)';

/**
 * What telemetry holds and would send, for the options page:
 * - `queued`: exactly the request bodies the queue holds, in the order they would be sent (the
 *   first PREVIEW_BATCHES in full, the rest counted);
 * - `counting`: the hourly aggregates still being counted on the device, and why each waits;
 * - `example`: what one upload under `consents` (the boxes as ticked) looks like, built from
 *   recently scored comments, so the choice can be judged before anything is queued.
 */
async function preview(consents: { consent_stats: boolean; consent_text: boolean }): Promise<unknown> {
  const now = Date.now();
  const id = await clientId();
  const extensionVersion = chrome.runtime.getManifest().version;
  const plans = planBatches(await queue.all());
  const shown = plans.slice(0, PREVIEW_BATCHES);
  const rest = plans.slice(PREVIEW_BATCHES);
  const counting = (await queue.openAggregates()).map((r) => {
    const state = aggregateState(r.aggregate, now);
    const why =
      state === 'counting'
        ? 'its last hour has not ended'
        : state === 'waiting'
          ? `${r.aggregate.n} of the ${AGGREGATE.min_comments} comments it needs; waits for later hours, deleted unsent after ${AGGREGATE.max_hours} hours`
          : state === 'ready'
            ? 'ready: queued on the next upload'
            : `deleted on the next upload: fewer than ${AGGREGATE.min_comments} comments in ${AGGREGATE.max_hours} hours`;
    return { model_version: r.model_version, state, why, aggregate: r.aggregate };
  });
  return {
    consent: consentOf(await getSettings()),
    queued: {
      batches: shown.map((p) => ({ endpoint: `/v1/${p.rows[0]!.kind}`, body: toBatch(p.rows, p.batch_id ?? UNSENT_BATCH_ID, id, extensionVersion) })),
      more: { batches: rest.length, items: rest.reduce((n, p) => n + p.rows.length, 0) },
    },
    counting,
    example: await example(consentOf(consents), now, id, extensionVersion),
  };
}

async function example(consent: Consent | null, now: number, id: string, extensionVersion: string): Promise<unknown> {
  if (!consent) return null;
  const recent = await cache.recent(3);
  const comments: ScoredComment[] = recent.length
    ? recent.map((r) => ({ text: r.text, label: r.label, probs: r.probs, video_id: 'dQw4w9WgXcQ' }))
    : [{ text: 'Example comment from @someone, mail me at someone@example.com', label: 'positive', probs: [0.05, 0.15, 0.8], video_id: 'dQw4w9WgXcQ' }];
  const model = await activeModel();
  const aggregate = emptyAggregate(now);
  for (const c of comments) addToAggregate(aggregate, aggregateComment(c), now);
  const uploads: unknown[] = [
    {
      endpoint: '/v1/aggregates',
      note: `an hour's counts; sent once the hour has ended and only with at least ${AGGREGATE.min_comments} comments (this example counts ${aggregate.n})`,
      body: toBatch([{ kind: 'aggregates', consent: 'stats', model_version: model.version, item: aggregate, created_at: now }], UNSENT_BATCH_ID, id, extensionVersion),
    },
  ];
  if (consent === 'text') {
    const rows = comments.map((c) => ({ kind: 'samples' as const, consent, model_version: model.version, item: buildSampleItem(c, now), created_at: now }));
    uploads.push({ endpoint: '/v1/samples', note: 'one row per comment, text scrubbed', body: toBatch(rows, UNSENT_BATCH_ID, id, extensionVersion) });
  }
  return { consent, uploads };
}

/** chrome.runtime.onMessage listener; ignores messages for other contexts. */
export function onMessage(message: unknown, sender: chrome.runtime.MessageSender, sendResponse: (reply: Reply<unknown>) => void): boolean {
  if ((message as { target?: unknown } | null)?.target !== 'background') return false;
  // Checked before the message is even parsed: a compromised page must not be able to change
  // settings or consents, delete data or switch models, whatever it sends.
  const from = senderKind(sender);
  const type = (message as { type?: unknown }).type;
  if (from === 'foreign' || (from === 'page' && !PAGE_REQUEST_TYPES.has(type as BackgroundRequest['type']))) {
    const allowed = from === 'page' ? ` (web pages may only send ${[...PAGE_REQUEST_TYPES].join(', ')})` : '';
    sendResponse({ ok: false, error: `refused: ${typeof type === 'string' ? type.slice(0, 40) : 'this request'} is only accepted from the extension's own pages${allowed}` });
    return false;
  }
  const parsed = BackgroundRequestSchema.safeParse(message);
  if (!parsed.success) {
    sendResponse({ ok: false, error: `bad request: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}` });
    return false;
  }
  handle(parsed.data).then(
    (data) => sendResponse({ ok: true, data }),
    (err: Error) => sendResponse({ ok: false, error: err.message }),
  );
  return true;
}

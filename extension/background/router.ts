/**
 * The service worker's message router: validates every request (zod) and dispatches it. Replies
 * are `{ok, data}` or `{ok: false, error}` values, never thrown across contexts.
 */
import { lowConfidenceThreshold } from '../../core/manifest.js';
import { db, getCounters, getMeta } from '../lib/db.js';
import { BackgroundRequestSchema, type BackgroundRequest, type Reply } from '../lib/messages.js';
import { activeModel, forgetActiveModel, rollback } from '../lib/model-store.js';
import { getSettings, resetSettings, updateSettings } from '../lib/settings.js';
import { buildSampleItem, consentOf, toBatch, type ScoredComment } from '../lib/telemetry-queue.js';
import { clientId } from './client-id.js';
import { closeOffscreen, toOffscreenIfOpen } from './offscreen-client.js';
import { cache, queue, scoreComments, settled, warmUp } from './scoring.js';
import { uploadQueue, uploadState } from './telemetry.js';
import { checkForUpdate } from './updater.js';

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
      // Opting out deletes everything not yet sent.
      if (!consentOf(after)) await queue.purge();
      if (before.execution !== after.execution) await toOffscreenIfOpen({ target: 'offscreen', type: 'reset' }).catch(() => undefined);
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
      forgetActiveModel();
      await resetSettings();
      return { deleted: true };
  }
}

async function status(): Promise<unknown> {
  const model = await activeModel();
  const settings = await getSettings();
  const offscreen = await toOffscreenIfOpen<{ version: string | null; execution: string | null; load_ms: number | null; load_steps?: unknown; ort_builds?: string[] }>({ target: 'offscreen', type: 'status' }).catch(() => null);
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
    execution: offscreen?.execution ?? null,
    model_load_ms: offscreen?.load_ms ?? null,
    model_load_steps: offscreen?.load_steps ?? null,
    /** onnxruntime-web builds the offscreen document imported: the WebGPU one only when needed. */
    ort_builds: offscreen?.ort_builds ?? null,
    calibration: await getMeta(`calibration:${model.version}`),
    settings,
    telemetry: { consent: consentOf(settings), queued: await queue.size(), upload: await uploadState() },
    cache: { entries: await cache.size(), max: cache.maxEntries },
    counters: await getCounters(),
    last_update: await getMeta('update:last'),
  };
}

/** Exactly the batch that would be uploaded, built from recently scored comments. */
async function preview(consents: { consent_stats: boolean; consent_text: boolean }): Promise<unknown> {
  const consent = consentOf(consents);
  if (!consent) return { consent: null, batch: null, note: 'Both consents are off: nothing is sent.' };
  const recent = await cache.recent(3);
  const examples: ScoredComment[] = recent.length
    ? recent.map((r) => ({ text: r.text, label: r.label, probs: r.probs, video_id: 'dQw4w9WgXcQ' }))
    : [{ text: 'Example comment from @someone, mail me at someone@example.com', label: 'positive', probs: [0.05, 0.15, 0.8], video_id: 'dQw4w9WgXcQ' }];
  const model = await activeModel();
  const rows = examples.map((c) => ({ kind: 'samples' as const, consent, model_version: model.version, item: buildSampleItem(c, consent), created_at: Date.now() }));
  return { consent, batch: toBatch(rows, crypto.randomUUID(), await clientId(), chrome.runtime.getManifest().version) };
}

/** chrome.runtime.onMessage listener; ignores messages for other contexts. */
export function onMessage(message: unknown, _sender: chrome.runtime.MessageSender, sendResponse: (reply: Reply<unknown>) => void): boolean {
  if ((message as { target?: unknown } | null)?.target !== 'background') return false;
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

/**
 * Every message between extension contexts, as zod schemas: `{target, type, data}` (the shape the
 * Chrome samples use). The receiving side validates, so a malformed or foreign message is refused
 * with an error instead of half-processed.
 */
import { z } from 'zod';
import type { LanguageGuess } from '../../core/langid.js';
import { LabelSchema } from '../../core/wire.js';
import { MESSAGE_LIMITS, textTooLong } from './limits.js';
import { SettingsPatchSchema } from './settings.js';

const VideoId = z.string().max(64).nullable();
/** A comment text within MESSAGE_LIMITS (a giant string is refused before it is encoded). */
const CommentText = z
  .string()
  .max(MESSAGE_LIMITS.text_bytes, { message: `longer than ${MESSAGE_LIMITS.text_bytes} UTF-8 bytes`, abort: true })
  .refine((t) => !textTooLong(t), `longer than ${MESSAGE_LIMITS.text_bytes} UTF-8 bytes`);
const Comments = z.array(z.object({ id: z.string().max(200), text: CommentText })).max(MESSAGE_LIMITS.comments_per_request, `at most ${MESSAGE_LIMITS.comments_per_request} comments per request`);

/** Content script, popup and options → service worker. */
export const BackgroundRequestSchema = z.discriminatedUnion('type', [
  z.object({
    target: z.literal('background'),
    type: z.literal('score'),
    data: z.object({
      video_id: VideoId,
      comments: Comments,
    }),
  }),
  z.object({
    target: z.literal('background'),
    type: z.literal('feedback'),
    data: z.object({ video_id: VideoId, text: CommentText.min(1), predicted: LabelSchema, corrected: LabelSchema, score: z.number().optional() }),
  }),
  z.object({ target: z.literal('background'), type: z.literal('get-status'), data: z.object({}).optional() }),
  /** A page that will show comments: load the model now, so the first badges do not wait for it. */
  z.object({ target: z.literal('background'), type: z.literal('warm-up'), data: z.object({}).optional() }),
  z.object({ target: z.literal('background'), type: z.literal('update-settings'), data: SettingsPatchSchema }),
  z.object({ target: z.literal('background'), type: z.literal('telemetry-preview'), data: z.object({ consent_stats: z.boolean(), consent_text: z.boolean() }) }),
  z.object({ target: z.literal('background'), type: z.literal('flush-telemetry'), data: z.object({ force: z.boolean().default(false) }).optional() }),
  z.object({ target: z.literal('background'), type: z.literal('check-updates'), data: z.object({}).optional() }),
  z.object({ target: z.literal('background'), type: z.literal('rollback-model'), data: z.object({}).optional() }),
  z.object({ target: z.literal('background'), type: z.literal('delete-all-data'), data: z.object({}).optional() }),
]);
export type BackgroundRequest = z.infer<typeof BackgroundRequestSchema>;

/**
 * What a web page context (a content script, running in a YouTube renderer that a compromised page
 * could control) may ask the service worker for: scoring comments, warming the model up for them,
 * and sending a correction the user made on a badge. Settings, consents, model changes, data
 * deletion, telemetry uploads and previews are for the extension's own pages only.
 */
export const PAGE_REQUEST_TYPES: ReadonlySet<BackgroundRequest['type']> = new Set(['score', 'warm-up', 'feedback']);

/**
 * Who sent a message, as far as the browser vouches for it: one of the extension's own pages (the
 * service worker, popup, options page, offscreen document: their URL is inside the extension), a
 * web page context (a content script: the extension's id, but the page's URL), or anything else.
 */
export function senderKind(sender: chrome.runtime.MessageSender): 'extension' | 'page' | 'foreign' {
  if (sender.id !== chrome.runtime.id) return 'foreign';
  return typeof sender.url === 'string' && sender.url.startsWith(chrome.runtime.getURL('')) ? 'extension' : 'page';
}

export interface ScoredResult {
  id: string;
  label: z.infer<typeof LabelSchema>;
  score: number;
  probs: [number, number, number];
  /** The comment's language (ISO 639-1, "und" when it cannot be told) and whether the model supports it. */
  lang: string;
  supported: boolean;
  cached: boolean;
}

export interface ScoreResponse {
  model_version: string;
  /**
   * Where the model ran for the last request that needed it: "ts" (core's TypeScript forward pass
   * in the service worker), "wasm" or "webgpu" (onnxruntime-web in the offscreen document); null
   * when this service worker has not run the model yet (every comment was cached).
   */
  execution: string | null;
  /** Time spent in the model for this request's cache misses (0 when all were cached). */
  inference_ms: number;
  /** A prediction whose top probability is below this is shown as low-confidence (the manifest's threshold). */
  low_confidence_threshold: number;
  results: ScoredResult[];
}

/** Service worker → offscreen document. */
export const OffscreenRequestSchema = z.discriminatedUnion('type', [
  z.object({
    target: z.literal('offscreen'),
    type: z.literal('score'),
    // The offscreen document has no chrome.storage: the service worker passes the setting along.
    data: z.object({
      model_version: z.string().max(64),
      texts: z.array(CommentText).max(MESSAGE_LIMITS.comments_per_request, `at most ${MESSAGE_LIMITS.comments_per_request} texts per request`),
      execution: z.enum(['auto', 'wasm', 'webgpu']),
    }),
  }),
  z.object({
    target: z.literal('offscreen'),
    type: z.literal('warm'),
    data: z.object({ model_version: z.string(), execution: z.enum(['auto', 'wasm', 'webgpu']) }),
  }),
  z.object({ target: z.literal('offscreen'), type: z.literal('verify-model'), data: z.object({ version: z.string() }) }),
  z.object({ target: z.literal('offscreen'), type: z.literal('status'), data: z.object({}).optional() }),
  z.object({ target: z.literal('offscreen'), type: z.literal('reset'), data: z.object({}).optional() }),
]);
export type OffscreenRequest = z.infer<typeof OffscreenRequestSchema>;

export interface OffscreenScoreResponse {
  model_version: string;
  execution: 'wasm' | 'webgpu';
  probs: number[];
  /** One language guess per text. */
  langs: LanguageGuess[];
  ms: number;
}

export interface VerifyResponse {
  ok: boolean;
  max_abs_diff: number;
  failures: number;
  error?: string;
}

/** Popup → content script of the active tab. */
export const ContentRequestSchema = z.object({ target: z.literal('content'), type: z.literal('get-video-summary') });

export interface VideoSummary {
  video_id: string | null;
  title: string;
  model_version: string | null;
  comments: Array<{
    text: string;
    label: z.infer<typeof LabelSchema>;
    score: number;
    probs: [number, number, number];
    reply: boolean;
    lang: string;
    supported: boolean;
    low_confidence: boolean;
  }>;
}

export type { Reply } from './send.js';

/**
 * Every message between extension contexts, as zod schemas: `{target, type, data}` (the shape the
 * Chrome samples use). The receiving side validates, so a malformed or foreign message is refused
 * with an error instead of half-processed.
 */
import { z } from 'zod';
import type { LanguageGuess } from '../../core/langid.js';
import { LabelSchema } from '../../core/wire.js';
import { SettingsPatchSchema } from './settings.js';

const VideoId = z.string().max(64).nullable();

/** Content script, popup and options → service worker. */
export const BackgroundRequestSchema = z.discriminatedUnion('type', [
  z.object({
    target: z.literal('background'),
    type: z.literal('score'),
    data: z.object({
      video_id: VideoId,
      comments: z.array(z.object({ id: z.string().max(200), text: z.string().max(20_000) })).max(500),
    }),
  }),
  z.object({
    target: z.literal('background'),
    type: z.literal('feedback'),
    data: z.object({ video_id: VideoId, text: z.string().min(1).max(20_000), predicted: LabelSchema, corrected: LabelSchema, score: z.number().optional() }),
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
  execution: string;
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
    data: z.object({ model_version: z.string(), texts: z.array(z.string()), execution: z.enum(['auto', 'wasm', 'webgpu']) }),
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


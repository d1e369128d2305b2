/**
 * Wire formats between the extension and the sync backend, validated on both sides with the same
 * zod schemas. The privacy rules of the two telemetry consents are encoded here, not only in
 * the UI: a "stats" batch cannot carry text or a video id.
 */
import { z } from 'zod';
import { LABELS } from './labels.js';
import { SemverSchema } from './manifest.js';
import { TOKEN_BUCKETS } from './token-buckets.js';

export const LIMITS = {
  /** UTF-8 bytes of one comment text. */
  text_bytes: 2048,
  items_per_batch: 100,
  /** UTF-8 bytes of a whole request body. */
  body_bytes: 64 * 1024,
} as const;

export const CONSENTS = ['stats', 'text'] as const;
export type Consent = (typeof CONSENTS)[number];

const utf8Bytes = (s: string): number => new TextEncoder().encode(s).byteLength;

export const LabelSchema = z.enum(LABELS);
/** Anonymous install id, rotated by the client (never derived from an account or device id). */
export const ClientIdSchema = z.string().regex(/^[A-Za-z0-9_-]{16,64}$/, 'must be 16-64 characters of [A-Za-z0-9_-]');
export const BatchIdSchema = z.uuid();
export const VideoIdSchema = z.string().regex(/^[A-Za-z0-9_-]{11}$/, 'must be an 11-character YouTube video id');
export const LangSchema = z.string().regex(/^(?:[a-z]{2,3}(?:-[A-Za-z0-9]{2,8})?|und)$/, 'must be a language code like "en" or "und"');
/** Milliseconds since the epoch; the server also rejects times far from its clock. */
export const TimestampSchema = z.number().int().min(1_600_000_000_000).max(4_102_444_800_000);
export const ChannelSchema = z.string().regex(/^[a-z0-9][a-z0-9-]{0,31}$/, 'must be 1-32 characters of [a-z0-9-]');

/** Text is measured in UTF-8 bytes; over the limit is a 413, so the check lives in the worker. */
export const TextSchema = z.string().min(1, 'must not be empty');
export const textTooLong = (text: string): boolean => utf8Bytes(text) > LIMITS.text_bytes;

const ProbsSchema = z
  .array(z.number().min(0).max(1))
  .length(LABELS.length)
  .refine((p) => Math.abs(p.reduce((a, b) => a + b, 0) - 1) < 1e-3, 'must sum to 1');

export const SampleItemSchema = z
  .object({
    label: LabelSchema,
    /** Probability of `label` (the model's confidence). */
    score: z.number().min(0).max(1),
    probs: ProbsSchema.optional(),
    lang: LangSchema.optional(),
    /** Hashed-token bucket ids (core/token-buckets.ts): no text, but vocabulary drift shows. */
    tokens: z
      .array(z.number().int().min(0).max(TOKEN_BUCKETS - 1))
      .max(TOKEN_BUCKETS)
      .optional(),
    ts: TimestampSchema,
    /** Only with consent "text", scrubbed on the client and again on the server. */
    text: TextSchema.optional(),
    video_id: VideoIdSchema.optional(),
  })
  .strict();
export type SampleItem = z.infer<typeof SampleItemSchema>;

const batchFields = {
  batch_id: BatchIdSchema,
  client_id: ClientIdSchema,
  model_version: SemverSchema,
  extension_version: z.string().max(32).optional(),
};

export const SamplesBatchSchema = z
  .object({
    ...batchFields,
    consent: z.enum(CONSENTS),
    items: z.array(SampleItemSchema).min(1).max(LIMITS.items_per_batch),
  })
  .strict()
  .superRefine((batch, ctx) => {
    if (batch.consent === 'text') return;
    batch.items.forEach((item, i) => {
      for (const field of ['text', 'video_id'] as const) {
        if (item[field] !== undefined) {
          ctx.addIssue({ code: 'custom', path: ['items', i, field], message: `not allowed with consent "stats"` });
        }
      }
    });
  });
export type SamplesBatch = z.infer<typeof SamplesBatchSchema>;

export const FeedbackItemSchema = z
  .object({
    text: TextSchema,
    predicted: LabelSchema,
    corrected: LabelSchema,
    score: z.number().min(0).max(1).optional(),
    ts: TimestampSchema,
    video_id: VideoIdSchema.optional(),
  })
  .strict();
export type FeedbackItem = z.infer<typeof FeedbackItemSchema>;

/** A label correction always carries the comment's text, so it needs consent "text". */
export const FeedbackBatchSchema = z
  .object({
    ...batchFields,
    consent: z.literal('text', { message: 'feedback requires consent "text"' }),
    items: z.array(FeedbackItemSchema).min(1).max(LIMITS.items_per_batch),
  })
  .strict();
export type FeedbackBatch = z.infer<typeof FeedbackBatchSchema>;

export const PromoteSchema = z.object({ version: SemverSchema }).strict();

/** Every error response body. */
export interface ErrorBody {
  error: { code: string; message: string; details?: unknown };
}

/** 202 body of POST /v1/samples and /v1/feedback. */
export interface IngestResponse {
  batch_id: string;
  accepted: number;
  /** true when this batch_id was already stored: nothing was written again. */
  duplicate: boolean;
}

/** Helper for both ends: a zod error as `details` entries naming each failing field. */
export function issuesOf(error: z.ZodError): Array<{ path: string; message: string }> {
  return error.issues.map((i) => ({ path: i.path.join('.') || '(root)', message: i.message }));
}

/**
 * Wire formats of server-side scoring (POST /v1/predict) and of its API keys (/v1/admin/keys),
 * validated by the Worker and described by its OpenAPI document (worker/openapi.ts derives the
 * JSON Schemas from these). Clients that are not the extension (scripts, dashboards, other
 * browsers) score with the model the extension runs; nothing they send is stored.
 */
import { z } from 'zod';
import { LABELS } from './labels.js';
import { SemverSchema } from './manifest.js';
import { LabelSchema, LangSchema, LIMITS, TimestampSchema, VideoIdSchema, type ErrorBody } from './wire.js';

export const PREDICT_LIMITS = {
  /** Comments per batch request. */
  items: 64,
  /** UTF-8 bytes of one comment: the telemetry limit, so anything the extension can send fits. */
  comment_bytes: LIMITS.text_bytes,
  /** UTF-8 bytes of a whole request: 64 comments of 2 KB with room for JSON escapes and the optional fields. */
  body_bytes: 256 * 1024,
  /** Requests per second per API key (the PREDICT_RATE_LIMITER binding: 100 per 10 s). */
  requests_per_s: 10,
} as const;

/** One comment to score. */
export const PredictItemSchema = z
  .object({
    comment: z
      .string()
      .min(1, 'must not be empty')
      .meta({ description: `The comment text, at most ${LIMITS.text_bytes} UTF-8 bytes (longer is 413 text_too_long).` }),
    video_id: VideoIdSchema.optional().meta({ description: 'YouTube video id; echoed in the answer, not used for scoring, not stored.' }),
    timestamp: TimestampSchema.optional().meta({ description: 'Milliseconds since the epoch; echoed in the answer, not used for scoring, not stored.' }),
    lang: LangSchema.optional().meta({ description: 'The language, when the client knows it: skips language identification; `supported` says whether the model was trained for it.' }),
  })
  .strict();
export type PredictItem = z.infer<typeof PredictItemSchema>;

/** Up to 64 comments in one request (one request against the rate limit). */
export const PredictBatchSchema = z
  .object({
    items: z.array(PredictItemSchema).min(1).max(PREDICT_LIMITS.items),
  })
  .strict();
export type PredictBatch = z.infer<typeof PredictBatchSchema>;

/** A request is one comment or a batch: an object with `items` is a batch. */
export const PredictRequestSchema = z.union([PredictItemSchema, PredictBatchSchema]);

/** The model's answer for one comment: core/scorer.ts Prediction, plus the version that made it. */
export const PredictionSchema = z
  .object({
    label: LabelSchema,
    score: z.number().min(0).max(1).meta({ description: 'Probability of `label`.' }),
    probs: z.tuple([z.number(), z.number(), z.number()]).meta({ description: `Probabilities in label order: ${LABELS.join(', ')}.` }),
    lang: z.string().meta({ description: 'Language of the comment ("und" when it has none or the model has no language identification).' }),
    supported: z.boolean().meta({ description: 'False for a language the model was not trained for: its label is not a verdict.' }),
    low_confidence: z.boolean().meta({ description: "The top probability is below the model's low-confidence threshold." }),
    model_version: SemverSchema,
    video_id: VideoIdSchema.optional(),
    timestamp: TimestampSchema.optional(),
  })
  .strict();
export type PredictionResult = z.infer<typeof PredictionSchema>;

export const PredictBatchResponseSchema = z
  .object({
    model_version: SemverSchema,
    items: z.array(PredictionSchema),
  })
  .strict();
export type PredictBatchResponse = z.infer<typeof PredictBatchResponseSchema>;

// ---------------------------------------------------------------------------------------------
// API keys

/** `ytsk_` and 43 base64url characters (256 random bits); the prefix lets secret scanners find leaked keys. */
export const API_KEY_RE = /^ytsk_[A-Za-z0-9_-]{43}$/;
/** A key's public id: the first 16 hex digits of the SHA-256 of the key. */
export const ApiKeyIdSchema = z.string().regex(/^[0-9a-f]{16}$/, 'must be 16 lowercase hex digits');

export const ApiKeyCreateSchema = z
  .object({
    name: z
      .string()
      .min(1)
      .max(64)
      .regex(/^[\p{L}\p{N} ._@:/()-]+$/u, 'letters, digits, spaces and . _ @ : / ( ) - only')
      .meta({ description: 'Who or what the key is for, to recognize it in the list.' }),
  })
  .strict();

/** A key as listed: never the key itself, which is shown once, when it is created. */
export const ApiKeySchema = z
  .object({
    id: ApiKeyIdSchema,
    name: z.string(),
    created_at: z.iso.datetime(),
    revoked_at: z.iso.datetime().nullable(),
  })
  .strict();
export type ApiKeyInfo = z.infer<typeof ApiKeySchema>;

export const ApiKeyCreatedSchema = ApiKeySchema.extend({
  key: z.string().regex(API_KEY_RE).meta({ description: 'The key. Shown this once: only its SHA-256 is stored.' }),
}).strict();

export const ApiKeyListSchema = z.object({ keys: z.array(ApiKeySchema) }).strict();

// ---------------------------------------------------------------------------------------------

/** Every error body (core/wire.ts ErrorBody), as a schema for the OpenAPI document and clients. */
export const ErrorBodySchema = z.object({
  error: z.object({
    code: z.string().meta({ description: 'Stable, machine-readable.' }),
    message: z.string(),
    details: z.array(z.object({ path: z.string(), message: z.string() })).optional(),
  }),
});

// The schema and the interface every route answers with must not drift apart.
type Assert<T extends true> = T;
export type _ErrorBodyMatches = Assert<z.infer<typeof ErrorBodySchema> extends ErrorBody ? true : false>;

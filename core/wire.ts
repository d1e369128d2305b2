/**
 * Wire formats between the extension and the sync backend, validated on both sides with the same
 * zod schemas. The privacy rules of the two telemetry consents are encoded here, not only in
 * the UI (docs/PRIVACY.md explains them):
 * - consent "stats" sends on-device hourly aggregates only (POST /v1/aggregates): counts over at
 *   least {@link AGGREGATE}.min_comments comments, hour-granular, never one row per comment;
 * - consent "text" additionally sends scrubbed per-comment samples and corrections (POST
 *   /v1/samples, /v1/feedback), with hour-granular time.
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

/** How much each consent allows: a row needs at least its own consent's level to be kept or sent. */
export const CONSENT_LEVEL: Readonly<Record<Consent, number>> = { stats: 1, text: 2 };

/** True when data queued under `rowConsent` may still be kept and sent under `current`. */
export function consentAllows(current: Consent | null, rowConsent: Consent): boolean {
  return current !== null && CONSENT_LEVEL[current] >= CONSENT_LEVEL[rowConsent];
}

export const HOUR_MS = 3_600_000;

/**
 * Resending a telemetry batch whose answer was lost, agreed by both sides. The extension resends a
 * batch at most `window_hours` after its first send; the backend drops a copy of a batch it stored
 * within INGEST_DEDUPE_HOURS of the first, which therefore may not be shorter than
 * `min_dedupe_hours`: the resend window plus four hours for a device clock that is off. A shorter
 * dedupe window would store a late resend twice.
 */
export const RESEND = { window_hours: 20, min_dedupe_hours: 24 } as const;

/** Start of the UTC hour holding `ms`: the only precision any telemetry time has on the wire. */
export function hourFloor(ms: number): number {
  return Math.floor(ms / HOUR_MS) * HOUR_MS;
}

/**
 * On-device hourly aggregates (consent "stats"). An aggregate counts the comments one install
 * scored in a range of whole hours; the client sends it once the range has ended and holds at
 * least `min_comments` comments. A range starts as one hour and grows with later hours while it
 * holds fewer (an hour of 3 comments waits for more), up to `max_hours`; one that still holds too
 * few then is deleted on the device, unsent.
 */
export const AGGREGATE = {
  /** Fewest comments an aggregate may describe (enforced by the schema on both sides). */
  min_comments: 10,
  /** Most comments one aggregate counts: bounds what one install can weigh in drift. */
  max_comments: 20_000,
  /** Longest hour range an aggregate may cover. */
  max_hours: 24,
  /** Equal-width confidence bins on [0, 1]. */
  confidence_bins: 10,
  /** Distinct language codes per aggregate; the rest are counted as "other". */
  max_languages: 32,
  /** Aggregates per request. */
  per_batch: 24,
} as const;

/**
 * Scoring latency in aggregates: each model call (one batch of comments sent to the on-device
 * model, measured round trip) is counted in one of these fixed, log-spaced bins. Bin i holds calls
 * of [bounds[i-1], bounds[i]) ms (bin 0 from 0, the last bin from 16384 ms up). Fixed bins, so any
 * number of aggregates add up bin by bin and quantiles come from the sum; doubling widths, so the
 * relative resolution is the same at 3 ms and at 3 s, and coarse enough not to tell devices apart.
 */
export const LATENCY_BOUNDS_MS: readonly number[] = Array.from({ length: 15 }, (_, i) => 2 ** i);
/** Bins of the latency histogram: one per bound plus the overflow bin. */
export const LATENCY_BINS = LATENCY_BOUNDS_MS.length + 1;

/** The latency bin of a call that took `ms` milliseconds. */
export function latencyBin(ms: number): number {
  const x = Number.isFinite(ms) ? Math.max(0, ms) : Number.POSITIVE_INFINITY;
  for (let i = 0; i < LATENCY_BOUNDS_MS.length; i++) if (x < LATENCY_BOUNDS_MS[i]!) return i;
  return LATENCY_BOUNDS_MS.length;
}

/** Edges of the aggregates' confidence histogram: 10 equal bins on [0, 1] (last bin right-closed). */
export const AGGREGATE_CONFIDENCE_EDGES: readonly number[] = Array.from({ length: AGGREGATE.confidence_bins + 1 }, (_, i) => i / AGGREGATE.confidence_bins);

const utf8Bytes = (s: string): number => new TextEncoder().encode(s).byteLength;

export const LabelSchema = z.enum(LABELS);
/** Anonymous install id, rotated by the client (never derived from an account or device id). */
export const ClientIdSchema = z.string().regex(/^[A-Za-z0-9_-]{16,64}$/, 'must be 16-64 characters of [A-Za-z0-9_-]');
export const BatchIdSchema = z.uuid();
export const VideoIdSchema = z.string().regex(/^[A-Za-z0-9_-]{11}$/, 'must be an 11-character YouTube video id');
export const LANG_RE = /^(?:[a-z]{2,3}(?:-[A-Za-z0-9]{2,8})?|und)$/;
export const LangSchema = z.string().regex(LANG_RE, 'must be a language code like "en" or "und"');
/** Milliseconds since the epoch; the server also rejects times far from its clock. */
export const TimestampSchema = z.number().int().min(1_600_000_000_000).max(4_102_444_800_000);
/**
 * Hour-granular time: milliseconds since the epoch at the start of a UTC hour. Every telemetry
 * time is one; a finer time is refused (400), never rounded by the server, so nothing finer is
 * ever stored and a client that sends one learns of it.
 */
export const HourTimestampSchema = TimestampSchema.refine((ts) => ts % HOUR_MS === 0, 'must be the start of an hour (ms since the epoch, a multiple of 3600000)');
export const ChannelSchema = z.string().regex(/^[a-z0-9][a-z0-9-]{0,31}$/, 'must be 1-32 characters of [a-z0-9-]');

/** Text is measured in UTF-8 bytes; over the limit is a 413, so the check lives in the worker. */
export const TextSchema = z.string().min(1, 'must not be empty');
export const textTooLong = (text: string): boolean => utf8Bytes(text) > LIMITS.text_bytes;

const ProbsSchema = z
  .array(z.number().min(0).max(1))
  .length(LABELS.length)
  .refine((p) => Math.abs(p.reduce((a, b) => a + b, 0) - 1) < 1e-3, 'must sum to 1');

/** One scored comment with its (scrubbed) text: consent "text" only. */
export const SampleItemSchema = z
  .object({
    label: LabelSchema,
    /** Probability of `label` (the model's confidence). */
    score: z.number().min(0).max(1),
    probs: ProbsSchema.optional(),
    lang: LangSchema.optional(),
    /** The hour the comment was scored in. */
    ts: HourTimestampSchema,
    /** Scrubbed on the client and again on the server. */
    text: TextSchema,
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

/** Per-comment samples carry text, so they need consent "text"; statistics go to /v1/aggregates. */
export const SamplesBatchSchema = z
  .object({
    ...batchFields,
    consent: z.literal('text', { message: 'per-comment samples require consent "text"; statistics are sent as hourly aggregates (POST /v1/aggregates)' }),
    items: z.array(SampleItemSchema).min(1).max(LIMITS.items_per_batch),
  })
  .strict();
export type SamplesBatch = z.infer<typeof SamplesBatchSchema>;

export const FeedbackItemSchema = z
  .object({
    text: TextSchema,
    predicted: LabelSchema,
    corrected: LabelSchema,
    score: z.number().min(0).max(1).optional(),
    /** The hour the correction was made in. */
    ts: HourTimestampSchema,
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

const CountSchema = z.number().int().min(0).max(AGGREGATE.max_comments);

/**
 * Language → count. zod's record silently skips a "__proto__" key (it could not be stored
 * safely); it is refused here instead, like every other unknown key on the wire.
 */
const LanguageCountsSchema = z.preprocess(
  (value, ctx) => {
    if (typeof value === 'object' && value !== null && Object.hasOwn(value, '__proto__')) {
      ctx.addIssue({ code: 'custom', path: ['__proto__'], message: 'not a language code' });
    }
    return value;
  },
  z.record(z.union([LangSchema, z.literal('other')]), CountSchema.min(1)),
);
const sum = (xs: readonly number[]): number => xs.reduce((a, b) => a + b, 0);

/**
 * One on-device aggregate: what the comments scored in [hour_from, hour_to) looked like to the
 * model, as counts only. Every count vector is consistent with `n` (checked here, so a batch that
 * would distort drift statistics is refused as a whole, naming the field).
 */
export const AggregateItemSchema = z
  .object({
    /** Start of the first hour covered. */
    hour_from: HourTimestampSchema,
    /** End of the last hour covered (exclusive): 1 to 24 hours after hour_from. */
    hour_to: HourTimestampSchema,
    /** Comments counted. */
    n: z.number().int().min(AGGREGATE.min_comments, `an aggregate describes at least ${AGGREGATE.min_comments} comments`).max(AGGREGATE.max_comments),
    /** Comments per predicted label, in label order. */
    label_counts: z.array(CountSchema).length(LABELS.length),
    /** Comments per confidence bin (the top probability) on AGGREGATE_CONFIDENCE_EDGES. */
    confidence_counts: z.array(CountSchema).length(AGGREGATE.confidence_bins),
    /** Comments per language of the comment ("und" when unknown, "other" past max_languages). */
    languages: LanguageCountsSchema,
    /** Comments that had at least one hashed token. */
    token_n: CountSchema,
    /** Per hashed-token bucket (core/token-buckets.ts): comments with a token in it. */
    token_counts: z.array(CountSchema).length(TOKEN_BUCKETS),
    /**
     * Optional (older extensions send neither): model calls that scored the counted comments,
     * per latency bin ({@link LATENCY_BOUNDS_MS}). A call scores at least one counted comment, so
     * the calls never outnumber `n`.
     */
    latency_counts: z.array(CountSchema).length(LATENCY_BINS).optional(),
    /** Optional: model calls that failed (nothing scored) in the range. */
    errors: CountSchema.optional(),
  })
  .strict()
  .superRefine((a, ctx) => {
    const issue = (path: string, message: string) => ctx.addIssue({ code: 'custom', path: [path], message });
    const hours = (a.hour_to - a.hour_from) / HOUR_MS;
    if (hours < 1) issue('hour_to', 'must be after hour_from');
    else if (hours > AGGREGATE.max_hours) issue('hour_to', `at most ${AGGREGATE.max_hours} hours after hour_from`);
    if (sum(a.label_counts) !== a.n) issue('label_counts', 'must add up to n');
    if (sum(a.confidence_counts) !== a.n) issue('confidence_counts', 'must add up to n');
    const langs = Object.values(a.languages);
    if (langs.length > AGGREGATE.max_languages) issue('languages', `at most ${AGGREGATE.max_languages} languages`);
    if (sum(langs) !== a.n) issue('languages', 'must add up to n');
    if (a.token_n > a.n) issue('token_n', 'must not exceed n');
    if (a.token_counts.some((c) => c > a.token_n)) issue('token_counts', 'no bucket can count more comments than token_n');
    if (a.latency_counts && sum(a.latency_counts) > a.n) issue('latency_counts', 'cannot count more model calls than comments (n)');
  });
export type AggregateItem = z.infer<typeof AggregateItemSchema>;

/** Hourly aggregates of one model version: consent "stats" (the text consent includes it). */
export const AggregatesBatchSchema = z
  .object({
    ...batchFields,
    consent: z.literal('stats', { message: 'aggregates are sent under consent "stats"' }),
    items: z.array(AggregateItemSchema).min(1).max(AGGREGATE.per_batch),
  })
  .strict();
export type AggregatesBatch = z.infer<typeof AggregatesBatchSchema>;

/** The three upload kinds, their routes (`/v1/<kind>`) and the consent each needs. */
export const TELEMETRY_KINDS = ['aggregates', 'samples', 'feedback'] as const;
export type TelemetryKind = (typeof TELEMETRY_KINDS)[number];
export const KIND_CONSENT: Readonly<Record<TelemetryKind, Consent>> = { aggregates: 'stats', samples: 'text', feedback: 'text' };
/** Items per request, by kind. */
export const KIND_MAX_ITEMS: Readonly<Record<TelemetryKind, number>> = { aggregates: AGGREGATE.per_batch, samples: LIMITS.items_per_batch, feedback: LIMITS.items_per_batch };

/**
 * POST /v1/channels/:channel. `force` (with a `reason`, kept in the channel history) promotes a
 * version the blessing rule refuses on the default channel (worker/registry/blessing.ts).
 */
export const PromoteSchema = z
  .object({
    version: SemverSchema,
    force: z.literal(true).optional(),
    reason: z.string().trim().min(10, 'say why, in at least 10 characters').max(500).optional(),
  })
  .strict()
  .refine((b) => (b.force === true) === (b.reason !== undefined), { message: 'force and reason go together', path: ['reason'] });

/** Every error response body. */
export interface ErrorBody {
  error: { code: string; message: string; details?: unknown };
}

/** 202 body of POST /v1/aggregates, /v1/samples and /v1/feedback: the batch is queued. */
export interface IngestResponse {
  batch_id: string;
  /** Items in the batch. */
  accepted: number;
  /**
   * Always false since ingest is queued: copies are dropped after the queue, by the batch's lane
   * (docs/API.md "Queued ingest"). Kept for clients of the earlier API, which answered 200 with
   * true for a batch already stored.
   */
  duplicate: boolean;
}

/** Helper for both ends: a zod error as `details` entries naming each failing field. */
export function issuesOf(error: z.ZodError): Array<{ path: string; message: string }> {
  return error.issues.map((i) => ({ path: i.path.join('.') || '(root)', message: i.message }));
}

/**
 * Canary rollouts: which version of a channel one install runs.
 *
 * A channel carries a stable version and, during a rollout, a candidate served to `percent` of
 * installs. The backend never learns which installs those are: it publishes one rollout document
 * per channel (`GET /v1/channels/:channel/rollout`, {@link RolloutDocSchema}) and every install
 * picks for itself, from a hash of an install id that never leaves the device ({@link pickVersion}).
 *
 * Why the hash also covers the channel and the candidate version: with the install id alone, the
 * same few percent of installs would be the first to get every release. Salting with the candidate
 * gives each rollout its own cohort, while within one rollout an install's bucket never changes,
 * so raising 5 → 25 → 100 % only ever adds installs (an install in the 5 % stays in the 25 %).
 *
 * Pure and synchronous (MurmurHash3 from core/hash.ts): the extension, the Worker (POST
 * /v1/predict resolving a client's version) and the tests compute the same buckets.
 */
import { z } from 'zod';
import { hashString } from './hash.js';
import { SemverSchema, Sha256Schema } from './manifest.js';
import { ChannelSchema } from './wire.js';

/** Seed of the bucket hash; changing it reshuffles every install (never do it mid-rollout). */
export const CANARY_HASH_SEED = 0x5eed_ca4a;

/**
 * A rollout percentage: 0–100 in steps of 0.01 (fractions allow 0.5 % on a large fleet). 0 and
 * 100 end a rollout (abort, promote); a document only ever shows 0 < percent < 100.
 */
export const PercentSchema = z
  .number()
  .min(0)
  .max(100)
  .refine((p) => Math.abs(p * 100 - Math.round(p * 100)) < 1e-9, 'at most two decimals');

const ServedVersionSchema = z.object({ version: SemverSchema, manifest_sha256: Sha256Schema }).strict();

/** What `GET /v1/channels/:channel/rollout` answers; the extension reads it. */
export const RolloutDocSchema = z
  .object({
    channel: ChannelSchema,
    /** Served to every install outside the candidate's buckets. */
    stable: ServedVersionSchema,
    /** Null when no rollout is in progress. */
    candidate: ServedVersionSchema.extend({ percent: PercentSchema.refine((p) => p > 0 && p < 100, 'strictly between 0 and 100'), started_at: z.string() })
      .strict()
      .nullable(),
    updated_at: z.string(),
  })
  .strict();
export type RolloutDoc = z.infer<typeof RolloutDocSchema>;

/** The bucket of `installId` in [0, 100) for a rollout of `candidate` on `channel`. */
export function rolloutBucket(installId: string, channel: string, candidate: string): number {
  // \u0000 cannot occur in a channel or a version, so the three parts cannot run into each other.
  return (hashString(`${channel}\u0000${candidate}\u0000${installId}`, CANARY_HASH_SEED) / 2 ** 32) * 100;
}

/** True when the install with this bucket gets the candidate at `percent`. */
export function inCandidateBucket(bucket: number, percent: number): boolean {
  return bucket < percent;
}

/** The fields a pick reads: a {@link RolloutDoc}, or the Worker's own view of a channel. */
export interface RolloutLike {
  channel: string;
  stable: { version: string };
  candidate: { version: string; percent: number } | null;
}

export interface Pick<D extends RolloutLike = RolloutLike> {
  /** What the install runs: `doc.stable` or `doc.candidate`. */
  served: D['stable'] | NonNullable<D['candidate']>;
  version: string;
  arm: 'stable' | 'candidate';
  /** The install's bucket for the running rollout (null when there is none). */
  bucket: number | null;
}

/** The version the install `installId` runs from `doc`. */
export function pickVersion<D extends RolloutLike>(doc: D, installId: string): Pick<D> {
  const candidate = doc.candidate as NonNullable<D['candidate']> | null;
  if (!candidate) return { served: doc.stable, version: doc.stable.version, arm: 'stable', bucket: null };
  const bucket = rolloutBucket(installId, doc.channel, candidate.version);
  return inCandidateBucket(bucket, candidate.percent)
    ? { served: candidate, version: candidate.version, arm: 'candidate', bucket }
    : { served: doc.stable, version: doc.stable.version, arm: 'stable', bucket };
}

/**
 * POST /v1/channels/:channel/rollout: the share of installs that get `version`. `force` (with a
 * `reason`, kept in the history) overrides the blessing rule where a step puts a new version in
 * front of the default channel's installs, as for a promotion (worker/registry/blessing.ts).
 */
export const RolloutRequestSchema = z
  .object({
    version: SemverSchema,
    percent: PercentSchema,
    force: z.literal(true).optional(),
    reason: z.string().trim().min(10, 'say why, in at least 10 characters').max(500).optional(),
  })
  .strict()
  .refine((b) => (b.force === true) === (b.reason !== undefined), { message: 'force and reason go together', path: ['reason'] });
export type RolloutRequest = z.infer<typeof RolloutRequestSchema>;

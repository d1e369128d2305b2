/**
 * Release channels (`stable`, `beta`, ...): which published version installs on a channel get.
 *
 * One object per channel holds the current (stable) version, a rollback stack, an append-only
 * history and, during a canary rollout, a candidate served to `percent` % of installs (each install
 * picks by a hash of its own install id, core/canary.ts; the backend never knows which).
 * Every change is a compare-and-swap on the object's etag (R2 conditional put), retried a few
 * times, so two admins promoting at once, or an admin and the hourly job's automatic rollback,
 * all end up in the history in some order and neither update is lost.
 *
 * Stored documents are parsed, not cast ({@link ChannelStateSchema}): documents written before
 * canaries existed (no `candidate`) read as "no rollout", and a document that does not parse is
 * an error, never overwritten with a guess.
 */
import { z } from 'zod';
import { pickVersion, type Pick as CanaryPick } from '../../core/canary.js';
import { ApiError } from '../lib/errors.js';
import { keys, listAll } from '../lib/keys.js';
import type { BlessingStatus } from './blessing.js';

/**
 * One change. `from` → `to` are versions: for `canary`, `rollout`, `abort` and `auto_rollback` the
 * stable version and the candidate (`auto_rollback`, `abort`: from the candidate back to stable).
 */
export interface ChannelEvent {
  at: string;
  action: 'promote' | 'rollback' | 'canary' | 'rollout' | 'abort' | 'auto_rollback';
  from: string | null;
  to: string;
  /** Canary events: the candidate's share of installs after the change (0 once it ended). */
  percent?: number;
  /** `rollout`: the share before the change. */
  from_percent?: number;
  /** Who made the change: an operator's token, or the hourly job. */
  actor?: 'admin' | 'cron';
  /** Why (automatic rollbacks: which test failed in which windows). */
  reason?: string;
  /** The numbers behind an automatic rollback (the failing windows). */
  evidence?: unknown;
  /** A promotion made by a rollout reaching 100 % (`rollout`), or the candidate a promotion or rollback ended. */
  via?: 'rollout';
  candidate_cleared?: string;
  /** Promotions on the default channel: the blessing status of `to` (registry/blessing.ts). */
  blessing?: BlessingStatus;
  /** Set when an admin forced a promotion the blessing rule refused: their stated reason. */
  forced?: { reason: string };
}

/** A version being rolled out on a channel, to `percent` % of its installs. */
export interface Candidate {
  version: string;
  /** 0 < percent < 100 (0 aborts and 100 promotes, so neither is ever stored). */
  percent: number;
  /** When this rollout began: evaluation windows before it belong to another rollout. */
  started_at: string;
  updated_at: string;
}

export interface ChannelState {
  channel: string;
  /** The stable version: what every install outside the candidate's buckets runs. */
  version: string;
  updated_at: string;
  /** Versions in the order they became current; the last is current. Rollback pops. */
  stack: string[];
  /** Every change, oldest first (capped at {@link HISTORY_MAX}). */
  history: ChannelEvent[];
  /** The rollout in progress; absent (documents from before canaries) or null when none. */
  candidate?: Candidate | null;
}

const CandidateSchema = z.object({ version: z.string(), percent: z.number().gt(0).lt(100), started_at: z.string(), updated_at: z.string() });
/**
 * A stored channel document. Loose objects: fields this code does not know (added by a newer
 * Worker during a deploy) are carried through every rewrite instead of being dropped.
 */
export const ChannelStateSchema = z.looseObject({
  channel: z.string(),
  version: z.string(),
  updated_at: z.string(),
  stack: z.array(z.string()),
  history: z.array(z.looseObject({ at: z.string(), action: z.string(), from: z.string().nullable(), to: z.string() })),
  candidate: CandidateSchema.nullable().optional(),
});

/** Parses a stored channel document; a broken one is an error (500), never silently replaced. */
export function parseChannelState(raw: unknown, channel: string): ChannelState {
  const parsed = ChannelStateSchema.safeParse(raw);
  if (!parsed.success) throw new Error(`channel document ${channel} does not parse: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  return parsed.data as ChannelState;
}

export const HISTORY_MAX = 1000;
export const STACK_MAX = 100;
const CAS_ATTEMPTS = 8;

export async function getChannel(bucket: R2Bucket, channel: string): Promise<ChannelState | null> {
  const obj = await bucket.get(keys.channel(channel));
  return obj ? parseChannelState(await obj.json(), channel) : null;
}

/**
 * Names and current versions of all channels. A document that does not parse is left out (and
 * logged): one broken channel must not stop the hourly job, or the listing, for all the others.
 */
export async function listChannels(bucket: R2Bucket): Promise<ChannelState[]> {
  const objects = await listAll(bucket, keys.channelPrefix);
  const states = await Promise.all(
    objects.map((o) =>
      getChannel(bucket, o.key.slice(keys.channelPrefix.length, -'.json'.length)).catch((e: unknown) => {
        console.error('channel left out of the listing', e);
        return null;
      }),
    ),
  );
  return states.filter((s): s is ChannelState => s !== null);
}

/**
 * Applies `change` to the channel atomically. `change` returns the new state, or null for "no
 * change" (the current state is returned as is).
 */
async function update(
  bucket: R2Bucket,
  channel: string,
  change: (current: ChannelState | null) => ChannelState | null | Promise<ChannelState | null>,
): Promise<{ state: ChannelState; changed: boolean }> {
  for (let attempt = 0; attempt < CAS_ATTEMPTS; attempt++) {
    const obj = await bucket.get(keys.channel(channel));
    const current = obj ? parseChannelState(await obj.json(), channel) : null;
    const next = await change(current);
    if (next === null) {
      if (!current) throw new Error('channel change returned no state for a missing channel');
      return { state: current, changed: false };
    }
    const written = await bucket.put(keys.channel(channel), JSON.stringify(next), {
      onlyIf: obj ? { etagMatches: obj.etag } : { etagDoesNotMatch: '*' },
      httpMetadata: { contentType: 'application/json' },
    });
    if (written !== null) return { state: next, changed: true };
    // Lost the race: back off a little (jittered) and re-read.
    await new Promise((r) => setTimeout(r, 5 + Math.random() * 20 * (attempt + 1)));
  }
  throw new ApiError(503, 'channel_busy', `channel ${channel} is being changed concurrently, retry`, undefined, { 'Retry-After': '1' });
}

function appendHistory(history: ChannelEvent[], event: ChannelEvent): ChannelEvent[] {
  const next = [...history, event];
  return next.length > HISTORY_MAX ? next.slice(next.length - HISTORY_MAX) : next;
}

/**
 * Makes `version` current on `channel` (no-op when it already is). `guard` sees the state the
 * change will be applied to (inside the compare-and-swap, so it never judges a stale state); it
 * may throw to refuse, or return fields to record on the history event (the blessing rule).
 */
export async function promote(
  bucket: R2Bucket,
  channel: string,
  version: string,
  now = new Date(),
  guard?: (current: ChannelState | null) => Promise<Pick<ChannelEvent, 'blessing' | 'forced'>> | Pick<ChannelEvent, 'blessing' | 'forced'>,
): Promise<{ state: ChannelState; changed: boolean }> {
  return update(bucket, channel, async (current) => {
    if (current?.version === version) return null;
    const extra = guard ? await guard(current) : {};
    return promotedState(channel, current, version, now.toISOString(), extra);
  });
}

/**
 * `current` with `version` made stable (pushed on the stack). A rollout in progress ends with it:
 * its candidate either is `version` or was measured against a stable version that is gone.
 */
function promotedState(channel: string, current: ChannelState | null, version: string, at: string, extra: Partial<ChannelEvent>): ChannelState {
  const stack = [...(current?.stack ?? []), version];
  const cleared = current?.candidate ? { candidate_cleared: current.candidate.version } : {};
  return {
    ...current,
    channel,
    version,
    updated_at: at,
    stack: stack.length > STACK_MAX ? stack.slice(stack.length - STACK_MAX) : stack,
    history: appendHistory(current?.history ?? [], { at, action: 'promote', from: current?.version ?? null, to: version, ...cleared, ...extra }),
    candidate: null,
  };
}

/**
 * Undoes the last change an install would notice: during a rollout, ends the rollout (candidate
 * installs go back to stable, which stays as it is); otherwise returns the channel to the version
 * that was current before the current one.
 */
export async function rollback(bucket: R2Bucket, channel: string, now = new Date()): Promise<{ state: ChannelState; changed: boolean }> {
  return update(bucket, channel, (current) => {
    if (!current) throw new ApiError(404, 'unknown_channel', `channel ${channel} does not exist`);
    const at = now.toISOString();
    if (current.candidate) return endedRollout(current, at, { action: 'abort', actor: 'admin', reason: 'rollback requested' });
    if (current.stack.length < 2) throw new ApiError(409, 'nothing_to_roll_back', `channel ${channel} has no previous version`);
    const stack = current.stack.slice(0, -1);
    const to = stack[stack.length - 1]!;
    return {
      ...current,
      channel,
      version: to,
      updated_at: at,
      stack,
      history: appendHistory(current.history, { at, action: 'rollback', from: current.version, to }),
    };
  });
}

/** `current` with its rollout ended: candidate cleared, stable unchanged, the event recorded. */
function endedRollout(current: ChannelState, at: string, event: Pick<ChannelEvent, 'action' | 'actor' | 'reason' | 'evidence'>): ChannelState {
  const candidate = current.candidate!;
  return {
    ...current,
    updated_at: at,
    candidate: null,
    history: appendHistory(current.history, { at, from: candidate.version, to: current.version, percent: 0, from_percent: candidate.percent, ...event }),
  };
}

export type RolloutOutcome = 'canary' | 'rollout' | 'promote' | 'abort' | 'unchanged';

export interface RolloutChange {
  state: ChannelState;
  changed: boolean;
  /** What the request did: started a rollout, changed its share, promoted, aborted, or nothing. */
  outcome: RolloutOutcome;
}

/**
 * Sets the share of installs that get `version` on `channel` (the step of `npm run rollout`):
 * - no rollout, 0 < percent < 100: starts one (`canary`), `version` ≠ the stable version;
 * - the same candidate, 0 < percent < 100: changes its share (`rollout`; up or down);
 * - the same candidate, 100: promotes it to stable, ending the rollout (`promote`, `via: rollout`);
 * - the same candidate, 0: aborts the rollout (`abort`);
 * - the stable version at 100, or 0 for a version not being rolled out, or the current share: no change;
 * - another candidate while one is rolled out: 409 `rollout_in_progress` (abort or finish it first);
 * - the stable version below 100: 409 `already_stable`.
 * `guard` runs inside the compare-and-swap before anything a new version reaches installs (start
 * and promotion), as for {@link promote}: it may refuse (throw) or add fields to the event.
 * The channel must exist (create it with a promotion): 404 `unknown_channel`.
 */
export async function setRollout(
  bucket: R2Bucket,
  channel: string,
  version: string,
  percent: number,
  now = new Date(),
  guard?: (current: ChannelState, outcome: 'canary' | 'promote') => Promise<Partial<ChannelEvent>> | Partial<ChannelEvent>,
): Promise<RolloutChange> {
  let outcome: RolloutOutcome = 'unchanged';
  const result = await update(bucket, channel, async (current) => {
    outcome = 'unchanged';
    if (!current) throw new ApiError(404, 'unknown_channel', `channel ${channel} does not exist: promote a first version to create it`);
    const at = now.toISOString();
    const candidate = current.candidate ?? null;
    if (candidate && candidate.version !== version) {
      if (percent === 0 && version !== current.version) return null;
      throw new ApiError(409, 'rollout_in_progress', `${candidate.version} is being rolled out on ${channel} (${candidate.percent}%): finish it (100) or abort it (0) first`, [
        { path: 'version', message: `the rollout in progress is ${candidate.version}` },
      ]);
    }
    if (!candidate) {
      if (version === current.version) {
        if (percent === 100) return null;
        throw new ApiError(409, 'already_stable', `${version} is already the stable version of ${channel}`, [{ path: 'version', message: 'is the stable version' }]);
      }
      if (percent === 0) return null;
      if (percent === 100) {
        outcome = 'promote';
        const extra = guard ? await guard(current, 'promote') : {};
        return promotedState(channel, current, version, at, { actor: 'admin', ...extra });
      }
      outcome = 'canary';
      const extra = guard ? await guard(current, 'canary') : {};
      return {
        ...current,
        updated_at: at,
        candidate: { version, percent, started_at: at, updated_at: at },
        history: appendHistory(current.history, { at, action: 'canary', from: current.version, to: version, percent, actor: 'admin', ...extra }),
      };
    }
    if (percent === candidate.percent) return null;
    if (percent === 0) {
      outcome = 'abort';
      return endedRollout(current, at, { action: 'abort', actor: 'admin', reason: 'rollout set to 0%' });
    }
    if (percent === 100) {
      outcome = 'promote';
      const extra = guard ? await guard(current, 'promote') : {};
      return promotedState(channel, current, version, at, { actor: 'admin', via: 'rollout', from_percent: candidate.percent, percent: 100, ...extra });
    }
    outcome = 'rollout';
    return {
      ...current,
      updated_at: at,
      candidate: { ...candidate, percent, updated_at: at },
      history: appendHistory(current.history, { at, action: 'rollout', from: current.version, to: version, from_percent: candidate.percent, percent, actor: 'admin' }),
    };
  });
  return { ...result, outcome };
}

/**
 * The hourly job's rollback: ends the rollout of `candidate` begun at `startedAt`, if it is still
 * the one in progress (an admin may have changed it since the job read it: then nothing happens).
 */
export async function autoRollback(
  bucket: R2Bucket,
  channel: string,
  candidate: { version: string; started_at: string },
  reason: string,
  evidence: unknown,
  now: Date,
): Promise<{ state: ChannelState; changed: boolean } | null> {
  // Channels are never deleted: one that does not exist now never had a rollout to end.
  if (!(await getChannel(bucket, channel))) return null;
  return update(bucket, channel, (state) => {
    const running = state?.candidate;
    if (!state || !running || running.version !== candidate.version || running.started_at !== candidate.started_at) return null;
    return endedRollout(state, now.toISOString(), { action: 'auto_rollback', actor: 'cron', reason, evidence });
  });
}

/**
 * The version `channel` serves to a client: the stable version, or, during a rollout, the
 * candidate for clients whose id falls in its buckets (core/canary.ts, the same hash the extension
 * uses). Without a client id (a server-side caller that has none) the stable version. Null for an
 * unknown channel. POST /v1/predict serves `stable`'s stable version this way.
 */
export function servedVersion(state: ChannelState, clientId?: string): CanaryPick<RolloutView> {
  const view: RolloutView = { channel: state.channel, stable: { version: state.version }, candidate: state.candidate ?? null };
  if (clientId === undefined) return { served: view.stable, version: state.version, arm: 'stable', bucket: null };
  return pickVersion(view, clientId);
}

/** The rollout fields of a channel state, as core/canary.ts reads them. */
export interface RolloutView {
  channel: string;
  stable: { version: string };
  candidate: Candidate | null;
}

/** {@link servedVersion} by channel name: null when the channel does not exist. */
export async function resolveServedVersion(bucket: R2Bucket, channel: string, clientId?: string): Promise<string | null> {
  const state = await getChannel(bucket, channel);
  return state ? servedVersion(state, clientId).version : null;
}

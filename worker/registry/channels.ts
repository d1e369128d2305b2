/**
 * Release channels (`stable`, `beta`, ...): which published version installs on a channel get.
 *
 * One object per channel holds the current version, a rollback stack and an append-only history.
 * Every change is a compare-and-swap on the object's etag (R2 conditional put), retried a few
 * times, so two admins promoting at once both end up in the history in some order and neither
 * update is lost.
 */
import { ApiError } from '../lib/errors.js';
import { keys, listAll } from '../lib/keys.js';

export interface ChannelEvent {
  at: string;
  action: 'promote' | 'rollback';
  from: string | null;
  to: string;
}

export interface ChannelState {
  channel: string;
  version: string;
  updated_at: string;
  /** Versions in the order they became current; the last is current. Rollback pops. */
  stack: string[];
  /** Every change, oldest first (capped at {@link HISTORY_MAX}). */
  history: ChannelEvent[];
}

export const HISTORY_MAX = 1000;
export const STACK_MAX = 100;
const CAS_ATTEMPTS = 8;

export async function getChannel(bucket: R2Bucket, channel: string): Promise<ChannelState | null> {
  const obj = await bucket.get(keys.channel(channel));
  return obj ? ((await obj.json()) as ChannelState) : null;
}

/** Names and current versions of all channels. */
export async function listChannels(bucket: R2Bucket): Promise<ChannelState[]> {
  const objects = await listAll(bucket, keys.channelPrefix);
  const states = await Promise.all(objects.map((o) => getChannel(bucket, o.key.slice(keys.channelPrefix.length, -'.json'.length))));
  return states.filter((s): s is ChannelState => s !== null);
}

/**
 * Applies `change` to the channel atomically. `change` returns the new state, or null for "no
 * change" (the current state is returned as is).
 */
async function update(
  bucket: R2Bucket,
  channel: string,
  change: (current: ChannelState | null) => ChannelState | null,
): Promise<{ state: ChannelState; changed: boolean }> {
  for (let attempt = 0; attempt < CAS_ATTEMPTS; attempt++) {
    const obj = await bucket.get(keys.channel(channel));
    const current = obj ? ((await obj.json()) as ChannelState) : null;
    const next = change(current);
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

/** Makes `version` current on `channel` (no-op when it already is). */
export async function promote(bucket: R2Bucket, channel: string, version: string, now = new Date()): Promise<{ state: ChannelState; changed: boolean }> {
  return update(bucket, channel, (current) => {
    if (current?.version === version) return null;
    const at = now.toISOString();
    const stack = [...(current?.stack ?? []), version];
    return {
      channel,
      version,
      updated_at: at,
      stack: stack.length > STACK_MAX ? stack.slice(stack.length - STACK_MAX) : stack,
      history: appendHistory(current?.history ?? [], { at, action: 'promote', from: current?.version ?? null, to: version }),
    };
  });
}

/** Returns the channel to the version that was current before the current one. */
export async function rollback(bucket: R2Bucket, channel: string, now = new Date()): Promise<{ state: ChannelState; changed: boolean }> {
  return update(bucket, channel, (current) => {
    if (!current) throw new ApiError(404, 'unknown_channel', `channel ${channel} does not exist`);
    if (current.stack.length < 2) throw new ApiError(409, 'nothing_to_roll_back', `channel ${channel} has no previous version`);
    const stack = current.stack.slice(0, -1);
    const to = stack[stack.length - 1]!;
    const at = now.toISOString();
    return {
      channel,
      version: to,
      updated_at: at,
      stack,
      history: appendHistory(current.history, { at, action: 'rollback', from: current.version, to }),
    };
  });
}

/**
 * Release channels (changes need the promote token):
 *   GET  /v1/channels                       every channel and its current version
 *   GET  /v1/channels/:channel              current manifest (short cache, ETag, 304)
 *   GET  /v1/channels/:channel/history      rollback stack and change history
 *   POST /v1/channels/:channel              (promote) {"version", "force"?, "reason"?} → promote (default channel: blessed only)
 *   POST /v1/channels/:channel/rollback     (promote) back to the previous version (during a rollout: ends it)
 *   GET  /v1/channels/:channel/rollout      the rollout document installs pick their version from (short cache, ETag)
 *   POST /v1/channels/:channel/rollout      (promote) {"version", "percent", "force"?, "reason"?} → start, step, promote or abort a canary
 */
import { Hono } from 'hono';
import { RolloutRequestSchema, type RolloutDoc } from '../../core/canary.js';
import { PromoteSchema, issuesOf } from '../../core/wire.js';
import type { AppEnv } from '../env.js';
import { loadConfig } from '../env.js';
import { requireToken } from '../lib/auth.js';
import { readJson } from '../lib/body.js';
import { ApiError } from '../lib/errors.js';
import { sha256Hex } from '../lib/hash.js';
import { ifNoneMatchHits } from '../lib/http.js';
import { driftResponses } from '../lib/response-cache.js';
import { servingModel } from '../predict/model.js';
import { enforcePromotion } from '../registry/blessing.js';
import { getChannel, listChannels, promote, rollback, setRollout, type ChannelState } from '../registry/channels.js';
import { getPublished } from '../registry/store.js';
import { channelParam } from './params.js';

/** Installs poll the channel; a minute of caching bounds the load while updates still spread fast. */
export const CHANNEL_CACHE = 'public, max-age=60, must-revalidate';

export const channelRoutes = new Hono<AppEnv>();

const view = (s: ChannelState) => ({
  channel: s.channel,
  version: s.version,
  updated_at: s.updated_at,
  candidate: s.candidate ? { version: s.candidate.version, percent: s.candidate.percent, started_at: s.candidate.started_at } : null,
});

channelRoutes.get('/v1/channels', async (c) => {
  const channels = await listChannels(c.env.MODELS);
  return c.json({ channels: channels.map(view) }, 200, { 'Cache-Control': 'no-cache' });
});

channelRoutes.get('/v1/channels/:channel', async (c) => {
  const channel = channelParam(c.req.param('channel'));
  const state = await getChannel(c.env.MODELS, channel);
  if (!state) throw new ApiError(404, 'unknown_channel', `channel ${channel} does not exist`);
  const stored = await getPublished(c.env.MODELS, state.version);
  if (!stored) throw new ApiError(503, 'manifest_missing', `channel ${channel} points at ${state.version}, which is not readable`);
  const etag = `"${stored.sha256}"`;
  const headers = { ETag: etag, 'Cache-Control': CHANNEL_CACHE, 'X-Model-Version': state.version };
  if (ifNoneMatchHits(c.req.header('if-none-match'), etag)) return new Response(null, { status: 304, headers });
  return new Response(stored.bytes, { status: 200, headers: { ...headers, 'Content-Type': 'application/json; charset=utf-8' } });
});

channelRoutes.get('/v1/channels/:channel/history', async (c) => {
  const channel = channelParam(c.req.param('channel'));
  const state = await getChannel(c.env.MODELS, channel);
  if (!state) throw new ApiError(404, 'unknown_channel', `channel ${channel} does not exist`);
  return c.json({ ...view(state), rollback_to: state.stack.length > 1 ? state.stack[state.stack.length - 2] : null, stack: state.stack, history: state.history }, 200, {
    'Cache-Control': 'no-cache',
  });
});

/**
 * The default channel is what every install gets: only a model the champion/challenger gate
 * blessed against the current one may replace it, unless an admin forces it (logged). Undefined
 * (no rule) on other channels. Used by promotions and by rollout steps that put a new version in
 * front of installs.
 */
function blessingGuard(env: AppEnv['Bindings'], channel: string, target: NonNullable<Awaited<ReturnType<typeof getPublished>>>, force: boolean, reason: string | undefined) {
  if (channel !== loadConfig(env).defaultChannel) return undefined;
  return async (current: ChannelState | null) => {
    const currentManifest = current ? await getPublished(env.MODELS, current.version) : null;
    // Versions the channel's installs have all run: a canary's candidate reached a few of them
    // only, so canary events do not count (it would let an unblessed canary skip the gate).
    const served = new Set([
      ...(current?.stack ?? []),
      ...(current?.history ?? []).filter((e) => e.action === 'promote' || e.action === 'rollback').flatMap((e) => [e.to, ...(e.from ? [e.from] : [])]),
    ]);
    const check = enforcePromotion(channel, target, { version: current?.version ?? null, manifestSha256: currentManifest?.sha256 ?? null, served }, force);
    return { blessing: check.status, ...(check.allowed ? {} : { forced: { reason: reason! } }) };
  };
}

channelRoutes.post('/v1/channels/:channel', requireToken('promote'), async (c) => {
  const channel = channelParam(c.req.param('channel'));
  const parsed = PromoteSchema.safeParse(await readJson(c.req.raw, 4096));
  if (!parsed.success) throw new ApiError(400, 'validation_failed', 'body must be {"version": "<semver>"} (with "force": true, a "reason")', issuesOf(parsed.error));
  const { version, force, reason } = parsed.data;
  const target = await getPublished(c.env.MODELS, version);
  if (!target) throw new ApiError(404, 'unknown_version', `model version ${version} is not published`);
  const { state, changed } = await promote(c.env.MODELS, channel, version, new Date(), blessingGuard(c.env, channel, target, force === true, reason));
  // Drift answers without a model_version follow the default channel, and so does /v1/predict.
  if (changed) {
    driftResponses.clear();
    servingModel.invalidate();
  }
  return c.json({ ...view(state), changed, previous: changed ? (state.history[state.history.length - 1]?.from ?? null) : null }, 200);
});

channelRoutes.post('/v1/channels/:channel/rollback', requireToken('promote'), async (c) => {
  const channel = channelParam(c.req.param('channel'));
  const { state } = await rollback(c.env.MODELS, channel);
  driftResponses.clear();
  servingModel.invalidate();
  const last = state.history[state.history.length - 1]!;
  return c.json({ ...view(state), changed: true, previous: last.from }, 200);
});

/** The rollout document of a channel state (manifest digests from the registry). */
export async function rolloutDoc(bucket: R2Bucket, state: ChannelState): Promise<RolloutDoc> {
  const [stable, candidate] = await Promise.all([getPublished(bucket, state.version), state.candidate ? getPublished(bucket, state.candidate.version) : null]);
  if (!stable) throw new ApiError(503, 'manifest_missing', `channel ${state.channel} points at ${state.version}, which is not readable`);
  if (state.candidate && !candidate) throw new ApiError(503, 'manifest_missing', `channel ${state.channel} rolls out ${state.candidate.version}, which is not readable`);
  return {
    channel: state.channel,
    stable: { version: state.version, manifest_sha256: stable.sha256 },
    candidate: state.candidate && candidate ? { version: state.candidate.version, manifest_sha256: candidate.sha256, percent: state.candidate.percent, started_at: state.candidate.started_at } : null,
    updated_at: state.updated_at,
  };
}

// Installs fetch this (not the manifest above) and pick stable or candidate themselves: the pick
// depends on an install id the backend never sees. Old extensions keep reading the manifest route,
// which serves the stable version, so they simply stay out of every rollout.
channelRoutes.get('/v1/channels/:channel/rollout', async (c) => {
  const channel = channelParam(c.req.param('channel'));
  const state = await getChannel(c.env.MODELS, channel);
  if (!state) throw new ApiError(404, 'unknown_channel', `channel ${channel} does not exist`);
  const body = JSON.stringify(await rolloutDoc(c.env.MODELS, state));
  const etag = `"${await sha256Hex(body)}"`;
  const headers = { ETag: etag, 'Cache-Control': CHANNEL_CACHE, 'X-Model-Version': state.version };
  if (ifNoneMatchHits(c.req.header('if-none-match'), etag)) return new Response(null, { status: 304, headers });
  return new Response(body, { status: 200, headers: { ...headers, 'Content-Type': 'application/json; charset=utf-8' } });
});

channelRoutes.post('/v1/channels/:channel/rollout', requireToken('promote'), async (c) => {
  const channel = channelParam(c.req.param('channel'));
  const parsed = RolloutRequestSchema.safeParse(await readJson(c.req.raw, 4096));
  if (!parsed.success) throw new ApiError(400, 'validation_failed', 'body must be {"version": "<semver>", "percent": 0-100} (with "force": true, a "reason")', issuesOf(parsed.error));
  const { version, percent, force, reason } = parsed.data;
  const target = await getPublished(c.env.MODELS, version);
  if (!target) throw new ApiError(404, 'unknown_version', `model version ${version} is not published`);
  const guard = blessingGuard(c.env, channel, target, force === true, reason);
  const { state, changed, outcome } = await setRollout(c.env.MODELS, channel, version, percent, new Date(), guard);
  if (changed) {
    driftResponses.clear();
    servingModel.invalidate();
  }
  return c.json({ ...view(state), changed, outcome, event: changed ? state.history[state.history.length - 1] : null }, 200);
});

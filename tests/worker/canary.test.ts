/**
 * Canary rollouts in workerd: the channel document with a candidate (and documents written before
 * candidates existed), the rollout document installs read, rollout steps 5 → 25 → 100 % with their
 * history, and the hourly job's automatic rollback after N consecutive bad windows, not before,
 * with its signed webhook call and stored event.
 *
 * The job runs at injected times (`runHourly(env, t)`); the telemetry it reads is written straight
 * into the hourly partitions it would have arrived in, so no test depends on the wall clock.
 */
import { describe, expect, it } from 'vitest';
import { addToAggregate, emptyAggregate } from '../../core/aggregates.js';
import { pickVersion, rolloutBucket, type RolloutDoc } from '../../core/canary.js';
import { LABELS } from '../../core/labels.js';
import { runHourly } from '../../worker/drift/pipeline.js';
import { keys } from '../../worker/lib/keys.js';
import { badStreak, type CanaryWindow } from '../../worker/monitoring/canary.js';
import { getChannel, setRollout, type ChannelState } from '../../worker/registry/channels.js';
import { HOUR_MS, putRows, call, callJson, driftedPopulation, listKeys, makeBundle, postJson, promoter, publish, reader, referencePopulation, testEnv, type ProtoItem } from './helpers.js';

/** A fixed hour in the past: the job's clock is injected, never read. */
const T0 = Date.UTC(2026, 2, 1, 0);

const history = async (channel: string) => (await callJson<ChannelState & { rollback_to: string | null }>(`/v1/channels/${channel}/history`)).body;
const rollout = (channel: string, body: unknown, headers = promoter()) => postJson(`/v1/channels/${channel}/rollout`, body, headers);

/** `samples` scored comments of `version` in the hour, `corrected` of them corrected (negative → positive). */
async function putQuality(version: string, hourMs: number, samples: number, corrected: number): Promise<void> {
  await putRows(
    'samples',
    version,
    hourMs,
    Array.from({ length: samples }, (_, i) => ({ label: LABELS[i % 3], score: 0.8, ts: hourMs, text: `comment ${i}`, received_at: new Date(hourMs).toISOString() })),
  );
  if (corrected > 0)
    await putRows(
      'feedback',
      version,
      hourMs,
      Array.from({ length: corrected }, (_, i) => ({ text: `comment ${i}`, predicted: 'negative', corrected: 'positive', ts: hourMs })),
    );
}

/** On-device aggregates of `items` (100 comments each) for the hour. */
async function putAggregates(version: string, hourMs: number, items: readonly ProtoItem[]): Promise<void> {
  const rows: Array<Record<string, unknown>> = [];
  for (let i = 0; i < items.length; i += 100) {
    const agg = emptyAggregate(hourMs);
    for (const it of items.slice(i, i + 100)) addToAggregate(agg, { label: it.label, confidence: it.score, lang: it.lang, tokens: it.tokens ?? [] }, hourMs);
    rows.push({ ...agg });
  }
  await putRows('aggregates', version, hourMs, rows);
}

/** The job at 5 past the hour after the one starting at `hourMs` (that hour is then complete). */
const runAfter = (hourMs: number, env = testEnv) => runHourly(env, hourMs + HOUR_MS + 5 * 60_000);

type WebhookCall = { body: string; signatureValid: boolean; event: string | null };
async function webhookCalls(event: string): Promise<WebhookCall[]> {
  const listed = await listKeys(testEnv.WEBHOOK_LOG, 'calls/');
  const calls = await Promise.all(listed.map(async (k) => (await (await testEnv.WEBHOOK_LOG.get(k))!.json()) as WebhookCall));
  return calls.filter((c) => c.event === event);
}

describe('channel documents with a candidate', () => {
  it('reads a document written before canaries existed as "no rollout", and keeps its history', async () => {
    expect((await publish(await makeBundle('20.0.0'))).status).toBe(201);
    const legacy = {
      channel: 'legacy',
      version: '20.0.0',
      updated_at: '2026-01-01T00:00:00.000Z',
      stack: ['20.0.0'],
      history: [{ at: '2026-01-01T00:00:00.000Z', action: 'promote', from: null, to: '20.0.0' }],
    };
    await testEnv.MODELS.put(keys.channel('legacy'), JSON.stringify(legacy));

    const { res, body } = await callJson<RolloutDoc>('/v1/channels/legacy/rollout');
    expect(res.status).toBe(200);
    expect(body).toEqual({ channel: 'legacy', stable: { version: '20.0.0', manifest_sha256: expect.stringMatching(/^[0-9a-f]{64}$/) }, candidate: null, updated_at: legacy.updated_at });
    // The manifest route old extensions read is unchanged.
    const manifest = await call('/v1/channels/legacy');
    expect(manifest.status).toBe(200);
    expect(manifest.headers.get('X-Model-Version')).toBe('20.0.0');
    await manifest.arrayBuffer();
    // Its first rollout step keeps the old history.
    expect((await publish(await makeBundle('20.1.0'))).status).toBe(201);
    expect((await rollout('legacy', { version: '20.1.0', percent: 5 })).status).toBe(200);
    const h = await history('legacy');
    expect(h.history.map((e) => e.action)).toEqual(['promote', 'canary']);
    expect(h.candidate).toMatchObject({ version: '20.1.0', percent: 5 });
  });

  it('refuses a broken stored document instead of overwriting it', async () => {
    await testEnv.MODELS.put(keys.channel('broken'), JSON.stringify({ channel: 'broken', version: '20.0.0', candidate: { version: '20.1.0', percent: 'lots' } }));
    const res = await rollout('broken', { version: '20.1.0', percent: 5 });
    expect(res.status).toBe(500);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe('internal');
    expect(JSON.parse(await (await testEnv.MODELS.get(keys.channel('broken')))!.text()).candidate.percent).toBe('lots');
    // Left out of listings (and so of the hourly job) rather than breaking them for every channel.
    const listed = (await callJson<{ channels: Array<{ channel: string }> }>('/v1/channels')).body.channels.map((ch) => ch.channel);
    expect(listed).toContain('legacy');
    expect(listed).not.toContain('broken');
    await testEnv.MODELS.delete(keys.channel('broken'));
  });
});

describe('rollout steps', () => {
  it('steps 5 → 25 → 100 %, each in the history, and the rollout document follows', async () => {
    for (const v of ['21.0.0', '21.1.0']) expect((await publish(await makeBundle(v))).status).toBe(201);
    expect((await postJson('/v1/channels/ramp', { version: '21.0.0' }, promoter())).status).toBe(200);

    const start = await rollout('ramp', { version: '21.1.0', percent: 5 });
    expect(start.status).toBe(200);
    expect(await start.json()).toMatchObject({ channel: 'ramp', version: '21.0.0', changed: true, outcome: 'canary', candidate: { version: '21.1.0', percent: 5 } });
    const doc = await call('/v1/channels/ramp/rollout');
    const etag = doc.headers.get('ETag')!;
    expect(doc.headers.get('Cache-Control')).toBe('public, max-age=60, must-revalidate');
    const body = (await doc.json()) as RolloutDoc;
    expect(body.stable.version).toBe('21.0.0');
    expect(body.candidate).toMatchObject({ version: '21.1.0', percent: 5 });
    expect((await call('/v1/channels/ramp/rollout', { headers: { 'If-None-Match': etag } })).status).toBe(304);

    // The same step again changes nothing; the list of channels shows the rollout.
    expect(await (await rollout('ramp', { version: '21.1.0', percent: 5 })).json()).toMatchObject({ changed: false, outcome: 'unchanged' });
    expect((await callJson<{ channels: unknown[] }>('/v1/channels')).body.channels).toContainEqual(
      expect.objectContaining({ channel: 'ramp', candidate: expect.objectContaining({ version: '21.1.0', percent: 5 }) }),
    );

    expect(await (await rollout('ramp', { version: '21.1.0', percent: 25 })).json()).toMatchObject({ outcome: 'rollout', candidate: { percent: 25 } });
    const dashboard = await (await call('/dashboard', { headers: reader() })).text();
    expect(dashboard).toContain('<code>ramp</code> → 21.0.0 (21.1.0 to 25 %)');
    expect(dashboard).toContain('Rollouts in progress');
    const changed = await call('/v1/channels/ramp/rollout', { headers: { 'If-None-Match': etag } });
    expect(changed.status).toBe(200);
    expect(((await changed.json()) as RolloutDoc).candidate?.percent).toBe(25);

    const done = (await (await rollout('ramp', { version: '21.1.0', percent: 100 })).json()) as { version: string; candidate: unknown; outcome: string };
    expect(done).toMatchObject({ version: '21.1.0', candidate: null, outcome: 'promote' });
    const h = await history('ramp');
    expect(h.stack).toEqual(['21.0.0', '21.1.0']);
    expect(h.history.map((e) => [e.action, e.from, e.to, e.from_percent ?? null, e.percent ?? null])).toEqual([
      ['promote', null, '21.0.0', null, null],
      ['canary', '21.0.0', '21.1.0', null, 5],
      ['rollout', '21.0.0', '21.1.0', 5, 25],
      ['promote', '21.0.0', '21.1.0', 25, 100],
    ]);
    expect(h.history[3]).toMatchObject({ via: 'rollout', actor: 'admin', candidate_cleared: '21.1.0' });
    expect((await callJson<RolloutDoc>('/v1/channels/ramp/rollout')).body.candidate).toBeNull();
  });

  it('aborts at 0 %, and an admin rollback during a rollout ends the rollout, not the stable version', async () => {
    for (const v of ['22.0.0', '22.1.0', '22.2.0']) expect((await publish(await makeBundle(v))).status).toBe(201);
    expect((await postJson('/v1/channels/abort', { version: '22.0.0' }, promoter())).status).toBe(200);
    expect((await rollout('abort', { version: '22.1.0', percent: 10 })).status).toBe(200);
    expect(await (await rollout('abort', { version: '22.1.0', percent: 0 })).json()).toMatchObject({ outcome: 'abort', version: '22.0.0', candidate: null });

    expect((await rollout('abort', { version: '22.2.0', percent: 10 })).status).toBe(200);
    const back = await postJson('/v1/channels/abort/rollback', {}, promoter());
    expect(back.status).toBe(200);
    expect(await back.json()).toMatchObject({ version: '22.0.0', candidate: null });
    const h = await history('abort');
    expect(h.history.slice(-3).map((e) => [e.action, e.from, e.to, e.percent])).toEqual([
      ['abort', '22.1.0', '22.0.0', 0],
      ['canary', '22.0.0', '22.2.0', 10],
      ['abort', '22.2.0', '22.0.0', 0],
    ]);
    expect(h.stack).toEqual(['22.0.0']);
  });

  it('answers bad steps with clear 4xx errors', async () => {
    for (const v of ['23.0.0', '23.1.0', '23.2.0']) expect((await publish(await makeBundle(v))).status).toBe(201);
    expect((await postJson('/v1/channels/bad', { version: '23.0.0' }, promoter())).status).toBe(200);
    const code = async (res: Response) => [res.status, ((await res.json()) as { error: { code: string } }).error.code];

    expect(await code(await rollout('bad', { version: '23.1.0', percent: 5 }, {}))).toEqual([401, 'unauthorized']);
    expect(await code(await rollout('bad', { version: '23.1.0', percent: 5 }, reader()))).toEqual([401, 'unauthorized']);
    expect(await code(await rollout('bad', { version: '23.1.0', percent: 101 }))).toEqual([400, 'validation_failed']);
    expect(await code(await rollout('bad', { version: '23.1.0', percent: 2.555 }))).toEqual([400, 'validation_failed']);
    expect(await code(await rollout('bad', { version: '23.1.0' }))).toEqual([400, 'validation_failed']);
    expect(await code(await rollout('bad', { version: '23.1.0', percent: 5, extra: 1 }))).toEqual([400, 'validation_failed']);
    expect(await code(await rollout('bad', '{"version":'))).toEqual([400, 'invalid_json']);
    expect(await code(await rollout('bad', { version: '9.9.9', percent: 5 }))).toEqual([404, 'unknown_version']);
    expect(await code(await rollout('nochannel', { version: '23.1.0', percent: 5 }))).toEqual([404, 'unknown_channel']);
    expect(await code(await rollout('bad', { version: '23.0.0', percent: 5 }))).toEqual([409, 'already_stable']);
    expect((await rollout('bad', { version: '23.1.0', percent: 0.5 })).status).toBe(200);
    expect(await code(await rollout('bad', { version: '23.2.0', percent: 5 }))).toEqual([409, 'rollout_in_progress']);
    expect(await code(await call('/v1/channels/nochannel/rollout'))).toEqual([404, 'unknown_channel']);
    expect(await code(await call('/v1/channels/BAD!/rollout'))).toEqual([400, 'invalid_channel']);
    // Nothing of the refused steps reached the channel.
    expect((await history('bad')).candidate).toMatchObject({ version: '23.1.0', percent: 0.5 });
  });

  it('on the default channel, starting a rollout needs a blessed candidate unless an admin forces it (logged)', async () => {
    for (const v of ['24.0.0', '24.1.0']) expect((await publish(await makeBundle(v))).status).toBe(201);
    // The first version of a channel needs no blessing.
    expect((await postJson('/v1/channels/stable', { version: '24.0.0' }, promoter())).status).toBe(200);
    const refused = await rollout('stable', { version: '24.1.0', percent: 5 });
    expect(refused.status).toBe(409);
    expect(((await refused.json()) as { error: { code: string } }).error.code).toBe('not_blessed');
    const forced = await rollout('stable', { version: '24.1.0', percent: 5, force: true, reason: 'canary of an ungated hotfix, watched by hand' });
    expect(forced.status).toBe(200);
    expect((await history('stable')).history.at(-1)).toMatchObject({ action: 'canary', to: '24.1.0', blessing: 'missing', forced: { reason: 'canary of an ungated hotfix, watched by hand' } });
    // Reaching 100 % is a promotion: checked again. A canary does not count as "previously served".
    const promoted = await rollout('stable', { version: '24.1.0', percent: 100 });
    expect(promoted.status).toBe(409);
    expect((await rollout('stable', { version: '24.1.0', percent: 0 })).status).toBe(200);
  });

  it('serializes concurrent steps: every change is in the history, none lost', async () => {
    for (const v of ['25.0.0', '25.1.0']) expect((await publish(await makeBundle(v))).status).toBe(201);
    expect((await postJson('/v1/channels/race', { version: '25.0.0' }, promoter())).status).toBe(200);
    expect((await rollout('race', { version: '25.1.0', percent: 1 })).status).toBe(200);
    const steps = [10, 20, 30, 40, 50];
    const answers = await Promise.all(steps.map((percent) => rollout('race', { version: '25.1.0', percent })));
    expect(answers.map((r) => r.status)).toEqual([200, 200, 200, 200, 200]);
    const h = await history('race');
    const rollouts = h.history.filter((e) => e.action === 'rollout');
    expect(rollouts.map((e) => e.percent).sort()).toEqual(steps);
    // A chain: each step starts from the share the previous one left.
    const chain = [1, ...rollouts.map((e) => e.percent)];
    expect(rollouts.map((e) => e.from_percent)).toEqual(chain.slice(0, -1));
    expect(h.candidate?.percent).toBe(chain.at(-1));
  });
});

describe('the version a channel serves to a client', () => {
  it('is the same per install id and reaches about `percent` of installs', () => {
    const doc = { channel: 'stable', stable: { version: '1.0.0' }, candidate: { version: '1.1.0', percent: 25 } };
    expect(pickVersion(doc, 'install-a').version).toBe(pickVersion(doc, 'install-a').version);
    const n = 20_000;
    let candidate = 0;
    for (let i = 0; i < n; i++) if (pickVersion(doc, `install-${i}`).arm === 'candidate') candidate++;
    expect(candidate / n).toBeGreaterThan(0.235);
    expect(candidate / n).toBeLessThan(0.265);
    expect(rolloutBucket('x', 'stable', '1.1.0')).toBeGreaterThanOrEqual(0);
  });
});

describe('automatic rollback', () => {
  const STABLE = '26.0.0';
  const CANDIDATE = '26.1.0';
  const H = (i: number) => T0 + i * HOUR_MS;

  it('rolls a candidate with many more corrections back after 3 bad windows, not before', async () => {
    for (const v of [STABLE, CANDIDATE]) expect((await publish(await makeBundle(v))).status).toBe(201);
    expect((await postJson('/v1/channels/auto', { version: STABLE }, promoter())).status).toBe(200);
    // Started at T0 (injected): the windows from T0 on belong to this rollout.
    await setRollout(testEnv.MODELS, 'auto', CANDIDATE, 10, new Date(H(0)));
    const before = (await webhookCalls('canary-rollback')).length;

    // Hour 0: bad (15 % corrections against 2 %). Hour 1: no data at all (skipped, not a reset).
    // Hour 2: bad. Hour 3: equal rates (ok: the count starts again). Hours 4, 5, 6: bad.
    const plan: Array<'bad' | 'none' | 'ok'> = ['bad', 'none', 'bad', 'ok', 'bad', 'bad', 'bad'];
    const streaks: number[] = [];
    for (let i = 0; i < plan.length; i++) {
      if (plan[i] !== 'none') {
        await putQuality(STABLE, H(i), 400, 8);
        await putQuality(CANDIDATE, H(i), 400, plan[i] === 'bad' ? 60 : 8);
        await putAggregates(STABLE, H(i), referencePopulation());
        await putAggregates(CANDIDATE, H(i), referencePopulation());
      }
      const result = await runAfter(H(i));
      const run = result.monitoring!.canaries.find((c) => c.channel === 'auto')!;
      expect(run.verdict).toBe(plan[i] === 'bad' ? 'worse' : plan[i] === 'ok' ? 'ok' : 'insufficient_data');
      streaks.push(run.bad_windows);
      const state = (await getChannel(testEnv.MODELS, 'auto'))!;
      if (i < plan.length - 1) {
        expect(run.rolled_back).toBe(false);
        expect(state.candidate?.version).toBe(CANDIDATE);
      } else {
        expect(run.rolled_back).toBe(true);
        expect(state.candidate).toBeNull();
        expect(state.version).toBe(STABLE);
      }
    }
    expect(streaks).toEqual([1, 1, 2, 0, 1, 2, 3]);

    const last = (await history('auto')).history.at(-1)!;
    expect(last).toMatchObject({ action: 'auto_rollback', actor: 'cron', from: CANDIDATE, to: STABLE, percent: 0, from_percent: 10 });
    expect(last.reason).toBe(`${CANDIDATE} was worse than ${STABLE} in 3 consecutive 1-hour windows (correction_rate)`);
    const evidence = last.evidence as { windows: Array<{ from: string; failing: string[]; z: number; candidate: { samples: number; corrections: number } }> };
    expect(evidence.windows.map((w) => w.from)).toEqual([6, 5, 4].map((i) => new Date(H(i)).toISOString()));
    expect(evidence.windows[0]).toMatchObject({ failing: ['correction_rate'], candidate: { samples: 400, corrections: 60 } });
    expect(evidence.windows[0]!.z).toBeCloseTo(6.5923, 3);

    // The signed webhook call and the stored event.
    const calls = await webhookCalls('canary-rollback');
    expect(calls.length).toBe(before + 1);
    expect(calls.at(-1)!.signatureValid).toBe(true);
    const payload = JSON.parse(calls.at(-1)!.body) as Record<string, unknown>;
    expect(payload).toMatchObject({
      event: 'canary_rollback',
      channel: 'auto',
      candidate: CANDIDATE,
      stable: STABLE,
      percent_before: 10,
      failing: ['correction_rate'],
      history: '/v1/channels/auto/history',
    });
    const events = (await callJson<{ events: Array<{ type: string; channel: string; payload: unknown; webhook: { ok: boolean } }> }>('/v1/events?type=canary-rollback', { headers: reader() })).body
      .events;
    expect(events.find((e) => e.channel === 'auto')).toMatchObject({ type: 'canary-rollback', payload, webhook: { ok: true } });

    // Running the same hour again changes nothing and sends nothing.
    await runAfter(H(6));
    expect((await webhookCalls('canary-rollback')).length).toBe(before + 1);
    expect((await history('auto')).history.filter((e) => e.action === 'auto_rollback')).toHaveLength(1);
    // The windows stay readable for the operator.
    const canary = (await callJson<{ candidate: unknown; last_rollout: { version: string }; windows: CanaryWindow[] }>('/v1/channels/auto/canary', { headers: reader() })).body;
    expect(canary.candidate).toBeNull();
    expect(canary.last_rollout.version).toBe(CANDIDATE);
    expect(canary.windows.map((w) => w.verdict)).toEqual(['worse', 'worse', 'worse', 'ok', 'worse', 'insufficient_data', 'worse']);
  });

  it('rolls back a candidate whose predictions drift while stable’s do not', async () => {
    for (const v of ['27.0.0', '27.1.0']) expect((await publish(await makeBundle(v))).status).toBe(201);
    expect((await postJson('/v1/channels/drifty', { version: '27.0.0' }, promoter())).status).toBe(200);
    const start = T0 + 100 * HOUR_MS;
    await setRollout(testEnv.MODELS, 'drifty', '27.1.0', 50, new Date(start));
    for (let i = 0; i < 3; i++) {
      const h = start + i * HOUR_MS;
      await putAggregates('27.0.0', h, referencePopulation());
      await putAggregates('27.1.0', h, driftedPopulation(300));
      const run = (await runAfter(h)).monitoring!.canaries.find((c) => c.channel === 'drifty')!;
      expect(run).toMatchObject({ verdict: 'worse', bad_windows: i + 1, rolled_back: i === 2 });
    }
    const last = (await history('drifty')).history.at(-1)!;
    expect(last).toMatchObject({ action: 'auto_rollback', to: '27.0.0' });
    expect(last.reason).toMatch(/\(drift\)$/);
  });

  it('counts a streak from newest to oldest, skipping windows without data, within one rollout', () => {
    const w = (to: number, verdict: CanaryWindow['verdict'], startedAt = 'a') => ({ window: { to: new Date(T0 + to * HOUR_MS).toISOString() }, verdict, started_at: startedAt }) as CanaryWindow;
    expect(badStreak([w(1, 'worse'), w(2, 'insufficient_data'), w(3, 'worse')], 'a').count).toBe(2);
    expect(badStreak([w(1, 'worse'), w(2, 'ok'), w(3, 'worse')], 'a').count).toBe(1);
    expect(badStreak([w(1, 'worse', 'old'), w(2, 'worse', 'old'), w(3, 'worse')], 'a').count).toBe(1);
    expect(badStreak([w(3, 'worse'), w(1, 'worse'), w(2, 'worse')], 'a').count).toBe(3);
  });
});

/**
 * The blessing rule, in workerd: the default channel (stable) takes a version only when the
 * champion/challenger gate blessed it against the version stable serves now, unless an admin
 * forces it with a reason, which the channel history keeps; other channels take anything.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { call, callJson, makeBundle, postJson, promoter, publish, sha256Hex, type Bundle } from './helpers.js';

type Err = { error: { code: string; message: string; details?: unknown } };
type History = { version: string; history: Array<{ action: string; from: string | null; to: string; blessing?: string; forced?: { reason: string } }> };

const CRITERIA = { per_class_f1_max_drop: 0.05, macro_f1_min_ci_lower: -0.01, confidence: 0.95, bootstrap_samples: 1000, seed: 1, min_class_support: 30, behavioral_max_increase: 0.02 };

/** A bundle whose manifest carries a blessing (what training/champion.ts writes). */
async function blessedBundle(version: string, verdict: 'blessed' | 'refused', champion: Bundle | null, failures: string[] = []): Promise<Bundle> {
  const bundle = await makeBundle(version);
  const blessing = {
    schema: 1,
    verdict,
    decided_at: '2026-01-02T03:00:00.000Z',
    champion: champion ? { version: champion.version, manifest_sha256: await sha256Hex(champion.manifestText) } : null,
    criteria: CRITERIA,
    macro_f1_diff: { value: 0.01, lower: -0.002, upper: 0.02 },
    slices: 12,
    failures,
    report_sha256: 'a'.repeat(64),
  };
  const manifest = { ...bundle.manifest, blessing };
  return { ...bundle, manifest, manifestText: JSON.stringify(manifest, null, 2) + '\n' };
}

const promote = (channel: string, body: unknown) =>
  callJson<Err & { version: string; changed: boolean }>(`/v1/channels/${channel}`, { method: 'POST', headers: promoter({ 'Content-Type': 'application/json' }), body: JSON.stringify(body) });
const history = async (channel = 'stable') => (await callJson<History>(`/v1/channels/${channel}/history`)).body;

describe('the default channel takes blessed versions only', () => {
  let v1: Bundle;
  let v2: Bundle;

  beforeAll(async () => {
    v1 = await makeBundle('21.0.0');
    expect((await publish(v1)).status).toBe(201);
    v2 = await blessedBundle('21.1.0', 'blessed', v1);
    expect((await publish(v2)).status).toBe(201);
  });

  it('takes any first version (there is no champion yet) and says so in the history', async () => {
    const { res } = await promote('stable', { version: '21.0.0' });
    expect(res.status).toBe(200);
    expect((await history()).history.at(-1)).toMatchObject({ action: 'promote', from: null, to: '21.0.0', blessing: 'first' });
  });

  it('refuses a version without a blessing (409 not_blessed) and changes nothing', async () => {
    const unblessed = await makeBundle('21.0.1');
    expect((await publish(unblessed)).status).toBe(201);
    const before = await history();
    const { res, body } = await promote('stable', { version: '21.0.1' });
    expect(res.status).toBe(409);
    expect(body.error.code).toBe('not_blessed');
    expect(body.error.message).toContain('21.0.1 has no blessing');
    expect(await history()).toEqual(before);
    // Other channels are not guarded: a beta channel takes it.
    expect((await promote('beta', { version: '21.0.1' })).res.status).toBe(200);
  });

  it('refuses a refused version, naming the gate’s reasons', async () => {
    const refused = await blessedBundle('21.0.2', 'refused', v1, ['umsab_val.de: F1 of negative 0.610 → 0.420 (drop 0.190 > δ 0.05, 41 examples)']);
    expect((await publish(refused)).status).toBe(201);
    const { res, body } = await promote('stable', { version: '21.0.2' });
    expect(res.status).toBe(409);
    expect(body.error).toMatchObject({ code: 'not_blessed', details: [{ path: 'version', message: 'blessing refused' }] });
    expect(body.error.message).toContain('umsab_val.de: F1 of negative');
  });

  it('refuses a blessing against another champion (409 blessing_stale)', async () => {
    const other = await makeBundle('20.9.0');
    const stale = await blessedBundle('21.0.3', 'blessed', other);
    expect((await publish(stale)).status).toBe(201);
    const { res, body } = await promote('stable', { version: '21.0.3' });
    expect(res.status).toBe(409);
    expect(body.error.code).toBe('blessing_stale');
    expect(body.error.message).toContain('blessed against 20.9.0, but the channel serves 21.0.0');
    // Same version name, other manifest bytes: stale as well (versions are immutable, so this
    // only happens when the champion was a local bundle that was never what stable served).
    const lookalike = { ...v1, manifestText: v1.manifestText.replace('"created_at": "2026-01-01', '"created_at": "2025-01-01') };
    const wrongBytes = await blessedBundle('21.0.4', 'blessed', lookalike);
    expect((await publish(wrongBytes)).status).toBe(201);
    expect((await promote('stable', { version: '21.0.4' })).body.error.code).toBe('blessing_stale');
  });

  it('lets an admin force a refused promotion with a reason, and the history keeps both', async () => {
    const noReason = await promote('stable', { version: '21.0.1', force: true });
    expect(noReason.res.status).toBe(400);
    expect(noReason.body.error.code).toBe('validation_failed');
    expect((await promote('stable', { version: '21.0.1', force: true, reason: 'short' })).res.status).toBe(400);
    expect((await promote('stable', { version: '21.0.1', reason: 'a reason without force' })).res.status).toBe(400);
    const forced = await promote('stable', { version: '21.0.1', force: true, reason: 'hotfix for the emoji crash, gate to follow' });
    expect(forced.res.status).toBe(200);
    expect(forced.body).toMatchObject({ version: '21.0.1', changed: true });
    expect((await history()).history.at(-1)).toMatchObject({ from: '21.0.0', to: '21.0.1', blessing: 'missing', forced: { reason: 'hotfix for the emoji crash, gate to follow' } });
  });

  it('takes back a version stable served before (a rollback by promotion), unforced', async () => {
    const { res } = await promote('stable', { version: '21.0.0' });
    expect(res.status).toBe(200);
    const last = (await history()).history.at(-1)!;
    expect(last).toMatchObject({ from: '21.0.1', to: '21.0.0', blessing: 'previously_served' });
    expect(last.forced).toBeUndefined();
  });

  it('takes a version blessed against exactly what stable serves', async () => {
    const { res, body } = await promote('stable', { version: '21.1.0' });
    expect(res.status).toBe(200);
    expect(body.version).toBe('21.1.0');
    const last = (await history()).history.at(-1)!;
    expect(last).toMatchObject({ from: '21.0.0', to: '21.1.0', blessing: 'blessed' });
    expect(last.forced).toBeUndefined();
    // The channel now serves the blessed manifest, bytes as published.
    expect(await (await call('/v1/channels/stable')).text()).toBe(v2.manifestText);
  });

  it('refuses a manifest whose blessing is malformed at upload', async () => {
    const bundle = await makeBundle('21.9.0');
    const manifest = { ...bundle.manifest, blessing: { schema: 1, verdict: 'probably', failures: [] } };
    const res = await call('/v1/models/21.9.0', {
      method: 'PUT',
      headers: { Authorization: 'Bearer test-publish-token-0123456789abcdef', 'Content-Type': 'application/json' },
      body: JSON.stringify(manifest),
    });
    expect(res.status).toBe(400);
    expect(((await res.json()) as Err).error.code).toBe('invalid_manifest');
  });
});

describe('promotion requests', () => {
  it('needs the promote token for forcing too', async () => {
    const res = await postJson('/v1/channels/stable', { version: '21.0.1', force: true, reason: 'no token, no force at all' });
    expect(res.status).toBe(401);
  });
});

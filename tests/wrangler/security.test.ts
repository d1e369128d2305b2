/**
 * Abuse protections against a real `wrangler dev` (wrangler.toml's own rate-limit bindings and
 * secrets handling): the per-network limit on CF-Connecting-IP before any body is read, tokens per
 * role, secure headers, and a Worker without its secrets failing the start loudly while telling
 * clients nothing.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testSecrets } from '../../scripts/dev-secrets.js';
import { publishModel } from '../../scripts/publish-model.js';
import { MisconfiguredError, startWranglerDev, type WranglerDev } from '../../scripts/wrangler-dev.js';
import { SECRETS, committedModel } from './helpers.js';

/** IP_RATE_LIMITER in wrangler.toml. */
const NETWORK_LIMIT = 600;

let dev: WranglerDev;

beforeAll(async () => {
  dev = await startWranglerDev({ vars: { ...SECRETS } });
});

afterAll(async () => {
  await dev?.stop();
});

const post = (path: string, ip: string, body = '{') => fetch(`${dev.url}${path}`, { method: 'POST', headers: { 'Content-Type': 'application/json', 'CF-Connecting-IP': ip }, body });

describe('wrangler dev: abuse protections', () => {
  it(`limits one network to ${NETWORK_LIMIT} telemetry requests a minute before reading them; IPv6 by /64`, async () => {
    // Wait out the end of a wall-clock minute: the local limiter counts in fixed minutes.
    const left = 60_000 - (Date.now() % 60_000);
    if (left < 15_000) await new Promise((r) => setTimeout(r, left + 100));
    const statuses = new Map<number, number>();
    for (let i = 0; i < NETWORK_LIMIT; i += 50) {
      const answers = await Promise.all(Array.from({ length: 50 }, (_, k) => post('/v1/samples', `2001:db8:5:6:${(i + k).toString(16)}::1`)));
      for (const a of answers) {
        statuses.set(a.status, (statuses.get(a.status) ?? 0) + 1);
        await a.arrayBuffer();
      }
    }
    // Broken bodies, but under the limit: each one was read and refused on its merits.
    expect(Object.fromEntries(statuses)).toEqual({ 400: NETWORK_LIMIT });
    const over = await post('/v1/feedback', '2001:db8:5:6:ffff::9', 'x'.repeat(200_000));
    expect(over.status).toBe(429);
    expect(over.headers.get('Retry-After')).toBe('60');
    expect(await over.json()).toEqual({ error: { code: 'rate_limited', message: 'too many requests from this network; retry in 60 s' } });
    // Another /64 is its own network.
    const other = await post('/v1/samples', '2001:db8:5:7::1');
    expect(other.status).toBe(400);
    await other.arrayBuffer();
  });

  it('publishes with the publish token, promotes with the promote token, and nothing else', async () => {
    const model = committedModel();
    const base = { dir: model.dir, url: dev.url, log: () => {} };
    await expect(publishModel({ ...base, publishToken: SECRETS.READ_TOKEN })).rejects.toThrow(/refused the publish token/);
    await expect(publishModel({ ...base, publishToken: SECRETS.ADMIN_PUBLISH_TOKEN, promoteToken: SECRETS.READ_TOKEN, channel: 'stable' })).rejects.toThrow(/HTTP 401/);
    const ok = await publishModel({ ...base, publishToken: SECRETS.ADMIN_PUBLISH_TOKEN, promoteToken: SECRETS.ADMIN_PROMOTE_TOKEN, channel: 'stable' });
    expect(ok.channel).toMatchObject({ name: 'stable', changed: true });
    const metrics = await fetch(`${dev.url}/metrics`, { headers: { Authorization: `Bearer ${SECRETS.ADMIN_PROMOTE_TOKEN}` } });
    expect(metrics.status).toBe(401);
    expect(metrics.headers.get('WWW-Authenticate')).toBe('Bearer realm="ytsent-read", error="invalid_token"');
    // Security headers over real HTTP too.
    expect(metrics.headers.get('X-Frame-Options')).toBe('DENY');
    expect(metrics.headers.get('Content-Security-Policy')).toContain("default-src 'none'");
    await metrics.arrayBuffer();
  });

  it('a Worker without its secrets fails the start with the logged reason, and tells clients nothing', async () => {
    const secrets = testSecrets('wrangler-misconfigured');
    const start = startWranglerDev({ vars: { ...secrets, READ_TOKEN: 'too-short' } });
    const error = await start.then(
      () => null,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(MisconfiguredError);
    expect((error as Error).message).toMatch(/configuration error: secret READ_TOKEN is shorter than 32 characters/);
    expect((error as Error).message).not.toContain('too-short');
  });
});

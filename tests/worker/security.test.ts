/**
 * Operator tokens (one per role), configuration errors that never reach clients, security headers
 * on every response, the drift answers' cache and limits, and the webhook signature, in workerd.
 */
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { driftResponses, ResponseCache } from '../../worker/lib/response-cache.js';
import { signWebhookBody, webhookFailure } from '../../worker/lib/webhook.js';
import type { Env } from '../../worker/env.js';
import { TOKENS, auth, call, callJson, listKeys, makeBundle, postJson, promoter, publish, publisher, putManifest, reader, testEnv } from './helpers.js';

type Err = { error: { code: string; message: string; details?: unknown } };

const V = '12.0.0';

beforeAll(async () => {
  expect((await publish(await makeBundle(V), 'stable')).status).toBe(201);
});

afterEach(() => {
  vi.restoreAllMocks();
});

describe('operator tokens: one per role', () => {
  const routes = {
    publish: [
      ['PUT', '/v1/models/12.9.0'],
      ['PUT', '/v1/models/12.9.0/files/model.onnx'],
    ],
    promote: [
      ['POST', '/v1/channels/stable'],
      ['POST', '/v1/channels/stable/rollback'],
      ['POST', '/v1/admin/drift/run'],
    ],
    read: [
      ['GET', '/metrics'],
      ['GET', '/dashboard'],
      ['GET', '/v1/drift/history'],
      ['GET', '/v1/drift/alerts'],
      ['GET', `/v1/admin/export?kind=samples&model_version=${V}`],
      ['GET', '/v1/admin/export?kind=corrections'],
    ],
  } as const;

  it('refuses a missing, malformed, wrong or other-role token with 401 in the error format, changing nothing', async () => {
    const modelsBefore = await listKeys(testEnv.MODELS);
    for (const [role, list] of Object.entries(routes) as Array<[keyof typeof TOKENS, ReadonlyArray<readonly [string, string]>]>) {
      const others = (Object.keys(TOKENS) as Array<keyof typeof TOKENS>).filter((r) => r !== role);
      const headerSets: Array<Record<string, string>> = [
        {},
        { Authorization: 'Bearer' },
        // (Basic with the read token is how a browser opens the dashboard: not a wrong scheme there.)
        { Authorization: role === 'read' ? 'Digest username="x"' : `Basic ${btoa(`x:${TOKENS[role]}`)}` },
        { Authorization: `Bearer ${TOKENS[role]}x` },
        { Authorization: `Bearer ${TOKENS[role].slice(0, -1)}` },
        // The pre-issue single token (still present as a binding in the tests) opens nothing.
        { Authorization: `Bearer ${(testEnv as unknown as { ADMIN_TOKEN: string }).ADMIN_TOKEN}` },
        ...others.map((o) => auth(o)),
      ];
      for (const [method, path] of list) {
        for (const headers of headerSets) {
          const body = method === 'GET' ? undefined : '{"version":"12.0.0"}';
          const res = await call(path, { method, headers: { 'Content-Type': 'application/json', ...headers }, body });
          const where = `${method} ${path} with ${JSON.stringify(headers).slice(0, 60)}`;
          expect(res.status, where).toBe(401);
          expect(res.headers.get('WWW-Authenticate'), where).toMatch(
            path === '/dashboard' && !/Bearer/.test(headers.Authorization ?? '') ? /^Basic realm="ytsent-read"$/ : new RegExp(`^Bearer realm="ytsent-${role}"`),
          );
          expect(((await res.json()) as Err).error.code, where).toBe('unauthorized');
        }
      }
    }
    expect(await listKeys(testEnv.MODELS)).toEqual(modelsBefore);
  });

  it('accepts each token for its own routes (the scheme case-insensitively, the token exactly)', async () => {
    const bundle = await makeBundle('12.1.0');
    expect((await putManifest(bundle, bundle.manifestText, { Authorization: `bearer ${TOKENS.publish}` })).status).toBe(202);
    expect((await publish(bundle)).status).toBe(201);
    expect((await postJson('/v1/channels/beta', { version: '12.1.0' }, promoter())).status).toBe(200);
    expect((await call('/v1/admin/drift/run', { method: 'POST', headers: promoter() })).status).toBe(200);
    for (const path of ['/metrics', '/dashboard', `/v1/drift/history?model_version=${V}`, `/v1/drift/alerts?model_version=${V}`, `/v1/admin/export?kind=samples&model_version=${V}`]) {
      const res = await call(path, { headers: reader() });
      expect(res.status, path).toBe(200);
      await res.arrayBuffer();
    }
    expect((await call('/metrics', { headers: { Authorization: `Bearer ${TOKENS.read.toUpperCase()}` } })).status).toBe(401);
  });

  it('lets a browser open the dashboard with the read token as an HTTP Basic password', async () => {
    const challenge = await call('/dashboard');
    expect(challenge.status).toBe(401);
    expect(challenge.headers.get('WWW-Authenticate')).toBe('Basic realm="ytsent-read"');
    await challenge.arrayBuffer();
    const ok = await call('/dashboard', { headers: { Authorization: `Basic ${btoa(`anyone:${TOKENS.read}`)}` } });
    expect(ok.status).toBe(200);
    expect(await ok.text()).toContain('<!doctype html>');
    for (const password of [TOKENS.publish, TOKENS.promote, `${TOKENS.read}x`, '']) {
      expect((await call('/dashboard', { headers: { Authorization: `Basic ${btoa(`anyone:${password}`)}` } })).status).toBe(401);
    }
  });

  it('keeps the public routes public', async () => {
    for (const path of ['/health', '/v1/models', '/v1/channels/stable', `/v1/models/${V}/manifest.json`, `/v1/drift?model_version=${V}`]) {
      const res = await call(path);
      expect(res.status, path).toBe(200);
      await res.arrayBuffer();
    }
  });
});

describe('configuration errors', () => {
  const broken: Array<[string, Partial<Record<keyof Env, string>>, RegExp]> = [
    ['a token unset', { READ_TOKEN: '' }, /secret READ_TOKEN is not set/],
    ['a token too short', { ADMIN_PUBLISH_TOKEN: 'short-token-0123456789' }, /secret ADMIN_PUBLISH_TOKEN is shorter than 32 characters/],
    ['two roles sharing a token', { ADMIN_PROMOTE_TOKEN: TOKENS.publish }, /must be three different values/],
    ['a padded token', { READ_TOKEN: ` ${TOKENS.read}` }, /secret READ_TOKEN has leading or trailing whitespace/],
    ['the pepper unset', { CLIENT_ID_PEPPER: '' }, /secret CLIENT_ID_PEPPER is not set/],
    ['a webhook without its secret', { DRIFT_WEBHOOK_SECRET: '' }, /secret DRIFT_WEBHOOK_SECRET is not set/],
    ['a bad var', { DRIFT_WINDOW_HOURS: 'a week' }, /DRIFT_WINDOW_HOURS must be an integer/],
    // The extension resends a batch up to 20 h after its first send; a shorter dedupe window would store it twice.
    ['a dedupe window shorter than the resend window', { INGEST_DEDUPE_HOURS: '12' }, /INGEST_DEDUPE_HOURS must be in \[24, 168\], got 12/],
  ];

  it('answer every route with 500 misconfigured, telling the client nothing and the log everything', async () => {
    for (const [what, vars, logged] of broken) {
      const env = { ...testEnv, ...vars } as Env;
      const log = vi.spyOn(console, 'error').mockImplementation(() => undefined);
      for (const [method, path, headers] of [
        ['GET', '/health', {}],
        ['GET', `/v1/models/${V}/manifest.json`, {}],
        ['GET', '/metrics', reader()],
        ['PUT', '/v1/models/12.9.9', publisher({ 'Content-Type': 'application/json' })],
        ['POST', '/v1/samples', { 'Content-Type': 'application/json' }],
      ] as const) {
        const res = await call(path, { method, headers, body: method === 'GET' ? undefined : '{}' }, env);
        const text = await res.text();
        expect(res.status, `${what}: ${path}`).toBe(500);
        expect(JSON.parse(text), `${what}: ${path}`).toEqual({ error: { code: 'misconfigured', message: 'the server is misconfigured; the operator can find the reason in its logs' } });
        // Nothing about which setting, nor any secret's value.
        for (const leak of ['TOKEN', 'PEPPER', 'SECRET', 'DRIFT_', ...Object.values(TOKENS)]) expect(text, `${what}: ${leak}`).not.toContain(leak);
      }
      expect(log.mock.calls.map((c) => String(c[0])).join('\n'), what).toMatch(logged);
      log.mockRestore();
    }
  });
});

describe('security headers', () => {
  it('go on every response: successes, errors, 404s, downloads and the dashboard (which keeps its own CSP)', async () => {
    const responses = await Promise.all([
      call('/health'),
      call('/v1/models'),
      call(`/v1/models/${V}/files/model.onnx`),
      call('/no/such/route'),
      call('/metrics'),
      postJson('/v1/samples', '{oops'),
      call('/dashboard', { headers: reader() }),
    ]);
    for (const res of responses) {
      const where = `${res.status} ${res.headers.get('Content-Type')}`;
      expect(res.headers.get('X-Content-Type-Options'), where).toBe('nosniff');
      expect(res.headers.get('X-Frame-Options'), where).toBe('DENY');
      expect(res.headers.get('Referrer-Policy'), where).toBe('no-referrer');
      expect(res.headers.get('Strict-Transport-Security'), where).toMatch(/^max-age=\d+/);
      expect(res.headers.get('Cross-Origin-Opener-Policy'), where).toBe('same-origin');
      const csp = res.headers.get('Content-Security-Policy') ?? '';
      expect(csp, where).toContain("default-src 'none'");
      expect(csp, where).toContain("frame-ancestors 'none'");
      await res.arrayBuffer();
    }
    const dashboard = responses.at(-1)!;
    expect(dashboard.status).toBe(200);
    expect(dashboard.headers.get('Content-Security-Policy')).toContain("style-src 'unsafe-inline'");
    expect(dashboard.headers.get('Content-Security-Policy')).toContain('img-src data:');
  });
});

describe('drift answers: cached for 60 s, bounded', () => {
  it('serves a repeated request from the isolate cache without reading R2 again, until the drift job writes', async () => {
    await call('/v1/admin/drift/run', { method: 'POST', headers: promoter() }).then((r) => r.arrayBuffer());
    const first = await callJson<{ generated_at: string; n: number }>(`/v1/drift?model_version=${V}`);
    expect(first.res.status).toBe(200);
    expect(first.res.headers.get('Cache-Control')).toBe('public, max-age=60');
    expect(first.res.headers.get('Age')).toBeNull();

    // Change what R2 holds: the cached answer is still served (same body, with an Age), and the
    // same query in another order is the same entry.
    const stored = (await (await testEnv.TELEMETRY.get(`drift/${V}/latest.json`))!.json()) as Record<string, unknown>;
    await testEnv.TELEMETRY.put(`drift/${V}/latest.json`, JSON.stringify({ ...stored, n: 424242 }));
    const get = vi.spyOn(testEnv.TELEMETRY, 'get');
    const again = await callJson<{ n: number }>(`/v1/drift?model_version=${V}`);
    expect(again.body).toEqual(first.body);
    expect(again.res.headers.get('Age')).toMatch(/^\d+$/);
    expect(get).not.toHaveBeenCalled();
    get.mockRestore();

    // History and alerts (read token) are cached the same way, privately.
    const history = await call(`/v1/drift/history?limit=5&model_version=${V}`, { headers: reader() });
    expect(history.headers.get('Cache-Control')).toBe('private, max-age=60');
    await history.arrayBuffer();
    const historyAgain = await call(`/v1/drift/history?model_version=${V}&limit=5`, { headers: reader() });
    expect(historyAgain.headers.get('Age')).not.toBeNull();
    await historyAgain.arrayBuffer();
    // The cache sits behind the token check.
    expect((await call(`/v1/drift/history?model_version=${V}&limit=5`)).status).toBe(401);

    // A report written by this isolate's drift job (or a channel change) drops the cached answers.
    driftResponses.clear();
    expect((await callJson<{ n: number }>(`/v1/drift?model_version=${V}`)).body.n).toBe(424242);
  });

  it('caps the parameters that decide how much R2 one request reads, with a clear 400', async () => {
    const cases: Array<[string, Record<string, string>, string]> = [
      [`/v1/drift?model_version=${V}&window=169`, {}, 'window must be in [1, 168]'],
      [`/v1/drift/history?model_version=${V}&limit=169`, reader(), 'limit must be in [1, 168]'],
      [`/v1/drift/history?model_version=${V}&limit=2000`, reader(), 'limit must be in [1, 168]'],
      [`/v1/drift/alerts?model_version=${V}&limit=101`, reader(), 'limit must be in [1, 100]'],
      ['/dashboard?hours=720', reader(), 'hours must be in [1, 168]'],
    ];
    for (const [path, headers, message] of cases) {
      const { res, body } = await callJson<Err>(path, { headers });
      expect(res.status, path).toBe(400);
      expect(body.error, path).toMatchObject({ code: 'invalid_query', message });
    }
  });

  it('keeps entries for their TTL and a bounded number of them', () => {
    const cache = new ResponseCache(60_000, 2);
    const entry = (t: number) => ({ storedAt: t, status: 200, headers: [] as Array<[string, string]>, body: new ArrayBuffer(1) });
    cache.set('a', entry(1000));
    expect(cache.get('a', 1000 + 59_999)).toBeDefined();
    expect(cache.get('a', 1000 + 60_000)).toBeUndefined();
    // A clock that went backwards does not serve an entry from the "future".
    cache.set('b', entry(5000));
    expect(cache.get('b', 4000)).toBeUndefined();
    cache.set('c', entry(0));
    cache.set('d', entry(0));
    cache.set('e', entry(0));
    expect(cache.size).toBe(2);
    expect(cache.get('c', 1)).toBeUndefined();
    expect(cache.get('e', 1)).toBeDefined();
    // Big answers are not kept.
    const small = new ResponseCache(60_000, 10, 4);
    small.set('big', { ...entry(0), body: new ArrayBuffer(5) });
    expect(small.size).toBe(0);
  });
});

describe('drift webhook', () => {
  it('signs the exact body with HMAC-SHA256 (a known vector)', async () => {
    // HMAC-SHA256("key", "The quick brown fox jumps over the lazy dog"), as published on Wikipedia.
    expect(await signWebhookBody('key', 'The quick brown fox jumps over the lazy dog')).toBe('sha256=f7bc83f430538424b13298e6aa6fb143ef4d59a14946175997479dbc2d1a3cd8');
  });

  it('records failures as a category, never the exception text', () => {
    expect(webhookFailure(new DOMException('The operation was aborted due to timeout', 'TimeoutError'))).toBe('timeout');
    expect(webhookFailure(new TypeError('Network connection lost: 10.0.0.3:443 refused (internal proxy)'))).toBe('network');
    expect(webhookFailure('anything')).toBe('network');
  });
});

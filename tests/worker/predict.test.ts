/**
 * POST /v1/predict in workerd with the committed model bundles, published through the registry
 * routes and served from R2: parity with onnxruntime-node (computed in Node at test time from the
 * same files, via the REFERENCE binding), the golden examples, the answer's shape, the cache, a
 * promotion picked up within a minute (the clock is moved, never waited for), bundles that must not
 * be served, API keys (hash-only storage, revocation), every limit and error.
 *
 * The committed bundles are published under versions of their own (`<version>-predict`), so this
 * file shares no model version with the others.
 */
import { env } from 'cloudflare:workers';
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { featurize } from '../../core/featurize.js';
import { LinearScorer } from '../../core/linear-scorer.js';
import { parseManifest, type NgramOnnxManifest } from '../../core/manifest.js';
import type { Prediction } from '../../core/scorer.js';
import { applyLanguageTemperatures, checkGolden } from '../../core/scorer.js';
import { normalizeForCache } from '../../core/text-key.js';
import { compareHistogramSamples, completeHistograms, latencyQuantiles, observeLatency } from '../../worker/lib/latency.js';
import { MetricsBuffer, seriesKey } from '../../worker/lib/metrics.js';
import { predictionCache } from '../../worker/predict/cache.js';
import { loadModel, NO_MODEL_RECHECK_MS, RECHECK_MS, ServingModel, servingModel, UnservableModel, type LoadedModel } from '../../worker/predict/model.js';
import { promote } from '../../worker/registry/channels.js';
import { exposition } from '../../worker/routes/ops.js';
import { ALLOWED_ORIGIN, call, callJson, listKeys, postJson, promoter, publish, reader, sha256Hex, testEnv, type Bundle } from './helpers.js';

const reference = env.REFERENCE;

async function refJson<T>(path: string, init?: RequestInit): Promise<T> {
  const res = await reference.fetch(`http://reference${path}`, init);
  if (!res.ok) throw new Error(`reference ${path}: ${res.status}`);
  return (await res.json()) as T;
}

/** A committed bundle, republished as `<version>-<suffix>` (optionally with its manifest changed). */
async function committedBundle(version: string, suffix: string, change: (m: Record<string, unknown>) => void = () => {}): Promise<Bundle & { committed: string }> {
  const manifest = JSON.parse(await (await reference.fetch(`http://reference/bundles/${version}/manifest.json`)).text()) as Record<string, unknown> & { files: Array<{ path: string }> };
  const files: Record<string, Uint8Array> = {};
  for (const f of manifest.files) files[f.path] = new Uint8Array(await (await reference.fetch(`http://reference/bundles/${version}/${f.path}`)).arrayBuffer());
  const v = `${version}-${suffix}`;
  manifest.version = v;
  change(manifest);
  return { version: v, manifest, manifestText: JSON.stringify(manifest), files, committed: version };
}

/**
 * Makes `version` current on stable through the route. Promotions of the default channel may be
 * gated (a champion/challenger blessing); these bundles are test copies, so the operator override
 * is used when the gate asks for it.
 */
async function promoteStable(version: string): Promise<void> {
  let res = await postJson('/v1/channels/stable', { version }, promoter());
  if (res.status === 409) res = await postJson('/v1/channels/stable', { version, force: true, reason: 'predict test: a copy of a committed bundle' }, promoter());
  expect(res.status, await res.clone().text()).toBe(200);
}

const KEYS: string[] = [];
async function newKey(name = 'test'): Promise<{ id: string; key: string }> {
  const { res, body } = await callJson<{ id: string; key: string }>('/v1/admin/keys', { method: 'POST', headers: promoter({ 'Content-Type': 'application/json' }), body: JSON.stringify({ name }) });
  expect(res.status).toBe(201);
  KEYS.push(body.key);
  return body;
}

function predict(body: unknown, key: string, headers: Record<string, string> = {}): Promise<Response> {
  return postJson('/v1/predict', body, { Authorization: `Bearer ${key}`, ...headers });
}

async function predictJson<T = Record<string, unknown>>(body: unknown, key: string): Promise<{ res: Response; body: T }> {
  const res = await predict(body, key);
  return { res, body: (await res.json()) as T };
}

type Result = Prediction & { model_version: string; video_id?: string; timestamp?: number };

let versions: string[] = [];
let bundles: Array<Bundle & { committed: string }> = [];
/** The newest committed bundle, and the same files under a second version (promotions switch between them). */
let newest: Bundle & { committed: string };
let second: Bundle & { committed: string };
let key: string;

describe('POST /v1/predict', () => {
  beforeAll(async () => {
    versions = (await refJson<string[]>('/bundles')).sort();
    expect(versions.length).toBeGreaterThan(0);
    key = (await newKey('main')).key;
  });

  afterEach(() => {
    vi.useRealTimers();
  });

  it('answers 503 model_unavailable while the channel has no model', async () => {
    const { res, body } = await predictJson<{ error: { code: string } }>({ comment: 'hello' }, key);
    expect(res.status).toBe(503);
    expect(body.error.code).toBe('model_unavailable');
    expect(res.headers.get('retry-after')).toBe(String(NO_MODEL_RECHECK_MS / 1000));
  });

  it('serves the committed bundles, published through the registry, once one is promoted to stable', async () => {
    bundles = await Promise.all(versions.map((v) => committedBundle(v, 'predict')));
    for (const b of bundles) expect((await publish(b)).status).toBe(201);
    newest = bundles[bundles.length - 1]!;
    second = await committedBundle(newest.committed, 'predict-b');
    expect((await publish(second)).status).toBe(201);
    await promoteStable(newest.version);
    const { res, body } = await predictJson<Result>({ comment: 'I love this video' }, key);
    expect(res.status).toBe(200);
    expect(res.headers.get('x-model-version')).toBe(newest.version);
    expect(res.headers.get('cache-control')).toBe('no-store');
    expect(body.model_version).toBe(newest.version);
  });

  it('agrees with onnxruntime-node (computed in Node from the same files) within 1e-3 on the fixture texts', async () => {
    // The 1,200 committed texts but the one over the API's 2 KB limit.
    const encoder = new TextEncoder();
    const texts = (await refJson<string[]>('/texts')).filter((t) => encoder.encode(t).byteLength <= 2048);
    expect(texts.length).toBeGreaterThanOrEqual(1190);
    // The route scores the normalized comment (as the extension does); so does the reference.
    const normalized = texts.map(normalizeForCache);
    const request = (path: string) => refJson<never>(path, { method: 'POST', body: JSON.stringify({ version: newest.committed, texts: normalized }) });
    const [expected, nodeFeatures] = (await Promise.all([request('/onnx'), request('/features')])) as [Prediction[], Array<{ ids: number[]; values: number[] }>];
    // Texts whose features workerd's JavaScript engine computes differently from Node's (newer
    // Unicode property data in its regular expressions: see tests/support/onnx-reference.ts).
    const config = (parseManifest(newest.manifest) as NgramOnnxManifest).featurizer.config;
    const skewed = new Set(
      normalized
        .map((t, i) => {
          const f = featurize(t, config);
          const n = nodeFeatures[i]!;
          return f.ids.length === n.ids.length && f.ids.every((id, j) => id === n.ids[j] && f.values[j] === Math.fround(n.values[j]!)) ? -1 : i;
        })
        .filter((i) => i >= 0),
    );
    const threshold = (newest.manifest as { confidence?: { low_threshold: number } }).confidence?.low_threshold ?? 0.5;
    const parityKey = (await newKey('parity')).key;
    let maxDiff = 0;
    let labelsAgree = 0;
    for (let i = 0; i < texts.length; i += 64) {
      const { res, body } = await predictJson<{ model_version: string; items: Result[] }>({ items: texts.slice(i, i + 64).map((comment) => ({ comment })) }, parityKey);
      expect(res.status).toBe(200);
      body.items.forEach((got, j) => {
        if (skewed.has(i + j)) return;
        const want = expected[i + j]!;
        for (let k = 0; k < 3; k++) maxDiff = Math.max(maxDiff, Math.abs(got.probs[k]! - want.probs[k]!));
        if (got.label === want.label) labelsAgree++;
        expect(got.lang, texts[i + j]).toBe(want.lang);
        expect(got.supported).toBe(want.supported);
        if (Math.abs(want.score - threshold) > 1e-4) expect(got.low_confidence).toBe(want.low_confidence);
      });
    }
    const compared = texts.length - skewed.size;
    expect(maxDiff).toBeLessThanOrEqual(1e-3);
    expect(labelsAgree / compared).toBeGreaterThanOrEqual(0.999);
    // The engine difference is known and rare; more of it would be a featurizer problem to fix.
    expect(skewed.size / texts.length).toBeLessThanOrEqual(0.01);
    console.log(
      `predict parity with onnxruntime-node (${newest.committed}): max |Δp| = ${maxDiff.toExponential(2)} on ${compared} texts; ` +
        `${skewed.size} featurized differently by workerd and Node: ${[...skewed].map((i) => JSON.stringify(texts[i])).join(', ')}`,
    );
  });

  it('reproduces every committed bundle’s golden examples in workerd, through the loader and through the route', async () => {
    for (const b of bundles) {
      const manifest = parseManifest(b.manifest) as NgramOnnxManifest;
      const langid = manifest.languages ? b.files[manifest.languages.langid.file] : undefined;
      const scorer = LinearScorer.create(manifest, b.files[manifest.model.file]!, langid);
      const check = checkGolden(manifest.golden, scorer.probs(manifest.golden.map((g) => g.text)), manifest.golden_tolerance);
      expect(check.failures).toEqual([]);
      expect(check.ok).toBe(true);
    }
    // Through the route: the golden texts that normalization leaves as they are.
    const manifest = parseManifest(newest.manifest) as NgramOnnxManifest;
    const golden = manifest.golden.filter((g) => normalizeForCache(g.text) === g.text && g.text !== '');
    expect(golden.length).toBeGreaterThan(20);
    const { body } = await predictJson<{ items: Result[] }>({ items: golden.map((g) => ({ comment: g.text })) }, key);
    // The route reports each text calibrated for its language (golden examples pin the graph's output).
    const expected = applyLanguageTemperatures(
      Float32Array.from(golden.flatMap((g) => g.probs)),
      body.items.map((got) => ({ lang: got.lang, supported: got.supported })),
      manifest.confidence?.language_temperatures,
    );
    body.items.forEach((got, i) => {
      for (let k = 0; k < 3; k++) expect(Math.abs(got.probs[k]! - expected[i * 3 + k]!), golden[i]!.text).toBeLessThanOrEqual(manifest.golden_tolerance);
    });
  });

  it('answers a single comment with the full prediction, echoing video_id and timestamp', async () => {
    const { res, body } = await predictJson<Result>({ comment: 'worst tutorial ever', video_id: 'dQw4w9WgXcQ', timestamp: 1_795_719_600_123 }, key);
    expect(res.status).toBe(200);
    expect(Object.keys(body).sort()).toEqual(['label', 'lang', 'low_confidence', 'model_version', 'probs', 'score', 'supported', 'timestamp', 'video_id']);
    expect(body.label).toBe('negative');
    expect(body.score).toBe(Math.max(...body.probs));
    expect(body.probs.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 5);
    expect(body.video_id).toBe('dQw4w9WgXcQ');
    expect(body.timestamp).toBe(1_795_719_600_123);
    expect(typeof body.supported).toBe('boolean');
  });

  it('identifies the language, refuses a verdict on unsupported ones, and takes the client’s language when given', async () => {
    const manifest = parseManifest(newest.manifest) as NgramOnnxManifest;
    const { body } = await predictJson<{ items: Result[] }>(
      {
        items: [
          { comment: 'Лучший канал, очень нравится' },
          { comment: 'this is great', lang: 'ru' },
          { comment: 'this is great', lang: 'de' },
          { comment: 'this is great' },
          { comment: 'this is great', lang: 'hi-Latn' },
        ],
      },
      key,
    );
    expect(body.items[0]!.lang).toBe(manifest.languages ? 'ru' : 'und');
    expect(body.items[0]!.supported).toBe(!manifest.languages);
    expect(body.items[1]).toMatchObject({ lang: 'ru', supported: !manifest.languages });
    expect(body.items[2]).toMatchObject({ lang: 'de', supported: true });
    // A hint for a language without its own temperature changes only lang and supported.
    expect(body.items[1]!.probs).toEqual(body.items[3]!.probs);
    // One with a temperature (romanized Hindi, by its primary subtag) gets that language's calibration.
    const expected = applyLanguageTemperatures(Float32Array.from(body.items[3]!.probs), [{ lang: 'hi', supported: true }], manifest.confidence?.language_temperatures);
    body.items[4]!.probs.forEach((p, k) => expect(p).toBeCloseTo(expected[k]!, 6));
    if (manifest.confidence?.language_temperatures?.hi) expect(body.items[4]!.score).toBeLessThan(body.items[3]!.score);
    expect(body.items[4]!.label).toBe(body.items[3]!.label);
  });

  it('flags predictions under the manifest’s low-confidence threshold', async () => {
    const manifest = parseManifest(newest.manifest) as NgramOnnxManifest;
    const texts = await refJson<string[]>('/texts');
    const { body } = await predictJson<{ items: Result[] }>({ items: texts.slice(0, 64).map((comment) => ({ comment })) }, key);
    const threshold = manifest.confidence?.low_threshold ?? 0.5;
    for (const p of body.items) expect(p.low_confidence).toBe(p.score < threshold);
    expect(body.items.some((p) => p.low_confidence)).toBe(true);
  });

  it('serves a repeated comment from the cache, keyed by version and normalized text', async () => {
    const text = `a comment seen twice ${crypto.randomUUID()}`;
    const hits = predictionCache.hits;
    const first = await predictJson<Result>({ comment: text }, key);
    expect(predictionCache.hits).toBe(hits);
    const again = await predictJson<Result>({ comment: `  ${text.replace(/ /g, '\n ')} ` }, key);
    expect(predictionCache.hits).toBe(hits + 1);
    expect(again.body).toEqual(first.body);
    // In a batch, hits and misses come back in request order.
    const { body } = await predictJson<{ items: Result[] }>({ items: [{ comment: 'brand new words here' }, { comment: text }] }, key);
    expect(predictionCache.hits).toBe(hits + 2);
    expect(body.items[1]).toEqual(first.body);
  });

  it('picks up a promotion made elsewhere within a minute, and one made here at once (the clock is moved, not waited for)', async () => {
    vi.useFakeTimers({ toFake: ['Date'], now: Date.now() });
    // Start the minute now: the next request re-reads the channel at the fake time.
    servingModel.invalidate();
    const before = await predictJson<Result>({ comment: 'promotion check' }, key);
    expect(before.body.model_version).toBe(newest.version);
    // Another isolate promotes: only R2 changes, this isolate's state does not.
    await promote(testEnv.MODELS, 'stable', second.version);
    vi.advanceTimersByTime(RECHECK_MS - 1000);
    expect((await predictJson<Result>({ comment: 'promotion check' }, key)).body.model_version).toBe(newest.version);
    vi.advanceTimersByTime(1000);
    const after = await predictJson<Result>({ comment: 'promotion check' }, key);
    expect(after.body.model_version).toBe(second.version);
    // Through this isolate's own route: served on the next request.
    await promoteStable(newest.version);
    expect((await predictJson<Result>({ comment: 'promotion check' }, key)).body.model_version).toBe(newest.version);
  });

  it('keeps serving the current version when the promoted one fails its golden examples or cannot run in a Worker', async () => {
    vi.useFakeTimers({ toFake: ['Date'], now: Date.now() });
    const bad = await committedBundle(newest.committed, 'badgolden', (m) => {
      const golden = m.golden as Array<{ probs: number[] }>;
      golden[0]!.probs = [...golden[0]!.probs].reverse();
    });
    expect((await publish(bad)).status).toBe(201);
    await promoteStable(bad.version);
    const errors = vi.spyOn(console, 'error').mockImplementation(() => {});
    vi.advanceTimersByTime(RECHECK_MS);
    const { res, body } = await predictJson<Result>({ comment: 'still served' }, key);
    expect(res.status).toBe(200);
    expect(body.model_version).toBe(newest.version);
    expect(errors.mock.calls.flat().join(' ')).toMatch(/does not reproduce 1 of its \d+ golden examples/);
    errors.mockRestore();
    expect((await postJson('/v1/channels/stable/rollback', {}, promoter())).status).toBe(200);
  });

  it('loads nothing twice: concurrent requests share one channel read and one load; a failing version is retried only after a minute', async () => {
    let t = 1_000_000;
    let loads = 0;
    const good = { version: 'x' } as unknown as LoadedModel;
    let next: () => Promise<LoadedModel> = async () => good;
    const model = new ServingModel({
      now: () => t,
      load: async () => {
        loads++;
        return next();
      },
    });
    // R2 holds the channel; the loader is stubbed (counting), the clock injected.
    await promote(testEnv.MODELS, 'unit-channel', newest.version);
    const results = await Promise.all(Array.from({ length: 10 }, () => model.get(testEnv.MODELS, 'unit-channel')));
    expect(results.every((r) => r === good)).toBe(true);
    expect(loads).toBe(1);
    await promote(testEnv.MODELS, 'unit-channel', second.version);
    next = async () => {
      throw new UnservableModel('broken');
    };
    const errors = vi.spyOn(console, 'error').mockImplementation(() => {});
    t += RECHECK_MS;
    expect(await model.get(testEnv.MODELS, 'unit-channel')).toBe(good);
    expect(loads).toBe(2);
    t += RECHECK_MS / 2;
    expect(await model.get(testEnv.MODELS, 'unit-channel')).toBe(good);
    expect(loads).toBe(2);
    t += RECHECK_MS;
    await model.get(testEnv.MODELS, 'unit-channel');
    expect(loads).toBe(3);
    errors.mockRestore();
    // No model at all: 503, and the channel is re-read after NO_MODEL_RECHECK_MS, not on every request.
    const empty = new ServingModel({ now: () => t, load: async () => good });
    await expect(empty.get(testEnv.MODELS, 'no-such-channel')).rejects.toMatchObject({ status: 503, code: 'model_unavailable' });
    await promote(testEnv.MODELS, 'no-such-channel', newest.version);
    await expect(empty.get(testEnv.MODELS, 'no-such-channel')).rejects.toMatchObject({ status: 503 });
    t += NO_MODEL_RECHECK_MS;
    expect(await empty.get(testEnv.MODELS, 'no-such-channel')).toBe(good);
  });

  it('refuses to load a transformer bundle (not servable without onnxruntime) or a bundle whose file is corrupted in R2', async () => {
    const hf = await committedBundle(newest.committed, 'hf', (m) => {
      m.format = 'hf-text-classification';
      m.model = {
        file: (m.model as { file: string }).file,
        tokenizer: (m.model as { file: string }).file,
        tokenizer_config: (m.model as { file: string }).file,
        id2label: { 0: 'negative', 1: 'neutral', 2: 'positive' },
      };
      delete m.featurizer;
      delete m.languages;
    });
    expect((await publish(hf)).status).toBe(201);
    await expect(loadModel(testEnv.MODELS, hf.version)).rejects.toThrow(/hf-text-classification bundle; the Worker serves ngram-onnx bundles only/);
    await expect(loadModel(testEnv.MODELS, '9.9.9')).rejects.toThrow(UnservableModel);
    // A blob whose bytes no longer match the manifest (storage corruption) is not served.
    const manifest = parseManifest(second.manifest) as NgramOnnxManifest;
    const entry = manifest.files.find((f) => f.path === manifest.model.file)!;
    const original = new Uint8Array(await (await testEnv.MODELS.get(`blobs/sha256/${entry.sha256}`))!.arrayBuffer());
    const corrupted = original.slice();
    corrupted[corrupted.length >> 1]! ^= 0xff;
    await testEnv.MODELS.put(`blobs/sha256/${entry.sha256}`, corrupted);
    await expect(loadModel(testEnv.MODELS, second.version)).rejects.toThrow(/has sha256 [0-9a-f]{64}, the manifest says/);
    await testEnv.MODELS.put(`blobs/sha256/${entry.sha256}`, original);
    expect((await loadModel(testEnv.MODELS, second.version)).version).toBe(second.version);
  });
});

describe('API keys', () => {
  it('are shown once and stored only as their SHA-256 hash', async () => {
    const created = await newKey('hash check');
    expect(created.key).toMatch(/^ytsk_[A-Za-z0-9_-]{43}$/);
    const hash = await sha256Hex(created.key);
    expect(created.id).toBe(hash.slice(0, 16));
    const stored = await listKeys(testEnv.MODELS, 'apikeys/');
    expect(stored).toContain(`apikeys/${hash}.json`);
    for (const k of stored) {
      const text = await (await testEnv.MODELS.get(k))!.text();
      for (const secret of KEYS) expect(text).not.toContain(secret.slice(5));
    }
    const { body } = await callJson<{ keys: Array<Record<string, unknown>> }>('/v1/admin/keys', { headers: promoter() });
    const listed = body.keys.find((k) => k.id === created.id)!;
    expect(listed).toEqual({ id: created.id, name: 'hash check', created_at: expect.any(String), revoked_at: null });
    expect(JSON.stringify(body)).not.toContain(created.key);
  });

  it('need the promote token to be created, listed or revoked', async () => {
    for (const [path, init] of [
      ['/v1/admin/keys', { method: 'POST', headers: reader({ 'Content-Type': 'application/json' }), body: '{"name":"x"}' }],
      ['/v1/admin/keys', { headers: reader() }],
      ['/v1/admin/keys/0123456789abcdef', { method: 'DELETE' }],
      ['/v1/admin/keys', { headers: { Authorization: `Bearer ${key}` } }],
    ] as const) {
      const res = await call(path, init as RequestInit);
      expect(res.status, `${path}`).toBe(401);
      expect(((await res.json()) as { error: { code: string } }).error.code).toBe('unauthorized');
    }
    const bad = await callJson<{ error: { code: string; details: Array<{ path: string }> } }>('/v1/admin/keys', {
      method: 'POST',
      headers: promoter({ 'Content-Type': 'application/json' }),
      body: JSON.stringify({ name: 'a\nb', extra: 1 }),
    });
    expect(bad.res.status).toBe(400);
    expect(bad.body.error.details.map((d) => d.path).sort()).toEqual(['(root)', 'name']);
    expect((await call('/v1/admin/keys/not-an-id', { method: 'DELETE', headers: promoter() })).status).toBe(400);
    const unknown = await callJson<{ error: { code: string } }>('/v1/admin/keys/0123456789abcdef', { method: 'DELETE', headers: promoter() });
    expect(unknown.res.status).toBe(404);
    expect(unknown.body.error.code).toBe('unknown_key');
  });

  it('answer 401 without a valid key and 403 once revoked (idempotently), other keys unaffected', async () => {
    const cases: Array<[Record<string, string>, string]> = [
      [{}, 'Bearer realm="ytsent-predict"'],
      [{ Authorization: 'Basic abc' }, 'Bearer realm="ytsent-predict", error="invalid_request"'],
      [{ Authorization: 'Bearer test-promote-token-0123456789abcdef' }, 'Bearer realm="ytsent-predict", error="invalid_token"'],
      [{ Authorization: `Bearer ytsk_${'A'.repeat(43)}` }, 'Bearer realm="ytsent-predict", error="invalid_token"'],
    ];
    for (const [headers, challenge] of cases) {
      const res = await postJson('/v1/predict', { comment: 'x' }, headers);
      expect(res.status, JSON.stringify(headers)).toBe(401);
      expect(res.headers.get('www-authenticate')).toBe(challenge);
      expect(((await res.json()) as { error: { code: string } }).error.code).toBe('unauthorized');
    }
    const doomed = await newKey('doomed');
    const other = await newKey('other');
    expect((await predict({ comment: 'x' }, doomed.key)).status).toBe(200);
    const revoked = await callJson<{ revoked_at: string }>(`/v1/admin/keys/${doomed.id}`, { method: 'DELETE', headers: promoter() });
    expect(revoked.res.status).toBe(200);
    expect(revoked.body.revoked_at).toEqual(expect.any(String));
    const again = await callJson<{ revoked_at: string }>(`/v1/admin/keys/${doomed.id}`, { method: 'DELETE', headers: promoter() });
    expect(again.body.revoked_at).toBe(revoked.body.revoked_at);
    const refused = await predictJson<{ error: { code: string } }>({ comment: 'x' }, doomed.key);
    expect(refused.res.status).toBe(403);
    expect(refused.body.error.code).toBe('key_revoked');
    expect((await predict({ comment: 'x' }, other.key)).status).toBe(200);
  });

  it('are rate limited per key (429 with Retry-After), before the body is read', async () => {
    // miniflare counts in fixed 10 s windows: a burst that straddles a boundary is tried again
    // with a fresh key (the old one's count is split between two windows).
    let checked = false;
    for (let attempt = 0; attempt < 3 && !checked; attempt++) {
      const limited = await newKey(`limited ${attempt}`);
      const window = Math.floor(Date.now() / 10_000);
      const statuses: number[] = [];
      for (let i = 0; i < 40; i++) statuses.push((await predict({ comment: 'x' }, limited.key)).status);
      // Over the limit, even a body that would be 413 gets the 429: the body is not read.
      const oversized = await predict('x'.repeat(300 * 1024), limited.key);
      const next = await predict({ comment: 'x' }, limited.key);
      if (Math.floor(Date.now() / 10_000) !== window) continue;
      expect(statuses).toEqual(Array(40).fill(200));
      expect(oversized.status).toBe(429);
      expect(oversized.headers.get('retry-after')).toBe('10');
      expect(((await oversized.json()) as { error: { code: string } }).error.code).toBe('rate_limited');
      expect(next.status).toBe(429);
      checked = true;
    }
    expect(checked).toBe(true);
    expect((await predict({ comment: 'x' }, (await newKey('fresh')).key)).status).toBe(200);
  });
});

describe('POST /v1/predict from a browser', () => {
  it('lets an allowed origin send its API key (Authorization) to /v1/predict only, never to operator routes', async () => {
    const preflight = (path: string, origin = ALLOWED_ORIGIN) =>
      call(path, { method: 'OPTIONS', headers: { Origin: origin, 'Access-Control-Request-Method': 'POST', 'Access-Control-Request-Headers': 'authorization, content-type' } });
    const ok = await preflight('/v1/predict');
    expect(ok.status).toBe(204);
    expect(ok.headers.get('access-control-allow-origin')).toBe(ALLOWED_ORIGIN);
    expect(ok.headers.get('access-control-allow-headers')).toContain('authorization');
    expect((await preflight('/v1/predict', 'https://elsewhere.example')).status).toBe(403);
    for (const path of ['/v1/admin/keys', '/v1/channels/stable', '/v1/samples']) expect((await preflight(path)).status, path).toBe(403);
    const res = await predict({ comment: 'from a dashboard' }, key, { Origin: ALLOWED_ORIGIN });
    expect(res.status).toBe(200);
    expect(res.headers.get('access-control-allow-origin')).toBe(ALLOWED_ORIGIN);
    expect(res.headers.get('access-control-expose-headers')).toContain('X-Model-Version');
  });
});

describe('POST /v1/predict limits and errors', () => {
  async function error(body: unknown, headers: Record<string, string> = {}) {
    const res = await predict(body, key, headers);
    const json = (await res.json()) as { error: { code: string; message: string; details?: Array<{ path: string; message: string }> } };
    return { status: res.status, ...json.error };
  }

  it('413 for more than 64 comments, a comment over 2 KB, or a body over 256 KiB', async () => {
    expect(await error({ items: Array.from({ length: 65 }, () => ({ comment: 'x' })) })).toMatchObject({ status: 413, code: 'too_many_items' });
    const long = 'é'.repeat(1025); // 2,050 UTF-8 bytes, 1,025 characters
    expect(await error({ comment: long })).toMatchObject({ status: 413, code: 'text_too_long', details: [{ path: 'comment' }] });
    expect(await error({ items: [{ comment: 'ok' }, { comment: long }] })).toMatchObject({ status: 413, code: 'text_too_long', details: [{ path: 'items.1.comment' }] });
    expect((await predict({ comment: 'é'.repeat(1024) }, key)).status).toBe(200);
    expect((await predict({ items: Array.from({ length: 64 }, (_, i) => ({ comment: `${i} ${'a'.repeat(2040)}` })) }, key)).status).toBe(200);
    expect(await error({ items: Array.from({ length: 64 }, () => ({ comment: '\u0001'.repeat(700) })) })).toMatchObject({ status: 413, code: 'body_too_large' });
  });

  it('400 for invalid JSON, the wrong shape or unknown fields, naming the field; 415 for another content type', async () => {
    expect(await error('{not json')).toMatchObject({ status: 400, code: 'invalid_json' });
    expect(await error([{ comment: 'x' }])).toMatchObject({ status: 400, code: 'validation_failed' });
    expect(await error({ comment: '' })).toMatchObject({ status: 400, code: 'validation_failed', details: [{ path: 'comment' }] });
    expect(await error({ text: 'x' })).toMatchObject({ status: 400, code: 'validation_failed' });
    expect(await error({ items: [] })).toMatchObject({ status: 400, details: [{ path: 'items' }] });
    expect(await error({ items: [{ comment: 'x', video_id: 'nope' }] })).toMatchObject({ status: 400, details: [{ path: 'items.0.video_id' }] });
    expect(await error({ comment: 'x', lang: 'english' })).toMatchObject({ status: 400, details: [{ path: 'lang' }] });
    expect(await error({ comment: 'x', timestamp: 5 })).toMatchObject({ status: 400, details: [{ path: 'timestamp' }] });
    expect(await error({ comment: 'x', __proto__: { admin: true }, extra: 1 })).toMatchObject({ status: 400, code: 'validation_failed' });
    const res = await call('/v1/predict', { method: 'POST', headers: { Authorization: `Bearer ${key}`, 'Content-Type': 'text/plain' }, body: '{"comment":"x"}' });
    expect(res.status).toBe(415);
  });
});

describe('latency histograms in /metrics', () => {
  it('count each route’s requests into cumulative buckets with p50/p95/p99 estimates', async () => {
    await predict({ comment: 'metrics' }, key);
    const res = await call('/metrics', { headers: reader() });
    const text = await res.text();
    expect(text).toContain('# TYPE ytsent_http_request_duration_seconds histogram');
    const predictBuckets = text.split('\n').filter((l) => l.startsWith('ytsent_http_request_duration_seconds_bucket{') && l.includes('route="/v1/predict"'));
    const les = predictBuckets.map((l) => /le="([^"]+)"/.exec(l)![1]!);
    expect(les[les.length - 1]).toBe('+Inf');
    expect(les.slice(0, -1).map(Number)).toEqual([...les.slice(0, -1).map(Number)].sort((a, b) => a - b));
    const counts = predictBuckets.map((l) => Number(l.split(' ').pop()));
    expect(counts).toEqual([...counts].sort((a, b) => a - b));
    expect(text).toMatch(/ytsent_http_request_duration_seconds_count\{route="\/v1\/predict"\} \d+/);
    for (const q of ['0.5', '0.95', '0.99']) expect(text).toMatch(new RegExp(`ytsent_http_request_duration_quantile_seconds\\{quantile="${q}",route="/v1/predict"\\} [0-9.e-]+`));
    expect(text).toMatch(/ytsent_predictions_total\{cache="(hit|miss)",model_version="[^"]+"\} \d+/);
  });

  it('estimates quantiles as histogram_quantile does, and orders buckets numerically', () => {
    const buffer = new MetricsBuffer();
    // 90 requests at 3 ms, 10 at 300 ms.
    for (let i = 0; i < 90; i++) observeLatency(buffer, '/x', 0.003);
    for (let i = 0; i < 10; i++) observeLatency(buffer, '/x', 0.3);
    const series = (buffer as unknown as { pending: Record<string, number> }).pending;
    expect(series[seriesKey('ytsent_http_request_duration_seconds_bucket', { route: '/x', le: '0.005' })]).toBe(90);
    expect(series[seriesKey('ytsent_http_request_duration_seconds_bucket', { route: '/x', le: '+Inf' })]).toBe(100);
    // Only buckets a request fell into exist; the rest are filled in from the cumulative counts.
    expect(series[seriesKey('ytsent_http_request_duration_seconds_bucket', { route: '/x', le: '0.001' })]).toBeUndefined();
    const complete = completeHistograms(series);
    expect(complete[seriesKey('ytsent_http_request_duration_seconds_bucket', { route: '/x', le: '0.001' })]).toBe(0);
    expect(complete[seriesKey('ytsent_http_request_duration_seconds_bucket', { route: '/x', le: '0.1' })]).toBe(90);
    const q = latencyQuantiles(series);
    const at = (quantile: string) => q[seriesKey('ytsent_http_request_duration_quantile_seconds', { route: '/x', quantile })]!;
    // p50: rank 50 of the 90 in (0.0025, 0.005]; p95: rank 95, 5 of the 10 in (0.25, 0.5].
    expect(at('0.5')).toBeCloseTo(0.0025 + 0.0025 * (50 / 90), 9);
    expect(at('0.95')).toBeCloseTo(0.25 + 0.25 * (5 / 10), 9);
    expect(at('0.99')).toBeCloseTo(0.25 + 0.25 * (9 / 10), 9);
    const keys = Object.keys(complete)
      .filter((k) => k.includes('_bucket'))
      .sort();
    const ordered = [...keys].sort(compareHistogramSamples).map((k) => /le="([^"]+)"/.exec(k)![1]);
    expect(ordered).toEqual(['0.001', '0.0025', '0.005', '0.01', '0.025', '0.05', '0.1', '0.25', '0.5', '1', '2.5', '5', '10', '+Inf']);
    expect(
      exposition(complete)
        .split('\n')
        .filter((l) => l.startsWith('# TYPE')),
    ).toEqual(['# TYPE ytsent_http_request_duration_seconds histogram']);
  });
});

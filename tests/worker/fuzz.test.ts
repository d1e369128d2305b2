/**
 * Fuzz: 1,200 generated malformed or hostile requests across every write route, from a seeded
 * generator (reproducible: the seed is printed with any failure). Each payload is built to be
 * invalid (a valid base document plus at least one mutation that breaks it, or a body that cannot
 * parse, or the wrong content type, size, token...). Every answer must be a 4xx in the error format,
 * never a 5xx, and afterwards R2 must hold exactly what it held before: no samples, feedback,
 * claims, blobs, pending uploads, manifests or channel changes.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { LIMITS } from '../../core/wire.js';
import { ADMIN_TOKEN, call, clientId, listKeys, makeBundle, postJson, admin, publish, testEnv, type Bundle } from './helpers.js';

const SEED = 0x5eed_2026;
const CASES = 1200;
const V = '11.0.0';

/** mulberry32: small, fast, good enough to drive a fuzzer deterministically. */
function rng(seed: number) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return {
    next,
    int: (lo: number, hi: number) => lo + Math.floor(next() * (hi - lo + 1)),
    pick: <T>(xs: readonly T[]): T => xs[Math.floor(next() * xs.length)]!,
    chance: (p: number) => next() < p,
  };
}
type Rng = ReturnType<typeof rng>;

interface Case {
  label: string;
  method: string;
  path: string;
  headers: Record<string, string>;
  body?: string | Uint8Array;
}

const enc = new TextEncoder();
type Json = Record<string, unknown>;

function validSamples(r: Rng, consent: 'stats' | 'text' = r.pick(['stats', 'text'] as const)): Json {
  const now = Date.now();
  return {
    batch_id: crypto.randomUUID(),
    client_id: clientId(),
    model_version: V,
    consent,
    items: Array.from({ length: r.int(1, 5) }, () => ({
      label: r.pick(['negative', 'neutral', 'positive']),
      score: r.next(),
      ts: now - r.int(0, 3_600_000),
      ...(r.chance(0.5) ? { lang: 'en', tokens: [1, 2, 3] } : {}),
      ...(consent === 'text' && r.chance(0.5) ? { text: 'a comment' } : {}),
    })),
  };
}

function validFeedback(r: Rng): Json {
  return {
    batch_id: crypto.randomUUID(),
    client_id: clientId(),
    model_version: V,
    consent: 'text',
    items: Array.from({ length: r.int(1, 3) }, () => ({ text: 'not positive at all', predicted: 'positive', corrected: 'negative', ts: Date.now() })),
  };
}

const HOSTILE_KEYS = ['__proto__', 'constructor', 'prototype', 'hasOwnProperty', 'toString', 'polluted'];
const WRONG_VALUES: unknown[] = [null, true, 0, -1, 1.5, 1e308, '', ' ', 'x'.repeat(3000), [], [1, 2], {}, { $ne: 1 }, '\u0000', '\ud800'];

/** An own, enumerable property, even for "__proto__" (so JSON.stringify sends it as a key). */
function setOwn(o: Json, key: string, value: unknown): void {
  Object.defineProperty(o, key, { value, enumerable: true, writable: true, configurable: true });
}

/** Mutations that each make a valid batch invalid (never a no-op). */
function breakBatch(r: Rng, b: Json, kind: 'samples' | 'feedback'): string {
  const items = b.items as Json[];
  const item = items[r.int(0, items.length - 1)]!;
  const ops: Array<() => string> = [
    () => {
      const f = r.pick(['batch_id', 'client_id', 'model_version', 'consent', 'items']);
      delete b[f];
      return `missing ${f}`;
    },
    () => {
      const f = r.pick(['batch_id', 'client_id', 'model_version', 'consent', 'items']);
      b[f] = r.pick(WRONG_VALUES);
      return `wrong type ${f}`;
    },
    () => ((b.batch_id = r.pick(['not-a-uuid', '00000000-0000-0000-0000-00000000000g', crypto.randomUUID().toUpperCase() + 'x'])), 'bad batch_id'),
    () => ((b.client_id = r.pick(['short', 'x'.repeat(65), 'has spaces in it!!', 'ünïcödé-ünïcödé-ü'])), 'bad client_id'),
    () => ((b.model_version = r.pick(['1.0', 'v1.0.0', '01.0.0', '1.0.0+build', '../11.0.0', '11.0.0/..'])), 'bad model_version'),
    () => ((b.model_version = '12.3.4'), 'unpublished model_version'),
    () => ((b.consent = r.pick(['all', 'TEXT', 'none', 1])), 'bad consent'),
    () => ((b.items = []), 'empty items'),
    () => (setOwn(b, r.pick(HOSTILE_KEYS), { polluted: true }), 'hostile top-level key'),
    () => (setOwn(item, r.pick(HOSTILE_KEYS), { polluted: true }), 'hostile item key'),
    () => ((b.extension_version = 'x'.repeat(33)), 'extension_version too long'),
    () => ((item.ts = r.pick([1.5, '2026-01-01', 0, 9e15, Date.now() - 30 * 86_400_000, Date.now() + 86_400_000])), 'bad ts'),
  ];
  if (kind === 'samples') {
    ops.push(
      () => ((item.label = r.pick(['Positive', 'happy', '', null, 2])), 'bad label'),
      () => ((item.score = r.pick([-0.01, 1.01, '0.5', null, 1e9])), 'bad score'),
      () => ((item.probs = r.pick([[0.5, 0.5], [0.6, 0.6, 0.6], [-0.2, 0.6, 0.6], ['a', 'b', 'c']])), 'bad probs'),
      () => ((item.lang = r.pick(['english', 'EN', 'e', 'en_US!', 42])), 'bad lang'),
      () => ((item.tokens = r.pick([[256], [-1], [1.5], Array.from({ length: 257 }, (_, i) => i % 256), 'abc'])), 'bad tokens'),
      () => {
        b.consent = 'stats';
        item[r.pick(['text', 'video_id'])] = r.pick(['hello', 'dQw4w9WgXcQ']);
        return 'consent violation';
      },
      () => ((b.consent = 'text'), (item.video_id = r.pick(['short', 'has/slash/123', 'x'.repeat(12)])), 'bad video_id'),
      () => ((b.consent = 'text'), (item.text = ''), 'empty text'),
    );
  } else {
    ops.push(
      () => ((b.consent = 'stats'), 'feedback with consent stats'),
      () => (delete item[r.pick(['text', 'predicted', 'corrected'])], 'feedback item missing field'),
      () => ((item.corrected = r.pick(['meh', null, 3])), 'bad corrected'),
      () => ((item.score = r.pick([2, -1, 'high'])), 'bad feedback score'),
    );
  }
  const n = r.int(1, 3);
  return Array.from({ length: n }, () => r.pick(ops)()).join(' + ');
}

function nested(depth: number, open: string, close: string): string {
  return open.repeat(depth) + close.repeat(depth);
}

/** Whole bodies that are not a JSON document of the right shape, or are too big. */
function hostileBody(r: Rng, valid: Json): [string, string | Uint8Array] {
  const text = JSON.stringify(valid);
  const first = Array.isArray(valid.items) ? (valid.items[0] as Json) : { label: 'neutral', score: 0.5, ts: Date.now() };
  const options: Array<() => [string, string | Uint8Array]> = [
    () => ['truncated JSON', text.slice(0, r.int(0, text.length - 1))],
    () => ['trailing garbage', text + r.pick(['x', '}', ',', ' {}'])],
    () => ['NaN literal', text.replace(/"ts":\d+/, '"ts":NaN')],
    () => ['Infinity literal', text.replace(/"ts":\d+/, '"ts":1e400')],
    () => ['top-level non-object', r.pick(['[]', '"str"', '42', 'null', 'true', `[${text}]`])],
    () => ['deep array nesting', nested(r.int(1000, 30_000), '[', ']')],
    () => {
      const depth = r.int(500, 5000);
      return ['deep object nesting', '{"a":'.repeat(depth) + '1' + '}'.repeat(depth)];
    },
    () => ['deep nesting in a field', text.replace('"items":', `"deep":${nested(r.int(100, 3000), '[', ']')},"items":`)],
    () => {
      const bytes = enc.encode(text);
      const out = new Uint8Array(bytes.length + 2);
      const at = r.int(1, bytes.length - 1);
      out.set(bytes.slice(0, at));
      out.set(r.pick([[0xff, 0xfe], [0xc3, 0x28], [0xed, 0xa0], [0xf8, 0x88]]), at);
      out.set(bytes.slice(at), at + 2);
      return ['invalid UTF-8', out];
    },
    // JSON.parse keeps the last of duplicate keys: a valid first value must not hide an invalid last one.
    () => ['duplicate key, invalid last', text.replace(/"consent":"(stats|text)"/, '"consent":"$1","consent":"bogus"')],
    () => ['UTF-16 encoded', new Uint8Array(new Uint16Array([...text].map((c) => c.charCodeAt(0))).buffer)],
    () => ['empty body', ''],
    () => ['whitespace body', ' \n\t '],
    () => ['body over 64 KB', JSON.stringify({ ...valid, items: 'x'.repeat(LIMITS.body_bytes) })],
    () => [
      'over 100 items',
      JSON.stringify({ ...valid, items: Array.from({ length: r.int(101, 400) }, () => first) }),
    ],
    () => [
      'text over 2 KB',
      JSON.stringify({ ...valid, consent: 'text', items: [{ ...first, text: r.pick(['a', 'é', '😀']).repeat(2100) }] }),
    ],
  ];
  return r.pick(options)();
}

function badManifest(r: Rng, bundle: Bundle): [string, string] {
  const m = JSON.parse(bundle.manifestText) as Json;
  const files = m.files as Json[];
  const ops: Array<() => string> = [
    () => (delete m[r.pick(['name', 'version', 'created_at', 'format', 'labels', 'files', 'model'])], 'manifest missing field'),
    () => ((m.format = r.pick(['onnx', '', null, 'NGRAM-ONNX'])), 'bad format'),
    () => ((m.labels = r.pick([['positive', 'neutral', 'negative'], ['a', 'b', 'c'], []])), 'bad labels'),
    () => ((m.files = []), 'no files'),
    () => ((files[0]!.sha256 = r.pick(['abc', 'G'.repeat(64), 'A'.repeat(64)])), 'bad sha256'),
    () => ((files[0]!.bytes = r.pick([-1, 1.5, '10'])), 'bad bytes'),
    () => ((files[0]!.path = r.pick(['../model.onnx', '/etc/passwd', 'a\\b', 'a/../../b', '.', ''])), 'bad path'),
    () => ((m.files = [files[0], files[0]]), 'duplicate file'),
    () => (((m.model as Json).file = 'missing.onnx'), 'model file not in files'),
    () => ((m.created_at = r.pick(['yesterday', '2026-13-01T00:00:00Z', 0])), 'bad created_at'),
    () => ((m.name = 'n'.repeat(101)), 'name too long'),
    () => ((m.version = '11.0.1'), 'version differs from URL'),
    () => ((m.golden_tolerance = r.pick([0, 1, -1])), 'bad golden_tolerance'),
    () => ((m.reference = { source: 'x', n: 0, label_shares: [1], confidence_hist: {}, token_hist: {} }), 'bad reference'),
  ];
  const label = Array.from({ length: r.int(1, 2) }, () => r.pick(ops)()).join(' + ');
  return [label, JSON.stringify(m)];
}

function generate(r: Rng, bundle: Bundle): Case {
  const route = r.pick(['samples', 'samples', 'samples', 'feedback', 'feedback', 'manifest', 'file', 'promote', 'rollback'] as const);
  const json = { 'Content-Type': 'application/json' };
  if (route === 'samples' || route === 'feedback') {
    const path = `/v1/${route}`;
    const valid = route === 'samples' ? validSamples(r) : validFeedback(r);
    const style = r.int(0, 9);
    if (style <= 4) {
      const label = breakBatch(r, valid, route);
      return { label: `${route}: ${label}`, method: 'POST', path, headers: json, body: JSON.stringify(valid) };
    }
    if (style <= 7) {
      const [label, body] = hostileBody(r, valid);
      return { label: `${route}: ${label}`, method: 'POST', path, headers: json, body };
    }
    if (style === 8) {
      // A *valid* batch with the wrong content type must still be refused and not stored.
      const ct = r.pick(['text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data', 'application/xml', 'application/jsonx', 'json']);
      return { label: `${route}: valid body as ${ct}`, method: 'POST', path, headers: { 'Content-Type': ct }, body: JSON.stringify(valid) };
    }
    return { label: `${route}: wrong method`, method: r.pick(['PUT', 'DELETE', 'PATCH']), path, headers: json, body: JSON.stringify(valid) };
  }
  const auth = r.pick(['valid', 'valid', 'valid', 'none', 'wrong', 'malformed'] as const);
  const headers: Record<string, string> =
    auth === 'valid' ? admin() : auth === 'wrong' ? { Authorization: `Bearer ${ADMIN_TOKEN.slice(1)}Z` } : auth === 'malformed' ? { Authorization: r.pick(['Bearer', `Basic ${ADMIN_TOKEN}`, ADMIN_TOKEN, 'Bearer a b']) } : {};
  if (route === 'manifest') {
    const version = r.chance(0.8) ? '11.0.0' : r.pick(['11.0', 'latest', '11.0.0-', 'x'.repeat(300), '%2e%2e']);
    const kind = r.int(0, 5);
    if (kind <= 3) {
      // '11.0.0' is published: a changed manifest for it is a 409 at best, never a write.
      const [label, body] = badManifest(r, bundle);
      return { label: `manifest (${auth}): ${label}`, method: 'PUT', path: `/v1/models/${version}`, headers: { ...headers, ...json }, body };
    }
    if (kind === 4) {
      const [label, body] = hostileBody(r, JSON.parse(bundle.manifestText) as Json);
      return { label: `manifest (${auth}): ${label}`, method: 'PUT', path: `/v1/models/${version}`, headers: { ...headers, ...json }, body };
    }
    return { label: `manifest (${auth}): over 1 MiB`, method: 'PUT', path: `/v1/models/${version}`, headers: { ...headers, ...json }, body: JSON.stringify({ pad: 'x'.repeat(1024 * 1024) }) };
  }
  if (route === 'file') {
    const version = r.pick(['11.0.0', '11.9.9', '11.0', 'x']);
    const path = r.pick(['model.onnx', 'other.bin', '%2e%2e%2Fescape', 'a%5Cb', 'dir/%00', 'x'.repeat(250)]);
    const body = r.pick([new Uint8Array(0), new Uint8Array(r.int(1, 5000)), enc.encode('{"not":"a model"}')]);
    return { label: `file (${auth}) ${version}/${path}`, method: 'PUT', path: `/v1/models/${version}/files/${path}`, headers, body };
  }
  if (route === 'promote') {
    const channel = r.pick(['stable', 'beta', 'Stable', '-x', 'x'.repeat(40), 'a_b']);
    const body = r.pick<unknown>([{}, { version: 1 }, { version: 'latest' }, { version: '11.9.9' }, { version: V, extra: 1 }, [V], null, 'x', { __proto__: { version: V } }]);
    const raw = r.chance(0.15) ? '{"version":' : JSON.stringify(body);
    return { label: `promote (${auth}) ${channel} ${raw.slice(0, 40)}`, method: 'POST', path: `/v1/channels/${channel}`, headers: { ...headers, ...json }, body: raw };
  }
  const channel = r.pick(['stable', 'nope', 'Bad!']);
  return { label: `rollback (${auth}) ${channel}`, method: 'POST', path: `/v1/channels/${channel}/rollback`, headers, body: r.chance(0.5) ? '{}' : undefined };
}

let bundle: Bundle;
let modelsBefore: string[];
let channelBefore: string;

beforeAll(async () => {
  bundle = await makeBundle(V);
  expect((await publish(bundle, 'stable')).status).toBe(201);
  modelsBefore = await listKeys(testEnv.MODELS);
  channelBefore = await (await testEnv.MODELS.get('channels/stable.json'))!.text();
});

describe('fuzzing the write routes', () => {
  it(`answers ${CASES} hostile requests with 4xx errors and stores nothing (seed ${SEED.toString(16)})`, async () => {
    const r = rng(SEED);
    const statuses = new Map<number, number>();
    const routes = new Map<string, number>();
    for (let i = 0; i < CASES; i++) {
      const c = generate(r, bundle);
      const res = await call(c.path, { method: c.method, headers: c.headers, body: c.body });
      const text = await res.text();
      const where = `case ${i} (seed ${SEED.toString(16)}): ${c.label} → ${res.status} ${text.slice(0, 300)}`;
      expect(res.status, where).toBeGreaterThanOrEqual(400);
      expect(res.status, where).toBeLessThan(500);
      const parsed = JSON.parse(text) as { error: { code: string; message: string } };
      expect(typeof parsed.error.code, where).toBe('string');
      statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
      const route = c.path.split('/').slice(0, 3).join('/');
      routes.set(route, (routes.get(route) ?? 0) + 1);
    }
    // The generator reached every kind of refusal.
    expect([...statuses.keys()].sort()).toEqual(expect.arrayContaining([400, 401, 404, 409, 413, 415]));
    expect(routes.get('/v1/samples')! + routes.get('/v1/feedback')!).toBeGreaterThan(500);
    expect(routes.get('/v1/models')).toBeGreaterThan(150);
    expect(routes.get('/v1/channels')).toBeGreaterThan(150);

    // Nothing stored.
    expect(await listKeys(testEnv.TELEMETRY, 'samples/')).toEqual([]);
    expect(await listKeys(testEnv.TELEMETRY, 'feedback/')).toEqual([]);
    expect(await listKeys(testEnv.TELEMETRY, 'claims/')).toEqual([]);
    expect(await listKeys(testEnv.MODELS)).toEqual(modelsBefore);
    expect(await (await testEnv.MODELS.get('channels/stable.json'))!.text()).toBe(channelBefore);
    // No prototype pollution in the isolate that parsed all of it.
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(Object.prototype).not.toHaveProperty('polluted');
  });

  it('still accepts a valid batch afterwards', async () => {
    const now = Date.now();
    const res = await postJson('/v1/samples', { batch_id: crypto.randomUUID(), client_id: clientId(), model_version: V, consent: 'stats', items: [{ label: 'neutral', score: 0.5, ts: now }] });
    expect(res.status).toBe(202);
  });
});

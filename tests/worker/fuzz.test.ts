/**
 * Fuzz: 10,000 generated malformed or hostile requests across every write route and the routes
 * that read operator data, from a seeded generator (reproducible: the seed is printed with any
 * failure). Each request is built to be refused: a valid base document plus at least one mutation
 * that breaks it (a wrong type, a hostile key, an out-of-range value...), a body that cannot parse
 * (invalid UTF-8, deep nesting, truncation), the wrong content type, an oversized body (declared or
 * streamed), a missing or wrong-role token, a hostile CF-Connecting-IP or query. Every answer must
 * be a 4xx in the error format, never a 5xx, and afterwards R2 must hold exactly what it held
 * before (apart from the request counters under metrics/): nothing stored, claimed, voted,
 * published or promoted. Requests run 32 at a time, so the whole run takes a few seconds.
 */
import { rng as seededRandom } from '../../core/random.js';
import { beforeAll, describe, expect, it } from 'vitest';
import { hourFloor, LIMITS } from '../../core/wire.js';
import {
  TOKENS,
  aggregateOf,
  aggregatesBatch,
  auth,
  call,
  clientId,
  listKeys,
  makeBundle,
  pendingContexts,
  postJson,
  publish,
  referencePopulation,
  samplesBatch,
  testEnv,
  type Bundle,
} from './helpers.js';

const SEED = 0x5eed_2026;
const CASES = 10_000;
const CONCURRENCY = 32;
const V = '11.0.0';

/** The project's seeded generator (core/random.ts) with the helpers the fuzzer draws with. */
function rng(seed: number) {
  const next = seededRandom(seed);
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
  body?: string | Uint8Array | (() => ReadableStream<Uint8Array>);
}

const enc = new TextEncoder();
type Json = Record<string, unknown>;
type Kind = 'samples' | 'feedback' | 'aggregates';

const POPULATION = referencePopulation();

function validBatch(r: Rng, kind: Kind): Json {
  if (kind === 'aggregates') {
    const from = r.int(0, POPULATION.length - 60);
    return aggregatesBatch(
      V,
      Array.from({ length: r.int(1, 2) }, () => aggregateOf(POPULATION.slice(from, from + r.int(10, 60)))),
    ) as Json;
  }
  if (kind === 'samples') {
    return samplesBatch(
      V,
      Array.from({ length: r.int(1, 5) }, () => ({
        label: r.pick(['negative', 'neutral', 'positive']),
        score: r.next(),
        text: r.pick(['a comment', 'great video!', 'meh', 'ünïcödé 😀']),
        ...(r.chance(0.5) ? { lang: 'en' } : {}),
        ...(r.chance(0.3) ? { video_id: 'dQw4w9WgXcQ' } : {}),
      })),
    ) as Json;
  }
  return {
    batch_id: crypto.randomUUID(),
    client_id: clientId(),
    model_version: V,
    consent: 'text',
    items: Array.from({ length: r.int(1, 3) }, () => ({ text: 'not positive at all', predicted: 'positive', corrected: 'negative', ts: hourFloor(Date.now()) })),
  };
}

const HOSTILE_KEYS = ['__proto__', 'constructor', 'prototype', 'hasOwnProperty', 'toString', 'polluted'];

/** A value whose JSON type differs from `original`'s: never valid where `original` was. */
function wrongTypeFor(r: Rng, original: unknown): unknown {
  const byType: Record<string, unknown[]> = {
    string: [null, true, 0, -1, 1.5, 1e308, [], [1, 2], {}, { $ne: 1 }],
    number: [null, true, '', ' ', '0', 'x'.repeat(3000), '\u0000', '\ud800', [], [0], {}, { $gt: 0 }],
    boolean: [null, 0, 1, 'true', [], {}],
    array: [null, true, 0, 'abc', '', {}, { 0: 1, length: 1 }],
    object: [null, true, 0, 'abc', '', [], [{}]],
    null: [true, 0, 'null', [], {}],
  };
  const type = original === null ? 'null' : Array.isArray(original) ? 'array' : typeof original;
  return r.pick(byType[type] ?? byType.object!);
}

/** An own, enumerable property, even for "__proto__" (so JSON.stringify sends it as a key). */
function setOwn(o: Json, key: string, value: unknown): void {
  Object.defineProperty(o, key, { value, enumerable: true, writable: true, configurable: true });
}

/** Mutations that each make a valid batch invalid (never a no-op). */
function breakBatch(r: Rng, b: Json, kind: Kind): string {
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
      b[f] = wrongTypeFor(r, b[f]);
      return `wrong type ${f}`;
    },
    () => {
      const f = r.pick(Object.keys(item));
      item[f] = wrongTypeFor(r, item[f]);
      return `wrong type items.${f}`;
    },
    () => ((b.batch_id = r.pick(['not-a-uuid', '00000000-0000-0000-0000-00000000000g', crypto.randomUUID().toUpperCase() + 'x'])), 'bad batch_id'),
    () => ((b.client_id = r.pick(['short', 'x'.repeat(65), 'has spaces in it!!', 'ünïcödé-ünïcödé-ü'])), 'bad client_id'),
    () => ((b.model_version = r.pick(['1.0', 'v1.0.0', '01.0.0', '1.0.0+build', '../11.0.0', '11.0.0/..'])), 'bad model_version'),
    () => ((b.model_version = '12.3.4'), 'unpublished model_version'),
    () => ((b.consent = r.pick(['all', 'TEXT', 'none', 1, kind === 'aggregates' ? 'text' : 'stats'])), 'bad consent'),
    () => ((b.items = []), 'empty items'),
    () => (setOwn(b, r.pick(HOSTILE_KEYS), { polluted: true }), 'hostile top-level key'),
    () => (setOwn(item, r.pick(HOSTILE_KEYS), { polluted: true }), 'hostile item key'),
    () => ((b.extension_version = 'x'.repeat(33)), 'extension_version too long'),
    () => {
      const field = kind === 'aggregates' ? r.pick(['hour_from', 'hour_to']) : 'ts';
      item[field] = r.pick([1.5, '2026-01-01', 0, 9e15, hourFloor(Date.now()) + 1234, hourFloor(Date.now()) - 30 * 86_400_000, hourFloor(Date.now()) + 2 * 86_400_000]);
      return `bad ${field}`;
    },
  ];
  if (kind === 'samples') {
    ops.push(
      () => ((item.label = r.pick(['Positive', 'happy', '', null, 2])), 'bad label'),
      () => ((item.score = r.pick([-0.01, 1.01, '0.5', null, 1e9])), 'bad score'),
      () => (
        (item.probs = r.pick([
          [0.5, 0.5],
          [0.6, 0.6, 0.6],
          [-0.2, 0.6, 0.6],
          ['a', 'b', 'c'],
        ])),
        'bad probs'
      ),
      () => ((item.lang = r.pick(['english', 'EN', 'e', 'en_US!', 42])), 'bad lang'),
      () => ((item.tokens = [1, 2, 3]), 'per-comment tokens'),
      () => ((item.video_id = r.pick(['short', 'has/slash/123', 'x'.repeat(12)])), 'bad video_id'),
      () => ((item.text = ''), 'empty text'),
      () => (delete item.text, 'no text'),
    );
  } else if (kind === 'feedback') {
    ops.push(
      () => ((b.consent = 'stats'), 'feedback with consent stats'),
      () => (delete item[r.pick(['text', 'predicted', 'corrected', 'ts'])], 'feedback item missing field'),
      () => ((item.corrected = r.pick(['meh', null, 3])), 'bad corrected'),
      () => ((item.score = r.pick([2, -1, 'high'])), 'bad feedback score'),
    );
  } else {
    ops.push(
      () => ((item.n = r.pick([0, 9, -1, 20_001, 1.5])), 'bad n'),
      () => (
        (item.label_counts = r.pick([
          [1, 2],
          [1, 2, 3, 4],
          [-1, 0, 1],
        ])),
        'bad label_counts'
      ),
      () => {
        const counts = item.confidence_counts as number[];
        counts[r.int(0, counts.length - 1)]! += r.int(1, 5);
        return 'confidence_counts do not add up';
      },
      () => {
        const languages = item.languages;
        // An earlier mutation may have replaced the object already: then a string breaks it too.
        if (typeof languages === 'object' && languages !== null && !Array.isArray(languages)) setOwn(languages as Json, r.pick(['__proto__', 'english', 'EN', '']), 1);
        else item.languages = 'en';
        return 'bad language key';
      },
      () => ((item.token_n = (item.n as number) + 1), 'token_n over n'),
      () => ((item.hour_to = item.hour_from), 'empty hour range'),
      () => (delete item[r.pick(['hour_from', 'hour_to', 'n', 'label_counts', 'confidence_counts', 'languages', 'token_n', 'token_counts'])], 'aggregate missing field'),
    );
  }
  const n = r.int(1, 3);
  return Array.from({ length: n }, () => r.pick(ops)()).join(' + ');
}

function nested(depth: number, open: string, close: string): string {
  return open.repeat(depth) + close.repeat(depth);
}

/** A body of `bytes` bytes streamed without Content-Length (chunked): only the count while reading stops it. */
function streamOf(bytes: number): () => ReadableStream<Uint8Array> {
  return () => {
    let sent = 0;
    const chunk = enc.encode('x'.repeat(16 * 1024));
    return new ReadableStream<Uint8Array>({
      pull(controller) {
        if (sent >= bytes) return controller.close();
        controller.enqueue(chunk);
        sent += chunk.byteLength;
      },
    });
  };
}

/** Whole bodies that are not a JSON document of the right shape, or are too big. */
function hostileBody(r: Rng, valid: Json): [string, string | Uint8Array | (() => ReadableStream<Uint8Array>)] {
  const text = JSON.stringify(valid);
  const first = Array.isArray(valid.items) ? (valid.items[0] as Json) : { label: 'neutral', score: 0.5, ts: hourFloor(Date.now()) };
  // A rewrite that finds nothing to rewrite in this document must not leave it valid.
  const rewritten = (label: string, out: string): [string, string] => (out === text ? ['truncated JSON', text.slice(0, -1)] : [label, out]);
  const options: Array<() => [string, string | Uint8Array | (() => ReadableStream<Uint8Array>)]> = [
    () => ['truncated JSON', text.slice(0, r.int(0, text.length - 1))],
    () => ['trailing garbage', text + r.pick(['x', '}', ',', ' {}'])],
    () => rewritten('NaN literal', text.replace(/"(ts|hour_from|n)":\d+/, '"$1":NaN')),
    () => rewritten('Infinity literal', text.replace(/"(ts|hour_from|n)":\d+/, '"$1":1e400')),
    () => ['top-level non-object', r.pick(['[]', '"str"', '42', 'null', 'true', `[${text}]`])],
    () => ['deep array nesting', nested(r.int(1000, 30_000), '[', ']')],
    () => {
      const depth = r.int(500, 5000);
      return ['deep object nesting', '{"a":'.repeat(depth) + '1' + '}'.repeat(depth)];
    },
    () => rewritten('deep nesting in a field', text.replace(/^\{/, `{"deep":${nested(r.int(100, 3000), '[', ']')},`)),
    () => {
      const bytes = enc.encode(text);
      const out = new Uint8Array(bytes.length + 2);
      const at = r.int(1, bytes.length - 1);
      out.set(bytes.slice(0, at));
      out.set(
        r.pick([
          [0xff, 0xfe],
          [0xc3, 0x28],
          [0xed, 0xa0],
          [0xf8, 0x88],
        ]),
        at,
      );
      out.set(bytes.slice(at), at + 2);
      return ['invalid UTF-8', out];
    },
    // JSON.parse keeps the last of duplicate keys: a valid first value must not hide an invalid last one.
    () => rewritten('duplicate key, invalid last', text.replace(/"(consent|format)":"([a-z-]+)"/, '"$1":"$2","$1":"bogus"')),
    () => ['UTF-16 encoded', new Uint8Array(new Uint16Array([...text].map((c) => c.charCodeAt(0))).buffer)],
    () => ['empty body', ''],
    () => ['whitespace body', ' \n\t '],
    () => ['huge string in a field', JSON.stringify({ ...valid, extension_version: 'x'.repeat(r.int(33, 60_000)) })],
    () => ['body over 64 KB', JSON.stringify({ ...valid, items: 'x'.repeat(LIMITS.body_bytes) })],
    () => ['streamed body over 64 KB', streamOf(LIMITS.body_bytes + r.int(1, 200_000))],
    () => ['too many items', JSON.stringify({ ...valid, items: Array.from({ length: r.int(101, 400) }, () => first) })],
    () => ['text over 2 KB', JSON.stringify({ ...valid, items: [{ ...first, text: r.pick(['a', 'é', '😀']).repeat(2100) }] })],
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
    () => (setOwn(m, '__proto__', { polluted: true }), 'hostile manifest key'),
  ];
  const label = Array.from({ length: r.int(1, 2) }, () => r.pick(ops)()).join(' + ');
  return [label, JSON.stringify(m)];
}

/** CF-Connecting-IP: a fresh valid address mostly, sometimes garbage (keyed as "unknown", never a 5xx). */
function connectingIp(r: Rng, i: number): string {
  if (r.chance(0.9)) return r.chance(0.5) ? `203.${i >> 16}.${(i >> 8) & 0xff}.${i & 0xff}` : `2001:db8:${i.toString(16)}::${r.int(1, 0xffff).toString(16)}`;
  return r.pick(['', 'not-an-ip', '999.1.1.1', '1.2.3.4, 5.6.7.8', '::ffff:300.1.1.1', 'fe80::1%eth0', ':::', '1:2:3:4:5:6:7:8:9', 'x'.repeat(2000), '%00', '2001:db8::g']);
}

type Role = keyof typeof TOKENS;
type AuthStyle = 'valid' | 'none' | 'wrong' | 'other-role' | 'malformed';

function authHeaders(r: Rng, role: Role, style: AuthStyle): Record<string, string> {
  if (style === 'valid') return auth(role);
  if (style === 'none') return {};
  if (style === 'other-role') return auth(r.pick((Object.keys(TOKENS) as Role[]).filter((x) => x !== role)));
  if (style === 'wrong') return { Authorization: `Bearer ${r.pick([TOKENS[role].slice(1) + 'Z', TOKENS[role] + 'x', TOKENS[role].toUpperCase(), 'x'.repeat(32)])}` };
  return { Authorization: r.pick(['Bearer', `Basic ${TOKENS[role]}`, TOKENS[role], 'Bearer a b', `Bearer ${TOKENS[role]}~`, `Bearer\t${TOKENS[role]}`, 'Bearer ' + 'A'.repeat(10_000)]) };
}

function generate(r: Rng, bundle: Bundle, i: number): Case {
  const route = r.pick(['samples', 'samples', 'feedback', 'feedback', 'aggregates', 'aggregates', 'manifest', 'file', 'promote', 'rollback', 'read', 'read'] as const);
  const json = { 'Content-Type': 'application/json' };
  const withIp = (c: Case): Case => ({ ...c, headers: { 'CF-Connecting-IP': connectingIp(r, i), ...c.headers } });
  if (route === 'samples' || route === 'feedback' || route === 'aggregates') {
    const path = `/v1/${route}`;
    const valid = validBatch(r, route);
    const style = r.int(0, 9);
    if (style <= 4) {
      const label = breakBatch(r, valid, route);
      return withIp({ label: `${route}: ${label}`, method: 'POST', path, headers: json, body: JSON.stringify(valid) });
    }
    if (style <= 7) {
      const [label, body] = hostileBody(r, valid);
      return withIp({ label: `${route}: ${label}`, method: 'POST', path, headers: json, body });
    }
    if (style === 8) {
      // A *valid* batch with the wrong content type must still be refused and not stored.
      const ct = r.pick(['text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data', 'application/xml', 'application/jsonx', 'json', '']);
      return withIp({ label: `${route}: valid body as ${ct || '(no type)'}`, method: 'POST', path, headers: ct ? { 'Content-Type': ct } : {}, body: JSON.stringify(valid) });
    }
    return withIp({ label: `${route}: wrong method`, method: r.pick(['PUT', 'DELETE', 'PATCH']), path, headers: json, body: JSON.stringify(valid) });
  }
  if (route === 'read') {
    // Routes behind the read token, and the public drift report, with a bad token or a bad query.
    const target = r.pick([
      ['/metrics', ''],
      ['/dashboard', r.pick(['hours=0', 'hours=169', 'hours=-1', 'hours=1e3', 'hours=' + '9'.repeat(30), 'model_version=<script>', 'model_version=11.0', 'hours=%00'])],
      ['/v1/drift/history', r.pick(['limit=0', 'limit=169', 'limit=2000', 'limit=x', 'model_version=../x', 'model_version=11.0.0&limit=-5'])],
      ['/v1/drift/alerts', r.pick(['limit=0', 'limit=101', 'limit=abc', 'model_version=%2e%2e'])],
      [
        '/v1/admin/export',
        r.pick([
          'kind=everything',
          'kind=samples&model_version=x',
          'kind=samples&model_version=11.0.0&from=2026',
          'kind=feedback&model_version=11.0.0&from=2026-01-02T00&to=2026-01-01T00',
          'kind=samples&model_version=11.0.0&from=2000-01-01T00&to=2026-01-01T00',
          'kind=corrections&min_clients=0',
          'kind=corrections&min_clients=1001',
          'kind=corrections&min_clients=two',
        ]),
      ],
      ['/v1/drift', r.pick(['window=0', 'window=169', 'window=721', 'window=24x', 'window=-1h', 'model_version=latest', 'model_version=12.3.4'])],
    ] as const);
    const [path, query] = target;
    const publicRoute = path === '/v1/drift';
    // Valid token only with an invalid query (and never on /metrics, which has no query to break).
    const style: AuthStyle = path === '/metrics' ? r.pick(['none', 'wrong', 'other-role', 'malformed'] as const) : r.pick(['valid', 'valid', 'none', 'wrong', 'other-role', 'malformed'] as const);
    const headers = publicRoute ? {} : style === 'valid' || r.chance(0.8) ? authHeaders(r, 'read', style) : { Authorization: `Basic ${btoa(`x:${TOKENS.read}x`)}` };
    return withIp({ label: `GET ${path}?${query} (${publicRoute ? 'public' : style})`, method: 'GET', path: `${path}${query ? `?${query}` : ''}`, headers });
  }
  const role: Role = route === 'manifest' || route === 'file' ? 'publish' : 'promote';
  const style = r.pick(['valid', 'valid', 'valid', 'none', 'wrong', 'other-role', 'malformed'] as const);
  const headers = authHeaders(r, role, style);
  if (route === 'manifest') {
    const version = r.chance(0.8) ? '11.0.0' : r.pick(['11.0', 'latest', '11.0.0-', 'x'.repeat(300), '%2e%2e']);
    const kind = r.int(0, 19);
    if (kind <= 14) {
      // '11.0.0' is published: a changed manifest for it is a 409 at best, never a write.
      const [label, body] = badManifest(r, bundle);
      return withIp({ label: `manifest (${style}): ${label}`, method: 'PUT', path: `/v1/models/${version}`, headers: { ...headers, ...json }, body });
    }
    if (kind <= 18) {
      const [label, body] = hostileBody(r, JSON.parse(bundle.manifestText) as Json);
      return withIp({ label: `manifest (${style}): ${label}`, method: 'PUT', path: `/v1/models/${version}`, headers: { ...headers, ...json }, body });
    }
    return withIp({ label: `manifest (${style}): over 1 MiB`, method: 'PUT', path: `/v1/models/${version}`, headers: { ...headers, ...json }, body: JSON.stringify({ pad: 'x'.repeat(1024 * 1024) }) });
  }
  if (route === 'file') {
    const version = r.pick(['11.0.0', '11.9.9', '11.0', 'x']);
    const path = r.pick(['model.onnx', 'other.bin', '%2e%2e%2Fescape', 'a%5Cb', 'dir/%00', 'x'.repeat(250)]);
    const body = r.pick([new Uint8Array(0), new Uint8Array(r.int(1, 5000)), enc.encode('{"not":"a model"}')]);
    return withIp({ label: `file (${style}) ${version}/${path}`, method: 'PUT', path: `/v1/models/${version}/files/${path}`, headers, body });
  }
  if (route === 'promote') {
    const channel = r.pick(['stable', 'beta', 'Stable', '-x', 'x'.repeat(40), 'a_b']);
    const body = r.pick<unknown>([{}, { version: 1 }, { version: 'latest' }, { version: '11.9.9' }, { version: V, extra: 1 }, [V], null, 'x', { __proto__: { version: V } }]);
    const raw = r.chance(0.15) ? '{"version":' : JSON.stringify(body);
    return withIp({ label: `promote (${style}) ${channel} ${raw.slice(0, 40)}`, method: 'POST', path: `/v1/channels/${channel}`, headers: { ...headers, ...json }, body: raw });
  }
  const channel = r.pick(['stable', 'nope', 'Bad!']);
  return withIp({ label: `rollback (${style}) ${channel}`, method: 'POST', path: `/v1/channels/${channel}/rollback`, headers, body: r.chance(0.5) ? '{}' : undefined });
}

/**
 * The test bindings, but with request counters persisted at most every 100 ms instead of after
 * every request (10,000 requests would otherwise also mean 10,000 R2 writes of counters).
 */
const fuzzEnv = { ...testEnv, METRICS_FLUSH_MS: '100' };

let bundle: Bundle;
let modelsBefore: string[];
let telemetryBefore: string[];
let channelBefore: string;

/** Everything in TELEMETRY except the request counters (every request, refused or not, counts). */
async function telemetryKeys(): Promise<string[]> {
  return (await listKeys(testEnv.TELEMETRY)).filter((k) => !k.startsWith('metrics/'));
}

beforeAll(async () => {
  bundle = await makeBundle(V);
  expect((await publish(bundle, 'stable')).status).toBe(201);
  modelsBefore = await listKeys(testEnv.MODELS);
  telemetryBefore = await telemetryKeys();
  channelBefore = await (await testEnv.MODELS.get('channels/stable.json'))!.text();
});

describe('fuzzing the write routes and the operator routes', () => {
  it(`answers ${CASES} hostile requests with 4xx errors and stores nothing (seed ${SEED.toString(16)})`, async () => {
    const r = rng(SEED);
    const cases = Array.from({ length: CASES }, (_, i) => generate(r, bundle, i));
    const statuses = new Map<number, number>();
    const routes = new Map<string, number>();
    for (let start = 0; start < cases.length; start += CONCURRENCY) {
      const chunk = cases.slice(start, start + CONCURRENCY);
      const answers = await Promise.all(
        chunk.map(async (c) => {
          const body = typeof c.body === 'function' ? c.body() : c.body;
          const init: RequestInit & { duplex?: 'half' } = { method: c.method, headers: c.headers, body };
          if (body instanceof ReadableStream) init.duplex = 'half';
          const res = await call(c.path, init, fuzzEnv);
          return { res, text: await res.text() };
        }),
      );
      // Each request's ExecutionContext (and its timers) stays alive until awaited: let them finish
      // now and then instead of piling up 10,000 of them.
      if ((start / CONCURRENCY) % 64 === 63) await Promise.all(pendingContexts.splice(0));
      answers.forEach(({ res, text }, k) => {
        const c = chunk[k]!;
        const where = `case ${start + k} (seed ${SEED.toString(16)}): ${c.label} → ${res.status} ${text.slice(0, 300)}`;
        expect(res.status, where).toBeGreaterThanOrEqual(400);
        expect(res.status, where).toBeLessThan(500);
        const parsed = JSON.parse(text) as { error: { code: string; message: string } };
        expect(typeof parsed.error.code, where).toBe('string');
        statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
        const route = c.path.split('?')[0]!.split('/').slice(0, 3).join('/');
        routes.set(route, (routes.get(route) ?? 0) + 1);
      });
    }
    // The generator reached every kind of refusal and every route family.
    // (429: the garbage CF-Connecting-IP values share one "unknown" network key.)
    expect([...statuses.keys()].sort()).toEqual(expect.arrayContaining([400, 401, 404, 409, 413, 415, 429]));
    expect(routes.get('/v1/samples')! + routes.get('/v1/feedback')! + routes.get('/v1/aggregates')!).toBeGreaterThan(4000);
    expect(routes.get('/v1/models')).toBeGreaterThan(1200);
    expect(routes.get('/v1/channels')).toBeGreaterThan(1200);
    expect((routes.get('/metrics') ?? 0) + (routes.get('/dashboard') ?? 0) + routes.get('/v1/drift')! + routes.get('/v1/admin')!).toBeGreaterThan(1200);

    // Nothing stored.
    expect(await telemetryKeys()).toEqual(telemetryBefore);
    expect(await listKeys(testEnv.MODELS)).toEqual(modelsBefore);
    expect(await (await testEnv.MODELS.get('channels/stable.json'))!.text()).toBe(channelBefore);
    // No prototype pollution in the isolate that parsed all of it.
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(Object.prototype).not.toHaveProperty('polluted');
  });

  it('still accepts each kind of valid batch afterwards (the unmutated base documents are valid)', async () => {
    const r = rng(SEED + 1);
    for (const kind of ['samples', 'feedback', 'aggregates'] as const) {
      const res = await postJson(`/v1/${kind}`, validBatch(r, kind));
      expect(res.status, `${kind}: ${await res.clone().text()}`).toBe(202);
      await res.arrayBuffer();
    }
  });
});

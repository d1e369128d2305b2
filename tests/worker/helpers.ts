/**
 * Shared fixtures for the workerd tests: requests through the real Worker entry point, synthetic
 * model bundles with correct digests, telemetry batch builders, R2 listings.
 *
 * Storage is isolated per test file (and shared by the tests of one file); module state such as
 * the published-manifest cache lives per isolate, so every file uses its own model versions.
 */
import { rng } from '../../core/random.js';
import { createExecutionContext, createMessageBatch, createScheduledController, getQueueResult, waitOnExecutionContext } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { addToAggregate, emptyAggregate } from '../../core/aggregates.js';
import { CONFIDENCE_EDGES, histogram } from '../../core/drift.js';
import { LABELS } from '../../core/labels.js';
import { hourFloor, type AggregateItem } from '../../core/wire.js';
import { TOKEN_BUCKETS } from '../../core/token-buckets.js';
import worker from '../../worker/index.js';
import { getHourStates, laneOf } from '../../worker/telemetry/lanes.js';
import type { Env } from '../../worker/env.js';

/** Same values as the bindings in vitest.config.mts: one token per role. */
export const TOKENS = {
  publish: 'test-publish-token-0123456789abcdef',
  promote: 'test-promote-token-0123456789abcdef',
  read: 'test-read-token-0123456789abcdef0123',
} as const;
export const WEBHOOK_SECRET = 'test-webhook-secret-0123456789abcdef';
export const ALLOWED_ORIGIN = 'chrome-extension://abcdefghijklmnopabcdefghijklmnop';
export const BASE = 'http://ytsent.test';

/** The bindings of wrangler.toml (real queues: what is sent to INGEST_<n> is delivered by miniflare). */
export const realEnv = env as unknown as Env & { WEBHOOK_LOG: R2Bucket };

/**
 * A queue producer that keeps what is sent, so a test decides when the consumer runs
 * ({@link deliverIngest}, through the Worker's real queue handler with createMessageBatch). The
 * real queues are exercised by tests/worker/ingest.test.ts and the wrangler tests.
 */
class HeldQueue {
  constructor(readonly name: string) {}
  async send(body: unknown): Promise<void> {
    // Structured clone, like the v8 content type the Worker sends with.
    held.push({ queue: this.name, body: structuredClone(body) });
  }
  async sendBatch(messages: Iterable<{ body: unknown }>): Promise<void> {
    for (const m of messages) await this.send(m.body);
  }
}

/** Messages sent and not yet delivered (cleared after every test by setup.ts). */
export const held: Array<{ queue: string; body: unknown }> = [];

/** The Worker's bindings with held queues: what every request of {@link call} uses by default. */
export const testEnv = { ...realEnv, INGEST_0: new HeldQueue('ytsent-ingest-0'), INGEST_1: new HeldQueue('ytsent-ingest-1') } as unknown as Env & { WEBHOOK_LOG: R2Bucket };

let messageCounter = 0;

/**
 * Runs the Worker's queue handler over every held message (per queue, up to 100 per delivery, as
 * wrangler.toml's max_batch_size), `times` times over (a redelivery), and returns each delivery's
 * ack/retry result. `extra` adds raw messages (e.g. ones that are not ingest messages).
 */
export async function deliverIngest(options: { times?: number; extra?: Array<{ queue: string; body: unknown }>; e?: Env } = {}) {
  const pending = [...held.splice(0), ...(options.extra ?? [])];
  const results: Array<{ queue: string; ids: string[]; result: Awaited<ReturnType<typeof getQueueResult>>; threw?: unknown }> = [];
  const byQueue = new Map<string, unknown[]>();
  for (const m of pending) byQueue.set(m.queue, [...(byQueue.get(m.queue) ?? []), m.body]);
  for (let round = 0; round < (options.times ?? 1); round++) {
    for (const [queue, bodies] of byQueue) {
      for (let i = 0; i < bodies.length; i += 100) {
        const messages = bodies.slice(i, i + 100).map((body) => ({ id: `m${++messageCounter}`, timestamp: new Date(0), attempts: round + 1, body }));
        const batch = createMessageBatch(queue, messages);
        const ctx = createExecutionContext();
        let threw: unknown;
        try {
          await worker.queue!(batch, options.e ?? testEnv, ctx);
        } catch (e) {
          // What the platform does with a handler that throws: retry every message not acknowledged.
          threw = e;
        }
        results.push({ queue, ids: messages.map((m) => m.id), result: await getQueueResult(batch, ctx), ...(threw === undefined ? {} : { threw }) });
      }
    }
  }
  return results;
}

export const HOUR_MS = 3_600_000;

/** `waitUntil` work of requests made by {@link call}, awaited after each test (setup.ts). */
export const pendingContexts: Array<Promise<void>> = [];

/**
 * A request through the Worker's fetch handler (Hono app, real bindings), called directly with
 * its own ExecutionContext. (Going through `exports.default.fetch` gets slower with every request
 * in this pool version, about quadratically: a 1,200-request fuzz run would take minutes.)
 */
export async function call(path: string, init: RequestInit = {}, e: Env = testEnv): Promise<Response> {
  // Any request but another batch first lets the consumers store what is queued, as they would
  // within seconds in production. A test that looks at the queued, not yet stored state reads R2
  // directly, and one that needs copies or redeliveries calls deliverIngest itself.
  if (held.length > 0 && !INGEST_PATHS.has(path)) await deliverIngest();
  const ctx = createExecutionContext();
  // What an HTTP client sends for a body of known length (a directly constructed Request has none).
  const headers = new Headers(init.headers);
  // What Cloudflare adds: a fresh address per request unless the test sets one, so the per-network
  // rate limit only applies where a test means it to.
  if (!headers.has('cf-connecting-ip')) headers.set('cf-connecting-ip', nextAddress());
  const body = init.body;
  if (!headers.has('content-length') && (typeof body === 'string' || body instanceof Uint8Array || body instanceof ArrayBuffer)) {
    headers.set('content-length', String(typeof body === 'string' ? new TextEncoder().encode(body).byteLength : body.byteLength));
  }
  const res = await worker.fetch(new Request(BASE + path, { ...init, headers }), e, ctx);
  pendingContexts.push(waitOnExecutionContext(ctx));
  return res;
}

export async function callJson<T = Record<string, unknown>>(path: string, init: RequestInit = {}): Promise<{ res: Response; body: T }> {
  const res = await call(path, init);
  const text = await res.text();
  return { res, body: (text ? JSON.parse(text) : null) as T };
}

const INGEST_PATHS = new Set(['/v1/samples', '/v1/feedback', '/v1/aggregates']);

let addressCounter = 0;
/** A distinct IPv4 address per call (198.18.0.0/15, the benchmarking range). */
export function nextAddress(): string {
  addressCounter++;
  return `198.${18 + ((addressCounter >> 16) & 1)}.${(addressCounter >> 8) & 0xff}.${addressCounter & 0xff}`;
}

/** Authorization headers for one role's token (plus `extra`). */
export const auth = (role: keyof typeof TOKENS, extra: Record<string, string> = {}): Record<string, string> => ({ Authorization: `Bearer ${TOKENS[role]}`, ...extra });
export const publisher = (extra: Record<string, string> = {}) => auth('publish', extra);
export const promoter = (extra: Record<string, string> = {}) => auth('promote', extra);
export const reader = (extra: Record<string, string> = {}) => auth('read', extra);

export function postJson(path: string, body: unknown, headers: Record<string, string> = {}): Promise<Response> {
  return call(path, { method: 'POST', headers: { 'Content-Type': 'application/json', ...headers }, body: typeof body === 'string' ? body : JSON.stringify(body) });
}

export async function sha256Hex(data: Uint8Array | string): Promise<string> {
  const bytes = typeof data === 'string' ? new TextEncoder().encode(data) : data;
  return [...new Uint8Array(await crypto.subtle.digest('SHA-256', bytes))].map((b) => b.toString(16).padStart(2, '0')).join('');
}

/** Deterministic pseudo-random bytes (the project's seeded generator) so bundles are reproducible. */
export function pseudoRandomBytes(n: number, seed = 1): Uint8Array {
  const random = rng(seed);
  return Uint8Array.from({ length: n }, () => Math.floor(random() * 256));
}

// ---------------------------------------------------------------------------------------------
// Drift fixtures: a population of items whose histograms *are* the manifest's reference, so data
// "built not to drift" can reproduce it exactly and data "built to drift" can move away from it.

export type ProtoItem = {
  label: (typeof LABELS)[number];
  score: number;
  /** Optional: a population without tokens exercises the skipped token test. */
  tokens?: number[];
  lang: string;
};

/** 300 items: labels 20/30/50 %, confident scores (0.55-0.95), tokens in buckets 0-63. */
export function referencePopulation(): ProtoItem[] {
  const items: ProtoItem[] = [];
  for (let i = 0; i < 300; i++) {
    const label = i % 10 < 2 ? 'negative' : i % 10 < 5 ? 'neutral' : 'positive';
    const score = 0.55 + ((i * 37) % 41) / 100; // 0.55 .. 0.95
    const tokens = [i % 64, (i * 7 + 3) % 64, (i * 13 + 5) % 64].filter((t, k, a) => a.indexOf(t) === k).sort((a, b) => a - b);
    items.push({ label, score: Math.round(score * 1000) / 1000, tokens, lang: i % 3 === 0 ? 'de' : 'en' });
  }
  return items;
}

/** Mostly negative, unsure (0.34-0.5) and about other things (buckets 128-255): clear drift. */
export function driftedPopulation(n = 300): ProtoItem[] {
  const items: ProtoItem[] = [];
  for (let i = 0; i < n; i++) {
    const label = i % 10 < 7 ? 'negative' : i % 10 < 9 ? 'neutral' : 'positive';
    items.push({ label, score: 0.34 + ((i * 17) % 17) / 100, tokens: [128 + (i % 128), 128 + ((i * 5 + 1) % 128)].filter((t, k, a) => a.indexOf(t) === k).sort((a, b) => a - b), lang: 'es' });
  }
  return items;
}

export function referenceOf(items: ProtoItem[]) {
  const labelCounts = LABELS.map((l) => items.filter((i) => i.label === l).length);
  const tokenCounts = new Array<number>(TOKEN_BUCKETS).fill(0);
  for (const i of items) for (const t of i.tokens ?? []) tokenCounts[t]!++;
  return {
    source: 'synthetic test population',
    n: items.length,
    label_shares: labelCounts.map((c) => c / items.length),
    confidence_hist: {
      edges: [...CONFIDENCE_EDGES],
      counts: histogram(
        items.map((i) => i.score),
        CONFIDENCE_EDGES,
      ),
    },
    token_hist: { buckets: TOKEN_BUCKETS, counts: tokenCounts },
  };
}

// ---------------------------------------------------------------------------------------------
// Model bundles

export interface Bundle {
  version: string;
  manifest: Record<string, unknown>;
  manifestText: string;
  files: Record<string, Uint8Array>;
}

export async function makeBundle(version: string, options: { files?: Record<string, Uint8Array>; reference?: unknown; name?: string } = {}): Promise<Bundle> {
  // Each version gets its own bytes (content-addressed storage would otherwise share them).
  const seed = [...version].reduce((h, ch) => Math.imul(h ^ ch.charCodeAt(0), 16777619) >>> 0, 2166136261);
  const files = options.files ?? { 'model.onnx': pseudoRandomBytes(4096 + (seed % 512), seed) };
  const fileEntries = await Promise.all(Object.entries(files).map(async ([path, bytes]) => ({ path, sha256: await sha256Hex(bytes), bytes: bytes.byteLength })));
  const manifest: Record<string, unknown> = {
    name: options.name ?? 'ytsent-test',
    version,
    created_at: '2026-01-01T00:00:00.000Z',
    format: 'ngram-onnx',
    labels: [...LABELS],
    files: fileEntries,
    metrics: { test: { n: 10, accuracy: 0.9, macro_f1: 0.9, macro_recall: 0.9 } },
    ...(options.reference === null ? {} : { reference: options.reference ?? referenceOf(referencePopulation()) }),
    golden: [{ text: 'great video', probs: [0.1, 0.1, 0.8] }],
    featurizer: {
      id: 'ytsent-hashed-ngrams/v1+norm1',
      config: {
        buckets: 65536,
        seed: 1,
        word_ngrams: 2,
        char_ngrams: [2, 5],
        weights: { unigram: 1, bigram: 1, trigram: 1, char: 1, flag: 1, lexicon: 1 },
        lexicon: true,
        max_chars: 2000,
      },
    },
    model: {
      file: fileEntries[0]!.path,
      opset: 13,
      inputs: [{ name: 'feature_ids', dtype: 'int32', shape: ['batch', 'features'] }],
      outputs: [{ name: 'probs', dtype: 'float32', shape: ['batch', 3] }],
      quantization: 'int8',
    },
  };
  return { version, manifest, manifestText: JSON.stringify(manifest, null, 2) + '\n', files };
}

export function putManifest(bundle: Bundle, text = bundle.manifestText, headers: Record<string, string> = publisher()): Promise<Response> {
  return call(`/v1/models/${bundle.version}`, { method: 'PUT', headers: { 'Content-Type': 'application/json', ...headers }, body: text });
}

export function putFile(version: string, path: string, bytes: Uint8Array, headers: Record<string, string> = publisher()): Promise<Response> {
  return call(`/v1/models/${version}/files/${path}`, { method: 'PUT', headers: { 'Content-Type': 'application/octet-stream', ...headers }, body: bytes });
}

/** The whole protocol: manifest, missing files, manifest again. Asserts nothing; returns the final response. */
export async function publish(bundle: Bundle, channel?: string): Promise<Response> {
  const first = await putManifest(bundle);
  if (first.status === 202) {
    const { missing } = (await first.json()) as { missing: Array<{ path: string }> };
    for (const f of missing) {
      const r = await putFile(bundle.version, f.path, bundle.files[f.path]!);
      if (r.status !== 201) throw new Error(`upload ${f.path}: ${r.status} ${await r.text()}`);
    }
  } else {
    await first.arrayBuffer();
  }
  const final = first.status === 202 ? await putManifest(bundle) : first;
  if (channel) {
    const p = await postJson(`/v1/channels/${channel}`, { version: bundle.version }, promoter());
    if (p.status !== 200) throw new Error(`promote: ${p.status} ${await p.text()}`);
  }
  return final;
}

// ---------------------------------------------------------------------------------------------
// Telemetry

let clientCounter = 0;
/** A fresh anonymous client id (the rate limit is per client id). */
export function clientId(): string {
  clientCounter++;
  return `client-${String(clientCounter).padStart(6, '0')}-${crypto.randomUUID().slice(0, 8)}`;
}

/** A per-comment samples batch (consent "text"; every item has a text and an hour-aligned ts). */
export function samplesBatch(modelVersion: string, items: Array<Record<string, unknown>>, extra: Record<string, unknown> = {}) {
  const hour = hourFloor(Date.now());
  return {
    batch_id: crypto.randomUUID(),
    client_id: clientId(),
    model_version: modelVersion,
    extension_version: '0.1.0',
    consent: 'text',
    items: items.map((i) => ({ label: 'positive', score: 0.9, ts: hour, text: 'a comment', ...i })),
    ...extra,
  };
}

/** The on-device aggregate of `items`, for the hour before the current one (an ended hour). */
export function aggregateOf(items: readonly ProtoItem[], hourFrom = hourFloor(Date.now()) - HOUR_MS): AggregateItem {
  const agg = emptyAggregate(hourFrom);
  for (const i of items) {
    if (!addToAggregate(agg, { label: i.label, confidence: i.score, lang: i.lang, tokens: i.tokens ?? [] }, hourFrom)) throw new Error('item not counted');
  }
  return agg;
}

/** An aggregates batch (consent "stats"). */
export function aggregatesBatch(modelVersion: string, items: Array<Record<string, unknown>>, extra: Record<string, unknown> = {}) {
  return {
    batch_id: crypto.randomUUID(),
    client_id: clientId(),
    model_version: modelVersion,
    extension_version: '0.1.0',
    consent: 'stats',
    items,
    ...extra,
  };
}

/**
 * Sends `items` as on-device aggregates of at most 100 comments, one aggregate per batch (as one
 * install per hour would); every batch must be accepted (202). Returns the comments counted.
 */
export async function sendItems(modelVersion: string, items: readonly ProtoItem[]): Promise<number> {
  let counted = 0;
  for (let i = 0; i < items.length; i += 100) {
    const agg = aggregateOf(items.slice(i, i + 100));
    const res = await postJson('/v1/aggregates', aggregatesBatch(modelVersion, [agg]));
    const body = (await res.json()) as { accepted: number };
    if (res.status !== 202) throw new Error(`batch rejected: ${res.status} ${JSON.stringify(body)}`);
    counted += agg.n;
  }
  return counted;
}

/**
 * Stored telemetry as the lanes name it (telemetry/lanes.ts): per stored line its segment's key
 * and the parsed line, lane by lane, of `hours` (default: the previous and the current hour).
 */
export async function storedLines(
  filter: { kind?: 'aggregates' | 'samples' | 'feedback'; batchId?: string } = {},
  hours?: string[],
): Promise<Array<{ key: string; lane: number; line: Record<string, unknown> }>> {
  const now = Date.now();
  const out: Array<{ key: string; lane: number; line: Record<string, unknown> }> = [];
  for (const hour of hours ?? [currentHourKey(now - HOUR_MS), currentHourKey(now)]) {
    for (const { lane, state } of await getHourStates(testEnv.TELEMETRY, hour, 2)) {
      for (const segment of state.segments) {
        if (filter.kind && segment.kind !== filter.kind) continue;
        const object = await testEnv.TELEMETRY.get(segment.key);
        if (!object) throw new Error(`segment ${segment.key} is missing`);
        const text = await object.text();
        if (!text.endsWith('\n')) throw new Error(`segment ${segment.key} does not end with a newline`);
        for (const l of text.trim().split('\n')) {
          const line = JSON.parse(l) as Record<string, unknown>;
          if (filter.batchId === undefined || line.batch_id === filter.batchId) out.push({ key: segment.key, lane, line });
        }
      }
    }
  }
  return out;
}

/**
 * Stores `rows` of `kind` and `version` as received in the hour starting at `hourMs`, through the
 * real consumer (queue messages as the Worker would enqueue them, up to 100 rows each): for tests
 * that need data in hours other than the current one.
 */
export async function putRows(kind: 'aggregates' | 'samples' | 'feedback', version: string, hourMs: number, rows: Array<Record<string, unknown>>): Promise<void> {
  const extra: Array<{ queue: string; body: unknown }> = [];
  const hex = (n: number) => Array.from(crypto.getRandomValues(new Uint8Array(n / 2)), (b) => b.toString(16).padStart(2, '0')).join('');
  for (let i = 0; i < rows.length; i += 100) {
    const batchId = crypto.randomUUID();
    const consent = kind === 'aggregates' ? 'stats' : 'text';
    const chunk = rows.slice(i, i + 100);
    const body = {
      schema: 1,
      kind,
      batch_id: batchId,
      model_version: version,
      hour: currentHourKey(hourMs),
      sha256: hex(64),
      items: chunk.length,
      ndjson: chunk.map((r) => JSON.stringify({ batch_id: batchId, model_version: version, extension_version: '0.2.0', consent, ...r })).join('\n') + '\n',
      ...(kind === 'feedback' ? { votes: chunk.map(() => ({ h: hex(64), voter: hex(64), net: hex(16) })) } : {}),
    };
    extra.push({ queue: `ytsent-ingest-${laneOf(batchId, 2)}`, body });
  }
  const deliveries = await deliverIngest({ extra });
  for (const d of deliveries) if (d.threw !== undefined || d.result.retryBatch.retry || d.result.retryMessages.length > 0) throw new Error(`putRows: delivery to ${d.queue} was not acknowledged`);
}

export async function listKeys(bucket: R2Bucket, prefix = ''): Promise<string[]> {
  const keys: string[] = [];
  let cursor: string | undefined;
  for (;;) {
    const page = await bucket.list({ prefix, cursor });
    keys.push(...page.objects.map((o) => o.key));
    if (!page.truncated) return keys;
    cursor = page.cursor;
  }
}

/** Fires the Worker's scheduled handler for `scheduledTime` and waits for its waitUntil work. */
export async function runCron(scheduledTime: number, e: Env = testEnv): Promise<void> {
  // In production the consumers store a batch seconds after it was queued, long before the cron.
  if (held.length > 0) await deliverIngest();
  const ctx = createExecutionContext();
  await worker.scheduled(createScheduledController({ scheduledTime, cron: '5 * * * *' }), e, ctx);
  await waitOnExecutionContext(ctx);
}

/** Five minutes into the hour after the current one: the current hour is then complete. */
export function nextHourPlus5(now = Date.now()): number {
  return (Math.floor(now / HOUR_MS) + 1) * HOUR_MS + 5 * 60_000;
}

export function currentHourKey(now = Date.now()): string {
  return new Date(now).toISOString().slice(0, 13);
}

/**
 * Waits, if needed, until at least `marginMs` remain in the current hour, so samples sent by a
 * test land in one hourly partition (at most `marginMs` of waiting, about once in 120 runs).
 */
export async function awayFromHourEnd(marginMs = 30_000): Promise<void> {
  const left = HOUR_MS - (Date.now() % HOUR_MS);
  if (left < marginMs) await new Promise((r) => setTimeout(r, left + 1000));
}

/**
 * Waits, if needed, until at least `marginMs` remain in the current minute: miniflare's rate
 * limiter counts in fixed windows of wall-clock minutes, so a burst that straddles a boundary
 * would start counting afresh halfway.
 */
export async function awayFromMinuteEnd(marginMs = 5000): Promise<void> {
  const left = 60_000 - (Date.now() % 60_000);
  if (left < marginMs) await new Promise((r) => setTimeout(r, left + 50));
}

/**
 * Collecting feedback into snapshots (training/collect.ts, training/snapshot.ts): the cleaning
 * rules on their own, the content-addressed snapshot (same rows → same id, any change refused),
 * and a whole collect against a backend double (injected fetch): hourly resume from the cache,
 * the same snapshot id on a re-run, tokens never in URLs, clear errors for a bad token or an old
 * backend. The real backend's side is in tests/worker/blessing.test.ts and tests/wrangler/mlops.test.ts.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Label } from '../../core/labels.js';
import { buildRows, collect, CollectError, publicTextKeys, type RawCorrections } from '../../training/collect.js';
import { keyOf, splitFeedback } from '../../training/stages/preprocess.js';
import { resolveSnapshot, SnapshotError, verifySnapshot, writeSnapshot, type CorrectionRow, type SnapshotManifest } from '../../training/snapshot.js';
import { writeMiniData } from '../support/mini-data.js';

let tmp: string;
let data: string;
beforeAll(() => {
  tmp = mkdtempSync(join(tmpdir(), 'ytsent-collect-'));
  data = writeMiniData(join(tmp, 'data'));
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const HASH = (n: number) => n.toString(16).padStart(64, '0');
const line = (n: number, text: string, label: Label, extra: Record<string, unknown> = {}) => ({
  text_hash: HASH(n),
  text,
  label,
  support: 3,
  conflicting: 0,
  model_versions: ['2.0.0'],
  first_hour: '2026-03-01T10',
  last_hour: '2026-03-01T11',
  ...extra,
});
const raw = (lines: ReturnType<typeof line>[]): RawCorrections => ({ lines, minClients: 3, textsWithVotes: lines.length + 2, conflicted: 1, belowThreshold: 2 });

describe('cleaning rules (buildRows)', () => {
  it('scrubs again, drops public duplicates, merges agreeing variants, drops conflicting ones', () => {
    const { keys } = publicTextKeys(data);
    const publicText = readFileSync(join(data, 'youtube/comments.jsonl'), 'utf8').split('\n')[0]!;
    const pub = JSON.parse(publicText) as { text: string; label: Label };
    const other: Label = pub.label === 'negative' ? 'positive' : 'negative';
    const out = buildRows(
      raw([
        line(1, 'zorby stream, write me at someone@example.com', 'positive'),
        line(2, pub.text, other),
        // One training text (case, repeated letters) from two backend texts: merged.
        line(3, 'this edit is GLIMMOOO', 'positive', { support: 4, first_hour: '2026-03-01T12', last_hour: '2026-03-01T12', conflicting: 1 }),
        line(4, 'this edit is glimmoooo', 'positive', { first_hour: '2026-03-01T09', model_versions: ['1.0.0'] }),
        // Two backend texts that training cannot tell apart, labeled differently: both dropped.
        line(5, 'skronky build', 'negative'),
        line(6, 'SKRONKY   build', 'positive'),
      ]),
      [
        { text: 'who is here for the vashy part', predicted: 'neutral', lang: 'en', hour: '2026-03-01T11', model_version: '2.0.0' },
        { text: 'Who is here for the VASHY part', predicted: 'positive', lang: 'en', hour: '2026-03-01T10', model_version: '1.0.0' },
        { text: 'who is here for the vashy part', predicted: 'neutral', lang: null, hour: '2026-03-01T12', model_version: '2.0.0' },
        { text: pub.text, predicted: 'neutral', lang: 'en', hour: '2026-03-01T10', model_version: '2.0.0' },
      ],
      keys,
    );
    expect(keyOf('this edit is GLIMMOOO')).toBe(keyOf('this edit is glimmoooo'));
    expect(out.corrections.map((r) => [r.text_hash, r.text, r.label, r.support, r.conflicting, r.first_hour, r.last_hour, r.model_versions])).toEqual([
      [HASH(1), 'zorby stream, write me at [email]', 'positive', 3, 0, '2026-03-01T10', '2026-03-01T11', ['2.0.0']],
      [HASH(3), 'this edit is GLIMMOOO', 'positive', 4, 1, '2026-03-01T09', '2026-03-01T12', ['1.0.0', '2.0.0']],
    ]);
    expect(out.counts.corrections).toEqual({
      texts_with_votes: 8,
      conflicted_on_backend: 1,
      below_threshold: 2,
      exported: 6,
      rescrubbed: 1,
      public_duplicates: 1,
      public_label_disagreements: 1,
      merged: 1,
      conflicts_dropped: 2,
      kept: 2,
      labels: { negative: 0, neutral: 0, positive: 2 },
    });
    expect(out.samples).toEqual([{ kind: 'sample', text: 'Who is here for the VASHY part', predicted: 'neutral', lang: 'en', hour: '2026-03-01T10', count: 3, model_versions: ['1.0.0', '2.0.0'] }]);
    expect(out.counts.samples).toEqual({ exported: 4, rescrubbed: 0, public_duplicates: 1, merged: 2, kept: 1 });
  });
});

const manifestBase = (): Omit<SnapshotManifest, 'files'> => ({
  format: 'ytsent-feedback-snapshot/1',
  source: { backend: 'http://backend.test', range: { from: '2026-03-01T00', to: '2026-03-02T00' }, open_hours: false, min_clients: 3, model_versions: ['2.0.0'] },
  corrections: {
    texts_with_votes: 2,
    conflicted_on_backend: 0,
    below_threshold: 0,
    exported: 2,
    rescrubbed: 0,
    public_duplicates: 0,
    public_label_disagreements: 0,
    merged: 0,
    conflicts_dropped: 0,
    kept: 2,
    labels: { negative: 1, neutral: 0, positive: 1 },
  },
  samples: { exported: 0, rescrubbed: 0, public_duplicates: 0, merged: 0, kept: 0 },
  time_range: { first_hour: '2026-03-01T10', last_hour: '2026-03-01T11' },
  dedup: { key: 'test', public_data_sha256: HASH(9) },
});
const rows = (): CorrectionRow[] => [
  { kind: 'correction', ...line(1, 'zorby', 'positive') },
  { kind: 'correction', ...line(2, 'skronky', 'negative', { first_hour: '2026-03-01T08' }) },
];

describe('snapshots', () => {
  it('are named by their content: the same rows in any order give the same id, written once', () => {
    const root = join(tmp, 'snaps-a');
    const a = writeSnapshot(root, rows(), manifestBase());
    const b = writeSnapshot(root, [...rows()].reverse(), manifestBase());
    expect(a.id).toMatch(/^[0-9a-f]{64}$/);
    expect(b).toMatchObject({ id: a.id, created: false });
    expect(a.created).toBe(true);
    // Canonical order: by first hour, then text hash.
    expect(readFileSync(join(a.dir, 'rows.jsonl'), 'utf8').split('\n')[0]).toContain('"skronky"');
    const loaded = verifySnapshot(a.dir);
    expect(loaded.corrections.map((r) => r.text)).toEqual(['skronky', 'zorby']);
    expect(resolveSnapshot(a.id.slice(0, 10), root)).toBe(a.dir);
    expect(() => resolveSnapshot('ffffffff', root)).toThrow(/no snapshot ffffffff/);
    // Anything else in the manifest (here the backend) is another snapshot.
    const c = writeSnapshot(root, rows(), { ...manifestBase(), source: { ...manifestBase().source, backend: 'http://other.test' } });
    expect(c.id).not.toBe(a.id);
  });

  it('refuses a snapshot changed after it was written', () => {
    const root = join(tmp, 'snaps-b');
    const s = writeSnapshot(root, rows(), manifestBase());
    const rowsFile = join(s.dir, 'rows.jsonl');
    const original = readFileSync(rowsFile, 'utf8');
    writeFileSync(rowsFile, original.replace('"negative"', '"positive"'));
    expect(() => verifySnapshot(s.dir)).toThrow(/rows\.jsonl: does not match the sha256/);
    // Writing the same snapshot again does not paper over the damage.
    expect(() => writeSnapshot(root, rows(), manifestBase())).toThrow(SnapshotError);
    writeFileSync(rowsFile, original);
    const manifestFile = join(s.dir, 'manifest.json');
    writeFileSync(manifestFile, readFileSync(manifestFile, 'utf8').replace('"min_clients": 3', '"min_clients": 1'));
    expect(() => verifySnapshot(s.dir)).toThrow(/the snapshot was changed after it was written/);
  });

  it('holds out the newest corrections by the hour they were first given, ties by text hash', () => {
    const rs = Array.from({ length: 10 }, (_, i) => ({ text: `t${i}`, label: 'positive' as const, first_hour: `2026-03-01T${String(10 + (i % 3)).padStart(2, '0')}`, text_hash: HASH(100 - i) }));
    const [train, held] = splitFeedback(rs, 0.2, 0);
    expect(held.map((r) => r.text)).toEqual(['t5', 't2']);
    expect(train).toHaveLength(8);
    // At least min_rows; with fewer rows than that, all of them (nothing to train on).
    expect(splitFeedback(rs, 0.2, 4)[1].map((r) => r.text)).toEqual(['t1', 't8', 't5', 't2']);
    expect(splitFeedback(rs.slice(0, 3), 0.2, 20)[0]).toEqual([]);
  });
});

/** A backend double: the admin export and the model list, counting requests. */
function fakeBackend(opts: { corrections: object[]; samples: Record<string, object[]>; headers?: Record<string, string>; status?: number }) {
  const requests: string[] = [];
  const auth: Array<string | null> = [];
  const fetchFn = (async (input: string | URL | Request, init?: RequestInit) => {
    const url = new URL(String(input));
    requests.push(url.pathname + url.search);
    auth.push(new Headers(init?.headers).get('authorization'));
    if (opts.status) return new Response(JSON.stringify({ error: { code: 'unauthorized', message: 'no' } }), { status: opts.status });
    if (url.pathname === '/v1/models') return Response.json({ models: [{ version: '2.0.0' }, { version: '1.0.0' }] });
    const q = url.searchParams;
    if (q.get('kind') === 'corrections') {
      return new Response(opts.corrections.map((c) => JSON.stringify(c) + '\n').join(''), {
        headers: {
          'X-Corrections-Min-Clients': '3',
          'X-Corrections-Texts': String(opts.corrections.length),
          'X-Corrections-Agreed': String(opts.corrections.length),
          'X-Corrections-Conflicted': '0',
          'X-Corrections-Below-Threshold': '0',
          'X-Corrections-From': q.get('from') ?? '',
          'X-Corrections-To': q.get('to') ?? '',
          ...opts.headers,
        },
      });
    }
    const rowsOf = opts.samples[`${q.get('model_version')} ${q.get('from')}`] ?? [];
    return new Response(rowsOf.map((r) => JSON.stringify(r) + '\n').join(''));
  }) as typeof fetch;
  return { fetchFn, requests, auth };
}

const sample = (text: string, hour: string, version = '2.0.0') => ({
  batch_id: 'b',
  model_version: version,
  consent: 'text',
  received_at: `${hour}:00:00.000Z`,
  label: 'neutral',
  score: 0.5,
  ts: Date.parse(`${hour}:00:00.000Z`),
  text,
  lang: 'en',
});

describe('collect against a backend', () => {
  const corrections = [line(1, 'zorby stream', 'positive'), line(2, 'skronky edit', 'negative', { first_hour: '2026-03-01T11', last_hour: '2026-03-01T11' })];
  const samples = {
    '2.0.0 2026-03-01T10': [sample('glimmo part', '2026-03-01T10')],
    '2.0.0 2026-03-01T11': [sample('vashy drop', '2026-03-01T11'), sample('glimmo part', '2026-03-01T11')],
    '1.0.0 2026-03-01T11': [sample('old model comment', '2026-03-01T11', '1.0.0')],
  };
  const base = (fetchFn: typeof fetch, now: number, root: string) => ({
    backend: 'http://backend.test/',
    token: 'read-token-0123456789abcdef0123456789',
    from: '2026-03-01T10',
    to: '2026-03-01T12',
    dataDir: data,
    snapshotsRoot: join(root, 'snapshots'),
    cacheDir: join(root, 'cache'),
    now: () => now,
    fetch: fetchFn,
  });

  it('pulls each hour once, resumes from its cache, and gives the same snapshot on a re-run', async () => {
    const root = join(tmp, 'run-a');
    const after = Date.parse('2026-03-01T12:30:00Z');
    const first = fakeBackend({ corrections, samples });
    const a = await collect(base(first.fetchFn, after, root));
    expect(a.created).toBe(true);
    expect(a.hours).toEqual({ fetched: 4, cached: 0 });
    // Token in the header only, never in a URL.
    expect(first.auth.filter((x) => x !== null).every((x) => x === 'Bearer read-token-0123456789abcdef0123456789')).toBe(true);
    expect(first.requests.some((r) => r.includes('read-token'))).toBe(false);
    expect(first.requests[0]).toBe('/v1/admin/export?kind=corrections&from=2026-03-01T10&to=2026-03-01T12');
    expect(a.manifest).toMatchObject({
      source: { backend: 'http://backend.test', range: { from: '2026-03-01T10', to: '2026-03-01T12' }, open_hours: false, min_clients: 3, model_versions: ['1.0.0', '2.0.0'] },
      corrections: { kept: 2, labels: { negative: 1, neutral: 0, positive: 1 } },
      samples: { exported: 4, merged: 1, kept: 3 },
      time_range: { first_hour: '2026-03-01T10', last_hour: '2026-03-01T11' },
    });
    const second = fakeBackend({ corrections, samples });
    const b = await collect(base(second.fetchFn, after + 86_400_000, root));
    expect(b).toMatchObject({ id: a.id, created: false, hours: { fetched: 0, cached: 4 } });
    expect(second.requests.filter((r) => r.includes('kind=samples'))).toEqual([]);
    // From scratch elsewhere: byte for byte the same snapshot.
    const c = await collect(base(fakeBackend({ corrections, samples }).fetchFn, after, join(tmp, 'run-b')));
    expect(c.id).toBe(a.id);
    expect(readFileSync(join(c.dir, 'rows.jsonl'))).toEqual(readFileSync(join(a.dir, 'rows.jsonl')));
  });

  it('marks a range reaching into the open hour, and never caches that hour', async () => {
    const root = join(tmp, 'run-c');
    const during = Date.parse('2026-03-01T11:20:00Z');
    const r = await collect(base(fakeBackend({ corrections, samples }).fetchFn, during, root));
    expect(r.manifest.source.open_hours).toBe(true);
    expect(existsSync(join(root, 'cache'))).toBe(true);
    const again = fakeBackend({ corrections, samples });
    await collect(base(again.fetchFn, during, root));
    expect(again.requests.filter((x) => x.includes('kind=samples')).map((x) => new URLSearchParams(x.split('?')[1]).get('from'))).toEqual(['2026-03-01T11', '2026-03-01T11']);
  });

  it('says what is wrong: a refused token, an old backend, a bad range', async () => {
    const root = join(tmp, 'run-d');
    const after = Date.parse('2026-03-02T00:00:00Z');
    await expect(collect(base(fakeBackend({ corrections, samples, status: 401 }).fetchFn, after, root))).rejects.toThrow(/refused the read token/);
    await expect(collect(base(fakeBackend({ corrections, samples, headers: { 'X-Corrections-From': '' } }).fetchFn, after, root))).rejects.toThrow(/update the backend Worker/);
    await expect(collect({ ...base(fakeBackend({ corrections, samples }).fetchFn, after, root), to: '2026-03-01T10' })).rejects.toThrow(CollectError);
    await expect(collect({ ...base(fakeBackend({ corrections, samples }).fetchFn, after, root), from: '2026-03-01T25' })).rejects.toThrow(/not an hour/);
    await expect(collect({ ...base(fakeBackend({ corrections, samples }).fetchFn, after, root), backend: 'http://user:pw@backend.test' })).rejects.toThrow(/credentials/);
    const broken = fakeBackend({ corrections: [{ ...corrections[0]!, label: 'great' }], samples });
    await expect(collect(base(broken.fetchFn, after, root))).rejects.toThrow(/corrections export, line 1: label/);
  });
});

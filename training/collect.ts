/**
 * Collect: a backend's agreed corrections and text samples → a feedback snapshot (snapshot.ts).
 *
 * 1. Corrections: `GET /v1/admin/export?kind=corrections&from=&to=` (read token). The backend
 *    already keeps only texts that enough distinct clients on distinct networks agree on
 *    (worker/telemetry/votes.ts), counting the votes cast in the range only, so the answer for
 *    hours that have ended never changes.
 * 2. Samples: `kind=samples` one hour and model version at a time. Every ended hour is kept in a
 *    local cache (`<cache>/<backend>/samples/<version>/<hour>.ndjson`, written atomically), so an
 *    interrupted or repeated collect resumes where it stopped and asks the backend only for what
 *    it does not have; the hour in progress, if the range reaches it, is always fetched afresh.
 * 3. Every text is scrubbed again (core/scrub.ts: the backend's pass, and the client's, are not
 *    trusted), keyed the way training keys texts (training/stages/preprocess.ts keyOf), and
 *    compared with the public data sets: a text equal to a public one is dropped (it would leak
 *    into, or contradict, the data the model is trained and validated on). Backend texts that are
 *    one training text merge when their labels agree and are dropped, counted, when they do not.
 * 4. The rows and a manifest of every count are written as an immutable snapshot named by its hash.
 *
 * Nothing here reads the wall clock: `now` decides which hours have ended.
 */
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { LABELS, type Label } from '../core/labels.js';
import { compareSemver, SEMVER_RE } from '../core/manifest.js';
import { scrubText } from '../core/scrub.js';
import { sha256Hex } from '../node-runtime/sha256.js';
import { DATASETS, readChecksums, readDataset, type DatasetName } from './datasets.js';
import { keyOf } from './stages/preprocess.js';
import { writeSnapshot, type CorrectionRow, type SampleRow, type SnapshotManifest, type WrittenSnapshot } from './snapshot.js';

export const HOUR_MS = 3_600_000;
/** The longest range one collect covers: the backend keeps samples and votes 90 days. */
export const MAX_COLLECT_HOURS = 24 * 92;

export type CollectKind = 'corrections' | 'samples';

export interface CollectOptions {
  /** Backend base URL (http or https). */
  backend: string;
  /** READ_TOKEN of that backend. */
  token: string;
  /** Hours `[from, to)` as `YYYY-MM-DDTHH` (UTC). */
  from: string;
  to: string;
  /** Distinct clients that must agree on a correction; default: the backend's CORRECTION_MIN_CLIENTS. */
  minClients?: number;
  kinds?: readonly CollectKind[];
  /** Model versions whose samples to pull; default: every published version. */
  modelVersions?: readonly string[];
  /** The public data folder to deduplicate against (verified against its SHA256SUMS). */
  dataDir: string;
  snapshotsRoot: string;
  /** Raw hourly cache for resuming. */
  cacheDir: string;
  /** The clock that decides which hours have ended. */
  now: () => number;
  fetch?: typeof fetch;
  /** Parallel requests for hourly samples. */
  concurrency?: number;
  log?: (line: string) => void;
  /** Called as hours are fetched or read from the cache. */
  onProgress?: (done: number, total: number) => void;
}

export interface CollectResult extends WrittenSnapshot {
  /** Hourly sample files fetched from the backend and read from the cache. */
  hours: { fetched: number; cached: number };
}

export class CollectError extends Error {
  override name = 'CollectError';
}

export function hourKey(ms: number): string {
  return new Date(ms).toISOString().slice(0, 13);
}

export function hourStart(key: string): number {
  const ms = Date.parse(`${key}:00:00.000Z`);
  if (!/^\d{4}-\d{2}-\d{2}T\d{2}$/.test(key) || !Number.isFinite(ms) || hourKey(ms) !== key) {
    throw new CollectError(`"${key}" is not an hour like 2026-01-31T13 (UTC)`);
  }
  return ms;
}

/** The backend's address as recorded: origin and path, never credentials or a query. */
export function backendId(url: string): string {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new CollectError(`backend ${JSON.stringify(url)} is not a URL`);
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new CollectError(`backend ${url}: only http(s) backends`);
  if (u.username || u.password) throw new CollectError('backend URL must not carry credentials: the token comes from READ_TOKEN or --token-file');
  return `${u.origin}${u.pathname.replace(/\/+$/, '')}`;
}

const CorrectionLine = z.object({
  text_hash: z.string().regex(/^[0-9a-f]{64}$/),
  text: z.string(),
  label: z.enum(LABELS),
  support: z.number().int().positive(),
  conflicting: z.number().int().nonnegative(),
  model_versions: z.array(z.string()),
  first_hour: z.string(),
  last_hour: z.string(),
});

const SampleLine = z.object({
  model_version: z.string(),
  received_at: z.string(),
  label: z.enum(LABELS),
  text: z.string(),
  lang: z.string().optional(),
});

interface Answer {
  status: number;
  headers: Headers;
  text: string;
}

async function request(doFetch: typeof fetch, url: string, token: string | null): Promise<Answer> {
  let last: unknown;
  for (let attempt = 0; attempt < 4; attempt++) {
    if (attempt > 0) await new Promise((r) => setTimeout(r, 200 * 2 ** attempt));
    try {
      const res = await doFetch(url, { headers: token ? { Authorization: `Bearer ${token}` } : {} });
      const text = await res.text();
      if (res.status >= 500 && attempt < 3) {
        last = new CollectError(`${url}: HTTP ${res.status}`);
        continue;
      }
      return { status: res.status, headers: res.headers, text };
    } catch (e) {
      last = e;
    }
  }
  const cause = last instanceof Error ? ((last.cause as Error | undefined)?.message ?? last.message) : String(last);
  throw new CollectError(`cannot reach ${redact(url)}: ${cause}`);
}

const redact = (url: string): string => url.replace(/\?.*$/, '?…');

function expectOk(a: Answer, what: string): void {
  if (a.status === 200) return;
  if (a.status === 401) throw new CollectError(`${what}: the backend refused the read token (401): use the backend's READ_TOKEN`);
  let detail = a.text.slice(0, 300);
  try {
    const body = JSON.parse(a.text) as { error?: { code?: string; message?: string } };
    if (body.error) detail = `${body.error.code}: ${body.error.message}`;
  } catch {
    // not JSON
  }
  throw new CollectError(`${what}: HTTP ${a.status} ${detail}`);
}

function ndjson<T>(text: string, schema: z.ZodType<T>, what: string): T[] {
  return text
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((line, i) => {
      let raw: unknown;
      try {
        raw = JSON.parse(line);
      } catch {
        throw new CollectError(`${what}, line ${i + 1}: not JSON`);
      }
      const parsed = schema.safeParse(raw);
      if (!parsed.success) throw new CollectError(`${what}, line ${i + 1}: ${parsed.error.issues.map((x) => `${x.path.join('.')}: ${x.message}`).join('; ')}`);
      return parsed.data;
    });
}

async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, items.length) }, async () => {
      while (next < items.length) {
        const i = next++;
        out[i] = await fn(items[i]!);
      }
    }),
  );
  return out;
}

/** Keys and labels of every public data set text; and the sha256 of the SHA256SUMS they were read against. */
export function publicTextKeys(dataDir: string): { keys: Map<string, Set<Label>>; sha256: string } {
  const sums = readChecksums(dataDir);
  const keys = new Map<string, Set<Label>>();
  for (const name of Object.keys(DATASETS) as DatasetName[]) {
    for (const row of readDataset(dataDir, name, sums).rows) {
      const k = keyOf(row.text);
      (keys.get(k) ?? keys.set(k, new Set()).get(k)!).add(row.label);
    }
  }
  return { keys, sha256: sha256Hex(readFileSync(join(dataDir, 'SHA256SUMS'))) };
}

export interface RawCorrections {
  lines: z.infer<typeof CorrectionLine>[];
  minClients: number;
  textsWithVotes: number;
  conflicted: number;
  belowThreshold: number;
}

export interface RawSample {
  text: string;
  predicted: Label;
  lang: string | null;
  hour: string;
  model_version: string;
}

/**
 * Turns exported corrections and samples into snapshot rows and counts (pure: no I/O), so the
 * rules are testable on their own.
 */
export function buildRows(
  corrections: RawCorrections | null,
  samples: readonly RawSample[] | null,
  publicKeys: ReadonlyMap<string, ReadonlySet<Label>>,
): { corrections: CorrectionRow[]; samples: SampleRow[]; counts: Pick<SnapshotManifest, 'corrections' | 'samples'> } {
  const c = {
    texts_with_votes: 0,
    conflicted_on_backend: 0,
    below_threshold: 0,
    exported: 0,
    rescrubbed: 0,
    public_duplicates: 0,
    public_label_disagreements: 0,
    merged: 0,
    conflicts_dropped: 0,
    kept: 0,
    labels: { negative: 0, neutral: 0, positive: 0 },
  };
  const groups = new Map<string, CorrectionRow[]>();
  if (corrections) {
    c.texts_with_votes = corrections.textsWithVotes;
    c.conflicted_on_backend = corrections.conflicted;
    c.below_threshold = corrections.belowThreshold;
    c.exported = corrections.lines.length;
    for (const line of corrections.lines) {
      const text = scrubText(line.text);
      if (text !== line.text) c.rescrubbed++;
      if (text.trim() === '') continue;
      const key = keyOf(text);
      const pub = publicKeys.get(key);
      if (pub) {
        c.public_duplicates++;
        if (!(pub.size === 1 && pub.has(line.label))) c.public_label_disagreements++;
        continue;
      }
      const row: CorrectionRow = {
        kind: 'correction',
        text_hash: line.text_hash,
        text,
        label: line.label,
        first_hour: line.first_hour,
        last_hour: line.last_hour,
        support: line.support,
        conflicting: line.conflicting,
        model_versions: [...line.model_versions].sort(),
      };
      (groups.get(key) ?? groups.set(key, []).get(key)!).push(row);
    }
  }
  const keptCorrections: CorrectionRow[] = [];
  for (const group of groups.values()) {
    if (new Set(group.map((r) => r.label)).size > 1) {
      // Two backend texts that training cannot tell apart, labeled differently: neither is evidence.
      c.conflicts_dropped += group.length;
      continue;
    }
    // One training text: the best-supported variant speaks for it (summing supports could count
    // one client that voted on two variants twice).
    const best = [...group].sort((a, b) => b.support - a.support || (a.text_hash < b.text_hash ? -1 : 1))[0]!;
    keptCorrections.push({
      ...best,
      first_hour: group.map((r) => r.first_hour).sort()[0]!,
      last_hour: group
        .map((r) => r.last_hour)
        .sort()
        .at(-1)!,
      conflicting: Math.max(...group.map((r) => r.conflicting)),
      model_versions: [...new Set(group.flatMap((r) => r.model_versions))].sort(),
    });
    c.merged += group.length - 1;
  }
  c.kept = keptCorrections.length;
  for (const r of keptCorrections) c.labels[r.label]++;

  const s = { exported: 0, rescrubbed: 0, public_duplicates: 0, merged: 0, kept: 0 };
  const byKey = new Map<string, { text: string; hour: string; count: number; votes: Record<Label, number>; langs: string[]; versions: Set<string> }>();
  for (const raw of samples ?? []) {
    s.exported++;
    const text = scrubText(raw.text);
    if (text !== raw.text) s.rescrubbed++;
    if (text.trim() === '') continue;
    const key = keyOf(text);
    if (publicKeys.has(key)) {
      s.public_duplicates++;
      continue;
    }
    const entry = byKey.get(key);
    if (entry) {
      s.merged++;
      entry.count++;
      entry.votes[raw.predicted]++;
      if (raw.lang) entry.langs.push(raw.lang);
      entry.versions.add(raw.model_version);
      // The earliest hour, and the text first seen in it (smallest, so the choice is order-free).
      if (raw.hour < entry.hour || (raw.hour === entry.hour && text < entry.text)) {
        entry.hour = raw.hour;
        entry.text = text;
      }
    } else {
      byKey.set(key, {
        text,
        hour: raw.hour,
        count: 1,
        votes: { negative: 0, neutral: 0, positive: 0, [raw.predicted]: 1 } as Record<Label, number>,
        langs: raw.lang ? [raw.lang] : [],
        versions: new Set([raw.model_version]),
      });
    }
  }
  const keptSamples: SampleRow[] = [...byKey.values()].map((e) => ({
    kind: 'sample',
    text: e.text,
    predicted: [...LABELS].sort((a, b) => e.votes[b] - e.votes[a] || LABELS.indexOf(a) - LABELS.indexOf(b))[0]!,
    lang: e.langs.length ? mostCommon(e.langs) : null,
    hour: e.hour,
    count: e.count,
    model_versions: [...e.versions].sort(),
  }));
  s.kept = keptSamples.length;
  return { corrections: keptCorrections, samples: keptSamples, counts: { corrections: c, samples: s } };
}

function mostCommon(values: readonly string[]): string {
  const counts = new Map<string, number>();
  for (const v of values) counts.set(v, (counts.get(v) ?? 0) + 1);
  return [...counts].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))[0]![0];
}

/** Pull, clean and snapshot. */
export async function collect(opts: CollectOptions): Promise<CollectResult> {
  const log = opts.log ?? (() => {});
  const doFetch = opts.fetch ?? fetch;
  const base = backendId(opts.backend);
  const kinds = new Set(opts.kinds ?? ['corrections', 'samples']);
  if (kinds.size === 0) throw new CollectError('nothing to collect: give at least one kind (corrections, samples)');
  const fromMs = hourStart(opts.from);
  const toMs = hourStart(opts.to);
  if (toMs <= fromMs) throw new CollectError(`--to ${opts.to} must be after --from ${opts.from}`);
  const hours: string[] = [];
  for (let t = fromMs; t < toMs; t += HOUR_MS) hours.push(hourKey(t));
  if (hours.length > MAX_COLLECT_HOURS) throw new CollectError(`${hours.length} hours is more than ${MAX_COLLECT_HOURS} (the backend keeps 90 days)`);
  const now = opts.now();
  // An hour has ended once its last millisecond is past; only ended hours are cached, and a range
  // that reaches past them cannot be reproduced later (more may still arrive).
  const ended = (hour: string): boolean => hourStart(hour) + HOUR_MS <= now;
  const openHours = !ended(hours[hours.length - 1]!);
  if (hourStart(opts.from) > now) throw new CollectError(`--from ${opts.from} is in the future`);

  log(`collect ${base} hours [${opts.from}, ${opts.to}) (${hours.length} h${openHours ? ', the last one still open: this snapshot will not be reproducible' : ''})`);
  let corrections: RawCorrections | null = null;
  if (kinds.has('corrections')) {
    const q = new URLSearchParams({ kind: 'corrections', from: opts.from, to: opts.to });
    if (opts.minClients !== undefined) q.set('min_clients', String(opts.minClients));
    const a = await request(doFetch, `${base}/v1/admin/export?${q}`, opts.token);
    expectOk(a, 'corrections export');
    const header = (name: string): number => {
      const v = a.headers.get(name);
      if (v === null || !/^\d+$/.test(v)) throw new CollectError(`corrections export: header ${name} missing: is the backend's Worker older than this collector?`);
      return Number(v);
    };
    if (a.headers.get('x-corrections-from') !== opts.from) throw new CollectError('corrections export ignored the hour range: update the backend Worker (it must support from/to on kind=corrections)');
    corrections = {
      lines: ndjson(a.text, CorrectionLine, 'corrections export'),
      minClients: header('x-corrections-min-clients'),
      textsWithVotes: header('x-corrections-texts'),
      conflicted: header('x-corrections-conflicted'),
      belowThreshold: header('x-corrections-below-threshold'),
    };
    log(
      `  corrections: ${corrections.lines.length} agreed of ${corrections.textsWithVotes} texts with votes (min ${corrections.minClients} clients; ${corrections.conflicted} with disagreeing voters)`,
    );
  }

  let samples: RawSample[] | null = null;
  let versions: string[] = [];
  const hourStats = { fetched: 0, cached: 0 };
  if (kinds.has('samples')) {
    if (opts.modelVersions) versions = [...opts.modelVersions];
    else {
      const a = await request(doFetch, `${base}/v1/models`, null);
      expectOk(a, 'model list');
      const body = JSON.parse(a.text) as { models?: Array<{ version?: unknown }> };
      versions = (body.models ?? []).map((m) => m.version).filter((v): v is string => typeof v === 'string');
    }
    for (const v of versions) if (!SEMVER_RE.test(v)) throw new CollectError(`model version ${JSON.stringify(v)} is not a semantic version`);
    versions = [...new Set(versions)].sort(compareSemver);
    const cacheRoot = join(opts.cacheDir, sha256Hex(base).slice(0, 16), 'samples');
    const jobs = versions.flatMap((v) => hours.map((h) => ({ v, h })));
    let done = 0;
    const texts = await mapLimit(jobs, opts.concurrency ?? 4, async ({ v, h }) => {
      const file = join(cacheRoot, v, `${h}.ndjson`);
      let text: string;
      if (ended(h) && existsSync(file)) {
        text = readFileSync(file, 'utf8');
        hourStats.cached++;
      } else {
        const next = hourKey(hourStart(h) + HOUR_MS);
        const a = await request(doFetch, `${base}/v1/admin/export?${new URLSearchParams({ kind: 'samples', model_version: v, from: h, to: next })}`, opts.token);
        expectOk(a, `samples export ${v} ${h}`);
        text = a.text;
        hourStats.fetched++;
        if (ended(h)) {
          mkdirSync(join(cacheRoot, v), { recursive: true });
          writeFileSync(`${file}.tmp-${process.pid}`, text);
          renameSync(`${file}.tmp-${process.pid}`, file);
        }
      }
      opts.onProgress?.(++done, jobs.length);
      return text;
    });
    samples = texts.flatMap((t, i) =>
      ndjson(t, SampleLine, `samples export ${jobs[i]!.v} ${jobs[i]!.h}`).map((line) => ({
        text: line.text,
        predicted: line.label,
        lang: line.lang ?? null,
        hour: line.received_at.slice(0, 13),
        model_version: line.model_version,
      })),
    );
    log(`  samples: ${samples.length} rows of ${versions.length} version(s) (${hourStats.fetched} hourly exports fetched, ${hourStats.cached} from the cache)`);
  }

  // Read after the backend answered: a wrong URL or token fails in a second, not after the data.
  const { keys: publicKeys, sha256: publicSha } = publicTextKeys(opts.dataDir);
  log(`  public data: ${publicKeys.size} distinct texts (${opts.dataDir})`);
  const built = buildRows(corrections, samples, publicKeys);
  const c = built.counts.corrections;
  log(
    `  corrections kept ${c.kept} (public duplicates ${c.public_duplicates}, merged ${c.merged}, conflicts dropped ${c.conflicts_dropped}, scrubbed again ${c.rescrubbed}); samples kept ${built.counts.samples.kept}`,
  );
  const firstHours = built.corrections.map((r) => r.first_hour).sort();
  const lastHours = built.corrections.map((r) => r.last_hour).sort();
  const written = writeSnapshot(opts.snapshotsRoot, [...built.corrections, ...built.samples], {
    format: 'ytsent-feedback-snapshot/1',
    source: {
      backend: base,
      range: { from: opts.from, to: opts.to },
      open_hours: openHours,
      min_clients: corrections?.minClients ?? opts.minClients ?? 1,
      model_versions: versions,
    },
    corrections: c,
    samples: built.counts.samples,
    time_range: firstHours.length ? { first_hour: firstHours[0]!, last_hour: lastHours.at(-1)! } : null,
    dedup: { key: 'training/stages/preprocess.ts keyOf: core/normalize.ts tokens joined by spaces', public_data_sha256: publicSha },
  });
  log(`  snapshot ${written.id} ${written.created ? 'written' : 'already there (identical)'}: ${written.dir}`);
  return { ...written, hours: hourStats };
}

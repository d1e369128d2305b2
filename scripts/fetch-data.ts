/**
 * `npm run data [-- --out DIR] [--mirror URL] [--force]`: assembles the data folder that training,
 * the benchmarks and the pipeline tests read (README "Data"), for a clone that has none.
 *
 * The folder's files are pinned by training/data/SHA256SUMS (a committed copy of the folder's own
 * SHA256SUMS) and described in training/data/sources.json: the public source each was prepared
 * from, and where to fetch the prepared file: its own `url`, else `<mirror>/<path>`, the mirror
 * being --mirror, else $YTSENT_DATA_MIRROR, else the file's `mirror`. http(s):// and file:// URLs
 * (and plain paths) work.
 *
 * Every file is streamed to a temporary name next to its place while its sha256 is computed, and
 * only renamed into place when the hash is the pinned one, so a failed or tampered download never
 * leaves a file that looks right. Files already there with the right hash are kept (a rerun resumes).
 * SHA256SUMS is written last, once every file is verified: training refuses a folder without it.
 *
 * The default folder is the one training reads: $YTSENT_DATA, else training/params.yaml's data.dir
 * (../shared/data).
 */
import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream, existsSync, mkdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, isAbsolute, join, relative, resolve } from 'node:path';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { REPO_ROOT } from '../node-runtime/bundle.js';
import { userPath } from '../node-runtime/io.js';

export const DEFAULT_SUMS = join(REPO_ROOT, 'training', 'data', 'SHA256SUMS');
export const DEFAULT_SOURCES = join(REPO_ROOT, 'training', 'data', 'sources.json');
export const MIRROR_ENV = 'YTSENT_DATA_MIRROR';

export class DataFetchError extends Error {
  override name = 'DataFetchError';
}

export interface SourceEntry {
  /** Where this one file can be fetched (overrides the mirror). */
  url?: string;
  /** The public source it was prepared from (for people, not fetched). */
  upstream?: string;
  prepared?: string;
}

export interface SourcesConfig {
  mirror?: string;
  files: Record<string, SourceEntry>;
}

/** `<sha256>  <path>` lines (the sha256sum format). */
export function parseSums(text: string, name: string): Map<string, string> {
  const sums = new Map<string, string>();
  text.split('\n').forEach((line, i) => {
    if (line.trim() === '') return;
    const m = /^([0-9a-f]{64}) [ *]?(.+)$/.exec(line.trim());
    if (!m) throw new DataFetchError(`${name}:${i + 1}: not a "<sha256>  <file>" line`);
    const path = m[2]!;
    // The folder's paths only: nothing may be written outside it.
    if (isAbsolute(path) || path.split('/').includes('..')) throw new DataFetchError(`${name}:${i + 1}: ${path} is not a path inside the data folder`);
    sums.set(path, m[1]!);
  });
  if (sums.size === 0) throw new DataFetchError(`${name}: lists no files`);
  return sums;
}

/** The URL a file is fetched from, or null when neither it nor the configuration names one. */
export function sourceUrl(path: string, entry: SourceEntry | undefined, mirror: string | undefined): string | null {
  if (entry?.url) return entry.url;
  if (!mirror) return null;
  const base = /^[a-z][a-z0-9+.-]*:\/\//i.test(mirror) ? mirror : pathToFileURL(resolve(mirror)).href;
  return `${base.replace(/\/+$/, '')}/${path}`;
}

async function openSource(url: string): Promise<Readable> {
  if (url.startsWith('file:')) {
    const path = fileURLToPath(url);
    if (!existsSync(path) || !statSync(path).isFile()) throw new DataFetchError(`${url}: no such file`);
    return createReadStream(path);
  }
  if (!/^https?:/.test(url)) throw new DataFetchError(`${url}: only http(s):// and file:// sources are supported`);
  let res: Response;
  try {
    res = await fetch(url, { redirect: 'follow' });
  } catch (e) {
    throw new DataFetchError(`${url}: ${e instanceof Error ? (e.cause instanceof Error ? e.cause.message : e.message) : String(e)}`);
  }
  if (!res.ok || !res.body) {
    await res.body?.cancel();
    throw new DataFetchError(`${url}: HTTP ${res.status}`);
  }
  return Readable.fromWeb(res.body as import('node:stream/web').ReadableStream<Uint8Array>);
}

async function sha256File(path: string): Promise<string> {
  const hash = createHash('sha256');
  await pipeline(createReadStream(path), hash);
  return hash.digest('hex');
}

export type FileStatus = 'fetched' | 'present';

export interface FetchOptions {
  /** The data folder to fill. */
  out: string;
  /** Pinned hashes (default: the committed training/data/SHA256SUMS). */
  sumsFile?: string;
  /** Where each file comes from (default: training/data/sources.json). */
  sourcesFile?: string;
  /** Base URL or folder of a prepared copy (overrides the environment and the sources file). */
  mirror?: string;
  /** Fetch again even files that are present and verified. */
  force?: boolean;
  log?: (line: string) => void;
}

export interface FetchResult {
  files: Record<string, FileStatus>;
  /** Files that could not be fetched or verified, with the reason. */
  failed: Record<string, string>;
}

/** Fills `out` with every file of the pinned list; see the module comment. */
export async function fetchData(options: FetchOptions): Promise<FetchResult> {
  const log = options.log ?? (() => {});
  const sumsFile = options.sumsFile ?? DEFAULT_SUMS;
  const sumsText = readFileSync(sumsFile, 'utf8');
  const sums = parseSums(sumsText, sumsFile);
  const sourcesFile = options.sourcesFile ?? DEFAULT_SOURCES;
  const sources = JSON.parse(readFileSync(sourcesFile, 'utf8')) as SourcesConfig;
  const mirror = options.mirror || process.env[MIRROR_ENV] || sources.mirror || undefined;

  const missing = [...sums.keys()].filter((p) => !sourceUrl(p, sources.files[p], mirror));
  if (missing.length > 0) {
    throw new DataFetchError(
      `no source configured for ${missing.length} file(s): give a mirror holding the prepared folder (--mirror URL or ` +
        `$${MIRROR_ENV}: an http(s):// or file:// location), or a url per file in ${relative(process.cwd(), sourcesFile)}. ` +
        `Each file and the public source it was prepared from:\n${missing.map((p) => `  ${p} ← ${sources.files[p]?.upstream ?? '(not listed)'}`).join('\n')}`,
    );
  }

  mkdirSync(options.out, { recursive: true });
  const result: FetchResult = { files: {}, failed: {} };
  for (const [path, expected] of sums) {
    const target = join(options.out, path);
    if (!options.force && existsSync(target) && (await sha256File(target)) === expected) {
      result.files[path] = 'present';
      log(`${path}: present, sha256 verified`);
      continue;
    }
    const url = sourceUrl(path, sources.files[path], mirror)!;
    const part = `${target}.part`;
    mkdirSync(dirname(target), { recursive: true });
    try {
      const hash = createHash('sha256');
      let bytes = 0;
      const hashing = new Transform({
        transform(chunk: Buffer, _enc, done) {
          hash.update(chunk);
          bytes += chunk.length;
          done(null, chunk);
        },
      });
      await pipeline(await openSource(url), hashing, createWriteStream(part));
      const actual = hash.digest('hex');
      if (actual !== expected) {
        throw new DataFetchError(`${url}: sha256 mismatch (expected ${expected}, got ${actual}, ${bytes} bytes): not the pinned file, refusing it`);
      }
      renameSync(part, target);
      result.files[path] = 'fetched';
      log(`${path}: fetched from ${url} (${bytes} bytes), sha256 verified`);
    } catch (e) {
      rmSync(part, { force: true });
      const reason = e instanceof Error ? e.message : String(e);
      result.failed[path] = reason;
      log(`${path}: FAILED: ${reason}`);
    }
  }
  if (Object.keys(result.failed).length === 0) writeFileSync(join(options.out, 'SHA256SUMS'), sumsText);
  return result;
}

/** The folder training reads: $YTSENT_DATA, else params.yaml's data.dir, relative to the repository. */
async function defaultOut(): Promise<string> {
  const { loadParams } = await import('../training/params.js');
  const { resolveDataDir } = await import('../training/pipeline.js');
  return resolveDataDir(loadParams(join(REPO_ROOT, 'training', 'params.yaml')));
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      out: { type: 'string' },
      mirror: { type: 'string' },
      sums: { type: 'string' },
      sources: { type: 'string' },
      force: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    console.log(
      `usage: npm run data [-- --out DIR] [--mirror URL] [--force] [--sums FILE] [--sources FILE]\n(mirror: --mirror, else $${MIRROR_ENV}; out: --out, else $YTSENT_DATA, else training/params.yaml data.dir)`,
    );
    return 0;
  }
  const mirror = values.mirror && !/^[a-z][a-z0-9+.-]*:\/\//i.test(values.mirror) ? userPath(values.mirror) : values.mirror;
  const out = values.out ? userPath(values.out) : await defaultOut();
  console.error(`data folder: ${out}`);
  const result = await fetchData({
    out,
    mirror,
    sumsFile: values.sums ? userPath(values.sums) : undefined,
    sourcesFile: values.sources ? userPath(values.sources) : undefined,
    force: values.force,
    log: (line) => console.error(`  ${line}`),
  });
  const failed = Object.keys(result.failed);
  if (failed.length > 0) {
    console.error(`data: ${failed.length} of ${failed.length + Object.keys(result.files).length} files failed; SHA256SUMS not written, so training will not use this folder yet`);
    return 1;
  }
  console.error(`data: ${Object.keys(result.files).length} files verified in ${out}`);
  return 0;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main().then(
    (code) => (process.exitCode = code),
    (e: unknown) => {
      console.error(`data: ${e instanceof Error ? e.message : String(e)}`);
      process.exitCode = e instanceof DataFetchError ? 1 : 3;
    },
  );
}

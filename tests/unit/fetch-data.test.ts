/**
 * `npm run data` (scripts/fetch-data.ts) against local sources: a fake mirror served over HTTP
 * and as file://, with its own pinned SHA256SUMS. The real sources are configuration
 * (training/data/sources.json); this machine reaches no other host.
 */
import { createHash } from 'node:crypto';
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../../node-runtime/bundle.js';
import { DATASETS } from '../../training/datasets.js';
import { DEFAULT_SOURCES, DEFAULT_SUMS, fetchData, parseSums } from '../../scripts/fetch-data.js';

const sha = (b: string | Buffer): string => createHash('sha256').update(b).digest('hex');
const FILES: Record<string, string> = {
  'tweeteval/val.jsonl': '{"text":"fine","label":"neutral"}\n',
  'emoji/ranking.csv': 'Emoji,Negative\n😀,1\n',
  'youtube_unlabeled/comments.jsonl.gz': 'pretend gzip bytes',
};

let tmp: string;
let mirror: string;
let server: Server;
let base: string;
/** Paths the HTTP mirror was asked for, in order. */
const requests: string[] = [];
/** What the HTTP mirror serves instead of the real file (a tampered copy), by path. */
const tampered = new Map<string, string>();

beforeAll(async () => {
  tmp = mkdtempSync(join(tmpdir(), 'ytsent-data-'));
  mirror = join(tmp, 'mirror');
  for (const [path, content] of Object.entries(FILES)) {
    mkdirSync(dirname(join(mirror, path)), { recursive: true });
    writeFileSync(join(mirror, path), content);
  }
  writeFileSync(
    join(tmp, 'SHA256SUMS'),
    Object.entries(FILES)
      .map(([p, c]) => `${sha(c)}  ${p}\n`)
      .join(''),
  );
  writeFileSync(join(tmp, 'sources.json'), JSON.stringify({ mirror: '', files: { 'tweeteval/val.jsonl': { upstream: 'TweetEval' } } }));
  server = createServer((req, res) => {
    const path = decodeURIComponent(req.url!.replace(/^\/data\//, ''));
    requests.push(path);
    const body = tampered.get(path) ?? (FILES[path] !== undefined ? readFileSync(join(mirror, path)) : undefined);
    if (body === undefined) {
      res.writeHead(404).end('not here');
      return;
    }
    res.writeHead(200, { 'Content-Type': 'application/octet-stream' }).end(body);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as { port: number }).port}/data`;
});
afterAll(async () => {
  await new Promise<void>((r) => server.close(() => r()));
  rmSync(tmp, { recursive: true, force: true });
});
beforeEach(() => {
  requests.length = 0;
  tampered.clear();
});

const opts = (out: string, extra: Partial<Parameters<typeof fetchData>[0]> = {}) => ({
  out: join(tmp, out),
  sumsFile: join(tmp, 'SHA256SUMS'),
  sourcesFile: join(tmp, 'sources.json'),
  ...extra,
});

/** Every file under `dir`, relative, sorted. */
function tree(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => join(e.parentPath, e.name).slice(dir.length + 1))
    .sort();
}

describe('npm run data', () => {
  it('assembles the folder from an HTTP mirror, verifies every file, writes SHA256SUMS last', async () => {
    const result = await fetchData(opts('http', { mirror: base }));
    expect(result.failed).toEqual({});
    expect(Object.values(result.files)).toEqual(['fetched', 'fetched', 'fetched']);
    expect(requests.sort()).toEqual(Object.keys(FILES).sort());
    const out = join(tmp, 'http');
    expect(tree(out)).toEqual([...Object.keys(FILES), 'SHA256SUMS'].sort());
    for (const [path, content] of Object.entries(FILES)) expect(readFileSync(join(out, path), 'utf8')).toBe(content);
    expect(readFileSync(join(out, 'SHA256SUMS'), 'utf8')).toBe(readFileSync(join(tmp, 'SHA256SUMS'), 'utf8'));
  });

  it('keeps files already there and verified (a rerun resumes), and fetches a changed one again', async () => {
    await fetchData(opts('resume', { mirror: base }));
    requests.length = 0;
    writeFileSync(join(tmp, 'resume', 'emoji/ranking.csv'), 'edited by hand');
    const again = await fetchData(opts('resume', { mirror: base }));
    expect(again.files).toEqual({ 'tweeteval/val.jsonl': 'present', 'emoji/ranking.csv': 'fetched', 'youtube_unlabeled/comments.jsonl.gz': 'present' });
    expect(requests).toEqual(['emoji/ranking.csv']);
    expect(readFileSync(join(tmp, 'resume', 'emoji/ranking.csv'), 'utf8')).toBe(FILES['emoji/ranking.csv']);
  });

  it('refuses a file whose sha256 is not the pinned one, leaving nothing in its place and no SHA256SUMS', async () => {
    tampered.set('emoji/ranking.csv', 'Emoji,Negative\n😀,999\n');
    const result = await fetchData(opts('tampered', { mirror: base }));
    expect(Object.keys(result.failed)).toEqual(['emoji/ranking.csv']);
    expect(result.failed['emoji/ranking.csv']).toBe(
      `${base}/emoji/ranking.csv: sha256 mismatch (expected ${sha(FILES['emoji/ranking.csv']!)}, got ${sha('Emoji,Negative\n😀,999\n')}, 24 bytes): not the pinned file, refusing it`,
    );
    const out = join(tmp, 'tampered');
    expect(existsSync(join(out, 'emoji/ranking.csv'))).toBe(false);
    expect(existsSync(join(out, 'SHA256SUMS'))).toBe(false);
    expect(tree(out)).toEqual(['tweeteval/val.jsonl', 'youtube_unlabeled/comments.jsonl.gz']);
  });

  it('names the URL of a file the source does not have', async () => {
    writeFileSync(join(tmp, 'sums-extra'), `${readFileSync(join(tmp, 'SHA256SUMS'), 'utf8')}${sha('x')}  umsab/val.jsonl\n`);
    const result = await fetchData(opts('missing', { mirror: base, sumsFile: join(tmp, 'sums-extra') }));
    expect(result.failed).toEqual({ 'umsab/val.jsonl': `${base}/umsab/val.jsonl: HTTP 404` });
  });

  it('reads a file:// mirror or a plain folder, and a per-file url over the mirror', async () => {
    const viaUrl = await fetchData(opts('file', { mirror: pathToFileURL(mirror).href }));
    expect(viaUrl.failed).toEqual({});
    const viaPath = await fetchData(opts('path', { mirror }));
    expect(viaPath.failed).toEqual({});
    writeFileSync(join(tmp, 'own.csv'), FILES['emoji/ranking.csv']!);
    writeFileSync(join(tmp, 'sources-url.json'), JSON.stringify({ files: { 'emoji/ranking.csv': { url: pathToFileURL(join(tmp, 'own.csv')).href } } }));
    const perFile = await fetchData(opts('perfile', { mirror: base, sourcesFile: join(tmp, 'sources-url.json') }));
    expect(perFile.failed).toEqual({});
    expect(requests.sort()).toEqual(['tweeteval/val.jsonl', 'youtube_unlabeled/comments.jsonl.gz']);
  });

  it('without any source says how to configure one and names the public sources', async () => {
    const saved = process.env.YTSENT_DATA_MIRROR;
    delete process.env.YTSENT_DATA_MIRROR;
    try {
      await expect(fetchData(opts('none'))).rejects.toThrow(/no source configured for 3 file\(s\): give a mirror .*--mirror URL or \$YTSENT_DATA_MIRROR/);
      await expect(fetchData(opts('none'))).rejects.toThrow('tweeteval/val.jsonl ← TweetEval');
    } finally {
      if (saved !== undefined) process.env.YTSENT_DATA_MIRROR = saved;
    }
    expect(existsSync(join(tmp, 'none'))).toBe(false);
  });

  it('refuses a pinned list that would write outside the folder', () => {
    expect(() => parseSums(`${sha('x')}  ../escape.jsonl\n`, 'SUMS')).toThrow('SUMS:1: ../escape.jsonl is not a path inside the data folder');
    expect(() => parseSums(`${sha('x')}  /etc/passwd\n`, 'SUMS')).toThrow('not a path inside the data folder');
    expect(() => parseSums('nonsense\n', 'SUMS')).toThrow('SUMS:1: not a "<sha256>  <file>" line');
  });

  it("the CLI takes $YTSENT_DATA_MIRROR and a relative --out (the caller's folder), exits 1 on a failure", async () => {
    const run = (env: Record<string, string>, args: string[]) =>
      promisify(execFile)(process.execPath, ['--import', 'tsx', join(REPO_ROOT, 'scripts', 'fetch-data.ts'), '--sums', join(tmp, 'SHA256SUMS'), '--sources', join(tmp, 'sources.json'), ...args], {
        cwd: REPO_ROOT,
        env: { ...process.env, INIT_CWD: tmp, ...env },
      });
    const { stderr } = await run({ YTSENT_DATA_MIRROR: base }, ['--out', 'cli-out']);
    expect(stderr).toContain(`data: 3 files verified in ${join(tmp, 'cli-out')}`);
    expect(tree(join(tmp, 'cli-out'))).toEqual([...Object.keys(FILES), 'SHA256SUMS'].sort());
    tampered.set('tweeteval/val.jsonl', 'changed');
    const failed = await run({ YTSENT_DATA_MIRROR: base }, ['--out', 'cli-bad']).catch((e: { code: number; stderr: string }) => e);
    expect(failed).toMatchObject({ code: 1 });
    expect((failed as { stderr: string }).stderr).toContain('tweeteval/val.jsonl: FAILED: ');
    expect((failed as { stderr: string }).stderr).toContain('data: 1 of 3 files failed; SHA256SUMS not written');
  });
});

describe('the committed pins', () => {
  const sums = parseSums(readFileSync(DEFAULT_SUMS, 'utf8'), DEFAULT_SUMS);
  const sources = JSON.parse(readFileSync(DEFAULT_SOURCES, 'utf8')) as { files: Record<string, { upstream?: string }> };

  it('pin every dataset training reads, and name a public source for every pinned file', () => {
    for (const spec of Object.values(DATASETS)) expect(sums.has(spec.file), spec.file).toBe(true);
    expect(Object.keys(sources.files).sort()).toEqual([...sums.keys()].sort());
    for (const [path, entry] of Object.entries(sources.files)) expect(entry.upstream, path).toBeTruthy();
  });
});

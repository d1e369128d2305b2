/**
 * `npm run score -- --remote URL`: the client of POST /v1/predict (cli/remote.ts) against a stub
 * fetch (batching, Retry-After, the API's errors, the 2 KB limit), where the key may come from, and
 * the CLI refusing a key on its command line. The real backend is exercised by
 * tests/wrangler/predict.test.ts.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { readApiKey, remoteScorer, remoteUrl } from '../../cli/remote.js';
import { REPO_ROOT } from '../../node-runtime/bundle.js';

const KEY = `ytsk_${'a'.repeat(43)}`;
const tmp = mkdtempSync(join(tmpdir(), 'ytsent-remote-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function answer(items: Array<{ comment: string }>) {
  return {
    model_version: '2.0.0',
    items: items.map((i) => ({
      label: 'positive',
      score: 0.9,
      probs: [0.05, 0.05, 0.9],
      lang: 'en',
      supported: true,
      low_confidence: false,
      model_version: '2.0.0',
      ...(i.comment === 'neg' ? { label: 'negative' } : {}),
    })),
  };
}

describe('remoteScorer', () => {
  it('sends batches of at most 64 with the key as a bearer token, answers in order', async () => {
    const calls: Array<{ url: string; auth: string | null; n: number }> = [];
    const fake = (async (url: string, init: RequestInit) => {
      const body = JSON.parse(init.body as string) as { items: Array<{ comment: string }> };
      calls.push({ url, auth: new Headers(init.headers).get('authorization'), n: body.items.length });
      return new Response(JSON.stringify(answer(body.items)), { status: 200 });
    }) as typeof fetch;
    const texts = Array.from({ length: 130 }, (_, i) => (i === 129 ? 'neg' : `t${i}`));
    const out = await remoteScorer('http://backend.test', KEY, { fetch: fake }).predict(texts);
    expect(calls.map((c) => c.n)).toEqual([64, 64, 2]);
    expect(calls.every((c) => c.url === 'http://backend.test/v1/predict' && c.auth === `Bearer ${KEY}`)).toBe(true);
    expect(out).toHaveLength(130);
    expect(out[129]!.label).toBe('negative');
  });

  it('waits out a 429 as Retry-After says, then retries', async () => {
    let n = 0;
    const slept: number[] = [];
    const fake = (async (_url: string, init: RequestInit) => {
      n++;
      if (n === 1) return new Response('{"error":{"code":"rate_limited","message":"slow down"}}', { status: 429, headers: { 'Retry-After': '10' } });
      return new Response(JSON.stringify(answer((JSON.parse(init.body as string) as { items: Array<{ comment: string }> }).items)), { status: 200 });
    }) as typeof fetch;
    const out = await remoteScorer('http://b.test', KEY, { fetch: fake, sleep: async (ms) => void slept.push(ms) }).predict(['x']);
    expect(slept).toEqual([10_000]);
    expect(out).toHaveLength(1);
  });

  it('stops with the API’s own error, and checks the 2 KB limit before sending', async () => {
    const fake = (async () => new Response('{"error":{"code":"key_revoked","message":"API key 0123 was revoked"}}', { status: 403 })) as unknown as typeof fetch;
    await expect(remoteScorer('http://b.test', KEY, { fetch: fake }).predict(['x'])).rejects.toThrow('http://b.test/v1/predict answered 403 (key_revoked: API key 0123 was revoked)');
    const never = (async () => {
      throw new Error('must not be called');
    }) as unknown as typeof fetch;
    await expect(remoteScorer('http://b.test', KEY, { fetch: never }).predict(['ok', 'é'.repeat(1025)], [7, 8])).rejects.toThrow(
      'line 8: the comment has 2050 UTF-8 bytes; the API scores comments of at most 2048',
    );
    const garbage = (async () => new Response('<html>', { status: 200 })) as unknown as typeof fetch;
    await expect(remoteScorer('http://b.test', KEY, { fetch: garbage }).predict(['x'])).rejects.toThrow(/not a batch of 1 predictions/);
  });
});

describe('API key and URL', () => {
  it('reads the key from --key-file or $YTSENT_API_KEY, and refuses anything else', () => {
    const file = join(tmp, 'key');
    writeFileSync(file, `${KEY}\n`);
    expect(readApiKey(file, {})).toBe(KEY);
    expect(readApiKey(undefined, { YTSENT_API_KEY: KEY })).toBe(KEY);
    expect(() => readApiKey(undefined, {})).toThrow(/--key-file FILE or \$YTSENT_API_KEY/);
    writeFileSync(file, 'not-a-key');
    expect(() => readApiKey(file, {})).toThrow(/does not hold an API key/);
    expect(() => readApiKey(join(tmp, 'missing'), {})).toThrow(/ENOENT/);
    expect(remoteUrl('http://127.0.0.1:8787/')).toBe('http://127.0.0.1:8787');
    expect(() => remoteUrl('ftp://x')).toThrow(/http\(s\)/);
  });

  it('npm run score refuses a key on the command line', async () => {
    const run = promisify(execFile);
    const err = (await run(process.execPath, ['--import', 'tsx', join(REPO_ROOT, 'cli', 'score.ts'), '--remote', 'http://127.0.0.1:9', '--key', KEY, 'text'], { cwd: REPO_ROOT }).catch(
      (e: unknown) => e,
    )) as {
      code: number;
      stderr: string;
    };
    expect(err.code).toBe(2);
    expect(err.stderr).toContain('--key is refused');
  });
});

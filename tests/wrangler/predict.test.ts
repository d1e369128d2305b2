/**
 * POST /v1/predict on a real `wrangler dev` (local R2, the rate-limiting binding of wrangler.toml,
 * real HTTP): the committed model published and promoted as `npm start` does, an API key created,
 * predictions equal to onnxruntime-node's, and `npm run score -- --remote URL` run as a user runs
 * it, with the key from a file and from the environment, until the key is revoked.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ModelManifest } from '../../core/manifest.js';
import { createNodeScorer, REPO_ROOT } from '../../node-runtime/bundle.js';
import { publishModel } from '../../scripts/publish-model.js';
import { startWranglerDev, type WranglerDev } from '../../scripts/wrangler-dev.js';
import { SECRETS, committedModel } from './helpers.js';

const run = promisify(execFile);
const TEXTS = ['I love this video so much!', 'worst tutorial ever, total waste of time', 'The video is 12 minutes long.', 'Das Video ist wirklich super, danke!'];

let dev: WranglerDev;
let model: { dir: string; manifest: ModelManifest };
let tmp: string;
let key: { id: string; key: string };

async function score(args: string[], env: Record<string, string> = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, ['--import', 'tsx', join(REPO_ROOT, 'cli', 'score.ts'), ...args], { cwd: REPO_ROOT, env: { ...process.env, YTSENT_API_KEY: '', ...env } });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

beforeAll(async () => {
  model = committedModel();
  tmp = mkdtempSync(join(tmpdir(), 'ytsent-predict-'));
  dev = await startWranglerDev({ vars: { ...SECRETS, METRICS_FLUSH_MS: '0' } });
  await publishModel({ dir: model.dir, url: dev.url, publishToken: SECRETS.ADMIN_PUBLISH_TOKEN, log: () => {} });
  const promote = (body: Record<string, unknown>) =>
    fetch(`${dev.url}/v1/channels/stable`, { method: 'POST', headers: { Authorization: `Bearer ${SECRETS.ADMIN_PROMOTE_TOKEN}`, 'Content-Type': 'application/json' }, body: JSON.stringify(body) });
  // The first version on a channel needs no blessing; should a gate ask anyway, this is the committed release.
  let res = await promote({ version: model.manifest.version });
  if (res.status === 409) res = await promote({ version: model.manifest.version, force: true, reason: 'the committed release, as npm start publishes it' });
  expect(res.status).toBe(200);
  const created = await fetch(`${dev.url}/v1/admin/keys`, {
    method: 'POST',
    headers: { Authorization: `Bearer ${SECRETS.ADMIN_PROMOTE_TOKEN}`, 'Content-Type': 'application/json' },
    body: '{"name":"wrangler test"}',
  });
  expect(created.status).toBe(201);
  key = (await created.json()) as { id: string; key: string };
});

afterAll(async () => {
  await dev?.stop();
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

describe('POST /v1/predict on wrangler dev', () => {
  it('scores like onnxruntime-node, single and batch', async () => {
    const scorer = await createNodeScorer(model.dir);
    const expected = await scorer.predict(TEXTS);
    await scorer.release();
    const post = (body: unknown) => fetch(`${dev.url}/v1/predict`, { method: 'POST', headers: { Authorization: `Bearer ${key.key}`, 'Content-Type': 'application/json' }, body: JSON.stringify(body) });
    const single = await post({ comment: TEXTS[0] });
    expect(single.status).toBe(200);
    expect(single.headers.get('x-model-version')).toBe(model.manifest.version);
    const one = (await single.json()) as { label: string; probs: number[] };
    expect(one.label).toBe(expected[0]!.label);
    const batch = (await (await post({ items: TEXTS.map((comment) => ({ comment })) })).json()) as {
      model_version: string;
      items: Array<{ label: string; probs: number[]; lang: string; supported: boolean }>;
    };
    expect(batch.model_version).toBe(model.manifest.version);
    batch.items.forEach((p, i) => {
      expect(p.label).toBe(expected[i]!.label);
      expect(p.lang).toBe(expected[i]!.lang);
      expect(p.supported).toBe(expected[i]!.supported);
      for (let k = 0; k < 3; k++) expect(Math.abs(p.probs[k]! - expected[i]!.probs[k]!)).toBeLessThanOrEqual(1e-3);
    });
    const doc = (await (await fetch(`${dev.url}/openapi.json`)).json()) as { paths: Record<string, unknown> };
    expect(Object.keys(doc.paths)).toContain('/v1/predict');
  });

  it('npm run score -- --remote URL scores through the API with the key from a file or the environment, and stops on a revoked key', async () => {
    const keyFile = join(tmp, 'api-key');
    writeFileSync(keyFile, key.key + '\n', { mode: 0o600 });
    const local = await score(TEXTS);
    const viaFile = await score(['--remote', dev.url, '--key-file', keyFile, ...TEXTS]);
    expect(viaFile.stderr).toBe('');
    expect(viaFile.code).toBe(0);
    const strip = (out: string) =>
      out
        .trim()
        .split('\n')
        .map((l) => {
          const { probs: _p, score: _s, ...rest } = JSON.parse(l) as Record<string, unknown>;
          return rest;
        });
    expect(strip(viaFile.stdout)).toEqual(strip(local.stdout));
    const viaEnv = await score(['--remote', dev.url, TEXTS[1]!], { YTSENT_API_KEY: key.key });
    expect(viaEnv.code).toBe(0);
    expect(JSON.parse(viaEnv.stdout)).toMatchObject({ text: TEXTS[1], label: 'negative', model_version: model.manifest.version });

    const revoked = await fetch(`${dev.url}/v1/admin/keys/${key.id}`, { method: 'DELETE', headers: { Authorization: `Bearer ${SECRETS.ADMIN_PROMOTE_TOKEN}` } });
    expect(revoked.status).toBe(200);
    const refused = await score(['--remote', dev.url, '--key-file', keyFile, 'hello']);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('answered 403 (key_revoked');
  });
});

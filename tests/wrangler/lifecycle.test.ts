/**
 * The whole backend against a real `wrangler dev` process (local R2, real HTTP on loopback):
 * start → publish the committed model → download and verify it → ingest samples → fire the cron
 * through /__scheduled → read the drift report → stop, with no process left behind.
 */
import { createHash } from 'node:crypto';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ModelManifest } from '../../core/manifest.js';
import { addToAggregate, emptyAggregate } from '../../core/aggregates.js';
import { AGGREGATE, HOUR_MS, hourFloor } from '../../core/wire.js';
import type { DriftReport } from '../../worker/drift/aggregate.js';
import { PublishError, publishModel } from '../../scripts/publish-model.js';
import { freePort, groupAlive, startWranglerDev, type WranglerDev } from '../../scripts/wrangler-dev.js';
import { SECRETS, alive, awayFromHourEnd, committedModel, descendants, itemsLikeReference, untilStored } from './helpers.js';

let dev: WranglerDev;
let model: { dir: string; manifest: ModelManifest };

beforeAll(async () => {
  model = committedModel();
  // DRIFT_INCLUDE_CURRENT_HOUR: /__scheduled in wrangler dev always runs at the real clock, when the
  // hour the samples arrived in is still in progress.
  dev = await startWranglerDev({ vars: { ...SECRETS, METRICS_FLUSH_MS: '0', DRIFT_INCLUDE_CURRENT_HOUR: 'true' } });
});

afterAll(async () => {
  await dev?.stop();
});

describe('wrangler dev end to end', () => {
  it('starts on loopback with its own state directory', async () => {
    expect(dev.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const health = (await (await fetch(`${dev.url}/health`)).json()) as { status: string; model_version: string | null };
    expect(health).toMatchObject({ status: 'ok', model_version: null });
    expect(dev.persistTo).toContain('ytsent-wrangler-');
  });

  it('publishes and promotes the committed model, idempotently', async () => {
    const logs: string[] = [];
    const first = await publishModel({
      dir: model.dir,
      url: dev.url,
      publishToken: SECRETS.ADMIN_PUBLISH_TOKEN,
      promoteToken: SECRETS.ADMIN_PROMOTE_TOKEN,
      channel: 'stable',
      log: (l) => logs.push(l),
    });
    expect(first).toMatchObject({ version: model.manifest.version, status: 'published', uploaded: model.manifest.files.map((f) => f.path), channel: { name: 'stable', changed: true } });
    const again = await publishModel({
      dir: model.dir,
      url: dev.url,
      publishToken: SECRETS.ADMIN_PUBLISH_TOKEN,
      promoteToken: SECRETS.ADMIN_PROMOTE_TOKEN,
      channel: 'stable',
      log: (l) => logs.push(l),
    });
    expect(again).toMatchObject({ status: 'already_published', uploaded: [], channel: { changed: false } });
    expect(logs.join('\n')).toContain('already published');

    // Same version, different bundle: refused with a clear message, nothing changes.
    const tampered = mkdtempSync(join(tmpdir(), 'ytsent-tampered-'));
    try {
      cpSync(model.dir, tampered, { recursive: true });
      const manifest = JSON.parse(readFileSync(join(tampered, 'manifest.json'), 'utf8')) as Record<string, unknown>;
      manifest.description = 'a different build under the same version';
      writeFileSync(join(tampered, 'manifest.json'), JSON.stringify(manifest, null, 2));
      await expect(publishModel({ dir: tampered, url: dev.url, publishToken: SECRETS.ADMIN_PUBLISH_TOKEN, log: () => {} })).rejects.toThrow(/already published with a different manifest/);
      // A bundle whose file does not match its manifest never leaves the machine.
      writeFileSync(join(tampered, model.manifest.model.file), 'corrupted');
      await expect(publishModel({ dir: tampered, url: dev.url, publishToken: SECRETS.ADMIN_PUBLISH_TOKEN, log: () => {} })).rejects.toBeInstanceOf(PublishError);
    } finally {
      rmSync(tampered, { recursive: true, force: true });
    }
    // Each token works for its own role only.
    await expect(publishModel({ dir: model.dir, url: dev.url, publishToken: 'wrong-token-0123456789abcdef0123456789', log: () => {} })).rejects.toThrow(/refused the publish token/);
    await expect(publishModel({ dir: model.dir, url: dev.url, publishToken: SECRETS.ADMIN_PROMOTE_TOKEN, log: () => {} })).rejects.toThrow(/refused the publish token/);
    const promoteWithPublishToken = { dir: model.dir, url: dev.url, publishToken: SECRETS.ADMIN_PUBLISH_TOKEN, promoteToken: SECRETS.ADMIN_PUBLISH_TOKEN, channel: 'beta' };
    await expect(publishModel({ ...promoteWithPublishToken, log: () => {} })).rejects.toThrow(/promoting .* on beta failed: HTTP 401 unauthorized/);
  });

  it('serves the model for download: bytes match the manifest sha256; ETag, 304 and Range work', async () => {
    const channel = await fetch(`${dev.url}/v1/channels/stable`);
    expect(channel.status).toBe(200);
    const served = (await channel.json()) as ModelManifest;
    expect(served.version).toBe(model.manifest.version);
    for (const f of served.files) {
      const res = await fetch(`${dev.url}/v1/models/${served.version}/files/${f.path}`);
      expect(res.status).toBe(200);
      const bytes = Buffer.from(await res.arrayBuffer());
      expect(bytes.byteLength).toBe(f.bytes);
      expect(createHash('sha256').update(bytes).digest('hex')).toBe(f.sha256);
      expect(res.headers.get('etag')).toBe(`"${f.sha256}"`);
      expect(res.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
      expect((await fetch(`${dev.url}/v1/models/${served.version}/files/${f.path}`, { headers: { 'If-None-Match': `"${f.sha256}"` } })).status).toBe(304);
      const part = await fetch(`${dev.url}/v1/models/${served.version}/files/${f.path}`, { headers: { Range: 'bytes=100-199' } });
      expect(part.status).toBe(206);
      expect(Buffer.from(await part.arrayBuffer())).toEqual(bytes.subarray(100, 200));
    }
  });

  it('refuses a chunked telemetry body past 64 KB over real HTTP (413)', async () => {
    // A body stream without Content-Length: undici sends Transfer-Encoding: chunked.
    const chunks = (n: number, size: number) =>
      new ReadableStream<Uint8Array>({
        start(c) {
          for (let i = 0; i < n; i++) c.enqueue(new Uint8Array(size).fill(0x78));
          c.close();
        },
      });
    const telemetry = await fetch(`${dev.url}/v1/samples`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: chunks(80, 1024), duplex: 'half' } as RequestInit);
    expect(telemetry.status).toBe(413);
    expect(((await telemetry.json()) as { error: { code: string } }).error.code).toBe('body_too_large');
  });

  it('ingests hourly aggregates, folds them on the scheduled event and reports no drift for reference-like data', async () => {
    await awayFromHourEnd();
    const items = itemsLikeReference(model.manifest);
    // As installs send them: aggregates of the last ended hour, 100 comments each, 24 per batch.
    const hour = hourFloor(Date.now()) - HOUR_MS;
    const aggregates = [];
    for (let i = 0; i < items.length; i += 100) {
      const agg = emptyAggregate(hour);
      for (const x of items.slice(i, i + 100)) addToAggregate(agg, { label: x.label, confidence: x.score, lang: x.lang, tokens: x.tokens }, hour);
      // The last one holds the remainder (31 comments for the committed model's 14,231).
      expect(agg.n).toBeGreaterThanOrEqual(AGGREGATE.min_comments);
      aggregates.push(agg);
    }
    const batches: Array<Record<string, unknown>> = [];
    for (let i = 0; i < aggregates.length; i += AGGREGATE.per_batch) {
      batches.push({
        batch_id: crypto.randomUUID(),
        client_id: `lifecycle-client-${String(batches.length % 16).padStart(4, '0')}`,
        model_version: model.manifest.version,
        consent: 'stats',
        items: aggregates.slice(i, i + AGGREGATE.per_batch),
      });
    }
    let accepted = 0;
    for (let i = 0; i < batches.length; i += 8) {
      const answers = await Promise.all(
        batches.slice(i, i + 8).map(async (b) => {
          const res = await fetch(`${dev.url}/v1/aggregates`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(b) });
          const text = await res.text();
          expect(res.status, text).toBe(202);
          return (JSON.parse(text) as { accepted: number }).accepted;
        }),
      );
      accepted += answers.reduce((a, b) => a + b, 0);
    }
    expect(accepted).toBe(aggregates.length);
    // Queued: the hourly job reads what the lanes stored.
    await untilStored(dev, batches.length);

    const fired = await fetch(`${dev.url}/__scheduled?cron=${encodeURIComponent('5 * * * *')}`);
    expect(fired.status).toBe(200);
    await fired.arrayBuffer();

    // The scheduled handler finishes its waitUntil work after answering: poll for the report.
    type Stored = DriftReport & { source: string };
    const poll = async (): Promise<Stored | null> => {
      const res = await fetch(`${dev.url}/v1/drift`);
      return res.status === 200 ? ((await res.json()) as Stored) : null;
    };
    let report = await poll();
    for (let attempt = 0; attempt < 100 && report?.n !== items.length; attempt++) {
      await new Promise((r) => setTimeout(r, 100));
      report = await poll();
    }
    expect(report).toMatchObject({ source: 'stored', model_version: model.manifest.version, n: items.length, verdict: 'ok' });
    expect(report!.tests!.labels_js.value).toBeLessThan(0.01);
    expect(report!.tests!.tokens_js.value).toBeLessThan(1e-9);
    expect(report!.tests!.confidence_psi.value).toBeLessThan(1e-9);

    const read = { headers: { Authorization: `Bearer ${SECRETS.READ_TOKEN}` } };
    expect((await fetch(`${dev.url}/v1/drift/history`)).status).toBe(401);
    const history = (await (await fetch(`${dev.url}/v1/drift/history`, read)).json()) as { reports: unknown[] };
    expect(history.reports).toHaveLength(1);
    const metrics = await (await fetch(`${dev.url}/metrics`, read)).text();
    expect(metrics).toContain(`ytsent_samples_accepted_total{kind="aggregates"} ${aggregates.length}`);
    expect(metrics).toContain(`ytsent_drift_status{model_version="${model.manifest.version}",verdict="ok"} 1`);
    // The dashboard also takes the read token as an HTTP Basic password, so a browser can ask for it.
    expect((await fetch(`${dev.url}/dashboard`)).headers.get('WWW-Authenticate')).toBe('Basic realm="ytsent-read"');
    const dashboard = await fetch(`${dev.url}/dashboard`, { headers: { Authorization: `Basic ${btoa(`operator:${SECRETS.READ_TOKEN}`)}` } });
    expect(dashboard.status).toBe(200);
    expect(await dashboard.text()).toContain(`Comments per hour, from on-device aggregates (total ${items.length})`);
  });

  it('stops with no process left behind', async () => {
    const pid = dev.pid;
    const tree = descendants(pid);
    // wrangler runs workerd (and esbuild) as child processes.
    expect(tree.length).toBeGreaterThan(0);
    const persist = dev.persistTo;
    await dev.stop();
    expect(alive(pid)).toBe(false);
    for (const child of tree) expect(alive(child), `process ${child} survived`).toBe(false);
    expect(groupAlive(pid)).toBe(false);
    // Its temporary state directory is gone too, and the port is free again.
    expect(existsSync(persist)).toBe(false);
    await expect(fetch(`${dev.url}/health`)).rejects.toThrow();
  });
});

describe('a start that loses a port between picking and binding it', () => {
  // CI once failed this way: workerd's "Address already in use" on a port that was free a moment
  // before. Here the inspector's port is held by another server until wrangler has failed on it once.
  it('is retried instead of failing', async () => {
    const inspectorPort = await freePort();
    const blocker = createServer();
    await new Promise<void>((r) => blocker.listen(inspectorPort, '127.0.0.1', r));
    let refusals = 0;
    const retried = await startWranglerDev({
      inspectorPort,
      vars: { ...SECRETS },
      onLog: (line) => {
        if (!/Address already in use/i.test(line)) return;
        refusals++;
        blocker.close();
      },
    });
    try {
      expect(refusals).toBeGreaterThan(0);
      expect((await fetch(`${retried.url}/health`)).status).toBe(200);
    } finally {
      blocker.close();
      await retried.stop();
    }
    expect(groupAlive(retried.pid)).toBe(false);
  });

  it('gives up with the reason after three tries when the port stays taken', async () => {
    const inspectorPort = await freePort();
    const blocker = createServer();
    await new Promise<void>((r) => blocker.listen(inspectorPort, '127.0.0.1', r));
    let refusals = 0;
    try {
      await expect(startWranglerDev({ inspectorPort, vars: { ...SECRETS }, onLog: (line) => void (/Fatal uncaught.*Address already in use/i.test(line) && refusals++) })).rejects.toThrow(
        /exited before it was ready[\s\S]*Address already in use/,
      );
    } finally {
      await new Promise<void>((r) => blocker.close(() => r()));
    }
    expect(refusals).toBe(3);
  });
});

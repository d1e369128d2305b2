/** A real `wrangler dev` backend for the end-to-end tests, with the committed model published (signed) on stable. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defaultModelDir } from '../../node-runtime/bundle.js';
import { testSecrets } from '../../scripts/dev-secrets.js';
import type { ReleaseKeyFile } from '../../core/release-signature.js';
import { publishModel } from '../../scripts/publish-model.js';
import { freePort, startWranglerDev, type WranglerDev } from '../../scripts/wrangler-dev.js';
import { launchWithExtension, type ExtensionBrowser } from './browser.js';
import { releaseKey } from './release-key.js';

/** The Worker's secrets for the end-to-end backend (passed to wrangler dev as vars). */
export const SECRETS = testSecrets('e2e');

export interface Backend {
  url: string;
  dev: WranglerDev;
  persistTo: string;
  /** Stop the server, keeping its state (R2) for a restart on the same port. */
  stop(): Promise<void>;
  restart(): Promise<void>;
  /** Publishes and promotes `dir`, signed with the run's pinned release key unless `key` says otherwise (null: unsigned). */
  publish(dir: string, channel?: string, key?: ReleaseKeyFile | null): Promise<void>;
  /** Stored telemetry lines (admin export), once the queue consumers stored what was queued. */
  exported(kind: 'aggregates' | 'samples' | 'feedback', modelVersion: string): Promise<Array<Record<string, unknown>>>;
  close(): Promise<void>;
}

/**
 * Waits until the queue consumers stored (or dropped as copies) every batch the Worker queued:
 * `ytsent_batches_total` queued = accepted + duplicate + conflict, over all kinds. A consumer
 * stores a batch within max_batch_timeout (5 s, wrangler.toml) of it being queued.
 */
async function drained(url: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    let text: string;
    try {
      // Bounded: under load wrangler dev has held a request unanswered until the next one arrived;
      // a poll that hangs is abandoned and the next one asks again.
      text = await (await fetch(`${url}/metrics`, { headers: { Authorization: `Bearer ${SECRETS.READ_TOKEN}` }, signal: AbortSignal.timeout(5000) })).text();
    } catch (e) {
      if ((e as Error).name !== 'TimeoutError' || Date.now() > deadline) throw e;
      continue;
    }
    const total = (outcome: string) =>
      text
        .split('\n')
        .filter((l) => l.startsWith('ytsent_batches_total{') && l.includes(`outcome="${outcome}"`))
        .reduce((n, l) => n + Number(l.slice(l.lastIndexOf(' ') + 1)), 0);
    const queued = total('queued');
    const done = total('accepted') + total('duplicate') + total('conflict');
    if (done >= queued) return;
    if (Date.now() > deadline) throw new Error(`queues not drained after ${timeoutMs} ms: ${done} of ${queued} queued batches stored`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

export async function startBackend(): Promise<Backend> {
  const persistTo = mkdtempSync(join(tmpdir(), 'ytsent-e2e-r2-'));
  const port = await freePort();
  const start = () => startWranglerDev({ port, persistTo, vars: { ...SECRETS } });
  let dev = await start();
  const backend: Backend = {
    url: dev.url,
    get dev() {
      return dev;
    },
    persistTo,
    async stop() {
      await dev.stop();
    },
    async restart() {
      dev = await start();
    },
    async publish(dir, channel = 'stable', key) {
      const signer = key === undefined ? await releaseKey() : (key ?? undefined);
      // These tests ship test versions that no champion/challenger gate blessed: forced, as an
      // admin would, which the channel history records (docs/MLOPS.md).
      await publishModel({
        dir,
        url: dev.url,
        publishToken: SECRETS.ADMIN_PUBLISH_TOKEN,
        promoteToken: SECRETS.ADMIN_PROMOTE_TOKEN,
        channel,
        releaseKey: signer,
        forceReason: 'end-to-end test of extension updates',
        log: () => {},
      });
    },
    async exported(kind, modelVersion) {
      await drained(dev.url);
      const res = await fetch(`${dev.url}/v1/admin/export?kind=${kind}&model_version=${modelVersion}`, { headers: { Authorization: `Bearer ${SECRETS.READ_TOKEN}` } });
      if (!res.ok) throw new Error(`export: HTTP ${res.status} ${await res.text()}`);
      return (await res.text())
        .split('\n')
        .filter((l) => l.trim() !== '')
        .map((l) => JSON.parse(l) as Record<string, unknown>);
    },
    async close() {
      await dev.stop();
      rmSync(persistTo, { recursive: true, force: true });
    },
  };
  await backend.publish(defaultModelDir());
  return backend;
}

/** A backend with the committed model published, and a browser with the extension pointed at it. */
export async function startBackendAndBrowser(): Promise<{ backend: Backend; browser: ExtensionBrowser; close(): Promise<void> }> {
  const backend = await startBackend();
  const browser = await launchWithExtension();
  await browser.background('update-settings', { backend_url: backend.url });
  return {
    backend,
    browser,
    async close() {
      await browser.close();
      await backend.close();
    },
  };
}

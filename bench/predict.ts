/**
 * `npm run bench:predict`: POST /v1/predict on a local `wrangler dev` (workerd, R2 on disk, the
 * rate-limiting binding of wrangler.toml), with the committed model published on `stable`.
 *
 * Requests/s and client-side latency (p50, p95) for single comments and for batches of 64, a fixed
 * number in flight, every comment distinct (the model runs; the cache never answers), and once
 * more for single comments the cache answers (one repeated text). The key limit is 10 requests a
 * second (100 per 10 s), so each run spreads its requests over enough fresh keys to stay under it:
 * a 429 would be counted as an error, and there must be none.
 *
 * Writes bench/results/predict.json and its section of bench/results/backend.md (between its
 * markers; the rest of that file is bench/backend.ts's).
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseManifest } from '../core/manifest.js';
import { defaultModelDir } from '../node-runtime/bundle.js';
import { testSecrets } from '../scripts/dev-secrets.js';
import { publishModel } from '../scripts/publish-model.js';
import { startWranglerDev } from '../scripts/wrangler-dev.js';
import { machine, median, percentile, RESULTS_DIR, table } from './stats.js';

const RUNS = 3;
const IN_FLIGHT = 8;
const SINGLE_REQUESTS = 1500;
const BATCH_REQUESTS = 150;
const BATCH = 64;
/** Requests per key and run: well under the limit of 100 per 10 s even if two runs share a window. */
const PER_KEY = 40;
const SECRETS = testSecrets('bench-predict');
export const SECTION_START = '<!-- section:predict -->';
export const SECTION_END = '<!-- /section:predict -->';

interface Run {
  requests: number;
  comments: number;
  ms: number;
  requests_per_s: number;
  comments_per_s: number;
  p50_ms: number;
  p95_ms: number;
  errors: number;
}

const texts = readFileSync(fileURLToPath(new URL('../tests/fixtures/texts.jsonl', import.meta.url)), 'utf8')
  .trim()
  .split('\n')
  .map((l) => (JSON.parse(l) as { text: string }).text)
  .filter((t) => new TextEncoder().encode(t).byteLength <= 2000);

async function main(): Promise<void> {
  const dir = defaultModelDir();
  const manifest = parseManifest(JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')));
  const loadBefore = loadavg()[0]!;
  const dev = await startWranglerDev({ vars: { ...SECRETS, METRICS_FLUSH_MS: '2000' } });
  try {
    await publishModel({ dir, url: dev.url, publishToken: SECRETS.ADMIN_PUBLISH_TOKEN, log: () => {} });
    const admin = (path: string, body: unknown) =>
      fetch(`${dev.url}${path}`, { method: 'POST', headers: { Authorization: `Bearer ${SECRETS.ADMIN_PROMOTE_TOKEN}`, 'Content-Type': 'application/json' }, body: JSON.stringify(body) });
    let promoted = await admin('/v1/channels/stable', { version: manifest.version });
    // Should a promotion gate ask for a blessing: this is the committed release, as npm start publishes it.
    if (promoted.status === 409) promoted = await admin('/v1/channels/stable', { version: manifest.version, force: true, reason: 'benchmark of the committed release' });
    if (promoted.status !== 200) throw new Error(`promote: HTTP ${promoted.status} ${await promoted.text()}`);
    // One at a time, outside the measured span.
    const keys = async (n: number): Promise<string[]> => {
      const out: string[] = [];
      for (let i = 0; i < n; i++) {
        const res = await admin('/v1/admin/keys', { name: `bench ${i}` });
        if (res.status !== 201) throw new Error(`key: HTTP ${res.status} ${await res.text()}`);
        out.push(((await res.json()) as { key: string }).key);
      }
      return out;
    };

    let serial = 0;
    /** `requests` POSTs with `IN_FLIGHT` in flight; `body(i)` is request i's body and its comment count. */
    const measure = async (requests: number, body: (i: number) => { json: string; comments: number }): Promise<Run> => {
      const pool = await keys(Math.ceil(requests / PER_KEY));
      const bodies = Array.from({ length: requests }, (_, i) => body(i));
      const latencies: number[] = [];
      let next = 0;
      let errors = 0;
      let comments = 0;
      const t0 = performance.now();
      await Promise.all(
        Array.from({ length: IN_FLIGHT }, async () => {
          while (next < requests) {
            const i = next++;
            const s = performance.now();
            const res = await fetch(`${dev.url}/v1/predict`, {
              method: 'POST',
              headers: { Authorization: `Bearer ${pool[i % pool.length]}`, 'Content-Type': 'application/json' },
              body: bodies[i]!.json,
            });
            await res.arrayBuffer();
            latencies.push(performance.now() - s);
            if (res.status === 200) comments += bodies[i]!.comments;
            else errors++;
          }
        }),
      );
      const ms = performance.now() - t0;
      return { requests, comments, ms, requests_per_s: requests / (ms / 1000), comments_per_s: comments / (ms / 1000), p50_ms: percentile(latencies, 50), p95_ms: percentile(latencies, 95), errors };
    };
    // Distinct comments: a serial number makes every text new to the cache.
    const comment = () => {
      serial++;
      return `${texts[serial % texts.length]} #${serial}`;
    };

    // Warm-up: the isolate loads the model on its first request.
    await measure(20, () => ({ json: JSON.stringify({ comment: comment() }), comments: 1 }));
    const single: Run[] = [];
    const batch: Run[] = [];
    const cached: Run[] = [];
    for (let r = 0; r < RUNS; r++) {
      single.push(await measure(SINGLE_REQUESTS, () => ({ json: JSON.stringify({ comment: comment() }), comments: 1 })));
      batch.push(await measure(BATCH_REQUESTS, () => ({ json: JSON.stringify({ items: Array.from({ length: BATCH }, () => ({ comment: comment() })) }), comments: BATCH })));
      cached.push(await measure(SINGLE_REQUESTS, () => ({ json: JSON.stringify({ comment: 'the same comment every time' }), comments: 1 })));
      process.stderr.write(
        `run ${r + 1}: single ${single[r]!.requests_per_s.toFixed(0)} req/s, batch ${batch[r]!.requests_per_s.toFixed(1)} req/s, cached ${cached[r]!.requests_per_s.toFixed(0)} req/s\n`,
      );
    }
    // What the Worker itself measured (its clock stands still during CPU work: see worker/lib/latency.ts).
    await new Promise((r) => setTimeout(r, 2500));
    const metrics = await (await fetch(`${dev.url}/metrics`, { headers: { Authorization: `Bearer ${SECRETS.READ_TOKEN}` } })).text();
    const workerQuantiles = Object.fromEntries(
      [...metrics.matchAll(/^ytsent_http_request_duration_quantile_seconds\{quantile="([^"]+)",route="\/v1\/predict"\} (\S+)$/gm)].map((m) => [m[1]!, Number(m[2]) * 1000]),
    );

    const summary = (runs: Run[]): Summary & { runs: Run[] } => ({
      median_requests_per_s: median(runs.map((r) => r.requests_per_s)),
      median_comments_per_s: median(runs.map((r) => r.comments_per_s)),
      median_p50_ms: median(runs.map((r) => r.p50_ms)),
      median_p95_ms: median(runs.map((r) => r.p95_ms)),
      errors: runs.reduce((a, r) => a + r.errors, 0),
      runs,
    });
    const result = {
      machine: { ...machine(), load_avg_1m_before: loadBefore, load_avg_1m_after: loadavg()[0]! },
      model_version: manifest.version,
      in_flight: IN_FLIGHT,
      single: summary(single),
      batch64: summary(batch),
      single_cached: summary(cached),
      worker_measured_ms: workerQuantiles,
    };
    writeFileSync(join(RESULTS_DIR, 'predict.json'), JSON.stringify(result, null, 2) + '\n');
    writeSection(markdown(result));
    process.stdout.write(markdown(result) + '\n');
    if (result.single.errors + result.batch64.errors + result.single_cached.errors > 0) process.exitCode = 1;
  } finally {
    await dev.stop();
  }
}

interface Summary {
  median_requests_per_s: number;
  median_comments_per_s: number;
  median_p50_ms: number;
  median_p95_ms: number;
  errors: number;
}

function markdown(r: { machine: Record<string, unknown>; model_version: string; single: Summary; batch64: Summary; single_cached: Summary; worker_measured_ms: Record<string, number> }): string {
  const m = r.machine as { date: string; load_avg_1m_before: number; load_avg_1m_after: number; cores: number };
  const row = (name: string, s: Summary) => [name, s.median_requests_per_s.toFixed(1), Math.round(s.median_comments_per_s), s.median_p50_ms.toFixed(1), s.median_p95_ms.toFixed(1), s.errors];
  return `${SECTION_START}
## Server-side scoring (POST /v1/predict, ${m.date.slice(0, 10)}, \`npm run bench:predict\`)

Model ${r.model_version} on \`stable\`, served by the Worker's TypeScript forward pass; ${IN_FLIGHT} requests in flight
from one client on the same machine; medians of ${RUNS} runs (${SINGLE_REQUESTS} single requests, ${BATCH_REQUESTS} batches each).
Every comment distinct (the model runs) except in the last row (one repeated comment: the cache answers).
1-minute load average before/after: ${m.load_avg_1m_before.toFixed(2)} / ${m.load_avg_1m_after.toFixed(2)} (${m.cores} cores, shared with the client).

${table(['request', 'requests/s', 'comments/s', 'p50 ms', 'p95 ms', 'errors'], [row('single comment', r.single), row(`batch of ${BATCH}`, r.batch64), row('single comment, cached', r.single_cached)])}

The Worker's own latency histogram for the route reads p50 ${fmt(r.worker_measured_ms['0.5'])} ms, p95 ${fmt(r.worker_measured_ms['0.95'])} ms:
Workers' clocks do not advance during CPU work, so what it records is time spent waiting (R2, the
rate limiter, the request body), not scoring. The client-side numbers above are the whole.
${SECTION_END}`;
}

const fmt = (v: number | undefined) => (v === undefined ? '–' : v.toFixed(2));

/** Replaces this benchmark's section of backend.md (or appends it), leaving the rest as it is. */
function writeSection(section: string): void {
  const path = join(RESULTS_DIR, 'backend.md');
  const current = existsSync(path) ? readFileSync(path, 'utf8') : '# Backend benchmark\n';
  const start = current.indexOf(SECTION_START);
  const end = current.indexOf(SECTION_END);
  const next = start >= 0 && end > start ? current.slice(0, start) + section + current.slice(end + SECTION_END.length) : `${current.trimEnd()}\n\n${section}\n`;
  writeFileSync(path, next.trimEnd() + '\n');
}

await main();

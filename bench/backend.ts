/**
 * `npm run bench:backend`: the sync backend's costs, medians of several runs.
 *
 * 1. Ingest throughput: batches of on-device hourly aggregates (24 per batch, each over 100
 *    comments) POSTed to a local `wrangler dev` on loopback with a fixed number in flight, bounded
 *    in count (BATCHES per run) and time (RUN_LIMIT_MS).
 * 2. Drift computation from hourly summaries (worker/drift/aggregate.ts, in process): parse the
 *    summaries' JSON, sum them, compare with the reference. Once for 10k, 100k and 1M samples in
 *    24 hourly summaries (the cost must not grow with samples), once for 24, 168 and 720 summaries
 *    of 1M samples (it grows with summaries). Plus the one step that does scale with samples:
 *    folding an hour's stored aggregates into its summary, and the whole hourly job inside workerd.
 * 3. Model download throughput: GET of the committed model file from wrangler dev (R2 on disk).
 *
 * Writes bench/results/backend.json and bench/results/backend.md.
 */
import { rng } from '../core/random.js';
import { defaultModelDir } from '../node-runtime/bundle.js';
import { parseManifest, type Reference } from '../core/manifest.js';
import { LABELS } from '../core/labels.js';
import { CONFIDENCE_EDGES, histogram } from '../core/drift.js';
import { TOKEN_BUCKETS } from '../core/token-buckets.js';
import { addToAggregate, emptyAggregate } from '../core/aggregates.js';
import { AGGREGATE, hourFloor, type AggregateItem } from '../core/wire.js';
import { buildReport, emptySummary, foldAggregates, type HourSummary } from '../worker/drift/aggregate.js';
import { publishModel } from '../scripts/publish-model.js';
import { testSecrets } from '../scripts/dev-secrets.js';
import { startWranglerDev } from '../scripts/wrangler-dev.js';
import { machine, median, percentile, RESULTS_DIR, table, writeResults } from './stats.js';
import { existsSync, readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';

const RUNS = 5;
const BATCHES = 200; // × AGGREGATE.per_batch aggregates per run
const IN_FLIGHT = 16;
const RUN_LIMIT_MS = 20_000;
const DOWNLOADS = 20;
const SECRETS = testSecrets('bench');
const HOUR_MS = 3_600_000;

/** `n` aggregates of 100 random comments each, over the hour before `now`'s. */
function aggregateItems(n: number, rand: () => number, now: number): AggregateItem[] {
  const hour = hourFloor(now) - HOUR_MS;
  return Array.from({ length: n }, () => {
    const agg = emptyAggregate(hour);
    for (let i = 0; i < 100; i++) {
      const tokens = [...new Set(Array.from({ length: 4 + Math.floor(rand() * 20) }, () => Math.floor(rand() * TOKEN_BUCKETS)))];
      addToAggregate(agg, { label: LABELS[Math.floor(rand() * 3)]!, confidence: 0.34 + rand() * 0.66, tokens, lang: rand() < 0.8 ? 'en' : 'de' }, hour);
    }
    return agg;
  });
}

/** A summary of `n` samples with realistic spread (no need to fold them one by one). */
function syntheticSummary(version: string, hour: string, n: number, rand: () => number): HourSummary {
  const s = emptySummary(version, hour);
  s.n = n;
  s.aggregates = Math.ceil(n / 100);
  s.label_counts = [Math.floor(n * 0.2), Math.floor(n * 0.25)];
  s.label_counts.push(n - s.label_counts[0]! - s.label_counts[1]!);
  s.confidence.counts = s.confidence.counts.map((_, i) => (i >= 3 ? Math.floor((n / 7) * (0.5 + rand())) : 0));
  s.tokens.n = n;
  s.tokens.counts = s.tokens.counts.map(() => Math.floor(n * 0.05 * (0.5 + rand())));
  s.languages = { en: Math.floor(n * 0.8), de: n - Math.floor(n * 0.8) };
  s.source = { objects: Math.ceil(n / 100), digest: 'x'.repeat(64) };
  s.folded_at = new Date().toISOString();
  return s;
}

function syntheticReference(rand: () => number): Reference {
  return {
    source: 'bench',
    n: 10_000,
    label_shares: [0.2, 0.25, 0.55],
    confidence_hist: {
      edges: [...CONFIDENCE_EDGES],
      counts: histogram(
        Array.from({ length: 10_000 }, () => 0.34 + rand() * 0.66),
        CONFIDENCE_EDGES,
      ),
    },
    token_hist: { buckets: TOKEN_BUCKETS, counts: Array.from({ length: TOKEN_BUCKETS }, () => Math.floor(500 * (0.5 + rand()))) },
  };
}

/** Median ms of `fn` over `reps` repetitions (after one warm-up). */
function timeIt(fn: () => void, reps: number): number {
  fn();
  const times: number[] = [];
  for (let r = 0; r < reps; r++) {
    const t0 = performance.now();
    fn();
    times.push(performance.now() - t0);
  }
  return median(times);
}

function driftComputation() {
  const rand = rng(7);
  const reference = syntheticReference(rand);
  const now = Date.now();
  const scenario = (hours: number, samples: number) => {
    const per = Math.floor(samples / hours);
    // The worker receives summaries as JSON from R2: parsing is part of the cost.
    const texts = Array.from({ length: hours }, (_, i) => JSON.stringify(syntheticSummary('1.0.0', new Date(now - (hours - i) * HOUR_MS).toISOString().slice(0, 13), per, rand)));
    let verdict = '';
    const ms = timeIt(() => {
      const summaries = texts.map((t) => JSON.parse(t) as HourSummary);
      const report = buildReport({ modelVersion: '1.0.0', summaries, reference, window: { hours, fromMs: now - hours * HOUR_MS, toMs: now }, generatedAt: now });
      verdict = report.verdict;
    }, 30);
    return { summaries: hours, samples: per * hours, ms, summary_json_bytes: texts.reduce((a, t) => a + t.length, 0), verdict };
  };
  scenario(24, 10_000); // warm-up: the first scenario would otherwise also time the JIT
  const bySamples = [10_000, 100_000, 1_000_000].map((n) => scenario(24, n));
  const bySummaries = [24, 168, 720].map((h) => scenario(h, 1_000_000));

  // Folding stored aggregates (the only step proportional to what arrived, once per hour and
  // batch): 1,000 aggregates of 100 comments in batches of AGGREGATE.per_batch.
  const items = aggregateItems(1000, rand, now).map((a) => JSON.stringify({ batch_id: 'b', model_version: '1.0.0', consent: 'stats', ...a }));
  const ndjson: string[] = [];
  for (let i = 0; i < items.length; i += AGGREGATE.per_batch) ndjson.push(items.slice(i, i + AGGREGATE.per_batch).join('\n') + '\n');
  const foldMs = timeIt(() => {
    const s = emptySummary('1.0.0', 'h');
    for (const t of ndjson) foldAggregates(s, t);
  }, 10);
  return { bySamples, bySummaries, fold: { aggregates: items.length, objects: ndjson.length, ms: foldMs, aggregates_per_s: items.length / (foldMs / 1000) } };
}

async function backendRuns(modelDir: string) {
  const manifest = parseManifest(JSON.parse(readFileSync(join(modelDir, 'manifest.json'), 'utf8')));
  const dev = await startWranglerDev({ vars: { ...SECRETS, METRICS_FLUSH_MS: '2000', DRIFT_INCLUDE_CURRENT_HOUR: 'true' } });
  try {
    await publishModel({ dir: modelDir, url: dev.url, publishToken: SECRETS.ADMIN_PUBLISH_TOKEN, promoteToken: SECRETS.ADMIN_PROMOTE_TOKEN, channel: 'stable', log: () => {} });
    const rand = rng(11);

    // 1. Ingest.
    const ingest: Array<{ aggregates: number; ms: number; aggregates_per_s: number; p50_ms: number; p95_ms: number }> = [];
    for (let run = 0; run < RUNS; run++) {
      const now = Date.now();
      const bodies = Array.from({ length: BATCHES }, (_, b) =>
        JSON.stringify({
          batch_id: crypto.randomUUID(),
          client_id: `bench-${run}-${b}-${'x'.repeat(10)}`,
          model_version: manifest.version,
          consent: 'stats',
          items: aggregateItems(AGGREGATE.per_batch, rand, now),
        }),
      );
      const latencies: number[] = [];
      let next = 0;
      let accepted = 0;
      const t0 = performance.now();
      const deadline = t0 + RUN_LIMIT_MS;
      await Promise.all(
        Array.from({ length: IN_FLIGHT }, async () => {
          while (next < bodies.length && performance.now() < deadline) {
            const body = bodies[next++]!;
            const s = performance.now();
            const res = await fetch(`${dev.url}/v1/aggregates`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body });
            const json = (await res.json()) as { accepted?: number };
            if (res.status !== 202) throw new Error(`ingest: HTTP ${res.status} ${JSON.stringify(json)}`);
            accepted += json.accepted ?? 0;
            latencies.push(performance.now() - s);
          }
        }),
      );
      const ms = performance.now() - t0;
      ingest.push({ aggregates: accepted, ms, aggregates_per_s: accepted / (ms / 1000), p50_ms: percentile(latencies, 50), p95_ms: percentile(latencies, 95) });
      process.stderr.write(`ingest run ${run + 1}: ${accepted} aggregates in ${ms.toFixed(0)} ms\n`);
    }

    // The hourly job reads what the queue consumers stored: wait until they drained the queues.
    const acceptedBatches = ingest.reduce((n, r) => n + r.aggregates, 0) / AGGREGATE.per_batch;
    const hour = new Date().toISOString().slice(0, 13);
    for (let waited = 0; ; waited += 200) {
      const status = (await (await fetch(`${dev.url}/v1/admin/ingest?hour=${hour}`, { headers: { Authorization: `Bearer ${SECRETS.READ_TOKEN}` } })).json()) as { batches: number };
      if (status.batches >= acceptedBatches) break;
      if (waited > 120_000) throw new Error(`queues not drained: ${status.batches} of ${acceptedBatches} batches stored`);
      await new Promise((r) => setTimeout(r, 200));
    }

    // The hourly job inside workerd over everything just ingested: the first run sums the hour's
    // lane states; a second run finds them unchanged and only reports.
    const job = async () => {
      const t = performance.now();
      const res = await fetch(`${dev.url}/v1/admin/drift/run`, { method: 'POST', headers: { Authorization: `Bearer ${SECRETS.ADMIN_PROMOTE_TOKEN}` } });
      const body = (await res.json()) as { versions: Array<{ n: number; folded_hours: string[] }> };
      if (res.status !== 200) throw new Error(`drift run: HTTP ${res.status}`);
      return { ms: performance.now() - t, n: body.versions[0]?.n ?? 0, folded_hours: body.versions[0]?.folded_hours.length ?? 0 };
    };
    const firstJob = await job();
    const repeatJobs = [await job(), await job(), await job()];
    const cron = { fold_and_report: firstJob, report_only_median_ms: median(repeatJobs.map((j) => j.ms)), objects: RUNS * BATCHES };

    // 3. Downloads.
    const file = manifest.files.find((f) => f.path === manifest.model.file)!;
    const downloads: number[] = [];
    for (let i = 0; i < DOWNLOADS; i++) {
      const t = performance.now();
      const res = await fetch(`${dev.url}/v1/models/${manifest.version}/files/${file.path}`);
      const bytes = (await res.arrayBuffer()).byteLength;
      if (bytes !== file.bytes) throw new Error(`download: ${bytes} bytes, expected ${file.bytes}`);
      downloads.push(bytes / 1e6 / ((performance.now() - t) / 1000));
    }
    const parallel: number[] = [];
    for (let r = 0; r < 3; r++) {
      const t = performance.now();
      await Promise.all(Array.from({ length: 4 }, async () => (await fetch(`${dev.url}/v1/models/${manifest.version}/files/${file.path}`)).arrayBuffer()));
      parallel.push((4 * file.bytes) / 1e6 / ((performance.now() - t) / 1000));
    }
    return { version: manifest.version, file: { path: file.path, bytes: file.bytes }, ingest, cron, downloads, parallel };
  } finally {
    await dev.stop();
  }
}

/** `<!-- section:NAME -->` … `<!-- /section:NAME -->` blocks of the current backend.md, written by other benchmarks. */
function keptSections(): string {
  const path = join(RESULTS_DIR, 'backend.md');
  if (!existsSync(path)) return '';
  const blocks = readFileSync(path, 'utf8').match(/<!-- section:([a-z-]+) -->[\s\S]*?<!-- \/section:\1 -->/g) ?? [];
  return blocks.map((b) => `\n${b}\n`).join('');
}

async function main(): Promise<void> {
  const modelDir = defaultModelDir();
  // Other work on the machine moves every number here; record how busy it was.
  const loadBefore = loadavg()[0]!;
  process.stderr.write('drift computation (in process)...\n');
  const drift = driftComputation();
  process.stderr.write('wrangler dev: ingest, hourly job, downloads...\n');
  const b = await backendRuns(modelDir);

  const ingestMedian = median(b.ingest.map((r) => r.aggregates_per_s));
  const result = {
    machine: { ...machine(), load_avg_1m_before: loadBefore, load_avg_1m_after: loadavg()[0]! },
    model_version: b.version,
    runs: RUNS,
    ingest: {
      batches_per_run: BATCHES,
      items_per_batch: AGGREGATE.per_batch,
      in_flight: IN_FLIGHT,
      run_limit_ms: RUN_LIMIT_MS,
      median_aggregates_per_s: ingestMedian,
      median_batches_per_s: ingestMedian / AGGREGATE.per_batch,
      median_p50_ms: median(b.ingest.map((r) => r.p50_ms)),
      median_p95_ms: median(b.ingest.map((r) => r.p95_ms)),
      runs: b.ingest,
    },
    drift: { ...drift, hourly_job_in_workerd: b.cron },
    download: {
      file: b.file,
      sequential_median_mb_per_s: median(b.downloads),
      parallel4_median_mb_per_s: median(b.parallel),
      sequential_runs: b.downloads,
      parallel4_runs: b.parallel,
    },
  };

  const m = result.machine as { cpu: string; cores: number; node: string; date: string; load_avg_1m_before: number; load_avg_1m_after: number };
  const md = `# Backend benchmark (${m.date.slice(0, 10)})

Local \`wrangler dev\` (workerd, R2 on disk) on loopback; Node ${m.node}, ${m.cpu}, ${m.cores} cores. Medians of ${RUNS} runs unless noted.
Client and server share the machine's cores, so these are lower bounds for a deployed Worker.
1-minute load average before/after the run: ${m.load_avg_1m_before.toFixed(2)} / ${m.load_avg_1m_after.toFixed(2)} (above ${m.cores}, other work competed for the CPU).

## Ingest (POST /v1/aggregates, ${AGGREGATE.per_batch} hourly aggregates per batch, ${IN_FLIGHT} in flight)

${table(
  ['metric', 'value'],
  [
    ['aggregates/s', Math.round(ingestMedian)],
    ['batches/s', (ingestMedian / AGGREGATE.per_batch).toFixed(1)],
    ['request latency p50, ms', result.ingest.median_p50_ms.toFixed(0)],
    ['request latency p95, ms', result.ingest.median_p95_ms.toFixed(0)],
    ['aggregates per run', BATCHES * AGGREGATE.per_batch],
  ],
)}

Each accepted batch: validation (every count vector against n), scrubbing, one queue message; the lanes' consumers store it (R2 writes per batch, dedupe, drain time: the queued-ingest section below, \`npm run bench:ingest\`).

## Drift computation from hourly summaries (in process, worker/drift/aggregate.ts)

Parse the summaries' JSON, sum them, run every test against the reference. Same number of summaries, more samples:

${table(
  ['summaries', 'samples', 'ms (median of 30)', 'summary JSON bytes'],
  drift.bySamples.map((r) => [r.summaries, r.samples, r.ms.toFixed(3), r.summary_json_bytes]),
)}

Same samples (1M), more summaries (hours in the window):

${table(
  ['summaries', 'samples', 'ms (median of 30)', 'summary JSON bytes'],
  drift.bySummaries.map((r) => [r.summaries, r.samples, r.ms.toFixed(3), r.summary_json_bytes]),
)}

The cost follows the number of summaries (each a fixed ~300 counts), not the comments behind them.
The step that scales with what arrived runs once per delivery in the queue consumers: folding aggregates into the lane's summary,
${Math.round(drift.fold.aggregates_per_s).toLocaleString('en-US')} aggregates/s in process (${drift.fold.aggregates.toLocaleString('en-US')} aggregates in ${drift.fold.objects} objects: ${drift.fold.ms.toFixed(1)} ms).

Hourly job inside workerd (POST /v1/admin/drift/run) over the ${(RUNS * BATCHES).toLocaleString('en-US')} batches ingested above (${b.cron.fold_and_report.n.toLocaleString('en-US')} comments):

${table(
  ['run', 'ms'],
  [
    ['first: read and sum the lane states of each hour, report', Math.round(b.cron.fold_and_report.ms)],
    ['again, lanes unchanged: read them, compare digest, report (median of 3)', Math.round(b.cron.report_only_median_ms)],
  ],
)}

## Model download (GET /v1/models/:version/files/${b.file.path}, ${(b.file.bytes / 1e6).toFixed(2)} MB)

${table(
  ['mode', 'MB/s'],
  [
    [`sequential, median of ${DOWNLOADS}`, result.download.sequential_median_mb_per_s.toFixed(0)],
    ['4 in parallel (aggregate), median of 3', result.download.parallel4_median_mb_per_s.toFixed(0)],
  ],
)}
`;
  // Sections other benchmarks keep in this file (bench/predict.ts) survive a re-run of this one.
  writeResults('backend', result, md + keptSections());
  process.stdout.write(md);
}

await main();

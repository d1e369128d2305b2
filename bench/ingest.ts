/**
 * `npm run bench:ingest`: telemetry ingest through the queues, simulated on a local `wrangler dev`
 * (real workerd, real local queues and consumers from wrangler.toml, R2 on disk).
 *
 * Per run, in a fresh `wrangler dev`: INSTALLS simulated installs (each its own client id and
 * network) send BATCHES_PER_INSTALL batches of AGGREGATES_PER_BATCH hourly aggregates each
 * (100,000 aggregates with the defaults: an hour with 100k items), IN_FLIGHT requests at a time;
 * then RESEND_SHARE of the batches again (client retries). Measured:
 * - accepted batches and items (202 answers), and stored batches and items once the consumers
 *   drained the queues (GET /v1/admin/ingest, and every line read back through the export):
 *   stored must equal accepted, every resend dropped;
 * - R2 operations of the ingest path per accepted batch, from the consumers' own counters
 *   (ytsent_ingest_r2_writes_total / _reads_total in /metrics), deliveries and batches per delivery;
 * - request latency p50 / p95 at the client, and the time from the last answer to all stored;
 * - the hourly job (POST /v1/admin/drift/run, the current hour included) over that hour: first
 *   (sums the lane states) and again (nothing changed; median of 3).
 * RUNS runs; the table gives medians. Writes bench/results/ingest.json and the "ingest-queue"
 * section of bench/results/backend.md (bench:backend keeps it).
 *
 * Environment: INGEST_INSTALLS, INGEST_BATCHES_PER_INSTALL, INGEST_RUNS override the defaults.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { addToAggregate, emptyAggregate } from '../core/aggregates.js';
import { LABELS } from '../core/labels.js';
import { rng } from '../core/random.js';
import { TOKEN_BUCKETS } from '../core/token-buckets.js';
import { AGGREGATE, hourFloor, type AggregateItem } from '../core/wire.js';
import { defaultModelDir } from '../node-runtime/bundle.js';
import { testSecrets } from '../scripts/dev-secrets.js';
import { publishModel } from '../scripts/publish-model.js';
import { startWranglerDev } from '../scripts/wrangler-dev.js';
import { machine, median, percentile, RESULTS_DIR, table } from './stats.js';

const INSTALLS = Number(process.env.INGEST_INSTALLS ?? 1000);
const BATCHES_PER_INSTALL = Number(process.env.INGEST_BATCHES_PER_INSTALL ?? 5);
const AGGREGATES_PER_BATCH = 20;
const RUNS = Number(process.env.INGEST_RUNS ?? 3);
const RESEND_SHARE = 0.05;
const IN_FLIGHT = 32;
const SECRETS = testSecrets('bench-ingest');
const HOUR_MS = 3_600_000;
const SECTION = 'ingest-queue';

if (AGGREGATES_PER_BATCH > AGGREGATE.per_batch) throw new Error('more aggregates per batch than the wire format allows');

/** A pool of distinct aggregates of 100 random comments, each over an ended hour of the last day. */
function aggregatePool(n: number, now: number): AggregateItem[] {
  const rand = rng(12);
  return Array.from({ length: n }, (_, i) => {
    const hour = hourFloor(now) - (1 + (i % 20)) * HOUR_MS;
    const agg = emptyAggregate(hour);
    for (let k = 0; k < 100; k++) {
      const tokens = [...new Set(Array.from({ length: 4 + Math.floor(rand() * 20) }, () => Math.floor(rand() * TOKEN_BUCKETS)))];
      addToAggregate(agg, { label: LABELS[Math.floor(rand() * 3)]!, confidence: 0.34 + rand() * 0.66, tokens, lang: rand() < 0.8 ? 'en' : 'de' }, hour);
    }
    return agg;
  });
}

interface Send {
  body: string;
  ip: string;
  batchId: string;
  items: number;
}

function plan(version: string, now: number): Send[] {
  const pool = aggregatePool(AGGREGATES_PER_BATCH * 2, now);
  const sends: Send[] = [];
  for (let i = 0; i < INSTALLS; i++) {
    // One network per install (a /64 each), so the per-network limit sees what a real population would.
    const ip = `2001:db8:${(i >> 16).toString(16)}:${(i & 0xffff).toString(16)}::1`;
    const clientId = `bench-install-${String(i).padStart(6, '0')}`;
    for (let b = 0; b < BATCHES_PER_INSTALL; b++) {
      const batchId = crypto.randomUUID();
      // A different window of the pool per batch: the hours of one batch's aggregates are distinct.
      const items = Array.from({ length: AGGREGATES_PER_BATCH }, (_, k) => pool[(k + b) % pool.length]!).filter((a, k, all) => all.findIndex((x) => x.hour_from === a.hour_from) === k);
      const body = JSON.stringify({ batch_id: batchId, client_id: clientId, model_version: version, extension_version: '0.2.0', consent: 'stats', items });
      sends.push({ body, ip, batchId, items: items.length });
    }
  }
  return sends;
}

async function sendAll(url: string, sends: readonly Send[]): Promise<{ latencies: number[]; accepted: Map<string, number>; ms: number }> {
  const latencies: number[] = [];
  const accepted = new Map<string, number>();
  let next = 0;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: IN_FLIGHT }, async () => {
      while (next < sends.length) {
        const s = sends[next++]!;
        const t = performance.now();
        const res = await fetch(`${url}/v1/aggregates`, { method: 'POST', headers: { 'Content-Type': 'application/json', 'CF-Connecting-IP': s.ip }, body: s.body });
        const text = await res.text();
        latencies.push(performance.now() - t);
        if (res.status !== 202) throw new Error(`POST /v1/aggregates: HTTP ${res.status} ${text}`);
        accepted.set(s.batchId, (JSON.parse(text) as { accepted: number }).accepted);
      }
    }),
  );
  return { latencies, accepted, ms: performance.now() - t0 };
}

const auth = (token: string) => ({ Authorization: `Bearer ${token}` });

async function ingestStatus(url: string, hour: string): Promise<{ batches: number; items: number; lanes: Array<{ lane: number; batches: number; duplicates: number; segments: number }> }> {
  const res = await fetch(`${url}/v1/admin/ingest?hour=${hour}`, { headers: auth(SECRETS.READ_TOKEN) });
  if (res.status !== 200) throw new Error(`GET /v1/admin/ingest: HTTP ${res.status}`);
  return (await res.json()) as Awaited<ReturnType<typeof ingestStatus>>;
}

async function counters(url: string): Promise<(series: string) => number> {
  const text = await (await fetch(`${url}/metrics`, { headers: auth(SECRETS.READ_TOKEN) })).text();
  return (series: string) => {
    let sum = 0;
    // Sums every series whose name and labels start with `series` (e.g. all lanes).
    for (const line of text.split('\n')) if (line.startsWith(series)) sum += Number(line.slice(line.lastIndexOf(' ') + 1));
    return sum;
  };
}

interface Run {
  batches_sent: number;
  resends: number;
  batches_accepted: number;
  items_accepted: number;
  batches_stored: number;
  items_stored_status: number;
  items_exported: number;
  duplicates_dropped: number;
  deliveries: number;
  batches_per_delivery: number;
  r2_writes: { segments: number; states: number; votes: number; deletes: number };
  r2_writes_per_batch: number;
  r2_reads_per_batch: number;
  requests_per_s: number;
  latency_p50_ms: number;
  latency_p95_ms: number;
  drain_ms: number;
  cron_first_ms: number;
  cron_again_ms: number;
  cron_n: number;
  lanes: number;
  /** Stored NDJSON bytes per item (what R2 storage grows by). */
  bytes_per_item: number;
}

async function oneRun(run: number): Promise<Run> {
  const dev = await startWranglerDev({ vars: { ...SECRETS, DRIFT_INCLUDE_CURRENT_HOUR: 'true' } });
  try {
    const dir = defaultModelDir();
    const version = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')).version as string;
    await publishModel({ dir, url: dev.url, publishToken: SECRETS.ADMIN_PUBLISH_TOKEN, promoteToken: SECRETS.ADMIN_PROMOTE_TOKEN, channel: 'stable', log: () => {} });
    // All of a run in one hour: wait out the end of an hour rather than split the run over two.
    const left = HOUR_MS - (Date.now() % HOUR_MS);
    if (left < 5 * 60_000) await new Promise((r) => setTimeout(r, left + 2000));
    const hour = new Date().toISOString().slice(0, 13);

    const sends = plan(version, Date.now());
    const rand = rng(run + 1);
    const resends = sends.filter(() => rand() < RESEND_SHARE);
    process.stderr.write(`run ${run + 1}: ${sends.length} batches + ${resends.length} resends from ${INSTALLS} installs...\n`);
    const first = await sendAll(dev.url, sends);
    const again = await sendAll(dev.url, resends);
    const sentAt = performance.now();
    const itemsAccepted = [...first.accepted.values()].reduce((a, b) => a + b, 0);

    // Drained: every accepted batch stored (and no more).
    let status = await ingestStatus(dev.url, hour);
    while (status.batches < first.accepted.size) {
      if (performance.now() - sentAt > 300_000) {
        throw new Error(
          `not drained after 5 minutes: ${status.batches} of ${first.accepted.size} batches stored; status ${JSON.stringify(status)}; wrangler's last lines:\n${dev.logs().split('\n').slice(-80).join('\n')}`,
        );
      }
      await new Promise((r) => setTimeout(r, 200));
      status = await ingestStatus(dev.url, hour);
    }
    const drainMs = performance.now() - sentAt;
    // Resends may still be in a queue once the originals are all stored: wait for their deliveries.
    let c = await counters(dev.url);
    for (let i = 0; i < 100 && c('ytsent_batches_total{kind="aggregates",outcome="duplicate"}') < resends.length; i++) {
      await new Promise((r) => setTimeout(r, 300));
      c = await counters(dev.url);
    }
    status = await ingestStatus(dev.url, hour);

    const exported = await fetch(`${dev.url}/v1/admin/export?kind=aggregates&model_version=${version}&from=${hour}`, { headers: auth(SECRETS.READ_TOKEN) });
    let itemsExported = 0;
    const ids = new Set<string>();
    const exportedText = await exported.text();
    for (const line of exportedText.split('\n')) {
      if (line === '') continue;
      itemsExported++;
      ids.add((JSON.parse(line) as { batch_id: string }).batch_id);
    }
    if (ids.size !== first.accepted.size) throw new Error(`export holds ${ids.size} batches, ${first.accepted.size} were accepted`);

    const job = async () => {
      const t = performance.now();
      const res = await fetch(`${dev.url}/v1/admin/drift/run`, { method: 'POST', headers: auth(SECRETS.ADMIN_PROMOTE_TOKEN) });
      const body = (await res.json()) as { versions: Array<{ model_version: string; n: number }> };
      if (res.status !== 200) throw new Error(`drift run: HTTP ${res.status}`);
      return { ms: performance.now() - t, n: body.versions.find((v) => v.model_version === version)?.n ?? 0 };
    };
    const cronFirst = await job();
    const cronAgain = [await job(), await job(), await job()];

    const writes = {
      segments: c('ytsent_ingest_r2_writes_total{what="segments"}'),
      states: c('ytsent_ingest_r2_writes_total{what="states"}'),
      votes: c('ytsent_ingest_r2_writes_total{what="votes"}'),
      deletes: c('ytsent_ingest_r2_writes_total{what="deletes"}'),
    };
    const deliveries = c('ytsent_ingest_deliveries_total');
    const batchesAccepted = first.accepted.size;
    const latencies = [...first.latencies, ...again.latencies];
    const r: Run = {
      batches_sent: sends.length,
      resends: resends.length,
      batches_accepted: batchesAccepted,
      items_accepted: itemsAccepted,
      batches_stored: status.batches,
      items_stored_status: status.items,
      items_exported: itemsExported,
      duplicates_dropped: c('ytsent_batches_total{kind="aggregates",outcome="duplicate"}'),
      deliveries,
      batches_per_delivery: (batchesAccepted + resends.length) / deliveries,
      r2_writes: writes,
      r2_writes_per_batch: (writes.segments + writes.states + writes.votes + writes.deletes) / batchesAccepted,
      r2_reads_per_batch: c('ytsent_ingest_r2_reads_total') / batchesAccepted,
      requests_per_s: (sends.length + resends.length) / ((first.ms + again.ms) / 1000),
      latency_p50_ms: percentile(latencies, 50),
      latency_p95_ms: percentile(latencies, 95),
      drain_ms: drainMs,
      cron_first_ms: cronFirst.ms,
      cron_again_ms: median(cronAgain.map((j) => j.ms)),
      cron_n: cronFirst.n,
      lanes: status.lanes.length,
      bytes_per_item: new TextEncoder().encode(exportedText).byteLength / itemsExported,
    };
    if (r.items_exported !== r.items_accepted || r.items_stored_status !== r.items_accepted || r.batches_stored !== r.batches_accepted) {
      throw new Error(`stored ≠ accepted: ${JSON.stringify(r)}`);
    }
    process.stderr.write(
      `run ${run + 1}: ${r.batches_accepted} batches, ${r.items_accepted} items accepted = stored; ${r.duplicates_dropped} resends dropped; ` +
        `${r.r2_writes_per_batch.toFixed(4)} R2 writes/batch over ${r.deliveries} deliveries; p95 ${r.latency_p95_ms.toFixed(0)} ms; cron ${r.cron_first_ms.toFixed(0)} ms\n`,
    );
    return r;
  } finally {
    await dev.stop();
  }
}

function markdown(runs: Run[], loadBefore: number, loadAfter: number): string {
  const m = (f: (r: Run) => number) => median(runs.map(f));
  const fmt = (x: number, digits = 0) => x.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });
  const r0 = runs[0]!;
  return `<!-- section:${SECTION} -->
## Queued ingest (\`npm run bench:ingest\`, ${new Date().toISOString().slice(0, 10)})

${INSTALLS.toLocaleString('en-US')} simulated installs × ${BATCHES_PER_INSTALL} batches of ${AGGREGATES_PER_BATCH} hourly aggregates (${fmt(r0.items_accepted)} items in one hour), ${IN_FLIGHT} requests in flight, ${fmt(RESEND_SHARE * 100)} % of the batches sent twice; a fresh \`wrangler dev\` per run (local queues and consumers of wrangler.toml: ${r0.lanes} lanes, max_batch_size 100, max_batch_timeout 5 s). Medians of ${runs.length} runs; load average ${loadBefore.toFixed(2)} / ${loadAfter.toFixed(2)} before / after on ${String(machine().cores)} cores shared by client, wrangler and workerd.

${table(
  ['measure', 'median', ...runs.map((_, i) => `run ${i + 1}`)],
  [
    ['batches accepted (202)', fmt(m((r) => r.batches_accepted)), ...runs.map((r) => fmt(r.batches_accepted))],
    ['batches stored', fmt(m((r) => r.batches_stored)), ...runs.map((r) => fmt(r.batches_stored))],
    ['items accepted', fmt(m((r) => r.items_accepted)), ...runs.map((r) => fmt(r.items_accepted))],
    ['items stored (lane states / read back through the export)', fmt(m((r) => r.items_exported)), ...runs.map((r) => `${fmt(r.items_stored_status)} / ${fmt(r.items_exported)}`)],
    ['resends sent / dropped as copies', fmt(m((r) => r.duplicates_dropped)), ...runs.map((r) => `${fmt(r.resends)} / ${fmt(r.duplicates_dropped)}`)],
    [
      'R2 writes per accepted batch (target ≤ 0.05; before: 2)',
      fmt(
        m((r) => r.r2_writes_per_batch),
        4,
      ),
      ...runs.map((r) => fmt(r.r2_writes_per_batch, 4)),
    ],
    ['  segments + states + votes + deletes', '', ...runs.map((r) => `${r.r2_writes.segments} + ${r.r2_writes.states} + ${r.r2_writes.votes} + ${r.r2_writes.deletes}`)],
    ['stored NDJSON bytes per item', fmt(m((r) => r.bytes_per_item)), ...runs.map((r) => fmt(r.bytes_per_item))],
    [
      'R2 reads per accepted batch (lane states, dedupe window)',
      fmt(
        m((r) => r.r2_reads_per_batch),
        3,
      ),
      ...runs.map((r) => fmt(r.r2_reads_per_batch, 3)),
    ],
    ['consumer deliveries', fmt(m((r) => r.deliveries)), ...runs.map((r) => fmt(r.deliveries))],
    [
      'messages per delivery',
      fmt(
        m((r) => r.batches_per_delivery),
        1,
      ),
      ...runs.map((r) => fmt(r.batches_per_delivery, 1)),
    ],
    ['requests/s (client, all in flight)', fmt(m((r) => r.requests_per_s)), ...runs.map((r) => fmt(r.requests_per_s))],
    [
      'ingest latency p50, ms',
      fmt(
        m((r) => r.latency_p50_ms),
        1,
      ),
      ...runs.map((r) => fmt(r.latency_p50_ms, 1)),
    ],
    [
      'ingest latency p95, ms',
      fmt(
        m((r) => r.latency_p95_ms),
        1,
      ),
      ...runs.map((r) => fmt(r.latency_p95_ms, 1)),
    ],
    ['last answer → all stored, ms', fmt(m((r) => r.drain_ms)), ...runs.map((r) => fmt(r.drain_ms))],
    [`hourly job over the hour (${fmt(r0.cron_n)} comments): first, ms`, fmt(m((r) => r.cron_first_ms)), ...runs.map((r) => fmt(r.cron_first_ms))],
    ['hourly job again, nothing changed (median of 3), ms', fmt(m((r) => r.cron_again_ms)), ...runs.map((r) => fmt(r.cron_again_ms))],
  ],
)}

R2 operations are the consumers' own counts (\`ytsent_ingest_r2_writes_total\`, \`ytsent_ingest_r2_reads_total\` in /metrics); not counted: metric deltas (at most one write per isolate per METRICS_FLUSH_MS, whatever the traffic) and the hourly job's own summaries and reports (a few per model version and hour). Before this design every batch cost two R2 writes (claim + object) and the hourly job listed and read every object of the hour: 898 ms for 1,000 objects (100,000 samples) in the run of 2026-11-26 above. The hourly job now reads one state per lane and hour, so its time does not grow with the hour's traffic. Cost and limits at 10k, 1M and 10M installs: docs/SCALE.md.
<!-- /section:${SECTION} -->`;
}

/** backend.md with this section replaced (or appended). */
function mergedBackendMd(section: string): string {
  const path = join(RESULTS_DIR, 'backend.md');
  const current = existsSync(path) ? readFileSync(path, 'utf8') : '# Backend benchmark\n';
  const re = new RegExp(`<!-- section:${SECTION} -->[\\s\\S]*?<!-- /section:${SECTION} -->`);
  return re.test(current) ? current.replace(re, section) : `${current.trimEnd()}\n\n${section}\n`;
}

async function main(): Promise<void> {
  const loadBefore = loadavg()[0]!;
  const runs: Run[] = [];
  for (let i = 0; i < RUNS; i++) runs.push(await oneRun(i));
  const loadAfter = loadavg()[0]!;
  const md = markdown(runs, loadBefore, loadAfter);
  const result = {
    machine: { ...machine(), load_avg_1m_before: loadBefore, load_avg_1m_after: loadAfter },
    setup: { installs: INSTALLS, batches_per_install: BATCHES_PER_INSTALL, aggregates_per_batch: AGGREGATES_PER_BATCH, resend_share: RESEND_SHARE, in_flight: IN_FLIGHT },
    runs,
  };
  writeFileSync(join(RESULTS_DIR, 'ingest.json'), `${JSON.stringify(result, null, 2)}\n`);
  // backend.md is bench:backend's file; this section lives in it (kept when bench:backend rewrites it).
  writeFileSync(join(RESULTS_DIR, 'backend.md'), mergedBackendMd(md));
  process.stdout.write(`${md}\n`);
}

await main();

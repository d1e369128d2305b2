/**
 * /metrics (persisted counters in Prometheus text format), /dashboard and /health in workerd.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { renderDashboard } from '../../worker/dashboard/render.js';
import { compactMetrics, metrics, MetricsBuffer, readCounters } from '../../worker/lib/metrics.js';
import { awayFromHourEnd, call, callJson, listKeys, makeBundle, nextHourPlus5, postJson, publish, reader, driftedPopulation, runCron, samplesBatch, sendItems, testEnv } from './helpers.js';

/** Parses the exposition into series → value, checking the format line by line. */
function parseExposition(text: string): Map<string, number> {
  const series = new Map<string, number>();
  const typed = new Set<string>();
  for (const line of text.trimEnd().split('\n')) {
    if (line.startsWith('# HELP ')) continue;
    // Metric names as Prometheus defines them: [a-zA-Z_:][a-zA-Z0-9_:]* (digits allowed after the first character).
    const type = /^# TYPE ([a-zA-Z_:][a-zA-Z0-9_:]*) (counter|gauge|histogram|untyped)$/.exec(line);
    if (type) {
      typed.add(type[1]!);
      if (type[2] === 'histogram') for (const suffix of ['_bucket', '_sum', '_count']) typed.add(type[1]! + suffix);
      continue;
    }
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(?:[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\]|\\.)*",?)*\})? (-?[0-9.e+-]+|NaN|\+Inf|-Inf)$/.exec(line);
    expect(m, `malformed exposition line: ${line}`).not.toBeNull();
    expect(typed.has(m![1]!), `no TYPE line before ${m![1]}`).toBe(true);
    series.set(m![1]! + (m![2] ?? ''), Number(m![3]));
  }
  return series;
}

async function scrape(): Promise<Map<string, number>> {
  const res = await call('/metrics', { headers: reader() });
  expect(res.status).toBe(200);
  expect(res.headers.get('Content-Type')).toBe('text/plain; version=0.0.4; charset=utf-8');
  return parseExposition(await res.text());
}

const V = '10.0.0';

beforeAll(async () => {
  await awayFromHourEnd();
  expect((await publish(await makeBundle(V), 'stable')).status).toBe(201);
});

describe('/metrics', () => {
  it('counts requests by route pattern, method and status', async () => {
    const before = await scrape();
    const key = 'ytsent_http_requests_total{method="GET",route="/health",status="200"}';
    const key404 = 'ytsent_http_requests_total{method="GET",route="/v1/models/:version/manifest.json",status="404"}';
    for (let i = 0; i < 3; i++) await (await call('/health')).arrayBuffer();
    for (let i = 0; i < 2; i++) await (await call('/v1/models/10.9.9/manifest.json')).arrayBuffer();
    await (await call('/no/such/route')).arrayBuffer();
    const after = await scrape();
    expect((after.get(key) ?? 0) - (before.get(key) ?? 0)).toBe(3);
    expect((after.get(key404) ?? 0) - (before.get(key404) ?? 0)).toBe(2);
    // Route patterns, not raw paths: unmatched paths share one label value (bounded cardinality).
    expect(after.get('ytsent_http_requests_total{method="GET",route="unmatched",status="404"}')).toBeGreaterThanOrEqual(1);
    expect([...after.keys()].some((k) => k.includes('10.9.9'))).toBe(false);
  });

  it('counts accepted items and batches by kind, and rejected batches by reason', async () => {
    const before = await scrape();
    await sendItems(V, driftedPopulation(120));
    await (await postJson('/v1/samples', '{not json')).arrayBuffer();
    await (
      await postJson(
        '/v1/samples',
        samplesBatch(V, [
          { label: 'bad', score: 0.5 },
          { label: 'bad', score: 0.5 },
        ]),
      )
    ).arrayBuffer();
    await (await call('/v1/samples', { method: 'POST', headers: { 'Content-Type': 'text/plain' }, body: '{}' })).arrayBuffer();
    const dup = samplesBatch(V, [{ label: 'positive', score: 0.9 }]);
    await (await postJson('/v1/samples', dup)).arrayBuffer();
    await (await postJson('/v1/samples', dup)).arrayBuffer();
    const after = await scrape();
    const d = (k: string) => (after.get(k) ?? 0) - (before.get(k) ?? 0);
    // 120 comments as two on-device aggregates (100 + 20); one text sample, sent twice.
    expect(d('ytsent_samples_accepted_total{kind="aggregates"}')).toBe(2);
    expect(d('ytsent_batches_total{kind="aggregates",outcome="accepted"}')).toBe(2);
    expect(d('ytsent_samples_accepted_total{kind="samples"}')).toBe(1);
    expect(d('ytsent_batches_total{kind="samples",outcome="accepted"}')).toBe(1);
    expect(d('ytsent_batches_total{kind="samples",outcome="duplicate"}')).toBe(1);
    expect(d('ytsent_batches_rejected_total{kind="samples",reason="invalid_json"}')).toBe(1);
    expect(d('ytsent_batches_rejected_total{kind="samples",reason="validation_failed"}')).toBe(1);
    expect(d('ytsent_samples_rejected_total{kind="samples",reason="validation_failed"}')).toBe(2);
    expect(d('ytsent_batches_rejected_total{kind="samples",reason="unsupported_media_type"}')).toBe(1);
  });

  it('persists counters in R2: other isolates’ deltas are summed, compaction keeps every count once', async () => {
    await metrics.settled();
    await metrics.flush(testEnv.TELEMETRY);
    expect((await listKeys(testEnv.TELEMETRY, 'metrics/deltas/')).length).toBeGreaterThan(0);

    // Another isolate's flush, as it would write it.
    const other = 'ytsent_http_requests_total{method="GET",route="/health",status="200"}';
    const before = (await scrape()).get(other)!;
    await testEnv.TELEMETRY.put(`metrics/deltas/${String(Date.now()).padStart(13, '0')}-otherisolate1.json`, JSON.stringify({ [other]: 1000 }));
    const withOther = await scrape();
    expect(withOther.get(other)).toBe(before + 1000);

    // Compaction (grace 0 here; 2 minutes in the cron) folds every delta into totals and removes
    // them; the values a scraper sees do not change.
    await metrics.settled();
    await metrics.flush(testEnv.TELEMETRY);
    const stable = await readCounters(testEnv.TELEMETRY);
    const folded = await compactMetrics(testEnv.TELEMETRY, Date.now(), 0);
    expect(folded.folded).toBeGreaterThan(0);
    expect(await listKeys(testEnv.TELEMETRY, 'metrics/deltas/')).toEqual([]);
    expect((await readCounters(testEnv.TELEMETRY)).series).toEqual(stable.series);
    // Idempotent: a second compaction neither adds nor loses anything.
    await compactMetrics(testEnv.TELEMETRY, Date.now(), 0);
    expect((await readCounters(testEnv.TELEMETRY)).series).toEqual(stable.series);
  });

  it('exposes the drift status per model version after the hourly job', async () => {
    await sendItems(V, driftedPopulation(200));
    await runCron(nextHourPlus5());
    const m = await scrape();
    expect(m.get(`ytsent_drift_status{model_version="${V}",verdict="drift"}`)).toBe(1);
    expect(m.get(`ytsent_drift_status{model_version="${V}",verdict="ok"}`)).toBe(0);
    // The comments of the aggregates only (120 + 200); the text sample is not drift input.
    expect(m.get(`ytsent_drift_window_samples{model_version="${V}"}`)).toBe(320);
    expect(m.get(`ytsent_drift_value{model_version="${V}",test="labels_js"}`)).toBeGreaterThan(0.1);
    expect(m.get('ytsent_drift_threshold{test="labels_js"}')).toBe(0.1);
    expect(m.get('ytsent_cron_runs_total')).toBeGreaterThanOrEqual(1);
    expect(m.get(`ytsent_drift_alerts_total{model_version="${V}"}`)).toBe(1);
    expect(m.get('ytsent_drift_webhook_total{outcome="ok"}')).toBe(1);
  });
});

describe('MetricsBuffer.flushSoon', () => {
  it('hands the timer only to the request that started it; one write holds what every request counted', async () => {
    const buffer = new MetricsBuffer();
    const before = await listKeys(testEnv.TELEMETRY, 'metrics/deltas/');
    buffer.inc('flush_soon_test_total', { by: 'first' });
    const first = buffer.flushSoon(testEnv.TELEMETRY, 50);
    buffer.inc('flush_soon_test_total', { by: 'second' });
    const second = buffer.flushSoon(testEnv.TELEMETRY, 50);
    // The second request gets a settled promise: nothing of another request to wait on.
    const state = await Promise.race([second.then(() => 'settled'), new Promise((r) => setTimeout(() => r('pending'), 0))]);
    expect(state).toBe('settled');
    await first;
    const added = (await listKeys(testEnv.TELEMETRY, 'metrics/deltas/')).filter((k) => !before.includes(k));
    expect(added).toHaveLength(1);
    expect(await (await testEnv.TELEMETRY.get(added[0]!))!.json()).toEqual({ 'flush_soon_test_total{by="first"}': 1, 'flush_soon_test_total{by="second"}': 1 });
  });
});

describe('MetricsBuffer.flushNow', () => {
  it("waits a bounded time for another request's write that never finishes, then writes its own", async () => {
    const buffer = new MetricsBuffer();
    // A bucket whose first write never settles: another request's flush, stuck.
    let puts = 0;
    const stuck = new Proxy(testEnv.TELEMETRY, {
      get: (target, prop) => (prop === 'put' ? (...args: Parameters<R2Bucket['put']>) => (++puts === 1 ? new Promise(() => {}) : target.put(...args)) : Reflect.get(target, prop, target)),
    }) as R2Bucket;
    buffer.inc('flush_now_test_total', { by: 'stuck' });
    void buffer.flush(stuck);
    buffer.inc('flush_now_test_total', { by: 'now' });
    const before = await listKeys(testEnv.TELEMETRY, 'metrics/deltas/');
    await buffer.flushNow(stuck, 20);
    const added = (await listKeys(testEnv.TELEMETRY, 'metrics/deltas/')).filter((k) => !before.includes(k));
    expect(added).toHaveLength(1);
    expect(await (await testEnv.TELEMETRY.get(added[0]!))!.json()).toEqual({ 'flush_now_test_total{by="now"}': 1 });
  });
});

describe('/dashboard', () => {
  it('renders a self-contained page with the three charts and no scripts or remote resources', async () => {
    const res = await call('/dashboard', { headers: reader() });
    expect(res.status).toBe(200);
    expect(res.headers.get('Content-Type')).toContain('text/html');
    expect(res.headers.get('Content-Security-Policy')).toContain("default-src 'none'");
    const html = await res.text();
    expect(html).toMatch(/^<!doctype html>/);
    expect(html).not.toMatch(/<script/i);
    expect(html).not.toMatch(/(?:src|href)=["']?(?:https?:)?\/\//i);
    expect(html).toContain(`Model ${V}`);
    expect(html).toContain('Label shares per hour');
    expect(html).toContain('Comments per hour, from on-device aggregates (total 320)');
    expect(html).toContain('Jensen-Shannon distance, labels');
    expect(html).toContain('threshold 0.1');
    expect(html).toContain('>drift<');
    // Label shares, comments per hour, five drift distances, and the correction rate per monitoring report.
    expect(html).toContain('Live monitoring');
    expect((html.match(/<svg /g) ?? []).length).toBe(8);
  });

  it('validates its query and escapes what it prints', async () => {
    expect((await call('/dashboard?hours=0', { headers: reader() })).status).toBe(400);
    // At most a week of hours (each one is a summary and a report read from R2).
    expect((await call('/dashboard?hours=169', { headers: reader() })).status).toBe(400);
    expect((await call('/dashboard?model_version=<script>', { headers: reader() })).status).toBe(400);
    const other = await call('/dashboard?model_version=10.0.1-rc.1&hours=6', { headers: reader() });
    expect(other.status).toBe(200);
    expect(await other.text()).toContain('No drift report yet');
  });

  it('escapes hostile stored values by default (hono/html), in text, attributes and charts', async () => {
    // The route validates what comes from the query; this is what R2 or the admin API could hold.
    const evil = '<script>alert("x")</script>';
    const page = String(
      await renderDashboard({
        version: evil,
        versions: [evil, '10.0.0'],
        channels: [{ channel: `${evil}-ch`, version: evil, candidate: { version: `${evil}-cand`, percent: 5 } }],
        hours: 2,
        nowMs: Date.UTC(2026, 0, 1, 12),
        summaries: [],
        reports: [],
        latest: null,
        monitoring: {
          latest: null,
          history: [],
          rollouts: [{ channel: `${evil}-ro`, stable: evil, candidate: evil, percent: 5, started_at: evil, windows: [] }],
          thresholds: { badWindows: 3, qualityFloor: 0.8 },
        },
      }),
    );
    expect(page).not.toContain('<script');
    const escaped = '&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;';
    expect(page).toContain(`<title>ytsent dashboard · ${escaped}</title>`);
    expect(page).toContain(`<option value="${escaped}" selected>${escaped}</option>`);
    expect(page).toContain(`<code>${escaped}-ch</code> → ${escaped} (${escaped}-cand to 5 %)`);
    expect(page).toContain(`<td><code>${escaped}-ro</code></td>`);
    // The page's own markup is not escaped.
    expect(page).toMatch(/^<!doctype html>\n<html lang="en">/);
    expect(page).toContain('<svg xmlns="http://www.w3.org/2000/svg"');
  });
});

describe('/health', () => {
  it('answers with status, the stable version and uptime, never cached', async () => {
    const { res, body } = await callJson<{ status: string; model_version: string | null; uptime_s: number }>('/health');
    expect(res.status).toBe(200);
    expect(res.headers.get('Cache-Control')).toBe('no-store');
    expect(body).toEqual({ status: 'ok', model_version: V, uptime_s: expect.any(Number) });
  });
});

/**
 * Live monitoring per model version in workerd: the hourly job's report on known inputs
 * (correction rate with its Wilson interval, per-class precision/recall/F1 estimated from
 * corrections, latency quantiles and the error rate from the aggregates' histograms), the same
 * numbers in /metrics and on /v1/monitoring, and the "retrain recommended" event: raised when
 * drift or a quality drop persists for RETRAIN_PERSIST_HOURS and not before, delivered signed to
 * the webhook as a GitHub repository_dispatch payload, stored for GET /v1/events, not repeated
 * within the cooldown.
 *
 * Telemetry is written into the hourly partitions it would have arrived in and the job runs at
 * injected times: nothing here depends on the wall clock.
 */
import { describe, expect, it } from 'vitest';
import { addScoringCall, addScoringError, addToAggregate, emptyAggregate } from '../../core/aggregates.js';
import { LABELS } from '../../core/labels.js';
import { runHourly } from '../../worker/drift/pipeline.js';
import type { Env } from '../../worker/env.js';
import { hourKey } from '../../worker/lib/keys.js';
import type { MonitoringEvent } from '../../worker/monitoring/events.js';
import type { MonitorReport } from '../../worker/monitoring/report.js';
import { HOUR_MS, putRows, call, callJson, driftedPopulation, listKeys, makeBundle, postJson, promoter, publish, reader, referencePopulation, testEnv, type ProtoItem } from './helpers.js';

const T0 = Date.UTC(2026, 3, 1, 0);

function aggregate(items: readonly ProtoItem[], hourMs: number, scoring?: { callsMs: number[]; errors?: number }): Record<string, unknown> {
  const agg = emptyAggregate(hourMs);
  for (const it of items) addToAggregate(agg, { label: it.label, confidence: it.score, lang: it.lang, tokens: it.tokens ?? [] }, hourMs);
  for (const ms of scoring?.callsMs ?? []) addScoringCall(agg, ms);
  for (let i = 0; i < (scoring?.errors ?? 0); i++) addScoringError(agg);
  return { ...agg };
}

type WebhookCall = { body: string; signatureValid: boolean; event: string | null };
async function webhookCalls(event: string): Promise<WebhookCall[]> {
  const listed = await listKeys(testEnv.WEBHOOK_LOG, 'calls/');
  const calls = await Promise.all(listed.map(async (k) => (await (await testEnv.WEBHOOK_LOG.get(k))!.json()) as WebhookCall));
  return calls.filter((c) => c.event === event);
}

describe('monitoring report on known inputs', () => {
  const V = '30.0.0';
  const H = T0;

  it('computes the correction rate, estimated per-class quality, latency and errors, and serves them', async () => {
    expect((await publish(await makeBundle(V))).status).toBe(201);
    expect((await postJson('/v1/channels/mon', { version: V }, promoter())).status).toBe(200);
    // 600 scored comments: 100 negative, 200 neutral, 300 positive, in two objects.
    const label = (i: number) => (i < 100 ? 'negative' : i < 300 ? 'neutral' : 'positive');
    const samples = Array.from({ length: 600 }, (_, i) => ({ label: label(i), score: 0.8, ts: H, text: `c${i}`, received_at: new Date(H).toISOString() }));
    await putRows('samples', V, H, samples.slice(0, 250));
    await putRows('samples', V, H, samples.slice(250));
    // 60 corrections that change the label (negative→positive 10, positive→negative 20,
    // neutral→positive 30) and 5 that keep it (not corrections).
    const fb = (n: number, predicted: string, corrected: string) => Array.from({ length: n }, () => ({ text: 'x', predicted, corrected, ts: H }));
    await putRows('feedback', V, H, [...fb(10, 'negative', 'positive'), ...fb(20, 'positive', 'negative'), ...fb(30, 'neutral', 'positive'), ...fb(5, 'positive', 'positive')]);
    // Aggregates: 20 model calls (10 of 8-16 ms, 8 of 16-32 ms, 2 of 512-1024 ms) and 5 failed calls,
    // spread over three aggregates; a fourth from an older extension reports no scoring at all.
    const pop = referencePopulation();
    await putRows('aggregates', V, H, [
      aggregate(pop.slice(0, 100), H, { callsMs: [...Array(10).fill(9), 20, 20], errors: 2 }),
      aggregate(pop.slice(100, 200), H, { callsMs: [20, 20, 20, 20, 20, 20], errors: 3 }),
      aggregate(pop.slice(200, 290), H, { callsMs: [600, 1000] }),
      aggregate(pop.slice(290, 300), H),
    ]);

    const result = await runHourly(testEnv, H + HOUR_MS + 5 * 60_000);
    expect(result.monitoring!.reports.find((r) => r.model_version === V)).toMatchObject({ samples: 600, corrections: 60, folded_quality_hours: 1 });

    const { res, body: report } = await callJson<MonitorReport>(`/v1/monitoring?model_version=${V}`, { headers: reader() });
    expect(res.status).toBe(200);
    expect(report).toMatchObject({ model_version: V, samples: 600, corrections: 60, feedback: 65, window: { hours: 24, to: new Date(H + HOUR_MS).toISOString() } });
    // Wilson 95 % for 60/600 (statsmodels proportion_confint(60, 600, method="wilson")).
    expect(report.correction_rate!.value).toBeCloseTo(0.1, 12);
    expect(report.correction_rate!.lower).toBeCloseTo(0.0784816696, 9);
    expect(report.correction_rate!.upper).toBeCloseTo(0.1266076912, 9);
    expect(report.quality!.upper).toBeCloseTo(1 - 0.0784816696, 9);
    // Estimated confusion[true][predicted]: corrected comments move to their true row.
    expect(report.estimated!.confusion).toEqual([
      [90, 0, 20],
      [0, 170, 0],
      [10, 30, 280],
    ]);
    const pc = report.estimated!.per_class;
    expect(pc.negative).toMatchObject({ predicted: 100, corrected_away: 10, corrected_to: 20 });
    expect(pc.negative.precision).toBeCloseTo(0.9, 12);
    expect(pc.negative.recall).toBeCloseTo(90 / 110, 12);
    expect(pc.negative.f1).toBeCloseTo(0.8571428571, 9);
    expect(pc.neutral.f1).toBeCloseTo(0.9189189189, 9);
    expect(pc.positive.precision).toBeCloseTo(280 / 300, 12);
    expect(pc.positive.recall).toBeCloseTo(280 / 320, 12);
    expect(report.estimated!.macro_f1).toBeCloseTo((0.8571428571 + 0.9189189189 + 0.9032258065) / 3, 9);
    // Latency: p50 at the top of 8-16 ms, p95 and p99 inside 512-1024 ms (geometric interpolation).
    expect(report.latency_ms).toMatchObject({ calls: 20 });
    expect(report.latency_ms!.p50).toBeCloseTo(16, 9);
    expect(report.latency_ms!.p95).toBeCloseTo(724.0773439, 6);
    expect(report.latency_ms!.p99).toBeCloseTo(955.4257833, 6);
    // 5 failed of 25 calls, Wilson interval.
    expect(report.error_rate).toMatchObject({ k: 5, n: 25, value: 0.2 });
    expect(report.error_rate!.lower).toBeCloseTo(0.0886058469, 9);
    expect(report.aggregates).toEqual({ comments: 300, reporting_scoring: 3 });
    expect(report.drift).toMatchObject({ verdict: 'ok', n: 300 });

    const metrics = await (await call('/metrics', { headers: reader() })).text();
    const line = (series: string) => metrics.split('\n').find((l) => l.startsWith(`${series} `));
    expect(line(`ytsent_correction_rate{model_version="${V}"}`)).toBe(`ytsent_correction_rate{model_version="${V}"} 0.1`);
    expect(Number(line(`ytsent_correction_rate_upper{model_version="${V}"}`)!.split(' ')[1])).toBeCloseTo(0.1266076912, 9);
    expect(line(`ytsent_estimated_precision{label="negative",model_version="${V}"}`)).toBe(`ytsent_estimated_precision{label="negative",model_version="${V}"} 0.9`);
    expect(line(`ytsent_scoring_latency_ms{model_version="${V}",quantile="0.5"}`)).toBe(`ytsent_scoring_latency_ms{model_version="${V}",quantile="0.5"} 16`);
    expect(line(`ytsent_scoring_error_rate{model_version="${V}"}`)).toBe(`ytsent_scoring_error_rate{model_version="${V}"} 0.2`);
    expect(metrics).toContain('# TYPE ytsent_correction_rate gauge');

    // The dashboard shows the same numbers (no scripts, counts only).
    const html = await (await call(`/dashboard?model_version=${V}`, { headers: reader() })).text();
    expect(html).toContain('Live monitoring');
    expect(html).toContain('<td>correction rate</td><td>10.00 %</td><td>7.85 % – 12.66 %</td><td>60 corrections of 600 comments</td>');
    expect(html).toContain('<td>latency p50 / p95 / p99</td><td>16.0 / 724.1 / 955.4 ms</td>');
    expect(html).toContain('<tr><td>negative</td><td>0.900</td><td>0.818</td><td>0.857</td><td>100</td><td>10</td><td>20</td></tr>');
    expect(html).not.toMatch(/<script/i);

    // A late correction batch for the hour re-folds it; re-running changes the numbers exactly once.
    await putRows('feedback', V, H, fb(6, 'neutral', 'negative'));
    await runHourly(testEnv, H + HOUR_MS + 5 * 60_000);
    await runHourly(testEnv, H + HOUR_MS + 6 * 60_000);
    expect((await callJson<MonitorReport>(`/v1/monitoring?model_version=${V}`, { headers: reader() })).body.corrections).toBe(66);
    const history = (await callJson<{ reports: MonitorReport[] }>(`/v1/monitoring/history?model_version=${V}`, { headers: reader() })).body.reports;
    expect(history).toHaveLength(1);
  });

  it('guards its routes: read token, valid parameters, a clear 404 before the first report', async () => {
    expect((await call('/v1/monitoring?model_version=30.0.0')).status).toBe(401);
    expect((await call('/v1/monitoring?model_version=30.0.0', { headers: promoter() })).status).toBe(401);
    const bad = await callJson<{ error: { code: string } }>('/v1/monitoring?model_version=latest', { headers: reader() });
    expect([bad.res.status, bad.body.error.code]).toEqual([400, 'invalid_version']);
    const none = await callJson<{ error: { code: string } }>('/v1/monitoring?model_version=99.0.0', { headers: reader() });
    expect([none.res.status, none.body.error.code]).toEqual([404, 'no_report']);
    const type = await callJson<{ error: { code: string } }>('/v1/events?type=everything', { headers: reader() });
    expect([type.res.status, type.body.error.code]).toEqual([400, 'invalid_query']);
    expect((await call('/v1/events?limit=0', { headers: reader() })).status).toBe(400);
    expect((await call('/v1/events')).status).toBe(401);
  });
});

describe('retrain recommended', () => {
  /** Two hours of persistence keep the test short; the default is 6 (wrangler.toml). */
  const env2 = (): Env => ({ ...testEnv, RETRAIN_PERSIST_HOURS: '2' }) as Env;

  it('is raised once drift has persisted for N hours, not before, as a signed repository_dispatch payload', async () => {
    const V = '31.0.0';
    const start = T0 + 50 * HOUR_MS;
    expect((await publish(await makeBundle(V))).status).toBe(201);
    expect((await postJson('/v1/channels/retrain-d', { version: V }, promoter())).status).toBe(200);
    const env = env2();
    const before = (await webhookCalls('retrain-recommended')).length;
    const checks = [];
    for (let i = 0; i < 3; i++) {
      const h = start + i * HOUR_MS;
      await putRows(
        'aggregates',
        V,
        h,
        [0, 100, 200].map((k) => aggregate(driftedPopulation(300).slice(k, k + 100), h)),
      );
      const run = await runHourly(env, h + HOUR_MS + 5 * 60_000);
      checks.push(run.monitoring!.retrain.find((r) => r.model_version === V)!);
    }
    // Hour 1: drift, but only one hour. Hour 2: two in a row → raised. Hour 3: within the cooldown.
    expect(checks.map((c) => [c.reasons, c.event !== null, c.suppressed])).toEqual([
      [[], false, null],
      [['drift'], true, null],
      [['drift'], false, 'cooldown'],
    ]);

    const calls = await webhookCalls('retrain-recommended');
    expect(calls.length).toBe(before + 1);
    const call0 = calls.at(-1)!;
    expect(call0.signatureValid).toBe(true);
    const body = JSON.parse(call0.body) as { event_type: string; client_payload: Record<string, unknown> };
    expect(Object.keys(body)).toEqual(['event_type', 'client_payload']);
    expect(body.event_type).toBe('retrain-recommended');
    // GitHub accepts at most 10 top-level properties in client_payload.
    expect(Object.keys(body.client_payload).length).toBeLessThanOrEqual(10);
    const hour = hourKey(start + HOUR_MS);
    expect(body.client_payload).toMatchObject({ event_id: `${hour}-retrain-recommended-${V}`, model_version: V, channels: ['retrain-d'], reasons: ['drift'] });
    const evidence = body.client_payload.evidence as { drift: { persisted_hours: number; hours: Array<{ hour: string; verdict: string }>; failing: string[] } };
    expect(evidence.drift.persisted_hours).toBe(2);
    expect(evidence.drift.hours.map((x) => [x.hour, x.verdict])).toEqual([
      [hourKey(start), 'drift'],
      [hour, 'drift'],
    ]);
    expect(evidence.drift.failing).toContain('labels_js');

    const events = (await callJson<{ events: MonitoringEvent[] }>(`/v1/events?type=retrain-recommended&model_version=${V}`, { headers: reader() })).body.events;
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ id: `${hour}-retrain-recommended-${V}`, type: 'retrain-recommended', channel: 'retrain-d', payload: body, webhook: { attempted: true, ok: true, status: 204 } });
  });

  it('is raised for a quality drop: the upper bound of quality below the floor for N hours', async () => {
    const V = '32.0.0';
    const start = T0 + 80 * HOUR_MS;
    expect((await publish(await makeBundle(V))).status).toBe(201);
    expect((await postJson('/v1/channels/retrain-q', { version: V }, promoter())).status).toBe(200);
    const env = env2();
    const reasons = [];
    // The reports' 24-hour windows: hour 1, 48/400 corrected (quality's upper bound 0.908 < 0.95,
    // but one hour only); hour 2, 800 more comments without corrections (48/1200: 0.970, not
    // below); hours 3 and 4, 80/400 each (128/1600: 0.932; 208/2000: 0.909): two hours in a row.
    const hours = [
      [400, 48],
      [800, 0],
      [400, 80],
      [400, 80],
    ] as const;
    for (let i = 0; i < hours.length; i++) {
      const h = start + i * HOUR_MS;
      const [n, k] = hours[i]!;
      await putRows(
        'samples',
        V,
        h,
        Array.from({ length: n }, (_, j) => ({ label: LABELS[j % 3], score: 0.8, ts: h, text: `c${j}` })),
      );
      if (k > 0)
        await putRows(
          'feedback',
          V,
          h,
          Array.from({ length: k }, () => ({ text: 'x', predicted: 'positive', corrected: 'negative', ts: h })),
        );
      const run = await runHourly(env, h + HOUR_MS + 5 * 60_000);
      const check = run.monitoring!.retrain.find((r) => r.model_version === V)!;
      reasons.push([check.reasons.join('+'), check.event !== null]);
    }
    expect(reasons).toEqual([
      ['', false],
      ['', false],
      ['', false],
      ['quality', true],
    ]);
    const event = (await callJson<{ events: MonitoringEvent[] }>(`/v1/events?model_version=${V}`, { headers: reader() })).body.events[0]!;
    const evidence = (event.payload as { client_payload: { evidence: { quality: { floor: number; hours: Array<{ quality: { upper: number } }> } } } }).client_payload.evidence.quality;
    expect(evidence.floor).toBe(0.95);
    expect(evidence.hours.every((x) => x.quality.upper < 0.95)).toBe(true);
  });
});

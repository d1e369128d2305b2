/**
 * Cron → hourly summary → drift report, in workerd with miniflare's R2, from on-device aggregates
 * (POST /v1/aggregates) only: per-comment text samples never enter drift.
 *
 * The model's reference distributions are computed from a fixed population of items
 * (helpers.referencePopulation). Data built not to drift replays that population exactly, as
 * aggregates of 100 comments; data built to drift is mostly negative, unsure and about other topics. The webhook goes over a real
 * outbound fetch to the "webhook-sink" Worker (vitest.config.mts), which logs calls to WEBHOOK_LOG.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { emptySummary, type DriftReport, type HourSummary } from '../../worker/drift/aggregate.js';
import type { AlertRecord } from '../../worker/drift/pipeline.js';
import {
  HOUR_MS,
  callJson,
  currentHourKey,
  driftedPopulation,
  listKeys,
  makeBundle,
  postJson,
  promoter,
  publish,
  reader,
  referencePopulation,
  runCron,
  samplesBatch,
  sendItems,
  testEnv,
  nextHourPlus5,
  awayFromHourEnd,
} from './helpers.js';

type Report = DriftReport & { source: 'stored' | 'computed' };

async function getJson<T>(bucket: R2Bucket, key: string): Promise<T | null> {
  const o = await bucket.get(key);
  return o ? ((await o.json()) as T) : null;
}

/** What the webhook sink saw; it checks the signature itself (vitest.config.mts). */
type WebhookCall = { method: string; path: string; contentType: string; body: string; signature: string | null; signatureValid: boolean };

async function webhookCalls(): Promise<WebhookCall[]> {
  const keys = await listKeys(testEnv.WEBHOOK_LOG, 'calls/');
  return Promise.all(keys.map(async (k) => (await (await testEnv.WEBHOOK_LOG.get(k))!.json()) as WebhookCall));
}

// One hour is sampled now; the cron fires 5 minutes after it ends.
let hour = '';
let cronAt = 0;

const previousHour = () => new Date(Date.parse(`${hour}:00:00Z`) - HOUR_MS).toISOString().slice(0, 13);

beforeAll(async () => {
  // Every sample of this file must land in one hour.
  await awayFromHourEnd();
  for (const v of ['8.0.0', '8.1.0', '8.2.0', '8.3.0', '8.4.0', '8.6.0']) expect((await publish(await makeBundle(v))).status).toBe(201);
  expect((await publish(await makeBundle('8.5.0', { reference: null }))).status).toBe(201);
  expect((await postJson('/v1/channels/stable', { version: '8.0.0' }, promoter())).status).toBe(200);
  hour = currentHourKey();
  cronAt = nextHourPlus5();
});

describe('data built not to drift', () => {
  it('folds the hour into a summary and reports ok with every distance at zero', async () => {
    const population = referencePopulation();
    expect(await sendItems('8.0.0', population)).toBe(300);
    // Samples still arriving in the current hour are not folded yet: the hour is not complete. The
    // cron time is an input (the middle of the sampled hour), not the wall clock: run in the first
    // minutes of an hour, Date.now() would fall inside the fold grace and name another window.
    await runCron(Date.parse(`${hour}:00:00Z`) + HOUR_MS / 2);
    expect(await listKeys(testEnv.TELEMETRY, 'summaries/8.0.0/')).toEqual([]);
    expect(currentHourKey()).toBe(hour);

    await runCron(cronAt);
    expect(await listKeys(testEnv.TELEMETRY, 'summaries/8.0.0/')).toEqual([`summaries/8.0.0/${hour}.json`]);
    const summary = (await getJson<HourSummary>(testEnv.TELEMETRY, `summaries/8.0.0/${hour}.json`))!;
    expect(summary.n).toBe(300);
    expect(summary.label_counts).toEqual([60, 90, 150]);
    expect(summary.confidence.counts.reduce((a, b) => a + b, 0)).toBe(300);
    expect(summary.tokens.n).toBe(300);
    expect(summary.languages).toEqual({ de: 100, en: 200 });
    expect(summary.aggregates).toBe(3);
    expect(summary.invalid_lines).toBe(0);
    expect(summary.confidence.edges).toEqual([0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1]);
    // The lane states summed: the three batches went to one or both of the two lanes.
    expect([1, 2]).toContain(summary.source.objects);

    const report = (await getJson<DriftReport>(testEnv.TELEMETRY, 'drift/8.0.0/latest.json'))!;
    expect(report.verdict).toBe('ok');
    expect(report.n).toBe(300);
    expect(report.window.hours).toBe(24);
    expect(Date.parse(report.window.to)).toBe(Date.parse(`${hour}:00:00Z`) + HOUR_MS);
    const t = report.tests!;
    expect(t.labels_js.value).toBeLessThan(1e-6);
    expect(t.tokens_js.value).toBeLessThan(1e-6);
    expect(Math.abs(t.confidence_psi.value)).toBeLessThan(1e-9);
    expect(t.confidence_wasserstein.value).toBeLessThan(1e-9);
    expect(t.confidence_ks).toMatchObject({ statistic: expect.closeTo(0, 9), p_value: 1 });
    expect(report.skipped).toEqual([]);
    // Two reports: the mid-hour run above (previous hour, no data) and this one.
    expect(await listKeys(testEnv.TELEMETRY, 'drift/8.0.0/')).toEqual([`drift/8.0.0/history/${previousHour()}.json`, `drift/8.0.0/history/${hour}.json`, 'drift/8.0.0/latest.json']);
    const empty = (await getJson<DriftReport>(testEnv.TELEMETRY, `drift/8.0.0/history/${previousHour()}.json`))!;
    expect(empty).toMatchObject({ verdict: 'insufficient_data', n: 0, tests: null });
    expect(await listKeys(testEnv.TELEMETRY, 'drift/8.0.0/alerts/')).toEqual([]);
  });

  it('serves the stored report on GET /v1/drift (default: the stable version) and its history', async () => {
    const { res, body } = await callJson<Report>('/v1/drift');
    expect(res.status).toBe(200);
    expect(body).toMatchObject({ source: 'stored', model_version: '8.0.0', verdict: 'ok', n: 300 });
    const history = await callJson<{ model_version: string; reports: Array<{ verdict: string; n: number }> }>('/v1/drift/history?model_version=8.0.0', { headers: reader() });
    expect(history.body.reports).toEqual([expect.objectContaining({ verdict: 'ok', n: 300 }), expect.objectContaining({ verdict: 'insufficient_data', n: 0 })]);
    // Another window is computed from the hourly summaries on request (the current hour is never
    // complete, so this window also ends at the last completed hour).
    const wide = await callJson<Report>('/v1/drift?model_version=8.0.0&window=48h');
    expect(wide.body).toMatchObject({ source: 'computed', window: { hours: 48 } });
    expect((await callJson('/v1/drift?model_version=8.0.0&window=0')).res.status).toBe(400);
    // At most a week of summaries per request.
    const tooWide = await callJson<{ error: { code: string; message: string } }>('/v1/drift?model_version=8.0.0&window=169');
    expect(tooWide.res.status).toBe(400);
    expect(tooWide.body.error).toMatchObject({ code: 'invalid_query', message: 'window must be in [1, 168]' });
    expect((await callJson('/v1/drift?model_version=9.9.9')).res.status).toBe(404);
  });

  it('is idempotent: re-running the hour changes nothing and counts nothing twice', async () => {
    const before = await testEnv.TELEMETRY.head('summaries/8.0.0/' + hour + '.json');
    await runCron(cronAt);
    await runCron(cronAt + 10 * 60_000);
    const after = await testEnv.TELEMETRY.head('summaries/8.0.0/' + hour + '.json');
    // Unchanged partition ⇒ the summary is not even rewritten.
    expect(after!.etag).toBe(before!.etag);
    expect((await getJson<HourSummary>(testEnv.TELEMETRY, `summaries/8.0.0/${hour}.json`))!.n).toBe(300);
    expect(await listKeys(testEnv.TELEMETRY, 'drift/8.0.0/history/')).toHaveLength(2);
    expect((await getJson<DriftReport>(testEnv.TELEMETRY, 'drift/8.0.0/latest.json'))!.n).toBe(300);
  });

  it('re-folds an hour that received a late batch, counting it exactly once', async () => {
    const extra = referencePopulation().slice(0, 100);
    expect(await sendItems('8.0.0', extra)).toBe(100);
    await runCron(cronAt + 20 * 60_000);
    const summary = (await getJson<HourSummary>(testEnv.TELEMETRY, `summaries/8.0.0/${hour}.json`))!;
    expect(summary.n).toBe(400);
    expect([1, 2]).toContain(summary.source.objects);
    await runCron(cronAt + 30 * 60_000);
    expect((await getJson<HourSummary>(testEnv.TELEMETRY, `summaries/8.0.0/${hour}.json`))!.n).toBe(400);
  });
});

describe('data built to drift', () => {
  it('reports drift on every distance, records an alert and calls the webhook once', async () => {
    expect(await sendItems('8.1.0', driftedPopulation(300))).toBe(300);
    await runCron(cronAt);
    const report = (await getJson<DriftReport>(testEnv.TELEMETRY, 'drift/8.1.0/latest.json'))!;
    expect(report.verdict).toBe('drift');
    const t = report.tests!;
    expect(t.labels_js.value).toBeGreaterThanOrEqual(0.1);
    expect(t.labels_js.verdict).toBe('drift');
    expect(t.tokens_js.verdict).toBe('drift');
    expect(t.confidence_psi.value).toBeGreaterThanOrEqual(0.25);
    expect(t.confidence_psi.verdict).toBe('drift');
    expect(t.confidence_wasserstein.verdict).toBe('drift');
    expect(t.confidence_ks.p_value).toBeLessThan(0.05);
    expect(t.confidence_ks.verdict).toBe('warn');

    expect(await listKeys(testEnv.TELEMETRY, 'drift/8.1.0/alerts/')).toEqual([`drift/8.1.0/alerts/${hour}.json`]);
    const alert = (await getJson<AlertRecord>(testEnv.TELEMETRY, `drift/8.1.0/alerts/${hour}.json`))!;
    expect(alert).toMatchObject({ model_version: '8.1.0', verdict: 'drift', n: 300, webhook: { attempted: true, ok: true, status: 204 } });
    expect(alert.failing.sort()).toEqual(['confidence_psi', 'confidence_wasserstein', 'labels_js', 'tokens_js']);

    const calls = (await webhookCalls()).filter((c) => JSON.parse(c.body).model_version === '8.1.0');
    expect(calls).toHaveLength(1);
    expect(calls[0]).toMatchObject({ method: 'POST', path: '/hook', contentType: 'application/json', signatureValid: true });
    expect(calls[0]!.signature).toMatch(/^sha256=[0-9a-f]{64}$/);
    expect(JSON.parse(calls[0]!.body)).toMatchObject({ event: 'model_drift', model_version: '8.1.0', verdict: 'drift', n: 300, report: '/v1/drift?model_version=8.1.0' });

    const alerts = await callJson<{ alerts: AlertRecord[] }>('/v1/drift/alerts?model_version=8.1.0', { headers: reader() });
    expect(alerts.body.alerts).toHaveLength(1);
  });

  it('does not alert or call the webhook again when the same hour is re-run', async () => {
    await runCron(cronAt + 15 * 60_000);
    expect(await listKeys(testEnv.TELEMETRY, 'drift/8.1.0/alerts/')).toHaveLength(1);
    expect((await webhookCalls()).filter((c) => JSON.parse(c.body).model_version === '8.1.0')).toHaveLength(1);
  });

  it('treats webhook failures as non-fatal and records them', async () => {
    expect(await sendItems('8.2.0', driftedPopulation(250))).toBe(250);
    const failingEnv = { ...testEnv, DRIFT_WEBHOOK_URL: 'http://webhook-sink.test/fail' };
    await runCron(cronAt, failingEnv);
    const alert = (await getJson<AlertRecord>(testEnv.TELEMETRY, `drift/8.2.0/alerts/${hour}.json`))!;
    expect(alert.webhook).toMatchObject({ attempted: true, ok: false, status: 500 });
    // Unreachable endpoint: a network error, also recorded, and the job still completes.
    expect(await sendItems('8.3.0', driftedPopulation(250))).toBe(250);
    await runCron(cronAt, { ...testEnv, DRIFT_WEBHOOK_URL: 'http://unreachable.test/hook' });
    const unreachable = (await getJson<AlertRecord>(testEnv.TELEMETRY, `drift/8.3.0/alerts/${hour}.json`))!;
    // The sink answers 502 for other hosts; exceptions are stored as a category, never their text
    // (alerts are served to API clients; see the webhook tests in auth.test.ts).
    expect(unreachable.webhook).toEqual({ attempted: true, ok: false, status: 502 });
    expect((await getJson<DriftReport>(testEnv.TELEMETRY, 'drift/8.3.0/latest.json'))!.verdict).toBe('drift');
  });
});

describe('edge cases', () => {
  it('reports insufficient_data below the minimum sample count, without an alert', async () => {
    // Drifted, but only 150 samples (minimum 200).
    expect(await sendItems('8.4.0', driftedPopulation(150))).toBe(150);
    await runCron(cronAt);
    const report = (await getJson<DriftReport>(testEnv.TELEMETRY, 'drift/8.4.0/latest.json'))!;
    expect(report.verdict).toBe('insufficient_data');
    expect(report.n).toBe(150);
    expect(await listKeys(testEnv.TELEMETRY, 'drift/8.4.0/alerts/')).toEqual([]);
  });

  it('skips the token test when no comment carried hashed tokens', async () => {
    const items = referencePopulation().map(({ tokens: _tokens, ...rest }) => rest);
    expect(await sendItems('8.6.0', items)).toBe(300);
    await runCron(cronAt);
    const report = (await getJson<DriftReport>(testEnv.TELEMETRY, 'drift/8.6.0/latest.json'))!;
    expect(report).toMatchObject({ verdict: 'ok', n: 300, current: { token_samples: 0 } });
    expect(report.skipped).toEqual([{ test: 'tokens_js', reason: 'no comments in the window carried hashed tokens' }]);
    expect(report.tests!.tokens_js).toMatchObject({ value: 0, verdict: 'ok' });
  });

  it('reports no_reference for a manifest without reference distributions', async () => {
    expect(await sendItems('8.5.0', referencePopulation().slice(0, 10))).toBe(10);
    await runCron(cronAt);
    const report = (await getJson<DriftReport>(testEnv.TELEMETRY, 'drift/8.5.0/latest.json'))!;
    expect(report).toMatchObject({ verdict: 'no_reference', tests: null, n: 10 });
  });

  it('never counts per-comment text samples: drift reads the aggregates only', async () => {
    // 300 drifted comments sent as text samples (consent "text") would swamp the reference-like
    // aggregates if they were counted; the extension sends those comments' aggregates anyway.
    const drifted = driftedPopulation(300);
    for (let i = 0; i < drifted.length; i += 100) {
      const items = drifted.slice(i, i + 100).map((d) => ({ label: d.label, score: d.score, lang: d.lang, text: 'un comentario' }));
      expect((await postJson('/v1/samples', samplesBatch('8.0.0', items))).status).toBe(202);
    }
    await runCron(cronAt + 40 * 60_000);
    const summary = (await getJson<HourSummary>(testEnv.TELEMETRY, `summaries/8.0.0/${hour}.json`))!;
    expect(summary.n).toBe(400);
    expect((await getJson<DriftReport>(testEnv.TELEMETRY, 'drift/8.0.0/latest.json'))!).toMatchObject({ verdict: 'ok', n: 400 });
  });

  it('leaves out summaries folded from per-comment samples by an older version (50 bins), saying so', async () => {
    const old = { ...emptySummary('8.0.0', previousHour()), schema: 1, n: 500, confidence: { edges: Array.from({ length: 51 }, (_, i) => i / 50), counts: new Array<number>(50).fill(10) } };
    await testEnv.TELEMETRY.put(`summaries/8.0.0/${previousHour()}.json`, JSON.stringify(old));
    // At the real clock the sampled hour is still in progress: the window ends before it.
    const { body } = await callJson<Report>('/v1/drift?model_version=8.0.0&window=48h');
    expect(body).toMatchObject({ source: 'computed', n: 0, verdict: 'insufficient_data' });
    expect(body.skipped).toEqual([{ test: 'summaries', reason: '1 hourly summaries use other histogram edges and were left out' }]);
    await testEnv.TELEMETRY.delete(`summaries/8.0.0/${previousHour()}.json`);
  });

  it('runs on demand through the admin route', async () => {
    const { res, body } = await callJson<{ versions: Array<{ model_version: string; verdict: string; n: number }>; skipped: Array<{ model_version: string; reason: string }> }>('/v1/admin/drift/run', {
      method: 'POST',
      headers: promoter(),
    });
    expect(res.status).toBe(200);
    // At the real clock the sampled hour is not complete, so the window (the 24 hours before it)
    // holds no aggregates: only the stable version gets a report. The versions are those the
    // window's lane states name, and the channels': the others are not even looked at.
    expect(body.versions).toEqual([expect.objectContaining({ model_version: '8.0.0', verdict: 'insufficient_data', n: 0 })]);
    expect(body.skipped).toEqual([]);
  });
});

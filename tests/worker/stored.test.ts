/**
 * JSON documents read back from R2 are parsed with their zod schemas (worker/lib/stored.ts): a
 * corrupted one is a 500 with a generic message, its key and reason go to the log, and nothing
 * overwrites it.
 */
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { keys } from '../../worker/lib/keys.js';
import { call, makeBundle, nextHourPlus5, publish, reader, runCron, testEnv } from './helpers.js';

const V = '40.0.0';
const GENERIC = 'a stored document is invalid; the operator can find the reason in its logs';

beforeAll(async () => {
  expect((await publish(await makeBundle(V), 'stable')).status).toBe(201);
});

afterEach(() => {
  vi.restoreAllMocks();
});

/** Calls `path` with `key` holding `body`; expects the generic 500 and a log line naming the key. */
async function expectCorrupt(path: string, key: string, body: string, reason: RegExp): Promise<void> {
  await testEnv.TELEMETRY.put(key, body);
  const logged = vi.spyOn(console, 'error').mockImplementation(() => undefined);
  const res = await call(path, { headers: reader() });
  expect(res.status).toBe(500);
  const text = await res.text();
  expect(JSON.parse(text)).toEqual({ error: { code: 'stored_document_invalid', message: GENERIC } });
  // Neither the key nor the reason reaches the client.
  expect(text).not.toContain(key);
  const lines = logged.mock.calls.map((args) => args.map(String).join(' '));
  expect(
    lines.some((l) => l.includes(key) && reason.test(l)),
    lines.join('\n'),
  ).toBe(true);
  // Read-only: the document is still what was put there.
  expect(await (await testEnv.TELEMETRY.get(key))!.text()).toBe(body);
}

describe('corrupted stored documents', () => {
  it('a drift report that fails its schema: /v1/drift and /dashboard answer 500', async () => {
    const key = keys.driftLatest(V);
    // JSON, but the verdict is not one the report can have and `n` is a string.
    const body = JSON.stringify({ schema: 2, model_version: V, verdict: 'fine', n: '12' });
    await expectCorrupt(`/v1/drift?model_version=${V}`, key, body, /verdict/);
    await expectCorrupt(`/dashboard?model_version=${V}`, key, body, /verdict/);
    await testEnv.TELEMETRY.delete(key);
  });

  it('a monitoring report that is not JSON: /v1/monitoring answers 500', async () => {
    const key = keys.monitorLatest(V);
    await expectCorrupt(`/v1/monitoring?model_version=${V}`, key, '{"schema":1,"model_version":', /not JSON/);
    await testEnv.TELEMETRY.delete(key);
  });

  it('metrics totals of the wrong shape: /metrics answers 500', async () => {
    await expectCorrupt('/metrics', keys.metricsTotals, JSON.stringify({ folded_through: 'yesterday', series: {} }), /folded_through/);
    await testEnv.TELEMETRY.delete(keys.metricsTotals);
  });

  it('the hourly job logs the broken previous report and leaves it in place instead of replacing it', async () => {
    const key = keys.driftLatest(V);
    const body = JSON.stringify({ schema: 2, model_version: V, verdict: 'fine' });
    await testEnv.TELEMETRY.put(key, body);
    const logged = vi.spyOn(console, 'error').mockImplementation(() => undefined);
    await runCron(nextHourPlus5());
    const lines = logged.mock.calls.map((args) => args.map((a) => (a instanceof Error ? a.message : String(a))).join(' '));
    expect(lines.some((l) => l.includes(`drift run failed for ${V}`) && l.includes(key))).toBe(true);
    expect(await (await testEnv.TELEMETRY.get(key))!.text()).toBe(body);
    // Once the document is valid again (here: gone), the job writes a report as usual.
    await testEnv.TELEMETRY.delete(key);
    logged.mockRestore();
    await runCron(nextHourPlus5());
    expect((await testEnv.TELEMETRY.get(key))?.size).toBeGreaterThan(0);
  });
});

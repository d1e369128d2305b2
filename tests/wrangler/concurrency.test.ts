/**
 * Concurrency against a real `wrangler dev`: 240 distinct sample batches sent all at once, 80 of
 * them twice (the copy races the original), through the real queues and their consumers; then
 * everything stored is exported through the admin route and counted. Stored items must equal
 * accepted items exactly, every batch stored once.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { publishModel } from '../../scripts/publish-model.js';
import { startWranglerDev, type WranglerDev } from '../../scripts/wrangler-dev.js';
import { HOUR_MS, hourFloor } from '../../core/wire.js';
import { SECRETS, awayFromHourEnd, committedModel, untilStored } from './helpers.js';

const BATCHES = 240;
const RESENT = 80;
const CLIENTS = 60; // ≤ 30 batches per client and minute (wrangler.toml), with duplicates ≤ 8 here

let dev: WranglerDev;
let version = '';

beforeAll(async () => {
  const model = committedModel();
  version = model.manifest.version;
  dev = await startWranglerDev({ vars: { ...SECRETS } });
  await publishModel({ dir: model.dir, url: dev.url, publishToken: SECRETS.ADMIN_PUBLISH_TOKEN, promoteToken: SECRETS.ADMIN_PROMOTE_TOKEN, channel: 'stable', log: () => {} });
});

afterAll(async () => {
  await dev?.stop();
});

/** Deterministic pseudo-random integers (a fixed LCG): reproducible batch sizes. */
function lcg(seed: number) {
  let x = seed >>> 0;
  return (lo: number, hi: number) => {
    x = (Math.imul(x, 1664525) + 1013904223) >>> 0;
    return lo + (x % (hi - lo + 1));
  };
}

describe('concurrent ingest', () => {
  it(`stores ${BATCHES} concurrent batches (${RESENT} sent twice) exactly once each`, async () => {
    await awayFromHourEnd();
    const rand = lcg(240);
    // Per-comment samples (consent "text", hour-granular time).
    const hour = hourFloor(Date.now());
    const batches = Array.from({ length: BATCHES }, (_, i) => ({
      batch_id: crypto.randomUUID(),
      client_id: `concurrency-client-${String(i % CLIENTS).padStart(3, '0')}`,
      model_version: version,
      consent: 'text',
      items: Array.from({ length: rand(1, 40) }, (_, k) => ({
        label: (['negative', 'neutral', 'positive'] as const)[(i + k) % 3],
        score: 0.34 + ((i * 7 + k) % 66) / 100,
        ts: hour - (k % 3) * HOUR_MS,
        text: `comment ${i}-${k}${i % 3 === 0 ? ` mail me at user${k}@example.com` : ''}`,
      })),
    }));
    const sends = [...batches, ...batches.slice(0, RESENT)].map((b) => JSON.stringify(b));
    // Shuffle so copies are spread among the originals (deterministically).
    for (let i = sends.length - 1; i > 0; i--) {
      const j = rand(0, i);
      [sends[i], sends[j]] = [sends[j]!, sends[i]!];
    }

    const answers = await Promise.all(
      sends.map(async (body) => {
        const res = await fetch(`${dev.url}/v1/samples`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body });
        const json = (await res.json()) as { batch_id: string; accepted: number; duplicate: boolean };
        return { status: res.status, ...json };
      }),
    );
    expect(
      answers.filter((a) => a.status !== 202),
      JSON.stringify(answers.find((a) => a.status !== 202)),
    ).toEqual([]);

    // Every copy is queued (202 duplicate:false); the lanes store each batch once.
    const byBatch = new Map<string, typeof answers>();
    for (const a of answers) byBatch.set(a.batch_id, [...(byBatch.get(a.batch_id) ?? []), a]);
    expect(byBatch.size).toBe(BATCHES);
    for (const b of batches) for (const a of byBatch.get(b.batch_id)!) expect(a).toMatchObject({ accepted: b.items.length, duplicate: false });
    const accepted = batches.reduce((n, b) => n + b.items.length, 0);
    await untilStored(dev, BATCHES);

    // Everything stored, read back through the admin export.
    const res = await fetch(`${dev.url}/v1/admin/export?kind=samples&model_version=${version}`, { headers: { Authorization: `Bearer ${SECRETS.READ_TOKEN}` } });
    expect(res.status).toBe(200);
    const lines = (await res.text())
      .split('\n')
      .filter((l) => l !== '')
      .map((l) => JSON.parse(l) as { batch_id: string; text: string; ts: number });
    expect(lines).toHaveLength(accepted);
    const stored = new Map<string, number>();
    for (const l of lines) stored.set(l.batch_id, (stored.get(l.batch_id) ?? 0) + 1);
    expect(stored.size).toBe(BATCHES);
    for (const b of batches) expect(stored.get(b.batch_id), b.batch_id).toBe(b.items.length);
    // No item twice (every text is distinct) and every stored text scrubbed, every time an hour.
    expect(new Set(lines.map((l) => l.text)).size).toBe(lines.length);
    for (const l of lines) {
      expect(l.text).not.toContain('@example.com');
      expect(l.ts % HOUR_MS).toBe(0);
    }

    // And the metrics agree (increments of other isolates are persisted within METRICS_FLUSH_MS).
    await new Promise((r) => setTimeout(r, 2500));
    const settled = await (await fetch(`${dev.url}/metrics`, { headers: { Authorization: `Bearer ${SECRETS.READ_TOKEN}` } })).text();
    const settledValue = (series: string) => Number(new RegExp(`^${series.replace(/[{}"]/g, (c) => `\\${c}`)} (\\d+)$`, 'm').exec(settled)?.[1] ?? NaN);
    expect(settledValue('ytsent_samples_accepted_total{kind="samples"}')).toBe(accepted);
    expect(settledValue('ytsent_batches_total{kind="samples",outcome="accepted"}')).toBe(BATCHES);
    expect(settledValue('ytsent_batches_total{kind="samples",outcome="duplicate"}')).toBe(RESENT);
  });
});

/**
 * The live-monitoring statistics (core/monitoring.ts) and the canary pick (core/canary.ts), with
 * reference values from scipy 1.17 (`binomtest(k, n).proportion_ci(method="wilson")`,
 * `norm.sf`), and the scoring-latency fields of the on-device aggregates (core/wire.ts,
 * core/aggregates.ts).
 */
import { describe, expect, it } from 'vitest';
import { addScoringCall, addScoringError, addToAggregate, emptyAggregate } from '../../core/aggregates.js';
import { inCandidateBucket, pickVersion, rolloutBucket, RolloutDocSchema, RolloutRequestSchema } from '../../core/canary.js';
import { estimatedConfusion, estimatedQuality, latencyQuantile, latencySummary, normalSf, offDiagonal, twoProportionTest, wilson } from '../../core/monitoring.js';
import { AggregateItemSchema, LATENCY_BINS, LATENCY_BOUNDS_MS, latencyBin } from '../../core/wire.js';

const T = Date.UTC(2026, 0, 1, 10);

describe('Wilson interval and the two-proportion test', () => {
  it('match scipy', () => {
    const w = wilson(7, 50)!;
    expect(w.value).toBe(0.14);
    expect(w.lower).toBeCloseTo(0.06950833427016292, 12);
    expect(w.upper).toBeCloseTo(0.26186193710585537, 12);
    expect(wilson(0, 20)).toMatchObject({ lower: 0, value: 0 });
    expect(wilson(0, 20)!.upper).toBeCloseTo(0.16112515805281935, 12);
    expect(wilson(20, 20)).toMatchObject({ upper: 1, value: 1 });
    expect(wilson(20, 20)!.lower).toBeCloseTo(0.8388748419471808, 12);
    expect(wilson(0, 0)).toBeNull();
    expect(wilson(3, 2)).toBeNull();

    for (const [z, sf] of [
      [1.5, 0.06680720126885807],
      [-0.3, 0.6179114221889526],
      [3.2, 0.0006871379379158471],
      [0, 0.5],
    ] as const) {
      expect(Math.abs(normalSf(z) - sf) / sf).toBeLessThan(2e-7);
    }
    const t = twoProportionTest(30, 1000, 20, 1000)!;
    expect(t.diff).toBeCloseTo(0.01, 12);
    expect(t.z).toBeCloseTo(1.4322297480788655, 10);
    expect(t.p_value).toBeCloseTo(0.07603904039648762, 6);
    const none = twoProportionTest(0, 100, 0, 100)!;
    expect(none.z).toBe(0);
    expect(none.p_value).toBeCloseTo(0.5, 6);
    expect(twoProportionTest(1, 0, 1, 10)).toBeNull();
  });
});

describe('quality estimated from corrections', () => {
  it('moves corrected comments to their true class and keeps the rest on the diagonal', () => {
    // corrections[predicted][corrected]; the diagonal (a "correction" to the same label) is ignored.
    const corrections = [
      [7, 0, 10],
      [0, 0, 30],
      [20, 0, 5],
    ];
    expect(offDiagonal(corrections)).toBe(60);
    expect(estimatedConfusion([100, 200, 300], corrections)).toEqual([
      [90, 0, 20],
      [0, 170, 0],
      [10, 30, 280],
    ]);
    const q = estimatedQuality([100, 200, 300], corrections);
    expect(q.per_class.negative.precision).toBeCloseTo(0.9, 12);
    expect(q.per_class.negative.recall).toBeCloseTo(90 / 110, 12);
    expect(q.per_class.neutral.recall).toBe(1);
    expect(q.accuracy).toBeCloseTo(540 / 600, 12);
    // More corrections than predictions of a class: its diagonal stays at 0, never negative.
    expect(
      estimatedConfusion(
        [5, 0, 0],
        [
          [0, 0, 9],
          [0, 0, 0],
          [0, 0, 0],
        ],
      )[0]![0],
    ).toBe(0);
  });
});

describe('scoring latency', () => {
  it('bins calls on fixed doubling bounds from 1 ms to 16384 ms', () => {
    expect(LATENCY_BOUNDS_MS).toEqual([1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 2048, 4096, 8192, 16384]);
    expect(LATENCY_BINS).toBe(16);
    expect([0, 0.5, 1, 1.99, 2, 15.9, 16, 1000, 16383, 16384, 1e9, NaN, -3].map(latencyBin)).toEqual([0, 0, 1, 1, 2, 4, 5, 10, 14, 15, 15, 15, 0]);
  });

  it('interpolates quantiles geometrically inside a bin', () => {
    const counts = new Array<number>(LATENCY_BINS).fill(0);
    counts[4] = 10; // 8-16 ms
    counts[5] = 8; // 16-32 ms
    counts[10] = 2; // 512-1024 ms
    expect(latencyQuantile(counts, 0.5)).toBeCloseTo(16, 12);
    expect(latencyQuantile(counts, 0.25)).toBeCloseTo(8 * Math.SQRT2, 12);
    expect(latencyQuantile(counts, 0.95)).toBeCloseTo(512 * Math.SQRT2, 9);
    expect(latencySummary(counts)).toMatchObject({ calls: 20 });
    const first = new Array<number>(LATENCY_BINS).fill(0);
    first[0] = 4;
    expect(latencyQuantile(first, 0.5)).toBeCloseTo(0.5, 12);
    const overflow = new Array<number>(LATENCY_BINS).fill(0);
    overflow[15] = 1;
    expect(latencyQuantile(overflow, 0.99)).toBe(16384);
    expect(latencyQuantile(new Array<number>(LATENCY_BINS).fill(0), 0.5)).toBeNull();
    expect(latencyQuantile([1, 2, 3], 0.5)).toBeNull();
  });

  it('counts calls and errors into aggregates, never more calls than comments, and the wire checks it', () => {
    const agg = emptyAggregate(T);
    for (let i = 0; i < 12; i++) addToAggregate(agg, { label: 'positive', confidence: 0.9, lang: 'en', tokens: [1] }, T);
    addScoringCall(agg, 12);
    addScoringCall(agg, 700);
    addScoringError(agg);
    expect(agg.latency_counts![latencyBin(12)]).toBe(1);
    expect(agg.latency_counts![latencyBin(700)]).toBe(1);
    expect(agg.errors).toBe(1);
    expect(AggregateItemSchema.safeParse(agg).success).toBe(true);
    for (let i = 0; i < 20; i++) addScoringCall(agg, 5);
    expect(agg.latency_counts!.reduce((a, b) => a + b, 0)).toBe(12);

    const tooMany = { ...agg, latency_counts: [...agg.latency_counts!] };
    tooMany.latency_counts[0]! += 1;
    const refused = AggregateItemSchema.safeParse(tooMany);
    expect(refused.success).toBe(false);
    expect(refused.error!.issues.map((i) => i.path.join('.'))).toEqual(['latency_counts']);
    expect(AggregateItemSchema.safeParse({ ...agg, latency_counts: [1, 2, 3] }).success).toBe(false);
    expect(AggregateItemSchema.safeParse({ ...agg, errors: -1 }).success).toBe(false);
    // Older extensions send neither field: still valid.
    const { latency_counts: _l, errors: _e, ...old } = agg;
    expect(AggregateItemSchema.safeParse(old).success).toBe(true);
  });
});

describe('canary pick', () => {
  const doc = (percent: number) => ({ channel: 'stable', stable: { version: '2.0.0' }, candidate: { version: '2.1.0', percent } });

  it('is stable per install id, monotone in the percent, and reaches about percent of installs', () => {
    const ids = Array.from({ length: 40_000 }, (_, i) => `install-${i}-${(i * 2654435761) >>> 0}`);
    for (const percent of [1, 5, 25, 50]) {
      const share = ids.filter((id) => pickVersion(doc(percent), id).arm === 'candidate').length / ids.length;
      // Binomial standard deviation at n = 40 000 is at most 0.25 %; 5 of them.
      expect(Math.abs(share - percent / 100)).toBeLessThan(0.0125);
    }
    for (const id of ids.slice(0, 2000)) {
      const b = rolloutBucket(id, 'stable', '2.1.0');
      expect(b).toBeGreaterThanOrEqual(0);
      expect(b).toBeLessThan(100);
      expect(rolloutBucket(id, 'stable', '2.1.0')).toBe(b);
      // Raising the percent only adds installs.
      if (inCandidateBucket(b, 5)) expect(inCandidateBucket(b, 25)).toBe(true);
    }
    // Another rollout draws another cohort.
    const cohort = (v: string) => new Set(ids.slice(0, 4000).filter((id) => rolloutBucket(id, 'stable', v) < 10));
    const a = cohort('2.1.0');
    const b = cohort('2.2.0');
    const overlap = [...a].filter((id) => b.has(id)).length / a.size;
    expect(overlap).toBeLessThan(0.2);
    expect(pickVersion({ channel: 'stable', stable: { version: '2.0.0' }, candidate: null }, 'x')).toMatchObject({ version: '2.0.0', arm: 'stable', bucket: null });
  });

  it('validates rollout documents and requests', () => {
    const sha = 'a'.repeat(64);
    const valid = { channel: 'stable', stable: { version: '2.0.0', manifest_sha256: sha }, candidate: { version: '2.1.0', manifest_sha256: sha, percent: 5, started_at: 'x' }, updated_at: 'x' };
    expect(RolloutDocSchema.safeParse(valid).success).toBe(true);
    expect(RolloutDocSchema.safeParse({ ...valid, candidate: null }).success).toBe(true);
    expect(RolloutDocSchema.safeParse({ ...valid, candidate: { ...valid.candidate, percent: 100 } }).success).toBe(false);
    expect(RolloutDocSchema.safeParse({ ...valid, stable: { version: 'latest', manifest_sha256: sha } }).success).toBe(false);
    expect(RolloutRequestSchema.safeParse({ version: '2.1.0', percent: 12.5 }).success).toBe(true);
    expect(RolloutRequestSchema.safeParse({ version: '2.1.0', percent: 12.345 }).success).toBe(false);
    expect(RolloutRequestSchema.safeParse({ version: '2.1.0', percent: 5, force: true }).success).toBe(false);
    expect(RolloutRequestSchema.safeParse({ version: '2.1.0', percent: 5, force: true, reason: 'an urgent fix for a crash' }).success).toBe(true);
  });
});

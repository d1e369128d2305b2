/**
 * The champion/challenger gate (training/champion.ts) on models whose every prediction the test
 * sets: each rule refuses exactly what it should (a class drop beyond δ on a slice where the class
 * has support, a macro-F1 interval reaching below −ε, a worse behavioural suite, golden examples
 * not reproduced), the bootstrap is paired, stratified and seeded, and the blessing binds its report.
 * The gate on real bundles runs in tests/unit/mlops-pipeline.test.ts and tests/wrangler/mlops.test.ts.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { LABELS, type Label } from '../../core/labels.js';
import { BlessingSchema, parseManifest, type ModelManifest } from '../../core/manifest.js';
import { MODELS_DIR } from '../../node-runtime/bundle.js';
import { sha256Hex } from '../../node-runtime/sha256.js';
import { blessingOf, formatReport, pairedBootstrap, runGate, type Contender, type GateSlice } from '../../training/champion.js';
import type { BehavioralCase } from '../../training/behavioral/cases.js';

const PARAMS = { per_class_f1_max_drop: 0.05, macro_f1_min_ci_lower: -0.01, confidence: 0.95, bootstrap_samples: 400, min_class_support: 30, behavioral_max_increase: 0.02 };
const NOW = () => new Date('2026-03-01T12:00:00.000Z');

/** A model that answers `answer(text)` with certainty; golden examples as given. */
function contender(version: string, answer: (text: string) => Label, golden: Array<{ text: string; probs: number[] }> = [{ text: 'youtube_val-neutral-50', probs: [0.05, 0.9, 0.05] }]): Contender {
  const probsOf = (t: string) => LABELS.map((l) => (l === answer(t) ? 0.9 : 0.05));
  return {
    version,
    manifestSha256: sha256Hex(version),
    manifest: { version, golden, golden_tolerance: 1e-3 } as unknown as ModelManifest,
    probs: async (texts) => Float32Array.from(texts.flatMap(probsOf)),
    release: async () => {},
  };
}

/** `n` texts per label named `<slice>-<label>-<i>`, gold = that label. */
function slice(name: string, n: number, extra: Partial<GateSlice> = {}): GateSlice {
  const texts = LABELS.flatMap((l) => Array.from({ length: n }, (_, i) => `${name}-${l}-${i}`));
  return { name, texts, labels: texts.map((t) => t.split('-')[1]!), primary: true, ...extra };
}

const gold = (t: string): Label => (t.split('-')[1] as Label) ?? 'neutral';
/** Right on every text whose number is at least `wrongBelow` (per label), else says neutral/negative. */
const rightFrom =
  (wrongBelow: number, only?: (t: string) => boolean) =>
  (t: string): Label => {
    const parts = t.split('-');
    if (parts.length < 3 || (only && !only(t))) return gold(t);
    return Number(parts[2]) < wrongBelow ? (gold(t) === 'neutral' ? 'negative' : 'neutral') : gold(t);
  };

const umsab = (): GateSlice[] => {
  const de = slice('umsab_val', 20).texts.map((t) => `${t}-de`);
  const fr = slice('umsab_val', 20).texts.map((t) => `${t}-fr`);
  const texts = [...de, ...fr];
  return [
    { name: 'umsab_val', texts, labels: texts.map(gold), langs: texts.map((t) => t.split('-')[3]!), primary: true },
    { name: 'umsab_val.de', texts: de, labels: de.map(gold), primary: false },
    { name: 'umsab_val.fr', texts: fr, labels: fr.map(gold), primary: false },
  ];
};

// As slicesFromSplits builds them: the feedback set is checked class by class, not in the mean.
const slices = (): GateSlice[] => [slice('youtube_val', 100), slice('tweeteval_val', 100), ...umsab(), slice('feedback_val', 40, { primary: false })];

describe('the gate', () => {
  it('blesses a challenger that is as good everywhere, with a zero-width interval', async () => {
    const same = rightFrom(10);
    const r = await runGate({ challenger: contender('2.1.0', same), champion: contender('2.0.0', same), slices: slices(), params: PARAMS, seed: 1, now: NOW });
    expect(r.verdict).toBe('blessed');
    expect(r.failures).toEqual([]);
    expect(r.macro_f1_diff).toEqual({ value: 0, lower: 0, upper: 0 });
    expect(r.primary_slices).toEqual(['youtube_val', 'tweeteval_val', 'umsab_val']);
    expect(r.slices.map((s) => s.name)).toEqual(['youtube_val', 'tweeteval_val', 'umsab_val', 'umsab_val.de', 'umsab_val.fr', 'feedback_val']);
    expect(r.champion).toEqual({ version: '2.0.0', manifest_sha256: sha256Hex('2.0.0') });
    expect(r.behavioral).toMatchObject({ increase: 0, passed: true });
    expect(r.decided_at).toBe('2026-03-01T12:00:00.000Z');
  });

  it('refuses a class that drops more than δ on one slice, naming slice and class', async () => {
    // Right on everything but the first 10 of 100 positive youtube_val texts (called neutral):
    // F1(positive) drops 0.053, F1(neutral) 0.048.
    const challenger = contender('2.1.0', (t) => (t.startsWith('youtube_val-positive-') && Number(t.split('-')[2]) < 10 ? 'neutral' : gold(t)));
    const r = await runGate({ challenger, champion: contender('2.0.0', gold), slices: slices(), params: { ...PARAMS, macro_f1_min_ci_lower: -1 }, seed: 1, now: NOW });
    expect(r.verdict).toBe('refused');
    expect(r.failures).toHaveLength(1);
    expect(r.failures[0]).toMatch(/^youtube_val: F1 of positive 1\.000 → 0\.947 \(drop 0\.053 > δ 0\.05, 100 examples\)$/);
    const yt = r.slices.find((s) => s.name === 'youtube_val')!;
    expect(yt.classes.find((c) => c.label === 'positive')).toMatchObject({ gated: true, passed: false, support: 100 });
    const line = formatReport(r)
      .split('\n')
      .find((l) => l.includes('youtube_val'));
    expect(line, formatReport(r)).toMatch(/✗ youtube_val +n= +300 +macro-F1 1\.000 → 0\.967 +largest drop: positive F1 −0\.053$/);
  });

  it('reports but does not hold to δ a class with too few examples in a slice', async () => {
    // umsab_val.de has 20 per class (< 30): a big drop there alone is not a failure of its own.
    const challenger = contender('2.1.0', (t) => (t.endsWith('-de') && t.includes('-negative-') && Number(t.split('-')[2]) < 8 ? 'neutral' : gold(t)));
    const r = await runGate({ challenger, champion: contender('2.0.0', gold), slices: slices(), params: { ...PARAMS, macro_f1_min_ci_lower: -1 }, seed: 1, now: NOW });
    const de = r.slices.find((s) => s.name === 'umsab_val.de')!.classes.find((c) => c.label === 'negative')!;
    expect(de).toMatchObject({ support: 20, gated: false, passed: true });
    expect(de.drop).toBeGreaterThan(0.2);
    // The pooled umsab_val slice (40 negatives) does see it.
    expect(r.failures).toContainEqual(expect.stringMatching(/^umsab_val: F1 of negative/));
    expect(r.failures.every((f) => f.startsWith('umsab_val: '))).toBe(true);
  });

  it('refuses when the macro-F1 interval reaches below −ε, even with every class within δ', async () => {
    const champion = contender('2.0.0', rightFrom(10));
    const challenger = contender('2.1.0', rightFrom(13));
    const r = await runGate({ challenger, champion, slices: slices(), params: { ...PARAMS, per_class_f1_max_drop: 1 }, seed: 1, now: NOW });
    expect(r.verdict).toBe('refused');
    expect(r.macro_f1_diff!.value).toBeLessThan(0);
    expect(r.macro_f1_diff!.lower).toBeLessThan(-0.01);
    expect(r.macro_f1_diff!.lower).toBeLessThanOrEqual(r.macro_f1_diff!.value);
    expect(r.macro_f1_diff!.upper).toBeGreaterThanOrEqual(r.macro_f1_diff!.value);
    expect(r.failures).toEqual([expect.stringMatching(/^mean macro-F1 over youtube_val, tweeteval_val, umsab_val: .* lower bound not above -0\.01$/)]);
    // A better challenger: the whole interval is above 0.
    const better = await runGate({ challenger: champion, champion: challenger, slices: slices(), params: PARAMS, seed: 1, now: NOW });
    expect(better.verdict).toBe('blessed');
    expect(better.macro_f1_diff!.lower).toBeGreaterThan(0);
  });

  it('refuses a worse behavioural suite, and a bundle that does not reproduce its golden examples', async () => {
    const cases: BehavioralCase[] = Array.from({ length: 20 }, (_, i) => ({ id: `neutral-${i}`, capability: 'neutral', type: 'mft', text: `case ${i}`, expected: 'neutral' }));
    const challenger = contender('2.1.0', (t) => (t === 'case 0' ? 'positive' : gold(t)), [{ text: 'youtube_val-positive-1', probs: [0.05, 0.05, 0.9] }]);
    const r = await runGate({ challenger, champion: contender('2.0.0', gold), slices: slices(), params: PARAMS, seed: 1, now: NOW, behavioral: cases });
    expect(r.behavioral).toMatchObject({ champion: { rate: 0 }, challenger: { rate: 0.05 }, increase: 0.05, passed: false });
    expect(r.failures).toEqual([expect.stringMatching(/^behavioural suite: failure rate 0\.0% → 5\.0%/)]);
    expect(r.golden).toMatchObject({ examples: 1, passed: true });

    const broken = contender('2.1.0', gold, [{ text: 'youtube_val-positive-1', probs: [0.1, 0.1, 0.8] }]);
    const g = await runGate({ challenger: broken, champion: null, slices: slices(), params: PARAMS, seed: 1, now: NOW });
    expect(g.verdict).toBe('refused');
    expect(g.failures).toEqual([expect.stringMatching(/^golden examples: 1 of 1 not reproduced within 0\.001/)]);
    const none = await runGate({ challenger: contender('2.1.0', gold, []), champion: null, slices: slices(), params: PARAMS, seed: 1, now: NOW });
    expect(none.failures).toEqual(['golden examples: the bundle has none, so no install could verify it']);
  });

  it('without a champion checks the golden examples only', async () => {
    const r = await runGate({ challenger: contender('1.0.0', gold, [{ text: 'x', probs: [0.05, 0.9, 0.05] }]), champion: null, slices: slices(), params: PARAMS, seed: 1, now: NOW });
    expect(r).toMatchObject({ verdict: 'blessed', champion: null, macro_f1_diff: null, slices: [], behavioral: null });
  });
});

describe('paired bootstrap', () => {
  const unit = (n: number, wrongA: number, wrongB: number) => ({
    gold: Uint8Array.from({ length: n }, (_, i) => i % 3),
    a: Uint8Array.from({ length: n }, (_, i) => (i < wrongA ? (i + 1) % 3 : i % 3)),
    b: Uint8Array.from({ length: n }, (_, i) => (i < wrongB ? (i + 1) % 3 : i % 3)),
  });

  it('is seeded: the same seed gives the same interval, another seed another one', () => {
    const units = [unit(300, 30, 20), unit(90, 10, 15)];
    const sl = [
      { units: [0], primary: true },
      { units: [1], primary: true },
      { units: [0, 1], primary: false },
    ];
    const a = pairedBootstrap(units, sl, 500, 0.95, 7);
    expect(pairedBootstrap(units, sl, 500, 0.95, 7)).toEqual(a);
    expect(pairedBootstrap(units, sl, 500, 0.95, 8)).not.toEqual(a);
    expect(a.primary.lower).toBeLessThan(a.primary.upper);
    // A wider confidence level gives a wider interval.
    const wide = pairedBootstrap(units, sl, 500, 0.99, 7);
    expect(wide.primary.lower).toBeLessThanOrEqual(a.primary.lower);
    expect(wide.primary.upper).toBeGreaterThanOrEqual(a.primary.upper);
  });

  it('is paired: two models wrong on the same texts differ by exactly 0 in every resample', () => {
    const same = unit(200, 40, 40);
    expect(pairedBootstrap([same], [{ units: [0], primary: true }], 300, 0.95, 1).primary).toEqual({ lower: 0, upper: 0 });
  });
});

describe('the blessing', () => {
  it('binds its report by sha256, fits the manifest schema, and leaves older bundles valid', async () => {
    const r = await runGate({
      challenger: contender('2.1.0', gold),
      champion: contender('2.0.0', gold),
      slices: slices(),
      params: PARAMS,
      seed: 1,
      now: NOW,
      snapshot: 'f'.repeat(64),
      runId: 'run-1',
    });
    const { reportText, blessing } = blessingOf(r);
    expect(blessing.report_sha256).toBe(sha256Hex(reportText));
    expect(BlessingSchema.parse(blessing)).toEqual(blessing);
    expect(blessing).toMatchObject({ verdict: 'blessed', champion: { version: '2.0.0' }, snapshot: 'f'.repeat(64), run_id: 'run-1', slices: 6 });
    const old = JSON.parse(readFileSync(join(MODELS_DIR, '1.0.0', 'manifest.json'), 'utf8')) as Record<string, unknown>;
    expect(parseManifest(old).blessing).toBeUndefined();
    expect(parseManifest({ ...old, blessing }).blessing).toEqual(blessing);
    expect(() => parseManifest({ ...old, blessing: { ...blessing, verdict: 'maybe' } })).toThrow(/blessing\.verdict/);
  });
});

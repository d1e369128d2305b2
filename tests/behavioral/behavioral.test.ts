/**
 * The behavioural suite (cases.ts): (a) the suite itself and the runner's arithmetic, with no model;
 * (b) the newest model bundle of version ≥ thresholds.json `model` must stay under the failure-rate
 * thresholds of thresholds.json (skipped, saying so, while no such bundle exists).
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { isLabel, type Label } from '../../core/labels.js';
import { compareSemver } from '../../core/manifest.js';
import {
  addTypos,
  CAPABILITIES,
  CASES,
  caseTexts,
  DEFAULT_TOLERANCE,
  expectedLabels,
  isEmojiOnly,
  mulberry32,
  TEST_TYPES,
  type BehavioralCase,
  type InvCase,
} from '../../training/behavioral/cases.js';
import { runSuite, type PredictionLike } from '../../training/behavioral/runner.js';
import { bundlePredictor, lexiconPredictors, listModelBundles } from './scorers.js';

const thresholds = JSON.parse(readFileSync(new URL('./thresholds.json', import.meta.url), 'utf8')) as {
  model: string;
  max_total_failure_rate: number;
  max_emoji_only_failure_rate: number;
};

describe('behavioural suite: structure', () => {
  it('has at least 300 cases, every capability with at least 15 and every test type', () => {
    expect(CASES.length).toBeGreaterThanOrEqual(300);
    for (const cap of CAPABILITIES) expect(CASES.filter((c) => c.capability === cap).length, cap).toBeGreaterThanOrEqual(15);
    for (const type of TEST_TYPES)
      expect(
        CASES.some((c) => c.type === type),
        type,
      ).toBe(true);
    expect(new Set(CASES.map((c) => c.capability))).toEqual(new Set(CAPABILITIES));
  });

  it('has unique ids of the form <capability>-<nnn>', () => {
    const ids = CASES.map((c) => c.id);
    expect(new Set(ids).size).toBe(ids.length);
    for (const c of CASES) expect(c.id).toMatch(new RegExp(`^${c.capability}-\\d{3}$`));
  });

  it('gives every mft case one or more valid, distinct labels, never all three', () => {
    for (const c of CASES.filter((x) => x.type === 'mft')) {
      const labels = expectedLabels(c);
      expect(labels.length, c.id).toBeGreaterThanOrEqual(1);
      expect(labels.length, c.id).toBeLessThan(3);
      expect(new Set(labels).size, c.id).toBe(labels.length);
      for (const l of labels) expect(isLabel(l), `${c.id}: ${String(l)}`).toBe(true);
    }
  });

  it('never expects contradictory labels for the same text', () => {
    const seen = new Map<string, { id: string; labels: readonly Label[] }>();
    for (const c of CASES) {
      if (c.type !== 'mft') continue;
      const prev = seen.get(c.text);
      if (prev)
        expect(
          prev.labels.some((l) => expectedLabels(c).includes(l)),
          `${prev.id} vs ${c.id}`,
        ).toBe(true);
      seen.set(c.text, { id: c.id, labels: expectedLabels(c) });
    }
  });

  it('has well-formed texts, inv groups and dir pairs', () => {
    for (const c of CASES) {
      for (const t of caseTexts(c)) expect(t.trim().length, c.id).toBeGreaterThan(0);
      if (c.type === 'inv') {
        expect(c.texts.length, c.id).toBeGreaterThanOrEqual(2);
        expect(new Set(c.texts).size, `${c.id}: duplicate texts`).toBe(c.texts.length);
      }
      if (c.type === 'dir') {
        expect(c.perturbed, c.id).not.toBe(c.base);
        expect(isLabel(c.label), c.id).toBe(true);
        expect(['up', 'down'], c.id).toContain(c.must_not_go);
        expect(c.tolerance, c.id).toBe(DEFAULT_TOLERANCE);
      }
    }
  });

  it('tags exactly the cases made only of emoji as emoji_only, and has a real emoji-only subset', () => {
    for (const c of CASES) expect(c.tags?.includes('emoji_only') ?? false, c.id).toBe(caseTexts(c).every(isEmojiOnly));
    expect(CASES.filter((c) => c.tags?.includes('emoji_only')).length).toBeGreaterThanOrEqual(30);
    expect(isEmojiOnly('👍🏽')).toBe(true);
    expect(isEmojiOnly('❤️‍🔥')).toBe(true);
    expect(isEmojiOnly('🤦🏻‍♀️')).toBe(true);
    expect(isEmojiOnly('great 👍')).toBe(false);
    expect(isEmojiOnly('10')).toBe(false);
  });

  it('has the three kinds of negation, negated neutral facts included', () => {
    for (const tag of ['negated_positive', 'negated_negative', 'negated_neutral'] as const) {
      expect(CASES.filter((c) => c.capability === 'negation' && c.tags?.includes(tag)).length, tag).toBeGreaterThanOrEqual(10);
    }
    for (const c of CASES.filter((x) => x.tags?.includes('negated_neutral'))) {
      expect(c.type === 'mft' && expectedLabels(c), c.id).toEqual(['neutral']);
    }
  });

  it('generates its invariance groups as described', () => {
    const groups = (cap: string) => CASES.filter((c): c is InvCase => c.capability === cap && c.type === 'inv');
    for (const g of groups('mentions')) {
      for (const t of g.texts.slice(1)) expect(t, g.id).toMatch(new RegExp(`^@[\\w.-]+ ${escapeRegExp(g.texts[0]!)}$`));
    }
    for (const g of groups('timestamps')) {
      expect(g.texts[0], g.id).not.toMatch(/\d:\d\d/);
      for (const t of g.texts.slice(1)) expect(t, g.id).toMatch(/\b\d{1,2}(:\d\d){1,2}\b/);
    }
    for (const g of groups('urls')) {
      for (const t of g.texts.slice(1)) {
        expect(t.startsWith(g.texts[0]!), g.id).toBe(true);
        expect(t, g.id).toMatch(/(https?:\/\/|www\.)\S+$/);
      }
    }
    for (const g of groups('typos')) {
      const base = g.texts[0]!.split(' ');
      g.texts.slice(1).forEach((t, k) => {
        const words = t.split(' ');
        expect(words.length, g.id).toBe(base.length);
        const changed = words.filter((w, i) => w !== base[i]);
        expect(changed.length, `${g.id}: ${t}`).toBe(k + 1);
        // Each changed word is its original with two adjacent letters swapped.
        for (const w of changed) {
          const orig = base[words.indexOf(w)]!;
          expect([...w].sort().join(''), g.id).toBe([...orig].sort().join(''));
          expect(w[0], g.id).toBe(orig[0]);
        }
      });
    }
    for (const g of groups('entity_swap')) {
      expect(g.texts.length, g.id).toBe(3);
      // One template: the texts share everything but the entity, and the entities differ.
      const ts = g.texts;
      const minLen = Math.min(...ts.map((t) => t.length));
      let p = 0;
      while (p < minLen && ts.every((t) => t[p] === ts[0]![p])) p++;
      let s = 0;
      while (s < minLen - p && ts.every((t) => t[t.length - 1 - s] === ts[0]![ts[0]!.length - 1 - s])) s++;
      const middles = ts.map((t) => t.slice(p, t.length - s));
      expect(new Set(middles).size, g.id).toBe(ts.length);
      expect(p + s, g.id).toBeGreaterThanOrEqual(5);
    }
  });

  it('generates deterministically', () => {
    const a = mulberry32(42);
    const b = mulberry32(42);
    expect(Array.from({ length: 5 }, a)).toEqual(Array.from({ length: 5 }, b));
    expect(addTypos('This tutorial is absolutely amazing', 2, mulberry32(7))).toBe(addTypos('This tutorial is absolutely amazing', 2, mulberry32(7)));
  });
});

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

describe('behavioural runner', () => {
  const P = (label: Label, probs: [number, number, number]): PredictionLike => ({ label, probs });
  const fake: Record<string, PredictionLike> = {
    'great video': P('positive', [0.1, 0.1, 0.8]),
    'awful video': P('negative', [0.7, 0.2, 0.1]),
    'what mic is that?': P('neutral', [0.1, 0.8, 0.1]),
    '@bob great video': P('positive', [0.1, 0.2, 0.7]),
    '@bob awful video': P('neutral', [0.3, 0.6, 0.1]),
    'bad intro': P('negative', [0.8, 0.1, 0.1]),
    'so bad intro': P('negative', [0.7, 0.16, 0.14]), // P(positive) +0.04: within tolerance
    'very bad intro': P('negative', [0.7, 0.14, 0.16]), // P(positive) +0.06: too much
    nice: P('positive', [0.1, 0.2, 0.7]),
    'very nice': P('positive', [0.1, 0.26, 0.64]), // P(positive) −0.06
  };
  const cases: BehavioralCase[] = [
    { id: 'emoji-001', capability: 'emoji', type: 'mft', text: 'great video', expected: 'positive', tags: ['emoji_only'] },
    { id: 'emoji-002', capability: 'emoji', type: 'mft', text: 'awful video', expected: 'positive', tags: ['emoji_only'] },
    { id: 'neutral-001', capability: 'neutral', type: 'mft', text: 'what mic is that?', expected: ['neutral', 'positive'] },
    { id: 'neutral-002', capability: 'neutral', type: 'mft', text: 'great video', expected: ['negative', 'neutral'] },
    { id: 'mentions-001', capability: 'mentions', type: 'inv', texts: ['great video', '@bob great video'] },
    { id: 'mentions-002', capability: 'mentions', type: 'inv', texts: ['awful video', '@bob awful video'] },
    { id: 'intensifiers-001', capability: 'intensifiers', type: 'dir', base: 'bad intro', perturbed: 'so bad intro', label: 'positive', must_not_go: 'up', tolerance: 0.05 },
    { id: 'intensifiers-002', capability: 'intensifiers', type: 'dir', base: 'bad intro', perturbed: 'very bad intro', label: 'positive', must_not_go: 'up', tolerance: 0.05 },
    { id: 'intensifiers-003', capability: 'intensifiers', type: 'dir', base: 'nice', perturbed: 'very nice', label: 'positive', must_not_go: 'down', tolerance: 0.05 },
    { id: 'intensifiers-004', capability: 'intensifiers', type: 'dir', base: 'nice', perturbed: 'very nice', label: 'positive', must_not_go: 'up', tolerance: 0.05 },
  ];

  it('scores each unique text once, in one call, and counts failures by capability, type and tag', async () => {
    const calls: string[][] = [];
    const result = await runSuite(async (texts) => {
      calls.push(texts);
      return texts.map((t) => fake[t]!);
    }, cases);
    expect(calls).toHaveLength(1);
    expect(calls[0]!.length).toBe(new Set(calls[0]).size);
    expect(new Set(calls[0])).toEqual(new Set(Object.keys(fake)));

    // Failing: emoji-002 (negative ≠ positive), neutral-002, mentions-002, intensifiers-002 (+0.06), intensifiers-003 (−0.06).
    expect(result.failures.map((f) => f.id)).toEqual(['emoji-002', 'neutral-002', 'mentions-002', 'intensifiers-002', 'intensifiers-003']);
    expect(result.total).toEqual({ cases: 10, failed: 5, rate: 0.5 });
    expect(result.by_capability).toEqual({
      emoji: { cases: 2, failed: 1, rate: 0.5 },
      neutral: { cases: 2, failed: 1, rate: 0.5 },
      mentions: { cases: 2, failed: 1, rate: 0.5 },
      intensifiers: { cases: 4, failed: 2, rate: 0.5 },
    });
    expect(result.by_type).toEqual({
      mft: { cases: 4, failed: 2, rate: 0.5 },
      inv: { cases: 2, failed: 1, rate: 0.5 },
      dir: { cases: 4, failed: 2, rate: 0.5 },
    });
    expect(result.by_tag).toEqual({ emoji_only: { cases: 2, failed: 1, rate: 0.5 } });

    const byId = Object.fromEntries(result.failures.map((f) => [f.id, f]));
    expect(byId['emoji-002']).toMatchObject({ capability: 'emoji', type: 'mft', texts: ['awful video'], expected: 'positive', got: [fake['awful video']] });
    expect(byId['neutral-002']!.expected).toBe('one of negative|neutral');
    expect(byId['mentions-002']).toMatchObject({ type: 'inv', texts: ['awful video', '@bob awful video'], got: [fake['awful video'], fake['@bob awful video']] });
    expect(byId['intensifiers-002']!.delta).toBeCloseTo(0.06, 10);
    expect(byId['intensifiers-002']!.expected).toBe('P(positive) must not go up by more than 0.05');
    expect(byId['intensifiers-003']!.delta).toBeCloseTo(-0.06, 10);
  });

  it('computes rates on a subset and rejects a predictor that returns the wrong number of predictions', async () => {
    const one = await runSuite(async (texts) => texts.map((t) => fake[t]!), cases.slice(0, 3));
    expect(one.total.failed).toBe(1);
    expect(one.total.rate).toBeCloseTo(1 / 3, 12);
    await expect(runSuite(async (texts) => texts.slice(1).map((t) => fake[t]!), cases)).rejects.toThrow(/predictions for/);
  });

  it('runs the whole suite on a lexicon tool', async () => {
    const [vader] = lexiconPredictors();
    const result = await runSuite(vader!.predict);
    expect(result.total.cases).toBe(CASES.length);
    expect(Object.keys(result.by_capability).sort()).toEqual([...CAPABILITIES].sort());
    expect(result.failures.length).toBe(result.total.failed);
  });
});

// (b) The model gate. Bundles are found by their manifest's version; the newest at or above
// thresholds.model is held to thresholds.json.
const target = listModelBundles()
  .filter((b) => compareSemver(b.version, thresholds.model) >= 0)
  .at(-1);
const newest = listModelBundles().at(-1);
const skipNote = `SKIPPED: no model bundle with version >= ${thresholds.model} under models/ yet (newest: ${newest?.version ?? 'none'})`;

describe('behavioural suite: model gate', () => {
  it.skipIf(!target)(
    target ? `model ${target.version}: total failure rate <= ${thresholds.max_total_failure_rate} and emoji-only <= ${thresholds.max_emoji_only_failure_rate}` : skipNote,
    async () => {
      const predictor = await bundlePredictor(target!.dir);
      try {
        const result = await runSuite(predictor.predict);
        const summary = [
          `total ${result.total.failed}/${result.total.cases}`,
          ...Object.entries(result.by_capability).map(([k, r]) => `${k} ${r.failed}/${r.cases}`),
          'failures:',
          ...result.failures.map((f) => `  ${f.id} (${f.type}, expected ${f.expected}): ${f.texts.map((t, i) => `${JSON.stringify(t)} → ${f.got[i]!.label}`).join('; ')}`),
        ].join('\n');
        expect(result.total.rate, summary).toBeLessThanOrEqual(thresholds.max_total_failure_rate);
        const emoji = result.by_tag.emoji_only!;
        expect(emoji.rate, `emoji-only ${emoji.failed}/${emoji.cases}\n${summary}`).toBeLessThanOrEqual(thresholds.max_emoji_only_failure_rate);
      } finally {
        await predictor.release();
      }
    },
  );
});

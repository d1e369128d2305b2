/**
 * The champion/challenger gate: is a new model (the challenger) at least as good as the one every
 * install gets now (the champion, on the default channel), on the same data, everywhere?
 *
 * Both models score the same texts in the same runtime (onnxruntime-node through
 * core/text-scorer.ts, so any bundle format works). Slices: every validation split of the run, each
 * UMSAB language on its own, and the held-out feedback set when the run had a snapshot. Never the
 * test split: the gate decides, so whatever it reads becomes tuning data.
 *
 * The challenger is blessed when all of these hold (thresholds: params `champion`):
 * 1. per class, per slice: F1 drops by at most δ (`per_class_f1_max_drop`), on every slice where the
 *    class has at least `min_class_support` gold examples (below that one text moves F1 by tenths,
 *    so the class is reported but not held to δ);
 * 2. the difference in mean macro-F1 over the primary slices (the selection splits: the public
 *    data; UMSAB's macro-F1 is its mean over languages, as everywhere in training) has a
 *    paired bootstrap interval whose lower bound is above −ε (`macro_f1_min_ci_lower`). Paired:
 *    each resample draws the same texts for both models, so their shared difficulty cancels out;
 *    stratified: each split (each UMSAB language) is resampled on its own, keeping its size;
 *    seeded: the same models and data give the same interval;
 * 3. the behavioural suite (training/behavioral/) fails at most `behavioral_max_increase` more often;
 * 4. the challenger reproduces its own golden examples in this runtime (a bundle that does not would
 *    be refused by every install anyway).
 * Without a champion (nothing on the default channel yet) only 4 applies.
 *
 * The verdict is a report (`blessing.json`, every number the decision read) and a summary in the
 * manifest (core/manifest.ts `blessing`) that binds the report by its sha256.
 */
import { argmax as argmaxAt } from '../core/linear.js';
import * as ort from 'onnxruntime-node';
import { LABELS, labelIndex } from '../core/labels.js';
import { evaluateConfusion } from '../core/metrics.js';
import type { Blessing, ModelManifest } from '../core/manifest.js';
import { goldenProbs } from '../core/hf-scorer.js';
import { checkGolden } from '../core/scorer.js';
import { createTextScorer, type AnyOrtModule } from '../core/text-scorer.js';
import { loadBundle } from '../node-runtime/bundle.js';
import { sha256Hex } from '../node-runtime/sha256.js';
import { runSuite, type PredictionLike, type SuiteResult } from './behavioral/runner.js';
import type { Params } from './params.js';
import { rng } from './softmax.js';
import { macroOfConfusion, percentile } from './validation.js';
import { FEEDBACK_SPLIT, SELECT_SPLITS, type Splits } from './stages/preprocess.js';

export type ChampionParams = Params['champion'];

/** A model as the gate sees it: its manifest and a way to score texts. */
export interface Contender {
  version: string;
  /** sha256 of the manifest bytes as published (the registry compares it on promotion). */
  manifestSha256: string;
  manifest: ModelManifest;
  /** Row-major [texts, 3] probabilities in LABELS order. */
  probs(texts: readonly string[]): Promise<Float32Array>;
  release(): Promise<void>;
}

/** One labeled text set the gate checks. */
export interface GateSlice {
  name: string;
  texts: string[];
  labels: string[];
  /** A language per text: the slice's macro-F1 is the mean over languages (UMSAB's convention). */
  langs?: string[];
  /** Part of the mean macro-F1 the bootstrap interval is computed for. */
  primary: boolean;
}

export interface ClassCheck {
  label: string;
  support: number;
  champion_f1: number;
  challenger_f1: number;
  /** champion − challenger (positive: a drop). */
  drop: number;
  /** Held to δ (enough support). */
  gated: boolean;
  passed: boolean;
}

export interface SliceResult {
  name: string;
  n: number;
  primary: boolean;
  champion: { macro_f1: number; accuracy: number };
  challenger: { macro_f1: number; accuracy: number };
  /** challenger − champion macro-F1, with this slice's own bootstrap interval (reported, not gated). */
  diff: { value: number; lower: number; upper: number };
  classes: ClassCheck[];
}

export interface GateReport {
  schema: 1;
  verdict: 'blessed' | 'refused';
  decided_at: string;
  challenger: { version: string; files: Record<string, string> };
  champion: { version: string; manifest_sha256: string } | null;
  criteria: Blessing['criteria'];
  primary_slices: string[];
  macro_f1: { champion: number; challenger: number } | null;
  macro_f1_diff: { value: number; lower: number; upper: number } | null;
  slices: SliceResult[];
  behavioral: { champion: BehavioralBrief; challenger: BehavioralBrief; increase: number; passed: boolean } | null;
  golden: { examples: number; max_abs_diff: number; tolerance: number; passed: boolean; champion_texts_flipped: number | null };
  failures: string[];
  snapshot: string | null;
  run_id: string | null;
}

interface BehavioralBrief {
  cases: number;
  failed: number;
  rate: number;
  by_capability: Record<string, number>;
}

/** Slices of a run's splits: the selection splits, each UMSAB language, and the feedback set. */
export function slicesFromSplits(splits: Splits): GateSlice[] {
  const out: GateSlice[] = [];
  for (const name of SELECT_SPLITS) {
    const rows = splits[name];
    const langs = rows.some((r) => r.lang !== undefined) ? rows.map((r) => r.lang ?? 'und') : undefined;
    out.push({ name, texts: rows.map((r) => r.text), labels: rows.map((r) => r.label), ...(langs ? { langs } : {}), primary: true });
    if (langs) {
      for (const lang of [...new Set(langs)].sort()) {
        const part = rows.filter((_, i) => langs[i] === lang);
        out.push({ name: `${name}.${lang}`, texts: part.map((r) => r.text), labels: part.map((r) => r.label), primary: false });
      }
    }
  }
  // Checked class by class like every slice, but not part of the mean: its texts are the ones the
  // deployed model got wrong (that is why users corrected them), so the champion scores near zero
  // there by construction, and a mean including it would let that gain hide losses elsewhere.
  const feedback = splits[FEEDBACK_SPLIT];
  if (feedback && feedback.length > 0) out.push({ name: FEEDBACK_SPLIT, texts: feedback.map((r) => r.text), labels: feedback.map((r) => r.label), primary: false });
  return out;
}

/** A bundle directory as a contender (files verified against its manifest). */
export async function bundleContender(dir: string): Promise<Contender> {
  const bundle = loadBundle(dir);
  const scorer = await createTextScorer(ort as unknown as AnyOrtModule, bundle.manifest, bundle.files, {
    intraOpNumThreads: 1,
    interOpNumThreads: 1,
    executionMode: 'sequential',
  });
  const { readFileSync } = await import('node:fs');
  return {
    version: bundle.manifest.version,
    manifestSha256: sha256Hex(readFileSync(`${dir}/manifest.json`)),
    manifest: bundle.manifest,
    probs: async (texts) => {
      const out = new Float32Array(texts.length * LABELS.length);
      for (let i = 0; i < texts.length; i += 256) out.set(await scorer.probs(texts.slice(i, i + 256)), i * LABELS.length);
      return out;
    },
    release: () => scorer.release(),
  };
}

/** The predicted class of row `i` of row-major probabilities (core's argmax: ties to the lower label). */
const argmax = (p: Float32Array, i: number): number => argmaxAt(p, i * LABELS.length, LABELS.length);

/** A resampling unit: one split, or one language of a split with languages. */
interface Unit {
  gold: Uint8Array;
  a: Uint8Array; // champion predictions
  b: Uint8Array; // challenger predictions
}

/**
 * Paired, stratified bootstrap of (challenger − champion) for each slice's macro-F1 and for the
 * mean over the primary slices. `units` are resampled independently (each keeps its size);
 * a slice's macro-F1 is the mean over its units' macro-F1 when it has several (per language),
 * else its single unit's.
 */
export function pairedBootstrap(
  units: readonly Unit[],
  slices: ReadonlyArray<{ units: number[]; primary: boolean }>,
  samples: number,
  confidence: number,
  seed: number,
): { primary: { lower: number; upper: number }; slices: Array<{ lower: number; upper: number }> } {
  const random = rng(seed);
  const confA = new Float64Array(units.length * 9);
  const confB = new Float64Array(units.length * 9);
  const primaryDiffs = new Float64Array(samples);
  const sliceDiffs = slices.map(() => new Float64Array(samples));
  const f1A = new Float64Array(units.length);
  const f1B = new Float64Array(units.length);
  const primary = slices.map((s, i) => (s.primary ? i : -1)).filter((i) => i >= 0);
  for (let b = 0; b < samples; b++) {
    confA.fill(0);
    confB.fill(0);
    units.forEach((u, ui) => {
      const n = u.gold.length;
      const at = ui * 9;
      for (let d = 0; d < n; d++) {
        const j = Math.floor(random() * n);
        const g = u.gold[j]! * 3;
        confA[at + g + u.a[j]!]!++;
        confB[at + g + u.b[j]!]!++;
      }
      f1A[ui] = macroOfConfusion(confA, 'macro_f1', at);
      f1B[ui] = macroOfConfusion(confB, 'macro_f1', at);
    });
    let sum = 0;
    slices.forEach((s, si) => {
      let a = 0;
      let bb = 0;
      for (const ui of s.units) {
        a += f1A[ui]!;
        bb += f1B[ui]!;
      }
      const diff = (bb - a) / s.units.length;
      sliceDiffs[si]![b] = diff;
      if (s.primary) sum += diff;
    });
    primaryDiffs[b] = primary.length ? sum / primary.length : 0;
  }
  const alpha = (1 - confidence) / 2;
  const interval = (values: Float64Array) => {
    const sorted = Float64Array.from(values).sort();
    return { lower: percentile(sorted, alpha), upper: percentile(sorted, 1 - alpha) };
  };
  return { primary: interval(primaryDiffs), slices: sliceDiffs.map(interval) };
}

function behavioralBrief(r: SuiteResult): BehavioralBrief {
  return {
    cases: r.total.cases,
    failed: r.total.failed,
    rate: r.total.rate,
    by_capability: Object.fromEntries(Object.entries(r.by_capability).map(([k, v]) => [k, Number(v.rate.toFixed(4))])),
  };
}

const round = (x: number): number => Number(x.toFixed(6));

export interface GateOptions {
  challenger: Contender;
  /** null: nothing on the default channel yet. */
  champion: Contender | null;
  slices: readonly GateSlice[];
  params: ChampionParams;
  seed: number;
  /** When the decision is made (injected: the report records it). */
  now: () => Date;
  snapshot?: string | null;
  runId?: string | null;
  /** The bundle files the verdict is about (path → sha256), recorded in the report. */
  files?: Record<string, string>;
  /** Behavioural cases (default: the whole suite). */
  behavioral?: Parameters<typeof runSuite>[1];
}

/** Scores both models on every slice and decides. */
export async function runGate(opts: GateOptions): Promise<GateReport> {
  const { challenger, champion, params } = opts;
  const criteria: Blessing['criteria'] = {
    per_class_f1_max_drop: params.per_class_f1_max_drop,
    macro_f1_min_ci_lower: params.macro_f1_min_ci_lower,
    confidence: params.confidence,
    bootstrap_samples: params.bootstrap_samples,
    seed: opts.seed,
    min_class_support: params.min_class_support,
    behavioral_max_increase: params.behavioral_max_increase,
  };
  const failures: string[] = [];

  // Golden examples: the challenger must reproduce its own in this runtime.
  const golden = challenger.manifest.golden;
  const goldenCheck = checkGolden(
    golden,
    await goldenProbs(
      challenger,
      golden.map((g) => g.text),
    ),
    challenger.manifest.golden_tolerance,
  );
  // Installs reproduce the golden examples before they switch (and refuse a bundle without any).
  if (golden.length === 0) failures.push('golden examples: the bundle has none, so no install could verify it');
  else if (!goldenCheck.ok)
    failures.push(
      `golden examples: ${goldenCheck.failures.length} of ${golden.length} not reproduced within ${challenger.manifest.golden_tolerance} (max |Δp| ${goldenCheck.max_abs_diff.toFixed(5)})`,
    );
  let flipped: number | null = null;
  if (champion && champion.manifest.golden.length > 0) {
    const texts = champion.manifest.golden.map((g) => g.text);
    const [pa, pb] = [await champion.probs(texts), await challenger.probs(texts)];
    flipped = texts.filter((_, i) => argmax(pa, i) !== argmax(pb, i)).length;
  }

  const report: GateReport = {
    schema: 1,
    verdict: 'refused',
    decided_at: opts.now().toISOString(),
    challenger: { version: challenger.version, files: opts.files ?? {} },
    champion: champion ? { version: champion.version, manifest_sha256: champion.manifestSha256 } : null,
    criteria,
    primary_slices: opts.slices.filter((s) => s.primary).map((s) => s.name),
    macro_f1: null,
    macro_f1_diff: null,
    slices: [],
    behavioral: null,
    golden: { examples: golden.length, max_abs_diff: round(goldenCheck.max_abs_diff), tolerance: challenger.manifest.golden_tolerance, passed: goldenCheck.ok, champion_texts_flipped: flipped },
    failures,
    snapshot: opts.snapshot ?? null,
    run_id: opts.runId ?? null,
  };

  if (champion) {
    // Every text once per model, then predictions looked up per slice.
    const unique = [...new Set(opts.slices.flatMap((s) => s.texts))];
    const index = new Map(unique.map((t, i) => [t, i]));
    const [pa, pb] = [await champion.probs(unique), await challenger.probs(unique)];
    const predA = Uint8Array.from(unique, (_, i) => argmax(pa, i));
    const predB = Uint8Array.from(unique, (_, i) => argmax(pb, i));

    // Resampling units: each slice split by language where it has languages. A language slice of
    // such a split (umsab_val.de, listed after its split) reuses that language's unit, so the
    // interval of umsab_val and of umsab_val.de come from the same draws.
    const units: Unit[] = [];
    const languageUnit = new Map<string, number>();
    const sliceUnits: number[][] = opts.slices.map((s) => {
      const shared = languageUnit.get(s.name);
      if (shared !== undefined) return [shared];
      const groups = new Map<string, number[]>();
      s.texts.forEach((_, i) => {
        const g = s.langs?.[i] ?? '';
        (groups.get(g) ?? groups.set(g, []).get(g)!).push(i);
      });
      return [...groups.keys()].sort().map((g) => {
        const idx = groups.get(g)!;
        units.push({
          gold: Uint8Array.from(idx, (i) => labelIndex(s.labels[i] as (typeof LABELS)[number])),
          a: Uint8Array.from(idx, (i) => predA[index.get(s.texts[i]!)!]!),
          b: Uint8Array.from(idx, (i) => predB[index.get(s.texts[i]!)!]!),
        });
        if (s.langs) languageUnit.set(`${s.name}.${g}`, units.length - 1);
        return units.length - 1;
      });
    });

    const boot = pairedBootstrap(
      units,
      opts.slices.map((s, i) => ({ units: sliceUnits[i]!, primary: s.primary })),
      params.bootstrap_samples,
      params.confidence,
      opts.seed,
    );
    let sumA = 0;
    let sumB = 0;
    opts.slices.forEach((s, si) => {
      const unitIds = sliceUnits[si]!;
      const pooled = (pick: (u: Unit) => Uint8Array) => {
        const conf = LABELS.map(() => LABELS.map(() => 0));
        for (const ui of unitIds) {
          const u = units[ui]!;
          const p = pick(u);
          for (let j = 0; j < u.gold.length; j++) conf[u.gold[j]!]![p[j]!]!++;
        }
        return evaluateConfusion(conf);
      };
      const mean = (pick: (u: Unit) => Uint8Array) => unitIds.reduce((a, ui) => a + evaluateConfusion(confusionOf(units[ui]!, pick)).macro_f1, 0) / unitIds.length;
      const evA = pooled((u) => u.a);
      const evB = pooled((u) => u.b);
      const f1A = mean((u) => u.a);
      const f1B = mean((u) => u.b);
      if (s.primary) {
        sumA += f1A;
        sumB += f1B;
      }
      const classes: ClassCheck[] = LABELS.map((label) => {
        const support = evA.per_class[label].support;
        const drop = evA.per_class[label].f1 - evB.per_class[label].f1;
        const gated = support >= params.min_class_support;
        const passed = !gated || drop <= params.per_class_f1_max_drop + 1e-12;
        if (!passed)
          failures.push(
            `${s.name}: F1 of ${label} ${evA.per_class[label].f1.toFixed(3)} → ${evB.per_class[label].f1.toFixed(3)} (drop ${drop.toFixed(3)} > δ ${params.per_class_f1_max_drop}, ${support} examples)`,
          );
        return { label, support, champion_f1: round(evA.per_class[label].f1), challenger_f1: round(evB.per_class[label].f1), drop: round(drop), gated, passed };
      });
      report.slices.push({
        name: s.name,
        n: s.texts.length,
        primary: s.primary,
        champion: { macro_f1: round(f1A), accuracy: round(evA.accuracy) },
        challenger: { macro_f1: round(f1B), accuracy: round(evB.accuracy) },
        diff: { value: round(f1B - f1A), lower: round(boot.slices[si]!.lower), upper: round(boot.slices[si]!.upper) },
        classes,
      });
    });
    const primaryCount = report.primary_slices.length;
    if (primaryCount > 0) {
      report.macro_f1 = { champion: round(sumA / primaryCount), challenger: round(sumB / primaryCount) };
      report.macro_f1_diff = { value: round((sumB - sumA) / primaryCount), lower: round(boot.primary.lower), upper: round(boot.primary.upper) };
      if (!(boot.primary.lower > params.macro_f1_min_ci_lower)) {
        failures.push(
          `mean macro-F1 over ${report.primary_slices.join(', ')}: ${report.macro_f1.champion.toFixed(4)} → ${report.macro_f1.challenger.toFixed(4)}, ` +
            `${Math.round(params.confidence * 100)}% interval of the difference [${boot.primary.lower.toFixed(4)}, ${boot.primary.upper.toFixed(4)}]: lower bound not above ${params.macro_f1_min_ci_lower}`,
        );
      }
    }

    const suite = async (c: Contender): Promise<SuiteResult> =>
      runSuite(async (texts) => {
        const p = await c.probs(texts);
        return texts.map((_, i): PredictionLike => ({ label: LABELS[argmax(p, i)]!, probs: [p[i * 3]!, p[i * 3 + 1]!, p[i * 3 + 2]!] }));
      }, opts.behavioral);
    const [ba, bb] = [behavioralBrief(await suite(champion)), behavioralBrief(await suite(challenger))];
    const increase = bb.rate - ba.rate;
    const passed = increase <= params.behavioral_max_increase + 1e-12;
    report.behavioral = { champion: ba, challenger: bb, increase: round(increase), passed };
    if (!passed)
      failures.push(
        `behavioural suite: failure rate ${(ba.rate * 100).toFixed(1)}% → ${(bb.rate * 100).toFixed(1)}% (+${(increase * 100).toFixed(1)} points > ${(params.behavioral_max_increase * 100).toFixed(1)})`,
      );
  }
  report.verdict = failures.length === 0 ? 'blessed' : 'refused';
  return report;
}

function confusionOf(u: Unit, pick: (u: Unit) => Uint8Array): number[][] {
  const conf = LABELS.map(() => LABELS.map(() => 0));
  const p = pick(u);
  for (let j = 0; j < u.gold.length; j++) conf[u.gold[j]!]![p[j]!]!++;
  return conf;
}

/** The report's bytes as stored (blessing.json) and the manifest summary that binds them. */
export function blessingOf(report: GateReport): { reportText: string; blessing: Blessing } {
  const reportText = JSON.stringify(report, null, 2) + '\n';
  const blessing: Blessing = {
    schema: 1,
    verdict: report.verdict,
    decided_at: report.decided_at,
    champion: report.champion,
    criteria: report.criteria,
    macro_f1_diff: report.macro_f1_diff,
    slices: report.slices.length,
    failures: report.failures.map((f) => f.slice(0, 500)).slice(0, 200),
    report_sha256: sha256Hex(reportText),
    snapshot: report.snapshot,
    ...(report.run_id ? { run_id: report.run_id } : {}),
  };
  return { reportText, blessing };
}

/** One line per slice for a terminal: what the operator reads first. */
export function formatReport(r: GateReport): string {
  const lines = [`gate ${r.verdict.toUpperCase()}: ${r.challenger.version} against ${r.champion ? r.champion.version : 'no champion'}`];
  if (r.macro_f1 && r.macro_f1_diff) {
    lines.push(
      `  mean macro-F1 ${r.macro_f1.champion.toFixed(4)} → ${r.macro_f1.challenger.toFixed(4)} (Δ ${r.macro_f1_diff.value >= 0 ? '+' : ''}${r.macro_f1_diff.value.toFixed(4)}, ` +
        `${Math.round(r.criteria.confidence * 100)}% CI [${r.macro_f1_diff.lower.toFixed(4)}, ${r.macro_f1_diff.upper.toFixed(4)}], needs lower > ${r.criteria.macro_f1_min_ci_lower})`,
    );
  }
  for (const s of r.slices) {
    const worst = [...s.classes].sort((a, b) => b.drop - a.drop)[0]!;
    const drop = worst.drop > 0 ? `largest drop: ${worst.label} F1 −${worst.drop.toFixed(3)}${worst.gated ? '' : ' (too few examples to gate)'}` : 'no class drops';
    lines.push(
      `  ${s.classes.every((c) => c.passed) ? ' ' : '✗'} ${s.name.padEnd(16)} n=${String(s.n).padStart(5)}  macro-F1 ${s.champion.macro_f1.toFixed(3)} → ${s.challenger.macro_f1.toFixed(3)}  ${drop}`,
    );
  }
  if (r.behavioral) lines.push(`  behavioural failures ${(r.behavioral.champion.rate * 100).toFixed(1)}% → ${(r.behavioral.challenger.rate * 100).toFixed(1)}%`);
  lines.push(`  golden examples ${r.golden.passed ? 'reproduced' : 'NOT reproduced'} (max |Δp| ${r.golden.max_abs_diff})`);
  for (const f of r.failures) lines.push(`  FAIL ${f}`);
  return lines.join('\n');
}

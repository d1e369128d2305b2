/**
 * Runs the behavioural suite (cases.ts) against any predictor and reports failure rates by
 * capability, by test type and by tag, with every failure spelled out. Pure TypeScript, no Node
 * APIs: the predictor is injected, so the same runner serves onnxruntime-node, the lexicon tools, a
 * browser runtime or a fake in tests.
 */
import { LABELS, type Label } from '../../core/labels.js';
import { CASES, caseTexts, expectedLabels, type BehavioralCase, type Capability, type Tag, type TestType } from './cases.js';

export interface PredictionLike {
  label: Label;
  /** Probabilities in LABELS order: [negative, neutral, positive]. */
  probs: [number, number, number];
}

/** Scores texts; must return one prediction per text, in order. */
export type Predict = (texts: string[]) => Promise<PredictionLike[]>;

export interface Rate {
  cases: number;
  failed: number;
  /** failed / cases (0 when there are no cases). */
  rate: number;
}

export interface Failure {
  id: string;
  capability: Capability;
  type: TestType;
  texts: string[];
  /** What the case requires, in words: "one of neutral|positive", "same label for all texts", "P(positive) must not go up by more than 0.05". */
  expected: string;
  /** The prediction for each text, in the order of `texts`. */
  got: PredictionLike[];
  /** dir cases: P(label) of perturbed minus P(label) of base. */
  delta?: number;
}

export interface SuiteResult {
  total: Rate;
  by_capability: Record<string, Rate>;
  by_type: Record<string, Rate>;
  /** Tagged subsets (emoji_only, negated_neutral, ...). */
  by_tag: Record<string, Rate>;
  failures: Failure[];
}

/** The outcome of one case: undefined when it passes. */
export function checkCase(c: BehavioralCase, got: readonly PredictionLike[]): Omit<Failure, 'id' | 'capability' | 'type' | 'texts' | 'got'> | undefined {
  switch (c.type) {
    case 'mft': {
      const ok = expectedLabels(c);
      return ok.includes(got[0]!.label) ? undefined : { expected: ok.length === 1 ? ok[0]! : `one of ${ok.join('|')}` };
    }
    case 'inv': {
      const first = got[0]!.label;
      return got.every((p) => p.label === first) ? undefined : { expected: 'same label for all texts' };
    }
    case 'dir': {
      const k = LABELS.indexOf(c.label);
      const delta = got[1]!.probs[k]! - got[0]!.probs[k]!;
      const bad = c.must_not_go === 'up' ? delta > c.tolerance : -delta > c.tolerance;
      return bad ? { expected: `P(${c.label}) must not go ${c.must_not_go} by more than ${c.tolerance}`, delta } : undefined;
    }
  }
}

function tally(map: Record<string, Rate>, key: string, failed: boolean): void {
  const r = (map[key] ??= { cases: 0, failed: 0, rate: 0 });
  r.cases++;
  if (failed) r.failed++;
}

function finish(r: Rate): void {
  r.rate = r.cases === 0 ? 0 : r.failed / r.cases;
}

/**
 * Score every unique text of the suite in one `predict` call and check each case.
 *
 * @example
 * const result = await runSuite(async (texts) => (await scorer.predict(texts)));
 * console.log(result.total.rate, result.by_capability.negation);
 */
export async function runSuite(predict: Predict, cases: readonly BehavioralCase[] = CASES): Promise<SuiteResult> {
  const unique = [...new Set(cases.flatMap(caseTexts))];
  const predictions = unique.length > 0 ? await predict(unique) : [];
  if (predictions.length !== unique.length) {
    throw new Error(`predict returned ${predictions.length} predictions for ${unique.length} texts`);
  }
  const byText = new Map(unique.map((t, i) => [t, predictions[i]!]));

  const total: Rate = { cases: 0, failed: 0, rate: 0 };
  const by_capability: Record<string, Rate> = {};
  const by_type: Record<string, Rate> = {};
  const by_tag: Record<string, Rate> = {};
  const failures: Failure[] = [];
  for (const c of cases) {
    const texts = caseTexts(c);
    const got = texts.map((t) => byText.get(t)!);
    const outcome = checkCase(c, got);
    const failed = outcome !== undefined;
    total.cases++;
    if (failed) total.failed++;
    tally(by_capability, c.capability, failed);
    tally(by_type, c.type, failed);
    for (const tag of c.tags ?? ([] as Tag[])) tally(by_tag, tag, failed);
    if (outcome) failures.push({ id: c.id, capability: c.capability, type: c.type, texts, got, ...outcome });
  }
  for (const r of [total, ...Object.values(by_capability), ...Object.values(by_type), ...Object.values(by_tag)]) finish(r);
  return { total, by_capability, by_type, by_tag, failures };
}

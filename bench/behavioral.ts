/**
 * Behavioural benchmark (issue "Model 2.0", item 6): the CheckList-style suite of
 * training/behavioral/cases.ts run against every model bundle under models/ and the lexicon tools
 * (VADER, AFINN-165, wink), side by side: failure rates by capability, by test type, for the tagged
 * subsets (emoji-only, the three kinds of negation) and in total. Writes
 * bench/results/behavioral.{json,md}.
 *
 * `npx tsx bench/behavioral.ts`, or `npm run bench -- behavioral`.
 */
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { MODELS_DIR } from '../node-runtime/bundle.js';
import { CAPABILITIES, CASES, TEST_TYPES, type BehavioralCase } from '../training/behavioral/cases.js';
import { runSuite, type Rate, type SuiteResult } from '../training/behavioral/runner.js';
import { bundlePredictor, lexiconPredictors, listModelBundles, type NamedPredictor } from '../tests/behavioral/scorers.js';
import { machine, table, writeResults } from './stats.js';

const TAGS = ['emoji_only', 'emoji_with_text', 'negated_positive', 'negated_negative', 'negated_neutral'] as const;
const TAG_NAMES: Record<(typeof TAGS)[number], string> = {
  emoji_only: 'emoji-only comments',
  emoji_with_text: 'emoji with text',
  negated_positive: 'negated positive → negative',
  negated_negative: 'negated negative → not negative',
  negated_neutral: 'negated neutral fact → neutral',
};
/** Example failures listed per capability in the Markdown, for model bundles. */
const EXAMPLES_PER_CAPABILITY = 3;

export interface ToolResult {
  name: string;
  kind: 'model' | 'lexicon';
  /** Bundle directory, for models. */
  dir?: string;
  result: SuiteResult;
}

export interface BehavioralReport {
  machine: Record<string, unknown>;
  suite: { cases: number; by_capability: Record<string, number>; by_type: Record<string, number> };
  tools: ToolResult[];
  /** Bundles that could not be loaded or scored, with the reason. */
  skipped: Array<{ dir: string; error: string }>;
  markdown: string;
}

/**
 * Run the suite on every bundle under `modelsDir` and on the lexicon tools; write
 * bench/results/behavioral.{json,md} unless `write` is false.
 */
export async function runBehavioralBench(options: { modelsDir?: string; cases?: readonly BehavioralCase[]; write?: boolean } = {}): Promise<BehavioralReport> {
  const cases = options.cases ?? CASES;
  const tools: ToolResult[] = [];
  const skipped: BehavioralReport['skipped'] = [];
  const run = async (p: NamedPredictor, kind: ToolResult['kind'], dir?: string): Promise<void> => {
    try {
      const result = await runSuite(p.predict, cases);
      tools.push({ name: p.name, kind, ...(dir ? { dir } : {}), result });
      console.error(`behavioral: ${p.name}: ${result.total.failed}/${result.total.cases} failed`);
    } finally {
      await p.release();
    }
  };
  for (const b of listModelBundles(options.modelsDir ?? MODELS_DIR)) {
    let predictor: NamedPredictor;
    try {
      predictor = await bundlePredictor(b.dir);
    } catch (err) {
      skipped.push({ dir: b.dir, error: (err as Error).message });
      console.error(`behavioral: ${b.dir}: skipped (${(err as Error).message})`);
      continue;
    }
    await run(predictor, 'model', b.dir);
  }
  for (const p of lexiconPredictors()) await run(p, 'lexicon');

  const count = (key: (c: BehavioralCase) => string): Record<string, number> => {
    const out: Record<string, number> = {};
    for (const c of cases) out[key(c)] = (out[key(c)] ?? 0) + 1;
    return out;
  };
  const suite = { cases: cases.length, by_capability: count((c) => c.capability), by_type: count((c) => c.type) };
  const markdown = renderMarkdown(suite, tools, skipped);
  const report: BehavioralReport = { machine: machine(), suite, tools, skipped, markdown };
  if (options.write !== false) {
    const json = {
      machine: report.machine,
      suite,
      skipped,
      tools: tools.map((t) => ({
        name: t.name,
        kind: t.kind,
        ...(t.dir ? { dir: t.dir } : {}),
        total: t.result.total,
        by_capability: t.result.by_capability,
        by_type: t.result.by_type,
        by_tag: t.result.by_tag,
        // Every failure in full for the models; ids only for the lexicon tools.
        ...(t.kind === 'model' ? { failures: t.result.failures } : { failed_ids: t.result.failures.map((f) => f.id) }),
      })),
    };
    writeResults('behavioral', json, markdown);
  }
  return report;
}

function cell(r: Rate | undefined): string {
  return r && r.cases > 0 ? `${r.rate.toFixed(3)} (${r.failed}/${r.cases})` : '–';
}

function renderMarkdown(suite: BehavioralReport['suite'], tools: ToolResult[], skipped: BehavioralReport['skipped']): string {
  const names = tools.map((t) => t.name);
  const lines = [
    `# Behavioural tests (${new Date().toISOString().slice(0, 10)})`,
    '',
    `CheckList-style suite (Ribeiro et al., ACL 2020) of training/behavioral/cases.ts: ${suite.cases} cases`,
    `(${TEST_TYPES.map((t) => `${suite.by_type[t] ?? 0} ${t}`).join(', ')}). mft: the label must be the expected one (or one of`,
    'the acceptable ones); inv: every text of the group must get the same label; dir: P(label) must not move',
    'the stated way by more than 0.05. Cells: failure rate (failed/cases); lower is better. Lexicon tools',
    'have no probabilities: their dir cases compare one-hot labels.',
    '',
    '## By capability',
    '',
    table(['capability', ...names], [...CAPABILITIES.map((cap) => [cap, ...tools.map((t) => cell(t.result.by_capability[cap]))]), ['**total**', ...tools.map((t) => `**${cell(t.result.total)}**`)]]),
    '',
    '## Subsets',
    '',
    table(
      ['subset', ...names],
      TAGS.map((tag) => [TAG_NAMES[tag], ...tools.map((t) => cell(t.result.by_tag[tag]))]),
    ),
    '',
    '## By test type',
    '',
    table(
      ['type', ...names],
      TEST_TYPES.map((type) => [type, ...tools.map((t) => cell(t.result.by_type[type]))]),
    ),
  ];
  for (const t of tools.filter((x) => x.kind === 'model')) {
    lines.push('', `## Example failures: ${t.name}`, '');
    for (const cap of CAPABILITIES) {
      const fs = t.result.failures.filter((f) => f.capability === cap).slice(0, EXAMPLES_PER_CAPABILITY);
      for (const f of fs) {
        const got = f.texts.map((text, i) => `${JSON.stringify(text)} → ${f.got[i]!.label} (${f.got[i]!.probs.map((p) => p.toFixed(2)).join('/')})`).join('; ');
        lines.push(`- \`${f.id}\` ${f.type}, expected ${f.expected}${f.delta !== undefined ? ` (Δ ${f.delta.toFixed(3)})` : ''}: ${got.replace(/\|/g, '\\|')}`);
      }
    }
  }
  if (skipped.length) {
    lines.push('', '## Bundles not run', '', ...skipped.map((s) => `- ${s.dir}: ${s.error}`));
  }
  return lines.join('\n');
}

// Run when executed directly (npx tsx bench/behavioral.ts, or bench/run.ts spawning it).
if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const report = await runBehavioralBench();
  console.log(report.markdown);
}

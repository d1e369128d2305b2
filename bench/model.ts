/**
 * Model benchmark (issue "Model 2.0"): every model bundle under models/ side by side with the
 * lexicon tools, in one process and one run, on the exact evaluation splits the training pipeline
 * builds: quality per source and per UMSAB language, language identification, calibration, the
 * behavioural suite (bench/behavioral.ts), speed, load time and size, and a "must hold" checklist
 * for the newest bundle. Writes bench/results/model.{json,md}.
 *
 * `npx tsx bench/model.ts`; `BENCH_RUNS=1 BENCH_MIN_SECONDS=0.1` for a quick run; `BENCH_MODELS_DIR=DIR`
 * to compare the bundles of another folder than models/.
 */
import { gzipSync } from 'node:zlib';
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { featurizeBatch } from '../core/featurize.js';
import { labelIndex, type Label } from '../core/labels.js';
import type { NgramOnnxManifest } from '../core/manifest.js';
import { evaluatePredictions } from '../core/metrics.js';
import type { NgramScorer, Prediction } from '../core/scorer.js';
import { createNodeScorer, MODELS_DIR } from '../node-runtime/bundle.js';
import { readChecksums, readDataset, type DatasetName, type Row } from '../training/datasets.js';
import { loadParams } from '../training/params.js';
import { DEFAULT_PARAMS } from '../training/paths.js';
import { expectedCalibrationError } from '../training/validation.js';
import { resolveDataDir } from '../training/pipeline.js';
import { splitSentube, splitYoutube, type EvalSplit } from '../training/stages/preprocess.js';
import { CAPABILITIES } from '../training/behavioral/cases.js';
import type { Rate } from '../training/behavioral/runner.js';
import { SHORT_COMMENTS, shortCommentReport, type ShortCommentReport } from '../training/behavioral/short-comments.js';
import { listModelBundles, type BundleInfo } from '../tests/behavioral/scorers.js';
import { runBehavioralBench, type BehavioralReport } from './behavioral.js';
import { BASELINES, MULTILINGUAL_BASELINES } from './lexicon-baselines.js';
import { machine, median, table, writeResults } from './stats.js';

const RUNS = Number(process.env.BENCH_RUNS ?? 5);
const MIN_SECONDS = Number(process.env.BENCH_MIN_SECONDS ?? 0.5);
/** Folder whose semver-named bundles are compared (BENCH_MODELS_DIR: try candidates without touching models/). */
const MODELS = process.env.BENCH_MODELS_DIR ?? MODELS_DIR;
/** Batch size for the quality passes (the extension scores in batches of this size too). */
const BATCH = 64;
const MIB = 1024 * 1024;

/** Report order: the selection splits, TweetEval test (final reporting only) after TweetEval val. */
const SPLITS: EvalSplit[] = ['tweeteval_val', 'tweeteval_test', 'youtube_val', 'goemotions_dev', 'sentube_val', 'umsab_val'];
const SPLIT_TITLES: Record<EvalSplit, string> = {
  tweeteval_val: 'TweetEval val',
  tweeteval_test: 'TweetEval test',
  youtube_val: 'YouTube val',
  goemotions_dev: 'GoEmotions dev',
  sentube_val: 'SenTube val',
  umsab_val: 'UMSAB val',
};
/** Splits whose rows are all English; UMSAB rows carry their own `lang`. */
const ENGLISH_SPLITS: EvalSplit[] = ['tweeteval_val', 'tweeteval_test', 'youtube_val', 'goemotions_dev', 'sentube_val'];
/** Validation splits for language identification: everything but the test split. */
const LANGID_SPLITS: EvalSplit[] = ['tweeteval_val', 'youtube_val', 'goemotions_dev', 'sentube_val', 'umsab_val'];
const UMSAB_LANGS = ['ar', 'de', 'es', 'fr', 'hi', 'it', 'pt'] as const;

/**
 * Published UMSAB macro-F1 (×100) of the XLM-T paper (Barbieri et al., LREC 2022), monolingual
 * training, on UMSAB *test*; our rows are on UMSAB val, so these are a reference, not a like-for-like
 * comparison.
 */
const PUBLISHED: Record<string, Record<(typeof UMSAB_LANGS)[number], number>> = {
  FastText: { ar: 46.0, de: 59.6, es: 50.1, fr: 54.8, hi: 37.1, it: 54.7, pt: 55.1 },
  'XLM-R': { ar: 63.6, de: 73.6, es: 65.9, fr: 72.0, hi: 36.6, it: 71.5, pt: 67.1 },
};

/**
 * Lexicon tools scored on UMSAB only, and why. multilang-sentiment copies its lexicon and runs a
 * Fuse.js fuzzy search for every word it does not know, on every call: 10–20 comments/s here, so the
 * ~24,000 English rows would take half an hour. Its English lexicon is AFINN-165 (the AFINN-165
 * row) plus that fuzzy matching.
 */
const UMSAB_ONLY: Record<string, string> = {
  'multilang-sentiment': 'not run on the English splits: too slow for their ~24,000 rows (see Speed); its English lexicon is AFINN-165',
};

/** Labels of a split's rows; null for a row in a language the tool has no lexicon for. */
type Labels = Array<Label | null>;

interface Scores {
  n: number;
  accuracy: number;
  macro_f1: number;
  macro_recall: number;
}

/** Everything measured for one model bundle. */
interface BundleResult {
  name: string;
  version: string;
  dir: string;
  labels: Record<EvalSplit, Labels>;
  langid: LangIdReport | null;
  calibration: NgramOnnxManifest['confidence'] | null;
  /** As the scorer reports it (per-language calibration included), by the row's language: English splits pooled as en. */
  confidence_by_lang: Record<string, ConfidenceReport>;
  speed: Speed;
  featurize_only_comments_per_s: number;
  load_ms_median: number;
  load_ms_all: number[];
  size: { model_onnx_bytes: number; model_onnx_gzip_bytes: number; manifest_bytes: number; bundle_bytes: number; files: string[] };
}

interface ConfidenceReport {
  n: number;
  /** Mean top probability. */
  mean_confidence: number;
  accuracy: number;
  /** Expected calibration error, 15 equal-width bins. */
  ece: number;
  /** Share shown as low confidence (top probability under the manifest's threshold). */
  low_confidence: number;
}

interface Speed {
  batch_1: number;
  batch_64: number;
}

interface LangIdReport {
  /** Share of texts whose language came out right, per validation split, English pooled and all pooled. */
  accuracy: Record<string, number>;
  /** Share of English validation texts that came out `supported: false`, per split and pooled. */
  unsupported_english: Record<string, number>;
  /** What the English validation texts came out as (pooled shares by language code, largest first). */
  english_as: Record<string, number>;
  /** The manifest's own figure (`languages.langid.accuracy`, measured by the training pipeline). */
  manifest_accuracy: number | null;
  /** The 270 short comments of training/behavioral/short-comments.json. */
  short_comments: ShortCommentReport;
}

interface LexiconTool {
  name: string;
  version: string;
  /** Label of `text` read as language `lang`; null when the tool has no lexicon for it. */
  label(text: string, lang: string): Label | null | Promise<Label | null>;
}

interface Check {
  requirement: string;
  value: string;
  pass: boolean;
}

// ---------------------------------------------------------------------------------------------
// Data
// ---------------------------------------------------------------------------------------------

/**
 * The evaluation splits exactly as training/stages/preprocess.ts builds them: the same files
 * (sha256-verified), seed and fractions, empty texts dropped from every split as it does.
 */
function loadSplits(): Record<EvalSplit, Row[]> {
  const params = loadParams(DEFAULT_PARAMS);
  const dataDir = resolveDataDir(params);
  const sums = readChecksums(dataDir);
  const read = (name: DatasetName): Row[] => readDataset(dataDir, name, sums).rows;
  const nonEmpty = (rows: Row[]): Row[] => rows.filter((r) => r.text.trim() !== '');
  return {
    tweeteval_val: nonEmpty(read('tweeteval_val')),
    tweeteval_test: nonEmpty(read('tweeteval_test')),
    youtube_val: splitYoutube(read('youtube'), params.data.youtube_val_fraction, params.seed)[1],
    goemotions_dev: nonEmpty(read('goemotions_dev')),
    sentube_val: splitSentube(read('sentube'), params.data.sentube_val_fraction, params.seed)[1],
    umsab_val: nonEmpty(read('umsab_val')),
  };
}

/** The language a row is in: English for the English splits, the dataset's code for UMSAB. */
const rowLang = (split: EvalSplit, row: Row): string => (ENGLISH_SPLITS.includes(split) ? 'en' : (row.lang ?? 'und'));

// ---------------------------------------------------------------------------------------------
// Quality
// ---------------------------------------------------------------------------------------------

/** Scores of labelled rows; null when any row has no label (a language the tool lacks). */
function scoreRows(rows: readonly Row[], labels: Labels): Scores | null {
  if (labels.some((l) => l === null)) return null;
  const e = evaluatePredictions(
    rows.map((r) => labelIndex(r.label)),
    labels.map((l) => labelIndex(l!)),
  );
  return { n: e.n, accuracy: e.accuracy, macro_f1: e.macro_f1, macro_recall: e.macro_recall };
}

/** Per-language scores on UMSAB; null for a language the tool has no lexicon for ("n/a" cells). */
function umsabByLang(rows: readonly Row[], labels: Labels): Record<string, Scores | null> {
  return Object.fromEntries(
    UMSAB_LANGS.map((lang) => {
      const idx = rows.flatMap((r, i) => (r.lang === lang ? [i] : []));
      const scores = scoreRows(
        idx.map((i) => rows[i]!),
        idx.map((i) => labels[i]!),
      );
      return [lang, scores];
    }),
  );
}

/**
 * Scores of a split. On UMSAB every language is scored alone and macro-F1 and macro-recall are their
 * means (UMSAB's convention, as training/validation.ts scoreSplit), null when the tool lacks a language.
 */
function scoreSplit(split: EvalSplit, rows: readonly Row[], labels: Labels): Scores | null {
  const all = scoreRows(rows, labels);
  if (ENGLISH_SPLITS.includes(split) || !all) return all;
  const langs = Object.values(umsabByLang(rows, labels));
  if (langs.some((s) => s === null)) return null;
  const mean = (f: (s: Scores) => number): number => langs.reduce((a, s) => a + f(s!), 0) / langs.length;
  return { ...all, macro_f1: mean((s) => s.macro_f1), macro_recall: mean((s) => s.macro_recall) };
}

// ---------------------------------------------------------------------------------------------
// Model bundles
// ---------------------------------------------------------------------------------------------

/** Predictions for all texts, in batches of BATCH. */
async function predictAll(scorer: NgramScorer, texts: readonly string[]): Promise<Prediction[]> {
  const out: Prediction[] = [];
  for (let i = 0; i < texts.length; i += BATCH) out.push(...(await scorer.predict(texts.slice(i, i + BATCH))));
  return out;
}

/**
 * Comments per second for `work`, fed chunks of `batch` texts in order (wrapping around) until
 * MIN_SECONDS have passed; median of RUNS runs. Each run goes on where the last stopped, so a tool
 * too slow to get through the texts in MIN_SECONDS (multilang-sentiment) still sees different ones.
 */
async function throughput(texts: readonly string[], work: (chunk: readonly string[]) => unknown, batch: number): Promise<number> {
  const rates: number[] = [];
  let at = 0;
  for (let run = 0; run < RUNS; run++) {
    const r = await timedRun(texts, work, batch, at);
    rates.push(r.rate);
    at = r.at;
  }
  return median(rates);
}

/**
 * Speed of every bundle through predict() (featurization and language identification included) at
 * batch 1 and 64, and of its featurizer alone, measured round-robin: run k of every bundle before
 * run k + 1 of any, so a slow spell of this shared machine lands on every bundle alike rather than
 * on whichever was being timed (timed one after another, the same graph measured 26,728 and
 * 18,223 comments/s in two runs an hour apart). Median of RUNS runs per bundle.
 */
async function bundleSpeeds(bundles: BundleResult[], texts: readonly string[]): Promise<void> {
  const scorers = await Promise.all(bundles.map((b) => createNodeScorer(b.dir)));
  try {
    // predict() at batch 1, at batch 64, and the featurizer alone at batch 64.
    const kinds = [
      { batch: 1, work: (i: number) => (c: readonly string[]) => scorers[i]!.predict(c) },
      { batch: 64, work: (i: number) => (c: readonly string[]) => scorers[i]!.predict(c) },
      { batch: 64, work: (i: number) => (c: readonly string[]) => featurizeBatch(c, scorers[i]!.manifest.featurizer.config) },
    ];
    const rates = bundles.map(() => kinds.map(() => [] as number[]));
    const at = bundles.map(() => kinds.map(() => 0));
    for (let run = 0; run < RUNS; run++) {
      for (let i = 0; i < bundles.length; i++) {
        for (let j = 0; j < kinds.length; j++) {
          const r = await timedRun(texts, kinds[j]!.work(i), kinds[j]!.batch, at[i]![j]!);
          rates[i]![j]!.push(r.rate);
          at[i]![j] = r.at;
        }
      }
    }
    bundles.forEach((b, i) => {
      b.speed = { batch_1: median(rates[i]![0]!), batch_64: median(rates[i]![1]!) };
      b.featurize_only_comments_per_s = median(rates[i]![2]!);
    });
  } finally {
    await Promise.all(scorers.map((s) => s.release()));
  }
}

/** One timed run of {@link throughput}: from text `at` on, until MIN_SECONDS have passed. */
async function timedRun(texts: readonly string[], work: (chunk: readonly string[]) => unknown, batch: number, at: number): Promise<{ rate: number; at: number }> {
  let n = 0;
  let seconds = 0;
  const started = performance.now();
  do {
    const chunk = texts.slice(at, at + batch);
    await work(chunk);
    n += chunk.length;
    at = at + batch >= texts.length ? 0 : at + batch;
    seconds = (performance.now() - started) / 1000;
  } while (seconds < MIN_SECONDS);
  return { rate: n / seconds, at };
}

/** Texts without letters (emoji, numbers, punctuation): language identification calls them "und". */
const NO_LETTERS = /^[^\p{L}]*$/u;

/**
 * Language identification on the validation texts: right when the guess is the row's language, or
 * "und" for a text with no letters (core/langid.ts: emoji carry sentiment in any language). Null for
 * a bundle without language identification (1.0.0: every text "und" and supported).
 */
function langIdReport(manifest: NgramOnnxManifest, splits: Record<EvalSplit, Row[]>, predictions: Record<EvalSplit, Prediction[]>, shortComments: ShortCommentReport): LangIdReport | null {
  if (!manifest.languages) return null;
  type Test = (split: EvalSplit, row: Row, p: Prediction) => boolean;
  /** Share of the rows of `list` (pooled) that pass `test`. */
  const share = (list: readonly EvalSplit[], test: Test): number => {
    let hits = 0;
    let n = 0;
    for (const split of list) {
      splits[split].forEach((row, i) => {
        n++;
        if (test(split, row, predictions[split][i]!)) hits++;
      });
    }
    return hits / n;
  };
  const right: Test = (split, row, p) => p.lang === rowLang(split, row) || (p.lang === 'und' && NO_LETTERS.test(row.text));
  const unsupported: Test = (_split, _row, p) => !p.supported;
  const english = LANGID_SPLITS.filter((s) => ENGLISH_SPLITS.includes(s));
  const englishAs = new Map<string, number>();
  for (const split of english) for (const p of predictions[split]) englishAs.set(p.lang, (englishAs.get(p.lang) ?? 0) + 1);
  const englishRows = english.reduce((a, s) => a + splits[s].length, 0);
  return {
    accuracy: {
      ...Object.fromEntries(LANGID_SPLITS.map((s) => [s, share([s], right)])),
      english: share(english, right),
      all: share(LANGID_SPLITS, right),
    },
    unsupported_english: { ...Object.fromEntries(english.map((s) => [s, share([s], unsupported)])), english: share(english, unsupported) },
    english_as: Object.fromEntries([...englishAs].sort((a, b) => b[1] - a[1]).map(([lang, n]) => [lang, n / englishRows])),
    manifest_accuracy: manifest.languages.langid.accuracy ?? null,
    short_comments: shortComments,
  };
}

/** How sure the scorer is against how often it is right, per language of the rows (the gold language, not the guess). */
function confidenceByLang(splits: Record<EvalSplit, Row[]>, predictions: Record<EvalSplit, Prediction[]>): Record<string, ConfidenceReport> {
  const groups = new Map<string, Array<{ row: Row; p: Prediction }>>();
  for (const split of SPLITS) {
    if (split === 'tweeteval_test') continue;
    splits[split].forEach((row, i) => {
      const lang = rowLang(split, row);
      groups.set(lang, [...(groups.get(lang) ?? []), { row, p: predictions[split][i]! }]);
    });
  }
  return Object.fromEntries(
    [...groups]
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([lang, items]) => {
        const gold = Uint8Array.from(items, ({ row }) => labelIndex(row.label));
        const probs = Float64Array.from(items.flatMap(({ p }) => p.probs));
        const n = items.length;
        return [
          lang,
          {
            n,
            mean_confidence: items.reduce((a, { p }) => a + p.score, 0) / n,
            accuracy: items.filter(({ row, p }) => p.label === row.label).length / n,
            ece: expectedCalibrationError(probs, gold, new Float64Array(n).fill(1), 15),
            low_confidence: items.filter(({ p }) => p.low_confidence).length / n,
          },
        ];
      }),
  );
}

/** Load time: read, sha256-verify and open an onnxruntime-node session; median of RUNS loads. */
async function loadTimes(dir: string): Promise<number[]> {
  const times: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const t0 = performance.now();
    const s = await createNodeScorer(dir);
    times.push(performance.now() - t0);
    await s.release();
  }
  return times;
}

function bundleSize(dir: string, manifest: NgramOnnxManifest): BundleResult['size'] {
  const onnx = readFileSync(join(dir, manifest.model.file));
  return {
    model_onnx_bytes: onnx.byteLength,
    model_onnx_gzip_bytes: gzipSync(onnx, { level: 9 }).byteLength,
    manifest_bytes: statSync(join(dir, 'manifest.json')).size,
    bundle_bytes: manifest.files.reduce((a, f) => a + f.bytes, 0),
    files: manifest.files.map((f) => f.path),
  };
}

/** Quality predictions, language identification, speed, load time and size of one bundle. */
async function benchBundle(info: BundleInfo, splits: Record<EvalSplit, Row[]>): Promise<BundleResult> {
  const scorer = await createNodeScorer(info.dir);
  const manifest = scorer.manifest;
  const name = `ytsent ${manifest.version}`;
  try {
    const predictions = {} as Record<EvalSplit, Prediction[]>;
    for (const split of SPLITS)
      predictions[split] = await predictAll(
        scorer,
        splits[split].map((r) => r.text),
      );
    console.error(`quality: ${name} done`);
    const loads = await loadTimes(info.dir);
    return {
      name,
      version: manifest.version,
      dir: info.dir,
      labels: Object.fromEntries(SPLITS.map((s) => [s, predictions[s].map((p) => p.label)])) as Record<EvalSplit, Labels>,
      langid: manifest.languages ? langIdReport(manifest, splits, predictions, shortCommentReport(await scorer.predict(SHORT_COMMENTS.map((c) => c.text)))) : null,
      calibration: manifest.confidence ?? null,
      confidence_by_lang: confidenceByLang(splits, predictions),
      // Filled in by bundleSpeeds(), which times every bundle in turn.
      speed: { batch_1: 0, batch_64: 0 },
      featurize_only_comments_per_s: 0,
      load_ms_median: median(loads),
      load_ms_all: loads,
      size: bundleSize(info.dir, manifest),
    };
  } finally {
    await scorer.release();
  }
}

// ---------------------------------------------------------------------------------------------
// Lexicon tools
// ---------------------------------------------------------------------------------------------

/** The multilingual packages (told each row's language), then the English tools (which ignore it). */
function lexiconTools(): LexiconTool[] {
  return [
    ...MULTILINGUAL_BASELINES.map((b): LexiconTool => {
      const supports = new Map<string, boolean>();
      return {
        name: b.name,
        version: b.version,
        label: (text, lang) => {
          if (!supports.has(lang)) supports.set(lang, b.supports(lang));
          return supports.get(lang) ? b.classify(text, lang) : null;
        },
      };
    }),
    ...BASELINES.map((b): LexiconTool => ({ name: b.name, version: b.version, label: (text) => b.classify(text) })),
  ];
}

/** A lexicon tool's labels on every split it runs on (undefined for the others). */
async function lexiconLabels(tool: LexiconTool, splits: Record<EvalSplit, Row[]>): Promise<Partial<Record<EvalSplit, Labels>>> {
  const out: Partial<Record<EvalSplit, Labels>> = {};
  for (const split of SPLITS) {
    if (UMSAB_ONLY[tool.name] && split !== 'umsab_val') continue;
    const labels: Labels = [];
    for (const row of splits[split]) labels.push(await tool.label(row.text, rowLang(split, row)));
    out[split] = labels;
  }
  return out;
}

/** Lexicon tools have no batch mode: one rate, the per-text loop, on the English YouTube comments. */
async function lexiconSpeed(tool: LexiconTool, texts: readonly string[]): Promise<Speed> {
  const rate = await throughput(
    texts,
    async (chunk) => {
      for (const t of chunk) await tool.label(t, 'en');
    },
    BATCH,
  );
  return { batch_1: rate, batch_64: rate };
}

// ---------------------------------------------------------------------------------------------
// Must hold (newest bundle)
// ---------------------------------------------------------------------------------------------

const f3 = (x: number): string => x.toFixed(3);
const pct = (x: number): string => `${(100 * x).toFixed(1)}%`;

/** The release requirements of the "Model 2.0" issue, checked on the newest bundle's numbers. */
function mustHold(
  newest: BundleResult,
  quality: Record<string, Partial<Record<EvalSplit, Scores | null>>>,
  umsab: Record<string, Record<string, Scores | null>>,
  reference: string,
  behavioural: BehavioralReport,
): Check[] {
  const q = quality[newest.name]!;
  const f1 = (s: EvalSplit): number => q[s]?.macro_f1 ?? NaN;
  const checks: Check[] = [];
  const add = (requirement: string, value: string, pass: boolean): void => {
    checks.push({ requirement, value, pass });
  };
  add('GoEmotions dev macro-F1 ≥ 0.66', f3(f1('goemotions_dev')), f1('goemotions_dev') >= 0.66);
  add('SenTube val macro-F1 ≥ 0.62', f3(f1('sentube_val')), f1('sentube_val') >= 0.62);
  add('UMSAB val mean macro-F1 ≥ 0.56', f3(f1('umsab_val')), f1('umsab_val') >= 0.56);
  const byLang = umsab[newest.name] ?? {};
  const below = UMSAB_LANGS.filter((l) => !((byLang[l]?.macro_f1 ?? NaN) * 100 > PUBLISHED.FastText![l]));
  add('every UMSAB language above its FastText figure', below.length ? `below: ${below.join(', ')}` : 'all 7 above', below.length === 0);
  const refRecall = quality[reference]?.tweeteval_val?.macro_recall;
  const recall = q.tweeteval_val?.macro_recall ?? NaN;
  add(
    `TweetEval val macro-recall ≥ ${reference}'s − 0.01`,
    refRecall === undefined ? `${f3(recall)} (${reference} not benchmarked)` : `${f3(recall)} vs ${f3(refRecall)}`,
    refRecall !== undefined && recall >= refRecall - 0.01,
  );
  add('YouTube val macro-F1 ≥ 0.70', f3(f1('youtube_val')), f1('youtube_val') >= 0.7);
  const suite = behavioural.tools.find((t) => t.name === newest.name)?.result;
  const total = suite?.total.rate ?? NaN;
  const emoji = suite?.by_tag.emoji_only?.rate ?? NaN;
  add('behavioural total failure rate ≤ 15%', suite ? pct(total) : 'not run', total <= 0.15);
  add('behavioural emoji-only failure rate ≤ 20%', suite ? pct(emoji) : 'not run', emoji <= 0.2);
  const onnx = newest.size.model_onnx_bytes;
  add('model.onnx ≤ 4 MiB', `${(onnx / MIB).toFixed(2)} MiB`, onnx <= 4 * MIB);
  add('≥ 20,000 comments/s at batch 64', Math.round(newest.speed.batch_64).toLocaleString('en-US'), newest.speed.batch_64 >= 20000);
  return checks;
}

// ---------------------------------------------------------------------------------------------
// Markdown
// ---------------------------------------------------------------------------------------------

const rate = (r: Rate | undefined): string => (r && r.cases > 0 ? `${r.rate.toFixed(3)} (${r.failed}/${r.cases})` : '–');
const per100 = (x: number): string => (x / 100).toFixed(3);

interface Report {
  splits: Record<EvalSplit, Row[]>;
  bundles: BundleResult[];
  skipped: Array<{ dir: string; error: string }>;
  tools: string[];
  quality: Record<string, Partial<Record<EvalSplit, Scores | null>>>;
  umsab: Record<string, Record<string, Scores | null>>;
  speed: Record<string, Speed>;
  behavioural: BehavioralReport;
  checks: Check[] | null;
  newest: string | null;
}

/** Cell for a split: "–" when the tool was not run on it, "n/a" when it lacks a language. */
function qualityCell(report: Report, tool: string, split: EvalSplit, metric: 'macro_f1' | 'macro_recall'): string {
  const q = report.quality[tool]!;
  if (!(split in q)) return '–';
  const s = q[split];
  return s ? f3(s[metric]) : 'n/a';
}

function qualitySection(report: Report): string[] {
  const header = ['tool', ...SPLITS.map((s) => SPLIT_TITLES[s])];
  const rows = (metric: 'macro_f1' | 'macro_recall'): string[][] => report.tools.map((t) => [t, ...SPLITS.map((s) => qualityCell(report, t, s, metric))]);
  const sizes = SPLITS.map((s) => `${SPLIT_TITLES[s]} ${report.splits[s].length.toLocaleString('en-US')}`).join(', ');
  const notes = Object.entries(UMSAB_ONLY).map(([tool, why]) => `–: ${tool} ${why}.`);
  return [
    '## Quality per source',
    '',
    '### Macro-F1',
    '',
    table(header, rows('macro_f1')),
    '',
    '### Macro-recall',
    '',
    table(header, rows('macro_recall')),
    '',
    `Rows: ${sizes}. The splits are rebuilt exactly as training/stages/preprocess.ts builds them (same files, seed and`,
    'fractions; YouTube: stratified 20%; SenTube: 20% of the videos, all their comments). TweetEval test is for final',
    'reporting only; model selection never sees it. UMSAB val: mean over the 7 languages of per-language scores.',
    'The multilingual packages are told each row\'s language ("en" for the English splits); VADER, AFINN-165 and wink',
    'read every text as English.',
    ...notes,
  ];
}

function languageSection(report: Report): string[] {
  const cell = (s: Scores | null | undefined): string => (s ? f3(s.macro_f1) : 'n/a');
  const measured = report.tools.map((t) => {
    const mean = report.quality[t]!.umsab_val;
    return [t, ...UMSAB_LANGS.map((l) => cell(report.umsab[t]![l])), mean ? f3(mean.macro_f1) : 'n/a'];
  });
  const published = Object.entries(PUBLISHED).map(([name, figures]) => {
    const values = UMSAB_LANGS.map((l) => figures[l]);
    return [`${name} (published, UMSAB test)†`, ...values.map(per100), per100(values.reduce((a, b) => a + b, 0) / values.length)];
  });
  return [
    '## UMSAB val per language (macro-F1)',
    '',
    table(['tool', ...UMSAB_LANGS, 'mean'], [...measured, ...published]),
    '',
    'n/a: the tool has no lexicon for that language. hi is romanized Hindi(-English) tweets.',
    '† Published figures of the XLM-T paper (Barbieri et al., LREC 2022, monolingual training), macro-F1 / 100, on',
    'UMSAB **test**, not val: a reference point, not a like-for-like comparison.',
  ];
}

/** "en 92.3%, hi 3.1%, ...": the largest shares. */
const topShares = (shares: Record<string, number>, k = 5): string =>
  Object.entries(shares)
    .slice(0, k)
    .map(([lang, x]) => `${lang} ${pct(x)}`)
    .join(', ');

function langIdSection(report: Report): string[] {
  const bundles = report.bundles;
  const na = (f: (b: BundleResult) => number | undefined): string[] => bundles.map((b) => (f(b) === undefined ? 'n/a' : f3(f(b)!)));
  const rows: string[][] = [
    ...LANGID_SPLITS.map((s) => [`language identified: ${SPLIT_TITLES[s]}`, ...na((b) => b.langid?.accuracy[s])]),
    ['language identified: English validation pooled', ...na((b) => b.langid?.accuracy.english)],
    ['language identified: all validation pooled', ...na((b) => b.langid?.accuracy.all)],
    ['langid accuracy in the manifest (training pipeline)', ...na((b) => b.langid?.manifest_accuracy ?? undefined)],
    ...['en', 'de', 'es', 'fr', 'hi', 'it', 'pt'].map((l) => [`short comments identified: ${l} (30 of 1-5 words)`, ...na((b) => b.langid?.short_comments.by_lang[l])]),
    ['short comments identified: supported languages pooled (210)', ...na((b) => b.langid?.short_comments.supported)],
    ['short comments in 10 unsupported languages refused (60)', ...na((b) => b.langid?.short_comments.unsupported_refused)],
    ['English validation texts came out as', ...bundles.map((b) => (b.langid ? topShares(b.langid.english_as) : 'n/a'))],
    ...LANGID_SPLITS.filter((s) => s !== 'umsab_val').map((s) => [`unsupported: ${SPLIT_TITLES[s]}`, ...na((b) => b.langid?.unsupported_english[s])]),
    ['unsupported: English validation pooled', ...na((b) => b.langid?.unsupported_english.english)],
    ['calibration temperature', ...na((b) => b.calibration?.temperature)],
    ['ECE before calibration', ...na((b) => b.calibration?.ece_before)],
    ['ECE after calibration', ...na((b) => b.calibration?.ece_after)],
    ['low-confidence threshold', ...na((b) => b.calibration?.low_threshold)],
    ...[...new Set(bundles.flatMap((b) => Object.keys(b.confidence_by_lang)))].map((lang) => [
      `${lang}: mean confidence / accuracy / ECE / shown uncertain`,
      ...bundles.map((b) => {
        const c = b.confidence_by_lang[lang];
        return c ? `${f3(c.mean_confidence)} / ${f3(c.accuracy)} / ${f3(c.ece)} / ${pct(c.low_confidence)}` : 'n/a';
      }),
    ]),
  ];
  return [
    '## Language identification and calibration',
    '',
    table(['metric', ...bundles.map((b) => b.name)], rows),
    '',
    '"language identified": share of validation texts whose `lang` is the row\'s language (English splits: en;',
    'UMSAB: its code), "und" counting as right for a text with no letters. "unsupported": share of English',
    'validation texts that came out `supported: false` (no verdict shown). Calibration: `manifest.confidence`',
    '(ECE on the pooled validation sets, 15 bins). n/a: the bundle has no language identification or calibration.',
    'Per language: the validation texts of that language (English: the four English splits pooled), scored as',
    'shipped (`predict()`, per-language temperatures included), grouped by their true language.',
    '"short comments": the 270 comments of one to five words in training/behavioral/short-comments.json, right when',
    "`lang` is the comment's language and `supported` is true (unsupported languages: when `supported` is false).",
    ...newestShortCommentMisses(bundles),
  ];
}

/** The newest bundle's short-comment misses, so a change in them shows in the results' diff. */
function newestShortCommentMisses(bundles: readonly BundleResult[]): string[] {
  const newest = bundles.at(-1);
  const report = newest?.langid?.short_comments;
  if (!newest || !report) return [];
  return ['', `Short comments ${newest.name} gets wrong (${report.misses.length}):`, '', ...report.misses.map((m) => `- ${m}`)];
}

function behaviouralSection(report: Report): string[] {
  const { tools, suite, skipped } = report.behavioural;
  const rows = [
    ...CAPABILITIES.map((cap) => [cap, ...tools.map((t) => rate(t.result.by_capability[cap]))]),
    ['**total**', ...tools.map((t) => `**${rate(t.result.total)}**`)],
    ['emoji-only comments', ...tools.map((t) => rate(t.result.by_tag.emoji_only))],
  ];
  return [
    '## Behavioural suite (failure rate by capability)',
    '',
    table(['capability', ...tools.map((t) => t.name)], rows),
    '',
    `From bench/behavioral.ts (${suite.cases} CheckList-style cases of training/behavioral/cases.ts), run in this process;`,
    'cells: failure rate (failed/cases), lower is better. Test types, subsets and example failures: bench/results/behavioral.md.',
    ...skipped.map((s) => `Not run: ${s.dir}: ${s.error}`),
  ];
}

function speedSection(report: Report): string[] {
  const fmt = (x: number): string => Math.round(x).toLocaleString('en-US');
  return [
    '## Speed (comments/s, single-threaded)',
    '',
    table(
      ['tool', 'batch 1', 'batch 64', 'featurization alone (batch 64)'],
      report.tools.map((t) => {
        const b = report.bundles.find((x) => x.name === t);
        const s = report.speed[t]!;
        return [t, fmt(s.batch_1), fmt(s.batch_64), b ? fmt(b.featurize_only_comments_per_s) : '–'];
      }),
    ),
    '',
    `On the YouTube val texts, median of ${RUNS} runs of ≥ ${MIN_SECONDS} s each. Bundles: \`scorer.predict()\`, featurization and`,
    'language identification included; the bundles are timed round-robin (run k of each before run k + 1 of any), so a',
    'slow spell of the shared machine falls on all of them alike. Lexicon tools have no batch mode: both columns time the same per-text loop (the',
    'multilingual packages with lang "en"); a tool slower than one pass in the time measures the texts it got through.',
  ];
}

function sizeSection(report: Report): string[] {
  const bundles = report.bundles;
  const row = (label: string, f: (b: BundleResult) => number | string): Array<string | number> => [label, ...bundles.map(f)];
  return [
    '## Load time and size',
    '',
    table(
      ['metric', ...bundles.map((b) => b.name)],
      [
        row('load (read, sha256 verify, onnxruntime-node session), median ms', (b) => b.load_ms_median.toFixed(1)),
        row('model.onnx bytes', (b) => b.size.model_onnx_bytes),
        row('model.onnx gzip -9 bytes', (b) => b.size.model_onnx_gzip_bytes),
        row('bundle bytes (all files in the manifest)', (b) => b.size.bundle_bytes),
        row('bundle files', (b) => b.size.files.join(', ')),
        row('manifest.json bytes', (b) => b.size.manifest_bytes),
      ],
    ),
  ];
}

function checklistSection(report: Report): string[] {
  if (!report.checks) return ['## Must hold', '', `Newest bundle ${report.newest ?? '(none)'} could not be benchmarked (see below).`];
  const passed = report.checks.filter((c) => c.pass).length;
  return [
    `## Must hold (${report.newest}: ${passed}/${report.checks.length} pass)`,
    '',
    ...report.checks.map((c) => `- [${c.pass ? 'x' : ' '}] ${c.pass ? 'PASS' : 'FAIL'}: ${c.requirement}: ${c.value}`),
  ];
}

function renderMarkdown(report: Report): string {
  const m = machine();
  const lines = [
    `# Model benchmark (${new Date().toISOString().slice(0, 10)})`,
    '',
    `Every bundle under models/ (${report.bundles.map((b) => b.version).join(', ') || 'none'}) and the lexicon tools, in one run, on the same`,
    `texts with the same metric code (core/metrics.ts). Machine: ${String(m.cpu)}, ${String(m.cores)} cores, Node ${process.version}.`,
    '',
    ...checklistSection(report),
    '',
    ...qualitySection(report),
    '',
    ...languageSection(report),
    '',
    ...langIdSection(report),
    '',
    ...behaviouralSection(report),
    '',
    ...speedSection(report),
    '',
    ...sizeSection(report),
  ];
  if (report.skipped.length) lines.push('', '## Bundles not run', '', ...report.skipped.map((s) => `- ${s.dir}: ${s.error}`));
  return lines.join('\n');
}

// ---------------------------------------------------------------------------------------------
// Main
// ---------------------------------------------------------------------------------------------

async function main(): Promise<void> {
  const splits = loadSplits();
  const infos = listModelBundles(MODELS);
  const bundles: BundleResult[] = [];
  const skipped: Report['skipped'] = [];
  for (const info of infos) {
    try {
      bundles.push(await benchBundle(info, splits));
    } catch (err) {
      // A bundle this runtime cannot score (another format, a broken file) is reported, not fatal.
      skipped.push({ dir: info.dir, error: (err as Error).message });
      console.error(`${info.dir}: skipped (${(err as Error).message})`);
    }
  }

  const quality: Report['quality'] = {};
  const umsab: Report['umsab'] = {};
  const speed: Report['speed'] = {};
  const addScores = (name: string, labels: Partial<Record<EvalSplit, Labels>>): void => {
    quality[name] = {};
    for (const split of SPLITS) {
      const l = labels[split];
      if (l) quality[name]![split] = scoreSplit(split, splits[split], l);
    }
    umsab[name] = labels.umsab_val ? umsabByLang(splits.umsab_val, labels.umsab_val) : {};
  };
  const speedTexts = splits.youtube_val.map((r) => r.text);
  await bundleSpeeds(bundles, speedTexts);
  console.error('speed: every bundle done');
  for (const b of bundles) {
    addScores(b.name, b.labels);
    speed[b.name] = b.speed;
  }
  const lexicons = lexiconTools();
  for (const tool of lexicons) {
    addScores(tool.name, await lexiconLabels(tool, splits));
    speed[tool.name] = await lexiconSpeed(tool, speedTexts);
    console.error(`quality and speed: ${tool.name} done`);
  }

  const behavioural = await runBehavioralBench({ modelsDir: MODELS, write: false });
  const newestInfo = infos[infos.length - 1];
  const newest = newestInfo ? bundles.find((b) => b.dir === newestInfo.dir) : undefined;
  const report: Report = {
    splits,
    bundles,
    skipped,
    tools: [...bundles.map((b) => b.name), ...lexicons.map((t) => t.name)],
    quality,
    umsab,
    speed,
    behavioural,
    checks: newest ? mustHold(newest, quality, umsab, 'ytsent 1.0.0', behavioural) : null,
    newest: newestInfo ? `ytsent ${newestInfo.version}` : null,
  };
  const md = renderMarkdown(report);
  writeResults('model', toJson(report, lexicons), md);
  console.log(md);
}

/** The JSON result: every number of the Markdown, with the bundles' per-run details. */
function toJson(report: Report, lexicons: LexiconTool[]): Record<string, unknown> {
  return {
    machine: machine(),
    runs: RUNS,
    min_seconds: MIN_SECONDS,
    splits: Object.fromEntries(SPLITS.map((s) => [s, report.splits[s].length])),
    newest: report.newest,
    must_hold: report.checks,
    bundles: report.bundles.map(({ labels: _labels, ...b }) => b),
    skipped: report.skipped,
    lexicons: lexicons.map((t) => ({ name: t.name, version: t.version, ...(UMSAB_ONLY[t.name] ? { umsab_only: UMSAB_ONLY[t.name] } : {}) })),
    quality: report.quality,
    umsab_by_lang: report.umsab,
    published_umsab_test: PUBLISHED,
    speed_comments_per_s: report.speed,
    behavioural: {
      cases: report.behavioural.suite.cases,
      skipped: report.behavioural.skipped,
      tools: report.behavioural.tools.map((t) => ({
        name: t.name,
        total: t.result.total,
        emoji_only: t.result.by_tag.emoji_only,
        by_capability: t.result.by_capability,
      })),
    },
  };
}

await main();

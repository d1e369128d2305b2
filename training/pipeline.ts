/**
 * The training pipeline: ingest → preprocess → featurize → train → evaluate → export → [gate] →
 * register.
 *
 * Each stage but register is cached by a key over its params slice, upstream keys and source files
 * (cache.ts), so an unchanged re-run skips them all. Every run writes a run record (runs.ts).
 * A feedback snapshot (data.feedback_snapshot, or the option) is verified before any stage runs
 * and its id is part of the preprocess key, hence of every key downstream. The champion/challenger
 * gate runs when the caller names a champion (training/champion.ts); a refused model is not
 * registered unless the caller asks for it.
 */
import { randomBytes } from 'node:crypto';
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, isAbsolute, join, relative, resolve } from 'node:path';
import { SEMVER_RE, type ModelManifest } from '../core/manifest.js';
import { featurizerId } from '../core/featurize.js';
import { hashJson, runStage, type StageResult } from './cache.js';
import { loadParams, type Params } from './params.js';
import { REPO_ROOT } from './paths.js';
import { writeRun, type RunRecord } from './runs.js';
import { applyWaivers, evaluateStage, gatesAllow, type GateResult } from './stages/evaluate.js';
import { exportStage, PARITY_FILE } from './stages/export.js';
import { featurizeStage } from './stages/featurize.js';
import { dataHashes, ingest } from './stages/ingest.js';
import { langidStage } from './stages/langid.js';
import { preprocess, readSplits } from './stages/preprocess.js';
import { register } from './stages/register.js';
import { trainStage } from './stages/train.js';
import { blessingOf, bundleContender, formatReport, runGate, slicesFromSplits, type GateReport } from './champion.js';
import { resolveSnapshot, verifySnapshot, type LoadedSnapshot } from './snapshot.js';
import type { ParityReport } from '../model-export/parity.js';
import { sha256Hex } from '../node-runtime/sha256.js';

export interface PipelineOptions {
  paramsFile: string;
  /** Overrides params.data.dir. */
  dataDir?: string;
  cacheDir: string;
  modelsDir: string;
  runsDir: string;
  /** Re-run every stage even when cached. */
  force?: boolean;
  /** Stop after export (no registration). */
  register?: boolean;
  /** A feedback snapshot (folder or id) for this run; overrides params.data.feedback_snapshot (null: none). */
  feedbackSnapshot?: string | null;
  /**
   * Run the champion/challenger gate against this bundle folder (null: there is no champion yet).
   * Without this option there is no gate and no blessing.
   */
  champion?: string | null;
  /** Register a model the gate refused (its manifest says so; the registry will not let it replace stable). */
  registerRefused?: boolean;
  /** The clock of the gate's decision time. */
  now?: () => Date;
  /** Overrides params.model.version (a retrained model needs a version of its own). */
  modelVersion?: string;
  log?: (line: string) => void;
}

export interface PipelineResult {
  record: RunRecord;
  recordPath: string;
  stages: StageResult[];
}

export function resolveDataDir(params: Params, override?: string): string {
  const dir = override ?? process.env.YTSENT_DATA ?? params.data.dir;
  return isAbsolute(dir) ? dir : resolve(REPO_ROOT, dir);
}

export async function runPipeline(opts: PipelineOptions): Promise<PipelineResult> {
  const log = opts.log ?? ((line: string) => console.error(line));
  const startedAt = new Date();
  const params = loadParams(opts.paramsFile);
  if (opts.modelVersion !== undefined) {
    if (!SEMVER_RE.test(opts.modelVersion)) throw new Error(`model version ${JSON.stringify(opts.modelVersion)} is not a semantic version like 2.1.0`);
    params.model.version = opts.modelVersion;
  }
  const paramsSha256 = hashJson(params);
  const dataDir = resolveDataDir(params, opts.dataDir);
  const runId = `${startedAt
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d+Z$/, 'Z')}-${randomBytes(3).toString('hex')}`;
  log(`run ${runId}: params ${relative(process.cwd(), opts.paramsFile)} (sha256 ${paramsSha256.slice(0, 12)}), data ${dataDir}`);

  const data = dataHashes(dataDir);
  const snapshotRef = opts.feedbackSnapshot !== undefined ? opts.feedbackSnapshot : params.data.feedback_snapshot;
  const snapshot: LoadedSnapshot | null = snapshotRef ? verifySnapshot(resolveSnapshot(snapshotRef)) : null;
  if (snapshot) {
    log(
      `  feedback snapshot ${snapshot.id.slice(0, 12)}: ${snapshot.corrections.length} agreed corrections, hours [${snapshot.manifest.source.range.from}, ${snapshot.manifest.source.range.to}) of ${snapshot.manifest.source.backend}`,
    );
  }
  const stages: StageResult[] = [];
  const step = async (name: string, sources: string[], inputs: unknown, run: (dir: string) => Promise<Record<string, unknown>>): Promise<StageResult> => {
    const result = await runStage(opts.cacheDir, { name, sources, inputs, run }, { force: opts.force });
    stages.push(result);
    log(`  ${name.padEnd(10)} ${result.cached ? 'cached ' : 'ran    '} key ${result.key}${result.cached ? '' : ` in ${result.seconds.toFixed(1)} s`}`);
    return result;
  };
  const shared = ['training/datasets.ts', 'training/softmax.ts', 'training/cache.ts'];

  const ing = await step('ingest', [...shared, 'training/stages/ingest.ts'], { data, limit: params.data.limit_per_file, seed: params.seed }, (dir) =>
    ingest(dir, dataDir, params.data.limit_per_file, params.seed),
  );
  const pre = await step(
    'preprocess',
    [...shared, 'training/stages/preprocess.ts', 'core/normalize.ts', 'core/lexicon.ts', 'core/data'],
    // The snapshot by its id (the hash of everything in it), not by where it happens to be.
    { upstream: ing.key, data: { ...params.data, dir: undefined, limit_per_file: undefined, feedback_snapshot: snapshot?.id ?? null }, seed: params.seed },
    (dir) => preprocess(dir, ing.dir, params.data, params.seed, snapshot ? snapshot.corrections : null),
  );
  const feat = await step(
    'featurize',
    [...shared, 'training/stages/featurize.ts', 'training/sparse-io.ts', 'core'],
    { upstream: pre.key, featurizer: params.featurizer, id: featurizerId(params.featurizer) },
    (dir) => featurizeStage(dir, pre.dir, params.featurizer),
  );
  const lid = await step('langid', [...shared, 'training/stages/langid.ts', 'core/langid.ts', 'training/validation.ts'], { upstream: feat.key, langid: params.langid, seed: params.seed }, (dir) =>
    langidStage(dir, pre.dir, feat.dir, params.featurizer, params.langid, params.seed),
  );
  const trn = await step(
    'train',
    [...shared, 'training/stages/train.ts', 'training/search.ts', 'training/validation.ts', 'core/metrics.ts'],
    {
      upstream: feat.key,
      search: params.search,
      sources: params.sources,
      language_weights: params.language_weights,
      calibration: params.calibration,
      seed: params.seed,
      buckets: params.featurizer.buckets,
    },
    (dir) => trainStage(dir, pre.dir, feat.dir, params.featurizer, params),
  );
  const evl = await step(
    'evaluate',
    [...shared, 'training/stages/evaluate.ts', 'training/validation.ts', 'core/metrics.ts'],
    { upstream: [trn.key, lid.key], gates: params.gates, seed: params.seed },
    (dir) => evaluateStage(dir, pre.dir, feat.dir, trn.dir, lid.dir, params.gates, params.seed),
  );
  const exp = await step(
    'export',
    [...shared, 'training/stages/export.ts', 'training/validation.ts', 'model-export', 'core'],
    { upstream: [trn.key, feat.key, lid.key], model: params.model, export: params.export, seed: params.seed, data },
    (dir) =>
      exportStage(dir, {
        preprocessDir: pre.dir,
        featurizeDir: feat.dir,
        trainDir: trn.dir,
        langidDir: lid.dir,
        params,
        paramsSha256,
        dataSha256: data,
        runId,
      }),
  );

  let gateReport: GateReport | null = null;
  let bundleDir = exp.dir;
  if (opts.champion !== undefined) {
    const championDir = opts.champion;
    const championSha = championDir ? sha256Hex(readFileSync(join(championDir, 'manifest.json'))) : null;
    const gate = await step(
      'gate',
      [...shared, 'training/champion.ts', 'training/behavioral', 'core'],
      { upstream: [exp.key, pre.key], champion: championSha, champion_params: params.champion, seed: params.seed },
      (dir) => gateStage(dir, exp.dir, championDir, pre.dir, params, snapshot?.id ?? null, runId, opts.now ?? (() => new Date())),
    );
    gateReport = JSON.parse(readFileSync(join(gate.dir, BLESSING_FILE), 'utf8')) as GateReport;
    for (const line of formatReport(gateReport).split('\n')) log(`  ${line}`);
    bundleDir = gate.dir;
  }

  const parity = JSON.parse(readFileSync(resolve(exp.dir, PARITY_FILE), 'utf8')) as ParityReport;
  const modelBytes = exp.summary.model_bytes as number;
  const gates: GateResult[] = applyWaivers(
    [
      ...(evl.summary.gates as GateResult[]),
      { gate: 'parity_max_abs_diff (≤)', threshold: params.gates.parity_max_abs_diff, value: parity.max_abs_diff, passed: parity.max_abs_diff <= params.gates.parity_max_abs_diff },
      { gate: 'parity_argmax_agreement', threshold: params.gates.parity_argmax_agreement, value: parity.argmax_agreement, passed: parity.argmax_agreement >= params.gates.parity_argmax_agreement },
      { gate: 'model_bytes (≤)', threshold: params.gates.model_max_bytes, value: modelBytes, passed: modelBytes <= params.gates.model_max_bytes },
    ],
    params.gates.waived,
  );
  const passed = gatesAllow(gates);
  const blessed = gateReport === null || gateReport.verdict === 'blessed' || opts.registerRefused === true;
  for (const g of gates) {
    const interval = g.interval ? ` [${g.interval.map((x) => x.toFixed(3)).join(', ')}]` : '';
    const why = g.waived ? ` (${g.waived})` : g.waiver_refused ? ` (waiver refused: ${g.waiver_refused})` : '';
    log(`  gate ${g.passed ? 'pass' : g.waived ? 'WAIVED' : 'FAIL'} ${g.gate}: ${g.value}${interval} vs ${g.threshold}${why}`);
  }

  const record: RunRecord = {
    run_id: runId,
    started_at: startedAt.toISOString(),
    finished_at: '',
    seconds: 0,
    params_file: relative(REPO_ROOT, opts.paramsFile),
    params_sha256: paramsSha256,
    params,
    data_dir: dataDir,
    data_sha256: data,
    stages: stages.map(({ dir: _dir, ...s }) => s),
    metrics: exp.summary.metrics as RunRecord['metrics'],
    best_trial: { soup: trn.summary.soup, best_single: trn.summary.best_single, calibration: trn.summary.calibration },
    gates,
    artifacts: { ...Object.fromEntries(Object.entries(exp.outputs).map(([f, h]) => [`export/${f}`, h])) },
    registered: null,
    status: !passed ? 'gates_failed' : gateReport?.verdict === 'refused' ? 'champion_refused' : 'not_registered',
    feedback_snapshot: snapshot
      ? {
          id: snapshot.id,
          backend: snapshot.manifest.source.backend,
          range: snapshot.manifest.source.range,
          corrections: snapshot.corrections.length,
          held_out: (pre.summary.feedback_holdout as { rows: number } | undefined)?.rows ?? 0,
        }
      : null,
    blessing: gateReport ? { ...blessingOf(gateReport).blessing, report: gateReport } : null,
  };
  const finish = (): void => {
    record.finished_at = new Date().toISOString();
    record.seconds = (Date.now() - startedAt.getTime()) / 1000;
  };
  if (passed && blessed && opts.register !== false) {
    finish();
    const refusedKept = record.status === 'champion_refused';
    record.status = 'registered';
    // The registered record must name its own destination; fill it before it is copied in.
    record.registered = { version: params.model.version, dir: relative(REPO_ROOT, resolve(opts.modelsDir, params.model.version)), status: 'new' };
    const reg = register(bundleDir, opts.modelsDir, JSON.stringify(record, null, 2) + '\n');
    record.registered = { ...reg, dir: relative(REPO_ROOT, reg.dir) };
    log(`  register   ${reg.status === 'new' ? 'wrote' : 'unchanged'} ${record.registered.dir}${refusedKept ? ' (refused by the gate: kept on request)' : ''}`);
  } else {
    finish();
    log(!passed ? '  register   refused: gates failed' : !blessed ? '  register   refused: the champion/challenger gate did not bless it' : '  register   skipped (--no-register)');
  }
  const recordPath = writeRun(opts.runsDir, record);
  return { record, recordPath, stages };
}

/** The gate's report in the gate stage's folder (and, once registered, beside the bundle). */
export const BLESSING_FILE = 'blessing.json';

/**
 * The gate as a stage: scores the exported bundle and the champion, writes the report and a copy
 * of the bundle whose manifest carries the blessing (what register copies and publish signs).
 */
async function gateStage(
  dir: string,
  exportDir: string,
  championDir: string | null,
  preprocessDir: string,
  params: Params,
  snapshot: string | null,
  runId: string,
  now: () => Date,
): Promise<Record<string, unknown>> {
  const manifest = JSON.parse(readFileSync(join(exportDir, 'manifest.json'), 'utf8')) as ModelManifest;
  const challenger = await bundleContender(exportDir);
  const champion = championDir ? await bundleContender(championDir) : null;
  try {
    const report = await runGate({
      challenger,
      champion,
      slices: slicesFromSplits(readSplits(preprocessDir)),
      params: params.champion,
      seed: params.seed,
      now,
      snapshot,
      runId,
      files: Object.fromEntries(manifest.files.map((f) => [f.path, f.sha256])),
    });
    const { reportText, blessing } = blessingOf(report);
    for (const f of manifest.files) {
      mkdirSync(dirname(join(dir, f.path)), { recursive: true });
      copyFileSync(join(exportDir, f.path), join(dir, f.path));
    }
    writeFileSync(join(dir, BLESSING_FILE), reportText);
    writeFileSync(join(dir, 'manifest.json'), JSON.stringify({ ...manifest, blessing }, null, 2) + '\n');
    return { verdict: report.verdict, champion: report.champion, macro_f1_diff: report.macro_f1_diff, failures: report.failures };
  } finally {
    await challenger.release();
    await champion?.release();
  }
}

/**
 * Run records (what MLflow tracking gives its users): every pipeline run writes one JSON file with
 * its params, data hashes, per-stage cache keys, metrics, gates and artifact hashes.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Blessing } from '../core/manifest.js';
import type { StageRecord } from './cache.js';
import type { Params } from './params.js';
import type { GateResult } from './stages/evaluate.js';

export interface RunRecord {
  run_id: string;
  started_at: string;
  finished_at: string;
  seconds: number;
  params_file: string;
  params_sha256: string;
  params: Params;
  data_dir: string;
  data_sha256: Record<string, string>;
  stages: StageRecord[];
  /** Quantized-model metrics by split (macro_recall, macro_f1, accuracy, n). */
  metrics: Record<string, { macro_recall: number; macro_f1: number; accuracy: number; n: number }>;
  best_trial: unknown;
  gates: GateResult[];
  artifacts: Record<string, string>;
  registered: { version: string; dir: string; status: 'new' | 'unchanged' } | null;
  /** `champion_refused`: the champion/challenger gate did not bless the model (not registered). */
  status: 'registered' | 'gates_failed' | 'not_registered' | 'champion_refused';
  /** The feedback snapshot trained on (training/snapshot.ts); null or absent: none. */
  feedback_snapshot?: { id: string; backend: string; range: { from: string; to: string }; corrections: number; held_out: number } | null;
  /** The gate's verdict (the manifest's blessing) and its full report; null or absent: no gate ran. */
  blessing?: (Blessing & { report: unknown }) | null;
}

export function writeRun(runsDir: string, record: RunRecord): string {
  mkdirSync(runsDir, { recursive: true });
  const path = join(runsDir, `${record.run_id}.json`);
  writeFileSync(path, JSON.stringify(record, null, 2) + '\n');
  return path;
}

/**
 * Runs in `runsDir` plus the records committed inside model bundles (`modelsDir/<version>/
 * training-run.json`), so a released model's run can be listed and compared in a fresh clone.
 */
export function listRuns(runsDir: string, modelsDir?: string): RunRecord[] {
  const files: string[] = [];
  if (existsSync(runsDir))
    files.push(
      ...readdirSync(runsDir)
        .filter((f) => f.endsWith('.json'))
        .map((f) => join(runsDir, f)),
    );
  if (modelsDir && existsSync(modelsDir)) {
    for (const v of readdirSync(modelsDir)) if (existsSync(join(modelsDir, v, 'training-run.json'))) files.push(join(modelsDir, v, 'training-run.json'));
  }
  const byId = new Map<string, RunRecord>();
  for (const f of files) {
    const r = JSON.parse(readFileSync(f, 'utf8')) as RunRecord;
    if (!byId.has(r.run_id)) byId.set(r.run_id, r);
  }
  return [...byId.values()].sort((a, b) => a.started_at.localeCompare(b.started_at));
}

/**
 * One run, by any name a user has for it: a run id or a unique prefix of one (the runs folder and
 * the committed bundles), a model version (the run recorded in `modelsDir/<version>/`), or the
 * path of a run record file.
 */
export function findRun(runsDir: string, ref: string, modelsDir?: string): RunRecord {
  if (modelsDir && !ref.includes('/') && existsSync(join(modelsDir, ref, 'training-run.json'))) {
    return readRecord(join(modelsDir, ref, 'training-run.json'));
  }
  if (ref.endsWith('.json') && existsSync(ref)) return readRecord(ref);
  const runs = listRuns(runsDir, modelsDir);
  const matches = runs.filter((r) => r.run_id.startsWith(ref));
  if (matches.length === 1) return matches[0]!;
  if (matches.length > 1) throw new Error(`"${ref}" matches ${matches.length} runs (${matches.map((r) => r.run_id).join(', ')}); give more of the id`);
  const versions = modelsDir && existsSync(modelsDir) ? readdirSync(modelsDir).filter((v) => existsSync(join(modelsDir, v, 'training-run.json'))) : [];
  throw new Error(
    `no run matches "${ref}": looked for a run id or prefix in ${runsDir}${modelsDir ? ` and ${join(modelsDir, '*', 'training-run.json')}` : ''}` +
      `, a model version${versions.length ? ` (${versions.join(', ')})` : ''} and a run record file. ` +
      (runs.length ? `Runs: ${runs.map((r) => r.run_id).join(', ')}` : 'No runs found: npm run train records one'),
  );
}

function readRecord(path: string): RunRecord {
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as RunRecord;
  } catch (e) {
    throw new Error(`${path}: not a run record (${e instanceof Error ? e.message : String(e)})`);
  }
}

/** Flatten nested objects into dotted keys for side-by-side comparison. */
export function flatten(value: unknown, prefix = ''): Record<string, unknown> {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return { [prefix]: value };
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) Object.assign(out, flatten(v, prefix ? `${prefix}.${k}` : k));
  return out;
}

export interface RunDiff {
  key: string;
  a: unknown;
  b: unknown;
}

/** Params, data hashes, metrics and artifacts that differ between two runs. */
export function compareRuns(a: RunRecord, b: RunRecord): { params: RunDiff[]; data: RunDiff[]; feedback: RunDiff[]; metrics: RunDiff[]; artifacts: RunDiff[] } {
  const diff = (x: unknown, y: unknown, all = false): RunDiff[] => {
    const fx = flatten(x);
    const fy = flatten(y);
    const keys = [...new Set([...Object.keys(fx), ...Object.keys(fy)])].sort();
    return keys.filter((k) => all || JSON.stringify(fx[k]) !== JSON.stringify(fy[k])).map((k) => ({ key: k, a: fx[k], b: fy[k] }));
  };
  return {
    params: diff(a.params, b.params),
    data: diff(a.data_sha256, b.data_sha256),
    // What the MLOps loop adds: the snapshot trained on and the gate's verdict (not its full report).
    feedback: diff(mlopsView(a), mlopsView(b)),
    metrics: diff(a.metrics, b.metrics, true),
    artifacts: diff(a.artifacts, b.artifacts),
  };
}

function mlopsView(r: RunRecord): Record<string, unknown> {
  const b = r.blessing;
  return {
    snapshot: r.feedback_snapshot ?? null,
    gate: b ? { verdict: b.verdict, champion: b.champion?.version ?? null, macro_f1_diff: b.macro_f1_diff, failures: b.failures.length } : null,
  };
}

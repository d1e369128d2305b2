/**
 * Content-addressed stage cache (what `dvc repro` gives its users): a stage's outputs live in
 * `<cache>/<stage>/<key>/`, where the key hashes the stage's parameters, its upstream keys and the
 * source files it depends on. An unchanged stage is skipped; any change re-runs it and everything
 * downstream, because downstream keys include its key.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { REPO_ROOT } from '../node-runtime/bundle.js';
import { sha256Hex } from '../node-runtime/sha256.js';

export function sha256File(path: string): string {
  return sha256Hex(readFileSync(path));
}

/** Stable JSON (sorted keys) so equal values always hash equally. */
export function stableStringify(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(stableStringify).join(',')}]`;
  if (value && typeof value === 'object') {
    return `{${Object.keys(value)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${stableStringify((value as Record<string, unknown>)[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(value);
}

export function hashJson(value: unknown): string {
  return sha256Hex(stableStringify(value));
}

/**
 * sha256 over the contents of source files and directories (recursively), by path: code (.ts, not
 * tests) and the data it imports (.json: the lexicons in core/data decide features as much as code).
 */
export function hashSources(paths: readonly string[], root: string = REPO_ROOT): string {
  const h = createHash('sha256');
  const visit = (abs: string): void => {
    if (statSync(abs).isDirectory()) {
      for (const entry of readdirSync(abs).sort()) visit(join(abs, entry));
    } else if ((abs.endsWith('.ts') && !abs.endsWith('.test.ts')) || abs.endsWith('.json')) {
      h.update(relative(root, abs)).update('\0').update(readFileSync(abs)).update('\0');
    }
  };
  for (const p of paths) visit(join(root, p));
  return h.digest('hex');
}

export interface StageRecord {
  stage: string;
  key: string;
  cached: boolean;
  seconds: number;
  /** sha256 of every output file, by name. */
  outputs: Record<string, string>;
  /** Stage-specific summary (metrics, counts). */
  summary: Record<string, unknown>;
}

export interface StageSpec {
  name: string;
  /** Source files or folders (relative to the repo root) whose content is part of the key. */
  sources: readonly string[];
  /** Parameters, upstream keys and input hashes: anything that changes the outputs. */
  inputs: unknown;
  /** Produces outputs in `dir` and returns a JSON summary. */
  run: (dir: string) => Promise<Record<string, unknown>>;
}

export interface StageResult extends StageRecord {
  dir: string;
}

const DONE = '_stage.json';

/** Run a stage unless its outputs for this exact key are already cached. */
export async function runStage(cacheRoot: string, spec: StageSpec, opts: { force?: boolean } = {}): Promise<StageResult> {
  const key = hashJson({ stage: spec.name, sources: hashSources(spec.sources), inputs: spec.inputs }).slice(0, 16);
  const dir = join(cacheRoot, spec.name, key);
  if (!opts.force && existsSync(join(dir, DONE))) {
    const record = JSON.parse(readFileSync(join(dir, DONE), 'utf8')) as StageRecord;
    return { ...record, cached: true, seconds: 0, dir };
  }
  // Build in a temporary folder and rename: a crash never leaves a half-written cache entry.
  const tmp = `${dir}.tmp-${process.pid}`;
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp, { recursive: true });
  const started = performance.now();
  const summary = await spec.run(tmp);
  const outputs: Record<string, string> = {};
  for (const f of readdirSync(tmp).sort()) {
    if (statSync(join(tmp, f)).isFile()) outputs[f] = sha256File(join(tmp, f));
  }
  const record: StageRecord = {
    stage: spec.name,
    key,
    cached: false,
    seconds: (performance.now() - started) / 1000,
    outputs,
    summary,
  };
  writeFileSync(join(tmp, DONE), JSON.stringify(record, null, 2));
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(join(dir, '..'), { recursive: true });
  renameSync(tmp, dir);
  return { ...record, dir };
}

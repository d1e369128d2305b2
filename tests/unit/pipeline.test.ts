/**
 * The training pipeline in its smoke configuration (real data, small subset, tiny budget): runs end
 * to end, caches every stage, is deterministic, re-runs exactly what a param change touches, refuses
 * to register a model that misses a gate, and refuses changed or missing data.
 */
import { execFile } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { stringify as toYaml } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadBundle, REPO_ROOT } from '../../node-runtime/bundle.js';
import { loadParams } from '../../training/params.js';
import { resolveDataDir, runPipeline, type PipelineOptions } from '../../training/pipeline.js';
import { DEFAULT_PARAMS, SMOKE_PARAMS } from '../../training/paths.js';
import { DATASETS } from '../../training/datasets.js';

// The data folder training reads (YTSENT_DATA, else params.yaml's data.dir); it is not part of the
// repository, so without it these tests are skipped and say why.
const DATA = resolveDataDir(loadParams(DEFAULT_PARAMS));
const NO_DATA = existsSync(join(DATA, 'SHA256SUMS')) ? '' : ` — SKIPPED: no data folder at ${DATA} (set YTSENT_DATA, or npm run data; see README "Data")`;
// Said where the default reporter shows it too (it prints skipped tests as a count only).
if (NO_DATA) console.warn(`training pipeline tests${NO_DATA}`);
let tmp: string;
const opts = (name: string, extra: Partial<PipelineOptions> = {}): PipelineOptions => ({
  paramsFile: SMOKE_PARAMS,
  cacheDir: join(tmp, name, 'cache'),
  modelsDir: join(tmp, name, 'models'),
  runsDir: join(tmp, 'runs'),
  log: () => {},
  ...extra,
});

/** A params file extending the smoke configuration with overrides. */
function smokeVariant(name: string, overrides: Record<string, unknown>): string {
  const path = join(tmp, `${name}.yaml`);
  writeFileSync(path, toYaml({ extends: SMOKE_PARAMS, ...overrides }));
  return path;
}

beforeAll(() => {
  tmp = mkdtempSync(join(tmpdir(), 'ytsent-pipeline-'));
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe.skipIf(NO_DATA !== '')(`training pipeline (smoke configuration)${NO_DATA}`, () => {
  let first: Awaited<ReturnType<typeof runPipeline>>;

  it('runs every stage, passes its gates and registers a loadable bundle within 60 s', async () => {
    const started = performance.now();
    first = await runPipeline(opts('a'));
    expect((performance.now() - started) / 1000).toBeLessThan(60);
    expect(first.stages.map((s) => [s.stage, s.cached])).toEqual([
      ['ingest', false],
      ['preprocess', false],
      ['featurize', false],
      ['langid', false],
      ['train', false],
      ['evaluate', false],
      ['export', false],
    ]);
    expect(first.record.status).toBe('registered');
    expect(first.record.gates.every((g) => g.passed)).toBe(true);
    // The language classifier learned short spans of every class's texts (params.smoke.yaml:
    // 30 per language, English 3 times and "other" twice as many; a few spans without two letters drop out).
    const spans = first.record.stages.find((s) => s.stage === 'langid')!.summary.short_span_rows as Record<string, number>;
    expect(Object.keys(spans).sort()).toEqual(['de', 'en', 'es', 'fr', 'hi', 'it', 'other', 'pt']);
    for (const lang of ['de', 'es', 'fr', 'hi', 'it', 'pt']) expect(spans[lang], lang).toBeGreaterThanOrEqual(20);
    expect(spans.en).toBeGreaterThanOrEqual(70);
    expect(spans.other).toBeGreaterThanOrEqual(50);
    const bundle = loadBundle(join(tmp, 'a', 'models', '0.0.0-smoke'));
    expect(bundle.manifest.version).toBe('0.0.0-smoke');
    expect(Object.keys(first.record.data_sha256).sort()).toEqual(Object.keys(DATASETS).sort());
    expect(existsSync(first.recordPath)).toBe(true);
  });

  it('skips every stage on an unchanged re-run and leaves the registered bundle alone', async () => {
    const again = await runPipeline(opts('a'));
    expect(again.stages.every((s) => s.cached)).toBe(true);
    expect(again.stages.map((s) => s.key)).toEqual(first.stages.map((s) => s.key));
    expect(again.record.registered?.status).toBe('unchanged');
    expect(again.record.metrics).toEqual(first.record.metrics);
  });

  it('gives identical metrics and an identical model from scratch (same params, same data)', async () => {
    const fresh = await runPipeline(opts('b'));
    expect(fresh.stages.every((s) => !s.cached)).toBe(true);
    expect(fresh.record.metrics).toEqual(first.record.metrics);
    expect(fresh.record.artifacts['export/model.onnx']).toBe(first.record.artifacts['export/model.onnx']);
  });

  it('re-runs only the stages downstream of a changed parameter', async () => {
    const params = smokeVariant('golden', { export: { golden_examples: 10 } });
    const run = await runPipeline(opts('a', { paramsFile: params, register: false }));
    expect(run.stages.map((s) => [s.stage, s.cached])).toEqual([
      ['ingest', true],
      ['preprocess', true],
      ['featurize', true],
      ['langid', true],
      ['train', true],
      ['evaluate', true],
      ['export', false],
    ]);
  });

  it('does not register a model that misses a gate', async () => {
    const params = smokeVariant('strict', { gates: { metrics: { 'youtube_val.macro_f1': 0.99 } }, model: { version: '0.0.1-gated' } });
    const run = await runPipeline(opts('a', { paramsFile: params }));
    expect(run.record.status).toBe('gates_failed');
    expect(run.record.gates.find((g) => g.gate === 'youtube_val.macro_f1')).toMatchObject({ passed: false });
    expect(run.record.gates.find((g) => g.gate === 'youtube_val.macro_f1')?.waived).toBeUndefined();
    expect(existsSync(join(tmp, 'a', 'models', '0.0.1-gated'))).toBe(false);
  });

  it('registers despite a failing gate only when params waive it with a reason and the miss is within sampling noise', async () => {
    // Just above the smoke model's value: inside the bootstrap interval of a few hundred rows.
    const floor = Number((first.record.gates.find((g) => g.gate === 'goemotions_dev.macro_f1')!.value + 0.005).toFixed(4));
    const params = smokeVariant('waived', {
      gates: { metrics: { 'goemotions_dev.macro_f1': floor }, waived: { 'goemotions_dev.macro_f1': 'accepted for this test release' } },
      model: { version: '0.0.2-waived' },
    });
    const run = await runPipeline(opts('a', { paramsFile: params }));
    expect(run.record.status).toBe('registered');
    const gate = run.record.gates.find((g) => g.gate === 'goemotions_dev.macro_f1')!;
    expect(gate).toMatchObject({ passed: false, waived: 'accepted for this test release' });
    expect(gate.interval![0]).toBeLessThan(gate.value);
    expect(gate.interval![1]).toBeGreaterThan(floor);
    expect(existsSync(join(tmp, 'a', 'models', '0.0.2-waived', 'manifest.json'))).toBe(true);
  });

  it('refuses a waiver for a miss beyond sampling noise and does not register', async () => {
    const params = smokeVariant('waived-far', {
      gates: { metrics: { 'goemotions_dev.macro_f1': 0.99 }, waived: { 'goemotions_dev.macro_f1': 'accepted for this test release' } },
      model: { version: '0.0.3-refused' },
    });
    const run = await runPipeline(opts('a', { paramsFile: params }));
    expect(run.record.status).toBe('gates_failed');
    const gate = run.record.gates.find((g) => g.gate === 'goemotions_dev.macro_f1')!;
    expect(gate.waived).toBeUndefined();
    expect(gate.waiver_refused).toMatch(/misses 0\.99 by more than sampling noise/);
    expect(existsSync(join(tmp, 'a', 'models', '0.0.3-refused'))).toBe(false);
  });

  it('refuses to overwrite a registered version with a different model', async () => {
    const params = smokeVariant('other', { seed: 7 });
    await expect(runPipeline(opts('a', { paramsFile: params }))).rejects.toThrow(/already holds a different model.*bump model.version/);
  });

  it('lists and compares runs with npm run runs', async () => {
    const cli = (args: string[]) => promisify(execFile)(process.execPath, ['--import', 'tsx', join(REPO_ROOT, 'training', 'runs-cli.ts'), '--dir', join(tmp, 'runs'), ...args], { cwd: REPO_ROOT });
    const list = (await cli([])).stdout;
    expect(list).toContain(first.record.run_id);
    expect(list).toMatch(/registered/);
    const gated = list
      .split('\n')
      .find((l) => l.includes('gates_failed'))!
      .split(/\s+/)[0]!;
    const cmp = JSON.parse((await cli(['compare', first.record.run_id, gated, '--json'])).stdout);
    expect(cmp.params.map((d: { key: string }) => d.key)).toEqual(['gates.metrics.youtube_val.macro_f1', 'model.version']);
    expect(cmp.data).toEqual([]);
    expect(cmp.metrics.length).toBeGreaterThan(0);
  });
});

describe.skipIf(NO_DATA !== '')(`ingest refuses bad data${NO_DATA}`, () => {
  function dataCopy(name: string): string {
    const dir = join(tmp, name);
    for (const spec of Object.values(DATASETS)) {
      mkdirSync(join(dir, spec.file, '..'), { recursive: true });
      symlinkSync(join(DATA, spec.file), join(dir, spec.file));
    }
    copyFileSync(join(DATA, 'SHA256SUMS'), join(dir, 'SHA256SUMS'));
    return dir;
  }

  it('names a missing file and where the data comes from', async () => {
    const dir = dataCopy('data-missing');
    const { rmSync } = await import('node:fs');
    rmSync(join(dir, 'tweeteval', 'val.jsonl'));
    await expect(runPipeline(opts('c', { dataDir: dir }))).rejects.toThrow(/val.jsonl: missing dataset file \(tweeteval_val; source: TweetEval/);
  });

  it('refuses a file whose sha256 does not match SHA256SUMS', async () => {
    const dir = dataCopy('data-changed');
    const sums = readFileSync(join(dir, 'SHA256SUMS'), 'utf8').replace(/^[0-9a-f]{64}(?=  youtube)/m, '0'.repeat(64));
    writeFileSync(join(dir, 'SHA256SUMS'), sums);
    await expect(runPipeline(opts('c', { dataDir: dir }))).rejects.toThrow(/comments.jsonl: sha256 mismatch .* refusing to train on changed data/);
  });

  it('refuses a data folder without SHA256SUMS', async () => {
    const dir = join(tmp, 'data-empty');
    mkdirSync(dir);
    await expect(runPipeline(opts('c', { dataDir: dir }))).rejects.toThrow(/SHA256SUMS: missing/);
  });
});

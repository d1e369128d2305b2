/**
 * Retraining with feedback, through the real pipeline (smoke configuration on the fixture data
 * folder, tests/support/mini-data.ts, so no data folder is needed): a snapshot of agreed
 * corrections becomes the `feedback` source with its newest part held out (never trained on),
 * the snapshot's id is in every cache key from preprocess on, the champion/challenger gate blesses
 * a retrained model that learned the feedback and writes its blessing into the registered bundle,
 * refuses a challenger that lost a source, and a changed snapshot is refused before any stage runs.
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { stringify as toYaml } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseManifest } from '../../core/manifest.js';
import { REPO_ROOT } from '../../node-runtime/bundle.js';
import { sha256Hex } from '../../node-runtime/sha256.js';
import { runPipeline, type PipelineOptions, type PipelineResult } from '../../training/pipeline.js';
import { readSplits } from '../../training/stages/preprocess.js';
import { writeSnapshot, type CorrectionRow, type WrittenSnapshot } from '../../training/snapshot.js';
import { MLOPS_PARAMS, writeMiniData } from '../support/mini-data.js';
import { shiftedStream } from '../support/shifted-stream.js';

let tmp: string;
let data: string;
let snapshot: WrittenSnapshot;
let baseline: PipelineResult;
const opts = (extra: Partial<PipelineOptions> = {}): PipelineOptions => ({
  paramsFile: MLOPS_PARAMS,
  dataDir: data,
  cacheDir: join(tmp, 'cache'),
  modelsDir: join(tmp, 'models'),
  runsDir: join(tmp, 'runs'),
  now: () => new Date('2026-03-02T00:00:00.000Z'),
  log: process.env.MLOPS_DEBUG ? (l: string) => console.error(l) : () => {},
  ...extra,
});
const championDir = () => join(tmp, 'models', '0.0.0-smoke');

/** The shifted stream's comments as agreed corrections, all first given in one hour. */
function corrections(n: number): CorrectionRow[] {
  return shiftedStream(n).map((c) => ({
    kind: 'correction',
    text_hash: createHash('sha256').update(c.text).digest('hex'),
    text: c.text,
    label: c.label,
    first_hour: '2026-03-01T10',
    last_hour: '2026-03-01T11',
    support: 3,
    conflicting: 0,
    model_versions: ['0.0.0-smoke'],
  }));
}

beforeAll(async () => {
  tmp = mkdtempSync(join(tmpdir(), 'ytsent-mlops-pipeline-'));
  data = writeMiniData(join(tmp, 'data'));
  const rows = corrections(150);
  snapshot = writeSnapshot(join(tmp, 'snapshots'), rows, {
    format: 'ytsent-feedback-snapshot/1',
    source: { backend: 'http://backend.test', range: { from: '2026-03-01T00', to: '2026-03-02T00' }, open_hours: false, min_clients: 3, model_versions: ['0.0.0-smoke'] },
    corrections: {
      texts_with_votes: 150,
      conflicted_on_backend: 0,
      below_threshold: 0,
      exported: 150,
      rescrubbed: 0,
      public_duplicates: 0,
      public_label_disagreements: 0,
      merged: 0,
      conflicts_dropped: 0,
      kept: 150,
      labels: { negative: 60, neutral: 30, positive: 60 },
    },
    samples: { exported: 0, rescrubbed: 0, public_duplicates: 0, merged: 0, kept: 0 },
    time_range: { first_hour: '2026-03-01T10', last_hour: '2026-03-01T11' },
    dedup: { key: 'test', public_data_sha256: sha256Hex(readFileSync(join(data, 'SHA256SUMS'))) },
  });
  baseline = await runPipeline(opts());
}, 120_000);
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('retraining with a feedback snapshot', () => {
  let retrained: PipelineResult;

  it('trains on the snapshot, holds out its newest corrections, and the gate blesses the result', async () => {
    expect(baseline.record.status).toBe('registered');
    expect(baseline.record.blessing).toBeNull();
    retrained = await runPipeline(opts({ feedbackSnapshot: snapshot.dir, champion: championDir(), modelVersion: '0.0.1', modelsDir: join(tmp, 'models-b') }));
    const r = retrained.record;
    expect(r.status).toBe('registered');
    expect(r.feedback_snapshot).toEqual({ id: snapshot.id, backend: 'http://backend.test', range: { from: '2026-03-01T00', to: '2026-03-02T00' }, corrections: 150, held_out: 30 });
    // The snapshot changes preprocess and everything after it; ingest reads the public data only.
    const key = (res: PipelineResult, stage: string) => res.stages.find((s) => s.stage === stage)!.key;
    expect(key(retrained, 'ingest')).toBe(key(baseline, 'ingest'));
    for (const stage of ['preprocess', 'featurize', 'train', 'export']) expect(key(retrained, stage), stage).not.toBe(key(baseline, stage));
    expect(retrained.stages.at(-1)!.stage).toBe('gate');

    // 20% held out (30 of 150), none of them among the training rows of any source.
    const splits = readSplits(join(tmp, 'cache', 'preprocess', key(retrained, 'preprocess')));
    expect(splits.feedback_val).toHaveLength(30);
    const trainTexts = new Set(splits.train.map((t) => t.text));
    expect(splits.feedback_val!.filter((t) => trainTexts.has(t.text))).toEqual([]);
    // The other 120 train, less any the normalizer cannot tell from a held-out or earlier one.
    const removed = (retrained.stages.find((s) => s.stage === 'preprocess')!.summary.removed as Record<string, { leaked: number; duplicates: number }>).feedback!;
    expect(splits.train.filter((t) => t.source === 'feedback').length + removed.leaked + removed.duplicates).toBe(120);
    expect(removed.leaked + removed.duplicates).toBeLessThan(5);
    expect(r.metrics.feedback_val!.n).toBe(30);

    // The blessing: in the record, in the registered manifest, bound to blessing.json beside it.
    expect(r.blessing).toMatchObject({
      verdict: 'blessed',
      champion: { version: '0.0.0-smoke', manifest_sha256: sha256Hex(readFileSync(join(championDir(), 'manifest.json'))) },
      snapshot: snapshot.id,
      run_id: r.run_id,
    });
    const dir = join(tmp, 'models-b', '0.0.1');
    const manifest = parseManifest(JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')));
    const { report: _full, ...summary } = r.blessing!;
    expect(manifest.blessing).toEqual(summary);
    expect(sha256Hex(readFileSync(join(dir, 'blessing.json')))).toBe(manifest.blessing!.report_sha256);
    const report = JSON.parse(readFileSync(join(dir, 'blessing.json'), 'utf8')) as { slices: Array<{ name: string; champion: { macro_f1: number }; challenger: { macro_f1: number } }> };
    const fb = report.slices.find((s) => s.name === 'feedback_val')!;
    // The champion guesses at words it never saw; the challenger learned them.
    expect(fb.challenger.macro_f1).toBeGreaterThan(fb.champion.macro_f1 + 0.3);
  });

  it('skips every stage, the gate included, on an unchanged re-run', async () => {
    const again = await runPipeline(opts({ feedbackSnapshot: snapshot.dir, champion: championDir(), modelVersion: '0.0.1', modelsDir: join(tmp, 'models-b') }));
    expect(again.stages.every((s) => s.cached)).toBe(true);
    expect(again.record.registered?.status).toBe('unchanged');
    expect(again.record.blessing?.report_sha256).toBe(retrained.record.blessing?.report_sha256);
  });

  it('npm run runs lists each run with its gate verdict and snapshot; compare shows what feedback changed', async () => {
    const cli = async (args: string[]) =>
      (await promisify(execFile)(process.execPath, ['--import', 'tsx', join(REPO_ROOT, 'training', 'runs-cli.ts'), '--dir', join(tmp, 'runs'), ...args], { cwd: REPO_ROOT })).stdout;
    const line = (await cli([])).split('\n').find((l) => l.startsWith(retrained.record.run_id))!;
    expect(line).toContain('blessed');
    expect(line).toContain(snapshot.id.slice(0, 12));
    const cmp = JSON.parse(await cli(['compare', baseline.record.run_id, retrained.record.run_id, '--json'])) as { feedback: Array<{ key: string; a: unknown; b: unknown }> };
    expect(cmp.feedback).toContainEqual({ key: 'snapshot.id', a: undefined, b: snapshot.id });
    expect(cmp.feedback).toContainEqual({ key: 'gate.verdict', a: undefined, b: 'blessed' });
  });

  it('refuses a challenger that lost a source, and does not register it', async () => {
    const params = join(tmp, 'no-umsab.yaml');
    writeFileSync(params, toYaml({ extends: MLOPS_PARAMS, sources: { umsab: 0 } }));
    const res = await runPipeline(opts({ paramsFile: params, feedbackSnapshot: snapshot.dir, champion: championDir(), modelVersion: '0.0.2', modelsDir: join(tmp, 'models-c') }));
    expect(res.record.status).toBe('champion_refused');
    expect(res.record.registered).toBeNull();
    expect(existsSync(join(tmp, 'models-c', '0.0.2'))).toBe(false);
    expect(res.record.blessing?.verdict).toBe('refused');
    expect(res.record.blessing?.failures.some((f) => f.startsWith('umsab_val'))).toBe(true);
    // Kept on request: registered, its manifest saying it was refused.
    const kept = await runPipeline(
      opts({ paramsFile: params, feedbackSnapshot: snapshot.dir, champion: championDir(), modelVersion: '0.0.2', modelsDir: join(tmp, 'models-c'), registerRefused: true }),
    );
    expect(kept.record.status).toBe('registered');
    expect(parseManifest(JSON.parse(readFileSync(join(tmp, 'models-c', '0.0.2', 'manifest.json'), 'utf8'))).blessing?.verdict).toBe('refused');
  });

  it('refuses a snapshot changed after it was written, before any stage runs', async () => {
    const copy = writeSnapshot(join(tmp, 'snapshots-2'), corrections(40), { ...JSON.parse(readFileSync(join(snapshot.dir, 'manifest.json'), 'utf8')), files: undefined });
    const rowsFile = join(copy.dir, 'rows.jsonl');
    writeFileSync(rowsFile, readFileSync(rowsFile, 'utf8').replace('"positive"', '"negative"'));
    const logs: string[] = [];
    await expect(runPipeline(opts({ feedbackSnapshot: copy.dir, log: (l) => logs.push(l) }))).rejects.toThrow(/changed after it was written/);
    expect(logs.some((l) => /^\s+ingest/.test(l))).toBe(false);
    await expect(runPipeline(opts({ feedbackSnapshot: 'deadbeefdeadbeef' }))).rejects.toThrow(/no snapshot deadbeefdeadbeef/);
  });
});

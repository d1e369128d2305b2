/**
 * `npm run runs` in a fresh clone: the runs folder is empty (it is not committed), and the runs
 * recorded inside the committed model bundles can still be listed and compared, by version, run id
 * prefix or record file.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MODELS_DIR, REPO_ROOT } from '../../node-runtime/bundle.js';

let empty: string;
beforeAll(() => {
  empty = mkdtempSync(join(tmpdir(), 'ytsent-runs-'));
});
afterAll(() => rmSync(empty, { recursive: true, force: true }));

async function runs(args: string[], env: Record<string, string> = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, ['--import', 'tsx', join(REPO_ROOT, 'training', 'runs-cli.ts'), '--dir', empty, ...args], {
      cwd: REPO_ROOT,
      env: { ...process.env, ...env },
    });
    return { code: 0, stdout, stderr };
  } catch (e) {
    const err = e as { code: number; stdout: string; stderr: string };
    return { code: err.code, stdout: err.stdout, stderr: err.stderr };
  }
}

const committed = readdirSync(MODELS_DIR)
  .filter((v) => readdirSync(join(MODELS_DIR, v)).includes('training-run.json'))
  .map((version) => ({ version, runId: (JSON.parse(readFileSync(join(MODELS_DIR, version, 'training-run.json'), 'utf8')) as { run_id: string }).run_id }));

describe('npm run runs with only the committed bundles', () => {
  it('has committed run records to work with', () => {
    expect(committed.length).toBeGreaterThanOrEqual(1);
  });

  it('lists the run of every committed bundle', async () => {
    const { code, stdout } = await runs([]);
    expect(code).toBe(0);
    for (const { runId } of committed) expect(stdout).toContain(runId);
  });

  it('compares two committed bundles by version, by run id prefix, and by record file (relative to the caller)', async () => {
    // The oldest and newest bundles (the same one when only one is committed).
    const a = committed[0];
    const b = committed.at(-1);
    const byVersion = await runs(['compare', a!.version, b!.version, '--json']);
    expect(byVersion.code).toBe(0);
    const cmp = JSON.parse(byVersion.stdout) as { params: unknown[]; metrics: Array<{ key: string }> };
    expect(cmp.metrics.length).toBeGreaterThan(0);
    const byPrefix = await runs(['compare', a!.runId.slice(0, 20), b!.runId, '--json']);
    expect(JSON.parse(byPrefix.stdout)).toEqual(cmp);
    const byFile = await runs(['compare', join(a!.version, 'training-run.json'), b!.version, '--json'], { INIT_CWD: MODELS_DIR });
    expect(JSON.parse(byFile.stdout)).toEqual(cmp);
    const text = await runs(['compare', a!.version, b!.version]);
    expect(text.stdout).toContain(`A = ${a!.runId}\nB = ${b!.runId}`);
  });

  it('says where it looked and what exists when nothing matches', async () => {
    const { code, stderr } = await runs(['compare', '9.9.9', committed[0]!.version]);
    expect(code).toBe(2);
    expect(stderr).toContain('runs: no run matches "9.9.9"');
    expect(stderr).toContain(join(MODELS_DIR, '*', 'training-run.json'));
    for (const { version, runId } of committed) {
      expect(stderr).toContain(version);
      expect(stderr).toContain(runId);
    }
  });
});

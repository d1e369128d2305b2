/**
 * Folder rules (.dependency-cruiser.cjs): core/ imports no other folder, worker/ and extension/ never
 * import each other, training/ → model-export/ → core/, nothing shipped imports tests/, no cycles.
 * Runs the dependency-cruiser CLI on the repository, and on a fixture that breaks a rule so the check
 * is known to bite.
 */
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../../node-runtime/bundle.js';

const run = promisify(execFile);
const DEPCRUISE = join(REPO_ROOT, 'node_modules/.bin/depcruise');
const CONFIG = join(REPO_ROOT, '.dependency-cruiser.cjs');

interface Violation {
  from: string;
  to: string;
  rule: { name: string };
}

async function cruise(cwd: string, folders: string[]): Promise<Violation[]> {
  // depcruise exits non-zero when it finds violations; the JSON report is on stdout either way.
  const out = await run(DEPCRUISE, [...folders, '--config', CONFIG, '--output-type', 'json'], { cwd, maxBuffer: 256 * 1024 * 1024 }).catch((e: { stdout?: string }) => ({ stdout: e.stdout ?? '' }));
  const report = JSON.parse(out.stdout) as { summary: { violations: Violation[] } };
  return report.summary.violations;
}

describe('folder rules', () => {
  it('hold for every product folder', async () => {
    const violations = await cruise(REPO_ROOT, ['core', 'worker', 'extension', 'training', 'model-export', 'node-runtime', 'cli', 'scripts', 'bench']);
    expect(violations.map((v) => `${v.rule.name}: ${v.from} → ${v.to}`)).toEqual([]);
  }, 120_000);

  it('catch core/ importing the worker (fixture)', async () => {
    const violations = await cruise(join(REPO_ROOT, 'tests/fixtures/architecture'), ['core', 'worker']);
    expect(violations.map((v) => [v.rule.name, v.from, v.to])).toEqual([['core-is-a-leaf', 'core/leaf.ts', 'worker/handler.ts']]);
  }, 120_000);
});

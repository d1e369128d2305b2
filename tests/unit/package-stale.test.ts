/**
 * `npm run package` refuses a build older than its sources (a zip of a stale build ships code or a
 * model other than the tree's), or rebuilds first when asked. Times are set explicitly (utimes):
 * nothing depends on the clock.
 */
import { mkdirSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { BUILD_INPUTS, newerSource, packageExtension, StaleBuildError } from '../../scripts/package-extension.js';

const roots: string[] = [];
afterEach(() => {
  for (const d of roots.splice(0)) rmSync(d, { recursive: true, force: true });
});

const T0 = new Date('2026-01-01T00:00:00Z');
const at = (minutes: number): Date => new Date(T0.getTime() + minutes * 60_000);

function put(path: string, content: string, time: Date): void {
  mkdirSync(join(path, '..'), { recursive: true });
  writeFileSync(path, content);
  utimesSync(path, time, time);
}

/** A repository with sources written at minute 0 and a build written at minute 10. */
function repo(): { root: string; dist: string } {
  const root = mkdtempSync(join(tmpdir(), 'ytsent-stale-'));
  roots.push(root);
  put(join(root, 'extension', 'content', 'index.ts'), 'export {};\n', at(0));
  put(join(root, 'core', 'scrub.ts'), 'export {};\n', at(0));
  put(join(root, 'models', '2.0.0', 'model.onnx'), 'onnx', at(0));
  put(join(root, 'vite.config.ts'), '', at(0));
  put(join(root, 'package.json'), '{}', at(0));
  put(join(root, 'README.md'), 'not a build input', at(0));
  const dist = join(root, 'dist', 'extension');
  put(join(dist, 'manifest.json'), JSON.stringify({ manifest_version: 3, version: '9.9.9', host_permissions: ['https://www.youtube.com/*', 'https://ytsent.example.com/*'] }), at(10));
  put(join(dist, 'assets', 'content.js'), '// built\n', at(11));
  return { root, dist };
}

describe('npm run package: stale builds', () => {
  it('packages a build newer than every source', () => {
    const { root, dist } = repo();
    expect(newerSource(dist, root)).toBeNull();
    expect(packageExtension(dist, root, { sourcesRoot: root }).files).toBe(2);
  });

  it('refuses a build older than any source, naming the newest one and the fix', () => {
    const { root, dist } = repo();
    put(join(root, 'core', 'scrub.ts'), 'export const changed = 1;\n', at(20));
    put(join(root, 'models', '2.0.0', 'model.onnx'), 'retrained', at(30));
    expect(newerSource(dist, root)).toEqual({ path: join('models', '2.0.0', 'model.onnx'), mtimeMs: at(30).getTime() });
    expect(() => packageExtension(dist, root, { sourcesRoot: root })).toThrow(StaleBuildError);
    expect(() => packageExtension(dist, root, { sourcesRoot: root })).toThrow(
      `is older than its sources (models/2.0.0/model.onnx changed at ${at(30).toISOString()}, after the build): run npm run build first, or package with --build`,
    );
  });

  it('counts a source changed while the build was writing (between its first and last file) as newer', () => {
    const { root, dist } = repo();
    put(join(root, 'extension', 'content', 'index.ts'), 'edited mid-build', at(10.5));
    expect(newerSource(dist, root)?.path).toBe(join('extension', 'content', 'index.ts'));
  });

  it('ignores files that are not build inputs', () => {
    const { root, dist } = repo();
    put(join(root, 'README.md'), 'edited', at(99));
    put(join(root, 'tests', 'x.test.ts'), '', at(99));
    expect(BUILD_INPUTS).not.toContain('README.md');
    expect(newerSource(dist, root)).toBeNull();
  });

  it('with a rebuild step, rebuilds and packages; refuses if the rebuild left it stale', () => {
    const { root, dist } = repo();
    put(join(root, 'vite.config.ts'), 'changed', at(20));
    let builds = 0;
    const result = packageExtension(dist, root, {
      sourcesRoot: root,
      rebuild: () => {
        builds++;
        put(join(dist, 'manifest.json'), JSON.stringify({ manifest_version: 3, version: '9.9.10', host_permissions: [] }), at(40));
        put(join(dist, 'assets', 'content.js'), '// rebuilt\n', at(41));
      },
    });
    expect(builds).toBe(1);
    expect(result.path).toBe(join(root, 'ytsent-extension-9.9.10.zip'));
    put(join(root, 'vite.config.ts'), 'changed again', at(50));
    expect(() => packageExtension(dist, root, { sourcesRoot: root, rebuild: () => {} })).toThrow(StaleBuildError);
  });
});

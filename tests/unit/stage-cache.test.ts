/**
 * The stage cache's source hash: what makes an edited source re-run its stage. The lexicons in
 * core/data are JSON, and a key that ignored them let an edited lexicon reuse stale features.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { hashSources } from '../../training/cache.js';

describe('hashSources', () => {
  let root: string;
  const write = (path: string, text: string) => writeFileSync(join(root, path), text);
  const hash = () => hashSources(['core'], root);

  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), 'ytsent-hash-'));
    mkdirSync(join(root, 'core', 'data'), { recursive: true });
    write('core/featurize.ts', 'export const x = 1;\n');
    write('core/featurize.test.ts', 'it();\n');
    write('core/data/lexicons.json', '{"good": 3}\n');
    write('core/README.md', 'notes\n');
  });
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  it('changes when a source file or a JSON data file under a listed folder changes', () => {
    const before = hash();
    write('core/data/lexicons.json', '{"good": 2}\n');
    const afterData = hash();
    expect(afterData).not.toBe(before);
    write('core/featurize.ts', 'export const x = 2;\n');
    expect(hash()).not.toBe(afterData);
  });

  it('changes when a data file is added, and ignores tests and other files', () => {
    const before = hash();
    write('core/featurize.test.ts', 'it("changed");\n');
    write('core/README.md', 'other notes\n');
    expect(hash()).toBe(before);
    write('core/data/youtube-slang.json', '{}\n');
    expect(hash()).not.toBe(before);
  });

  it('depends on paths relative to the root, not on where the root is', () => {
    const other = mkdtempSync(join(tmpdir(), 'ytsent-hash-'));
    try {
      mkdirSync(join(other, 'core', 'data'), { recursive: true });
      writeFileSync(join(other, 'core/featurize.ts'), 'export const x = 1;\n');
      writeFileSync(join(other, 'core/data/lexicons.json'), '{"good": 3}\n');
      expect(hashSources(['core'], other)).toBe(hash());
    } finally {
      rmSync(other, { recursive: true, force: true });
    }
  });
});

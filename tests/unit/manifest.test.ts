import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { compareSemver, ManifestError, parseManifest } from '../../core/manifest.js';
import { defaultModelDir } from '../../node-runtime/bundle.js';

const committed = (): Record<string, unknown> => JSON.parse(readFileSync(join(defaultModelDir(), 'manifest.json'), 'utf8'));

describe('model manifest schema', () => {
  it('accepts the committed manifest', () => {
    const m = parseManifest(committed());
    expect(m.format).toBe('ngram-onnx');
    expect(m.labels).toEqual(['negative', 'neutral', 'positive']);
    expect(m.golden.length).toBeGreaterThanOrEqual(16);
    expect(m.reference?.token_hist.counts.length).toBe(256);
  });

  it('names every failing field', () => {
    const bad = { ...committed(), version: 'v1', labels: ['pos', 'neg', 'neu'], files: [{ path: '../etc/passwd', sha256: 'xyz', bytes: -1 }] };
    try {
      parseManifest(bad);
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(ManifestError);
      const paths = (err as ManifestError).issues.map((i) => i.path);
      expect(paths).toEqual(expect.arrayContaining(['version', 'labels.0', 'files.0.path', 'files.0.sha256', 'files.0.bytes']));
    }
  });

  it('rejects a model file missing from files, and duplicate files', () => {
    const m = committed() as { files: Array<{ path: string }>; model: { file: string } };
    expect(() => parseManifest({ ...m, model: { ...m.model, file: 'other.onnx' } })).toThrow(/model.file other.onnx is not in files/);
    expect(() => parseManifest({ ...m, files: [...m.files, ...m.files] })).toThrow(/duplicate file/);
  });

  it('takes per-language temperatures within the range calibration fits, and refuses others', () => {
    const m = committed() as { confidence: Record<string, unknown> };
    const withTemps = (language_temperatures: unknown) => ({ ...m, confidence: { ...m.confidence, language_temperatures } });
    expect(parseManifest(withTemps({ hi: 2.4, de: 0.9 })).confidence?.language_temperatures).toEqual({ hi: 2.4, de: 0.9 });
    expect(() => parseManifest(withTemps({ hi: 0 }))).toThrow(/confidence.language_temperatures.hi/);
    expect(() => parseManifest(withTemps({ hi: 20 }))).toThrow(/confidence.language_temperatures.hi/);
    expect(() => parseManifest(withTemps({ x: 2 }))).toThrow(/confidence.language_temperatures/);
  });

  it('orders semantic versions', () => {
    expect(['1.10.0', '1.2.0', '1.2.0-rc.1', '0.9.9'].sort(compareSemver)).toEqual(['0.9.9', '1.2.0-rc.1', '1.2.0', '1.10.0']);
    expect(() => compareSemver('1.0', '1.0.0')).toThrow(/not a semantic version/);
  });
});

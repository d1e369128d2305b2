/**
 * Every committed model bundle, checked with the real onnxruntime builds that ship: onnxruntime-node
 * (CLIs) and onnxruntime-web WASM (the extension), against an independent TypeScript forward pass
 * over the weights read back out of model.onnx.
 */
import { copyFileSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import onnxProto from 'onnx-proto';
import * as ortNode from 'onnxruntime-node';
import * as ortWeb from 'onnxruntime-web';
import { beforeAll, describe, expect, it } from 'vitest';
import { featurize } from '../../core/featurize.js';
import type { NgramOnnxManifest } from '../../core/manifest.js';
import { checkGolden, NgramScorer, type OrtModule } from '../../core/scorer.js';
import { loadBundle, MODELS_DIR } from '../../node-runtime/bundle.js';
import { compareProbs } from '../../model-export/parity.js';
import { predictProbs } from '../../training/softmax.js';

const VERSIONS = readdirSync(MODELS_DIR).filter((v) => existsSync(join(MODELS_DIR, v, 'manifest.json')));

/** Weights straight from the ONNX initializers, dequantized: W[v, k] = (byte k of packed[v] − 128) · scale[k]. */
function weightsFromOnnx(bytes: Uint8Array): { weights: Float32Array; bias: Float32Array } {
  const model = onnxProto.onnx.ModelProto.decode(bytes);
  const init = (name: string) => model.graph!.initializer!.find((t) => t.name === name)!;
  const raw = (name: string) => init(name).rawData!.slice().buffer;
  const packed = new Uint32Array(raw('W_packed'));
  const scale = new Float32Array(raw('W_scale'));
  const weights = new Float32Array(packed.length * 3);
  for (let v = 0; v < packed.length; v++) {
    for (let k = 0; k < 3; k++) weights[v * 3 + k] = Math.fround((((packed[v]! >>> (8 * k)) & 0xff) - 128) * scale[k]!);
  }
  return { weights, bias: new Float32Array(raw('bias')) };
}

describe.each(VERSIONS)('committed model bundle %s', (version) => {
  const dir = join(MODELS_DIR, version);
  let manifest: NgramOnnxManifest;
  let onnxBytes: Uint8Array;
  let langidBytes: Uint8Array | undefined;
  let texts: string[];

  beforeAll(() => {
    const bundle = loadBundle(dir);
    manifest = bundle.manifest as NgramOnnxManifest;
    onnxBytes = bundle.files.get(manifest.model.file)!;
    langidBytes = manifest.languages ? bundle.files.get(manifest.languages.langid.file) : undefined;
    // 1,200 committed texts (tests/fixtures/texts.jsonl: TweetEval validation tweets, YouTube and
    // UMSAB comments) plus the golden examples.
    texts = readFileSync(fileURLToPath(new URL('../fixtures/texts.jsonl', import.meta.url)), 'utf8')
      .trim()
      .split('\n')
      .map((l) => (JSON.parse(l) as { text: string }).text);
  });

  const create = (ort: OrtModule, m: NgramOnnxManifest = manifest): Promise<NgramScorer> => NgramScorer.create(ort, m, onnxBytes, undefined, langidBytes);

  async function probsWith(ort: OrtModule): Promise<Float32Array> {
    const scorer = await create(ort);
    const out = new Float32Array(texts.length * 3);
    for (let i = 0; i < texts.length; i += 64) out.set(await scorer.probs(texts.slice(i, i + 64)), i * 3);
    await scorer.release();
    return out;
  }

  it('is small and declares its inputs', () => {
    expect(onnxBytes.byteLength).toBeLessThanOrEqual(4 * 1024 * 1024);
    expect(manifest.model.inputs.map((i) => i.name)).toEqual(['feature_ids', 'feature_values', 'feature_rows', 'row_lengths']);
  });

  it('agrees with the TypeScript forward pass on onnxruntime-node and onnxruntime-web (max |Δp| ≤ 1e-3, argmax ≥ 99.9%)', async () => {
    const reference = predictProbs(
      weightsFromOnnx(onnxBytes),
      texts.map((t) => featurize(t, manifest.featurizer.config)),
    );
    ortWeb.env.wasm.numThreads = 1;
    for (const [name, ort] of [
      ['node', ortNode],
      ['web', ortWeb],
    ] as const) {
      const parity = compareProbs(name, reference, await probsWith(ort as unknown as OrtModule));
      expect(parity.max_abs_diff).toBeLessThanOrEqual(1e-3);
      expect(parity.argmax_agreement).toBeGreaterThanOrEqual(0.999);
    }
  });

  it('reproduces its golden examples on both runtimes', async () => {
    for (const ort of [ortNode, ortWeb]) {
      const scorer = await create(ort as unknown as OrtModule);
      const check = checkGolden(manifest.golden, await scorer.probs(manifest.golden.map((g) => g.text)), manifest.golden_tolerance);
      expect(check.failures).toEqual([]);
      expect(check.ok).toBe(true);
      await scorer.release();
    }
  });

  it('fails the golden check when the runtime is fed different features', async () => {
    const wrong = { ...manifest, featurizer: { ...manifest.featurizer, config: { ...manifest.featurizer.config, seed: 1 } } };
    const scorer = await create(ortNode as unknown as OrtModule, wrong);
    const check = checkGolden(manifest.golden, await scorer.probs(manifest.golden.map((g) => g.text)), manifest.golden_tolerance);
    expect(check.ok).toBe(false);
    expect(check.failures.length).toBeGreaterThan(0);
  });

  it('refuses a corrupted or truncated model file', () => {
    const copy = mkdtempSync(join(tmpdir(), 'ytsent-bundle-'));
    copyFileSync(join(dir, 'manifest.json'), join(copy, 'manifest.json'));
    const corrupted = Buffer.from(onnxBytes);
    const middle = corrupted.length >> 1;
    corrupted[middle] = corrupted[middle]! ^ 0xff;
    writeFileSync(join(copy, 'model.onnx'), corrupted);
    expect(() => loadBundle(copy)).toThrow(/sha256 .* does not match manifest/);
    writeFileSync(join(copy, 'model.onnx'), corrupted.subarray(0, 1000));
    expect(() => loadBundle(copy)).toThrow(/is 1000 bytes, manifest says/);
    rmSync(copy, { recursive: true, force: true });
  });

  it('refuses to run with a featurizer other than the one it was trained with', async () => {
    const other = { ...manifest, featurizer: { ...manifest.featurizer, id: 'ytsent-hashed-ngrams/v9+norm9' } };
    await expect(create(ortNode as unknown as OrtModule, other)).rejects.toThrow(/needs featurizer ytsent-hashed-ngrams\/v9\+norm9/);
  });
});

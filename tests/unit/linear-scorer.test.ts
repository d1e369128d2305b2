/**
 * The onnxruntime-free scorer (core/linear-scorer.ts, what POST /v1/predict serves with) against
 * onnxruntime-node on every committed bundle: the weights it reads out of model.onnx are the ones
 * onnx-proto decodes, and its predictions are NgramScorer's (probabilities within 1e-5, same
 * languages, same labels and low-confidence flags wherever the float32/float64 rounding cannot
 * decide a tie).
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import onnxProto from 'onnx-proto';
import * as ortNode from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { LinearScorer } from '../../core/linear-scorer.js';
import { dequantizePacked, forwardInto, forwardPacked3Into, NUM_CLASSES } from '../../core/linear.js';
import { rng } from '../../core/random.js';
import type { NgramOnnxManifest } from '../../core/manifest.js';
import { decodeNgramOnnx, OnnxFormatError } from '../../core/onnx-weights.js';
import { applyLanguageTemperatures, checkGolden, NgramScorer, type OrtModule } from '../../core/scorer.js';
import { buildOnnxModel } from '../../model-export/onnx-graph.js';
import { dequantize, quantizeInt8 } from '../../model-export/quantize.js';
import { loadBundle, MODELS_DIR } from '../../node-runtime/bundle.js';

const VERSIONS = readdirSync(MODELS_DIR).filter((v) => existsSync(join(MODELS_DIR, v, 'manifest.json')));

const TEXTS = readFileSync(fileURLToPath(new URL('../fixtures/texts.jsonl', import.meta.url)), 'utf8')
  .trim()
  .split('\n')
  .map((l) => (JSON.parse(l) as { text: string }).text);

describe.each(VERSIONS)('LinearScorer on committed bundle %s', (version) => {
  const bundle = loadBundle(join(MODELS_DIR, version));
  const manifest = bundle.manifest as NgramOnnxManifest;
  const onnxBytes = bundle.files.get(manifest.model.file)!;
  const langidBytes = manifest.languages ? bundle.files.get(manifest.languages.langid.file) : undefined;

  it('reads exactly the weights onnx-proto decodes from model.onnx', () => {
    const decoded = decodeNgramOnnx(onnxBytes, { buckets: manifest.featurizer.config.buckets, classes: NUM_CLASSES });
    const model = onnxProto.onnx.ModelProto.decode(onnxBytes);
    const raw = (name: string) => model.graph!.initializer!.find((t) => t.name === name)!.rawData!.slice().buffer;
    const packed = new Uint32Array(raw('W_packed'));
    const scale = new Float32Array(raw('W_scale'));
    expect(decoded.weights.length).toBe(packed.length * 3);
    let mismatches = 0;
    for (let v = 0; v < packed.length; v++) {
      for (let k = 0; k < 3; k++) if (decoded.weights[v * 3 + k] !== Math.fround((((packed[v]! >>> (8 * k)) & 0xff) - 128) * scale[k]!)) mismatches++;
    }
    expect(mismatches).toBe(0);
    expect([...decoded.bias]).toEqual([...new Float32Array(raw('bias'))]);
  });

  it('predicts what onnxruntime-node predicts on 1,200 fixture texts and the golden examples', async () => {
    const texts = [...TEXTS, ...manifest.golden.map((g) => g.text)];
    const linear = LinearScorer.create(manifest, onnxBytes, langidBytes);
    const ort = await NgramScorer.create(ortNode as unknown as OrtModule, manifest, onnxBytes, undefined, langidBytes);
    const threshold = manifest.confidence?.low_threshold ?? 0.5;
    let maxDiff = 0;
    for (let i = 0; i < texts.length; i += 64) {
      const batch = texts.slice(i, i + 64);
      const [a, b] = [linear.predict(batch), await ort.predict(batch)];
      a.forEach((p, j) => {
        const q = b[j]!;
        for (let k = 0; k < 3; k++) maxDiff = Math.max(maxDiff, Math.abs(p.probs[k]! - q.probs[k]!));
        expect(p.lang, batch[j]).toBe(q.lang);
        expect(p.supported).toBe(q.supported);
        const sorted = [...q.probs].sort((x, y) => y - x);
        if (sorted[0]! - sorted[1]! > 1e-5) expect(p.label, batch[j]).toBe(q.label);
        if (Math.abs(q.score - threshold) > 1e-5) expect(p.low_confidence).toBe(q.low_confidence);
      });
    }
    await ort.release();
    expect(maxDiff).toBeLessThanOrEqual(1e-5);
  });

  it('reproduces the golden examples within the manifest tolerance', () => {
    const linear = LinearScorer.create(manifest, onnxBytes, langidBytes);
    const check = checkGolden(manifest.golden, linear.probs(manifest.golden.map((g) => g.text)), manifest.golden_tolerance);
    expect(check.failures).toEqual([]);
    expect(check.ok).toBe(true);
  });

  it('scores a batch exactly as it scores each text alone', () => {
    const linear = LinearScorer.create(manifest, onnxBytes, langidBytes);
    const texts = TEXTS.slice(0, 40);
    const together = linear.predict(texts);
    texts.forEach((t, i) => expect(linear.predict([t])[0]).toEqual(together[i]));
  });

  it('calibrates each text for its language in score() and predict(), never in probs(), and keeps every label', () => {
    const linear = LinearScorer.create(manifest, onnxBytes, langidBytes);
    const texts = [...TEXTS.slice(0, 300), 'bhai kya video banaya hai, maza aa gaya', 'yaar ye bilkul bakwas hai', 'Das Video ist leider ziemlich langweilig'];
    const raw = linear.probs(texts);
    const { probs, langs } = linear.score(texts);
    const temperatures = manifest.confidence?.language_temperatures ?? {};
    let calibrated = 0;
    langs.forEach((guess, i) => {
      const p = Array.from(raw.subarray(i * 3, i * 3 + 3));
      const q = Array.from(probs.subarray(i * 3, i * 3 + 3));
      const t = temperatures[guess.lang];
      // softmax(z / t) from softmax(z): p^(1/t), renormalized
      const expected = t === undefined ? p : p.map((x) => x ** (1 / t) / p.reduce((a, y) => a + y ** (1 / t), 0));
      q.forEach((x, k) => expect(x).toBeCloseTo(expected[k]!, 6));
      expect(q.indexOf(Math.max(...q))).toBe(p.indexOf(Math.max(...p)));
      if (t !== undefined && t !== 1) calibrated++;
    });
    if (temperatures.hi !== undefined) {
      // The romanized-Hindi texts are identified as such and come out less sure than the graph says.
      const hindi = langs.flatMap((g, i) => (g.lang === 'hi' ? [i] : []));
      expect(hindi.length).toBeGreaterThanOrEqual(2);
      expect(calibrated).toBeGreaterThanOrEqual(hindi.length);
      if (temperatures.hi > 1) for (const i of hindi) expect(Math.max(...probs.subarray(i * 3, i * 3 + 3))).toBeLessThan(Math.max(...raw.subarray(i * 3, i * 3 + 3)));
    } else expect(calibrated).toBe(0);
  });

  it('refuses a model file whose graph does not match the manifest', () => {
    expect(() => decodeNgramOnnx(onnxBytes, { buckets: manifest.featurizer.config.buckets * 2, classes: 3 })).toThrow(/W_packed has shape/);
    expect(() => decodeNgramOnnx(onnxBytes.subarray(0, onnxBytes.byteLength - 100), { buckets: manifest.featurizer.config.buckets, classes: 3 })).toThrow(OnnxFormatError);
    expect(() => decodeNgramOnnx(new TextEncoder().encode('not a model'), { buckets: 8, classes: 3 })).toThrow(OnnxFormatError);
    if (manifest.languages) expect(() => LinearScorer.create(manifest, onnxBytes)).toThrow(/lacks its language classifier/);
  });
});

describe('applyLanguageTemperatures', () => {
  const softmax = (z: number[]) => z.map((x) => Math.exp(x) / z.reduce((a, y) => a + Math.exp(y), 0));
  it('turns softmax(z) into softmax(z / t) for the texts of a language with a temperature, and leaves the rest', () => {
    const z = [
      [2, 0.5, -1],
      [-0.3, 0.1, 1.7],
      [1, 1, 0],
    ];
    const probs = Float32Array.from(z.flatMap(softmax));
    const langs = [
      { lang: 'hi', supported: true },
      { lang: 'en', supported: true },
      { lang: 'de', supported: true },
    ];
    applyLanguageTemperatures(probs, langs, { hi: 2.5, de: 0.5 });
    const want = [softmax(z[0]!.map((x) => x / 2.5)), softmax(z[1]!), softmax(z[2]!.map((x) => x / 0.5))].flat();
    [...probs].forEach((p, i) => expect(p).toBeCloseTo(want[i]!, 6));
    // ties stay ties, and the label never moves
    expect(probs[6]).toBeCloseTo(probs[7]!, 6);
    const untouched = Float32Array.from(z.flatMap(softmax));
    expect(applyLanguageTemperatures(untouched, langs, undefined)).toEqual(Float32Array.from(z.flatMap(softmax)));
  });
});

describe('decodeNgramOnnx on the graph model-export writes', () => {
  it('reads back the weights and bias of a freshly exported small model (so a change to the graph cannot go unnoticed here)', () => {
    const buckets = 64;
    let x = 12345;
    const weights = Float32Array.from({ length: buckets * 3 }, () => {
      x = (Math.imul(x, 1103515245) + 12345) >>> 0;
      return (x / 2 ** 32 - 0.5) * 4;
    });
    const quantized = quantizeInt8(weights, 3);
    const bias = Float32Array.from([0.25, -0.5, 0.125]);
    const bytes = buildOnnxModel({ weights: quantized, bias, modelVersion: '0.0.1', docString: 'test' });
    const decoded = decodeNgramOnnx(bytes, { buckets, classes: 3 });
    expect([...decoded.weights]).toEqual([...dequantize(quantized)]);
    expect([...decoded.bias]).toEqual([...bias]);
  });
});

describe('forwardPacked3Into', () => {
  it('gives forwardInto over the dequantized weights, to the bit, on random packed models and rows', () => {
    const rand = rng(31);
    for (let trial = 0; trial < 5; trial++) {
      const rows = 5000;
      const packed = Uint32Array.from({ length: rows }, () => Math.floor(rand() * 2 ** 24));
      const model = { packed, scales: Float32Array.from({ length: 3 }, () => 1e-3 + rand() * 0.05), bias: Float32Array.from({ length: 3 }, () => rand() - 0.5) };
      const plain = dequantizePacked(model);
      for (let r = 0; r < 200; r++) {
        const n = Math.floor(rand() * 60);
        const ids = Int32Array.from({ length: n }, () => Math.floor(rand() * rows));
        const values = Float32Array.from({ length: n }, () => rand() * 2);
        const a = new Float64Array(3);
        const b = new Float64Array(3);
        forwardPacked3Into(model, ids, values, a, 0, n);
        forwardInto(plain.weights, plain.bias, ids, values, b, 0, n);
        for (let k = 0; k < 3; k++) if (!Object.is(a[k], b[k])) expect([trial, r, k, a[k]]).toEqual([trial, r, k, b[k]]);
      }
    }
  });

  it('refuses a model that does not have three classes', () => {
    const model = { packed: new Uint32Array(4), scales: new Float32Array(2), bias: new Float32Array(2) };
    expect(() => forwardPacked3Into(model, [0], [1], new Float64Array(2), 0, 1)).toThrow(/3-class/);
  });
});

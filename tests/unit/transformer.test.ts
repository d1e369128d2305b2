/**
 * Random-weight transformer bundles (model-export/transformer-bundle.ts) and their scorer
 * (core/hf-scorer.ts): the tiny preset is generated into a temp dir and checked as the extension
 * will use it — manifest, hashes, tokenizer, onnxruntime-node and onnxruntime-web (wasm) — and
 * against an independent TypeScript DistilBERT forward pass over the same int8 weights.
 */
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import onnxProto from 'onnx-proto';
import * as ortNode from 'onnxruntime-node';
import * as ortWeb from 'onnxruntime-web';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { goldenProbs, HfTextClassifier, type HfOrtModule } from '../../core/hf-scorer.js';
import { LABELS, labelIndex } from '../../core/labels.js';
import { parseManifest, type HfTextClassificationManifest } from '../../core/manifest.js';
import { checkGolden, NgramScorer } from '../../core/scorer.js';
import { createTextScorer, type AnyOrtModule } from '../../core/text-scorer.js';
import { defaultModelDir, loadBundle, sha256Hex } from '../../node-runtime/bundle.js';
import { buildTransformerBundle, MODEL_FILE, TRANSFORMER_PRESETS, writeTransformerBundle, type TransformerBundle } from '../../model-export/transformer-bundle.js';
import { ReferenceDistilBert } from '../../model-export/transformer-reference.js';

const node = ortNode as unknown as HfOrtModule;
const web = ortWeb as unknown as HfOrtModule;
const SINGLE_THREAD = { intraOpNumThreads: 1, interOpNumThreads: 1 } as const;
const CREATED_AT = '2026-01-01T00:00:00.000Z';
const preset = TRANSFORMER_PRESETS.tiny;

let dir: string;
let bundle: TransformerBundle;
let manifest: HfTextClassificationManifest;
let files: Map<string, Uint8Array>;
/** Golden texts plus real YouTube comments of every length. */
let texts: string[];

/** Folders this file creates, removed when it ends. */
const temporary: string[] = [];
afterAll(() => {
  for (const d of temporary) rmSync(d, { recursive: true, force: true });
});

beforeAll(async () => {
  ortWeb.env.wasm.numThreads = 1;
  dir = mkdtempSync(join(tmpdir(), 'ytsent-transformer-'));
  temporary.push(dir);
  bundle = await writeTransformerBundle(dir, { preset: 'tiny', seed: 0, createdAt: CREATED_AT });
  const loaded = loadBundle(dir);
  manifest = loaded.manifest as HfTextClassificationManifest;
  files = loaded.files;
  // 40 YouTube comments from the committed fixture texts (tests/fixtures/README.md).
  const comments = readFileSync(new URL('../fixtures/texts.jsonl', import.meta.url), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as { text: string; source: string })
    .filter((r) => r.source === 'youtube')
    .slice(0, 40);
  texts = [...manifest.golden.map((g) => g.text), ...comments.map((r) => r.text)];
});

function softmax(logits: ArrayLike<number>): number[] {
  const max = Math.max(...Array.from(logits));
  const e = Array.from(logits, (v) => Math.exp(v - max));
  const sum = e.reduce((a, b) => a + b, 0);
  return e.map((v) => v / sum);
}

/** Per-row max |Δp| between two [n, 3] probability arrays. */
function rowDiffs(a: ArrayLike<number>, b: ArrayLike<number>): number[] {
  const out: number[] = [];
  for (let i = 0; i < a.length; i += 3) out.push(Math.max(...[0, 1, 2].map((k) => Math.abs(a[i + k]! - b[i + k]!))));
  return out;
}

/**
 * Dynamic int8 quantization rounds each activation tensor with one scale: float paths that differ
 * in the last bit (runtimes, float64 reference) leave almost every text identical to ~1e-7 but
 * now and then flip one rounding step, which moves that text's probabilities by up to a few 1e-3.
 * Equal runs must therefore be equal almost everywhere and within the golden tolerance everywhere;
 * a real difference (another model, a lost attention mask, a different tokenizer) breaks both.
 */
function expectSameModel(diffs: number[], tolerance: number): void {
  expect(Math.max(...diffs)).toBeLessThanOrEqual(tolerance);
  expect(diffs.filter((d) => d <= 1e-5).length / diffs.length).toBeGreaterThanOrEqual(0.9);
}

describe('tiny transformer bundle', () => {
  it('is a transformers.js-layout bundle whose manifest parses and whose sha256s verify', () => {
    expect([...files.keys()].sort()).toEqual(['config.json', MODEL_FILE, 'tokenizer.json', 'tokenizer_config.json'].sort());
    expect(parseManifest(JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')))).toEqual(manifest);
    for (const f of manifest.files) {
      const bytes = readFileSync(join(dir, f.path));
      expect(sha256Hex(bytes)).toBe(f.sha256);
      expect(bytes.byteLength).toBe(f.bytes);
    }
    expect(manifest).toMatchObject({
      format: 'hf-text-classification',
      labels: [...LABELS],
      model: { file: MODEL_FILE, tokenizer: 'tokenizer.json', tokenizer_config: 'tokenizer_config.json', max_length: 64 },
      golden_tolerance: preset.golden_tolerance,
    });
    expect(manifest.golden.length).toBeGreaterThanOrEqual(18);
    // A few hundred KB, so it can ride along in tests and the extension's e2e fixtures.
    expect(files.get(MODEL_FILE)!.byteLength).toBeLessThan(300_000);

    const config = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8')) as Record<string, unknown>;
    expect(config).toMatchObject({
      model_type: 'distilbert',
      architectures: ['DistilBertForSequenceClassification'],
      vocab_size: 2048,
      dim: 32,
      n_layers: 2,
      n_heads: 2,
      hidden_dim: 64,
      max_position_embeddings: 64,
      id2label: { 0: 'negative', 1: 'neutral', 2: 'positive' },
      label2id: { negative: 0, neutral: 1, positive: 2 },
    });
    expect(Object.keys(JSON.parse(readFileSync(join(dir, 'tokenizer.json'), 'utf8')).model.vocab)).toHaveLength(2048);
  });

  it('is int8 the way quantize_dynamic writes it: DynamicQuantizeLinear + MatMulInteger for every linear layer', () => {
    const model = onnxProto.onnx.ModelProto.decode(files.get(MODEL_FILE)!);
    const graph = model.graph!;
    const init = new Map(graph.initializer!.map((t) => [t.name!, t]));
    const ops = (type: string) => graph.node!.filter((n) => n.opType === type);
    const INT8 = onnxProto.onnx.TensorProto.DataType.INT8;
    // Per layer q/k/v/out/lin1/lin2, plus pre_classifier and classifier.
    expect(ops('MatMulInteger')).toHaveLength(preset.n_layers * 6 + 2);
    for (const n of ops('MatMulInteger')) {
      expect(init.get(n.input![1]!)?.dataType).toBe(INT8);
      expect(graph.node!.find((p) => p.output!.includes(n.input![0]!))?.opType).toBe('DynamicQuantizeLinear');
    }
    // q, k and v share one quantized input: 4 per layer (x, context, sa, gelu) + 2 in the head.
    expect(ops('DynamicQuantizeLinear')).toHaveLength(preset.n_layers * 4 + 2);
    // Float MatMuls are the two activation products per layer only: no float weight matrix left.
    expect(ops('MatMul')).toHaveLength(preset.n_layers * 2);
    for (const n of ops('MatMul')) expect(n.input!.some((i) => init.has(i))).toBe(false);
    // Embeddings: int8 tables gathered, then dequantized.
    expect(ops('Gather').filter((n) => init.get(n.input![0]!)?.dataType === INT8)).toHaveLength(2);
    expect(ops('DequantizeLinear')).toHaveLength(2);
    expect(ops('LayerNormalization')).toHaveLength(1 + 2 * preset.n_layers);
    expect(ops('Erf')).toHaveLength(preset.n_layers);
    expect(ops('Softmax')).toHaveLength(preset.n_layers);
    expect(graph.input!.map((i) => [i.name, i.type!.tensorType!.elemType])).toEqual([
      ['input_ids', onnxProto.onnx.TensorProto.DataType.INT64],
      ['attention_mask', onnxProto.onnx.TensorProto.DataType.INT64],
    ]);
    expect(graph.output!.map((o) => o.name)).toEqual(['logits']);
    const floatBytes = graph.initializer!.filter((t) => t.dataType === onnxProto.onnx.TensorProto.DataType.FLOAT).reduce((s, t) => s + t.rawData!.byteLength, 0);
    expect(floatBytes / files.get(MODEL_FILE)!.byteLength).toBeLessThan(0.1);
  });

  it('reproduces its golden examples on onnxruntime-node and onnxruntime-web, which agree with each other', async () => {
    const probs: Float32Array[] = [];
    for (const ort of [node, web]) {
      const scorer = await HfTextClassifier.create(ort, manifest, files, SINGLE_THREAD);
      const check = checkGolden(
        manifest.golden,
        await goldenProbs(
          scorer,
          manifest.golden.map((g) => g.text),
        ),
        manifest.golden_tolerance,
      );
      expect(check.failures).toEqual([]);
      expect(check.ok).toBe(true);
      probs.push(await goldenProbs(scorer, texts));
      await scorer.release();
    }
    // Node computed the goldens, so it matches them to their 7 decimals.
    expect(checkGolden(manifest.golden, probs[0]!, 1e-6).ok).toBe(true);
    expect(bundle.web_check.ok).toBe(true);
    expectSameModel(rowDiffs(probs[0]!, probs[1]!), manifest.golden_tolerance);
  });

  it('computes DistilBERT: onnxruntime matches an independent TypeScript forward pass, padding and mask included', async () => {
    const scorer = await HfTextClassifier.create(node, manifest, files, SINGLE_THREAD);
    const reference = new ReferenceDistilBert(files.get(MODEL_FILE)!, { ...preset, num_labels: 3 });
    const single = await goldenProbs(scorer, texts);
    const expected = texts.flatMap((t) => {
      const ids = scorer.encode(t).ids;
      return softmax(
        reference.logits(
          ids,
          ids.map(() => 1),
          1,
          ids.length,
        ),
      );
    });
    expectSameModel(rowDiffs(single, expected), manifest.golden_tolerance);

    // One padded batch: rows of different lengths, attention_mask 0 on the padding.
    const batch = texts.slice(0, 16);
    const rows = batch.map((t) => scorer.encode(t).ids);
    const seq = Math.max(...rows.map((r) => r.length));
    const padded = rows.flatMap((r) => Array.from({ length: seq }, (_, j) => r[j] ?? 0));
    const mask = rows.flatMap((r) => Array.from({ length: seq }, (_, j) => (j < r.length ? 1 : 0)));
    const logits = reference.logits(padded, mask, batch.length, seq);
    const batchExpected = batch.flatMap((_, i) => softmax(logits.subarray(i * 3, i * 3 + 3)));
    expectSameModel(rowDiffs(await scorer.probs(batch), batchExpected), manifest.golden_tolerance);
    // Without the mask the padding would be attended to: the reference then disagrees visibly.
    const unmasked = reference.logits(
      padded,
      mask.map(() => 1),
      batch.length,
      seq,
    );
    const unmaskedProbs = batch.flatMap((_, i) => softmax(unmasked.subarray(i * 3, i * 3 + 3)));
    expect(Math.max(...rowDiffs(await scorer.probs(batch), unmaskedProbs))).toBeGreaterThan(manifest.golden_tolerance);
    await scorer.release();
  });

  it('tokenizes as uncased BERT WordPiece: lowercasing, accents stripped, ## pieces, [UNK], [CLS]/[SEP], truncation', async () => {
    const scorer = await HfTextClassifier.create(node, manifest, files);
    const vocab = (JSON.parse(new TextDecoder().decode(files.get('tokenizer.json'))) as { model: { vocab: Record<string, number> } }).model.vocab;
    const cases: Array<[string, string[]]> = [
      ['I LOVED playing this!!', ['[CLS]', 'i', 'loved', 'play', '##ing', 'this', '!', '!', '[SEP]']],
      ['Thankfulness', ['[CLS]', 'thank', '##ful', '##ness', '[SEP]']],
      ['Naïve café', ['[CLS]', 'n', '##a', '##ive', 'c', '##a', '##f', '##e', '[SEP]']],
      ['😀 日本', ['[CLS]', '[UNK]', '[UNK]', '[UNK]', '[SEP]']],
      ['   ', ['[CLS]', '[SEP]']],
    ];
    for (const [text, tokens] of cases) {
      const encoded = scorer.encode(text);
      expect(encoded.tokens, text).toEqual(tokens);
      expect(encoded.ids, text).toEqual(tokens.map((t) => vocab[t]));
    }
    // Fixed ids: specials first, then printable ASCII from '!' (5); 'a' follows the 38 symbols and digits.
    expect(scorer.encode('a!').ids).toEqual([2, 43, 5, 3]);
    expect(scorer.encode('😀').ids).toEqual([2, 1, 3]);

    // Truncation keeps [SEP] and the first max_length - 2 text tokens.
    const long = 'video '.repeat(100) + 'end';
    const encoded = scorer.encode(long);
    expect(encoded.ids).toHaveLength(manifest.model.max_length);
    expect(encoded.tokens[0]).toBe('[CLS]');
    expect(encoded.tokens.at(-1)).toBe('[SEP]');
    expect(encoded.tokens.slice(1, -1)).toEqual(new Array(manifest.model.max_length - 2).fill('video'));
    // A text at the limit scores, so the graph's position table covers max_length.
    expect(await scorer.probs([long, 'short'])).toHaveLength(6);
    await scorer.release();
  });

  it('maps output columns to labels through id2label', async () => {
    const permuted = await buildTransformerBundle({ preset: 'tiny', seed: 0, createdAt: CREATED_AT, labelOrder: ['positive', 'negative', 'neutral'] });
    // Same weights, so the same logits; only the column names differ.
    expect(sha256Hex(permuted.files.get(MODEL_FILE)!)).toBe(sha256Hex(files.get(MODEL_FILE)!));
    expect(permuted.manifest.model.id2label).toEqual({ 0: 'positive', 1: 'negative', 2: 'neutral' });
    expect(JSON.parse(new TextDecoder().decode(permuted.files.get('config.json'))).id2label).toEqual({ 0: 'positive', 1: 'negative', 2: 'neutral' });
    const a = await HfTextClassifier.create(node, manifest, files, SINGLE_THREAD);
    const b = await HfTextClassifier.create(node, permuted.manifest, permuted.files, SINGLE_THREAD);
    const sample = texts.slice(0, 8);
    const pa = await a.probs(sample);
    const pb = await b.probs(sample);
    for (let i = 0; i < sample.length; i++) {
      (['positive', 'negative', 'neutral'] as const).forEach((label, col) => {
        // Column `col` is LABELS[col] in the original bundle and `label` in the permuted one.
        expect(pb[i * 3 + labelIndex(label)]).toBe(pa[i * 3 + col]);
      });
    }
    await Promise.all([a.release(), b.release()]);
  });

  it('is deterministic in its seed', async () => {
    const again = await buildTransformerBundle({ preset: 'tiny', seed: 0, createdAt: CREATED_AT });
    for (const [path, bytes] of files) expect(sha256Hex(again.files.get(path)!), path).toBe(sha256Hex(bytes));
    expect(again.manifest).toEqual(manifest);

    const other = await buildTransformerBundle({ preset: 'tiny', seed: 1, createdAt: CREATED_AT });
    expect(sha256Hex(other.files.get(MODEL_FILE)!)).not.toBe(sha256Hex(files.get(MODEL_FILE)!));
    expect(sha256Hex(other.files.get('tokenizer.json')!)).toBe(sha256Hex(files.get('tokenizer.json')!));
    // Another seed is another model: the first bundle's golden check rejects it.
    const scorer = await HfTextClassifier.create(node, manifest, other.files, SINGLE_THREAD);
    expect(
      checkGolden(
        manifest.golden,
        await goldenProbs(
          scorer,
          manifest.golden.map((g) => g.text),
        ),
        manifest.golden_tolerance,
      ).ok,
    ).toBe(false);
    await scorer.release();
  });

  it('detects a corrupted or mismatched model file and a swapped tokenizer', async () => {
    const copy = mkdtempSync(join(tmpdir(), 'ytsent-transformer-bad-'));
    temporary.push(copy);
    mkdirSync(join(copy, 'onnx'));
    for (const f of manifest.files) copyFileSync(join(dir, f.path), join(copy, f.path));
    copyFileSync(join(dir, 'manifest.json'), join(copy, 'manifest.json'));
    expect(loadBundle(copy).files.size).toBe(4);

    const corrupted = Buffer.from(files.get(MODEL_FILE)!);
    corrupted[corrupted.length >> 1]! ^= 0xff;
    writeFileSync(join(copy, MODEL_FILE), corrupted);
    expect(() => loadBundle(copy)).toThrow(/onnx\/model_quantized\.onnx sha256 .* does not match manifest/);

    // A manifest naming another model's hash is caught the same way.
    copyFileSync(join(dir, MODEL_FILE), join(copy, MODEL_FILE));
    const wrongSha = { ...manifest, files: manifest.files.map((f) => (f.path === MODEL_FILE ? { ...f, sha256: 'a'.repeat(64) } : f)) };
    writeFileSync(join(copy, 'manifest.json'), JSON.stringify(wrongSha));
    expect(() => loadBundle(copy)).toThrow(/sha256 .* does not match manifest a{64}/);

    // Bytes that skip verification still cannot load as a model.
    const truncated = new Map(files).set(MODEL_FILE, files.get(MODEL_FILE)!.subarray(0, 5000));
    await expect(HfTextClassifier.create(node, manifest, truncated)).rejects.toThrow();

    // A cased tokenizer in place of the uncased one changes what the model sees: the golden check fails.
    const tokenizer = JSON.parse(new TextDecoder().decode(files.get('tokenizer.json'))) as { normalizer: { lowercase: boolean } };
    tokenizer.normalizer.lowercase = false;
    const swapped = new Map(files).set('tokenizer.json', new TextEncoder().encode(JSON.stringify(tokenizer)));
    const scorer = await HfTextClassifier.create(node, manifest, swapped, SINGLE_THREAD);
    const check = checkGolden(
      manifest.golden,
      await goldenProbs(
        scorer,
        manifest.golden.map((g) => g.text),
      ),
      manifest.golden_tolerance,
    );
    expect(check.ok).toBe(false);
    expect(check.failures.map((f) => f.text)).toContain('AMAZING tutorial, subscribed!');
    await scorer.release();
  });

  it('the manifest schema requires the tokenizer files and a one-to-one id2label', () => {
    const raw = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')) as HfTextClassificationManifest;
    const without = (path: string) => ({ ...raw, files: raw.files.filter((f) => f.path !== path) });
    expect(() => parseManifest(without('tokenizer.json'))).toThrow(/model.tokenizer tokenizer.json is not in files/);
    expect(() => parseManifest(without('tokenizer_config.json'))).toThrow(/model.tokenizer_config tokenizer_config.json is not in files/);
    expect(() => parseManifest({ ...raw, model: { ...raw.model, id2label: { 0: 'negative', 1: 'negative', 2: 'positive' } } })).toThrow(/id2label/);
    expect(() => parseManifest({ ...raw, model: { ...raw.model, id2label: { 1: 'negative', 2: 'neutral', 3: 'positive' } } })).toThrow(/id2label/);
    // Manifests written before the tokenizer fields existed get the transformers.js file names.
    const { tokenizer: _t, tokenizer_config: _c, ...oldModel } = raw.model;
    expect(parseManifest({ ...raw, model: oldModel }).model).toMatchObject({ tokenizer: 'tokenizer.json', tokenizer_config: 'tokenizer_config.json' });
  });

  it('createTextScorer gives either bundle format one interface', async () => {
    const ngram = loadBundle(defaultModelDir());
    const scorers = [await createTextScorer(ortNode as unknown as AnyOrtModule, ngram.manifest, ngram.files), await createTextScorer(ortNode as unknown as AnyOrtModule, manifest, files)];
    expect(scorers[0]).toBeInstanceOf(NgramScorer);
    expect(scorers[1]).toBeInstanceOf(HfTextClassifier);
    for (const scorer of scorers) {
      const probs = await scorer.probs(['great video', 'awful']);
      expect(probs).toHaveLength(6);
      for (let i = 0; i < probs.length; i += 3) expect(probs[i]! + probs[i + 1]! + probs[i + 2]!).toBeCloseTo(1, 5);
      expect(await scorer.probs([])).toHaveLength(0);
      await scorer.release();
    }
  });
});

/**
 * Scoring with a transformer bundle in the transformers.js layout (`hf-text-classification`) on any
 * onnxruntime build.
 *
 * Like NgramScorer, the runtime is passed in (onnxruntime-node in Node, onnxruntime-web in the
 * extension), and the tokenizer is @huggingface/tokenizers (pure JS, the tokenizer transformers.js
 * uses) built from the bundle's own tokenizer.json and tokenizer_config.json, so this file needs no
 * Node, DOM or Workers API.
 *
 * Text is encoded as Hugging Face's Python tokenizers do with `truncation=True`: the text's tokens
 * are cut to max_length minus the template's special tokens, then the template ([CLS] $A [SEP]) is
 * applied, so a long comment keeps its [SEP]. A batch is padded to its longest row with the pad
 * token and an attention_mask of 0 there.
 *
 * Int8 models quantized with onnxruntime's `quantize_dynamic` pick one activation scale per tensor,
 * i.e. per batch: a text's probabilities move a little with the other texts of its batch and their
 * padding (up to 1.6e-2 in the tiny test model). Golden examples are therefore scored one text per
 * call (see {@link goldenProbs}), so the check does not depend on how a runtime batches.
 */
import { Tokenizer } from '@huggingface/tokenizers';
import type { InferenceSession, Tensor } from 'onnxruntime-common';
import { LABELS } from './labels.js';
import type { HfTextClassificationManifest } from './manifest.js';

/** The subset of an onnxruntime module the transformer scorer needs (int64 token tensors). */
export interface HfOrtModule {
  InferenceSession: { create(model: Uint8Array, options?: InferenceSession.SessionOptions): Promise<InferenceSession> };
  Tensor: new (type: 'int64', data: BigInt64Array, dims: readonly number[]) => Tensor;
}

/** One encoded text: token ids including the special tokens, at most max_length of them. */
export interface EncodedText {
  ids: number[];
  tokens: string[];
}

const INPUT_IDS = 'input_ids';
const ATTENTION_MASK = 'attention_mask';
/** BERT-family graphs exported with segment ids take them too; a single text is all segment 0. */
const TOKEN_TYPE_IDS = 'token_type_ids';
const OUTPUT_LOGITS = 'logits';

export class HfTextClassifier {
  private constructor(
    readonly manifest: HfTextClassificationManifest,
    private readonly ort: HfOrtModule,
    private readonly session: InferenceSession,
    private readonly tokenizer: Tokenizer,
    /** columns[k] = logits column holding LABELS[k]. */
    private readonly columns: readonly number[],
    private readonly padId: number,
    private readonly unkId: number,
    /** Tokens the post-processor adds around a single text ([CLS] and [SEP]: 2). */
    private readonly specialCount: number,
  ) {}

  /**
   * Build a classifier from a verified bundle: `files` maps bundle paths (the manifest's) to their
   * bytes, as the extension's model store and node-runtime's loadBundle hold them.
   *
   * @example
   * const bundle = loadBundle(dir); // sha256-verified
   * const clf = await HfTextClassifier.create(ort, bundle.manifest, bundle.files, { intraOpNumThreads: 1 });
   * const probs = await clf.probs(['great video', 'meh']); // [2, 3] in LABELS order
   */
  static async create(ort: HfOrtModule, manifest: HfTextClassificationManifest, files: ReadonlyMap<string, Uint8Array>, options?: InferenceSession.SessionOptions): Promise<HfTextClassifier> {
    const file = (path: string): Uint8Array => {
      const bytes = files.get(path);
      if (!bytes) throw new Error(`model bundle ${manifest.name}@${manifest.version} lacks ${path}`);
      return bytes;
    };
    const json = (path: string): object => {
      const text = new TextDecoder().decode(file(path));
      try {
        return JSON.parse(text) as object;
      } catch (err) {
        throw new Error(`model bundle ${manifest.name}@${manifest.version}: ${path} is not valid JSON (${(err as Error).message})`);
      }
    };
    const tokenizerConfig = json(manifest.model.tokenizer_config) as { pad_token?: unknown; unk_token?: unknown };
    const tokenizer = new Tokenizer(json(manifest.model.tokenizer), tokenizerConfig);
    const tokenId = (field: 'pad_token' | 'unk_token'): number => {
      const token = tokenizerConfig[field];
      const id = typeof token === 'string' ? tokenizer.token_to_id(token) : undefined;
      if (id === undefined) throw new Error(`${manifest.model.tokenizer_config}: ${field} ${String(token)} is not in the vocabulary`);
      return id;
    };
    const padId = tokenId('pad_token');
    const unkId = tokenId('unk_token');
    const specialCount = tokenizer.post_processor ? tokenizer.post_processor.post_process([]).tokens.length : 0;
    if (manifest.model.max_length <= specialCount) {
      throw new Error(`max_length ${manifest.model.max_length} leaves no room for text next to ${specialCount} special tokens`);
    }

    // Output column → label; the manifest schema guarantees a bijection onto LABELS.
    const columns = LABELS.map((label) => {
      const col = Object.entries(manifest.model.id2label).find(([, l]) => l === label)?.[0];
      if (col === undefined) throw new Error(`id2label has no column for ${label}`);
      return Number(col);
    });

    const session = await ort.InferenceSession.create(file(manifest.model.file), options);
    for (const name of [INPUT_IDS, ATTENTION_MASK]) {
      if (!session.inputNames.includes(name)) {
        await session.release();
        throw new Error(`${manifest.model.file} has no input ${name} (inputs: ${session.inputNames.join(', ')})`);
      }
    }
    if (!session.outputNames.includes(OUTPUT_LOGITS)) {
      await session.release();
      throw new Error(`${manifest.model.file} has no output ${OUTPUT_LOGITS} (outputs: ${session.outputNames.join(', ')})`);
    }
    return new HfTextClassifier(manifest, ort, session, tokenizer, columns, padId, unkId, specialCount);
  }

  /** Token ids of one text with special tokens, truncated to max_length (the model's view of the text). */
  encode(text: string): EncodedText {
    let tokens = this.tokenizer.tokenize(text);
    const room = this.manifest.model.max_length - this.specialCount;
    if (tokens.length > room) tokens = tokens.slice(0, room);
    if (this.tokenizer.post_processor) tokens = this.tokenizer.post_processor.post_process(tokens).tokens;
    return { tokens, ids: tokens.map((t) => this.tokenizer.token_to_id(t) ?? this.unkId) };
  }

  /** Row-major [texts, 3] probabilities in LABELS order, all texts in one padded batch. */
  async probs(texts: readonly string[]): Promise<Float32Array> {
    if (texts.length === 0) return new Float32Array(0);
    const rows = texts.map((t) => this.encode(t).ids);
    const seq = Math.max(...rows.map((r) => r.length));
    const ids = new BigInt64Array(texts.length * seq).fill(BigInt(this.padId));
    const mask = new BigInt64Array(texts.length * seq);
    rows.forEach((row, i) => {
      for (let j = 0; j < row.length; j++) {
        ids[i * seq + j] = BigInt(row[j]!);
        mask[i * seq + j] = 1n;
      }
    });
    const dims = [texts.length, seq];
    const feeds: Record<string, Tensor> = {
      [INPUT_IDS]: new this.ort.Tensor('int64', ids, dims),
      [ATTENTION_MASK]: new this.ort.Tensor('int64', mask, dims),
    };
    if (this.session.inputNames.includes(TOKEN_TYPE_IDS)) {
      feeds[TOKEN_TYPE_IDS] = new this.ort.Tensor('int64', new BigInt64Array(texts.length * seq), dims);
    }
    const out = await this.session.run(feeds);
    const logits = out[OUTPUT_LOGITS]!;
    const width = logits.dims[logits.dims.length - 1]!;
    return softmaxColumns(logits.data as Float32Array, texts.length, width, this.columns);
  }

  /** Probabilities; a transformer bundle identifies no language, so every text is "und" and supported. */
  async score(texts: readonly string[]): Promise<{ probs: Float32Array; langs: Array<{ lang: string; supported: boolean }> }> {
    return { probs: await this.probs(texts), langs: texts.map(() => ({ lang: 'und', supported: true })) };
  }

  async release(): Promise<void> {
    await this.session.release();
  }
}

/** Softmax over each row's logits (in float64), written in `columns` order. */
function softmaxColumns(logits: Float32Array, rows: number, width: number, columns: readonly number[]): Float32Array {
  const out = new Float32Array(rows * columns.length);
  for (let i = 0; i < rows; i++) {
    const row = logits.subarray(i * width, (i + 1) * width);
    let max = -Infinity;
    for (let c = 0; c < width; c++) max = Math.max(max, row[c]!);
    let sum = 0;
    for (let c = 0; c < width; c++) sum += Math.exp(row[c]! - max);
    columns.forEach((c, k) => {
      out[i * columns.length + k] = Math.exp(row[c]! - max) / sum;
    });
  }
  return out;
}

/**
 * Probabilities of each text scored on its own (batch of one, no padding): how golden examples of
 * dynamically quantized transformers are computed and checked, independent of batch composition.
 */
export async function goldenProbs(scorer: { probs(texts: readonly string[]): Promise<Float32Array> }, texts: readonly string[]): Promise<Float32Array> {
  const out = new Float32Array(texts.length * LABELS.length);
  for (let i = 0; i < texts.length; i++) out.set(await scorer.probs([texts[i]!]), i * LABELS.length);
  return out;
}

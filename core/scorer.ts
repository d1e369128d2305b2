/**
 * Scoring with an n-gram ONNX bundle on any onnxruntime build.
 *
 * The runtime is passed in (onnxruntime-node in the CLIs, onnxruntime-web in the extension and the
 * parity checks), so this file is the one place that knows how featurizer output meets the graph.
 */
import type { InferenceSession, Tensor } from 'onnxruntime-common';
import { featurize, featurizerId, raggedBatch, RaggedBatchBuilder, type RaggedBatch, type SparseFeatures } from './featurize.js';
import { LABELS, type Label } from './labels.js';
import { classifyLatin, decodeLangId, scriptGuess, type LangIdModel, type LanguageGuess } from './langid.js';
import { lowConfidenceThreshold, type GoldenExample, type NgramOnnxManifest } from './manifest.js';

/** The subset of an onnxruntime module the scorer needs. */
export interface OrtModule {
  InferenceSession: { create(model: Uint8Array, options?: InferenceSession.SessionOptions): Promise<InferenceSession> };
  Tensor: new (type: 'int32' | 'float32', data: Int32Array | Float32Array, dims: readonly number[]) => Tensor;
}

export interface Prediction {
  label: Label;
  /** Probability of the predicted label. */
  score: number;
  probs: [number, number, number];
  /** Language of the text ("und" when it has no letters or the bundle has no language identification). */
  lang: string;
  /** False for a language the model was not trained for: its label is not to be shown as a verdict. */
  supported: boolean;
  /** The top probability is below the manifest's low-confidence threshold. */
  low_confidence: boolean;
}

/** Probabilities and language guesses for a batch of texts. */
export interface ScoredBatch {
  /** Row-major [texts, 3], LABELS order. */
  probs: Float32Array;
  langs: LanguageGuess[];
}

/** What every text gets from a bundle without language identification. */
export const UNIDENTIFIED: LanguageGuess = Object.freeze({ lang: 'und', supported: true });

/**
 * Each text's language calibration (manifest `confidence.language_temperatures`), in place: the
 * probabilities of a text identified as a language with temperature t become softmax(logits / t),
 * computed from the probabilities as p^(1/t), renormalized. The ranking, and so the label, stays;
 * only the confidence moves (romanized Hindi, where the model is right about a third of the time,
 * is shown as uncertain instead of 60% sure). Languages without a temperature are left as they are.
 */
export function applyLanguageTemperatures<P extends Float32Array | Float64Array>(probs: P, langs: readonly LanguageGuess[], temperatures: Readonly<Record<string, number>> | undefined): P {
  if (!temperatures) return probs;
  const K = LABELS.length;
  langs.forEach((guess, i) => {
    const t = temperatures[guess.lang];
    if (t === undefined || t === 1) return;
    const at = i * K;
    let sum = 0;
    for (let k = 0; k < K; k++) sum += probs[at + k] = Math.pow(probs[at + k]!, 1 / t);
    for (let k = 0; k < K; k++) probs[at + k]! /= sum;
  });
  return probs;
}

/** The language guess for one text: the script first, then the Latin-script classifier on its features. */
export function guessLanguage(
  text: string,
  langid: LangIdModel | null,
  features: () => { ids: ArrayLike<number>; values: ArrayLike<number>; from: number; to: number },
  scratch: Float64Array,
): LanguageGuess {
  if (!langid) return UNIDENTIFIED;
  const byScript = scriptGuess(text);
  if (byScript) return byScript;
  const f = features();
  return classifyLatin(langid, f.ids, f.values, f.from, f.to, scratch);
}

/**
 * The checks every runtime makes before an n-gram bundle serves (onnxruntime here, the TypeScript
 * forward pass in core/linear-scorer.ts): the bundle must be served the exact features it was trained
 * on, and a bundle that declares languages must come with its language table, which is decoded.
 */
export function checkedLanguageTable(manifest: NgramOnnxManifest, langidBytes: Uint8Array | undefined): LangIdModel | null {
  const expected = featurizerId(manifest.featurizer.config);
  if (manifest.featurizer.id !== expected) {
    throw new Error(`model ${manifest.name}@${manifest.version} needs featurizer ${manifest.featurizer.id}; this build computes ${expected} for its config`);
  }
  if (!manifest.languages) return null;
  if (!langidBytes) throw new Error(`model ${manifest.name}@${manifest.version} lacks its language classifier ${manifest.languages.langid.file}`);
  return decodeLangId(langidBytes, manifest.languages.langid);
}

export class NgramScorer {
  private readonly builder: RaggedBatchBuilder;
  private readonly langScratch: Float64Array;

  private constructor(
    readonly manifest: NgramOnnxManifest,
    private readonly ort: OrtModule,
    private readonly session: InferenceSession,
    private readonly langid: LangIdModel | null,
  ) {
    this.builder = new RaggedBatchBuilder(manifest.featurizer.config);
    this.langScratch = new Float64Array(langid?.labels.length ?? 1);
  }

  /**
   * `langidBytes` is the bundle's language classifier (manifest.languages.langid.file), required
   * when the manifest declares languages.
   */
  static async create(ort: OrtModule, manifest: NgramOnnxManifest, modelBytes: Uint8Array, options?: InferenceSession.SessionOptions, langidBytes?: Uint8Array): Promise<NgramScorer> {
    const langid = checkedLanguageTable(manifest, langidBytes);
    const session = await ort.InferenceSession.create(modelBytes, options);
    return new NgramScorer(manifest, ort, session, langid);
  }

  featurize(text: string): SparseFeatures {
    return featurize(text, this.manifest.featurizer.config);
  }

  /** Row-major [rows, 3] probabilities for already featurized rows. */
  async probsForFeatures(rows: readonly SparseFeatures[]): Promise<Float32Array> {
    return this.run(raggedBatch(rows));
  }

  /**
   * Row-major [texts, 3] probabilities as the graph computes them (what golden examples and parity
   * checks pin), before any language calibration: {@link score} applies that.
   */
  async probs(texts: readonly string[]): Promise<Float32Array> {
    for (const t of texts) this.builder.add(t);
    return this.run(this.builder.take());
  }

  private async run(batch: RaggedBatch): Promise<Float32Array> {
    if (batch.lengths.length === 0) return new Float32Array(0);
    const nnz = [batch.ids.length];
    const out = await this.session.run({
      feature_ids: new this.ort.Tensor('int32', batch.ids, nnz),
      feature_values: new this.ort.Tensor('float32', batch.values, nnz),
      feature_rows: new this.ort.Tensor('int32', batch.rows, nnz),
      row_lengths: new this.ort.Tensor('int32', batch.lengths, [batch.lengths.length]),
    });
    return out.probs!.data as Float32Array;
  }

  /** Probabilities, each calibrated for its text's language, and the languages, in one featurization pass. */
  async score(texts: readonly string[]): Promise<ScoredBatch> {
    const langs: LanguageGuess[] = [];
    const last = (): ReturnType<RaggedBatchBuilder['lastRow']> => this.builder.lastRow();
    for (const t of texts) {
      this.builder.add(t);
      const cut = t.length > this.manifest.featurizer.config.max_chars ? t.slice(0, this.manifest.featurizer.config.max_chars) : t;
      langs.push(guessLanguage(cut, this.langid, last, this.langScratch));
    }
    const probs = await this.run(this.builder.take());
    return { probs: applyLanguageTemperatures(probs, langs, this.manifest.confidence?.language_temperatures), langs };
  }

  async predict(texts: readonly string[]): Promise<Prediction[]> {
    const { probs, langs } = await this.score(texts);
    return toPredictions(probs, langs, lowConfidenceThreshold(this.manifest));
  }

  async release(): Promise<void> {
    await this.session.release();
  }
}

/**
 * Row-major probabilities → predictions (argmax, ties to the lower label index). Without `langs`
 * every text is "und" and supported.
 */
export function toPredictions(probs: Float32Array, langs?: readonly LanguageGuess[], lowThreshold = 0.5): Prediction[] {
  const out: Prediction[] = [];
  for (let i = 0; i < probs.length; i += LABELS.length) {
    const p: [number, number, number] = [probs[i]!, probs[i + 1]!, probs[i + 2]!];
    let best = 0;
    for (let k = 1; k < LABELS.length; k++) if (p[k]! > p[best]!) best = k;
    const lang = langs?.[i / LABELS.length] ?? UNIDENTIFIED;
    out.push({ label: LABELS[best]!, score: p[best]!, probs: p, lang: lang.lang, supported: lang.supported, low_confidence: p[best]! < lowThreshold });
  }
  return out;
}

export interface GoldenCheck {
  ok: boolean;
  /** Largest |Δprob| over all examples and labels. */
  max_abs_diff: number;
  failures: Array<{ text: string; expected: number[]; actual: number[] }>;
}

/** Compare a runtime's probabilities with the manifest's golden examples. */
export function checkGolden(golden: readonly GoldenExample[], actual: Float32Array, tolerance: number): GoldenCheck {
  let maxDiff = 0;
  const failures: GoldenCheck['failures'] = [];
  golden.forEach((g, i) => {
    const got = Array.from(actual.subarray(i * 3, i * 3 + 3));
    const diff = Math.max(...g.probs.map((p, k) => Math.abs(p - (got[k] ?? NaN))));
    if (!(diff <= tolerance)) failures.push({ text: g.text, expected: g.probs, actual: got });
    maxDiff = Math.max(maxDiff, Number.isNaN(diff) ? Infinity : diff);
  });
  return { ok: failures.length === 0 && golden.length > 0, max_abs_diff: maxDiff, failures };
}

/**
 * Scoring with an n-gram bundle without onnxruntime: the weights are read out of `model.onnx`
 * (core/onnx-weights.ts) and run through core/linear.ts. Same featurizer, language identification,
 * calibration (the temperature is folded into the weights at export) and low-confidence threshold
 * as {@link NgramScorer}, so a {@link Prediction} is the same whichever of the two made it, to
 * within float rounding (onnxruntime sums in float32, this in float64: about 1e-7).
 *
 * Used by the Worker (POST /v1/predict), which cannot compile WebAssembly from bytes.
 */
import { RaggedBatchBuilder } from './featurize.js';
import { NUM_CLASSES, dequantizePacked, forwardPacked3Into, softmaxInPlace, type LinearModel, type PackedLinearModel } from './linear.js';
import type { LangIdModel, LanguageGuess } from './langid.js';
import { lowConfidenceThreshold, type NgramOnnxManifest } from './manifest.js';
import { decodeNgramOnnxPacked } from './onnx-weights.js';
import { applyLanguageTemperatures, checkedLanguageTable, guessLanguage, toPredictions, type Prediction, type ScoredBatch } from './scorer.js';

export class LinearScorer {
  private readonly builder: RaggedBatchBuilder;
  private readonly langScratch: Float64Array;
  private readonly logits = new Float64Array(NUM_CLASSES);
  private dequantized: LinearModel | null = null;

  private constructor(
    readonly manifest: NgramOnnxManifest,
    /** The weights as the graph stores them: the forward pass reads these (see forwardPacked3Into). */
    private readonly packed: PackedLinearModel,
    private readonly langid: LangIdModel | null,
  ) {
    this.builder = new RaggedBatchBuilder(manifest.featurizer.config);
    this.langScratch = new Float64Array(langid?.labels.length ?? 1);
  }

  /**
   * `modelBytes` is the bundle's model.onnx; `langidBytes` its language classifier
   * (manifest.languages.langid.file), required when the manifest declares languages.
   *
   * @example
   * const scorer = LinearScorer.create(manifest, files.get('model.onnx')!, files.get('langid.bin'));
   * const [p] = scorer.predict(['great video']); // { label: 'positive', score: 0.93, ... }
   */
  static create(manifest: NgramOnnxManifest, modelBytes: Uint8Array, langidBytes?: Uint8Array): LinearScorer {
    const langid = checkedLanguageTable(manifest, langidBytes);
    const packed = decodeNgramOnnxPacked(modelBytes, { buckets: manifest.featurizer.config.buckets, classes: NUM_CLASSES });
    return new LinearScorer(manifest, packed, langid);
  }

  /** The float32 weights (dequantized on first use; scoring reads the packed form). */
  get model(): LinearModel {
    this.dequantized ??= dequantizePacked(this.packed);
    return this.dequantized;
  }

  /** Probabilities (row-major [texts, 3], LABELS order), each calibrated for its text's language, and the languages. */
  score(texts: readonly string[]): ScoredBatch {
    const { probs, langs } = this.scoreUncalibrated(texts);
    return { probs: applyLanguageTemperatures(probs, langs, this.manifest.confidence?.language_temperatures), langs };
  }

  /** The graph's probabilities (before language calibration) and each text's language, in one featurization pass. */
  private scoreUncalibrated(texts: readonly string[]): ScoredBatch {
    const K = NUM_CLASSES;
    const probs = new Float32Array(texts.length * K);
    const langs: LanguageGuess[] = [];
    const maxChars = this.manifest.featurizer.config.max_chars;
    texts.forEach((t, i) => {
      this.builder.add(t);
      const row = this.builder.lastRow();
      forwardPacked3Into(this.packed, row.ids, row.values, this.logits, row.from, row.to);
      softmaxInPlace(this.logits);
      probs.set(this.logits, i * K);
      const cut = t.length > maxChars ? t.slice(0, maxChars) : t;
      langs.push(guessLanguage(cut, this.langid, () => row, this.langScratch));
    });
    // Only the builder's buffers were used: drop the batch so they are reused from the start.
    this.builder.take();
    return { probs, langs };
  }

  /** Row-major [texts, 3] probabilities as the graph computes them (what golden examples and parity checks pin). */
  probs(texts: readonly string[]): Float32Array {
    return this.scoreUncalibrated(texts).probs;
  }

  /**
   * Predictions. A caller that knows a text's language passes it in `langHints` (a BCP 47 tag):
   * identification is skipped for that text, and `supported` and the language's calibration follow
   * the hint instead of the guess.
   */
  predict(texts: readonly string[], langHints?: ReadonlyArray<string | undefined>): Prediction[] {
    const { probs, langs } = this.scoreUncalibrated(texts);
    const final = langHints ? langs.map((guess, i) => (langHints[i] === undefined ? guess : { lang: langHints[i], supported: this.supports(langHints[i]) })) : langs;
    const temperatures = this.manifest.confidence?.language_temperatures;
    applyLanguageTemperatures(probs, langHints ? final.map((g) => ({ ...g, lang: primarySubtag(g.lang) })) : final, temperatures);
    return toPredictions(probs, final, lowConfidenceThreshold(this.manifest));
  }

  /** Whether the manifest's supported languages include `lang` (its primary subtag); true for a bundle without language identification. */
  supports(lang: string): boolean {
    const supported = this.manifest.languages?.supported;
    if (!supported) return true;
    return supported.includes(primarySubtag(lang));
  }
}

/** "hi-Latn" → "hi". */
const primarySubtag = (lang: string): string => lang.toLowerCase().split('-')[0]!;

/**
 * N-gram bundles scored in the service worker itself, with core's TypeScript forward pass
 * (core/linear-scorer.ts: the featurizer, a gather and sum of the int8 weights read out of the
 * bundle's own model.onnx, softmax, language identification), so a cold start waits for neither
 * the offscreen document nor onnxruntime-web's WebAssembly.
 *
 * Why the service worker and not the offscreen document: everything an n-gram model does after
 * featurization is a few hundred multiply-adds per comment, cheaper than sending the features
 * anywhere else. Creating the offscreen document (about 240 ms here) and compiling 14 MB of
 * WebAssembly cost far more than the model, and messages to the document cost more per request
 * than the forward pass (bench/results/extension.md compares both in the same run).
 *
 * Which path serves ({@link scoringPath}): n-gram bundles here under the default "auto" setting;
 * transformer bundles, and any bundle when the user picked an onnxruntime execution provider
 * ("wasm", "webgpu"), in the offscreen document. A bundle this forward pass cannot serve (a graph
 * other than the one model-export writes, a featurizer this build does not compute, golden examples
 * not reproduced) is refused here with its reason and goes to the offscreen document instead.
 *
 * Trust is the same on both paths: the files are read through lib/model-store.ts, which checks
 * every file's size and sha256 against the manifest (itself signature-checked when it was
 * downloaded), and the manifest's golden examples are reproduced here before the first comment is
 * scored.
 */
import { featurizerId } from '../../core/featurize.js';
import { LinearScorer } from '../../core/linear-scorer.js';
import type { LanguageGuess } from '../../core/langid.js';
import type { ModelManifest, NgramOnnxManifest } from '../../core/manifest.js';
import { checkGolden, type GoldenCheck } from '../../core/scorer.js';
import type { VerifyResponse } from '../lib/messages.js';
import { loadModelFiles } from '../lib/model-store.js';
import type { Settings } from '../lib/settings.js';

export type ScoringPath = 'ts' | 'offscreen';

/**
 * Where a bundle is scored under a setting: n-gram bundles in the service worker under "auto"
 * (the default); everything else in the offscreen document. "wasm" and "webgpu" ask for onnxruntime
 * by name, so they get it, n-gram bundles included.
 */
export function scoringPath(manifest: ModelManifest, execution: Settings['execution']): ScoringPath {
  return manifest.format === 'ngram-onnx' && execution === 'auto' ? 'ts' : 'offscreen';
}

/** This forward pass cannot serve the bundle (a fact about its bytes, not a passing failure). */
export class CannotServe extends Error {
  override name = 'CannotServe';
}

/** Texts scored per synchronous step: between steps the service worker answers other messages. */
const CHUNK = 64;

interface Loaded {
  version: string;
  scorer: LinearScorer;
  load_ms: number;
  golden_max_abs_diff: number;
}

export interface WorkerScore {
  /** Row-major [texts, 3], LABELS order. */
  probs: Float32Array;
  langs: LanguageGuess[];
  /** Time in the scorer (featurization included), ms. */
  ms: number;
}

export interface WorkerScorerStatus {
  version: string | null;
  load_ms: number | null;
  golden_max_abs_diff: number | null;
  scored_texts: number;
  /** Versions this forward pass refused, and why (they are scored in the offscreen document). */
  refused: Record<string, string>;
}

export class WorkerScorer {
  private loaded: Loaded | null = null;
  private loading: { version: string; promise: Promise<Loaded> } | null = null;
  private readonly refusals = new Map<string, string>();
  /** Texts scored since this service worker started. */
  scoredTexts = 0;

  /** Why `version` is not scored here, or undefined when it is (or has not been tried yet). */
  refused(version: string): string | undefined {
    return this.refusals.get(version);
  }

  /**
   * Loads `version` (once; concurrent callers share the load), verified: files against the
   * manifest, then the golden examples. Throws {@link CannotServe} for a bundle this forward pass
   * cannot serve (remembered: it is not tried again), and whatever reading the files threw
   * otherwise (not remembered: a missing or corrupt file is reported the same way offscreen).
   */
  load(version: string): Promise<Loaded> {
    if (this.loaded?.version === version) return Promise.resolve(this.loaded);
    const refusal = this.refusals.get(version);
    if (refusal) return Promise.reject(new CannotServe(refusal));
    if (this.loading?.version === version) return this.loading.promise;
    const promise = this.loadNow(version)
      .then((loaded) => {
        // A later request for another version replaces this one; an older load must not win.
        if (this.loading?.promise === promise) this.loaded = loaded;
        return loaded;
      })
      .catch((err: unknown) => {
        if (err instanceof CannotServe) this.refusals.set(version, err.message);
        throw err;
      })
      .finally(() => {
        if (this.loading?.promise === promise) this.loading = null;
      });
    this.loading = { version, promise };
    return promise;
  }

  private async loadNow(version: string): Promise<Loaded> {
    const t0 = performance.now();
    const { manifest, files } = await loadModelFiles(version);
    const scorer = create(manifest, files);
    const check = golden(manifest, scorer);
    if (!check.ok) {
      throw new CannotServe(
        manifest.golden.length === 0
          ? 'no golden examples to check'
          : `golden examples not reproduced: ${check.failures.length} of ${manifest.golden.length} off by up to ${check.max_abs_diff.toExponential(2)} (tolerance ${manifest.golden_tolerance})`,
      );
    }
    return { version, scorer, load_ms: performance.now() - t0, golden_max_abs_diff: check.max_abs_diff };
  }

  /**
   * Scores `texts` with `version` (loading it first if needed). A long request is scored
   * {@link CHUNK} texts at a time, handing the event loop back in between, so the service worker
   * keeps answering (a page's next request, the popup) while it runs.
   */
  async score(version: string, texts: readonly string[]): Promise<WorkerScore> {
    const { scorer } = await this.load(version);
    const probs = new Float32Array(texts.length * 3);
    const langs: LanguageGuess[] = [];
    let ms = 0;
    for (let i = 0; i < texts.length; i += CHUNK) {
      if (i > 0) await new Promise((r) => setTimeout(r, 0));
      const t0 = performance.now();
      const scored = scorer.score(texts.slice(i, i + CHUNK));
      ms += performance.now() - t0;
      probs.set(scored.probs, i * 3);
      langs.push(...scored.langs);
    }
    this.scoredTexts += texts.length;
    return { probs, langs, ms };
  }

  status(): WorkerScorerStatus {
    return {
      version: this.loaded?.version ?? null,
      load_ms: this.loaded?.load_ms ?? null,
      golden_max_abs_diff: this.loaded?.golden_max_abs_diff ?? null,
      scored_texts: this.scoredTexts,
      refused: Object.fromEntries(this.refusals),
    };
  }

  /** Drops the loaded model and what was refused (all local data deleted). */
  forget(): void {
    this.loaded = null;
    this.loading = null;
    this.refusals.clear();
  }
}

/**
 * Checks `version` as {@link WorkerScorer.load} does (files, then golden examples), without
 * keeping it: what the updater asks before it switches to a version this path will serve. Null
 * when this forward pass cannot run the bundle at all (the offscreen document is asked instead).
 */
export async function verifyInWorker(version: string): Promise<VerifyResponse | null> {
  let scorer: LinearScorer;
  let manifest: ModelManifest;
  try {
    const bundle = await loadModelFiles(version);
    manifest = bundle.manifest;
    scorer = create(manifest, bundle.files);
  } catch (err) {
    if (err instanceof CannotServe) return null;
    return { ok: false, max_abs_diff: Infinity, failures: 0, error: (err as Error).message };
  }
  const check = golden(manifest, scorer);
  return {
    ok: check.ok,
    max_abs_diff: check.max_abs_diff,
    failures: check.failures.length,
    ...(check.ok ? {} : { error: manifest.golden.length ? 'golden examples not reproduced' : 'no golden examples' }),
  };
}

/** The manifest's golden examples replayed on `scorer`. */
function golden(manifest: ModelManifest, scorer: LinearScorer): GoldenCheck {
  return checkGolden(manifest.golden, scorer.probs(manifest.golden.map((g) => g.text)), manifest.golden_tolerance);
}

/** The scorer for a verified n-gram bundle; {@link CannotServe} for anything it cannot run. */
function create(manifest: ModelManifest, files: ReadonlyMap<string, Uint8Array>): LinearScorer {
  if (manifest.format !== 'ngram-onnx') throw new CannotServe(`a ${manifest.format} bundle is not an n-gram model`);
  const m: NgramOnnxManifest = manifest;
  if (m.featurizer.id !== featurizerId(m.featurizer.config)) throw new CannotServe(`needs featurizer ${m.featurizer.id}, which this build does not compute`);
  const bytes = files.get(m.model.file);
  if (!bytes) throw new CannotServe(`the bundle lacks ${m.model.file}`);
  const langidFile = m.languages?.langid.file;
  try {
    return LinearScorer.create(m, bytes, langidFile ? files.get(langidFile) : undefined);
  } catch (err) {
    // The graph is not the one model-export writes, or the language table does not fit the manifest.
    throw new CannotServe((err as Error).message);
  }
}

/**
 * The inference engine (offscreen document): the one place the extension touches onnxruntime-web.
 *
 * WASM is the default. WebGPU is used only when it is available and measured faster for the active
 * model: a short calibration (golden examples checked on WebGPU, then both backends timed on the
 * same batch) whose result is cached per model version. Any WebGPU failure, then or later, falls
 * back to WASM. Both model formats run here: our n-gram bundles and transformers.js-layout
 * transformer bundles.
 *
 * Only what the active model needs is loaded: onnxruntime-web's WASM-only build (14 MB of wasm) is
 * the one imported up front; the WebGPU build (27 MB, its own wasm) is imported on demand, when a
 * calibration or the user's setting asks for WebGPU. Loading the larger build for a WASM session
 * cost about 0.7 s of every cold start.
 */
import type { LanguageGuess } from '../../core/langid.js';
import { goldenProbs } from '../../core/hf-scorer.js';
import type { ModelManifest } from '../../core/manifest.js';
import { checkGolden } from '../../core/scorer.js';
import { createTextScorer, type AnyOrtModule, type TextScorer } from '../../core/text-scorer.js';
import { getMeta, setMeta } from '../lib/db.js';
import { META_KEYS, type Calibration } from '../lib/storage-keys.js';
import { loadModelFiles } from '../lib/model-store.js';
import { configure, ortWasm, runtimeReady, type OrtWeb } from './runtime.js';

let webgpuBuild: Promise<OrtWeb> | null = null;
/** Which onnxruntime-web builds this document has imported (status, tests). */
export function loadedBuilds(): Array<'wasm' | 'webgpu'> {
  return webgpuBuild ? ['wasm', 'webgpu'] : ['wasm'];
}
/** The onnxruntime-web build for an execution provider; the WebGPU build is imported on first use. */
function ortFor(execution: 'wasm' | 'webgpu'): Promise<OrtWeb> {
  if (execution === 'wasm') return Promise.resolve(ortWasm);
  webgpuBuild ??= import('onnxruntime-web/webgpu').then((m) => configure(m as unknown as OrtWeb));
  return webgpuBuild;
}

export type Execution = 'wasm' | 'webgpu';
/** The user's setting: auto measures WebGPU against WASM once per model version. */
export type Preference = Execution | 'auto';

interface Loaded {
  version: string;
  manifest: ModelManifest;
  execution: Execution;
  scorer: TextScorer;
}

export type { Calibration } from '../lib/storage-keys.js';

const BATCH = 64;

async function createScorer(manifest: ModelManifest, files: Map<string, Uint8Array>, execution: Execution): Promise<TextScorer> {
  // One initialization of the WebAssembly runtime at a time (see WARM_GRAPH).
  if (execution === 'wasm') await runtimeReady;
  const ort = await ortFor(execution);
  return createTextScorer(ort as unknown as AnyOrtModule, manifest, files, { executionProviders: [execution], graphOptimizationLevel: 'all' });
}

export interface EngineScore {
  probs: Float32Array;
  langs: LanguageGuess[];
  execution: Execution;
  version: string;
}

/** Golden examples reproduced by this runtime: the gate every model passes before it is used. */
async function goldenCheck(scorer: TextScorer, manifest: ModelManifest): Promise<ReturnType<typeof checkGolden>> {
  const texts = manifest.golden.map((g) => g.text);
  return checkGolden(manifest.golden, await goldenProbs(scorer, texts), manifest.golden_tolerance);
}

/**
 * An n-gram bundle reproduces its golden examples on this provider before it serves (one small
 * batch, a few ms). The updater checks a new version only with the runtime that serves it under
 * the setting of the moment (the service worker's forward pass, for n-gram bundles by default), so
 * this is what covers a later switch to onnxruntime. Transformer bundles cost seconds per check:
 * the updater's check on this document stands for them.
 */
async function goldenBeforeServing(scorer: TextScorer, manifest: ModelManifest, execution: Execution): Promise<void> {
  if (manifest.format !== 'ngram-onnx') return;
  const check = await goldenCheck(scorer, manifest);
  if (check.ok) return;
  await scorer.release();
  throw new Error(`model ${manifest.version}: golden examples not reproduced on ${execution} (max |Δp| ${check.max_abs_diff.toExponential(2)})`);
}

async function timeBatch(scorer: TextScorer, texts: readonly string[], reps = 5): Promise<number> {
  await scorer.probs(texts); // warm-up: shader compilation, allocator growth
  const times: number[] = [];
  for (let i = 0; i < reps; i++) {
    const t0 = performance.now();
    await scorer.probs(texts);
    times.push(performance.now() - t0);
  }
  times.sort((a, b) => a - b);
  return times[times.length >> 1]!;
}

export class Engine {
  private loaded: Loaded | null = null;
  private preference: Preference = 'auto';
  private loading: Promise<Loaded> | null = null;
  /** Texts scored since this document started (the service worker keeps the durable counter). */
  scoredTexts = 0;
  /** How long the last model load took: files read and verified, execution chosen, session created. */
  lastLoadMs: number | null = null;
  /** Where the last load's time went: reading and verifying files and choosing the execution provider (together), creating the session. */
  lastLoadSteps: { files_and_execution_ms: number; session_ms: number } | null = null;
  /** Requests run one after another: an onnxruntime session must not run two batches at once. */
  private queue: Promise<unknown> = Promise.resolve();

  /** Scores texts with `version`, loading or switching models as needed: probabilities and languages. */
  score(version: string, texts: readonly string[], preference: Preference): Promise<EngineScore> {
    const run = this.queue.then(() => this.scoreNow(version, texts, preference));
    this.queue = run.catch(() => undefined);
    return run;
  }

  /**
   * Loads `version` (if it is not loaded yet) without scoring: a page about to show comments asks
   * for this so the first badges do not wait for the model.
   */
  warm(version: string, preference: Preference): Promise<void> {
    const run = this.queue.then(async () => {
      this.preference = preference;
      await this.ensure(version);
    });
    this.queue = run.catch(() => undefined);
    return run;
  }

  private async scoreNow(version: string, texts: readonly string[], preference: Preference): Promise<EngineScore> {
    this.preference = preference;
    let model = await this.ensure(version);
    const out = new Float32Array(texts.length * 3);
    const langs: LanguageGuess[] = [];
    for (let i = 0; i < texts.length; i += BATCH) {
      const chunk = texts.slice(i, i + BATCH);
      let scored: { probs: Float32Array; langs: LanguageGuess[] };
      try {
        scored = await model.scorer.score(chunk);
      } catch (err) {
        if (model.execution !== 'webgpu') throw err;
        // WebGPU failed mid-flight (device lost, unsupported op): fall back to WASM for good.
        await setMeta(META_KEYS.calibration(model.version), {
          chosen: 'wasm',
          wasm_ms: null,
          webgpu_ms: null,
          reason: `webgpu failed: ${(err as Error).message}`,
          at: Date.now(),
        } satisfies Calibration);
        model = await this.reload(model.version, 'wasm');
        scored = await model.scorer.score(chunk);
      }
      out.set(scored.probs, i * 3);
      langs.push(...scored.langs);
    }
    this.scoredTexts += texts.length;
    return { probs: out, langs, execution: model.execution, version: model.version };
  }

  /** Loads `version` from the model store and checks its golden examples on WASM. */
  async verify(version: string): Promise<{ ok: boolean; max_abs_diff: number; failures: number; error?: string }> {
    let scorer: TextScorer | null = null;
    try {
      const { manifest, files } = await loadModelFiles(version);
      scorer = await createScorer(manifest, files, 'wasm');
      const check = await goldenCheck(scorer, manifest);
      return {
        ok: check.ok,
        max_abs_diff: check.max_abs_diff,
        failures: check.failures.length,
        ...(check.ok ? {} : { error: manifest.golden.length ? 'golden examples not reproduced' : 'no golden examples' }),
      };
    } catch (err) {
      return { ok: false, max_abs_diff: Infinity, failures: 0, error: (err as Error).message };
    } finally {
      await scorer?.release();
    }
  }

  status(): { version: string | null; execution: Execution | null; format: string | null; scored_texts: number; load_ms: number | null; load_steps: Engine['lastLoadSteps']; ort_builds: string[] } {
    return {
      ort_builds: loadedBuilds(),
      version: this.loaded?.version ?? null,
      execution: this.loaded?.execution ?? null,
      format: this.loaded?.manifest.format ?? null,
      scored_texts: this.scoredTexts,
      load_ms: this.lastLoadMs,
      load_steps: this.lastLoadSteps,
    };
  }

  async reset(): Promise<void> {
    await this.loaded?.scorer.release();
    this.loaded = null;
  }

  private async ensure(version: string): Promise<Loaded> {
    if (this.loaded?.version === version) return this.loaded;
    // One load at a time: concurrent requests for the same version share it.
    if (!this.loading) {
      this.loading = this.reload(version).finally(() => {
        this.loading = null;
      });
    }
    const loaded = await this.loading;
    return loaded.version === version ? loaded : this.ensure(version);
  }

  private async reload(version: string, forced?: Execution): Promise<Loaded> {
    const started = performance.now();
    const loaded = await this.load(version, forced);
    this.lastLoadMs = performance.now() - started;
    return loaded;
  }

  private async load(version: string, forced?: Execution): Promise<Loaded> {
    const t0 = performance.now();
    // Reading the files and choosing the execution provider (which may ask for a WebGPU adapter,
    // a few hundred ms on some machines) run side by side.
    const bundle = loadModelFiles(version);
    const [{ manifest, files }, execution] = await Promise.all([bundle, forced ?? this.chooseExecution(version, bundle)]);
    const t1 = performance.now();
    let scorer: TextScorer;
    try {
      scorer = await createScorer(manifest, files, execution);
      await goldenBeforeServing(scorer, manifest, execution);
      this.lastLoadSteps = { files_and_execution_ms: t1 - t0, session_ms: performance.now() - t1 };
    } catch (err) {
      if (execution === 'wasm') throw err;
      scorer = await createScorer(manifest, files, 'wasm');
      await goldenBeforeServing(scorer, manifest, 'wasm');
      return this.install({ version, manifest, execution: 'wasm', scorer });
    }
    return this.install({ version, manifest, execution, scorer });
  }

  private async install(next: Loaded): Promise<Loaded> {
    const old = this.loaded;
    this.loaded = next;
    if (old && old.scorer !== next.scorer) await old.scorer.release();
    return next;
  }

  private async chooseExecution(version: string, bundle: Promise<{ manifest: ModelManifest; files: Map<string, Uint8Array> }>): Promise<Execution> {
    const preference = this.preference;
    if (preference === 'wasm') return 'wasm';
    if (preference === 'webgpu') return (await webgpuAvailable()) ? 'webgpu' : 'wasm';
    const cached = await getMeta(META_KEYS.calibration(version));
    if (cached) return cached.chosen;
    const { manifest, files } = await bundle;
    const calibration = await calibrate(manifest, files);
    await setMeta(META_KEYS.calibration(version), calibration);
    return calibration.chosen;
  }
}

async function webgpuAvailable(): Promise<boolean> {
  const gpu = (navigator as Navigator & { gpu?: { requestAdapter(): Promise<unknown> } }).gpu;
  if (!gpu) return false;
  try {
    return (await gpu.requestAdapter()) !== null;
  } catch {
    return false;
  }
}

/** WASM vs WebGPU on this device for this model: correctness first, then speed. */
export async function calibrate(manifest: ModelManifest, files: Map<string, Uint8Array>): Promise<Calibration> {
  const at = Date.now();
  if (!(await webgpuAvailable())) return { chosen: 'wasm', wasm_ms: null, webgpu_ms: null, reason: 'no WebGPU adapter', at };
  const texts = Array.from({ length: BATCH }, (_, i) => manifest.golden[i % Math.max(1, manifest.golden.length)]?.text ?? 'calibration text');
  let wasm: TextScorer | null = null;
  let gpu: TextScorer | null = null;
  try {
    wasm = await createScorer(manifest, files, 'wasm');
    gpu = await createScorer(manifest, files, 'webgpu');
    const check = await goldenCheck(gpu, manifest);
    if (!check.ok) return { chosen: 'wasm', wasm_ms: null, webgpu_ms: null, reason: `webgpu off by ${check.max_abs_diff.toExponential(2)} on golden examples`, at };
    const wasm_ms = await timeBatch(wasm, texts);
    const webgpu_ms = await timeBatch(gpu, texts);
    return { chosen: webgpu_ms < wasm_ms ? 'webgpu' : 'wasm', wasm_ms, webgpu_ms, reason: 'measured', at };
  } catch (err) {
    return { chosen: 'wasm', wasm_ms: null, webgpu_ms: null, reason: `webgpu failed: ${(err as Error).message}`, at };
  } finally {
    await wasm?.release();
    await gpu?.release();
  }
}

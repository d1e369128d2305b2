/**
 * The model POST /v1/predict serves: the version on the default channel (`stable`), loaded from
 * the registry's R2 objects and kept by the isolate.
 *
 * - The channel is re-read at most once per {@link RECHECK_MS} (one small R2 GET), so a promotion
 *   or rollback made through any isolate is served everywhere within a minute; the isolate that
 *   moved the channel drops its cached state at once ({@link ServingModel.invalidate}).
 * - A new version is loaded as the extension loads one: every file's size and sha256 checked
 *   against the manifest, the weights read out of model.onnx (core/onnx-weights.ts), and the
 *   manifest's golden examples reproduced within its tolerance before the version serves. A
 *   version that fails any of it is not served: the previous one goes on serving (and the failure
 *   is logged and remembered for a minute, so a bad promotion cannot make every request reload 2 MB).
 * - Only `ngram-onnx` bundles can be served: a transformer bundle needs onnxruntime, which the
 *   Worker cannot run.
 *
 * The clock is injected (tests move it instead of sleeping).
 */
import { LinearScorer } from '../../core/linear-scorer.js';
import { checkGolden } from '../../core/scorer.js';
import type { NgramOnnxManifest } from '../../core/manifest.js';
import { ApiError } from '../lib/errors.js';
import { toHex } from '../lib/hash.js';
import { keys } from '../lib/keys.js';
import { getChannel } from '../registry/channels.js';
import { getPublished } from '../registry/store.js';

/** How often the channel is re-read while a model is being served. */
export const RECHECK_MS = 60_000;
/** How often it is re-read while nothing can be served (a fresh deployment waiting for its first promotion). */
export const NO_MODEL_RECHECK_MS = 5_000;

export interface LoadedModel {
  version: string;
  manifest: NgramOnnxManifest;
  scorer: LinearScorer;
  /** Largest |Δprob| on the golden examples when the version was loaded. */
  golden_max_abs_diff: number;
}

/** Why a version cannot be served (logged; the client gets a generic 503). */
export class UnservableModel extends Error {
  override name = 'UnservableModel';
}

async function readBlob(bucket: R2Bucket, manifest: NgramOnnxManifest, path: string): Promise<Uint8Array> {
  const entry = manifest.files.find((f) => f.path === path);
  if (!entry) throw new UnservableModel(`${manifest.version}: ${path} is not in the manifest`);
  const obj = await bucket.get(keys.blob(entry.sha256));
  if (!obj) throw new UnservableModel(`${manifest.version}: the blob of ${path} is missing`);
  const bytes = new Uint8Array(await obj.arrayBuffer());
  if (bytes.byteLength !== entry.bytes) throw new UnservableModel(`${manifest.version}: ${path} is ${bytes.byteLength} bytes, the manifest says ${entry.bytes}`);
  const sha256 = toHex(await crypto.subtle.digest('SHA-256', bytes));
  if (sha256 !== entry.sha256) throw new UnservableModel(`${manifest.version}: ${path} has sha256 ${sha256}, the manifest says ${entry.sha256}`);
  return bytes;
}

/** Loads and verifies a published version (see the module comment). */
export async function loadModel(bucket: R2Bucket, version: string): Promise<LoadedModel> {
  const stored = await getPublished(bucket, version);
  if (!stored) throw new UnservableModel(`${version} is not published`);
  const manifest = stored.manifest;
  if (manifest.format !== 'ngram-onnx') throw new UnservableModel(`${version} is a ${manifest.format} bundle; the Worker serves ngram-onnx bundles only`);
  const langidPath = manifest.languages?.langid.file;
  const [modelBytes, langidBytes] = await Promise.all([readBlob(bucket, manifest, manifest.model.file), langidPath ? readBlob(bucket, manifest, langidPath) : undefined]);
  let scorer: LinearScorer;
  try {
    scorer = LinearScorer.create(manifest, modelBytes, langidBytes);
  } catch (e) {
    throw new UnservableModel(`${version}: ${e instanceof Error ? e.message : String(e)}`);
  }
  const golden = checkGolden(manifest.golden, scorer.probs(manifest.golden.map((g) => g.text)), manifest.golden_tolerance);
  if (!golden.ok) {
    throw new UnservableModel(
      manifest.golden.length === 0
        ? `${version} has no golden examples to verify it with`
        : `${version} does not reproduce ${golden.failures.length} of its ${manifest.golden.length} golden examples (max |Δp| ${golden.max_abs_diff})`,
    );
  }
  return { version, manifest, scorer, golden_max_abs_diff: golden.max_abs_diff };
}

export interface ServingModelOptions {
  /** Milliseconds since the epoch (default Date.now). */
  now?: () => number;
  /** Injectable for tests: how a version is loaded. */
  load?: (bucket: R2Bucket, version: string) => Promise<LoadedModel>;
}

/** The isolate's model for one channel; see the module comment. */
export class ServingModel {
  private active: LoadedModel | null = null;
  private checkedAt = -Infinity;
  private refreshing: Promise<void> | null = null;
  /** Versions that failed to load, and when: not retried within RECHECK_MS. */
  private readonly failed = new Map<string, number>();
  private readonly now: () => number;
  private readonly load: (bucket: R2Bucket, version: string) => Promise<LoadedModel>;

  constructor(options: ServingModelOptions = {}) {
    // Looked up at each call, not captured: a test that swaps the global clock moves this one too.
    this.now = options.now ?? (() => Date.now());
    this.load = options.load ?? loadModel;
  }

  /** The model to score with; 503 `model_unavailable` when the channel has nothing servable. */
  async get(bucket: R2Bucket, channel: string): Promise<LoadedModel> {
    const age = this.now() - this.checkedAt;
    if (age >= (this.active ? RECHECK_MS : NO_MODEL_RECHECK_MS)) {
      // One re-check at a time: concurrent requests wait for it rather than each reading R2.
      this.refreshing ??= this.refresh(bucket, channel).finally(() => {
        this.refreshing = null;
      });
      await this.refreshing;
    }
    if (!this.active) {
      throw new ApiError(503, 'model_unavailable', `no model can be served from channel ${channel} right now; retry later`, undefined, {
        'Retry-After': String(NO_MODEL_RECHECK_MS / 1000),
      });
    }
    return this.active;
  }

  /** The version being served, if any (no I/O). */
  get version(): string | null {
    return this.active?.version ?? null;
  }

  /** The channel moved in this isolate: re-read it on the next request. */
  invalidate(): void {
    this.checkedAt = -Infinity;
  }

  private async refresh(bucket: R2Bucket, channel: string): Promise<void> {
    const now = this.now();
    const state = await getChannel(bucket, channel);
    // Only a completed read counts as a check: a failed one is retried by the next request.
    this.checkedAt = now;
    if (!state) {
      if (this.active) console.warn(`predict: channel ${channel} no longer exists; still serving ${this.active.version}`);
      return;
    }
    if (state.version === this.active?.version) return;
    const failedAt = this.failed.get(state.version);
    if (failedAt !== undefined && now - failedAt < RECHECK_MS) return;
    try {
      this.active = await this.load(bucket, state.version);
      this.failed.delete(state.version);
    } catch (e) {
      if (!(e instanceof UnservableModel)) throw e;
      this.failed.set(state.version, now);
      console.error(`predict: cannot serve ${state.version} from channel ${channel}: ${e.message}` + (this.active ? `; still serving ${this.active.version}` : ''));
    }
  }
}

/** The isolate's serving model (module state is per isolate). */
export const servingModel = new ServingModel();
